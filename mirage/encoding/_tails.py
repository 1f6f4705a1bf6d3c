"""Tails past value protection's bounds: how many rows lie past each bound, and how far.

Value protection (:mod:`mirage.engines._protect`) emits no value held by fewer than ``k`` rows, so a
model keeps nothing past the ``k``-th smallest and largest values.  Folding every draw back inside
dropped the tails with the extremes: insurance charges above their 99th percentile (1% of the rows)
came back at 0.06% at most, no titanic passenger older than 63 against 80.

Used by the quantile marginals (copula, gmm, kde, cart's first column), cart's leaf draws, the
discretiser's end sub-bins (argn, bayesnet) and the mode normaliser (gan, vae: a value the generator
puts past a bound is drawn from that side's tail).  A :class:`Tail` keeps one side without the real
values: the share of the rows past the bound, and a
smooth model of the excess over the bound, an exponential whose scale is fitted to the smaller half of
the excesses (so that a lone far outlier, even ten times the others, does not move it), truncated at
``REACH`` scales, or at the column's extreme where that is nearer (``cut``).  The cap comes from the
model, so a lone far outlier is not approached (it lies many scales out); the extreme only stops the
draws short of the column's range, which the codecs keep anyway (their decoders fold a value past it
back inside, just under the extreme, and store it: no new disclosure).  Draws are continuous, so no
real value comes back exactly; rounding is the codec's.  Fewer than ``MIN_PAST`` values past a bound
describe no tail: those draws stay inside, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mirage._validate import StateError, require_array

__all__ = ["MIN_PAST", "REACH", "Tail", "Tails"]

REACH = 4.0  # the excess is truncated at this many scales: exp(-4), 1.8% of an exponential, is cut off
MIN_PAST = 3


@dataclass(frozen=True)
class Tail:
    """One side: ``share`` of the rows lie past the bound, their excess exponential with ``scale``,
    truncated at ``cut``."""

    share: float = 0.0
    scale: float = 0.0
    cut: float = 0.0

    @classmethod
    def fit(cls, excess: np.ndarray, rows: int) -> Tail:
        """From the positive ``excess`` of the values past the bound, out of ``rows`` values in all."""
        e = np.sort(excess[np.isfinite(excess) & (excess > 0)])
        if e.size < MIN_PAST or rows <= 0:
            return cls()
        scale = _robust_scale(e)
        return cls(float(e.size / rows), scale, float(min(REACH * scale, e[-1])))

    def _kept(self) -> float:
        """The exponential's probability up to the cut."""
        return float(-np.expm1(-self.cut / self.scale))

    def excess(self, s: np.ndarray) -> np.ndarray:
        """The excess at probability ``s`` in [0, 1] of the truncated exponential (``s = 1``: the cut)."""
        excess = -self.scale * np.log1p(-np.clip(s, 0.0, 1.0) * self._kept())
        return np.asarray(np.minimum(excess, self.cut), dtype="float64")

    def probability(self, excess: np.ndarray) -> np.ndarray:
        """The probability of an excess up to ``excess`` (the inverse of :meth:`excess`)."""
        if not self.scale > 0:
            return np.ones(np.shape(excess))
        below = -np.expm1(-np.maximum(excess, 0.0) / self.scale)
        return np.asarray(np.clip(below / self._kept(), 0.0, 1.0))


def _robust_scale(e: np.ndarray) -> float:
    """An exponential's scale from the sorted excesses ``e``: least squares of the smaller half of the
    order statistics on their expectations per unit scale (``sum 1/(m - j)``, ``j < i``).  The larger
    half, where a lone far outlier sits, is left out; several order statistics, not one, so the scale is
    no training value's excess."""
    m = e.size
    expected = np.cumsum(1.0 / np.arange(m, 0, -1, dtype="float64"))
    half = (m + 1) // 2
    a = expected[:half]
    return float(np.dot(a, e[:half]) / np.dot(a, a))


