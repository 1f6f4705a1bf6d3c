"""One sub-column's marginal: the quantile transform to and from the unit interval.

Shared by every engine that needs a uniform or normal view of a sub-column (copula) or a smoothed
draw from a marginal (the first column of the tree engine).  Continuous marginals keep a fixed number
of quantile knots, never the training values, and invert by linear interpolation between them, with
the rows past the end knots drawn from a smooth tail (:mod:`mirage.encoding._tails`); discrete
marginals keep cumulative code frequencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from mirage._validate import StateError, require_array
from mirage.encoding._base import SubColumn
from mirage.encoding._tails import Tails

__all__ = ["Marginal", "held_out_knot_count", "knot_count", "normal_scores"]


def knot_count(rows: int, min_count: int, most: int) -> int:
    """Knots for a continuous quantile map of ``rows`` values: one per ``min_count`` rows, ``most`` at
    most, two at least.  With a knot at (nearly) every training value, interpolating between neighbouring
    knots gives a density inversely proportional to the gap between two training values, so draws crowd
    where training values happen to lie close together, nearer to them than unseen rows are.  Counted
    from the rows, so a fit from merged per-partition counts (``mirage.scale``) keeps as many."""
    return max(2, min(most, rows // max(1, min_count)))


KNOT_FOLDS = 5  # folds of the cross-validated choice of a marginal's knot count
FEWEST_KNOTS = 4  # the coarsest marginal the cross-validated choice considers


def held_out_knot_count(x: np.ndarray, min_count: int, most: int, seed: int) -> int:
    """The knot count, at most :func:`knot_count`'s, whose quantile map learned from four fifths of the
    values gives the fifth held out the highest log-likelihood, summed over five folds.

    A map of ``k`` knots is a histogram of ``k - 1`` bins of equal mass: many narrow bins follow the
    clumps of the rows they were read on, which unseen rows do not share (draws then sit nearer the
    training rows than unseen ones do), few wide ones blur what unseen rows do share; held-out rows
    weigh the two.  A value's likelihood is the map's mass within half the column's resolution (its
    smallest gap between two values) either side, so spikes of tied values (an integer column, a
    common amount) count as masses, not infinite densities.  Candidates step down from the most by
    sqrt(2); the count found on four fifths of the rows is scaled to all of them by the cube root of
    the row ratio (a histogram's best bin count grows so).
    """
    n = x.size
    most_here = knot_count(n, min_count, most)
    training = n - n // KNOT_FOLDS
    top = knot_count(training, min_count, most)
    values = np.unique(x)
    if n < KNOT_FOLDS * max(2, 3 * min_count) or values.size < 3 or top <= FEWEST_KNOTS:
        return most_here
    # halves: the span of values near +-1.7e308 overflows
    resolution = max(float(np.min(np.diff(values))), (float(values[-1]) / 2 - float(values[0]) / 2) * 2e-9)
    candidates = sorted({max(FEWEST_KNOTS, round(top / 2 ** (j / 2))) for j in range(40)}, reverse=True)
    folds = np.random.default_rng(seed).permutation(n) % KNOT_FOLDS
    scores = np.zeros(len(candidates))
    for fold in range(KNOT_FOLDS):
        learned, held = np.sort(x[folds != fold]), x[folds == fold]
        for c, k in enumerate(candidates):
            scores[c] += _held_out_log_likelihood(learned, held, k, min_count, resolution)
    best = candidates[int(np.argmax(scores))]
    return max(2, min(most_here, round(best * (n / training) ** (1.0 / 3.0))))


def _held_out_log_likelihood(
    learned: np.ndarray, held: np.ndarray, n_knots: int, min_count: int, resolution: float
) -> float:
    """The log-likelihood of the ``held`` values within the end knots of the quantile map of ``n_knots``
    knots read on ``learned`` (sorted), each value's likelihood its mass within ``resolution / 2``
    either side.  Values past the end knots are left out: every candidate has the same end knots and
    tails."""
    probs, knots = _quantile_knots(learned, n_knots, max(1, min_count))
    inside = held[(held >= knots[0]) & (held <= knots[-1])]
    if inside.size == 0:
        return 0.0
    mass = _knot_cdf(knots, probs, inside + resolution / 2) - _knot_cdf(knots, probs, inside - resolution / 2)
    return float(np.sum(np.log(np.maximum(mass, 1e-12))))


def _knot_cdf(knots: np.ndarray, probs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The right-continuous distribution function of linear interpolation between ``knots`` at
    ``probs``: tied knots are a jump (a spike of tied values), flat below the first and past the last."""
    j = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, knots.size - 2)
    width = knots[j + 1] - knots[j]
    step = np.where(width > 0, (x - knots[j]) / np.where(width > 0, width, 1.0), x >= knots[j])
    return probs[j] + np.clip(step, 0.0, 1.0) * (probs[j + 1] - probs[j])


