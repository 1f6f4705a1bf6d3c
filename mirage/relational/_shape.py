"""The shape of a distribution of counts (children per parent, rows per hidden parent), kept without
any one parent's count, and counts drawn back from it."""

from __future__ import annotations

import numpy as np

__all__ = ["count_shape", "shape_counts"]


def count_shape(counts: np.ndarray, min_count: int) -> list[list[float]]:
    """The shape of a children-per-parent distribution without any one parent's count: the sorted
    counts cut into runs of at least ``min_count`` parents, each run's mean at the run's middle
    quantile (``[[quantile, mean], ...]``).  Empty when there are fewer than two runs."""
    ordered = np.sort(np.asarray(counts, dtype=float))
    runs = len(ordered) // max(min_count, 1)
    if runs < 2:
        return []
    knots, start = [], 0
    for run in np.array_split(ordered, runs):
        knots.append([(start + len(run) / 2) / len(ordered), float(run.mean())])
        start += len(run)
    return knots


def shape_counts(drawn: np.ndarray, knots: list[list[float]], rng: np.random.Generator) -> np.ndarray:
    """``drawn`` counts given the learned shape: each parent keeps its rank among the drawn counts (ties
    broken at random), and the rank's quantile reads the count off the shape (linear between the knots
    and past the ends, rounded at random so that the mean holds).  The model decides who has many
    children, the shape how many: value protection folds the tails of a count the model draws."""
    n = len(drawn)
    if n == 0 or not knots:
        return drawn
    order = np.lexsort((rng.random(n), np.asarray(drawn, dtype=float)))
    quantiles = np.empty(n)
    quantiles[order] = (np.arange(n) + 0.5) / n
    points = np.asarray(knots, dtype=float)
    p, v = points[:, 0], points[:, 1]
    values = np.interp(quantiles, p, v)
    low, high = quantiles < p[0], quantiles > p[-1]
    values[low] = v[0] + (quantiles[low] - p[0]) * (v[1] - v[0]) / (p[1] - p[0])
    values[high] = v[-1] + (quantiles[high] - p[-1]) * (v[-1] - v[-2]) / (p[-1] - p[-2])
    values = np.clip(values, 0.0, None)
    return np.floor(values + rng.random(n)).astype(np.int64)
