"""The shape numbers and datetimes share: a missing flag plus one continuous value sub-column.

Missing values are encoded as the median of the observed values, with the flag telling them apart.
Subclasses say how values become floats, what else they learn, and how floats decode.  A partition's
stats hold its distinct observed floats with their counts, so bounds, the median and every quantile
of the merge are exactly those of the whole column.  Past ``EncodingOptions.exact_values_limit``
distinct values they hold a deterministic quantile sketch instead (:mod:`mirage.encoding._sketch`):
counts and bounds stay exact, quantiles are within the sketch's certified rank error, and the codec keeps
the sketch in its state.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import StateError, require_bounds, require_float, require_mapping, within
from mirage.encoding._base import Codec, SubColumn
from mirage.encoding._missing import MissingPart, MissingStats
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.encoding._sketch import SKETCH_ARRAY, Observed, ValueSketch, merge_observed, observe
from mirage.encoding._stats import merge_counts, single
from mirage.errors import DataError, OptionError

__all__ = ["VALUE_PART", "ContinuousCodec", "ContinuousStats", "counted_values", "observed_values", "reflect"]

VALUE_PART = "value"


def reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``x`` folded back into ``[lo, hi]`` at the bounds, as a kernel density is corrected at its edges.

    Clipping instead would pile every value drawn past a bound onto the bound itself.
    """
    x = np.asarray(x, dtype="float64")
    span = hi - lo
    if not span > 0.0:
        return np.full(x.shape, lo)
    if x.size == 0 or (x.min() >= lo and x.max() <= hi):  # nothing outside (a NaN goes on: False here)
        return x
    outside = (x < lo) | (x > hi)
    if not outside.any():
        return x
    t = np.mod(x - lo, 2.0 * span)
    folded = np.clip(lo + np.where(t > span, 2.0 * span - t, t), lo, hi)
    return np.where(outside, folded, x)


