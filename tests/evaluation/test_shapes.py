from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError
from mirage.evaluation._shapes import column_shape_scores, ks_complement, tv_complement
from mirage.schema import Column, Kind, Schema, infer_schema

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
DATASETS = ["adult", "bank_marketing", "titanic", "insurance", "diabetes", "breast_cancer"]


def shared(name: str) -> pd.DataFrame:
    path = SHARED / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not available")
    return pd.read_csv(path)


def shuffled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.permutation(frame[c].to_numpy()) for c in frame.columns})


def perturbed(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A cheap stand-in for synthetic data: resampled rows, noisy numbers, some categories swapped."""
    rng = np.random.default_rng(seed)
    out = frame.sample(n=len(frame), replace=True, random_state=seed).reset_index(drop=True)
    schema = infer_schema(frame)
    for column in schema:
        values = out[column.name]
        if column.kind is Kind.NUMERIC:
            noise = rng.normal(0.0, 0.1 * float(np.nanstd(values.astype("float64"))) + 1e-9, len(out))
            out[column.name] = values.astype("float64") + noise
        elif column.kind is Kind.CATEGORICAL:
            swap = rng.random(len(out)) < 0.1
            out.loc[swap, column.name] = rng.permutation(values.to_numpy())[swap]
    return out


def test_identical_data_scores_one(adult: pd.DataFrame) -> None:
    scores = column_shape_scores(adult, adult.copy())
    assert list(scores.columns) == ["column", "kind", "metric", "score"]
    assert len(scores) == adult.shape[1]
    assert np.allclose(scores["score"], 1.0)


def test_independent_shuffles_keep_every_column_shape(adult: pd.DataFrame) -> None:
    assert np.allclose(column_shape_scores(adult, shuffled(adult))["score"], 1.0)


def test_holdout_of_the_same_data_scores_high(adult: pd.DataFrame) -> None:
    scores = column_shape_scores(adult.iloc[:2000], adult.iloc[2000:], infer_schema(adult))
    assert scores["score"].min() > 0.9


def test_ks_complement_values_and_missing() -> None:
    assert ks_complement(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == 1.0
    assert ks_complement(np.array([1.0, 2.0]), np.array([5.0, 6.0])) == 0.0
    # missing values are dropped, as SDMetrics' KSComplement does
    assert ks_complement(np.array([1.0, 2.0, np.nan]), np.array([1.0, 2.0])) == 1.0
    assert ks_complement(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0])) == 0.5


def test_tv_complement_ignores_missing_and_counts_new_categories() -> None:
    real = pd.Series(["a", "a", "b", None])
    synthetic = pd.Series(["a", "b", None, None])
    assert tv_complement(real, synthetic) == pytest.approx(1.0 - 1.0 / 6.0)
    assert tv_complement(pd.Series(["a", "b"]), pd.Series(["c", "c"])) == 0.0
    assert tv_complement(pd.Series([1, 2, 2]), pd.Series([1.0, 2.0, 2.0])) == 1.0
    assert tv_complement(pd.Series(["a"]), pd.Series([None, None])) == 0.0


def test_replaced_columns_get_no_score_and_datetimes_do() -> None:
    real = pd.DataFrame(
        {
            "id": range(100),
            "when": pd.date_range("2020-01-01", periods=100, freq="D"),
            "x": np.arange(100.0),
        }
    )
    synthetic = real.assign(when=real["when"] + pd.Timedelta(days=50))
    schema = Schema(
        [
            Column("id", Kind.IDENTIFIER),
            Column("when", Kind.DATETIME, dtype="datetime64[ns]"),
            Column("x", Kind.NUMERIC),
        ]
    )
    scores = column_shape_scores(real, synthetic, schema).set_index("column")
    assert "id" not in scores.index
    assert scores.loc["when", "metric"] == "KSComplement"
    assert scores.loc["when", "score"] == pytest.approx(0.5)
    assert scores.loc["x", "score"] == 1.0


def test_missing_synthetic_column_is_named(adult: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'income'.*synthetic"):
        column_shape_scores(adult, adult.drop(columns="income"))


def _sdmetrics_scores(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    single_column = pytest.importorskip("sdmetrics.single_column")
    out = {}
    for column in infer_schema(real):
        if column.kind in (Kind.NUMERIC, Kind.DATETIME):
            out[column.name] = single_column.KSComplement.compute(real[column.name], synthetic[column.name])
        elif column.kind.learned:
            out[column.name] = single_column.TVComplement.compute(real[column.name], synthetic[column.name])
    return out


@pytest.mark.parametrize("name", DATASETS)
def test_matches_sdmetrics_on_shared_data(name: str) -> None:
    pytest.importorskip("sdmetrics")
    real = shared(name)
    synthetic = perturbed(real)
    ours = column_shape_scores(real, synthetic).set_index("column")["score"]
    theirs = _sdmetrics_scores(real, synthetic)
    assert set(ours.index) == set(theirs)
    for column, value in theirs.items():
        assert ours[column] == pytest.approx(value, abs=0.01), column


@pytest.mark.slow
@pytest.mark.parametrize("name", DATASETS)
def test_matches_sdmetrics_on_copula_samples(name: str) -> None:
    pytest.importorskip("sdmetrics")
    import mirage

    real = shared(name)
    synthetic = mirage.fit(real, engine="copula").sample(len(real), seed=0)
    ours = column_shape_scores(real, synthetic).set_index("column")["score"]
    for column, value in _sdmetrics_scores(real, synthetic).items():
        assert ours[column] == pytest.approx(value, abs=0.01), column
