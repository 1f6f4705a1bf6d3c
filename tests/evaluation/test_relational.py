"""Relational scores on Northwind: real against itself scores best, and each stand-in for a poor
synthetic database moves the score that should see its fault, and only the right way."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mirage.errors import DataError
from mirage.evaluation import (
    cardinality_similarity,
    denormalise,
    evaluate_relational,
    parent_child_correlations,
    referential_integrity,
    relational_detection,
)
from mirage.schema import DatabaseSchema
from tests.databases import northwind, northwind_schema

Frames = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def database() -> DatabaseSchema:
    return northwind_schema()


@pytest.fixture(scope="module")
def real() -> Frames:
    return northwind()


def _copy(frames: Frames) -> Frames:
    return {name: frame.copy() for name, frame in frames.items()}


def _shuffled(database: DatabaseSchema, real: Frames, seed: int = 0) -> Frames:
    """Every non-key column shuffled within itself: each column's values and every key kept, every
    link between columns (within a row, or between a parent and its children) broken."""
    rng = np.random.default_rng(seed)
    out = _copy(real)
    for name, frame in out.items():
        keys = set(database.key_columns(name))
        for column in frame.columns:
            if column not in keys:
                frame[column] = rng.permutation(frame[column].to_numpy())
    return out


def _skewed(real: Frames, seed: int = 0) -> Frames:
    """Every order given to one of ten customers: keys valid, children per customer far from real."""
    rng = np.random.default_rng(seed)
    out = _copy(real)
    few = real["customers"]["customer_id"].to_numpy()[:10]
    out["orders"]["customer_id"] = rng.choice(few, size=len(out["orders"]))
    return out


def test_real_against_itself_scores_best(database: DatabaseSchema, real: Frames) -> None:
    scores = evaluate_relational(database, real, _copy(real), n_threads=1)
    assert scores.summary() == {
        "referential_integrity": 1.0,
        "cardinality_similarity": 1.0,
        "parent_child_correlations": 1.0,
        "detection_auc": pytest.approx(0.5, abs=0.02),
    }
    assert scores.integrity["problems"] == [] and scores.integrity["intact"]
    assert set(scores.detection["per_table"]) == {"customers", "orders", "products"}
    text = json.dumps(scores.to_dict())
    assert json.loads(text)["cardinality"]["measure"].startswith("1 - KS")


def test_broken_references_lower_integrity_and_are_listed(database: DatabaseSchema, real: Frames) -> None:
    broken = _copy(real)
    broken["orders"].loc[:82, "customer_id"] = "NOBODY"  # 83 of 830 orders point to no customer
    result = referential_integrity(database, broken)
    assert result["valid_share"] == pytest.approx(1 - 83 / (830 + 2 * 2155))
    assert result["per_foreign_key"]["orders(customer_id) -> customers(customer_id)"] == pytest.approx(0.9)
    assert result["problems"] == [
        "orders(customer_id) -> customers(customer_id): 83 reference(s) to no parent row"
    ]
    assert not result["intact"]


def test_cardinality_sees_children_moved_between_parents(database: DatabaseSchema, real: Frames) -> None:
    skewed = _skewed(real)
    result = cardinality_similarity(database, real, skewed)
    orders = result["per_foreign_key"]["orders(customer_id) -> customers(customer_id)"]
    assert orders["score"] < 0.5 and orders["synthetic_max"] > 3 * orders["real_max"]
    assert orders["real_mean"] == orders["synthetic_mean"]  # as many orders, as many customers
    lines = result["per_foreign_key"]["order_details(order_id) -> orders(order_id)"]
    assert lines["score"] == 1.0
    assert referential_integrity(database, skewed)["intact"]
    # shuffling non-key columns moves no child: the distribution of children per parent is the same
    assert cardinality_similarity(database, real, _shuffled(database, real))["score"] == 1.0


def test_correlations_see_parent_and_children_decoupled(database: DatabaseSchema, real: Frames) -> None:
    result = parent_child_correlations(database, real, _shuffled(database, real))
    assert result["score"] < 0.95
    products = result["per_foreign_key"]["order_details(product_id) -> products(product_id)"]
    price = next(
        p
        for p in products["pairs"]
        if p["parent_column"] == "unit_price" and p["child_aggregate"].endswith(".unit_price.mean")
    )
    assert price["measure"] == "spearman" and price["real"] > 0.9 and abs(price["synthetic"]) < 0.3
    countries = result["per_foreign_key"]["orders(customer_id) -> customers(customer_id)"]
    assert {p["measure"] for p in countries["pairs"]} == {"correlation ratio"}


def test_detection_tells_shuffled_data_apart(database: DatabaseSchema, real: Frames) -> None:
    result = relational_detection(database, real, _shuffled(database, real), n_threads=1)
    assert result["detection_auc"] > 0.9
    assert result["per_table"]["orders"]["detection_auc"] > 0.9
    assert result["measure"].startswith("cross-validated ROC AUC")
    again = relational_detection(database, real, _shuffled(database, real), n_threads=1)
    assert again == result  # same seed, same scores


def test_denormalised_view_has_counts_means_and_shares(database: DatabaseSchema, real: Frames) -> None:
    flat, schema = denormalise(database, real, "orders")
    assert len(flat) == len(real["orders"])
    count = flat["order_details[order_id].count"]
    assert count.sum() == len(real["order_details"]) and count.min() >= 1
    first = real["order_details"][real["order_details"]["order_id"] == 10248]
    assert flat.loc[0, "order_details[order_id].unit_price.mean"] == pytest.approx(first["unit_price"].mean())
    assert "order_id" not in flat.columns and "customer_id" not in flat.columns  # keys are not features
    assert schema.names == list(flat.columns)
    customers, _ = denormalise(database, real, "customers", categories={"orders.ship_country": ["France"]})
    share = customers["orders[customer_id].ship_country=France"]
    assert share.dropna().between(0, 1).all() and share.max() == 1.0


def test_missing_synthetic_table_is_one_clear_error(database: DatabaseSchema, real: Frames) -> None:
    partial = _copy(real)
    del partial["products"]
    with pytest.raises(
        DataError, match="synthetic data: table 'products' is in the schema but not in the data"
    ):
        evaluate_relational(database, real, partial)