def _quantile_knots(x: np.ndarray, n_knots: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities and values of a continuous quantile map's knots: ``n_knots`` (at most one per
    value) evenly spaced from the ``k``-th smallest value to the ``k``-th largest."""
    n = x.size
    low, high = ((k - 1) / (n - 1), (n - k) / (n - 1)) if k > 1 else (0.0, 1.0)
    probs = np.linspace(low, high, min(n_knots, max(2, n)))
    return probs, np.quantile(x, probs)


def normal_scores(x: np.ndarray, discrete: bool) -> np.ndarray:
    """Each value's normal score: the mean of the standard normal over the value's probability interval.

    Tied values (every code of a discrete sub-column, spikes of a continuous one) share one score, so
    two flags that always agree (say, two columns missing together) get a correlation of one.
    """
    n = x.size
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts) / n
    lower = upper - counts / n
    a, b = ndtri(np.clip(lower, 0.0, 1.0)), ndtri(np.clip(upper, 0.0, 1.0))
    mass = np.maximum(upper - lower, 1e-300)
    interval_mean = (_pdf(a) - _pdf(b)) / mass
    if not discrete:
        interval_mean = np.where(counts == 1, ndtri((lower + upper) / 2.0), interval_mean)
    return interval_mean[inverse]


def _pdf(z: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(z), np.exp(-0.5 * np.square(z)) / np.sqrt(2.0 * np.pi), 0.0)


@dataclass
class Marginal:
    discrete: bool
    table: np.ndarray  # knots (continuous) or cumulative code probabilities (discrete)
    tails: Tails = field(default_factory=Tails)  # continuous: the rows past the end knots

    @classmethod
    def fit(cls, sub: SubColumn, x: np.ndarray, n_knots: int, min_count: int = 1) -> Marginal:
        """``min_count``: the end knots are the ``min_count``-th smallest and largest values, so that no
        value held by fewer rows (a rare extreme) is emitted (value protection, see
        :mod:`mirage.engines._protect`); the rows past them are drawn from a smooth model of the tails
        (:mod:`mirage.encoding._tails`), with their share.
        """
        if sub.discrete:
            counts = np.bincount(x.astype("int64"), minlength=max(1, sub.cardinality)).astype("float64")
            return cls(True, np.cumsum(counts) / counts.sum())
        n, k = x.size, max(1, min_count)
        if k > 1 and n < 3 * k:
            return cls(False, np.array([float(np.mean(x))]) if n else np.zeros(1))
        _, knots = _quantile_knots(x, n_knots, k)
        tails = Tails.fit(x, float(knots[0]), float(knots[-1])) if k > 1 else Tails()
        return cls(False, knots, tails)

    @classmethod
    def from_arrays(cls, sub: SubColumn, arrays: Mapping[str, np.ndarray], key: str) -> Marginal:
        """The marginal of ``sub`` saved as ``arrays[key]``, checked: a saved table is untrusted."""
        size = max(1, sub.cardinality) if sub.discrete else None
        table = require_array(arrays, key, kind="f", shape=(size,))
        if table.size == 0 or np.any(np.diff(table) < 0):
            raise StateError(key, "expected a non-empty, non-decreasing table", array=True)
        if sub.discrete and (table[0] < 0 or abs(table[-1] - 1.0) > 1e-6):
            raise StateError(key, "expected cumulative probabilities from >= 0 up to 1", array=True)
        tails = Tails() if sub.discrete else Tails.from_arrays(arrays, f"{key}.tails")
        return cls(sub.discrete, table, tails)

    def arrays(self, key: str) -> dict[str, np.ndarray]:
        """The arrays :meth:`from_arrays` reads back as ``key``."""
        return {key: self.table, **({f"{key}.tails": self.tails.to_array()} if self.tails.any else {})}

    def reach(self) -> tuple[float, float]:
        """The least and the greatest value a continuous marginal draws: its end knots, or its tails'
        caps past them."""
        low, high = float(self.table[0]), float(self.table[-1])
        tails = self.tails
        return (
            low - tails.low.cut if tails.low.share > 0 else low,
            high + tails.high.cut if tails.high.share > 0 else high,
        )

    def probability(self, inner: np.ndarray, x: np.ndarray) -> np.ndarray:
        """A continuous marginal's probability of values up to ``x``, ``inner`` the probability on the
        knots' grid (0 below the first knot, 1 past the last): the tails' shares around it."""
        if not self.tails.any:
            return np.asarray(inner, dtype="float64")
        return self.tails.probability(inner, x, float(self.table[0]), float(self.table[-1]))

    def inverse(self, u: np.ndarray) -> np.ndarray:
        """Values (float) or codes (int64) at probabilities ``u``."""
        if self.discrete:
            codes = np.searchsorted(self.table, u, side="right")
            return np.minimum(codes, self.table.size - 1).astype("int64")
        if self.tails.any:
            u = np.asarray(u, dtype="float64")
            inside = self.knot_inverse(self.tails.inner(u))
            return self.tails.place(u, inside, float(self.table[0]), float(self.table[-1]))
        return self.knot_inverse(u)

    def knot_inverse(self, u: np.ndarray) -> np.ndarray:
        """A continuous marginal's values at probabilities ``u`` on the knots' grid (no tails)."""
        # The knots sit on an even probability grid, so interpolation is direct indexing.
        position = np.clip(u, 0.0, 1.0) * (self.table.size - 1)
        lower = np.minimum(position.astype("int64"), self.table.size - 2) if self.table.size > 1 else 0
        if self.table.size == 1:
            return np.full(u.shape, self.table[0])
        fraction = position - lower
        return self.table[lower] + fraction * (self.table[lower + 1] - self.table[lower])
