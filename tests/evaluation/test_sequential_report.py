"""The sequence report: its scores and gates, its page's sections, and the same histories spelled as
another library writes them reading as the same histories."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import OptionError
from mirage.evaluation._sequential import (
    SEQUENCE_DIRECTIONS,
    aligned_like,
    constant_columns,
    entity_features,
    evaluate_sequences,
    sequence_report,
    top_categories,
)
from mirage.sequential import SequenceSchema, infer_sequence_schema, make_transactions

FMRI = Path(__file__).resolve().parents[1] / "fixtures" / "fmri_sequences_small.csv"


@pytest.fixture(scope="module")
def fmri() -> tuple[pd.DataFrame, SequenceSchema]:
    events = pd.read_csv(FMRI)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return events, infer_sequence_schema(events, "seq_id", "timepoint")


def _shuffled_events(events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``events`` whose event (cue or stimulus) changes along histories (a broken constant column)."""
    out = events.copy()
    rng = np.random.default_rng(seed)
    out["event"] = rng.permutation(out["event"].to_numpy())
    return out


def test_report_has_every_gated_score_its_sections_and_gates(
    fmri: tuple[pd.DataFrame, SequenceSchema],
) -> None:
    events, schema = fmri
    ids = events["seq_id"].unique()
    train, held = events[events["seq_id"].isin(ids[:20])], events[~events["seq_id"].isin(ids[:20])]
    broken = _shuffled_events(train, 0)
    report = sequence_report(train, broken, schema, holdout=held, seed=0)
    assert set(report.scores) == set(SEQUENCE_DIRECTIONS)
    # the same lengths and gaps, the values shuffled across entities: events no longer constant
    assert report.scores["length_ks"] == 1.0 and report.scores["gap_ks"] == 1.0
    assert report.details["consistency"]["event"] < 0.5
    assert report.scores["consistency"] == pytest.approx(report.details["consistency"]["event"])
    assert report.details["consistency"].keys() == {"subject", "event", "region"}
    assert report.scores["dcr_share"] is not None and 0.0 <= report.scores["dcr_share"] <= 1.0
    page = report.to_html()
    for heading in (
        "Columns of the events",
        "Histories: lengths, gaps, autocorrelation",
        "Entities: consistency",
    ):
        assert heading in page
    for title in ("Events per entity", "Gaps between consecutive events", "Autocorrelation within a history"):
        assert title in page
    assert "DCR share on entity rows" in page and "Detection on entity rows" in page
    # one plot per value column, lengths, gaps, autocorrelation, distances
    assert page.count('class="plotly-graph-div"') == len(schema.columns.names) - 1 + 4
    data = json.loads(report.to_json())
    assert data["scores"]["consistency"] < 0.5 and data["length_ks_complement"] == 1.0
    assert "distances_to_train" not in data["dcr"]["holdout"]
    assert report.check({"length_ks": 0.99}, {"detection_auc": 0.99}) == []
    failed = report.check({"consistency": 0.99}, {})
    assert len(failed) == 1 and failed[0].startswith("consistency = ")
    with pytest.raises(OptionError, match="unknown score 'quality'"):
        report.check({"quality": 0.5}, {})


def test_without_a_holdout_dcr_share_is_not_computed_and_its_gate_says_so(
    fmri: tuple[pd.DataFrame, SequenceSchema],
) -> None:
    events, schema = fmri
    report = sequence_report(events, events, schema, seed=0)
    assert report.scores["dcr_share"] is None
    assert report.scores["entity_copy_rate"] == 1.0  # the real histories themselves: all copies
    assert report.check({}, {"dcr_share": 0.6}) == ["dcr_share was not computed (needs a holdout)"]


def test_the_same_histories_spelled_as_another_library_writes_them_read_as_the_same() -> None:
    events, _ = make_transactions(60, days=30, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = infer_sequence_schema(events, "customer_id", "timestamp")
    # a peer's CSV: timestamps as text with a UTC offset (the same instants), rows in another order,
    # every column read back as text or float
    stamps = pd.to_datetime(events["timestamp"]).dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    spelled = events.assign(timestamp=stamps.map(lambda t: t.isoformat()))
    spelled = spelled.sample(frac=1.0, random_state=0).reset_index(drop=True).astype(object)
    back = aligned_like(spelled, events, schema)
    pd.testing.assert_series_equal(
        back.sort_values(["customer_id", "timestamp"])["timestamp"].reset_index(drop=True),
        pd.to_datetime(events.sort_values(["customer_id", "timestamp"])["timestamp"]).reset_index(drop=True),
        check_dtype=False,
        check_names=False,
    )
    result = evaluate_sequences(events, spelled, schema, seed=0)
    assert result["length_ks_complement"] == 1.0 and result["gap_ks_complement"] == 1.0
    assert result["dcr"]["copied_share"] == 1.0
    assert result["detection_auc"] < 0.7


def test_entity_features_of_two_tables_share_the_real_tables_categories(
    fmri: tuple[pd.DataFrame, SequenceSchema],
) -> None:
    events, schema = fmri
    only_one = events[events["region"] == events["region"].iloc[0]]
    categories = top_categories(events, schema)
    real, other = entity_features(events, schema, categories), entity_features(only_one, schema, categories)
    assert list(real.columns) == list(other.columns)
    region = [c for c in other.columns if c.startswith("region=")]
    assert len(region) == events["region"].nunique() and other[region].sum(axis=1).eq(1.0).all()
    assert constant_columns(events, schema) == ["subject", "event", "region"]


@pytest.mark.slow
def test_sequence_report_renders_every_plot_offline_in_a_browser(
    fmri: tuple[pd.DataFrame, SequenceSchema], tmp_path: Path
) -> None:
    import shutil

    from tests.evaluation.test_report_browser import CHROMIUM, LAYOUT_CHECK

    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="scripts/install-browser installs Playwright"
    )
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed; run scripts/install-browser")
    events, schema = fmri
    ids = events["seq_id"].unique()
    train, held = events[events["seq_id"].isin(ids[:20])], events[~events["seq_id"].isin(ids[:20])]
    report = sequence_report(train, _shuffled_events(train, 1), schema, holdout=held, seed=0)
    page_path = tmp_path / "sequences.html"
    report.to_html(str(page_path))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        requests: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length > 0")
        drawn = page.locator(".plotly-graph-div .main-svg").count()
        plots = page.locator(".plotly-graph-div").count()
        layout = page.evaluate(LAYOUT_CHECK)
        page.screenshot(path=str(tmp_path / "sequences.png"), full_page=True)
        browser.close()
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
    assert plots == len(schema.columns.names) - 1 + 4 and drawn >= plots
    assert layout["modebar_buttons"] == 0
    assert layout["overlaps"] == []
