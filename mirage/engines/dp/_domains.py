"""Private preprocessing: each learned column's domain from the schema (public, free) or from DP estimates.

What is released per column, and what it costs:

* a categorical column's categories: the schema's (free), else the observed values whose noisy count
  (Gaussian, charged rho) passes a threshold set so that a value held by one row is released with
  probability at most ``delta_share`` (the stability histogram; charged that delta);
* a number's or a datetime's range: the schema's bounds (free), else a noisy histogram over a fixed public
  grid (every bucket noised, empty ones too: plain zCDP, no delta).  Where the noisy row count (measured
  first, by the caller) is very large against the histogram's noise (``FINE_NUMBER_ROWS`` deviations
  for a number, ``FINE_RANGE_ROWS`` for a datetime), the grid is fine (20 steps a decade, months) and
  the range is the inner edges of the outermost buckets whose noisy count passes the threshold,
  coarsening the grid (post-processing) until two buckets do: it stays inside the data's own range.
  Elsewhere the grid is coarse (powers of two, years) and the range is the outer edges of the
  outermost passing buckets (or runs of two or four), widened by a neighbour whose noisy count is over
  two deviations: it may reach past the data's range (up to the next power of two), and rows outside
  it are clipped to it;
* booleans: the public domain {False, True}.

The result is a *public frame*: a few rows made only of these released values (every category, an even
grid over each range, a missing cell in each column).  The table encoder is fitted on it, never on the
data, so nothing exact from the data (minimum, maximum, median, category list, rare count) reaches the
model file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mirage.encoding.categorical import RARE_TOKEN, clearing_count
from mirage.encoding.datetime import format_datetimes
from mirage.errors import DataError
from mirage.privacy import GaussianMechanism, Ledger
from mirage.schema import Column, Kind, Schema
from mirage.schema._datetimes import parse_format, read_datetimes

__all__ = ["PublicFrame", "numeric_grid", "private_public_frame", "restrict"]

# the chance that some empty bucket of a range histogram passes its threshold (a range then reaches past
# the data's): small enough that no test or user ever sees it
FALSE_BUCKETS = 1e-9
# the coarse grid's: the chance that some empty power of two passes (a range then reaches that far)
COARSE_FALSE_BUCKETS = 1e-4
COARSE_WIDTHS = (1, 2, 4)  # neighbouring buckets summed, in turn, until some pass
NEIGHBOUR_SIGMAS = 2.0  # a coarse bucket next to the range joins it when its noisy count passes this
# noisy rows per deviation of a range histogram's noise from which a number's range is taken on the
# fine grid: below it the fine grid's outermost passing buckets are few and its inner edges clip their
# rows (insurance at epsilon 2: 83% of charges, at epsilon 10: 8%); from it the range stays inside the
# data's own (the engine conformance suite asks it, at epsilon 1000)
FINE_NUMBER_ROWS = 1000.0
# the same for a datetime's range (months, else years): a few months' rows are clipped at most
FINE_RANGE_ROWS = 60.0
GRID_POINTS = 64  # rows of the public frame spanning a numeric or datetime range
MAX_MERGED = 64  # the most grid buckets merged into one (3 decades of numbers, 5 years of months)
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


@dataclass(frozen=True)
class PublicFrame:
    frame: pd.DataFrame
    measured: tuple[str, ...]  # the columns whose domain was paid for


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
    """The public bucket edges of the coarse grid for datetimes: every first of January, 1800 to 2200."""
    return pd.date_range("1800-01-01", "2200-01-01", freq="YS").as_unit("ns").asi8.astype("float64")


def datetime_grid() -> np.ndarray:
    """The public bucket edges for datetimes: the first of every month from 1800 to 2200, in nanoseconds."""
    return pd.date_range("1800-01-01", "2200-01-01", freq="MS").as_unit("ns").asi8.astype("float64")


def needs_budget(column: Column) -> bool:
    if column.kind is Kind.CATEGORICAL:
        return column.categories is None
    if column.kind is Kind.NUMERIC:
        return column.minimum is None or column.maximum is None
    return column.kind is Kind.DATETIME


def false_release_cut(sigma: float, floor: float, tests: int = 1) -> float:
    """A noisy count of a bucket holding fewer than ``floor`` rows passes this with probability at most
    ``FALSE_BUCKETS / tests`` (post-processing: what a DP model releases, kept true with overwhelming
    probability, such as no category of fewer than ``rare_min_count`` rows)."""
    from scipy.stats import norm

    return floor + float(norm.isf(FALSE_BUCKETS / max(tests, 1))) * sigma + 1.0  # +1: the lattice


def threshold(sigma: float, delta: float, scale: float = 1.0) -> float:
    """A noisy count of a bucket held by at most one row passes this with probability at most ``delta``."""
    from scipy.stats import norm

    return 1.0 + float(norm.isf(delta)) * sigma * scale + 1.0  # +1: the discrete Gaussian's heavier lattice


def private_public_frame(
    data: pd.DataFrame,
    schema: Schema,
    ledger: Ledger,
    rho: float,
    delta: float,
    rare_min_count: int,
    rows: float | None = None,
) -> PublicFrame:
    """The public frame of ``data``'s learned columns, spending at most ``rho`` and ``delta`` on
    ``ledger``.  ``rows``: a noisy count of the rows (already paid for), which picks each range's grid
    (fine when None)."""
    paid = [c for c in schema if c.kind.learned and needs_budget(c)]
    rho_each = rho / max(len(paid), 1)
    # fewer rows than this and no bucket of the fine grid would pass its threshold: the coarse grid
    sigma = GaussianMechanism(rho=rho_each).sigma
    coarse = rows is not None and rows < FINE_RANGE_ROWS * sigma
    coarse_numbers = rows is not None and rows < FINE_NUMBER_ROWS * sigma
    categorical = [c for c in paid if c.kind is Kind.CATEGORICAL]
    delta_each = delta / max(len(categorical), 1)
    columns: dict[str, list[object]] = {}
    # whether each column's public frame holds a missing cell: True where it cannot be measured for free
    missing: dict[str, bool] = {}
    for column in schema:
        values = data[column.name]
        if not column.kind.learned:
            columns[column.name] = _placeholder(values)
        elif column.kind is Kind.BOOLEAN:
            columns[column.name] = [False, True]
        elif column.kind is Kind.CATEGORICAL:
            if column.categories is not None:
                kept = list(column.categories)
            else:
                kept, has_missing = _private_categories(
                    values, ledger, rho_each / 2, delta_each, rare_min_count, column.name
                )
                missing[column.name] = has_missing
            # each released category in enough cells to be kept at any share (clearing_count); one cell
            # of the rare token, fewer than rare_min_count: the encoder keeps a rare code, which
            # stands for every value outside the released categories
            columns[column.name] = [c for c in kept for _ in range(clearing_count(rare_min_count))]
            if _holds_text(values) and (
                column.categories is not None
                or not kept  # nothing released: every value is drawn as the rare class
                or _outside(values, kept, ledger, rho_each / 2, column.name)
                >= false_release_cut(GaussianMechanism(rho=rho_each / 2).sigma, 1.0)
            ):
                columns[column.name].append(RARE_TOKEN)
            elif not kept and _can_be_missing(values):
                missing[column.name] = True  # nothing released: the column is drawn missing
            elif not kept:
                raise DataError(
                    f"column {column.name!r}: no category is frequent enough to be released at epsilon "
                    f"{ledger.epsilon:g}: declare its categories in the schema, or raise epsilon"
                )
        elif column.kind is Kind.NUMERIC:
            low, high = column.minimum, column.maximum
            if low is None or high is None:
                numbers = values.astype("float64").to_numpy()
                if coarse_numbers:
                    found, missing[column.name] = _coarse_range(
                        numbers, coarse_numeric_grid(bool(column.integer)), ledger, rho_each, column.name
                    )
                else:
                    found, missing[column.name] = _private_range(
                        numbers, numeric_grid(), ledger, rho_each, column.name
                    )
                low = found[0] if low is None else low
                high = found[1] if high is None else high
            grid = np.linspace(float(low), float(high), GRID_POINTS)
            columns[column.name] = list(np.unique(np.round(grid))) if column.integer else list(grid)
        else:  # datetime
            written_as = column.datetime_format if _holds_text(values) else None
            parsed = read_datetimes(values, written_as, naive=True)
            stamps = parsed.dt.as_unit("ns").astype("int64").astype("float64")
            stamps[values.isna().to_numpy()] = np.nan
            find = _coarse_range if coarse else _private_range
            (low_ns, high_ns), missing[column.name] = find(
                stamps.to_numpy(),
                coarse_datetime_grid() if coarse else datetime_grid(),
                ledger,
                rho_each * 0.9,
                column.name,
            )
            stamps_grid = pd.to_datetime(np.linspace(low_ns, high_ns, GRID_POINTS).astype("int64"))
            if _whole_days(parsed, ledger, rho_each * 0.1, column.name):
                stamps_grid = stamps_grid.floor("D")
            if column.datetime_format is not None and _holds_text(values):  # the source held text
                zoned = "%z" in parse_format(column.datetime_format)
                written = pd.Series(stamps_grid.tz_localize("UTC") if zoned else stamps_grid)
                columns[column.name] = list(format_datetimes(written, column.datetime_format))
            else:
                columns[column.name] = list(stamps_grid)
    length = max(len(v) for v in columns.values()) + 1
    # a column whose domain is declared in full says itself whether it may be missing (public)
    for column in schema:
        if column.kind.learned and column.name not in missing:
            missing[column.name] = column.nullable
    frame = pd.DataFrame(
        {
            name: _fill(values, length, data[name], missing.get(name, True) and _can_be_missing(data[name]))
            for name, values in columns.items()
        },
        columns=data.columns,
    )
    return PublicFrame(frame, tuple(c.name for c in paid))


def restrict(data: pd.DataFrame, public: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``data`` with each categorical value outside the released categories made the rare token where
    the public frame has one, else left out with its row (a row-by-row map through public domains, so it
    costs no privacy); likewise a missing cell where the public frame has none."""
    out = data.copy()
    keep = np.ones(len(out), dtype=bool)
    for column in schema:
        if not column.kind.learned:
            continue
        values = out[column.name]
        released = public[column.name]
        if not bool(released.isna().any()):
            keep &= values.notna().to_numpy()
        if column.kind is not Kind.CATEGORICAL:
            continue
        allowed = values.isin(released.dropna().unique()) | values.isna()
        if bool(allowed.all()):
            continue
        if bool((released == RARE_TOKEN).any()):
            out[column.name] = values.astype(object).where(allowed, RARE_TOKEN).astype(values.dtype)
        else:
            keep &= allowed.to_numpy()
    return out[keep].reset_index(drop=True)


