"""A continuous marginal's knots: one per ``min_count`` rows at most."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mirage.encoding import SubColumn
from mirage.encoding.marginal import Marginal, held_out_knot_count, knot_count


def test_knots_are_one_per_min_count_rows_within_the_bounds() -> None:
    assert knot_count(1_070, 10, 1_000) == 107
    assert knot_count(100_000, 10, 1_000) == 1_000
    assert knot_count(15, 10, 1_000) == 2
    assert knot_count(500, 1, 1_000) == 500  # no rare-value rule: a knot per row, as before


def test_a_capped_marginal_keeps_the_ends_and_spans_the_middle_evenly() -> None:
    x = np.random.default_rng(0).lognormal(8.0, 1.0, 1_000)
    sub = SubColumn("x::value", "x", "value", discrete=False)
    marginal = Marginal.fit(sub, x, knot_count(x.size, 10, 1_000), 10)
    assert marginal.table.size == 100
    ordered = np.sort(x)
    assert marginal.table[0] == ordered[9] and marginal.table[-1] == ordered[-10]  # 10th from each end
    np.testing.assert_allclose(marginal.inverse(np.array([0.5])), np.median(x), rtol=0.05)


def test_the_rows_past_the_end_knots_keep_their_share_and_are_saved() -> None:
    x = np.random.default_rng(1).normal(50.0, 10.0, 2_000)
    sub = SubColumn("x::value", "x", "value", discrete=False)
    marginal = Marginal.fit(sub, x, knot_count(x.size, 10, 1_000), 10)
    u = np.random.default_rng(2).random(100_000)
    drawn = marginal.inverse(u)
    assert np.mean(drawn > marginal.table[-1]) == pytest.approx(9 / 2_000, rel=0.1)  # was none
    assert np.mean(drawn < marginal.table[0]) == pytest.approx(9 / 2_000, rel=0.1)
    again = Marginal.from_arrays(sub, marginal.arrays("m"), "m")
    np.testing.assert_array_equal(again.inverse(u), drawn)
    # the probability of a value is where the inverse puts it
    np.testing.assert_allclose(marginal.probability(np.ones(1), drawn[u > 0.999]), u[u > 0.999], atol=1e-9)


def test_without_protection_there_are_no_tails() -> None:
    x = np.random.default_rng(1).normal(size=500)
    sub = SubColumn("x::value", "x", "value", discrete=False)
    assert not Marginal.fit(sub, x, 50, 1).tails.any


def test_held_out_rows_ask_for_fewer_knots_than_one_per_ten_rows_on_a_smooth_column() -> None:
    # a knot per 10 rows follows clumps of 10 rows that unseen rows do not share
    x = np.random.default_rng(2).normal(40_000.0, 8_000.0, 860)
    chosen = held_out_knot_count(x, 10, 1_000, seed=0)
    assert 4 <= chosen <= 40 < knot_count(x.size, 10, 1_000)
    assert chosen == held_out_knot_count(x, 10, 1_000, seed=0)


def test_held_out_rows_keep_the_knots_that_a_narrow_mode_needs() -> None:
    rng = np.random.default_rng(3)
    smooth = rng.normal(0.0, 1.0, 4_000)
    narrow = np.concatenate([rng.normal(0.0, 1.0, 3_000), rng.normal(5.0, 0.02, 1_000)])
    assert held_out_knot_count(narrow, 10, 1_000, 0) > held_out_knot_count(smooth, 10, 1_000, 0)


def test_spikes_of_tied_values_count_as_masses_not_infinite_densities() -> None:
    rng = np.random.default_rng(4)
    ages = np.round(rng.normal(40.0, 8.0, 2_000))  # ~50 integers of ~40 rows each
    smooth = rng.normal(40.0, 8.0, 2_000)
    chosen = held_out_knot_count(ages, 10, 1_000, 0)
    assert held_out_knot_count(smooth, 10, 1_000, 0) < chosen <= knot_count(ages.size, 10, 1_000)


def test_too_few_rows_to_hold_any_out_keep_one_knot_per_min_count_rows() -> None:
    x = np.random.default_rng(5).normal(size=40)
    assert held_out_knot_count(x, 10, 1_000, 0) == knot_count(40, 10, 1_000)
    assert held_out_knot_count(np.ones(500), 10, 1_000, 0) == knot_count(500, 10, 1_000)


def test_values_near_the_float_limits_choose_a_count_without_overflowing() -> None:
    x = np.r_[np.random.default_rng(6).normal(size=500), 1e308, -1e308]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert 4 <= held_out_knot_count(x, 10, 1_000, 0) <= knot_count(x.size, 10, 1_000)
