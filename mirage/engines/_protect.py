"""Value protection: a continuous value describes at least ``k`` training rows, never one.

An engine that emits training values (a tree leaf's values, a marginal's quantile knots) plus a
little noise puts its synthetic values closer to the rows it learned than to fresh rows of the same
population: a value held by one training row is reproduced around that row, a value held by one
holdout row never is.  On a rank scale, which is how the privacy check measures distance, a kernel
narrower than the spacing of the data reads as memorisation even when no row is copied, and rare
extremes (the largest fare, the one timestamp of a day) come back verbatim.

The protection works on ranks, not on value widths, so it needs no scale: each training value is
replaced by a uniform draw over the *window* of the ``k`` training values around its rank (its
``k - 1`` nearest neighbours in the sorted column).  A value that ``k`` or more rows share is a
window of its own and stays exact (a spike such as a zero balance is not private), while a rare value
is spread over a stretch that holds ``k`` rows, so the extremes are never emitted as such: the
largest value becomes a draw between the ``k``-th largest and the largest.  Noise added after the
draw is kept between the ``k``-th smallest and the ``k``-th largest training value
(:func:`protected_range`, :func:`fold_into`), so that clipping to the column's bounds cannot bring a
rare extreme back either.  A row whose own value lies past those bounds is drawn from the column's
tail instead (:mod:`mirage.encoding._tails`: the share past each bound is kept, the excess is a
smooth model's, never a training value).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fold_into", "protected_range", "rank_windows"]


def rank_windows(values: np.ndarray, column: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` per entry of ``values`` (all drawn from ``column``): the window of ``k`` rows.

    The window of a value is the stretch of sorted ``column`` values spanning ``k`` rows centred on the
    value's rank (shifted inwards at the ends); a value held by at least ``k`` rows is its own window.
    With fewer than ``k`` rows the window is the whole column.
    """
    x = np.sort(column[np.isfinite(column)])
    v = np.asarray(values, dtype="float64")
    lo, hi = v.copy(), v.copy()
    n = x.size
    if n == 0 or k <= 1:
        return lo, hi
    k = min(k, n)
    first = np.searchsorted(x, v, side="left")
    last = np.searchsorted(x, v, side="right")  # one past the value's last copy
    held = last - first
    centre = (first + last - 1) // 2
    start = np.clip(centre - (k - 1) // 2, 0, n - k)
    rare = np.isfinite(v) & (held < k)
    lo[rare] = x[start[rare]]
    hi[rare] = x[start[rare] + k - 1]
    return lo, hi


def protected_range(column: np.ndarray, k: int) -> np.ndarray:
    """``[low, a, b, high]``: values past ``[low, high]`` are held by fewer than ``k`` rows.

    ``low`` and ``high`` are the ``k``-th smallest and ``k``-th largest finite values of ``column``
    (a value that ``k`` or more rows share is inside); ``[low, a]`` and ``[b, high]`` are the windows
    of ``k`` rows just inside them (``a`` the ``2k``-th smallest value, ``b`` the ``2k``-th largest),
    where :func:`fold_into` sends a draw that lands outside, so that no point mass builds up on a
    training value.  With fewer than ``3 k`` rows every value lands on the column's mean; with no
    finite value or ``k <= 1``, nothing is protected (infinite bounds).
    """
    x = np.sort(column[np.isfinite(column)])
    if x.size == 0 or k <= 1:
        return np.array([-np.inf, -np.inf, np.inf, np.inf])
    if x.size < 3 * k:
        return np.full(4, float(np.mean(x)))
    n = x.size
    # the inner windows stop at the middle when the column has fewer than 4 k rows
    return np.array([x[k - 1], x[min(2 * k - 1, (n - 1) // 2)], x[max(n - 2 * k, n // 2)], x[n - k]])


def fold_into(drawn: np.ndarray, bounds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``drawn`` with the values past ``bounds`` (from :func:`protected_range`) redrawn uniformly
    within the window of ``k`` rows just inside the bound they passed."""
    low, a, b, high = (float(v) for v in bounds)
    u = rng.random(drawn.size)
    out = np.where(drawn < low, low + u * (a - low), drawn)
    return np.where(drawn > high, b + u * (high - b), out)
