"""The mixed-type row encoding, the chunked nearest-neighbour search and the subsampling plan."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from mirage.errors import OptionError, SchemaError
from mirage.evaluation._distance import (
    MixedEncoder,
    nearest_distances,
    row_keys,
    rows_within,
)
from mirage.schema import Column, Kind, Schema, infer_schema


def brute_force(query: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    full = cdist(query, reference)
    idx = np.argsort(full, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(full, idx, axis=1), idx


@pytest.mark.parametrize(
    ("n_query", "n_reference", "width", "k"), [(300, 1000, 5, 2), (97, 70, 3, 3), (50, 2000, 40, 1)]
)
def test_chunked_search_equals_brute_force(n_query: int, n_reference: int, width: int, k: int) -> None:
    rng = np.random.default_rng(n_query)
    query, reference = rng.random((n_query, width)), rng.random((n_reference, width))
    expected_d, expected_i = brute_force(query, reference, k)
    # a tiny memory budget forces many reference blocks per query block
    distances, indices = nearest_distances(query, reference, k=k, memory_bytes=1)
    np.testing.assert_allclose(distances, expected_d, atol=1e-12)
    np.testing.assert_array_equal(indices, expected_i)
    assert distances.shape == indices.shape == (n_query, k)


def test_exact_copies_come_back_first_at_distance_zero() -> None:
    rng = np.random.default_rng(1)
    reference = rng.random((500, 4))
    query = np.vstack([reference[[10, 20, 30]], rng.random((5, 4))])
    reference[400] = reference[20]  # row 20 has two copies
    distances, indices = nearest_distances(query, reference, k=2)
    assert distances[0, 0] == 0.0 and indices[0, 0] == 10
    assert distances[1].tolist() == [0.0, 0.0] and sorted(indices[1].tolist()) == [20, 400]
    assert distances[2, 0] == 0.0 and distances[2, 1] > 0.0
    assert (distances[3:, 0] > 0).all()


def test_rows_within_a_radius_equal_brute_force_with_repeated_rows() -> None:
    rng = np.random.default_rng(4)
    reference = rng.integers(0, 4, (600, 3)).astype(np.float64)  # about 10 copies of each row
    query = rng.integers(0, 4, (80, 3)) + rng.normal(0.0, 0.05, (80, 3))
    radius = np.sort(cdist(query, reference), axis=1)[:, 15] + 1e-12
    # a tiny memory budget forces one query row per block
    matches = rows_within(query, reference, radius, memory_bytes=1)
    within = cdist(query, reference) <= radius[:, None]
    np.testing.assert_array_equal(matches.counts(len(query)), within.sum(axis=1))
    weights = rng.random(len(query))
    np.testing.assert_allclose(matches.row_mass(weights), weights @ within)
    assert len(matches.group_size) < len(reference)  # identical rows are searched once


def test_fewer_reference_rows_than_k_are_padded() -> None:
    distances, indices = nearest_distances(np.zeros((3, 2)), np.ones((1, 2)), k=3)
    np.testing.assert_allclose(distances[:, 0], math.sqrt(2.0))
    assert np.isinf(distances[:, 1:]).all() and (indices[:, 1:] == -1).all()
    with pytest.raises(OptionError):
        nearest_distances(np.zeros((3, 2)), np.ones((4, 3)))


def test_memory_stays_bounded() -> None:
    rng = np.random.default_rng(2)
    query, reference = rng.random((600, 4)), rng.random((20_000, 4))
    tracemalloc.start()
    nearest_distances(query, reference, k=2, memory_bytes=2**20)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full_matrix = 600 * 20_000 * 8
    assert peak < full_matrix / 4, peak


@pytest.fixture
def mixed() -> tuple[pd.DataFrame, Schema]:
    frame = pd.DataFrame(
        {
            "age": [20.0, 30.0, 40.0, 50.0, np.nan],
            "city": ["a", "b", "a", None, "c"],
            "flag": [True, False, True, True, False],
            "day": ["2020-01-01", "2020-06-01", "2021-01-01", "2022-01-01", "2023-01-01"],
            "email": ["x@y.org"] * 5,
        }
    )
    schema = Schema(
        columns=[
            Column("age", Kind.NUMERIC, dtype="float64", nullable=True),
            Column("city", Kind.CATEGORICAL, nullable=True),
            Column("flag", Kind.BOOLEAN, dtype="bool"),
            Column("day", Kind.DATETIME, datetime_format="%Y-%m-%d"),
            Column("email", Kind.PII, pii_type="email"),
        ]
    )
    return frame, schema


def test_encoder_scales_each_kind(mixed: tuple[pd.DataFrame, Schema]) -> None:
    frame, schema = mixed
    encoder = MixedEncoder(schema).fit(frame)
    assert [c.name for c in encoder.columns] == ["age", "city", "flag", "day"]  # PII is not learned
    x = encoder.transform(frame)
    age = x[:, encoder.features(["age"])]
    np.testing.assert_allclose(age[:4, 0], [0.0, 1 / 3, 2 / 3, 1.0])  # rank scale, min 0, max 1
    np.testing.assert_allclose(age[4], [0.5, 1.0])  # missing: value 0.5 and the indicator
    city = x[:, encoder.features(["city"])]
    # a category mismatch costs exactly 1 in squared distance, missing is a category of its own
    assert np.sum((city[0] - city[1]) ** 2) == pytest.approx(1.0)
    assert np.sum((city[0] - city[3]) ** 2) == pytest.approx(1.0)
    assert np.sum((city[0] - city[2]) ** 2) == 0.0
    day = x[:, encoder.features(["day"])][:, 0]
    np.testing.assert_allclose(day, [0.0, 0.25, 0.5, 0.75, 1.0])
    unseen = encoder.transform(frame.assign(city="zzz", age=1000.0))
    assert np.sum((unseen[0, encoder.features(["city"])] - city[0]) ** 2) == pytest.approx(1.0)
    assert unseen[0, encoder.features(["age"])][0] == 1.0  # clipped to the training range


def test_encoder_ranks_are_robust_to_outliers() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 1e9]})
    encoder = MixedEncoder(infer_schema(frame)).fit(frame)
    np.testing.assert_allclose(encoder.transform(frame)[:, 0], [0.0, 0.25, 0.5, 0.75, 1.0])
    assert encoder.describe()["numeric_scaling"].startswith("quantile rank")
    with pytest.raises(SchemaError):
        encoder.features(["nope"])


def test_row_keys_compare_values_as_canonical_strings() -> None:
    columns = [Column("n", Kind.NUMERIC), Column("c", Kind.CATEGORICAL)]
    a = pd.DataFrame({"n": [39, 40], "c": ["x", None]})
    b = pd.DataFrame({"n": [39.0, 40.0], "c": ["x", np.nan]})
    assert (row_keys(a, columns) == row_keys(b, columns)).all()
    assert row_keys(a, columns)[0] != row_keys(a, columns)[1]
