"""Private domains: a column's categories and range released from noisy counts (the codecs' ``reduce``
with a budget calls these; they read counts, never rows).

What is released, and what it costs (every charge on the ledger):

* categories: the observed values whose noisy count (Gaussian, charged rho) passes a threshold set so
  that a value held by one row is released with probability at most ``delta`` (the stability histogram;
  charged that delta), and none of fewer than ``rare_min_count`` rows with probability over 1e-9;
* a range (numbers, datetimes): a noisy histogram over a fixed public grid (every bucket noised, empty
  ones too: plain zCDP, no delta).  Where the noisy row count (measured first, by the caller) is very
  large against the histogram's noise (``FINE_NUMBER_ROWS`` deviations for a number,
  ``FINE_RANGE_ROWS`` for a datetime), the grid is fine (20 steps a decade, months) and the range is the
  inner edges of the outermost buckets whose noisy count passes the threshold, coarsening the grid
  (post-processing) until two buckets do: it stays inside the data's own range.  Elsewhere the grid is
  coarse (powers of two, years) and the range is the outer edges of the outermost passing buckets (or
  runs of two or four), widened by a neighbour whose noisy count is over two deviations: it may reach
  past the data's range (up to the next power of two), and rows outside it are clipped to it;
* whether datetimes have a time of day: a noisy count of the rows with one.

Each measurement also noises the number of missing cells (a public bucket every column may have).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage.errors import DataError
from mirage.privacy._ledger import Ledger
from mirage.privacy._mechanisms import GaussianMechanism

__all__ = [
    "COARSE_FALSE_BUCKETS",
    "DATETIME_RANGE_SHARE",
    "FALSE_BUCKETS",
    "FINE_NUMBER_ROWS",
    "FINE_RANGE_ROWS",
    "GRID_POINTS",
    "coarse_datetime_grid",
    "coarse_numeric_grid",
    "coarse_range",
    "datetime_grid",
    "false_release_cut",
    "has_time_of_day",
    "numeric_grid",
    "private_categories",
    "private_datetime_range",
    "private_number_range",
    "private_range",
    "rare_rows",
    "threshold",
    "threshold_deviations",
]

# the chance that some empty bucket of a range histogram passes its threshold (a range then reaches past
# the data's): small enough that no test or user ever sees it
FALSE_BUCKETS = 1e-9
# the coarse grid's: the chance that some empty power of two passes (a range then reaches that far)
COARSE_FALSE_BUCKETS = 1e-4
COARSE_WIDTHS = (1, 2, 4)  # neighbouring buckets summed into runs (powers of two: 16 times wider at most)
COARSE_DATETIME_WIDTHS = (1, 2, 4, 8, 16)  # years
NEIGHBOUR_SIGMAS = 2.0  # a coarse bucket next to the range joins it when its noisy count passes this
RUN_SIGMAS = 3.0  # ... and a longer run of buckets next to it (several runs are tested each step)
# noisy rows per deviation of a range histogram's noise from which a number's range is taken on the
# fine grid: below it the fine grid's outermost passing buckets are few and its inner edges clip their
# rows (insurance at epsilon 2: 83% of charges, at epsilon 10: 8%); from it the range stays inside the
# data's own (the engine conformance suite asks it, at epsilon 1000)
FINE_NUMBER_ROWS = 1000.0
# the same for a datetime's range (months, else years): from 60, months clipped a third to a half of
# the rows of 1,500-5,000 rows over 1-8 years at epsilon 1, or found no range
FINE_RANGE_ROWS = 1000.0
GRID_POINTS = 64  # public values spanning a released numeric or datetime range
MAX_MERGED = 64  # the most grid buckets merged into one (3 decades of numbers, 5 years of months)
DATETIME_RANGE_SHARE = 0.9  # of a datetime column's rho; the rest on whether it has a time of day
# the R20 series of preferred numbers (one decade in 20 steps)
R20 = (
    1.0,
    1.12,
    1.25,
    1.4,
    1.6,
    1.8,
    2.0,
    2.24,
    2.5,
    2.8,
    3.15,
    3.55,
    4.0,
    4.5,
    5.0,
    5.6,
    6.3,
    7.1,
    8.0,
    9.0,
)
NANOSECONDS = 1e9


def numeric_grid() -> np.ndarray:
    """The public bucket edges for numbers: 0, then +-m * 10**k (m the R20 series, k in -6..307)."""
    positive = np.array([m * 10.0**k for k in range(-6, 308) for m in R20])
    return np.concatenate([-positive[::-1], [0.0], positive])


def coarse_numeric_grid(integer: bool) -> np.ndarray:
    """The public bucket edges of the coarse grid for numbers: 0, then +-2**k, k from -30 (from 0 for
    whole numbers, so that zero and one are neighbours) to 1023."""
    positive = 2.0 ** np.arange(0 if integer else -30, 1024)
    return np.concatenate([-positive[::-1], [0.0], positive])


def coarse_datetime_grid() -> np.ndarray:
    """The public bucket edges of the coarse grid for datetimes: every first of January, 1800 to 2200, in
    seconds since the epoch."""
    return pd.date_range("1800-01-01", "2200-01-01", freq="YS").as_unit("ns").asi8 / NANOSECONDS


def datetime_grid() -> np.ndarray:
    """The public bucket edges for datetimes: the first of every month from 1800 to 2200, in seconds."""
    return pd.date_range("1800-01-01", "2200-01-01", freq="MS").as_unit("ns").asi8 / NANOSECONDS


def false_release_cut(sigma: float, floor: float, tests: int = 1) -> float:
    """A noisy count of a bucket holding fewer than ``floor`` rows passes this with probability at most
    ``FALSE_BUCKETS / tests`` (post-processing: what a DP model releases, kept true with overwhelming
    probability, such as no category of fewer than ``rare_min_count`` rows)."""
    from scipy.stats import norm

    return floor + float(norm.isf(FALSE_BUCKETS / max(tests, 1))) * sigma + 1.0  # +1: the lattice


def threshold(sigma: float, delta: float, scale: float = 1.0) -> float:
    """A noisy count of a bucket held by at most one row passes this with probability at most ``delta``."""
    return 1.0 + threshold_deviations(delta) * sigma * scale + 1.0  # +1: the discrete Gaussian's lattice


def threshold_deviations(delta: float) -> float:
    """How many noise deviations :func:`threshold` puts above one row."""
    from scipy.stats import norm

    return float(norm.isf(delta))


def private_categories(
    counts: Mapping[Any, int],
    missing: int,
    ledger: Ledger,
    rho: float,
    delta: float,
    rare_min_count: int,
    name: str,
) -> tuple[list[Any], bool]:
    """The categories whose noisy count passes (sorted by their text) and whether the noisy count of
    missing cells does; one Gaussian measurement of ``rho`` and ``delta``, spent on the ledger."""
    values = list(counts)
    mechanism = GaussianMechanism(rho=rho)
    ledger.spend(f"categories of {name}", rho, mechanism="gaussian", sigma=mechanism.sigma, delta=delta)
    # the missing cells are one more bucket, public (every column may have them), noised alike
    noisy = mechanism(np.array([*(int(counts[v]) for v in values), int(missing)], dtype=np.int64))
    # each category of fewer than rare_min_count rows is released with probability 1e-9 at most
    cut = max(false_release_cut(mechanism.sigma, rare_min_count - 1.0), threshold(mechanism.sigma, delta))
    kept = [value for value, count in zip(values, noisy[:-1], strict=True) if count >= cut]
    return sorted(kept, key=str), bool(noisy[-1] >= false_release_cut(mechanism.sigma, 0.0))


def rare_rows(outside: int, ledger: Ledger, rho: float, name: str) -> bool:
    """Whether the noisy number of rows outside the released categories (they become the rare token)
    passes the false-release cut of one row: the codec keeps a rare code only then."""
    mechanism = GaussianMechanism(rho=rho)
    noisy = mechanism(np.array([int(outside)]), ledger=ledger, what=f"rare rows of {name}")
    return bool(noisy[0] >= false_release_cut(mechanism.sigma, 1.0))


def has_time_of_day(timed: int, ledger: Ledger, rho: float, name: str) -> bool:
    """Whether the noisy number of rows with a time of day passes the false-release cut (a column of
    whole days is taken for one with times with probability 1e-9)."""
    mechanism = GaussianMechanism(rho=rho)
    noisy = mechanism(np.array([int(timed)]), ledger=ledger, what=f"times of day of {name}")
    return bool(noisy[0] >= false_release_cut(mechanism.sigma, 0.0))


def private_number_range(
    values: np.ndarray,
    counts: np.ndarray,
    missing: int,
    integer: bool,
    ledger: Ledger,
    rho: float,
    rows: float | None,
    name: str,
) -> tuple[tuple[float, float], bool]:
    """A number's range from the distinct ``values`` and their ``counts``: on the coarse grid below
    ``FINE_NUMBER_ROWS`` noisy rows (``rows``, paid for already) per deviation, else on the fine one."""
    if rows is not None and rows < FINE_NUMBER_ROWS * GaussianMechanism(rho=rho).sigma:
        return coarse_range(values, counts, missing, coarse_numeric_grid(integer), ledger, rho, name)
    return private_range(values, counts, missing, numeric_grid(), ledger, rho, name)


def private_datetime_range(
    seconds: np.ndarray,
    counts: np.ndarray,
    missing: int,
    ledger: Ledger,
    rho: float,
    rows: float | None,
    name: str,
) -> tuple[tuple[float, float], bool]:
    """A datetime's range in seconds since the epoch (``DATETIME_RANGE_SHARE`` of ``rho``): on years below
    ``FINE_RANGE_ROWS`` noisy rows per deviation of the whole ``rho``'s noise, else on months."""
    share = rho * DATETIME_RANGE_SHARE
    if rows is not None and rows < FINE_RANGE_ROWS * GaussianMechanism(rho=rho).sigma:
        grid = coarse_datetime_grid()
        return coarse_range(seconds, counts, missing, grid, ledger, share, name, COARSE_DATETIME_WIDTHS)
    return private_range(seconds, counts, missing, datetime_grid(), ledger, share, name)


