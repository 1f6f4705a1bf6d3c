"""Pieces of a line: quantile intervals and points (spikes), cut from training values, and values drawn
within them.  The token layer (:mod:`mirage.encoding.discretise`) cuts continuous sub-columns into
them, the datetime codec draws days within them, and rounding patterns learn their mix per piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Pieces", "cut", "draw_within"]


@dataclass
class Pieces:
    """Sorted pieces ``[lo, hi)`` (``closed``: ``[lo, hi]``) of a line; ``lo == hi`` is a point."""

    lo: np.ndarray
    hi: np.ndarray
    closed: np.ndarray

    def assign(self, x: np.ndarray) -> np.ndarray:
        """The piece of each value: its point if it has one, else the interval holding it."""
        point = self.lo == self.hi
        out = np.zeros(x.size, dtype="int64")
        intervals = np.flatnonzero(~point)
        points = np.flatnonzero(point)
        if intervals.size:
            k = np.searchsorted(self.lo[intervals], x, side="right") - 1
            out = intervals[np.clip(k, 0, intervals.size - 1)]
        if points.size:
            values = self.lo[points]
            j = np.clip(np.searchsorted(values, x), 0, points.size - 1)
            if intervals.size:
                hit = values[j] == x
                out[hit] = points[j[hit]]
            else:
                left = np.clip(j - 1, 0, points.size - 1)
                nearer_left = np.abs(values[left] - x) <= np.abs(values[j] - x)
                out = points[np.where(nearer_left, left, j)]
        return out


def cut(
    x: np.ndarray,
    *,
    parts: int,
    min_count: int,
    spike_count: int,
    bounds: tuple[float, float] | None = None,
    closed_top: bool = True,
    protect: int = 1,
) -> Pieces:
    """Points for spikes, quantile intervals (each >= ``min_count`` rows) for the rest of sorted ``x``."""
    uniq, counts = np.unique(x, return_counts=True)
    spikes = uniq[counts >= spike_count]
    rest = x[~np.isin(x, spikes)] if spikes.size else x
    if 0 < rest.size < min_count and spikes.size:
        rest = rest[:0]  # too few to describe: they fold into the nearest point
    lo, hi, closed = list(spikes), list(spikes), [True] * spikes.size
    if rest.size:
        a, b = bounds if bounds is not None else _protected_ends(rest, protect)
        k = max(1, min(parts - spikes.size, rest.size // max(min_count, 1)))
        inner = _quantile_cuts(rest, k)
        edges = np.unique(np.concatenate([[a], inner[(inner > a) & (inner < b)], [b]]))
        if edges.size == 1:
            lo.append(a)
            hi.append(a)
            closed.append(True)
        else:
            m = edges.size - 1
            cell = np.clip(np.searchsorted(edges, rest, side="right") - 1, 0, m - 1)
            held = np.bincount(cell, minlength=m)
            keep, acc = [0], 0
            for i in range(m - 1):
                acc += int(held[i])
                if acc >= min_count:
                    keep.append(i + 1)
                    acc = 0
            if acc + int(held[m - 1]) < min_count and len(keep) > 1:
                keep.pop()
            edges = edges[[*keep, m]]
            lo.extend(edges[:-1])
            hi.extend(edges[1:])
            closed.extend([False] * (edges.size - 2) + [closed_top])
    lo_a, hi_a = np.asarray(lo, dtype="float64"), np.asarray(hi, dtype="float64")
    order = np.lexsort((lo_a != hi_a, lo_a))
    return Pieces(lo_a[order], hi_a[order], np.asarray(closed, dtype=bool)[order])


def _protected_ends(rest: np.ndarray, k: int) -> tuple[float, float]:
    """The outer edges of a column's intervals: its ``k``-th smallest and largest values (sorted
    ``rest``), so that no value held by fewer than ``k`` rows (a rare extreme, the one timestamp far
    from the others) is drawn; values beyond fall in the end intervals.  Below ``3 k`` values, the
    range itself."""
    if k > 1 and rest.size >= 3 * k:
        return float(rest[k - 1]), float(rest[rest.size - k])
    return float(rest[0]), float(rest[-1])


def _quantile_cuts(x: np.ndarray, k: int) -> np.ndarray:
    """``k - 1`` cuts splitting sorted ``x`` into ``k`` equal-count parts, each halfway between two rows."""
    if k < 2 or x.size < 2:
        return np.zeros(0)
    m = np.clip(np.round(np.linspace(0.0, x.size, k + 1)[1:-1]).astype("int64"), 1, x.size - 1)
    cuts: np.ndarray = (x[m - 1] + x[m]) / 2.0
    return cuts


def draw_within(
    lo: np.ndarray,
    hi: np.ndarray,
    closed: np.ndarray,
    integer: bool,
    rng: np.random.Generator,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """A value uniformly within each piece: exact for points, an integer of the piece when ``integer``.

    ``points``: the line's point pieces (sorted values), which an interval's integers leave out where the
    interval holds other integers: a value many rows share is a point of its own, and an interval drawing
    its integer too gave it that interval's share again (lengths of 66 histories: their CDF 0.04 off)."""
    u = rng.random(lo.size)
    if not integer:
        return np.where(lo == hi, lo, lo + u * (hi - lo))
    first = np.ceil(lo)
    last = np.where(closed, np.floor(hi), np.ceil(hi) - 1.0)
    span = np.maximum(last - first + 1.0, 1.0)
    taken = np.zeros_like(span)
    if points is not None and points.size:
        taken = np.searchsorted(points, last, side="right") - np.searchsorted(points, first)
        taken = np.where(taken < span, taken, 0).astype("float64")  # points only: drawn as before
    rank = np.minimum(np.floor(u * (span - taken)), span - taken - 1.0)
    drawn = first + rank
    stepped = np.flatnonzero(taken > 0)
    if points is not None and stepped.size:
        # the rank-th integer of the interval that is not a point: step past the points at or below it
        below = np.searchsorted(points, first[stepped])
        for _ in range(int(taken.max())):
            above = np.searchsorted(points, drawn[stepped], side="right") - below
            drawn[stepped] = first[stepped] + rank[stepped] + above
    return np.where((lo == hi) | (last < first), np.round(lo), drawn)
