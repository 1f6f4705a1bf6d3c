"""Tails past value protection's bounds: their share, a robust scale, draws within a capped reach."""

from __future__ import annotations

import numpy as np
import pytest

from mirage.encoding._tails import MIN_PAST, REACH, Tail, Tails
from mirage.errors import ModelFileError


def test_the_scale_of_exponential_excesses_is_found() -> None:
    excess = np.random.default_rng(0).exponential(5.0, 2_000)
    assert Tail.fit(excess, 100_000).scale == pytest.approx(5.0, rel=0.1)
    assert Tail.fit(excess, 100_000).share == pytest.approx(0.02)


def test_a_lone_far_outlier_does_not_move_the_scale() -> None:
    excess = np.array([1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 9.0])
    far = excess.copy()
    far[-1] = 90.0  # ten times the others
    assert Tail.fit(far, 1_000).scale == Tail.fit(excess, 1_000).scale
    assert Tail.fit(far, 1_000).cut < 30.0


def test_too_few_values_past_a_bound_make_no_tail() -> None:
    assert Tail.fit(np.array([3.0] * (MIN_PAST - 1)), 100) == Tail()
    assert not Tails.fit(np.arange(100.0), 0.0, 99.0).any


def test_the_cut_is_the_nearer_of_the_models_reach_and_the_extreme() -> None:
    near = Tail.fit(np.array([1.0, 1.0, 2.0, 2.0, 3.0]), 100)  # the largest excess, 3, within 4 scales
    assert near.cut == 3.0 and near.excess(np.ones(1))[0] == pytest.approx(3.0)
    far = Tail.fit(np.array([1.0, 1.0, 2.0, 2.0, 300.0]), 100)
    assert far.cut == REACH * far.scale < 300.0


def test_draws_keep_the_share_past_each_bound_within_the_reach() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, 5_000)
    low, high = np.sort(x)[[9, -10]]
    tails = Tails.fit(x, float(low), float(high))
    assert tails.low.share == tails.high.share == pytest.approx(9 / 5_000)
    u = rng.random(200_000)
    values = tails.place(u, np.zeros(u.size), float(low), float(high))
    assert np.mean(values > high) == pytest.approx(9 / 5_000, rel=0.1)
    assert values.max() <= high + tails.high.cut and values.min() >= low - tails.low.cut
    assert not np.isin(values, np.sort(x)[-9:]).any()


def test_probability_inverts_place() -> None:
    tails = Tails(Tail(0.01, 2.0, 8.0), Tail(0.02, 3.0, 12.0))
    u = np.array([0.001, 0.009, 0.5, 0.985, 0.999])
    inner = tails.inner(u)
    x = tails.place(u, inner, 0.0, 1.0)  # the knots' values: the inner probability itself on [0, 1]
    np.testing.assert_allclose(tails.probability(np.clip(x, 0.0, 1.0), x, 0.0, 1.0), u)
    assert x[-1] - 1.0 < REACH * 3.0


def test_saved_tails_are_checked() -> None:
    tails = Tails(Tail(0.01, 2.0, 8.0), Tail(0.02, 3.0, 12.0))
    assert Tails.from_arrays({"t": tails.to_array()}, "t") == tails
    assert Tails.from_arrays({}, "t") == Tails()  # files before tails
    halves = np.array([0.6, 1.0, 4.0, 0.6, 1.0, 4.0])
    with pytest.raises(ModelFileError, match="t"):
        Tails.from_arrays({"t": halves}, "t")
    assert Tails.from_arrays({"t": halves}, "t", of_whole=False).low.share == 0.6
    with pytest.raises(ModelFileError, match="t"):
        Tails.from_arrays({"t": np.array([0.1, 1.0, 0.0, 0.0, 0.0, 0.0])}, "t")  # a share without a cut