def _outside(values: pd.Series, kept: list[object], ledger: Ledger, rho: float, name: str) -> float:
    """The noisy number of rows whose value is outside the released categories (they become the rare
    token): the public frame keeps a rare code only if there are enough of them."""
    outside = int((values.notna() & ~values.isin(kept)).sum())
    return float(
        GaussianMechanism(rho=rho)(np.array([outside]), ledger=ledger, what=f"rare rows of {name}")[0]
    )


def _private_categories(
    values: pd.Series, ledger: Ledger, rho: float, delta: float, rare_min_count: int, name: str
) -> tuple[list[object], bool]:
    counts = values.dropna().value_counts()
    mechanism = GaussianMechanism(rho=rho)
    ledger.spend(f"categories of {name}", rho, mechanism="gaussian", sigma=mechanism.sigma, delta=delta)
    # the missing cells are one more bucket, public (every column may have them), noised alike
    noisy = mechanism(np.append(counts.to_numpy(), int(values.isna().sum())))
    # each category of fewer than rare_min_count rows is released with probability 1e-9 at most
    cut = max(false_release_cut(mechanism.sigma, rare_min_count - 1.0), threshold(mechanism.sigma, delta))
    kept = [value for value, count in zip(counts.index, noisy[:-1], strict=True) if count >= cut]
    return sorted(kept, key=str), bool(noisy[-1] >= false_release_cut(mechanism.sigma, 0.0))


