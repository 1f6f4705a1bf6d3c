from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError, OptionError
from mirage.evaluation._coverage import coverage_scores, range_coverage, tail_coverage
from mirage.schema import Kind, infer_schema

NUMBERS = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


def test_identical_data_covers_everything(adult: pd.DataFrame) -> None:
    table, means = coverage_scores(adult, adult.copy())
    assert list(table.columns) == ["column", "kind", "coverage", "tail_coverage", "tail_events"]
    assert len(table) == adult.shape[1]
    assert means == {"coverage": 1.0, "tail_coverage": 1.0, "score": 1.0}


def test_clipping_to_the_inner_percentiles_loses_range_and_tails(adult: pd.DataFrame) -> None:
    clipped = adult.copy()
    for name in NUMBERS:
        low, high = adult[name].quantile([0.05, 0.95])
        clipped[name] = adult[name].clip(low, high)
    table, means = coverage_scores(adult, clipped)
    numbers = table.set_index("column").loc[NUMBERS]
    assert (numbers["coverage"] < 0.9).all()
    assert (numbers["tail_coverage"].dropna() == 0.0).all()
    assert numbers["tail_events"].sum() > 100
    assert means["coverage"] < 0.85 and means["tail_coverage"] < 0.7
    shuffled = adult.apply(lambda c: c.sample(frac=1.0, random_state=0).to_numpy())
    assert coverage_scores(adult, shuffled)[1]["score"] == 1.0  # the same values reach everything


def test_holdout_of_the_same_data_covers_most(adult: pd.DataFrame) -> None:
    _, means = coverage_scores(adult.iloc[:2000], adult.iloc[2000:], infer_schema(adult))
    assert means["coverage"] > 0.85 and means["tail_coverage"] > 0.7


def test_rare_categories() -> None:
    real = pd.DataFrame({"c": ["common"] * 980 + ["rare1"] * 5 + ["rare2"] * 5 + ["other"] * 10})
    synthetic = pd.DataFrame({"c": ["common"] * 990 + ["rare1"] * 10})
    row = coverage_scores(real, synthetic)[0].iloc[0]
    assert row["kind"] == Kind.CATEGORICAL.value
    assert row["coverage"] == pytest.approx(2 / 4)
    assert row["tail_coverage"] == pytest.approx(1 / 2)  # rare1 reached, rare2 not
    assert row["tail_events"] == 2


def test_range_and_tail_coverage_values() -> None:
    real = np.arange(0.0, 101.0)
    assert range_coverage(real, np.array([0.0, 100.0])) == 1.0
    assert range_coverage(real, np.array([25.0, 75.0])) == pytest.approx(0.5)
    assert range_coverage(real, np.array([200.0, 300.0])) == 0.0
    assert range_coverage(real, np.array([np.nan])) == 0.0
    share, events = tail_coverage(real, real)
    assert share == 1.0 and events == 2
    assert tail_coverage(real, np.r_[real, -5.0, 105.0])[0] == 1.0  # more tail mass is capped at full
    assert tail_coverage(real, np.clip(real, 5.0, 95.0))[0] == 0.0
    assert np.isnan(tail_coverage(np.zeros(50), np.zeros(50))[0])  # no outliers, no score


def test_bad_options_and_data_are_named(adult: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match="tail"):
        coverage_scores(adult, adult, tail=0.7)
    with pytest.raises(OptionError, match="rare"):
        coverage_scores(adult, adult, rare=0.0)
    with pytest.raises(DataError, match="'race'.*synthetic"):
        coverage_scores(adult, adult.drop(columns="race"))
    with pytest.raises(DataError, match="synthetic data has no rows"):
        coverage_scores(adult, adult.iloc[:0])