def counted_values(stats: ContinuousStats, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct observed values and their exact counts, for a private range (a sketch's are not
    exact: the range must then be declared)."""
    if isinstance(stats.observed, ValueSketch):
        raise OptionError(
            f"column {column!r}: budget: its values were summarised by a sketch (more distinct values than "
            "exact_values_limit), whose counts a private range cannot use: declare its minimum and maximum "
            "in the schema, or fit with a larger exact_values_limit"
        )
    return stats.observed.values, stats.observed.counts


def observed_values(observed: Observed) -> np.ndarray:
    """The values a fit learns from, sorted: every row's when counted; when sketched, values at evenly
    spaced ranks (``ValueSketch.sample``) that keep the exact minimum and maximum."""
    return observed.sample() if isinstance(observed, ValueSketch) else observed.expand()


@dataclass(frozen=True)
class ContinuousStats:
    """One partition of a number or datetime column."""

    missing: MissingStats
    observed: Observed  # the non-missing values as floats: counted, or sketched past the limit
    tz: str | None = None  # datetimes: the native column's time zone
    offsets: tuple[tuple[int, int], ...] = ()  # datetimes as text: (UTC offset in minutes, rows)
    fraction_digits: tuple[tuple[int, int], ...] = ()  # datetimes as text: (digits after the seconds, rows)
    time_of_day: tuple[float, float] | None = None  # datetimes: the least and greatest seconds into a day
    # datetimes as text with offsets: the time zones whose offset at each instant is the one it was
    # written with (None: no offsets to explain), and the time of day's range as written
    zones: tuple[str, ...] | None = None
    written_time_of_day: tuple[float, float] | None = None
    missing_rows: int = 0  # the missing cells (a private range noises their count with its histogram)

    @classmethod
    def merge(cls, parts: Sequence[ContinuousStats], column: str, limit: int) -> ContinuousStats:
        if not parts:
            raise DataError(f"column {column!r}: nothing to learn from (no partition was analyzed)")
        return cls(
            MissingStats.merge(p.missing for p in parts),
            merge_observed((p.observed for p in parts), limit),
            single([p.tz for p in parts], "time zone", column),
            tuple(merge_counts(p.offsets for p in parts).items()),
            tuple(merge_counts(p.fraction_digits for p in parts).items()),
            _merge_ranges([p.time_of_day for p in parts]),
            _common_zones([p.zones for p in parts]),
            _merge_ranges([p.written_time_of_day for p in parts]),
            sum(p.missing_rows for p in parts),
        )


def _common_zones(zones: Sequence[tuple[str, ...] | None]) -> tuple[str, ...] | None:
    """The zones that explain every partition's offsets (None: no partition had offsets)."""
    given = [z for z in zones if z is not None]
    if not given:
        return None
    common = set(given[0]).intersection(*given[1:])
    return tuple(z for z in given[0] if z in common)  # in the order of preference each partition keeps


def _merge_ranges(ranges: Sequence[tuple[float, float] | None]) -> tuple[float, float] | None:
    given = [r for r in ranges if r is not None]
    if not given:
        return None
    return min(r[0] for r in given), max(r[1] for r in given)


class ContinuousCodec(Codec[ContinuousStats]):
    missing: MissingPart
    minimum: float
    maximum: float
    fill: float
    sketch: ValueSketch | None = None  # the observed values' summary when they were too many to count

    @abstractmethod
    def to_floats(self, values: pd.Series) -> np.ndarray:
        """Values as float64, NaN where missing; a clear error names the first bad row."""

    @abstractmethod
    def learn(self, stats: ContinuousStats, public: PublicBounds) -> None:
        """Set ``minimum``, ``maximum`` (``public``'s where given), ``fill`` and the rest from the stats."""

    @abstractmethod
    def released(self, stats: ContinuousStats, budget: PrivacyBudget, public: PublicBounds) -> pd.Series:
        """The public values the codec learns from under ``budget``: an even grid over the public range,
        or over the range released privately from ``stats`` (charged on the budget's ledger)."""

    def analyze(self, values: pd.Series) -> ContinuousStats:
        return self.stats_of(values, self.to_floats(values))

    def stats_of(self, values: pd.Series, x: np.ndarray) -> ContinuousStats:
        """The stats of ``values``, read as the floats ``x`` (``to_floats(values)``)."""
        limit = self.options.exact_values_limit
        absent = np.isnan(x)
        return ContinuousStats(
            MissingStats.of(values), observe(x[~absent], limit), missing_rows=int(absent.sum())
        )

    def reduce(
        self,
        stats: Sequence[ContinuousStats],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> ContinuousStats:
        bounds = self.public_bounds(budget, public)
        merged = ContinuousStats.merge(stats, self.column.name, self.options.exact_values_limit)
        if budget is not None:  # from here on, only what the budget released
            merged = self.analyze(self.released(merged, budget, bounds))
        self.sketch = merged.observed if isinstance(merged.observed, ValueSketch) else None
        self.missing = MissingPart(self.column.name)
        self.missing.learn(merged.missing)
        self.learn(merged, bounds)
        return merged

    @property
    def value_name(self) -> str:
        return f"{self.column.name}::{VALUE_PART}"

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [*self.missing.subcolumns, self.sub(VALUE_PART, discrete=False)]

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        x = self.to_floats(values)
        parts = self.missing.encode(values)
        parts[self.value_name] = np.where(np.isnan(x), self.fill, x)
        return parts

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "fill": self.fill,
            "missing": self.missing.get_state(),
        }
        if self.sketch is None:
            return state, {}
        state["sketch"], items = self.sketch.get_state()
        return state, {SKETCH_ARRAY: items}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.minimum, self.maximum = require_bounds(state, "minimum", "maximum")
        self.fill = require_float(state, "fill")
        self.missing = MissingPart.from_state(self.column.name, state)
        self.sketch = None
        if "sketch" in state:
            with within("sketch"):
                self.sketch = ValueSketch.from_state(require_mapping(state["sketch"]), arrays)
        elif SKETCH_ARRAY in arrays:
            raise StateError(SKETCH_ARRAY, "sketch items without the state's sketch field", array=True)
