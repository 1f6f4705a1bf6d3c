from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage._progress import progress_to
from mirage.engines.argn import ArgnSynthesizer
from mirage.errors import MirageError, OptionError

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def rules() -> pd.DataFrame:
    """A city determines its country; retirement is a rule on age; income is noise around age."""
    rng = np.random.default_rng(0)
    n = 3_000
    city = rng.choice(["paris", "lyon", "berlin", "munich", "rome"], size=n, p=[0.3, 0.1, 0.3, 0.1, 0.2])
    country = pd.Series(city).map({"paris": "fr", "lyon": "fr", "berlin": "de", "munich": "de", "rome": "it"})
    age = rng.integers(18, 90, size=n)
    income = np.round(1_000 + 40 * age + rng.normal(0, 100, size=n), 2)
    return pd.DataFrame(
        {
            "city": city,
            "country": country,
            "age": age,
            "retired": np.where(age >= 65, "yes", "no"),
            "income": income,
        }
    )


@pytest.fixture(scope="module")
def model(rules: pd.DataFrame) -> ArgnSynthesizer:
    fitted = ArgnSynthesizer(seed=1)
    fitted.fit(rules)
    return fitted


def test_learns_deterministic_relations(model: ArgnSynthesizer) -> None:
    synth = model.sample(3_000, seed=2)
    truth = {"paris": "fr", "lyon": "fr", "berlin": "de", "munich": "de", "rome": "it"}
    assert (synth["city"].map(truth) == synth["country"]).mean() > 0.97
    assert ((synth["age"] >= 65) == (synth["retired"] == "yes")).mean() > 0.93
    assert np.corrcoef(synth["age"], synth["income"])[0, 1] > 0.9


def test_conditioning_on_a_later_column_shifts_an_earlier_one(
    model: ArgnSynthesizer, rules: pd.DataFrame
) -> None:
    # "country" comes after "city" in the schema order: conditioning must invert the relation
    conditions = {"country": "de"}
    assert model._condition_filter(conditions).allowed  # drawn natively, not by rejection
    synth = model.sample(2_000, seed=3, conditions=conditions)
    assert set(synth["country"]) == {"de"}
    real = rules.loc[rules["country"] == "de", "city"].value_counts(normalize=True)
    fake = synth["city"].value_counts(normalize=True)
    assert fake.reindex(["berlin", "munich"], fill_value=0.0).sum() > 0.97
    assert abs(fake.get("berlin", 0.0) - real["berlin"]) < 0.06


def test_conditioning_on_retirement_shifts_age(model: ArgnSynthesizer) -> None:
    synth = model.sample(1_000, seed=4, conditions={"retired": "yes"})
    assert (synth["age"] >= 65).mean() > 0.9
    with pytest.raises(MirageError, match="acceptance rate"):
        model.sample(5, seed=1, conditions={"country": "xx"})


def test_same_seed_same_model_and_rows(rules: pd.DataFrame, model: ArgnSynthesizer, tmp_path: Path) -> None:
    again = ArgnSynthesizer(seed=1).fit(rules)
    pd.testing.assert_frame_equal(again.sample(500, seed=5), model.sample(500, seed=5))
    loaded = mirage.load(model.save(tmp_path / "argn.mirage"))
    assert isinstance(loaded, ArgnSynthesizer)
    pd.testing.assert_frame_equal(loaded.sample(500, seed=5), model.sample(500, seed=5))
    conditioned = {"retired": "yes"}
    pd.testing.assert_frame_equal(
        loaded.sample(200, seed=6, conditions=conditioned), model.sample(200, seed=6, conditions=conditioned)
    )
    np.testing.assert_allclose(loaded.log_prob(rules.iloc[:50]), model.log_prob(rules.iloc[:50]), rtol=1e-5)


def test_history_and_progress(rules: pd.DataFrame) -> None:
    seen: list[tuple[str, int, int, str]] = []
    with progress_to(lambda task, done, total, detail: seen.append((task, done, total, detail))):
        fitted = ArgnSynthesizer(max_epochs=3, patience=10)
        fitted.fit(rules.iloc[:500])
    assert [s[1] for s in seen] == [1, 2, 3, 3] and {s[2] for s in seen} == {3}
    assert seen[-1][3].startswith("done after 3 epochs; kept epoch ")
    # the bar shows the epoch's losses, the best epoch so far and an upper bound on the time left
    assert re.fullmatch(
        r"loss \d+\.\d{3} · val \d+\.\d{3} \(best: epoch [123]\) · at most 0m00s left", seen[-2][3]
    )
    assert re.fullmatch(r".* · at most \d+m\d\ds left", seen[0][3])
    assert len(fitted.history_) == 3 and all(np.isfinite(h["val_loss"]) for h in fitted.history_)
    assert fitted.training_["stopped"] == "max_epochs"


def test_max_training_time_is_respected() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.normal(size=20_000) for c in "abcdef"})
    start = time.perf_counter()
    fitted = ArgnSynthesizer(max_training_time=1.0, max_epochs=1_000, patience=1_000)
    fitted.fit(frame)
    assert time.perf_counter() - start < 8.0
    assert fitted.training_["stopped"] == "max_training_time"
    assert fitted.history_[-1]["seconds"] < 3.0


