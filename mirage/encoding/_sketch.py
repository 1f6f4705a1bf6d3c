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