def _noisy_histogram(
    values: np.ndarray, edges: np.ndarray, ledger: Ledger, rho: float, name: str
) -> tuple[np.ndarray, bool, GaussianMechanism]:
    """Noisy counts of ``values`` in the buckets of ``edges`` and whether the noisy count of missing
    values passes; one Gaussian measurement of ``rho``, spent on the ledger."""
    present = values[~np.isnan(values)]
    index = np.clip(np.searchsorted(edges, present, side="right") - 1, 0, edges.size - 2)
    counts = np.bincount(index, minlength=edges.size - 1)
    mechanism = GaussianMechanism(rho=rho)
    ledger.spend(f"range of {name}", rho, mechanism="gaussian", sigma=mechanism.sigma)
    noisy_all = mechanism(np.append(counts, int(np.isnan(values).sum()))).astype("float64")
    return noisy_all[:-1], bool(noisy_all[-1] >= false_release_cut(mechanism.sigma, 0.0)), mechanism


def _private_range(
    values: np.ndarray, edges: np.ndarray, ledger: Ledger, rho: float, name: str
) -> tuple[tuple[float, float], bool]:
    """The inner edges of the outermost buckets (of ``edges``, coarsened as needed) whose noisy count
    passes the threshold; a ``DataError`` if none does."""
    from scipy.stats import norm

    noisy, has_missing, mechanism = _noisy_histogram(values, edges, ledger, rho, name)
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
    raise DataError(
        f"column {name!r}: too few rows to estimate its range privately at epsilon {ledger.epsilon:g}: "
        "declare its minimum and maximum in the schema, or raise epsilon"
    )