def test_log_prob_prefers_real_rows(model: ArgnSynthesizer, rules: pd.DataFrame) -> None:
    real = rules.iloc[:300].reset_index(drop=True)
    broken = real.copy()
    broken["country"] = np.roll(broken["country"].to_numpy(), 1)
    broken["retired"] = np.where(broken["retired"] == "yes", "no", "yes")
    a, b = model.log_prob(real), model.log_prob(broken)
    assert a.shape == (300,) and np.all(np.isfinite(a)) and np.all(a <= 0)
    assert np.mean(a > b) > 0.95


def test_zero_rows_keep_dtypes(model: ArgnSynthesizer, rules: pd.DataFrame) -> None:
    parts = model._sample(0, np.random.default_rng(0))
    assert all(len(v) == 0 for v in parts.values())
    assert parts["age::value"].dtype == np.float64 and parts["city::code"].dtype == np.int64
    empty = model.sample(0, seed=1)
    assert list(empty.columns) == list(rules.columns) and len(empty) == 0


def test_temperature_below_one_sharpens(rules: pd.DataFrame, model: ArgnSynthesizer) -> None:
    cold = ArgnSynthesizer(seed=1, temperature=0.3)
    cold.set_state(model.schema_, *model.get_state())
    top = rules["city"].value_counts(normalize=True).iloc[:2].sum()
    shares = cold.sample(2_000, seed=7)["city"].value_counts(normalize=True)
    assert shares.iloc[:2].sum() > top + 0.05


@pytest.mark.parametrize(
    "params",
    [
        {"max_epochs": 0},
        {"patience": 0},
        {"hidden_size": 0},
        {"batch_size": -1},
        {"dropout": 1.0},
        {"learning_rate": 0},
        {"validation_share": 0.7},
        {"temperature": 0},
        {"device": "tpu"},
        {"min_bin_count": 0},
        {"max_training_time": 0},
    ],
)
def test_bad_hyperparameters_name_the_option(params: dict[str, object]) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(OptionError, match=next(iter(params))):
        ArgnSynthesizer(**params).fit(frame)  # type: ignore[arg-type]


def test_impute_fills_missing_cells_from_the_rest_of_the_row(
    model: ArgnSynthesizer, rules: pd.DataFrame
) -> None:
    data = rules.iloc[:600].copy()
    rng = np.random.default_rng(7)
    holes = {column: rng.random(len(data)) < 0.3 for column in ("country", "age", "income")}
    holed = data.copy()
    for column, mask in holes.items():
        holed.loc[mask, column] = np.nan
    filled = model.impute(holed, seed=3)

    assert filled.index.equals(holed.index) and list(filled.columns) == list(holed.columns)
    assert not filled[["country", "age", "income"]].isna().any().any()
    observed = ~pd.DataFrame(holes, index=data.index).reindex(columns=data.columns, fill_value=False)
    pd.testing.assert_frame_equal(filled.where(observed), holed.where(observed), check_dtype=False)
    truth = {"paris": "fr", "lyon": "fr", "berlin": "de", "munich": "de", "rome": "it"}
    country = holes["country"]
    assert (filled.loc[country, "city"].map(truth) == filled.loc[country, "country"]).mean() > 0.95
    age = holes["age"]
    assert ((filled.loc[age, "age"] >= 65) == (filled.loc[age, "retired"] == "yes")).mean() > 0.9
    assert filled.loc[age, "age"].between(18, 89).all()
    assert filled["age"].dtype == rules["age"].dtype  # float only while it had holes
    # an imputed income follows the row's age (income is about 1000 + 40 * age)
    both = holes["income"] & ~holes["age"]
    error = filled.loc[both, "income"] - (1_000 + 40 * filled.loc[both, "age"])
    assert error.abs().median() < 300
    pd.testing.assert_frame_equal(model.impute(holed, seed=3), filled)


def test_impute_leaves_complete_rows_alone_and_names_missing_columns(
    model: ArgnSynthesizer, rules: pd.DataFrame
) -> None:
    complete = rules.iloc[:50]
    pd.testing.assert_frame_equal(model.impute(complete, seed=1), complete)
    with pytest.raises(MirageError, match="income"):
        model.impute(complete.drop(columns="income"))


def test_datetimes_keep_their_weekly_and_daily_rhythm() -> None:
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2022-01-03", "2023-12-29")  # Monday to Friday only
    n = 4_000
    stamp = pd.Series(rng.choice(days, size=n)) + pd.to_timedelta(
        rng.integers(9 * 60, 17 * 60, n), unit="min"
    )
    channel = np.where(stamp.dt.hour < 12, "morning desk", "afternoon desk")
    frame = pd.DataFrame({"opened_at": stamp, "channel": channel})
    synth = ArgnSynthesizer(seed=0).fit(frame).sample(3_000, seed=1)
    assert pd.api.types.is_datetime64_any_dtype(synth["opened_at"])
    assert (synth["opened_at"].dt.day_of_week < 5).mean() > 0.97
    assert synth["opened_at"].dt.hour.between(9, 16).mean() > 0.97
    agree = (synth["opened_at"].dt.hour < 12) == (synth["channel"] == "morning desk")
    assert agree.mean() > 0.93
