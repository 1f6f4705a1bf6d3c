from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.errors import OptionError
from mirage.evaluation._holdout import split_holdout
from mirage.evaluation._utility import utility_scores
from mirage.schema import Column, Kind, Schema, infer_schema
from tests.conftest import SHARED


@pytest.fixture(scope="module")
def split(adult: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    train, holdout = split_holdout(adult, 0.25, seed=0)
    return train, holdout, infer_schema(adult)


def test_cart_synthetic_data_is_nearly_as_useful_as_real(
    split: tuple[pd.DataFrame, pd.DataFrame, Schema],
) -> None:
    train, holdout, schema = split
    synthetic = mirage.fit(train, engine="cart", schema=schema).sample(len(train), seed=0)
    result = utility_scores(train, synthetic, holdout, "income", schema, n_threads=1)
    assert result["task"] == "classification" and result["metric"] == "roc_auc"
    assert result["trtr"] > 0.85
    assert result["ratio"] > 0.8
    assert result["ratio"] == pytest.approx(result["tstr"] / result["trtr"])
    assert 0.0 <= result["score"] <= 1.0
    assert set(result["tstr_metrics"]) == {"roc_auc", "f1_macro"}
    assert set(result["importances"]["tstr"]) == set(schema.names) - {"income"}
    assert result["importance_agreement"] is not None and result["importance_agreement"] > 0.3


def test_real_data_as_synthetic_gives_ratio_one(split: tuple[pd.DataFrame, pd.DataFrame, Schema]) -> None:
    train, holdout, schema = split
    train = train.iloc[:1500]
    result = utility_scores(train, train.copy(), holdout, "income", schema, n_threads=1)
    assert result["ratio"] == pytest.approx(1.0)
    assert result["importance_agreement"] == pytest.approx(1.0)


def test_shuffled_target_has_no_utility(split: tuple[pd.DataFrame, pd.DataFrame, Schema]) -> None:
    train, holdout, schema = split
    train = train.iloc[:1500]
    noise = train.assign(income=np.random.default_rng(0).permutation(train["income"].to_numpy()))
    result = utility_scores(train, noise, holdout, "income", schema, n_threads=1)
    assert result["tstr"] < 0.6
    assert result["ratio"] < 0.7


def test_multiclass_target(split: tuple[pd.DataFrame, pd.DataFrame, Schema]) -> None:
    train, holdout, schema = split
    small = train.iloc[:800]
    result = utility_scores(small, small, holdout.iloc[:400], "relationship", schema, n_threads=1)
    assert result["task"] == "classification"
    assert result["tstr"] > 0.8  # macro one-vs-rest AUC over six classes
    assert 0.0 < result["tstr_metrics"]["f1_macro"] <= 1.0


def test_regression_target() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 2))
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "group": rng.choice(["a", "b", "c"], 1500)})
    frame["y"] = 3.0 * frame["x1"] - frame["x2"] + frame["group"].map({"a": 0.0, "b": 2.0, "c": -2.0})
    frame["y"] += rng.normal(0.0, 0.3, 1500)
    train, holdout = frame.iloc[:1000], frame.iloc[1000:]
    schema = infer_schema(frame)
    good = utility_scores(train, train, holdout, "y", schema, n_threads=1)
    assert good["task"] == "regression" and good["metric"] == "r2"
    assert good["trtr"] > 0.9 and good["ratio"] == pytest.approx(1.0)
    broken = train.assign(y=rng.permutation(train["y"].to_numpy()))
    bad = utility_scores(train, broken, holdout, "y", schema, n_threads=1)
    assert bad["ratio"] < 0.2


def test_insurance_charges_regression() -> None:
    path = SHARED / "insurance.csv"
    if not path.exists():
        pytest.skip(f"shared dataset {path} is not available")
    data = pd.read_csv(path)
    train, holdout = split_holdout(data, 0.25, seed=0)
    synthetic = mirage.fit(train, engine="cart").sample(len(train), seed=0)
    result = utility_scores(train, synthetic, holdout, "charges", n_threads=1)
    assert result["trtr"] > 0.7
    assert result["ratio"] > 0.7


def test_errors_name_the_target(split: tuple[pd.DataFrame, pd.DataFrame, Schema]) -> None:
    train, holdout, schema = split
    with pytest.raises(OptionError, match="'salary'.*not a column"):
        utility_scores(train, train, holdout, "salary", schema)
    replaced = Schema([Column(c.name, Kind.IDENTIFIER) if c.name == "fnlwgt" else c for c in schema])
    with pytest.raises(OptionError, match="'fnlwgt'.*identifier"):
        utility_scores(train, train, holdout, "fnlwgt", replaced)
    single = train.assign(income="<=50K")
    with pytest.raises(OptionError, match="'income'.*synthetic data has a single class"):
        utility_scores(train, single, holdout, "income", schema)


def test_boolean_target_and_a_class_seen_once(titanic: pd.DataFrame) -> None:
    train, holdout = split_holdout(titanic, 0.3, seed=0)
    schema = infer_schema(titanic)
    assert schema["alone"].kind is Kind.BOOLEAN
    synthetic = train.copy()
    result = utility_scores(train, synthetic, holdout, "alone", schema, n_threads=1)
    assert result["task"] == "classification" and result["ratio"] == pytest.approx(1.0)
    synthetic["embarked"] = synthetic["embarked"].astype(object)
    synthetic.loc[synthetic.index[0], "embarked"] = "X"  # a category the real data lacks
    odd = utility_scores(train, synthetic, holdout, "embarked", schema, n_threads=1)
    assert 0.5 < odd["tstr"] <= 1.0
