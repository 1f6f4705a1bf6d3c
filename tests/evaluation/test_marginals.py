from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError, OptionError
from mirage.evaluation._marginals import discretise, kway_marginal_accuracy
from mirage.schema import Column, Kind, Schema, infer_schema


def shuffled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.permutation(frame[c].to_numpy()) for c in frame.columns})


def test_identical_data_scores_one(adult: pd.DataFrame) -> None:
    result = kway_marginal_accuracy(adult, adult.copy())
    assert result == {"k1": 1.0, "k2": 1.0, "k3": 1.0, "overall": 1.0}


def test_shuffles_keep_one_way_and_lose_higher_ways(adult: pd.DataFrame) -> None:
    result = kway_marginal_accuracy(adult, shuffled(adult))
    assert result["k1"] == pytest.approx(1.0)
    assert result["k2"] < 0.95
    assert result["k3"] < result["k2"] - 0.05
    assert result["overall"] == pytest.approx(np.mean([result["k1"], result["k2"], result["k3"]]))


def test_holdout_of_the_same_data_scores_high(adult: pd.DataFrame) -> None:
    result = kway_marginal_accuracy(adult.iloc[:2000], adult.iloc[2000:], infer_schema(adult))
    assert result["k1"] > 0.95 and result["k2"] > 0.9 and result["k3"] > 0.85


def test_hand_computed_accuracy() -> None:
    real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    synthetic = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "u", "v", "v"]})
    result = kway_marginal_accuracy(real, synthetic, ks=(1, 2))
    assert result["k1"] == 1.0
    # real joint: 1/4 each; synthetic: (x,u) 1/2, (y,v) 1/2 -> L1 = 1, accuracy 0.5
    assert result["k2"] == pytest.approx(0.5)
    assert "k3" not in result  # only two columns


def test_missing_is_a_value_of_its_own() -> None:
    real = pd.DataFrame({"a": ["x", None, "y", None], "n": [1.0, np.nan, 2.0, 3.0]})
    filled = pd.DataFrame({"a": ["x", "x", "y", "y"], "n": [1.0, 2.0, 2.0, 3.0]})
    schema = Schema([Column("a", Kind.CATEGORICAL), Column("n", Kind.NUMERIC)])
    result = kway_marginal_accuracy(real, filled, schema, ks=(1,))
    # a: TVD 0.5 (half the real rows are missing); n: TVD 0.25 (the missing quarter became a 2)
    assert result["k1"] == pytest.approx(1.0 - (0.5 + 0.25) / 2)


def test_quantile_bins_give_a_mass_point_its_own_bin() -> None:
    values = np.r_[np.zeros(900), np.arange(1.0, 101.0)]
    real = pd.DataFrame({"gain": values})
    codes = discretise(real, real, [Column("gain", Kind.NUMERIC)], bins=10)
    assert np.unique(codes.real[0][:900]).size == 1
    assert codes.real[0][0] != codes.real[0][-1]
    all_positive = pd.DataFrame({"gain": np.full(1000, 50.0)})
    assert kway_marginal_accuracy(real, all_positive, ks=(1,))["k1"] < 0.2


def test_subsets_are_sampled_deterministically(adult: pd.DataFrame) -> None:
    synthetic = shuffled(adult, seed=3)
    first = kway_marginal_accuracy(adult, synthetic, ks=(3,), max_subsets=20, seed=7)
    again = kway_marginal_accuracy(adult, synthetic, ks=(3,), max_subsets=20, seed=7)
    other = kway_marginal_accuracy(adult, synthetic, ks=(3,), max_subsets=20, seed=8)
    assert first == again
    assert first != other


def test_bad_options_are_named(adult: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match="max_subsets"):
        kway_marginal_accuracy(adult, adult, max_subsets=0)
    with pytest.raises(OptionError, match="bins"):
        kway_marginal_accuracy(adult, adult, bins=0)
    with pytest.raises(DataError, match="'age'.*synthetic"):
        kway_marginal_accuracy(adult, adult.drop(columns="age"))
