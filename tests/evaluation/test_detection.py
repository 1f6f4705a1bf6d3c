from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError, OptionError
from mirage.evaluation._detection import detection_scores, grouped_folds
from mirage.evaluation._features import FeatureEncoder
from mirage.schema import Column, Kind, Schema, infer_schema

FAST = {"max_rows": 2_000, "n_threads": 1}


def shuffled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.permutation(frame[c].to_numpy()) for c in frame.columns})


@pytest.fixture(scope="module")
def schema(adult: pd.DataFrame) -> Schema:
    return infer_schema(adult)


def test_identical_copy_is_indistinguishable(adult: pd.DataFrame, schema: Schema) -> None:
    result = detection_scores(adult, adult.copy(), schema, **FAST)
    assert result["detection_auc"] == pytest.approx(0.5, abs=0.02)
    assert result["detection_score"] > 0.95
    assert len(result["fold_aucs"]) == 5
    assert result["rows_per_class"] == 2_000


def test_shuffled_columns_are_detected(adult: pd.DataFrame, schema: Schema) -> None:
    result = detection_scores(adult, shuffled(adult), schema, **FAST)
    assert result["detection_auc"] > 0.8
    assert result["detection_score"] < 0.6
    assert result["detection_score"] == pytest.approx(1 - 2 * (result["detection_auc"] - 0.5))
    top = result["top_features"]
    assert 0 < len(top) <= 10
    assert {t["feature"] for t in top} <= set(schema.names)
    assert top[0]["importance"] >= top[-1]["importance"]


def test_holdout_of_the_same_data_is_not_detected(adult: pd.DataFrame, schema: Schema) -> None:
    result = detection_scores(adult.iloc[:2000], adult.iloc[2000:], schema, **FAST)
    assert result["detection_auc"] < 0.6


def test_sizes_are_balanced_and_replaced_columns_dropped() -> None:
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"id": np.arange(600), "x": rng.normal(size=600), "c": rng.choice(["a", "b"], 600)})
    synthetic = pd.DataFrame(
        {"id": np.arange(300), "x": rng.normal(3.0, 1.0, 300), "c": rng.choice(["a", "b"], 300)}
    )
    schema = Schema([Column("id", Kind.IDENTIFIER), Column("x", Kind.NUMERIC), Column("c", Kind.CATEGORICAL)])
    result = detection_scores(real, synthetic, schema, n_threads=1)
    assert result["rows_per_class"] == 300
    assert result["detection_auc"] > 0.9
    assert result["top_features"][0]["feature"] == "x"
    assert "id" not in {t["feature"] for t in result["top_features"]}


def test_identical_rows_share_a_fold() -> None:
    x = np.repeat(np.arange(50.0), 2)[:, None]  # every row twice
    y = np.tile([0, 1], 50)
    fold = grouped_folds(x, y, 5, np.random.default_rng(0))
    assert np.all(fold[::2] == fold[1::2])
    assert set(np.unique(fold)) == set(range(5))


def test_feature_encoder_codes_real_categories_for_other_frames() -> None:
    real = pd.DataFrame(
        {
            "c": ["a", "a", "b", None],
            "flag": [True, False, True, False],
            "when": pd.Series(["2020-01-01", "2020-01-02", None, "2020-01-03"], dtype="datetime64[ns]"),
            "name": ["x", "y", "z", "w"],
        }
    )
    schema = Schema(
        [
            Column("c", Kind.CATEGORICAL),
            Column("flag", Kind.BOOLEAN),
            Column("when", Kind.DATETIME),
            Column("name", Kind.PII, pii_type="person_name"),
        ]
    )
    encoder = FeatureEncoder(schema).fit(real)
    assert encoder.feature_names == ["c", "flag", "when"]
    assert encoder.categorical_features.tolist() == [True, False, False]
    other = encoder.transform(
        pd.DataFrame(
            {"c": ["b", "new", None], "flag": [False, True, None], "when": real["when"][:3], "name": "q"}
        )
    )
    assert other[0, 0] == 1.0 and other[1, 0] == 2.0 and np.isnan(other[2, 0])  # a=0, b=1, other=2
    assert other[0, 1] == 0.0 and other[1, 1] == 1.0 and np.isnan(other[2, 1])
    assert other[0, 2] == pd.Timestamp("2020-01-01").timestamp() and np.isnan(other[2, 2])


def test_bad_options_and_data_are_named(adult: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match="folds"):
        detection_scores(adult, adult, folds=1)
    with pytest.raises(DataError, match="'income'.*synthetic"):
        detection_scores(adult, adult.drop(columns="income"))
    with pytest.raises(DataError, match="at least 5"):
        detection_scores(adult, adult.iloc[:3])
