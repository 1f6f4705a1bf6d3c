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
