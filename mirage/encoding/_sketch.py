"""A mergeable quantile summary for columns with too many distinct values to count exactly.

Up to ``EncodingOptions.exact_values_limit`` distinct values a partition keeps every value with its
count (:class:`~mirage.encoding._stats.ValueCounts`) and quantiles are exact.  Past it, a partition
keeps Apache DataSketches' KLL sketch instead (``kll_doubles_sketch`` with ``k = KLL_K``): memory
stays at a few thousand values whatever the rows, sketches merge, row counts and the minimum and
maximum stay exact, and any quantile is off by at most ``KLL_RANK_ERROR`` in rank (DataSketches'
single-sided normalized rank error for this ``k``, met with 99% confidence).  KLL compacts at random
(DataSketches takes no seed), so past the limit quantile-derived fits may differ between runs within
that error.  datasketches is optional: ``pip install "mirage-synth[scale]"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage.encoding._stats import ValueCounts
from mirage.errors import MissingDependencyError, ModelFileError

__all__ = [
    "EXACT_VALUES_LIMIT",
    "INSTALL",
    "ITEMS_PER_PIECE",
    "KLL_K",
    "KLL_RANK_ERROR",
    "SKETCH_SAMPLE",
    "Observed",
    "ValueSketch",
    "observe",
    "merge_observed",
]

EXACT_VALUES_LIMIT = 1_000_000  # distinct values a column's stats count exactly before sketching
KLL_K = 200  # DataSketches' default: about 1.3% rank error, a few kilobytes per sketch
KLL_RANK_ERROR = 0.0133  # kll_doubles_sketch.get_normalized_rank_error(200, False), rounded up
SKETCH_SAMPLE = 100_000  # evenly ranked values read from a sketch where a fit needs values, not quantiles
ITEMS_PER_PIECE = 100  # distinct sketch items a piece of a sketched column's rounding pattern learns from
INSTALL = 'pip install "mirage-synth[scale]"'


def _kll() -> Any:
    try:
        import datasketches
    except ImportError:
        return None
    return datasketches.kll_doubles_sketch


def _require_kll(column: str, distinct: int, limit: int) -> Any:
    kll = _kll()
    if kll is None:
        raise MissingDependencyError(
            f"column {column!r}: {distinct} distinct values exceed exact_values_limit ({limit}); "
            f"summarising them needs datasketches, which is not installed: {INSTALL}"
        )
    return kll


@dataclass(frozen=True, eq=False)
class ValueSketch:
    """A KLL sketch of a partition's (or a merge's) values; never updated once built."""

    sketch: Any  # datasketches.kll_doubles_sketch

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueSketch):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    @classmethod
    def merge(cls, parts: Iterable[ValueCounts | ValueSketch], column: str, limit: int) -> ValueSketch:
        """One sketch of every part; exact counts are fed in value by value (each row once)."""
        parts = list(parts)
        distinct = sum(p.values.size for p in parts if isinstance(p, ValueCounts))
        sketch = _require_kll(column, distinct, limit)(KLL_K)
        for part in parts:
            if isinstance(part, ValueSketch):
                sketch.merge(part.sketch)
            elif part.values.size:
                sketch.update(np.ascontiguousarray(part.expand(), dtype="float64"))
        return cls(sketch)

    @property
    def size(self) -> int:
        """Rows summarised (exact)."""
        return int(self.sketch.n)

    @property
    def minimum(self) -> float:
        return float(self.sketch.get_min_value())

    @property
    def maximum(self) -> float:
        return float(self.sketch.get_max_value())

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        """Values at normalized ranks in ``[0, 1]`` (within ``KLL_RANK_ERROR`` of the exact ranks)."""
        return np.asarray(self.sketch.get_quantiles(np.asarray(ranks, dtype="float64")), dtype="float64")

    def median(self) -> float:
        return float(self.sketch.get_quantile(0.5))

    def sample(self, m: int = SKETCH_SAMPLE) -> np.ndarray:
        """``min(rows, m)`` values at evenly spaced ranks, sorted, with the exact minimum and maximum.

        Every value is one the column holds (KLL keeps items, never averages), so the grids a rounding
        pattern learns from them are the column's own.
        """
        m = max(1, min(self.size, m))
        x = self.quantiles((np.arange(m) + 0.5) / m)
        x[0], x[-1] = self.minimum, self.maximum
        return np.sort(x)

    def piece_rows(self, sample_size: int) -> int:
        """Rows of a ``sample`` of ``sample_size`` that span ``ITEMS_PER_PIECE`` of the items the sketch
        keeps: a piece learnt from fewer would miss the rarer precisions (its shares would be noise)."""
        return math.ceil(sample_size * ITEMS_PER_PIECE / max(1, int(self.sketch.num_retained)))

    def to_bytes(self) -> bytes:
        return bytes(self.sketch.serialize())

    def to_array(self) -> np.ndarray:
        """The serialised sketch as uint8, for a model file's arrays."""
        return np.frombuffer(self.to_bytes(), dtype=np.uint8).copy()

    @classmethod
    def from_array(cls, array: np.ndarray, column: str) -> ValueSketch:
        """The sketch ``to_array`` wrote; a ``ModelFileError`` names what cannot be read."""
        kll = _kll()
        if kll is None:
            raise ModelFileError(
                f"column {column!r}: the model holds a quantile sketch, which needs datasketches: {INSTALL}"
            )
        a = np.asarray(array)
        if a.dtype != np.uint8 or a.ndim != 1:
            raise ModelFileError(f"column {column!r}: the quantile sketch is not a 1-d uint8 array")
        problem = _layout_problem(a.tobytes())
        if problem is not None:
            raise ModelFileError(f"column {column!r}: the quantile sketch cannot be read ({problem})")
        try:
            sketch = kll.deserialize(a.tobytes())
        except (RuntimeError, ValueError) as exc:
            raise ModelFileError(f"column {column!r}: the quantile sketch cannot be read ({exc})") from None
        if sketch.is_empty() or not (
            np.isfinite(sketch.get_min_value()) and np.isfinite(sketch.get_max_value())
        ):
            raise ModelFileError(f"column {column!r}: the quantile sketch is empty or not finite")
        return cls(sketch)