def _coarse_range(
    values: np.ndarray, edges: np.ndarray, ledger: Ledger, rho: float, name: str
) -> tuple[tuple[float, float], bool]:
    """The outer edges of the outermost buckets (of the coarse ``edges``) whose noisy count passes the
    threshold, each end widened by the next bucket while its noisy count is over ``NEIGHBOUR_SIGMAS``
    deviations (a false widening doubles the range at most, where a missed tail would clip rows);
    a ``DataError`` if no bucket passes."""
    from scipy.stats import norm

    noisy, has_missing, mechanism = _noisy_histogram(values, edges, ledger, rho, name)
    # where no single bucket passes, runs of two, then four neighbouring buckets (post-processing: their
    # noise grows as the root of the width, but rows spread over a few powers of two add up); every
    # start of a run is tested, so the cut allows for as many tests as there are buckets
    for width in COARSE_WIDTHS:
        runs = np.convolve(noisy, np.ones(width), mode="valid")  # runs[i]: buckets i .. i + width - 1
        sigma = mechanism.sigma * math.sqrt(width)
        passing = np.flatnonzero(runs >= 1.0 + float(norm.isf(COARSE_FALSE_BUCKETS / runs.size)) * sigma)
        if passing.size:
            break
    else:
        raise DataError(
            f"column {name!r}: too few rows to estimate its range privately at epsilon {ledger.epsilon:g}: "
            "declare its minimum and maximum in the schema, or raise epsilon"
        )
    first, last = int(passing[0]), int(passing[-1])
    neighbour = 1.0 + NEIGHBOUR_SIGMAS * sigma
    while first >= width and runs[first - width] >= neighbour:
        first -= width
    while last + width < runs.size and runs[last + width] >= neighbour:
        last += width
    return (float(edges[first]), float(edges[last + width])), has_missing


def _holds_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def _can_be_missing(values: pd.Series) -> bool:
    """Whether the column's dtype (public, in the schema) can hold a missing value."""
    return not (pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype))


def _whole_days(parsed: pd.Series, ledger: Ledger, rho: float, name: str) -> bool:
    """Whether the column (parsed) holds dates without a time of day: unless the noisy number of rows
    with one passes the false-release cut (a column of whole days is taken for one with times w.p. 1e-9)."""
    stamps = parsed.dropna()
    timed = int((stamps != stamps.dt.floor("D")).sum())
    mechanism = GaussianMechanism(rho=rho)
    noisy = mechanism(np.array([timed]), ledger=ledger, what=f"times of day of {name}")
    return bool(noisy[0] < false_release_cut(mechanism.sigma, 0.0))


def _placeholder(values: pd.Series) -> list[object]:
    """A generated column (key, PII, text) is never measured: its public-frame cells are missing."""
    return []


def _fill(values: Sequence[object], length: int, like: pd.Series, missing: bool) -> pd.Series:
    """``values`` repeated to ``length`` rows (the last one missing if ``missing``), in ``like``'s dtype."""
    full = length - 1 if missing else length
    cells: list[object] = [values[i % len(values)] for i in range(full)] if len(values) else []
    cells += [None] * (length - len(cells))
    series = pd.Series(cells, dtype=object)
    if not series.notna().any() and pd.api.types.is_numeric_dtype(like.dtype):
        # an unmeasured column (a numeric key): only its dtype, public, says it holds numbers
        return series.astype("float64")
    try:
        return series.astype(like.dtype) if series.notna().all() else series.infer_objects()
    except (TypeError, ValueError):
        return series.infer_objects()
