"""Mergeable statistics: what one partition of a column contributes to a codec's fit.

A codec's ``analyze`` reads one partition (or one entity group) and returns a small frozen stats object;
``reduce`` merges the stats of every partition and learns from the merge.  The summaries here merge
exactly: counts add, bounds take the extremes, and quantiles come from merged value counts (every
distinct value with its rows), so fitting on partitions equals fitting on the whole column.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = ["OrderedCounts", "ValueCounts", "merge_counts", "single"]

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class ValueCounts:
    """The distinct floats of a partition (sorted) and how many rows hold each; read-only."""

    values: np.ndarray  # float64, sorted, distinct
    counts: np.ndarray  # int64, same length

    def __post_init__(self) -> None:
        self.values.flags.writeable = False
        self.counts.flags.writeable = False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueCounts):
            return NotImplemented
        return bool(np.array_equal(self.values, other.values) and np.array_equal(self.counts, other.counts))

    @classmethod
    def of(cls, x: np.ndarray) -> ValueCounts:
        values, counts = np.unique(np.asarray(x, dtype="float64"), return_counts=True)
        return cls(values, counts.astype(np.int64))

    @classmethod
    def merge(cls, parts: Iterable[ValueCounts]) -> ValueCounts:
        parts = list(parts)
        if not parts:
            return cls.of(np.empty(0))
        values = np.concatenate([p.values for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        merged, inverse = np.unique(values, return_inverse=True)
        return cls(merged, np.bincount(inverse, weights=counts, minlength=merged.size).astype(np.int64))

    @property
    def size(self) -> int:
        """Rows counted."""
        return int(self.counts.sum())

    def expand(self) -> np.ndarray:
        """Every counted row's value, sorted (the exact multiset, for exact quantiles)."""
        return np.repeat(self.values, self.counts)


@dataclass(frozen=True)
class OrderedCounts:
    """Rows per distinct value, in the order values first appear (so merging keeps the whole's order)."""

    items: tuple[tuple[Any, int], ...]

    @classmethod
    def merge(cls, parts: Iterable[OrderedCounts]) -> OrderedCounts:
        return cls(tuple(merge_counts(p.items for p in parts).items()))

    def as_dict(self) -> dict[Any, int]:
        return dict(self.items)


def merge_counts(parts: Iterable[Iterable[tuple[Hashable, int]]]) -> dict[Any, int]:
    """Counts added key by key; keys keep the order they first appear in."""
    out: dict[Any, int] = {}
    for part in parts:
        for key, count in part:
            out[key] = out.get(key, 0) + int(count)
    return out


def single(values: Sequence[T], what: str, column: str) -> T:
    """The one value every partition agrees on (a dtype, a time zone); a clear error otherwise."""
    from mirage.errors import DataError

    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        raise DataError(
            f"column {column!r}: partitions disagree on the {what} ({distinct[0]!r}, {distinct[1]!r})"
        )
    return distinct[0]
