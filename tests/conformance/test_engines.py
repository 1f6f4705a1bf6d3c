"""The checks every registered engine passes: a new engine is covered the day it is registered."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.encoding.categorical import RARE_TOKEN
from mirage.engines import ENGINES, NotFittedError, Synthesizer
from mirage.engines._base import MIN_TRAINING_ROWS
from mirage.errors import DataError, MirageError, OptionError
from mirage.schema import Kind
from tests.conformance import FAST

ENGINE_NAMES = sorted(ENGINES)


def make(name: str, **params: object) -> Synthesizer:
    return ENGINES[name](**{**FAST.get(name, {}), **params})


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def fitted(
    request: pytest.FixtureRequest, adult: pd.DataFrame
) -> tuple[Synthesizer, pd.DataFrame, pd.DataFrame]:
    train, holdout = adult.iloc[:2000].reset_index(drop=True), adult.iloc[2000:].reset_index(drop=True)
    model = make(request.param).fit(train)
    return model, train, holdout


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_init_only_stores_keyword_only_hyperparameters(name: str) -> None:
    cls = ENGINES[name]
    signature = inspect.signature(cls.__init__)
    params = [p for p in signature.parameters.values() if p.name != "self"]
    assert params and all(p.kind is p.KEYWORD_ONLY for p in params)
    model = cls()
    assert model.get_params() == {p.name: p.default for p in params}
    assert not [a for a in vars(model) if a.endswith("_")]
    with pytest.raises(TypeError):
        cls(1)  # type: ignore[misc]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_sample_before_fit_is_a_clear_error(name: str) -> None:
    with pytest.raises(NotFittedError, match="fit"):
        make(name).sample(3)


def test_columns_order_and_dtypes_are_preserved(fitted) -> None:
    model, train, _ = fitted
    synth = model.sample(500, seed=1)
    assert list(synth.columns) == list(train.columns)
    assert len(synth) == 500
    for column in train.columns:
        assert synth[column].dtype == train[column].dtype, column


def test_values_stay_within_bounds_and_learned_categories(fitted) -> None:
    model, train, _ = fitted
    synth = model.sample(2000, seed=2)
    for column in model.schema_:
        real, fake = train[column.name].dropna(), synth[column.name].dropna()
        if column.kind is Kind.NUMERIC:
            assert fake.min() >= real.min() and fake.max() <= real.max(), column.name
            if column.integer:
                assert np.all(np.mod(fake.to_numpy(dtype=float), 1) == 0), column.name
        if column.kind is Kind.CATEGORICAL:
            counts = real.value_counts()
            allowed = set(counts[counts >= model.encoding_.rare_min_count].index) | {RARE_TOKEN}
            assert set(fake.unique()) <= allowed, column.name


def test_rare_categories_are_never_emitted(fitted) -> None:
    model, train, _ = fitted
    synth = model.sample(5000, seed=3)
    counts = train["native_country"].value_counts()
    rare = set(counts[counts < model.encoding_.rare_min_count].index)
    assert rare, "the fixture should contain rare countries"
    assert not rare & set(synth["native_country"].dropna())


def test_null_rates_within_tolerance(fitted) -> None:
    model, train, _ = fitted
    synth = model.sample(5000, seed=4)
    for column in train.columns:
        assert abs(synth[column].isna().mean() - train[column].isna().mean()) < 0.02, column


def test_missingness_depends_on_other_columns(fitted) -> None:
    # In Adult, workclass and occupation are missing together: the synthetic data keeps that.
    model, train, _ = fitted
    synth = model.sample(5000, seed=5)
    real_both = (train["workclass"].isna() & train["occupation"].isna()).sum() / max(
        1, train["workclass"].isna().sum()
    )
    fake_both = (synth["workclass"].isna() & synth["occupation"].isna()).sum() / max(
        1, synth["workclass"].isna().sum()
    )
    assert real_both > 0.9
    assert fake_both > 0.5


def test_same_seed_same_rows_and_other_seed_other_rows(fitted) -> None:
    model, _, _ = fitted
    a, b, c = model.sample(300, seed=7), model.sample(300, seed=7), model.sample(300, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_chunks_concatenate_to_the_same_sample(fitted) -> None:
    model, _, _ = fitted
    n = 120_000
    whole = model.sample(n, seed=9)
    chunks = list(model.sample_chunks(n, seed=9))
    assert len(chunks) > 1
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)


def test_zero_rows(fitted) -> None:
    model, train, _ = fitted
    empty = model.sample(0, seed=1)
    assert list(empty.columns) == list(train.columns) and len(empty) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_bad_n_names_the_option(fitted, bad) -> None:
    model, _, _ = fitted
    with pytest.raises(OptionError, match="n must be"):
        model.sample(bad)


def test_save_load_gives_identical_samples(fitted, tmp_path) -> None:
    model, _, _ = fitted
    path = model.save(tmp_path / "model.mirage")
    loaded = mirage.load(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(loaded.sample(1000, seed=11), model.sample(1000, seed=11))


def test_copies_no_more_often_than_a_holdout(fitted) -> None:
    model, train, holdout = fitted
    synth = model.sample(len(holdout), seed=12)

    def copy_rate(rows: pd.DataFrame) -> float:
        keys = set(map(tuple, train.astype(str).to_numpy()))
        return float(np.mean([tuple(r) in keys for r in rows.astype(str).to_numpy()]))

    assert copy_rate(synth) <= copy_rate(holdout) + 0.005


def test_conditions_restrict_the_sample(fitted) -> None:
    model, _, _ = fitted
    synth = model.sample(300, seed=13, conditions={"sex": "Female", "income": [">50K"]})
    assert len(synth) == 300
    assert set(synth["sex"]) == {"Female"} and set(synth["income"]) == {">50K"}
    with pytest.raises(OptionError, match="nope"):
        model.sample(5, conditions={"nope": 1})
    with pytest.raises(MirageError, match="acceptance rate"):
        model.sample(5, seed=1, conditions={"sex": "Martian"})


# --- degenerate inputs: each works or raises a clear error naming the column -------------------
DEGENERATE = {
    "fewest_rows": pd.DataFrame({"a": np.arange(MIN_TRAINING_ROWS) * 1.5, "b": ["x"] * MIN_TRAINING_ROWS}),
    "one_column": pd.DataFrame({"a": np.arange(50, dtype=float) / 7}),
    "constant": pd.DataFrame({"a": [3] * 40, "b": np.arange(40) % 7 * 1.5}),
    "all_null": pd.DataFrame({"a": [np.nan] * 30, "b": np.linspace(0, 1, 30)}),
    "only_categorical": pd.DataFrame({"a": list("xyz") * 20, "b": list("pq") * 30}),
    "only_numeric": pd.DataFrame({"a": np.linspace(0, 1, 60), "b": np.arange(60) ** 2}),
}


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_inputs(name: str, case: str, tmp_path) -> None:
    data = DEGENERATE[case]
    model = make(name).fit(data)
    synth = model.sample(25, seed=1)
    assert list(synth.columns) == list(data.columns) and len(synth) == 25
    for column in data.columns:
        if data[column].isna().all():
            assert synth[column].isna().all()
        elif data[column].nunique() == 1:
            assert synth[column].nunique() == 1
    again = mirage.load(model.save(tmp_path / "m.mirage")).sample(25, seed=1)
    pd.testing.assert_frame_equal(again, synth)


def _small_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "bmi": np.round(rng.uniform(16, 48, rows), 2),
            "charges": np.round(rng.lognormal(9, 0.8, rows), 2),
            "smoker": rng.choice(["yes", "no"], rows),
        }
    )


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("rows", [1, 5, MIN_TRAINING_ROWS - 1])
def test_too_few_rows_to_learn_without_copying_is_a_clear_error(name: str, rows: int) -> None:
    # On one row every engine gave its numbers back exactly; on five, cart gave back real values.
    plural = "" if rows == 1 else "s"
    with pytest.raises(DataError, match=f"has {rows} row{plural}; .*at least {MIN_TRAINING_ROWS} rows"):
        make(name).fit(_small_table(rows))


@pytest.mark.parametrize("name", ENGINE_NAMES)
@pytest.mark.parametrize("rows", [MIN_TRAINING_ROWS, 2 * MIN_TRAINING_ROWS])
def test_the_smallest_tables_learned_give_back_no_real_numbers(name: str, rows: int) -> None:
    real = _small_table(rows)
    synth = make(name).fit(real).sample(2000, seed=1)
    numbers = ["bmi", "charges"]
    real_rows = set(map(tuple, real[numbers].to_numpy()))
    assert not any(tuple(r) in real_rows for r in synth[numbers].to_numpy())
    for column in numbers:
        # cart kept every value of a small table exact, each holding 5% or more of its rows
        assert synth[column].isin(set(real[column])).mean() < 0.1, column


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_empty_inputs_are_clear_errors(name: str) -> None:
    with pytest.raises(MirageError, match="no rows"):
        make(name).fit(pd.DataFrame({"a": []}))
    with pytest.raises(MirageError, match="no columns"):
        make(name).fit(pd.DataFrame(index=range(3)))


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_fit_leaves_the_users_schema_untouched(name: str, adult: pd.DataFrame) -> None:
    frame = adult.head(200).assign(key=[f"K-{i:04d}" for i in range(200)])
    schema = mirage.infer_schema(frame)
    before = schema.to_json()
    make(name).fit(frame, schema)
    assert schema.to_json() == before


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_numbers_past_float32_are_learned_without_overflow(name: str) -> None:
    """Values near float64's limits (1e300) fit and sample to finite values within the real range."""
    rng = np.random.default_rng(5)
    data = pd.DataFrame(
        {
            "a": rng.normal(size=200) * 1e300,
            "g": rng.choice(["x", "y"], size=200),
            "b": rng.normal(size=200) * 1e300,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        synth = make(name).fit(data).sample(500, seed=2)
    for column in ("a", "b"):
        values = synth[column].to_numpy()
        assert np.isfinite(values).all(), column
        assert data[column].min() <= values.min() and values.max() <= data[column].max(), column
        assert 0.3 < (values / 1e300).std() < 3, column
