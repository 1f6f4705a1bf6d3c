"""``mirage report events.mirage``: the sequence report's page, its JSON, its gates and a holdout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import error_line, invoke, read_json

FMRI = Path(__file__).resolve().parents[1] / "fixtures" / "fmri_sequences_small.csv"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A model of 20 fMRI histories, its training events and the 8 histories held out."""
    folder = tmp_path_factory.mktemp("sequences")
    events = pd.read_csv(FMRI)
    ids = events["seq_id"].unique()
    train, held = folder / "train.csv", folder / "held.csv"
    events[events["seq_id"].isin(ids[:20])].to_csv(train, index=False)
    events[~events["seq_id"].isin(ids[:20])].to_csv(held, index=False)
    schema, model = folder / "events.schema.json", folder / "events.mirage"
    assert invoke("schema", train, "--entity", "seq_id", "--order", "timepoint", "-o", schema).exit_code == 0
    result = invoke("fit", train, "--schema", schema, "-o", model, "--param", "rare_min_count=1")
    assert result.exit_code == 0, result.output
    return model, train, held


def test_report_with_a_holdout_writes_its_sections_and_a_breached_gate_fails_the_command(
    fitted: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, _, held = fitted
    page = tmp_path / "r.html"
    result = invoke(
        "report",
        model,
        "-o",
        page,
        "--holdout",
        held,
        "--fail-under",
        "length_ks=0.5",
        "--fail-over",
        "detection_auc=0.0",
    )
    assert result.exit_code == 1, result.output
    failed = [line for line in result.stderr.splitlines() if line.startswith("gate failed")]
    assert len(failed) == 1 and failed[0].startswith("gate failed: detection_auc = "), result.stderr
    text = page.read_text(encoding="utf-8")
    for heading in (
        "Sequence report",
        "Columns of the events",
        "Histories: lengths",
        "Entities: consistency",
    ):
        assert heading in text
    assert "DCR share on entity rows" in text
    scores = read_json(page.with_suffix(".json"))["scores"]
    assert scores["length_ks"] >= 0.95 and scores["consistency"] == 1.0
    assert scores["dcr_share"] is not None and 0.0 <= scores["dcr_share"] <= 1.0


def test_report_refuses_unknown_gates_a_holdout_of_seen_entities_and_a_non_html_output(
    fitted: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, train, _ = fitted
    line = error_line(invoke("report", model, "-o", tmp_path / "r.html", "--fail-under", "quality=0.8"))
    assert (
        "--fail-under 'quality=0.8': unknown score 'quality' of a sequence report (known: length_ks" in line
    )
    line = error_line(invoke("report", model, "-o", tmp_path / "r.html", "--holdout", train))
    assert (
        f"--holdout {train}: 20 of its entities (seq_id" in line and "are in the training events too" in line
    )
    line = error_line(invoke("report", model, "-o", tmp_path / "r.json"))
    assert "the report is HTML; name it with .html" in line
    assert not (tmp_path / "r.html").exists()


def test_fit_with_a_holdout_keeps_whole_entities_aside_and_the_report_finds_them_again(
    tmp_path: Path,
) -> None:
    schema, model = tmp_path / "events.schema.json", tmp_path / "events.mirage"
    assert invoke("schema", FMRI, "--entity", "seq_id", "--order", "timepoint", "-o", schema).exit_code == 0
    result = invoke("fit", FMRI, "--schema", schema, "-o", model, "--holdout", "0.25", "--split-seed", "3")
    assert result.exit_code == 0, result.output
    assert "21" in result.output  # 21 of the 28 histories learned, 7 held out whole
    page = tmp_path / "r.html"
    result = invoke("report", model, "-o", page, "--fail-over", "dcr_share=1.0")
    assert result.exit_code == 0, result.output
    data = read_json(page.with_suffix(".json"))
    assert data["meta"]["entities"] == {"real": 21, "synthetic": 21, "holdout": 7}
    assert data["scores"]["dcr_share"] is not None
    line = error_line(
        invoke("fit", FMRI, "--schema", schema, "-o", tmp_path / "x.mirage", "--holdout", "0.99")
    )
    assert "--holdout 0.99 of 28 entities leaves no entity held out, or fewer than 2 to learn" in line


def test_report_on_two_event_files_reads_the_histories_off_the_real_file(
    fitted: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, train, held = fitted
    synthetic = tmp_path / "synthetic.csv"
    assert invoke("sample", model, "--entities", "20", "-o", synthetic, "--seed", "1").exit_code == 0
    page = tmp_path / "two.html"
    result = invoke("report", train, synthetic, "-o", page, "--holdout", held)
    assert result.exit_code == 0, result.output
    assert "read as event histories of seq_id, ordered by timepoint" in result.output
    written = read_json(page.with_suffix(".json"))
    assert written["meta"]["entity"] == "seq_id" and written["meta"]["order"] == "timepoint"
    assert 0.0 <= written["scores"]["length_ks"] <= 1.0
    assert written["scores"]["dcr_share"] is not None  # the holdout's entities were read
    assert "Sequence report" in page.read_text(encoding="utf-8")
    # a schema names the columns when the layout cannot: a second column that orders each history
    events = pd.read_csv(train).assign(scan=lambda f: f["timepoint"] * 2)
    events.to_csv(tmp_path / "two_orders.csv", index=False)
    pd.read_csv(synthetic).assign(scan=0).to_csv(tmp_path / "synthetic2.csv", index=False)
    result = invoke(
        "report", tmp_path / "two_orders.csv", tmp_path / "synthetic2.csv", "-o", tmp_path / "a.html"
    )
    assert result.exit_code != 0
    line = error_line(result)
    assert "reads as event histories in 2 ways" in line and "pass --schema" in line, line
    schema = tmp_path / "two.schema.json"
    args = ("--entity", "seq_id", "--order", "timepoint", "-o", schema)
    assert invoke("schema", tmp_path / "two_orders.csv", *args).exit_code == 0
    result = invoke(
        "report",
        tmp_path / "two_orders.csv",
        tmp_path / "synthetic2.csv",
        "-o",
        tmp_path / "b.html",
        "--schema",
        schema,
    )
    assert result.exit_code == 0, result.output
    assert read_json(tmp_path / "b.json")["meta"]["order"] == "timepoint"


def test_a_table_schema_is_refused_for_two_files(tmp_path: Path) -> None:
    real = pd.read_csv(FMRI)
    real.to_csv(tmp_path / "real.csv", index=False)
    assert invoke("schema", tmp_path / "real.csv", "-o", tmp_path / "table.schema.json").exit_code == 0
    result = invoke(
        "report",
        tmp_path / "real.csv",
        tmp_path / "real.csv",
        "-o",
        tmp_path / "u.html",
        "--schema",
        tmp_path / "table.schema.json",
    )
    assert result.exit_code != 0 and "not a sequence schema" in error_line(result)