Observed = ValueCounts | ValueSketch

_KLL_FAMILY = 15
_MAX_LEVELS = 61


def _level_capacity(k: int, depth: int) -> int:
    """DataSketches' ``int_cap_aux``: the items a level ``depth`` below the top holds, ``k (2/3)^depth``."""
    if depth > 30:
        return _level_capacity(_level_capacity(k, depth // 2), depth - depth // 2)
    return (((2 * k) << depth) // 3**depth + 1) >> 1


def _layout_problem(b: bytes) -> str | None:
    """What is wrong with a serialised ``kll_doubles_sketch``'s layout (None: its sizes add up).

    DataSketches reads past a buffer whose header does not match its length (a crash, not an error), so
    the header is checked against the length before the bytes are handed to it.
    """
    if len(b) < 8 or b[2] != _KLL_FAMILY:
        return "not a KLL sketch"
    preamble, version, flags, k, m = b[0], b[1], b[3], int.from_bytes(b[4:6], "little"), b[6]
    if not (8 <= k <= 65535 and m == 8):
        return f"k={k}, m={m}"
    if flags & 1:  # empty
        return None if (preamble, len(b)) == (2, 8) else "an empty sketch of the wrong size"
    if flags & 4:  # a single item
        return None if (preamble, version, len(b)) == (2, 2, 16) else "a one-item sketch of the wrong size"
    if preamble != 5 or len(b) < 20:
        return "a truncated header"
    levels = b[18]
    if not 1 <= levels <= _MAX_LEVELS:
        return f"{levels} levels"
    capacity = sum(max(m, _level_capacity(k, levels - h - 1)) for h in range(levels))
    head = 20 + 4 * levels
    if len(b) < head:
        return "truncated level offsets"
    offsets = np.frombuffer(b[20:head], dtype="<u4").astype(np.int64)
    if np.any(np.diff(np.append(offsets, capacity)) < 0) or offsets[0] >= capacity:
        return "level offsets out of order"
    expected = head + 16 + 8 * (capacity - int(offsets[0]))
    if len(b) != expected:
        return f"{len(b)} bytes where the header says {expected}"
    per_level = np.diff(np.append(offsets, capacity))
    n, min_k = int.from_bytes(b[8:16], "little"), int.from_bytes(b[16:18], "little")
    if not 8 <= min_k <= k or n != sum(int(c) << h for h, c in enumerate(per_level.tolist())):
        return "a row count its items do not add up to"
    low, high = np.frombuffer(b[head : head + 16], dtype="<f8")
    items = np.frombuffer(b[head + 16 :], dtype="<f8")
    if not (np.isfinite(low) and np.isfinite(high) and np.all(np.isfinite(items))):
        return "values that are not finite"
    if not (low <= items.min() and items.max() <= high):
        return "values outside its minimum and maximum"
    return None


def observe(x: np.ndarray, column: str, limit: int) -> Observed:
    """A partition's values: counted exactly up to ``limit`` distinct values, sketched past it."""
    counts = ValueCounts.of(x)
    if counts.values.size <= limit:
        return counts
    return ValueSketch.merge([counts], column, limit)


def merge_observed(parts: Iterable[Observed], column: str, limit: int) -> Observed:
    """Exact counts while every part is exact and the merge has at most ``limit`` distinct values."""
    parts = list(parts)
    exact = [p for p in parts if isinstance(p, ValueCounts)]
    if len(exact) == len(parts):
        merged = ValueCounts.merge(exact)
        if merged.values.size <= limit:
            return merged
        return ValueSketch.merge([merged], column, limit)
    return ValueSketch.merge(parts, column, limit)
