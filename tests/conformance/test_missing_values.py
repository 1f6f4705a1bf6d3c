"""Rows that are not missing follow the observed values, whatever placeholder the missing rows carry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from mirage.engines import ENGINES, Synthesizer
from tests.conformance import FAST

ENGINE_NAMES = sorted(ENGINES)
ROWS = 3000


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Whole-number ages, dates and a category, each 30% missing, more often when ``x`` is high."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=ROWS)
    age = np.clip(np.round(40 + 12 * (0.6 * x + 0.8 * rng.normal(size=ROWS))), 1, 90)
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.round(200 + 60 * rng.normal(size=ROWS)), unit="D")
    colour = rng.choice(["red", "green", "blue", "grey"], p=[0.4, 0.3, 0.2, 0.1], size=ROWS)
    frame = pd.DataFrame({"x": x, "age": age, "day": day, "colour": colour})
    for column in ("age", "day", "colour"):
        missing = rng.random(ROWS) < 1 / (1 + np.exp(-2.5 * (x - 0.6)))
        frame.loc[missing, column] = None
    return frame


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def synthetic(request: pytest.FixtureRequest, table: pd.DataFrame) -> pd.DataFrame:
    model: Synthesizer = ENGINES[request.param](**FAST.get(request.param, {})).fit(table)
    return model.sample(ROWS, seed=1)


def test_the_fixture_is_what_the_checks_need(table: pd.DataFrame) -> None:
    for column in ("age", "day", "colour"):
        assert 0.2 < table[column].isna().mean() < 0.4
        assert table.loc[table[column].isna(), "x"].mean() > table["x"].mean() + 0.5


@pytest.mark.parametrize("column", ["age", "day"])
def test_the_placeholder_does_not_reappear_as_a_value(
    table: pd.DataFrame, synthetic: pd.DataFrame, column: str
) -> None:
    real, fake = table[column].dropna(), synthetic[column].dropna()
    placeholder = real.median()  # what the codec encodes the missing rows as
    real_share, fake_share = (real == placeholder).mean(), (fake == placeholder).mean()
    assert abs(fake_share - real_share) < 0.02, (real_share, fake_share)
    if column == "day":
        real, fake = (s.astype("datetime64[ns]").astype("int64") for s in (real, fake))
    assert ks_2samp(real, fake).statistic < 0.06


def test_the_most_frequent_category_is_not_inflated(table: pd.DataFrame, synthetic: pd.DataFrame) -> None:
    real = table["colour"].value_counts(normalize=True)
    fake = synthetic["colour"].value_counts(normalize=True)
    assert abs(fake.get("red", 0.0) - real["red"]) < 0.05, (real.to_dict(), fake.to_dict())