def _noisy_histogram(
    values: np.ndarray,
    counts: np.ndarray,
    missing: int,
    edges: np.ndarray,
    ledger: Ledger,
    rho: float,
    name: str,
) -> tuple[np.ndarray, bool, GaussianMechanism]:
    """Noisy counts of ``values`` (``counts`` rows each) in the buckets of ``edges`` and whether the noisy
    count of missing values passes; one Gaussian measurement of ``rho``, spent on the ledger."""
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, edges.size - 2)
    histogram = np.bincount(index, weights=counts, minlength=edges.size - 1).astype(np.int64)
    mechanism = GaussianMechanism(rho=rho)
    ledger.spend(f"range of {name}", rho, mechanism="gaussian", sigma=mechanism.sigma)
    noisy_all = mechanism(np.append(histogram, int(missing))).astype("float64")
    return noisy_all[:-1], bool(noisy_all[-1] >= false_release_cut(mechanism.sigma, 0.0)), mechanism


def private_range(
    values: np.ndarray,
    counts: np.ndarray,
    missing: int,
    edges: np.ndarray,
    ledger: Ledger,
    rho: float,
    name: str,
) -> tuple[tuple[float, float], bool]:
    """The inner edges of the outermost buckets (of ``edges``, coarsened as needed) whose noisy count
    passes the threshold, and whether the missing cells' does; a ``DataError`` if no bucket passes."""
    from scipy.stats import norm

    noisy, has_missing, mechanism = _noisy_histogram(values, counts, missing, edges, ledger, rho, name)
    # every coarsening is post-processing: the widest range any of them supports (wider buckets see the
    # thin tails that single buckets miss)
    ranges: list[tuple[float, float]] = []
    fallback: tuple[float, float] | None = None
    width = 1
    while width <= MAX_MERGED:
        buckets = noisy[: noisy.size // width * width].reshape(-1, width).sum(axis=1)
        # some empty bucket passes w.p. FALSE_BUCKETS at most (per coarsening; 7 of them)
        cut = 1.0 + float(norm.isf(FALSE_BUCKETS / buckets.size)) * mechanism.sigma * math.sqrt(width)
        passing = np.flatnonzero(buckets >= cut)
        if passing.size >= 2 and int(passing[-1]) > int(passing[0]) + 1:
            first, last = int(passing[0]), int(passing[-1])
            ranges.append((float(edges[(first + 1) * width]), float(edges[last * width])))
        elif passing.size >= 1 and fallback is None:
            # one bucket or two neighbours: their outer edges, or the middles of two neighbours (whose
            # inner edges meet); only when no coarsening finds a range within the passing buckets
            first, last = int(passing[0]), int(passing[-1])
            if last > first:
                low = (edges[first * width] + edges[(first + 1) * width]) / 2
                high = (edges[last * width] + edges[(last + 1) * width]) / 2
                fallback = (float(low), float(high))
            else:
                fallback = (float(edges[first * width]), float(edges[(first + 1) * width]))
        width *= 2
    if ranges:
        return (min(r[0] for r in ranges), max(r[1] for r in ranges)), has_missing
    if fallback is not None:
        return fallback, has_missing
    raise _too_few_rows(name, ledger)


def coarse_range(
    values: np.ndarray,
    counts: np.ndarray,
    missing: int,
    edges: np.ndarray,
    ledger: Ledger,
    rho: float,
    name: str,
    widths: tuple[int, ...] = COARSE_WIDTHS,
) -> tuple[tuple[float, float], bool]:
    """The outer edges of the outermost buckets (of the coarse ``edges``) whose noisy count passes the
    threshold, each end widened over the next run of buckets while that run's noisy count is over
    ``NEIGHBOUR_SIGMAS`` deviations (a false widening widens the range by one run, where a missed
    tail would clip rows), and whether the missing cells' count passes; a ``DataError`` if no bucket
    passes.

    Where no single bucket passes, runs of neighbouring buckets of each of ``widths`` in turn are
    read (post-processing: their noise grows as the root of the width, but rows spread over many
    buckets add up).  An end is widened by the shortest run of ``widths`` past it that passes, so rows
    spread thinly (a date over decades) widen it run by run where one bucket at a time would stop at
    the first that noise brings under its cut."""
    from scipy.stats import norm

    noisy, has_missing, mechanism = _noisy_histogram(values, counts, missing, edges, ledger, rho, name)
    for width in widths:
        runs = np.convolve(noisy, np.ones(width), mode="valid")  # runs[i]: buckets i .. i + width - 1
        # every start of a run is tested, so the cut allows for as many tests as there are buckets
        cut = 1.0 + float(norm.isf(COARSE_FALSE_BUCKETS / runs.size)) * mechanism.sigma * math.sqrt(width)
        passing = np.flatnonzero(runs >= cut)
        if passing.size:
            break
    else:
        raise _too_few_rows(name, ledger)
    first, last = int(passing[0]), int(passing[-1]) + width - 1  # buckets, both ends included

    def passes(run: np.ndarray, sigmas: float) -> bool:
        return float(run.sum()) >= 1.0 + sigmas * mechanism.sigma * math.sqrt(run.size)

    def next_run(outward: int, end: int) -> int:
        """The length of the shortest run of ``widths`` past bucket ``end`` (towards ``outward``) that
        passes, 0 if none does; one bucket at ``NEIGHBOUR_SIGMAS``, longer runs (more tests) at
        ``RUN_SIGMAS``."""
        for length in widths:
            lo, hi = (end + 1, end + 1 + length) if outward > 0 else (end - length, end)
            if lo < 0 or hi > noisy.size:
                break
            if passes(noisy[lo:hi], NEIGHBOUR_SIGMAS if length == 1 else RUN_SIGMAS):
                return length
        return 0

    while step := next_run(-1, first):
        first -= step
    while step := next_run(+1, last):
        last += step
    return (float(edges[first]), float(edges[last + 1])), has_missing


def _too_few_rows(name: str, ledger: Ledger) -> DataError:
    return DataError(
        f"column {name!r}: too few rows to estimate its range privately at epsilon {ledger.epsilon:g}: "
        "declare its minimum and maximum in the schema, or raise epsilon"
    )
