from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError
from mirage.evaluation._pairs import association_matrices, column_pair_scores
from mirage.schema import Column, Kind, Schema, infer_schema
from tests.conftest import SHARED


def shuffled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.permutation(frame[c].to_numpy()) for c in frame.columns})


def test_identical_data_scores_one(adult: pd.DataFrame) -> None:
    scores, mean = column_pair_scores(adult, adult.copy())
    assert list(scores.columns) == ["column_a", "column_b", "metric", "real", "synthetic", "score"]
    assert mean == pytest.approx(1.0)
    assert np.allclose(scores["score"], 1.0)
    numbers = 6  # age, fnlwgt, education_num, capital_gain, capital_loss, hours_per_week
    pairs = 15 * 14 // 2
    assert len(scores) == pairs + numbers * (numbers - 1) // 2  # two rows per numeric pair
    assert set(scores["metric"]) == {"spearman", "pearson", "contingency"}


def test_shuffled_columns_lose_the_pair_trends(adult: pd.DataFrame) -> None:
    scores, mean = column_pair_scores(adult, shuffled(adult))
    assert mean < 0.95
    by_pair = scores.set_index(["column_a", "column_b", "metric"])["score"]
    # strong real relationships are the ones that break
    assert by_pair[("education", "education_num", "contingency")] < 0.3
    assert by_pair[("marital_status", "relationship", "contingency")] < 0.6


def test_holdout_of_the_same_data_scores_high(adult: pd.DataFrame) -> None:
    _, mean = column_pair_scores(adult.iloc[:2000], adult.iloc[2000:], infer_schema(adult))
    assert mean > 0.93


def test_correlation_similarity_formula() -> None:
    x = np.linspace(0.0, 1.0, 200)
    real = pd.DataFrame({"a": x, "b": x})
    synthetic = pd.DataFrame({"a": x, "b": -x})
    scores, mean = column_pair_scores(real, synthetic)
    rows = scores.set_index("metric")
    for metric in ("spearman", "pearson"):
        assert rows.loc[metric, "real"] == pytest.approx(1.0)
        assert rows.loc[metric, "synthetic"] == pytest.approx(-1.0)
        assert rows.loc[metric, "score"] == pytest.approx(0.0)
    assert mean == pytest.approx(0.0)


def test_contingency_uses_real_quantile_bins_and_counts_missing() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    label = np.where(x > 0, "high", "low").astype(object)
    real = pd.DataFrame({"x": x, "label": label})
    independent = pd.DataFrame({"x": x, "label": rng.permutation(label)})
    scores, _ = column_pair_scores(real, independent)
    row = scores.iloc[0]
    assert row["metric"] == "contingency"
    assert row["real"] > 0.7  # correlation ratio of a number split by its own sign
    assert row["synthetic"] < 0.1
    assert row["score"] == pytest.approx(0.5, abs=0.05)
    # a missing value is a value of its own: hiding half the labels changes the joint table
    hidden = real.copy()
    hidden.loc[hidden.index[::2], "label"] = None
    assert column_pair_scores(real, hidden)[0].iloc[0]["score"] < 0.6


def test_association_matrices_are_symmetric_with_unit_diagonal(titanic: pd.DataFrame) -> None:
    matrices = association_matrices(titanic, shuffled(titanic))
    learned = [c.name for c in infer_schema(titanic) if c.kind.learned]
    for side in ("real", "synthetic"):
        m = matrices[side]
        assert list(m.index) == learned and list(m.columns) == learned
        assert np.allclose(m.to_numpy(), m.to_numpy().T)
        assert np.allclose(np.diag(m.to_numpy()), 1.0)
        assert m.to_numpy().min() >= -1.0 and m.to_numpy().max() <= 1.0
    real, synthetic = matrices["real"].to_numpy(), matrices["synthetic"].to_numpy()
    sex, who, adult_male = (learned.index(name) for name in ("sex", "who", "adult_male"))
    assert real[sex, who] > 0.9  # Cramér's V of two near-identical categories
    assert real[adult_male, who] > 0.9
    assert synthetic[sex, who] < 0.2


def test_identifiers_are_left_out() -> None:
    real = pd.DataFrame({"key": np.arange(300), "x": np.arange(300.0), "c": ["a", "b", "c"] * 100})
    schema = Schema(
        [Column("key", Kind.IDENTIFIER), Column("x", Kind.NUMERIC), Column("c", Kind.CATEGORICAL)]
    )
    scores, _ = column_pair_scores(real, real, schema)
    assert "key" not in set(scores["column_a"]) | set(scores["column_b"])
    assert len(scores) == 1


def test_missing_synthetic_column_is_named(adult: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'sex'"):
        column_pair_scores(adult, adult.drop(columns="sex"))


def test_wide_table_is_fast() -> None:
    path = SHARED / "breast_cancer.csv"
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not available")
    real = pd.read_csv(path)
    schema = infer_schema(real)
    start = time.perf_counter()
    scores, mean = column_pair_scores(real, shuffled(real), schema)
    elapsed = time.perf_counter() - start
    assert len(scores) == 30 * 29 + 30  # 435 numeric pairs (two rows each) and 30 with the target
    assert 0.0 < mean < 0.9
    assert elapsed < 2.0
