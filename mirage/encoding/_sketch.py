"""A deterministic, mergeable quantile summary for columns with too many distinct values to count exactly.

Up to ``EncodingOptions.exact_values_limit`` distinct values a partition keeps every value with its
count (:class:`~mirage.encoding._stats.ValueCounts`) and quantiles are exact.  Past it, a partition
keeps a :class:`ValueSketch`: a compactor summary in the style of KLL (levels of sorted items, an item
on level ``h`` standing for ``2**h`` rows) that compacts without randomness, so it needs no seed.

A compaction takes a whole level, sorted, and promotes every other item (the even positions on even
levels, the odd ones on odd levels) to the level above; an odd item out stays.  For any value, the rows
the summary counts at or below it then move by at most ``2**h``, so the summary carries the sum of
those costs (``error_rows``): every rank it reports is within ``error_rows`` rows of the exact rank.
A pass compacts the lowest level holding two items or more until at most ``SKETCH_ITEMS`` items remain;
the levels it compacts climb, and when it compacts level ``h`` more than ``SKETCH_ITEMS - MAX_LEVELS``
items weigh at least ``2**h`` each, so one pass adds less than ``PASS_RANK_ERROR`` (2 / 4,036, 0.050%)
of the rows.  Analyzing partitions and reducing them once makes two passes: within ``SKETCH_RANK_ERROR``
(0.099%); each further reduce of reduced stats adds at most one ``PASS_RANK_ERROR``.

Determinism: a partition's summary depends only on the multiset of its values (they are sorted before
any compaction), and a merge concatenates each level's items and sorts them before compacting, so it
depends only on the multiset of its parts: the same partitioning gives a bit-identical summary whatever
the rows' order, the parts' order, the process or the run.  Merging is not associative (reducing
``[a, b]`` and then ``c`` may differ from reducing ``[a, b, c]``), and another partitioning gives
another summary within the bound.  Row counts, the minimum and the maximum are exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from mirage._validate import StateError, require_array, require_float, require_int, require_list, show
from mirage.encoding._stats import ValueCounts

__all__ = [
    "ITEMS_PER_PIECE",
    "MAX_LEVELS",
    "PASS_RANK_ERROR",
    "SKETCH_ARRAY",
    "SKETCH_ITEMS",
    "SKETCH_RANK_ERROR",
    "SKETCH_SAMPLE",
    "Observed",
    "ValueSketch",
    "merge_observed",
    "observe",
]

SKETCH_ITEMS = 4096  # items a summary keeps at most (32 KiB of float64)
MAX_LEVELS = 60  # an item weighs at most 2**59 rows
PASS_RANK_ERROR = 2 / (SKETCH_ITEMS - MAX_LEVELS)  # what one compaction pass adds, as a share of the rows
SKETCH_RANK_ERROR = 2 * PASS_RANK_ERROR  # analyze (one pass per partition), then one reduce
SKETCH_SAMPLE = 100_000  # evenly ranked values read from a sketch where a fit needs values, not quantiles
ITEMS_PER_PIECE = 100  # distinct sketch items a piece of a sketched column's rounding pattern learns from
SKETCH_ARRAY = "sketch.items"  # a codec's saved sketch items, level by level


def _compact(levels: list[np.ndarray], error_rows: int) -> tuple[tuple[np.ndarray, ...], int]:
    """One pass: compact the lowest level holding two items or more until at most ``SKETCH_ITEMS`` remain.

    ``levels`` hold sorted items; the result's levels are sorted and read-only, with no empty top level.
    """
    total = sum(level.size for level in levels)
    while total > SKETCH_ITEMS:
        h = next(i for i, level in enumerate(levels) if level.size >= 2)
        items = levels[h]
        odd = items.size % 2
        paired, held = (items[:-1], items[-1:]) if odd else (items, items[:0])
        promoted = paired[h % 2 :: 2]  # alternating by level, so the levels' biases do not all add up
        levels[h] = held
        if h + 1 == len(levels):
            levels.append(promoted)
        else:
            above = levels[h + 1]
            levels[h + 1] = np.sort(np.concatenate([above, promoted])) if above.size else promoted
        total -= promoted.size
        error_rows += 1 << h
    while len(levels) > 1 and levels[-1].size == 0:
        levels.pop()
    frozen = tuple(np.array(level, dtype="float64") for level in levels)
    for level in frozen:
        level.flags.writeable = False
    return frozen, error_rows


def _finite_floats(values: np.ndarray) -> np.ndarray:
    """``values`` as float64 with ``-0.0`` read as ``0.0`` (equal values sort alike whatever their order)."""
    return np.asarray(values, dtype="float64") + 0.0


@dataclass(frozen=True, eq=False)
class ValueSketch:
    """A deterministic compactor summary of a partition's (or a merge's) values; never updated once built."""

    levels: tuple[np.ndarray, ...]  # levels[h]: sorted float64 items, each standing for 2**h rows
    minimum: float  # exact
    maximum: float  # exact
    error_rows: int  # every rank the summary reports is within this many rows of the exact rank

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueSketch):
            return NotImplemented
        return (
            len(self.levels) == len(other.levels)
            and all(np.array_equal(a, b) for a, b in zip(self.levels, other.levels, strict=True))
            and (self.minimum, self.maximum, self.error_rows)
            == (other.minimum, other.maximum, other.error_rows)
        )

    @classmethod
    def of(cls, counts: ValueCounts) -> ValueSketch:
        """The summary of counted values (at least one row): a function of the multiset alone."""
        return cls.merge([counts])

    @classmethod
    def merge(cls, parts: Iterable[ValueCounts | ValueSketch]) -> ValueSketch:
        """One summary of every part (at least one row in all); counted parts enter exactly, on level 0.

        Each level's items are pooled and sorted before one compaction pass, so the result does not
        depend on the parts' order.
        """
        pooled: list[list[np.ndarray]] = [[]]
        lows: list[float] = []
        highs: list[float] = []
        error_rows = 0
        for part in parts:
            if isinstance(part, ValueSketch):
                while len(pooled) < len(part.levels):
                    pooled.append([])
                for h, level in enumerate(part.levels):
                    pooled[h].append(level)
                lows.append(part.minimum)
                highs.append(part.maximum)
                error_rows += part.error_rows
            elif part.values.size:
                values = _finite_floats(part.values)
                pooled[0].append(np.repeat(values, part.counts))
                lows.append(float(values[0]))
                highs.append(float(values[-1]))
        if not lows:
            raise ValueError("a quantile sketch needs at least one value")
        levels = [np.sort(np.concatenate(chunks)) if chunks else np.empty(0) for chunks in pooled]
        frozen, error_rows = _compact(levels, error_rows)
        return cls(frozen, min(lows), max(highs), error_rows)

    @property
    def size(self) -> int:
        """Rows summarised (exact)."""
        return sum(level.size << h for h, level in enumerate(self.levels))

    @property
    def retained(self) -> int:
        """Items kept."""
        return sum(level.size for level in self.levels)

    @property
    def rank_error(self) -> float:
        """The certified bound on any reported rank's error, as a share of the rows."""
        return self.error_rows / self.size

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        """Values at normalized ranks in ``[0, 1]``: the smallest kept item whose rows at or below it reach
        ``rank * rows``; its exact rank is within ``rank_error`` of the one asked for."""
        items = np.concatenate(self.levels)
        weights = np.concatenate(
            [np.full(level.size, 1 << h, dtype=np.int64) for h, level in enumerate(self.levels)]
        )
        order = np.argsort(items, kind="stable")
        cumulative = np.cumsum(weights[order])
        at = np.searchsorted(cumulative, np.asarray(ranks, dtype="float64") * self.size, side="left")
        return items[order][np.minimum(at, items.size - 1)]

    def median(self) -> float:
        return float(self.quantiles(np.array([0.5]))[0])

    def sample(self, m: int = SKETCH_SAMPLE) -> np.ndarray:
        """``min(rows, m)`` values at evenly spaced ranks, sorted, with the exact minimum and maximum.

        Every value is one the column holds (compaction keeps items, never averages), so the grids a
        rounding pattern learns from them are the column's own.
        """
        m = max(1, min(self.size, m))
        x = self.quantiles((np.arange(m) + 0.5) / m)
        x[0], x[-1] = self.minimum, self.maximum
        return np.sort(x)

    def piece_rows(self, sample_size: int) -> int:
        """Rows of a ``sample`` of ``sample_size`` that span ``ITEMS_PER_PIECE`` of the items the sketch
        keeps: a piece learnt from fewer would miss the rarer precisions (its shares would be noise)."""
        return math.ceil(sample_size * ITEMS_PER_PIECE / max(1, self.retained))

    def get_state(self) -> tuple[dict[str, Any], np.ndarray]:
        """JSON fields and the items (float64, level by level) for a model file."""
        state = {
            "level_sizes": [int(level.size) for level in self.levels],
            "rows": self.size,
            "error_rows": self.error_rows,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }
        return state, np.concatenate(self.levels)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> ValueSketch:
        """The summary ``get_state`` saved, checked field by field (a ``StateError`` names the field)."""
        sizes = require_list(state, "level_sizes")
        if not 1 <= len(sizes) <= MAX_LEVELS or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes
        ):
            raise StateError("level_sizes", f"expected 1 to {MAX_LEVELS} counts >= 0, got {show(sizes)}")
        rows = require_int(state, "rows", low=1)
        error_rows = require_int(state, "error_rows", low=0)
        low, high = require_float(state, "minimum"), require_float(state, "maximum")
        if low > high:
            raise StateError("minimum", f"{low!r} is above maximum {high!r}")
        items = require_array(arrays, SKETCH_ARRAY, kind="f", shape=(None,))
        if items.size != sum(sizes) or not 1 <= items.size <= SKETCH_ITEMS:
            raise StateError(
                SKETCH_ARRAY,
                f"holds {items.size} items where level_sizes add up to {sum(sizes)} (1 to {SKETCH_ITEMS})",
                array=True,
            )
        if rows != sum(s << h for h, s in enumerate(sizes)):
            raise StateError("rows", f"{rows} is not the rows the levels' items stand for")
        if items.min() < low or items.max() > high:
            raise StateError(
                SKETCH_ARRAY, "holds a value outside the sketch's minimum and maximum", array=True
            )
        bounds = np.cumsum([0, *sizes])
        levels = [_finite_floats(items[a:b]) for a, b in pairwise(bounds.tolist())]
        if any(np.any(np.diff(level) < 0) for level in levels):
            raise StateError(SKETCH_ARRAY, "a level's items are not sorted", array=True)
        for level in levels:
            level.flags.writeable = False
        return cls(tuple(levels), low, high, error_rows)


Observed = ValueCounts | ValueSketch


def observe(x: np.ndarray, limit: int) -> Observed:
    """A partition's values: counted exactly up to ``limit`` distinct values, sketched past it."""
    counts = ValueCounts.of(x)
    if counts.values.size <= limit:
        return counts
    return ValueSketch.of(counts)


def merge_observed(parts: Iterable[Observed], limit: int) -> Observed:
    """Exact counts while every part is exact and the merge has at most ``limit`` distinct values."""
    parts = list(parts)
    exact = [p for p in parts if isinstance(p, ValueCounts)]
    if len(exact) == len(parts):
        merged = ValueCounts.merge(exact)
        if merged.values.size <= limit:
            return merged
        return ValueSketch.of(merged)
    return ValueSketch.merge(parts)
