"""DCR share, exact-copy rate and NNDR: copies are caught, fresh rows of the same population are not,
and the share does not depend on the train/holdout ratio."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from mirage.errors import OptionError, SchemaError
from mirage.evaluation._privacy import TIE_CANDIDATES, dcr, plan_dcr
from mirage.schema import Kind, Schema, infer_schema
from tests.conftest import shared_csv
from tests.evaluation.conftest import Parts, disjoint_parts, population_parts, with_copies


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


def test_identical_rows_split_by_their_counts_and_distance_ties_by_the_tied_rows() -> None:
    train = pd.DataFrame({"colour": ["red", "red", "blue", "green"], "size": ["s", "s", "m", "l"]})
    holdout = pd.DataFrame({"colour": ["red", "blue", "red"], "size": ["s", "m", "m"]})
    # (red, s): 2 training and 1 holdout copies -> 2/3; (blue, l): one mismatch from (blue, m) in
    # both sets and from (green, l) in training, two from the rest -> 2 training, 1 holdout -> 2/3
    synthetic = pd.DataFrame({"colour": ["red", "blue"], "size": ["s", "l"]})
    result = dcr(train, holdout, synthetic, return_distances=False)
    p0 = 4 / 7
    assert result["train_neighbour_baseline"] == pytest.approx(p0)
    assert result["train_neighbour_rate"] == pytest.approx(2 / 3)
    assert result["dcr_share"] == pytest.approx(0.5 + 0.5 * (2 / 3 - p0) / (1 - p0))
    assert result["ties"] == 0.5


def test_a_tie_larger_than_the_candidate_lists_is_counted_in_full() -> None:
    # (blue, l) is one mismatch from 9 training and 3 holdout rows, many more than the candidates
    # looked at per set: the vote is 9/12 whatever rows the search happens to list first
    train = pd.DataFrame(
        {"colour": ["blue"] * 6 + ["green"] * 3 + ["red"] * 9, "size": ["m"] * 6 + ["l"] * 3 + ["s"] * 9}
    )
    holdout = pd.DataFrame({"colour": ["blue", "blue", "green", "red"], "size": ["m", "m", "l", "s"]})
    synthetic = pd.DataFrame({"colour": ["blue"] * 12, "size": ["l"] * 12})
    assert TIE_CANDIDATES < 9
    result = dcr(train, holdout, synthetic, return_distances=False)
    assert result["train_neighbour_rate"] == pytest.approx(9 / 12)
    # the 12 synthetic rows spread their votes over 12 real rows: as much as 12 rows voting alone,
    # not one (all on the same nearest row)
    assert result["effective_rows"] == pytest.approx(12.0)


def _small_integer_population(n: int, seed: int) -> tuple[pd.DataFrame, Schema]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.integers(0, 40, n), "b": rng.integers(0, 25, n)}).astype("float64")
    schema = Schema(columns=[dataclasses.replace(c, kind=Kind.NUMERIC) for c in infer_schema(frame)])
    return frame, schema


def test_fresh_rows_near_repeated_values_read_one_half() -> None:
    # each value pair occurs about twice in the pool: a fresh row's nearest real rows are often
    # several identical rows, some training and some holdout; voting 1 for all-training groups and
    # the baseline for mixed ones read about 0.64 here
    population, schema = _small_integer_population(3600, seed=0)
    shares = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        shuffled = population.iloc[rng.permutation(len(population))].reset_index(drop=True)
        train, holdout = shuffled.iloc[:1600], shuffled.iloc[1600:2000]
        fresh = shuffled.iloc[2000:] + rng.normal(0.0, 0.01, (1600, 2))
        shares.append(dcr(train, holdout, fresh, schema, seed=seed, return_distances=False)["dcr_share"])
    assert abs(float(np.mean(shares)) - 0.5) <= 0.03


def test_rows_found_in_both_sets_count_their_share_of_the_pool() -> None:
    frame = pd.DataFrame({"colour": ["red", "blue", "green"] * 20, "size": ["s", "m"] * 30})
    assert dcr(frame, frame.copy(), frame.copy(), return_distances=False)["dcr_share"] == 0.5
    # unequal sets: every row has 3 copies in training per copy in the holdout, as the pool has
    result = dcr(pd.concat([frame] * 3), frame, frame.copy(), return_distances=False)
    assert result["train_neighbour_baseline"] == pytest.approx(0.75)
    assert result["dcr_share"] == pytest.approx(0.5)


@pytest.mark.parametrize("train_fraction", [0.5, 0.8, 0.95])
def test_a_verbatim_copy_reads_one_at_any_split(adult: pd.DataFrame, train_fraction: float) -> None:
    train, holdout, _ = population_parts(adult, train_fraction, seed=1)
    result = dcr(train, holdout, train.sample(frac=1.0, random_state=2), return_distances=False)
    assert result["dcr_share"] >= 0.95 and result["passes"] is False
    assert result["dcr_share_ci"][0] >= 0.9


@pytest.mark.parametrize("train_fraction", [0.5, 0.8])
def test_fresh_rows_read_one_half_and_a_fifth_of_copies_0_6(
    adult_population: pd.DataFrame, train_fraction: float
) -> None:
    train, holdout, fresh = population_parts(adult_population, train_fraction, seed=3)
    schema = infer_schema(train)
    honest = dcr(train, holdout, fresh, schema, return_distances=False)
    assert abs(honest["dcr_share"] - 0.5) <= 0.03
    assert honest["dcr_share_ci"][0] <= 0.5 <= honest["dcr_share_ci"][1] and honest["passes"] is True
    assert honest["train_neighbour_baseline"] == pytest.approx(train_fraction, abs=1e-3)
    # the histograms compare equally large training and holdout sets
    assert abs(honest["median_dcr_train"] - honest["median_dcr_holdout"]) < 0.1
    copying = dcr(train, holdout, with_copies(train, fresh, 0.2, seed=3), schema, return_distances=False)
    assert abs(copying["dcr_share"] - 0.6) <= 0.03
    assert copying["dcr_share_ci"][0] <= 0.6 <= copying["dcr_share_ci"][1]
    assert copying["dcr_share_ci"][0] > 0.53 and copying["passes"] is False


def test_the_interval_covers_the_expected_share_over_many_splits() -> None:
    from mirage.io import read_table

    insurance = read_table(shared_csv("insurance.csv"))
    covered = {0.0: 0, 0.2: 0}
    for seed in range(12):
        train, holdout, fresh = population_parts(insurance, 0.8, seed)
        schema = infer_schema(train)
        for fraction in covered:
            synthetic = with_copies(train, fresh, fraction, seed)
            result = dcr(train, holdout, synthetic, schema, seed=seed, return_distances=False)
            low, high = result["dcr_share_ci"]
            covered[fraction] += low <= 0.5 + fraction / 2 <= high
    assert covered[0.0] >= 10 and covered[0.2] >= 10


def test_identifiers_and_pii_are_left_out(parts: Parts) -> None:
    train, holdout, _, _ = parts
    with_ids = train.assign(customer_id=[f"C-{i:06d}" for i in range(len(train))])
    synthetic = with_ids.assign(customer_id=[f"C-{i:06d}" for i in range(5000, 5000 + len(train))])
    holdout_ids = holdout.assign(customer_id=[f"C-{i:06d}" for i in range(9000, 9000 + len(holdout))])
    result = dcr(with_ids, holdout_ids, synthetic, return_distances=False)
    assert "customer_id" not in result["encoding"]["columns"]
    assert result["exact_copy_rate"] == 1.0 and result["dcr_share"] > 0.99


def test_synthetic_rows_are_subsampled_first_then_real_rows_at_one_rate() -> None:
    assert not plan_dcr(26_000, 26_000, 6_500).subsampled  # Adult at 80/20 is searched exactly
    plan = plan_dcr(36_000, 36_000, 9_000)  # 45,000 real rows: 22,222 synthetic rows fill 1e9 pairs
    assert plan.n_query_used == 22_222 and not plan.reference_subsampled
    huge = plan_dcr(1_000_000, 800_000, 200_000)
    assert huge.n_query_used == 9_604  # the floor: a 0.01 half-width on the training-neighbour rate
    assert huge.n_train_used == 83_298 and huge.n_holdout_used == 20_824
    assert huge.n_query_used * (huge.n_train_used + huge.n_holdout_used) <= 1e9
    with pytest.raises(OptionError, match="half_width"):
        plan_dcr(10, 10, 10, half_width=0.7)


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
    # half copies of training rows, half fresh rows: a share near 0.75
    synthetic = pd.concat(
        [train.sample(3000, replace=True, random_state=4), population(3000)], ignore_index=True
    )
    exact = dcr(train, holdout, synthetic, return_distances=False)
    sub = dcr(train, holdout, synthetic, max_pairs=5e6, half_width=0.03, return_distances=False)
    assert not exact["plan"]["subsampled"] and exact["share_error_bound"] == 0.0
    assert sub["plan"]["n_query_used"] == 1666 and not sub["plan"]["reference_subsampled"]
    assert sub["share_error_bound"] == pytest.approx(1.96 * 0.5 / math.sqrt(1666), abs=1e-3)
    assert 0.7 < exact["dcr_share"] < 0.8
    assert abs(sub["dcr_share"] - exact["dcr_share"]) <= sub["share_error_bound"]
    # the copy rate is always computed on every synthetic row
    assert sub["exact_copy_rate"] == exact["exact_copy_rate"]


def test_identical_rows_are_found_in_the_full_sets_when_real_rows_are_subsampled() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.random(800), "c": rng.choice(list("ab"), 800)})
    result = dcr(frame.iloc[:400], frame.iloc[400:], frame.iloc[:400], max_pairs=20_000, half_width=0.1)
    plan = result["plan"]
    assert plan["reference_subsampled"] is True and plan["n_query_used"] == 97
    assert plan["n_train_used"] == plan["n_holdout_used"] == 103
    assert result["dcr_share"] == 1.0


def test_missing_column_is_a_clear_error(parts: Parts) -> None:
    train, holdout, fresh, schema = parts
    with pytest.raises(SchemaError, match="synthetic"):
        dcr(train, holdout, fresh.drop(columns=["age"]), schema)
