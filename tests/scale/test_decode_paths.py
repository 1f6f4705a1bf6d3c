"""The decode's faster paths (sampling throughput) give what the general ones give: a text column's
Arrow categories are found once per learned state (a refit or a loaded state is decoded with its own
categories, never a cached earlier set), and whole numbers snap with floor and ceil alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import TableEncoder
from mirage.encoding._rounding import _snap
from mirage.schema import infer_schema


def _decoded(encoder: TableEncoder, codes: list[int]) -> list[str]:
    parts = {"city::code": np.array(codes, dtype="int64")}
    return list(encoder.decode(parts, len(codes), np.random.default_rng(0))["city"])


def test_a_refit_encoder_decodes_its_new_categories() -> None:
    first = pd.DataFrame({"city": pd.Series(["Oslo"] * 30 + ["Rome"] * 20, dtype="str")})
    encoder = TableEncoder(infer_schema(first)).fit(first)
    assert _decoded(encoder, [0, 1, 0]) == ["Oslo", "Rome", "Oslo"]
    second = pd.DataFrame({"city": pd.Series(["Lima"] * 30 + ["Oslo"] * 20, dtype="str")})
    encoder.fit(second)
    assert _decoded(encoder, [0, 1, 0]) == ["Lima", "Oslo", "Lima"]
    state, arrays = encoder.get_state()
    loaded = TableEncoder.from_state(encoder.schema, state, arrays)
    assert _decoded(loaded, [1, 0]) == ["Oslo", "Lima"]


def _general_snap(x: np.ndarray, step: float, lo: float, hi: float) -> np.ndarray:
    """``_snap`` as written for any step (no coarser grid excluded)."""
    below, above = np.floor(x / step), np.ceil(x / step)
    down, up = np.round(below * step, 0), np.round(above * step, 0)
    down_ok, up_ok = down >= lo, up <= hi
    nearer_down = (x - down) <= (up - x)
    return np.where(down_ok & (nearer_down | ~up_ok), down, np.where(up_ok, up, x))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (-50.0, 50.0),
        (-3.5, 2.25),
        (0.2, 0.8),
        (-50.0, -49.5),
    ],  # whole bounds, broken ones, narrower than a step
)
def test_whole_numbers_snap_as_the_general_rule_does(lo: float, hi: float) -> None:
    rng = np.random.default_rng(5)
    x = np.r_[rng.uniform(lo, hi, 5000), lo, hi, np.floor(lo) + 0.5, -0.0, 0.0, -0.25]
    x = np.clip(x, lo, hi)
    np.testing.assert_array_equal(_snap(x, 1.0, 0.0, lo, hi), _general_snap(x, 1.0, lo, hi))
    with_nan = np.r_[x, np.nan]
    np.testing.assert_array_equal(_snap(with_nan, 1.0, 0.0, lo, hi), _general_snap(with_nan, 1.0, lo, hi))
    signs = np.signbit(_snap(x, 1.0, 0.0, lo, hi)) == np.signbit(_general_snap(x, 1.0, lo, hi))
    assert signs.all()  # -0.0 stays -0.0


def _floor_or_ceiling(x: np.ndarray) -> np.ndarray:
    """The nearer of floor and ceiling, ties down: the whole-number rule the faster path replaces."""
    down, up = np.floor(x), np.ceil(x)
    return np.where(x - down <= up - x, down, up)


def test_whole_numbers_within_whole_bounds_snap_to_the_same_floats_sign_of_zero_included() -> None:
    """``ceil(x - 0.5)`` (from zero up): the nearer of floor and ceiling, ties down, bit for bit (ties,
    tiny values, a float either side of every half, large magnitudes); below zero, the general rule
    (the float just above -0.5 is one ``ceil(x - 0.5)`` would get wrong)."""
    hi = 2.0**51 - 1
    halves = np.arange(0, 12) + 0.5
    edges = [0.0, 5e-324, 1e-300, 0.25, 0.49999999999999994, 1 - 2**-53, 1.0]
    big = [hi, hi - 0.25, 2.0**50 + 0.5, 2.0**50 + 0.75, 123_456_789.5]
    rng = np.random.default_rng(2)
    x = np.r_[
        halves,
        np.nextafter(halves, np.inf),
        np.nextafter(halves, -np.inf),
        edges,
        big,
        rng.uniform(0, 3, 20_000),
        rng.uniform(0, 1e9, 5_000),
    ]
    for lo, values in ((0.0, x), (-(2.0**51) + 1, np.r_[x, -x, -0.0, -0.5, np.nextafter(-0.5, 0.0)])):
        snapped, expected = _snap(values, 1.0, 0.0, lo, hi), _floor_or_ceiling(values)
        np.testing.assert_array_equal(snapped, expected)
        np.testing.assert_array_equal(np.signbit(snapped), np.signbit(expected))
    age = rng.uniform(17, 90, 1000)  # a column's own whole bounds
    np.testing.assert_array_equal(_snap(age, 1.0, 0.0, 17.0, 90.0), _floor_or_ceiling(age))


def _reflected(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``reflect`` as written before values within bounds were found by their minimum and maximum."""
    span = hi - lo
    outside = (x < lo) | (x > hi)
    if not outside.any():
        return x
    t = np.mod(x - lo, 2.0 * span)
    folded = np.clip(lo + np.where(t > span, 2.0 * span - t, t), lo, hi)
    return np.where(outside, folded, x)


@pytest.mark.parametrize(
    "values",
    [[0.5, 1.5, 2.0], [-0.5, 0.5, 3.5], [0.0, 2.0], [np.nan, 1.0], [np.nan, 5.0, 1.0], []],
)
def test_reflect_gives_what_it_gave_inside_outside_and_with_a_nan(values: list[float]) -> None:
    from mirage.encoding._continuous import reflect

    x = np.array(values, dtype="float64")
    np.testing.assert_array_equal(reflect(x, 0.0, 2.0), _reflected(x, 0.0, 2.0))
