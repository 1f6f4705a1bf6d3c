"""The shape of a children-per-parent distribution: learned without any one parent's count, and laid
over the drawn counts by rank, so the model decides who has many children and the shape how many."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.relational._cardinality import cardinality_similarity, count_shape, shape_counts
from tests.relational.schemas import northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_the_shape_holds_means_of_runs_of_at_least_min_count_parents() -> None:
    counts = np.array([0, 0, 1, 2, 3, 5, 8, 13, 21, 34] * 3 + [90])  # 31 parents, one far out
    knots = count_shape(counts, 10)
    assert len(knots) == 3
    ordered = np.sort(counts)
    assert [m for _, m in knots] == pytest.approx(
        [ordered[:11].mean(), ordered[11:21].mean(), ordered[21:].mean()]
    )
    assert 90 not in [m for _, m in knots]  # the far-out parent's count is nowhere in the model
    assert count_shape(counts[:15], 10) == []  # one run: no shape, the drawn counts stay


def test_shaped_counts_keep_the_drawn_ranks_and_take_the_learned_spread() -> None:
    rng = np.random.default_rng(0)
    real = rng.poisson(8, 500)
    knots = count_shape(real, 10)
    drawn = np.clip(rng.poisson(8, 400), 4, 12)  # folded tails, as value protection draws them
    shaped = shape_counts(drawn, knots, np.random.default_rng(1))
    assert shaped.dtype == np.int64 and shaped.min() >= 0
    levels = np.unique(drawn)  # a parent drawn more children never gets fewer (up to the rounding)
    for low, high in itertools.pairwise(levels):
        assert shaped[drawn == low].max() <= shaped[drawn == high].min() + 1
    assert shaped.min() < 4 and shaped.max() > 12
    assert abs(shaped.mean() - real.mean()) < 0.5
    again = shape_counts(drawn, knots, np.random.default_rng(1))
    assert np.array_equal(shaped, again)  # same generator, same counts
    assert np.array_equal(shape_counts(drawn, [], np.random.default_rng(1)), drawn)


def test_northwind_children_per_parent_reach_0_93_with_the_default_protection() -> None:
    """Over three seeds: orders per customer 0.896 and lines per product 0.73 before the shape."""
    frames = northwind_frames()
    database = northwind_database(frames)
    model = RelationalSynthesizer(database, seed=0).fit(frames)
    samples = [model.sample(seed=seed) for seed in range(3)]
    assert all(database.integrity_problems(sample) == [] for sample in samples)
    for fk in database.foreign_keys:
        similarity = np.mean([cardinality_similarity(frames, sample, fk) for sample in samples])
        assert similarity >= 0.93, fk.name
