"""Encoded sub-columns as a matrix of normal scores and back, for the ``gmm`` and ``kde`` engines.

Each continuous sub-column goes through its :class:`~mirage.encoding.marginal.Marginal` (quantile
knots, at most one per ``rare_min_count`` rows, the ``rare_min_count``-th smallest and largest values
at the ends, so a rare extreme is never given back): a value's score is the normal quantile of its
probability between the knots, and a score maps back through the knots, so a spike (tied knots, say
a zero balance) comes back exact.  A discrete sub-column (a category's code, a missing flag) is
either kept as its codes or scored like the copula scores it, and a score maps back to the code whose
probability interval holds it.

Learning, a tie (a code, a spike) is spread over the central ``SPREAD`` share of its probability
interval (all of it: a narrower band leaves gaps that a mixture fills unevenly, which moves the
rates of codes such as missing flags), at one position per row shared by every column, so that a
mixture sees continuous columns instead of point masses, and two columns whose ties always coincide
(two columns missing together) keep a correlation of one.

Where a column's missing flag says missing, its other sub-columns hold a placeholder: their marginals
learn from the present rows only, and the missing rows' scores are standard normal draws, so that the
placeholder is never learned as a value (the flag decides, on decoding, that the cell is missing).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from mirage.encoding import SubColumn
from mirage.encoding.marginal import Marginal, held_out_knot_count, knot_count
from mirage.engines._base import missing_flags

__all__ = ["ScoreSpace"]

SPREAD = 1.0  # the share of a tie's probability interval its spread scores cover (centred)


@dataclass
class ScoreSpace:
    """The marginals of some sub-columns; ``scored`` says which columns of the matrix are scores."""

    subcolumns: list[SubColumn]
    marginals: list[Marginal]
    discrete_scores: bool  # True: discrete sub-columns are scores too; False: they stay codes
    # True: a value past an end knot scores anywhere in its tail's share (see _tail_blocks), for a model
    # read at the normal's probabilities; False: at the end, as a model read through calibration wants
    tail_blocks: bool = False

    @classmethod
    def fit(
        cls,
        parts: Mapping[str, np.ndarray],
        subcolumns: Sequence[SubColumn],
        *,
        quantiles: int,
        rare_min_count: int,
        discrete_scores: bool,
        tail_blocks: bool = False,
        knots_seed: int | None = None,
        finest: Collection[str] = (),
    ) -> ScoreSpace:
        """``quantiles``: a continuous marginal's most knots, one per ``rare_min_count`` rows at most;
        ``knots_seed``: when given, each continuous marginal's count is chosen on held-out rows under
        that (:func:`~mirage.encoding.marginal.held_out_knot_count`, its folds drawn with this seed),
        except for the sub-columns of the columns named in ``finest``."""
        flags = missing_flags(list(subcolumns))
        marginals = []
        for j, s in enumerate(subcolumns):
            x = np.asarray(parts[s.name])
            if j in flags:
                present = np.asarray(parts[subcolumns[flags[j]].name]) == 0
                x = x[present] if present.any() else x
            if s.discrete:
                marginals.append(Marginal.fit(s, x, quantiles))
            else:
                # a knot per rare_min_count rows at most: knots at (nearly) every training value would
                # send draws between neighbouring training values, nearer to them than to unseen rows
                if knots_seed is None or s.column in finest:
                    knots = knot_count(x.size, rare_min_count, quantiles)
                else:
                    knots = held_out_knot_count(x, rare_min_count, quantiles, knots_seed + j)
                marginals.append(Marginal.fit(s, x, knots, rare_min_count))
        return cls(list(subcolumns), marginals, discrete_scores, tail_blocks)

    @property
    def scored(self) -> np.ndarray:
        """Per sub-column: True where its matrix column holds scores, False where it holds codes."""
        return np.array([self.discrete_scores or not s.discrete for s in self.subcolumns], dtype=bool)

    def to_matrix(
        self,
        parts: Mapping[str, np.ndarray],
        rng: np.random.Generator,
        position: np.ndarray | None = None,
    ) -> np.ndarray:
        """The ``(n, sub-columns)`` matrix of ``parts``: scores, and codes (as floats) where not scored.
        ``position``: each row's place within its ties (drawn when None), to share with another space."""
        subs = self.subcolumns
        n = len(parts[subs[0].name]) if subs else 0
        out = np.empty((n, len(subs)))
        flags = missing_flags(subs)
        # one position within the tie per row, shared by every column: two columns whose ties always
        # coincide (two flags missing together) keep a correlation of one
        if position is None:
            position = rng.random(n)
        for j, (s, m) in enumerate(zip(subs, self.marginals, strict=True)):
            x = np.asarray(parts[s.name], dtype="float64")
            scored = self.discrete_scores or not s.discrete
            out[:, j] = spread_scores(m, x, position, self.tail_blocks) if scored else x
            if j in flags and scored:
                missing = np.asarray(parts[subs[flags[j]].name]) != 0
                out[missing, j] = rng.standard_normal(int(missing.sum()))
        return out

    def code_bounds(self, parts: Mapping[str, np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per scored discrete sub-column (by index): each row's score interval, the normal quantiles of
        its code's probability interval (unbounded where its column's missing flag says missing: the
        score there is a placeholder)."""
        if not self.discrete_scores:
            return {}
        flags = missing_flags(self.subcolumns)
        out = {}
        for j, (s, m) in enumerate(zip(self.subcolumns, self.marginals, strict=True)):
            if not s.discrete:
                continue
            lower, upper = _probability_interval(m, np.asarray(parts[s.name], dtype="float64"))
            lo = ndtri(np.clip(lower, 0.0, 1.0))
            hi = ndtri(np.clip(upper, 0.0, 1.0))
            if j in flags:
                missing = np.asarray(parts[self.subcolumns[flags[j]].name]) != 0
                lo[missing], hi[missing] = -np.inf, np.inf
            out[j] = (np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64"))
        return out

    def from_matrix(self, z: np.ndarray, calibration: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Sub-column arrays (int64 codes, float64 values) of a matrix of :meth:`to_matrix`'s layout.

        ``calibration``: per scored column, the quantiles (at ``CALIBRATION_GRID`` probabilities) of the
        scores a model draws; a score is then read at its probability among them instead of the normal
        one, so that each column's marginal is the data's whatever the model's own marginal is.
        """
        out = {}
        grid = np.linspace(0.0, 1.0, calibration.shape[1]) if calibration is not None else None
        for j, (s, m) in enumerate(zip(self.subcolumns, self.marginals, strict=True)):
            if s.discrete and not self.discrete_scores:
                out[s.name] = np.clip(np.rint(z[:, j]), 0, max(1, s.cardinality) - 1).astype("int64")
            elif calibration is not None and grid is not None:
                out[s.name] = m.inverse(np.interp(z[:, j], calibration[j], grid))
            else:
                out[s.name] = m.inverse(ndtr(z[:, j]))
        return out

    def code_probabilities(self, j: int) -> np.ndarray:
        """Sub-column ``j``'s code frequencies (a discrete one)."""
        table = self.marginals[j].table
        return np.diff(np.concatenate([[0.0], np.clip(table, 0.0, 1.0)]))


def spread_scores(
    marginal: Marginal, x: np.ndarray, position: np.ndarray, tail_blocks: bool = False
) -> np.ndarray:
    """Normal scores of ``x`` with ties spread: a code's, or a spike's (a value the knots repeat), is at
    ``position`` (uniform in [0, 1), per row) of the central ``SPREAD`` share of its probability
    interval, so that a mixture does not spend its components on point masses."""
    lower, upper = _probability_interval(marginal, x, tail_blocks)
    u = lower + (0.5 + SPREAD * (position - 0.5)) * (upper - lower)
    edge = 1e-12 if tail_blocks and marginal.tails.any else 0.5 / max(marginal.table.size, 2)
    return np.asarray(
        ndtri(np.clip(u, edge if not marginal.discrete else 1e-12, 1.0 - 1e-12)), dtype="float64"
    )


def _probability_interval(
    marginal: Marginal, x: np.ndarray, tail_blocks: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    table = marginal.table
    if marginal.discrete:
        upper = np.clip(table, 0.0, 1.0)
        lower = np.concatenate([[0.0], upper[:-1]])
        codes = np.clip(x.astype("int64"), 0, table.size - 1)
        return lower[codes], upper[codes]
    values, first = np.unique(table, return_index=True)
    if values.size == 1:
        return np.zeros(x.shape), np.ones(x.shape)
    last = np.append(first[1:] - 1, table.size - 1)
    grid = np.linspace(0.0, 1.0, table.size)
    lower, upper = np.interp(x, values, grid[first]), np.interp(x, values, grid[last])
    return _tail_blocks(marginal, x, lower, upper) if tail_blocks else (lower, upper)


def _tail_blocks(
    marginal: Marginal, x: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The probability interval of each value with the tails' shares around the knots' grid: a value
    past an end knot gets its whole tail's interval, as tied values share theirs, so that the model
    learns that a row lies in a tail, never how far (:mod:`mirage.encoding._tails` draws that)."""
    tails = marginal.tails
    if not tails.any:
        return lower, upper
    lower, upper = tails.outer(lower), tails.outer(upper)
    below, above = x < marginal.table[0], x > marginal.table[-1]
    lower = np.where(below, 0.0, np.where(above, 1.0 - tails.high.share, lower))
    upper = np.where(below, tails.low.share, np.where(above, 1.0, upper))
    return lower, upper


def to_scores(marginal: Marginal, x: np.ndarray, tail_blocks: bool = False) -> np.ndarray:
    """Normal scores of ``x`` through ``marginal``: a code's is the mean of the normal over its
    probability interval; a value's is the normal quantile of its probability between the knots (tied
    knots share their middle probability), kept off the infinite ends."""
    table = marginal.table
    if marginal.discrete:
        upper = np.clip(table, 0.0, 1.0)
        lower = np.concatenate([[0.0], upper[:-1]])
        a, b = ndtri(lower), ndtri(upper)
        mass = upper - lower
        middle = ndtri(np.clip((lower + upper) / 2.0, 1e-12, 1.0 - 1e-12))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(mass > 1e-12, (_pdf(a) - _pdf(b)) / np.maximum(mass, 1e-12), middle)
        return np.asarray(means[np.clip(x.astype("int64"), 0, table.size - 1)], dtype="float64")
    values, inverse = np.unique(table, return_inverse=True)
    if values.size == 1:
        return np.zeros(x.shape)
    grid = np.linspace(0.0, 1.0, table.size)
    middle = np.bincount(inverse, weights=grid) / np.bincount(inverse)
    edge = 0.5 / table.size
    inner = np.interp(x, values, middle)
    lower, upper = _tail_blocks(marginal, x, inner, inner) if tail_blocks else (inner, inner)
    return np.asarray(ndtri(np.clip((lower + upper) / 2.0, edge, 1.0 - edge)), dtype="float64")


def _pdf(z: np.ndarray) -> np.ndarray:
    finite = np.isfinite(z)
    return np.where(finite, np.exp(-0.5 * np.square(np.where(finite, z, 0.0))), 0.0) / np.sqrt(2.0 * np.pi)