@dataclass(frozen=True)
class Tails:
    """Both sides of a column past its protected bounds."""

    low: Tail = Tail()
    high: Tail = Tail()

    @classmethod
    def fit(cls, x: np.ndarray, low: float, high: float, rows: int | None = None) -> Tails:
        """The tails of the finite values of ``x`` below ``low`` and above ``high``, out of ``rows``
        values (default: those of ``x``; more where ``x`` holds the extremes only)."""
        x = x[np.isfinite(x)]
        rows = x.size if rows is None else rows
        return cls(Tail.fit(low - x[x < low], rows), Tail.fit(x[x > high] - high, rows))

    @property
    def any(self) -> bool:
        return self.low.share > 0 or self.high.share > 0

    def to_array(self) -> np.ndarray:
        low, high = self.low, self.high
        return np.array([low.share, low.scale, low.cut, high.share, high.scale, high.cut])

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], key: str, *, of_whole: bool = True) -> Tails:
        """The tails saved as ``arrays[key]`` (none where a file from before tails has no such array).
        ``of_whole``: the shares are of one column's rows, so together under 1; else each is under 1."""
        if key not in arrays:
            return cls()
        a = require_array(arrays, key, kind="f", shape=(6,))
        shares, scales, cuts = a[[0, 3]], a[[1, 4]], a[[2, 5]]
        total = shares.sum() if of_whole else shares.max()
        positive = (scales > 0) & (cuts > 0)
        if np.any(shares < 0) or total >= 1 or np.any(scales < 0) or np.any((shares > 0) & ~positive):
            raise StateError(
                key, "expected [share, scale, cut] of the low side, then of the high: shares >= 0 and under "
                f"1 {'together' if of_whole else 'each'}, a positive scale and cut wherever a share is",
                array=True,
            )  # fmt: skip
        return cls(Tail(*(float(v) for v in a[:3])), Tail(*(float(v) for v in a[3:])))

    # --- a quantile function with tails: the inner probability grid spans the bounds ------------------
    def inner(self, u: np.ndarray) -> np.ndarray:
        """The probability between the bounds that ``u`` (over the whole column) falls at."""
        middle = 1.0 - self.low.share - self.high.share
        return np.asarray(np.clip((u - self.low.share) / middle, 0.0, 1.0))

    def outer(self, inner: np.ndarray) -> np.ndarray:
        """The probability over the whole column of ``inner`` (between the bounds): :meth:`inner` undone."""
        return np.asarray(self.low.share + np.asarray(inner) * (1.0 - self.low.share - self.high.share))

    def place(self, u: np.ndarray, values: np.ndarray, low: float, high: float) -> np.ndarray:
        """``values`` (at ``inner(u)`` between the bounds) with the rows whose ``u`` falls in a tail
        moved past its bound, ``u`` read within the tail's share."""
        out = np.asarray(values, dtype="float64").copy()
        if self.low.share > 0:
            rows = u < self.low.share
            out[rows] = low - self.low.excess((self.low.share - u[rows]) / self.low.share)
        if self.high.share > 0:
            start = 1.0 - self.high.share
            rows = u > start
            out[rows] = high + self.high.excess((u[rows] - start) / self.high.share)
        return out

    def probability(self, inner: np.ndarray, x: np.ndarray, low: float, high: float) -> np.ndarray:
        """The probability over the whole column of values up to ``x``, ``inner`` theirs between the
        bounds (the inverse of :meth:`place` after :meth:`inner`)."""
        x = np.asarray(x, dtype="float64")
        out = self.outer(inner)
        below, above = x < low, x > high
        out = np.where(below, self.low.share * (1.0 - self.low.probability(low - x)), out)
        return np.asarray(
            np.where(above, 1.0 - self.high.share * (1.0 - self.high.probability(x - high)), out)
        )

    def draw_past(self, values: np.ndarray, low: float, high: float, rng: np.random.Generator) -> np.ndarray:
        """``values`` with each one past a bound replaced by a draw from that side's tail (kept where a
        side has no tail)."""
        out = np.asarray(values, dtype="float64").copy()
        s = rng.random(out.size)
        if self.low.share > 0:
            rows = out < low
            out[rows] = low - self.low.excess(s[rows])
        if self.high.share > 0:
            rows = out > high
            out[rows] = high + self.high.excess(s[rows])
        return out
