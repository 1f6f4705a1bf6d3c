"""The memorisation guard: settings strengthened until the fit's own DCR check reads under the limit."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._warnings import MirageWarning
from mirage.encoding import EncodingOptions
from mirage.engines import ArgnSynthesizer, CartSynthesizer
from mirage.engines._guard import DEFAULT_MAX_DCR_SHARE, MIN_ROWS, decreasing_fit, outcome, read_steps
from mirage.errors import OptionError


def _copying_cart(**params: object) -> CartSynthesizer:
    """A cart with every protection off: leaves of one row, exact values, nothing rare held back."""
    return CartSynthesizer(min_samples_leaf=1, smoothing=0.0, spike_share=1.0, **params)


NOTHING_HELD_BACK = EncodingOptions(rare_min_count=1)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 600
    x = rng.normal(size=n).round(4)
    return pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], size=n),
            "x": x,
            "y": (2 * x + rng.normal(size=n)).round(4),
            "z": rng.exponential(size=n).round(4),
        }
    )


def test_off_by_default(table: pd.DataFrame) -> None:
    model = CartSynthesizer().fit(table)
    assert "guard" not in model.training_
    assert model.leaf_size_ == 50


def test_the_default_limit_is_the_reports_bar(table: pd.DataFrame) -> None:
    from mirage.evaluation._privacy import DCR_SHARE_LIMIT

    assert DEFAULT_MAX_DCR_SHARE == DCR_SHARE_LIMIT == 0.53
    model = CartSynthesizer(max_dcr_share=DEFAULT_MAX_DCR_SHARE).fit(table)
    record = model.training_["guard"]
    assert record["max_dcr_share"] == 0.53 and record["readings"][0]["setting"] == {"min_samples_leaf": 50}
    assert model.leaf_size_ == record["chosen"]["min_samples_leaf"] >= 50


def test_a_copying_setting_is_strengthened_until_its_fitted_share_meets_the_limit(
    table: pd.DataFrame,
) -> None:
    model = _copying_cart(max_dcr_share=0.53).fit(table, encoding_options=NOTHING_HELD_BACK)
    record = model.training_["guard"]
    readings = record["readings"]
    # the ladder 1, 50, 75, 112, 168: its weakest, middle and strongest settings are read
    assert [r["setting"]["min_samples_leaf"] for r in readings] == [1, 75, 168]
    assert readings[0]["dcr_share"] > 0.7
    assert record["met"] and record["fitted_share"] <= 0.53
    assert (
        record["chosen"]["min_samples_leaf"] > 1 and model.leaf_size_ == record["chosen"]["min_samples_leaf"]
    )
    # the weakest setting whose fitted share meets the limit: the ones before it do not
    ladder = [1, 50, 75, 112, 168]
    fitted = {r["setting"]["min_samples_leaf"]: r["fitted"] for r in readings}
    assert fitted[1] >= fitted[75] >= fitted[168] and fitted[1] > 0.53
    chosen = ladder.index(record["chosen"]["min_samples_leaf"])
    assert all(fitted[size] > 0.53 for size in ladder[:chosen] if size in fitted)
    assert record["folds"] == 5 and record["rows"] == len(table)


def test_the_fit_never_rises_and_pools_what_does() -> None:
    assert decreasing_fit([0.56, 0.53, 0.51]) == [0.56, 0.53, 0.51]
    assert decreasing_fit([0.56, 0.52, 0.54]) == pytest.approx([0.56, 0.53, 0.53])
    assert decreasing_fit([0.50, 0.52, 0.56]) == pytest.approx([0.5267, 0.5267, 0.5267], abs=1e-4)


def test_the_weakest_middle_and_strongest_steps_are_read() -> None:
    assert read_steps(1) == [0] and read_steps(3) == [0, 1, 2]
    assert read_steps(4) == [0, 2, 3] and read_steps(5) == [0, 2, 4]


def test_the_chosen_setting_lowers_the_share_on_unseen_rows(table: pd.DataFrame) -> None:
    from mirage.evaluation._privacy import dcr

    train, held = table.iloc[:480], table.iloc[480:]
    shares = {}
    for limit in (None, 0.53):
        model = _copying_cart(max_dcr_share=limit).fit(train, encoding_options=NOTHING_HELD_BACK)
        shares[limit] = dcr(train, held, model.sample(1500, seed=1), return_distances=False)["dcr_share"]
    assert shares[None] > 0.7
    assert shares[0.53] < shares[None] - 0.15


def test_a_setting_that_reads_under_the_limit_is_kept_as_given(table: pd.DataFrame) -> None:
    model = CartSynthesizer(min_samples_leaf=200, max_dcr_share=0.9).fit(table)
    record = model.training_["guard"]
    assert len(record["readings"]) == 1 and record["chosen"] == {"min_samples_leaf": 200}
    assert model.leaf_size_ == 200
    assert outcome(record).startswith("min_samples_leaf=200 (fitted DCR share 0.")


def test_an_unreachable_limit_keeps_the_strongest_setting_with_a_warning(table: pd.DataFrame) -> None:
    with pytest.warns(MirageWarning, match=r"cart: even at min_samples_leaf=\d+ .* limit 0.05"):
        model = CartSynthesizer(max_dcr_share=0.05).fit(table)
    record = model.training_["guard"]
    assert not record["met"] and record["fitted_share"] > 0.05
    assert record["chosen"] == record["readings"][-1]["setting"] == {"min_samples_leaf": 252}
    assert [r["setting"]["min_samples_leaf"] for r in record["readings"]] == [50, 112, 252]
    assert outcome(record).endswith("limit 0.05; none met it)")


@pytest.mark.filterwarnings(
    "ignore::mirage._warnings.MirageWarning"
)  # whether seed 3 meets it is not the point
def test_the_check_is_seeded(table: pd.DataFrame) -> None:
    first = _copying_cart(max_dcr_share=0.53, seed=3).fit(table, encoding_options=NOTHING_HELD_BACK)
    again = _copying_cart(max_dcr_share=0.53, seed=3).fit(table, encoding_options=NOTHING_HELD_BACK)
    assert first.training_["guard"] == again.training_["guard"]
    pd.testing.assert_frame_equal(first.sample(200, seed=1), again.sample(200, seed=1))


def test_small_tables_skip_the_check(table: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", MirageWarning)
        model = CartSynthesizer(max_dcr_share=0.53).fit(table.iloc[: MIN_ROWS - 1])
    assert model.training_["guard"]["skipped"] == f"fewer than {MIN_ROWS} rows"
    assert model.training_["guard"]["chosen"] is None
    assert outcome(model.training_["guard"]) == f"skipped (fewer than {MIN_ROWS} rows)"


def test_tables_over_the_knobs_size_skip_the_check(table: pd.DataFrame) -> None:
    from mirage.engines._guard import PrivacyKnob, guard
    from mirage.schema import infer_schema

    knob = PrivacyKnob("leaf size", lambda engine, rows: [{"min_samples_leaf": 50}], max_rows=len(table) - 1)
    record = guard(CartSynthesizer(), table, infer_schema(table), knob, 0.53)
    assert record["skipped"] == f"more than {len(table) - 1:,} rows" and record["chosen"] is None


def test_cart_checks_tables_up_to_20000_rows() -> None:
    assert CartSynthesizer.privacy_knob.max_rows == 20_000


def test_a_table_with_nothing_learned_skips_the_check() -> None:
    frame = pd.DataFrame({"id": [f"ID{i:05d}" for i in range(300)]})
    model = CartSynthesizer(max_dcr_share=0.53).fit(frame)
    assert model.training_["guard"]["skipped"] == "no learned column to compare rows on"
    assert model.sample(5, seed=1)["id"].str.startswith("ID").all()


@pytest.mark.parametrize("bad", [0, 1.5, -0.2, "high"])
def test_the_limit_is_checked(table: pd.DataFrame, bad: object) -> None:
    with pytest.raises(OptionError, match="max_dcr_share must be None or a number in"):
        CartSynthesizer(max_dcr_share=bad).fit(table)  # type: ignore[arg-type]


def test_a_strengthened_model_saves_and_loads(table: pd.DataFrame, tmp_path) -> None:
    model = _copying_cart(max_dcr_share=0.53).fit(table, encoding_options=NOTHING_HELD_BACK)
    path = model.save(tmp_path / "m.mirage")
    loaded = mirage.load(path)
    assert loaded.training_["guard"] == json.loads(json.dumps(model.training_["guard"]))
    pd.testing.assert_frame_equal(loaded.sample(300, seed=2), model.sample(300, seed=2))


def test_a_leaf_size_edited_by_hand_is_still_refused(table: pd.DataFrame, tmp_path) -> None:
    from tests.test_model_file_checks import copy_with, load_error

    path = (
        _copying_cart(max_dcr_share=0.53)
        .fit(table, encoding_options=NOTHING_HELD_BACK)
        .save(tmp_path / "m.mirage")
    )

    def edit(doc: dict) -> None:
        del doc["content_sha256"]  # as a file written before the digests, so the field checks speak
        doc["state"]["engine"]["leaf_size"] = 3

    message = load_error(copy_with(path, tmp_path / "edited.mirage", edit))
    assert "hyperparameters.min_samples_leaf: is 1 but the model was fitted with 3" in message


def test_argn_strengthens_dropout_and_weight_decay(table: pd.DataFrame) -> None:
    pytest.importorskip("torch")
    model = ArgnSynthesizer(max_epochs=3, max_dcr_share=0.05, seed=1)
    with pytest.warns(MirageWarning, match="argn: even at dropout="):
        model.fit(table.iloc[:300])
    settings = [r["setting"] for r in model.training_["guard"]["readings"]]
    assert settings[0] == {"dropout": 0.3, "weight_decay": 0.02}
    # the ladder 0.3, 0.45, 0.6, 0.75: its weakest, middle and strongest settings are read
    assert [s["dropout"] for s in settings] == [0.3, 0.6, 0.75]
    assert [s["weight_decay"] for s in settings] == pytest.approx([0.02, 0.18, 0.54])
    assert model.dropout_ == 0.75 and model.weight_decay_ == pytest.approx(0.54)
    assert model.dropout is None  # the user's hyperparameters are left as given


def test_the_fit_reports_the_check() -> None:
    from mirage._progress import progress_to

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], size=300)})
    seen: list[tuple[str, int, int, str]] = []
    with progress_to(lambda *event: seen.append(event)):
        CartSynthesizer(max_dcr_share=0.9).fit(frame)
    checks = [event for event in seen if event[0] == "privacy check"]
    assert checks and checks[-1][1] == checks[-1][2]
    assert any("DCR share" in event[3] for event in checks)
    assert not any(event[0] == "fit" and event[2] > 1 and event[1] > event[2] for event in seen)
