"""DCR share, exact-copy rate and NNDR: copies are caught, fresh rows of the same population are not."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mirage.errors import SchemaError
from mirage.evaluation._privacy import dcr
from tests.evaluation.conftest import Parts, disjoint_parts


@pytest.fixture(scope="module")
def parts(adult: pd.DataFrame) -> Parts:
    return disjoint_parts(adult, seed=7)


def test_a_copy_of_the_training_rows_is_caught(parts: Parts) -> None:
    train, holdout, _, schema = parts
    result = dcr(train, holdout, train.sample(frac=1.0, random_state=1), schema)
    assert result["dcr_share"] > 0.99
    assert result["passes"] is False
    assert result["exact_copy_rate"] == 1.0
    assert result["holdout_copy_rate"] < 0.01
    assert result["median_dcr_train"] == 0.0 < result["median_dcr_holdout"]
    assert result["nndr_p5"] == 0.0 < result["nndr_holdout_p5"]
    assert len(result["distances_to_train"]) == len(result["distances_to_holdout"]) == len(train)
    json.dumps(result)  # JSON-friendly throughout


def test_fresh_rows_of_the_same_population_score_one_half(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    result = dcr(train, holdout, fresh, schema, return_distances=False)
    assert abs(result["dcr_share"] - 0.5) <= 0.03
    assert result["dcr_share_ci"][0] <= 0.5 <= result["dcr_share_ci"][1]
    assert result["passes"] is True
    assert result["exact_copy_rate"] <= result["holdout_copy_rate"] + 0.01
    assert abs(result["median_dcr_train"] - result["median_dcr_holdout"]) < 0.05
    assert abs(result["nndr_p5"] - result["nndr_holdout_p5"]) < 0.1
    assert "distances_to_train" not in result


def test_training_rows_are_split_into_holdout_sized_chunks(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    result = dcr(train, holdout.iloc[:400], fresh, schema, return_distances=False)
    assert result["train_chunks"] == 3  # 1300 // 400
    assert result["plan"]["n_reference_used"] == 400
    assert abs(result["dcr_share"] - 0.5) <= 0.04


def test_ties_count_half() -> None:
    frame = pd.DataFrame({"colour": ["red", "blue", "green"] * 20, "size": ["s", "m"] * 30})
    result = dcr(frame, frame.copy(), frame.copy(), return_distances=False)
    assert result["ties"] == 1.0
    assert result["dcr_share"] == 0.5


def test_identifiers_and_pii_are_left_out(parts: Parts) -> None:
    train, holdout, _, _ = parts
    with_ids = train.assign(customer_id=[f"C-{i:06d}" for i in range(len(train))])
    synthetic = with_ids.assign(customer_id=[f"C-{i:06d}" for i in range(5000, 5000 + len(train))])
    holdout_ids = holdout.assign(customer_id=[f"C-{i:06d}" for i in range(9000, 9000 + len(holdout))])
    result = dcr(with_ids, holdout_ids, synthetic, return_distances=False)
    assert "customer_id" not in result["encoding"]["columns"]
    assert result["exact_copy_rate"] == 1.0 and result["dcr_share"] > 0.99


def test_subsampled_share_is_within_its_bound_of_the_exact_one() -> None:
    rng = np.random.default_rng(3)

    def population(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": rng.normal(size=n),
                "y": rng.gamma(2.0, size=n).round(1),
                "c": rng.choice(list("abcdef"), size=n, p=[0.4, 0.2, 0.2, 0.1, 0.05, 0.05]),
            }
        )

    train, holdout = population(1500), population(1500)
    # half copies of training rows, half fresh rows: an exact share near 0.75
    synthetic = pd.concat(
        [train.sample(3000, replace=True, random_state=4), population(3000)], ignore_index=True
    )
    exact = dcr(train, holdout, synthetic, return_distances=False)
    sub = dcr(train, holdout, synthetic, max_pairs=5e6, half_width=0.03, return_distances=False)
    assert not exact["plan"]["subsampled"] and exact["share_error_bound"] == 0.0
    assert sub["plan"]["n_query_used"] == 1068 and sub["plan"]["n_reference_used"] == 1500
    assert sub["share_error_bound"] == pytest.approx(0.03, abs=1e-4)
    assert 0.7 < exact["dcr_share"] < 0.8
    assert abs(sub["dcr_share"] - exact["dcr_share"]) <= sub["share_error_bound"]
    # the copy rate is always computed on every synthetic row
    assert sub["exact_copy_rate"] == exact["exact_copy_rate"]


def test_reference_subsampling_is_reported() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.random(800), "c": rng.choice(list("ab"), 800)})
    result = dcr(frame.iloc[:400], frame.iloc[400:], frame.iloc[:400], max_pairs=20_000, half_width=0.1)
    plan = result["plan"]
    assert plan["reference_subsampled"] is True and plan["n_reference_used"] == 20_000 // plan["n_query_used"]
    assert result["dcr_share"] > 0.5  # copies still show, on the rows that were kept


def test_missing_column_is_a_clear_error(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    with pytest.raises(SchemaError, match="synthetic"):
        dcr(train, holdout, fresh.drop(columns=["age"]), schema)
