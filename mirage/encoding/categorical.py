"""Categories and booleans: a discrete sub-column of codes plus the shared ``missing`` flag.

Missing values are a flag of their own (not a code), so engines see "missing together" patterns
between columns directly; missing rows carry the most frequent code as a placeholder.

Rare-category protection: a category seen in fewer than ``options.rare_min_count`` training rows is
never emitted verbatim. On small tables a category must clear that count by a margin as well (see
:func:`frequent_categories`): there a category that only just reaches the count is mostly one that the
training rows happen to over-represent, and emitting it makes synthetic rows sit closer to the training
rows than to fresh rows of the same population. Text categories fold into the token ``RARE_TOKEN``;
numeric categories and those of an ordered pandas Categorical fold into the nearest frequent value
(top/bottom coding), so the column keeps its type. When the column has an ``id_format`` (codes with a
structure), rows of the rare token are written as new random codes of that format instead, each number
of the format within the range the column's rows hold it in (its ``rare_min_count``-th smallest and
largest: no ``2024-W81`` for ISO weeks). Most rows
folding into the rare token is warned about, with a better kind to give the column.

A number column of few values is inferred categorical, and its rare values fold into their kept
neighbours.  Where many rows hold rare values (a product table's reorder levels 0, 5, ..., 30, held by
7 to 24 rows each of 77), the fold piles them onto a few kept values, often one: every generated row
then takes the column's most common value.  :func:`number_categories_as_numbers` turns such a column
into a numeric one before the fit, drawn from its smoothed distribution, whose rare extremes the
engines already withhold.

A pandas Categorical column comes back with its dtype: the same categories (unused ones too) in the
same order, plus ``RARE_TOKEN`` only if the model can emit it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from mirage._validate import (
    StateError,
    require_bool,
    require_categories,
    require_counts,
    require_list,
    show,
)
from mirage._warnings import warn
from mirage.encoding._base import Codec, SubColumn, as_dtype
from mirage.encoding._missing import MissingPart, MissingStats
from mirage.encoding._public import PrivacyBudget, PublicBounds, public_series
from mirage.encoding._stats import OrderedCounts, single
from mirage.encoding.identifier import number_count, number_ranges, parse_id_format, random_codes
from mirage.errors import DataError
from mirage.schema import Column, Kind, Schema
from mirage.schema._inference import MOSTLY_RARE, RARE_MIN_COUNT, _measured, high_cardinality

__all__ = [
    "CATEGORIES_SHARE_OF_TEXT",
    "RARE_TOKEN",
    "BooleanCodec",
    "CategoricalCodec",
    "CategoryStats",
    "categories_share",
    "clearing_count",
    "frequent_categories",
    "number_categories_as_numbers",
    "number_categories_of_stats",
]

RARE_TOKEN = "_RARE_"
CATEGORIES_SHARE_OF_TEXT = 0.75  # of a text column's rho under a budget: its categories; the rest, rare rows
CODE_PART = "code"


#: the one-sided z of the margin a category's count must clear on small tables (95%)
MARGIN_Z = 1.645
#: how many standard errors apart two counts must be for a cut between them to hold under another
#: draw of the rows (and a kept count from ``rare_min_count``)
GAP_Z = 1.0
#: the share of the rows at which a category counts as a large part of its table: the margin is in full
#: from that share up and shrinks in proportion below it, so on tables of thousands of rows it vanishes
LARGE_SHARE = 0.05
#: the share of a number category column's rows whose values the rare fold would move onto a kept
#: neighbour from which the column is learned as a number: a marginal off by that much in total
#: variation, where the fold is meant to cost the few rows of a handful of rare values
FOLDED_SHARE = 0.1


def frequent_categories(
    counts: Mapping[Any, int],
    rare_min_count: int,
    rows: int | None = None,
    *,
    margin: bool = True,
    by_share: bool = True,
) -> list[Any]:
    """The categories emitted verbatim, in the order of ``counts``: never one seen in fewer than
    ``rare_min_count`` rows, and on small tables, where it can be helped, not a set of categories
    that the draw of the rows decides.

    Why: which categories pass a count depends on which rows were sampled, so the categories that a
    fixed cut keeps are, where their counts lie near it, mostly ones the training rows
    over-represent. On a table of thousands of rows such categories hold a negligible part of the
    rows; on a table of 70 (a lookup table of a database), a category of 10 rows is a seventh of it,
    and keeping it makes synthetic rows closer to the training rows than to fresh rows of the same
    population (a distance-to-closest-record share above 0.5). Both rules below weigh a category by
    its part of the table, ``weight = min(1, share / LARGE_SHARE)`` (``share`` of the ``rows``,
    missing ones too), so they vanish on large tables:

    * the margin (``margin`` True): a category is *clear* when its count exceeds ``rare_min_count``
      by a one-sided 95% bound of its sampling error, ``count >= rare_min_count +
      floor(MARGIN_Z * sqrt(count) * weight)`` (without ``margin``: when it reaches the count);
    * the gap: the kept categories are the most frequent ones, and a cut is *steady* when the count
      of the least frequent kept, ``a``, stands apart both from the most frequent dropped, ``b`` (0
      if none), and from the count under which a category is rare, by ``GAP_Z`` standard errors:
      ``a - b >= GAP_Z * sqrt(a + b) * weight(a)`` and ``a - (rare_min_count - 1) >= GAP_Z *
      sqrt(a) * weight(a)``; keeping none is steady.

    The clear categories are kept when their cut is steady. Else the cut moves down past categories
    that reach ``rare_min_count`` while that makes it steady (three categories of 13 to 19 rows in
    48: the margin keeps the one that the draw gave 19, the gap all three). Else text categories keep
    the clear ones (dropped ones fold into the rare token, which is near no real row), and ordinal
    ones (``margin`` False), which fold into their kept neighbours and so pile those neighbours'
    rows onto them, move the cut up to the nearest steady one, else keep the most frequent alone if
    it clears the margin, else the plain count decides.

    ``by_share`` False weighs every category in full (``weight = 1``), for categories that stand for
    entities of which many sit near the cut together (a column group, :mod:`mirage.relational._groups`):
    each is a small part of the table, but together they are most of it.

    Only a function of the merged counts, so every partitioning of the rows decides alike. ``rows``
    None: the plain count decides.
    """
    if rare_min_count <= 1:  # protection off: every category is kept
        return list(counts)
    if rows is None:
        return [v for v, c in counts.items() if c >= rare_min_count]
    total = max(rows, sum(counts.values()))
    ordered = sorted(counts.values(), reverse=True)

    def weight(count: int) -> float:
        return min(1.0, count / (total * LARGE_SHARE)) if by_share else 1.0

    def clear(count: int, by_margin: bool) -> bool:
        extra = int(MARGIN_Z * float(np.sqrt(count)) * weight(count)) if by_margin else 0
        return count >= rare_min_count + extra

    def steady(kept: int) -> bool:
        if kept == 0:
            return True
        least = ordered[kept - 1]
        if least - (rare_min_count - 1) < GAP_Z * float(np.sqrt(least)) * weight(least):
            return False  # the count itself may as well have fallen under rare_min_count
        dropped = ordered[kept] if kept < len(ordered) else 0
        return least - dropped >= GAP_Z * float(np.sqrt(least + dropped)) * weight(least)

    def most_frequent(kept: int) -> list[Any]:
        return [v for v, c in counts.items() if kept and c >= ordered[kept - 1]]

    cut = sum(1 for c in ordered if clear(c, margin))
    lower = cut
    while not steady(lower) and lower < len(ordered) and ordered[lower] >= rare_min_count:
        lower += 1
    if steady(lower):
        return most_frequent(lower)
    if margin:
        return most_frequent(cut)
    upper = cut - 1
    while upper > 0 and not steady(upper):
        upper -= 1
    if upper == 0 and ordered and clear(ordered[0], True):
        upper = 1
    return most_frequent(upper if upper else cut)


def number_categories_as_numbers(schema: Schema, data: pd.DataFrame, rare_min_count: int) -> Schema:
    """``schema``, with each number category column of ``data`` whose rare values hold at least
    ``FOLDED_SHARE`` of its rows turned into a numeric column (its range and decimals read from
    ``data``); ``schema`` itself when there is none.  Rare values are those
    :func:`frequent_categories` does not keep, as :class:`CategoricalCodec` decides for numbers.
    Declared categories are a public domain, never folded, and stay categories."""
    counted = {
        spec.name: (_counts(data[spec.name]), int(data[spec.name].size))
        for spec in schema
        if _may_turn(spec) and spec.name in data.columns and _number_dtype(data[spec.name].dtype)
    }
    return _numbers_where_folded(schema, counted, rare_min_count)


def number_categories_of_stats(
    schema: Schema, stats: Mapping[str, CategoryStats], rare_min_count: int
) -> Schema:
    """:func:`number_categories_as_numbers` from the columns' merged statistics (each column's rows per
    value, as partitions' ``CategoryStats``), where the rows themselves are not at hand."""
    counted = {
        name: (column.counts.as_dict(), column.rows)
        for name, column in stats.items()
        if name in schema.names
        and _may_turn(schema[name])
        and column.dtype_categories is None
        and _number_dtype(_dtype_or_none(schema[name].dtype))
    }
    return _numbers_where_folded(schema, counted, rare_min_count)


def _numbers_where_folded(
    schema: Schema, counted: Mapping[str, tuple[dict[Any, int], int]], rare_min_count: int
) -> Schema:
    """``schema`` with the category columns of ``counted`` (rows per present value, rows in all) whose
    rare values hold ``FOLDED_SHARE`` of the present rows turned into numbers."""
    if rare_min_count <= 1:  # protection off: every category is kept
        return schema
    turned = {
        spec.name: _numeric(spec, np.array(list(counted[spec.name][0]), dtype="float64"))
        for spec in schema
        if spec.name in counted and _folds_many_rows(*counted[spec.name], rare_min_count)
    }
    if not turned:
        return schema
    return replace(schema, columns=[turned.get(spec.name, spec) for spec in schema])


def _may_turn(spec: Column) -> bool:
    return spec.kind is Kind.CATEGORICAL and spec.categories is None


def _number_dtype(dtype: Any) -> bool:
    return (
        dtype is not None and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    )


def _dtype_or_none(name: str) -> Any:
    try:
        return pd.api.types.pandas_dtype(name)
    except (TypeError, ValueError):
        return None


def _counts(values: pd.Series) -> dict[Any, int]:
    return {_python(v): int(c) for v, c in values.dropna().value_counts(sort=False).items()}


def _folds_many_rows(counts: dict[Any, int], rows: int, rare_min_count: int) -> bool:
    if not counts:
        return False
    kept = set(frequent_categories(counts, rare_min_count, rows, margin=False))
    folded = sum(c for v, c in counts.items() if v not in kept)
    return folded >= FOLDED_SHARE * sum(counts.values())


def _numeric(spec: Column, distinct: np.ndarray) -> Column:
    whole = bool(np.all(np.isfinite(distinct)) and np.all(np.mod(distinct, 1.0) == 0.0))
    return _measured(distinct, whole, {"name": spec.name, "dtype": spec.dtype, "nullable": spec.nullable})


def clearing_count(rare_min_count: int) -> int:
    """The fewest rows with which a category is kept whatever its share of the table."""
    count = rare_min_count
    while rare_min_count > 1 and count < rare_min_count + int(MARGIN_Z * np.sqrt(count)):
        count += 1
    return count


def _nearest_codes(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per value, the index into ``grid`` (any order) of the nearest grid point; of two equally near
    points the one listed first."""
    order = np.argsort(grid, kind="stable")
    ordered = grid[order]
    position = np.searchsorted(ordered, values)
    left, right = np.clip(position - 1, 0, grid.size - 1), np.clip(position, 0, grid.size - 1)
    to_left, to_right = np.abs(values - ordered[left]), np.abs(ordered[right] - values)
    tie = np.minimum(order[left], order[right])
    return np.where(to_right < to_left, order[right], np.where(to_left < to_right, order[left], tie))


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _code_ranges_state(value: Any, id_format: str | None) -> list[tuple[int, int]] | None:
    """``code_ranges`` read back: one ``[low, high]`` of whole numbers from 0 per number of the format."""
    if value is None:
        return None
    numbers = number_count(parse_id_format(id_format)) if id_format is not None else 0
    if not isinstance(value, list) or len(value) != numbers or not all(_is_range(p) for p in value):
        raise StateError(
            "code_ranges", f"expected [low, high] per number of the id_format, got {show(value)}"
        )
    return [(int(low), int(high)) for low, high in value]


def _is_range(pair: Any) -> bool:
    return (
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in pair)
        and pair[0] <= pair[1]
    )


def categories_share(dtype: str) -> float:
    """The share of a categorical column's rho that measures its categories under a budget: all of it
    where the column cannot take the rare token (numbers, booleans), else three quarters, the rest
    counting the rows outside the released categories, which needs less (one row, not a category's
    false-release cut) and decides only whether a rare code is kept."""
    return CATEGORIES_SHARE_OF_TEXT if _holds_text(dtype) else 1.0


def _holds_text(dtype: str) -> bool:
    """Whether a column of this dtype (public, in the schema) holds text, which can take the rare token."""
    kind = pd.api.types.pandas_dtype(dtype)
    return pd.api.types.is_object_dtype(kind) or pd.api.types.is_string_dtype(kind)


@dataclass(frozen=True)
class CategoryStats:
    """One partition of a categorical or boolean column: rows per value, in first-appearance order."""

    missing: MissingStats
    counts: OrderedCounts
    # a pandas Categorical column: its categories and whether they are ordered (None: not Categorical)
    dtype_categories: tuple[Any, ...] | None = None
    dtype_ordered: bool = False
    rows: int = 0  # rows of the partition, missing ones too

    @classmethod
    def merge(cls, parts: Sequence[CategoryStats], column: str) -> CategoryStats:
        if not parts:
            raise DataError(f"column {column!r}: nothing to learn from (no partition was analyzed)")
        dtype = single([(p.dtype_categories, p.dtype_ordered) for p in parts], "categorical dtype", column)
        return cls(
            MissingStats.merge(p.missing for p in parts),
            OrderedCounts.merge(p.counts for p in parts),
            *dtype,
            rows=sum(p.rows for p in parts),
        )


def _dtype_of(values: pd.Series) -> tuple[tuple[Any, ...] | None, bool]:
    """The categories and order of a pandas Categorical column of plain values, else (None, False)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = tuple(_python(c) for c in dtype.categories)
        if all(isinstance(c, (str, int, float, bool)) for c in categories):
            return categories, bool(dtype.ordered)
    return None, False


class CategoricalCodec(Codec[CategoryStats]):
    public_fields: tuple[str, ...] = ("categories",)
    takes_budget = True

    categories: list[Any]  # decoded value of each code
    missing: MissingPart
    numeric: bool
    counts: list[int]
    # a pandas Categorical column: its categories (unused ones too) and order, restored on decode
    dtype_categories: list[Any] | None = None
    dtype_ordered: bool = False
    # a column with an id_format: the range of each of the format's numbers that new codes written for
    # the rare token take (identifier.number_ranges); None: the format's whole width
    code_ranges: list[tuple[int, int]] | None = None

    def analyze(self, values: pd.Series) -> CategoryStats:
        present = values.dropna()
        if isinstance(present.dtype, pd.CategoricalDtype):
            present = present.astype(object)
        counts = present.value_counts(sort=False)
        items = tuple((_python(v), int(c)) for v, c in counts.items())
        return CategoryStats(
            MissingStats.of(values), OrderedCounts(items), *_dtype_of(values), rows=int(values.size)
        )

    def reduce(
        self,
        stats: Sequence[CategoryStats],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> CategoryStats:
        bounds = self.public_bounds(budget, public)
        merged = CategoryStats.merge(stats, self.column.name)
        if budget is not None:  # from here on, only what the budget released
            merged = self.analyze(self.released(merged, budget, bounds))
        self.learn(merged, bounds)
        return merged

    def released(self, stats: CategoryStats, budget: PrivacyBudget, public: PublicBounds) -> pd.Series:
        """The public values the codec learns from under ``budget``: the public categories, or those whose
        noisy count passes (:func:`categories_share` of the budget's rho, and its delta), each in enough
        cells to be kept; one cell of the rare token for text, unless the noisy count of rows outside the
        released categories (the rest of the rho) says there are none; a missing cell if the column's
        nullable flag (public) or the noisy count of its missing cells says so."""
        from mirage.privacy._domains import private_categories, rare_rows

        col = self.column
        text = _holds_text(col.dtype)
        if public.categories is not None:
            kept, missing, rare = [_python(c) for c in public.categories], col.nullable, text
        else:
            counts = stats.counts.as_dict()
            missing_rows = stats.rows - sum(counts.values())
            min_count = self.options.rare_min_count
            share = categories_share(col.dtype)
            kept, missing = private_categories(
                counts, missing_rows, budget.ledger, budget.rho * share, budget.delta, min_count, col.name
            )
            outside = sum(c for v, c in counts.items() if v not in set(kept))
            rest = budget.rho * (1.0 - share)
            rare = text and (not kept or rare_rows(outside, budget.ledger, rest, col.name))
        if not kept and not rare:
            kind = pd.api.types.pandas_dtype(col.dtype)
            if pd.api.types.is_integer_dtype(kind) or pd.api.types.is_bool_dtype(kind):
                raise DataError(
                    f"column {col.name!r}: no category is frequent enough to be released at epsilon "
                    f"{budget.ledger.epsilon:g}: declare its categories in the schema, or raise epsilon"
                )
            missing = True  # nothing released: the column is drawn missing
        repeats = clearing_count(self.options.rare_min_count)
        cells = [c for c in kept for _ in range(repeats)]
        # the rare token in one cell beside released categories (the codec folds it in as rare); alone, as
        # a category of its own (every value is drawn as the rare class, as the user chose no domain)
        rare_cells = [RARE_TOKEN] * (0 if not rare else 1 if kept else repeats)
        released = public_series([*cells, *rare_cells], missing, col.dtype)
        if stats.dtype_categories is None:
            return released
        # a pandas Categorical keeps its dtype's categories and order (the column's type, unused ones too)
        return released.astype(pd.CategoricalDtype(list(stats.dtype_categories), ordered=stats.dtype_ordered))

    def learn(self, stats: CategoryStats, public: PublicBounds) -> None:
        """Learn from the merged stats; ``public.categories`` is the domain when given (none is rare)."""
        col = self.column
        self.missing = MissingPart(col.name)
        self.missing.learn(stats.missing)
        self.dtype_categories = None if stats.dtype_categories is None else list(stats.dtype_categories)
        self.dtype_ordered = stats.dtype_ordered
        counts = stats.counts.as_dict()
        self.numeric = bool(counts) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in counts
        )
        rank = self._rank()
        if public.categories is not None:
            declared = [_python(c) for c in public.categories]
            counts = {c: counts.get(c, 0) for c in declared}
            frequent = list(declared)
        elif rank is None:
            frequent = frequent_categories(counts, self.options.rare_min_count, stats.rows)
        else:
            # Ordinal categories fold into their neighbours, not out of the data: a margin would only
            # pile the rows onto fewer values (a small table's rows onto a few real ones); the cut
            # stays, as a number the draw keeps piles its neighbours' rows onto itself.
            frequent = frequent_categories(counts, self.options.rare_min_count, stats.rows, margin=False)
        kept = set(frequent)
        rare = [v for v in counts if v not in kept]
        if rank is not None:
            frequent = sorted(frequent, key=rank)
        elif col.ordered:
            frequent = sorted(frequent)
        else:
            order = {v: -int(c) for v, c in counts.items()}
            frequent = sorted(frequent, key=lambda v: (order.get(v, 0), str(v)))
        self.categories = list(frequent)
        self._fold: dict[Any, Any] = {}
        if rare:
            if rank is not None and frequent:
                grid = np.asarray([rank(v) for v in frequent], dtype="float64")
                for v in rare:
                    self._fold[v] = frequent[int(np.abs(grid - rank(v)).argmin())]
            elif rank is not None:
                # Nothing is frequent: the whole column collapses to its most common value.
                most = max(counts.values())
                top = next(v for v, c in counts.items() if c == most)
                self.categories = [top]
                self._fold = {v: self.categories[0] for v in rare}
            else:
                self.categories.append(RARE_TOKEN)
                self._fold = {v: RARE_TOKEN for v in rare}
                self._warn_if_mostly_rare(counts, rare)
        self.counts = [int(counts.get(c, 0)) for c in self.categories]
        self.code_ranges = None
        if col.id_format is not None and RARE_TOKEN in self.categories:
            written = parse_id_format(col.id_format)
            self.code_ranges = number_ranges(written, stats.counts.as_dict(), self.options.rare_min_count)

    def _rank(self) -> Callable[[Any], float] | None:
        """Where a category sits when categories are ordinal: numbers by value, an ordered
        Categorical by its categories' order (rare ones fold into the nearest frequent one)."""
        if self.dtype_ordered and self.dtype_categories is not None:
            position = {c: float(i) for i, c in enumerate(self.dtype_categories)}
            return lambda v: position.get(v, float(len(position)))
        if self.numeric:
            return float
        return None

    def _warn_if_mostly_rare(self, counts: dict[Any, int], rare: list[Any]) -> None:
        """Warn when most rows would decode to ``RARE_TOKEN``, unless rare values get a format, the
        categories were declared (the user chose the domain) or inference already said so.

        Inference counts values seen in fewer than ``rare_min_count`` rows; on a small table the
        margin of :func:`frequent_categories` also drops categories that reach it (three of 10 rows
        in 30), which no count told the user: that is said here, from the categories dropped."""
        if self.column.id_format is not None or self.column.categories is not None:
            return
        total = sum(counts.values())
        folded = sum(counts[v] for v in rare)
        below = sum(c for c in counts.values() if c < self.options.rare_min_count)
        if self.column.warned and self.options.rare_min_count == RARE_MIN_COUNT:
            if folded <= below:  # inference's count of the rare rows said it all
                return
        else:
            rows = pd.Series(list(counts.values()), index=[str(v) for v in counts], dtype="int64")
            better = high_cardinality(rows, self.options.rare_min_count)
            if better is not None:
                better.warn(self.column.name, inferred=False)
                return
        if total and folded > MOSTLY_RARE * total:
            largest = max(counts[v] for v in rare)
            warn(
                f"column {self.column.name!r}: {folded / total:.0%} of its {total:,} rows hold categories "
                f"too small for this table to keep (the largest, {largest} rows, is within the sampling "
                f"error of the {self.options.rare_min_count} rows a category needs), generated as "
                f"{RARE_TOKEN!r}; give more rows, or a lower rare_min_count",
                stacklevel=4,
            )

    @property
    def subcolumns(self) -> list[SubColumn]:
        code = self.sub(CODE_PART, discrete=True, cardinality=max(1, len(self.categories)))
        return [*self.missing.subcolumns, code]

    @property
    def placeholder(self) -> int:
        """The code missing rows carry: the most frequent category."""
        return int(np.argmax(self.counts)) if self.counts else 0

    def _lookup(self) -> dict[Any, int]:
        lookup = {c: i for i, c in enumerate(self.categories)}
        for value, target in getattr(self, "_fold", {}).items():
            lookup[value] = lookup[target]
        return lookup

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        lookup = self._lookup()
        mapped = values.astype(object).map(lookup, na_action="ignore")
        unknown = (mapped.isna() & values.notna()).to_numpy()
        codes = mapped.fillna(self.placeholder).to_numpy(dtype="int64")
        if unknown.any():
            rows = np.flatnonzero(unknown)
            codes[rows] = self._unseen_codes(values.to_numpy(dtype=object)[rows], lookup.get(RARE_TOKEN))
        parts = self.missing.encode(values)
        parts[f"{self.column.name}::{CODE_PART}"] = codes
        return parts

    def _unseen_codes(self, unseen: np.ndarray, fallback: int | None) -> np.ndarray:
        """The codes of values never seen in training, all at once: the rare code when there is one,
        else the nearest category of a number column (the first of two equally near) and the most
        frequent category for anything else."""
        if fallback is not None:
            return np.full(unseen.size, fallback, dtype="int64")
        if not self.categories:
            raise DataError(
                f"column {self.column.name!r}: value {_python(unseen[0])!r} was never seen in training"
            )
        codes = np.full(unseen.size, int(np.argmax(self.counts)), dtype="int64")
        if self.numeric:
            is_number = np.fromiter(
                (isinstance(v, (int, float, np.integer, np.floating)) for v in unseen), bool, unseen.size
            )
            numbers = unseen[is_number].astype("float64")
            codes[is_number] = _nearest_codes(np.asarray(self.categories, dtype="float64"), numbers)
        return codes

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        codes = np.asarray(parts[f"{self.column.name}::{CODE_PART}"], dtype="int64")
        text = self._decode_text(parts, codes, n)
        if text is not None:
            return text
        if self.categories:
            table = np.empty(len(self.categories), dtype=object)
            table[:] = self.categories
            values = table[np.clip(codes, 0, len(self.categories) - 1)]
        else:
            values = np.full(n, None, dtype=object)
        if self.column.id_format is not None and RARE_TOKEN in self.categories:
            rare = np.flatnonzero(values == RARE_TOKEN)
            codes_format = parse_id_format(self.column.id_format)
            values[rare] = random_codes(codes_format, rare.size, rng, self.code_ranges)
        missing = self.missing.mask(parts, n)
        values[missing] = None
        has_null = bool(missing.any()) or not self.categories
        return self._restore_dtype(pd.Series(values, name=self.column.name), has_null)

    def _decode_text(self, parts: Mapping[str, np.ndarray], codes: np.ndarray, n: int) -> pd.Series | None:
        """Text categories to a pyarrow-backed text dtype, taken in Arrow: the same values as building
        Python strings and converting them, about 6x faster (sampling throughput).  ``None``: not
        that case."""
        text = self._text_categories()
        if text is None:
            return None
        import pyarrow as pa

        dtype, categories = text
        missing = self.missing.mask(parts, n)
        taken = categories.take(
            pa.array(np.clip(codes, 0, len(categories) - 1), mask=missing if missing.any() else None)
        )
        return pd.Series(cast(Any, dtype).__from_arrow__(taken), name=self.column.name)

    def _text_categories(self) -> tuple[pd.StringDtype, Any] | None:
        """The pyarrow-backed text dtype and the categories as an Arrow array, when ``_decode_text``
        applies; found once per learned or loaded state (decoding asks once per block)."""
        dtype_categories = None if self.dtype_categories is None else tuple(self.dtype_categories)
        key = (tuple(self.categories), dtype_categories, self.column.dtype, self.column.id_format)
        cached = getattr(self, "_text_cache", None)
        if cached is not None and cached[0] == key:
            return cast("tuple[pd.StringDtype, Any] | None", cached[1])
        found = None
        if self.categories and self.dtype_categories is None and self.column.id_format is None:
            dtype = pd.api.types.pandas_dtype(self.column.dtype)
            if (
                isinstance(dtype, pd.StringDtype)
                and dtype.storage == "pyarrow"
                and all(isinstance(c, str) for c in self.categories)
            ):
                import pyarrow as pa

                found = (dtype, pa.array(self.categories, pa.large_string()))
        self._text_cache = (key, found)
        return found

    def _restore_dtype(self, series: pd.Series, has_null: bool) -> pd.Series:
        if self.dtype_categories is not None:
            categories = list(self.dtype_categories)
            categories += [c for c in self.categories if c not in set(categories)]  # RARE_TOKEN
            return series.astype(pd.CategoricalDtype(categories, ordered=self.dtype_ordered))
        dtype = self.column.dtype
        if dtype.startswith(("int", "uint")) and has_null:
            dtype = "Int64" if self.numeric else "object"
        if dtype == "bool" and has_null:
            dtype = "boolean"
        try:
            return as_dtype(series, dtype)
        except (TypeError, ValueError):
            return series

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "categories": self.categories,
            "missing": self.missing.get_state(),
            "numeric": self.numeric,
            "counts": self.counts,
        }
        if self.dtype_categories is not None:
            state.update(dtype_categories=self.dtype_categories, dtype_ordered=self.dtype_ordered)
        if self.code_ranges is not None:
            state["code_ranges"] = [list(r) for r in self.code_ranges]
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.numeric = require_bool(state, "numeric")
        self.categories = require_categories(state, "categories", numeric=self.numeric)
        self.missing = MissingPart.from_state(self.column.name, state)
        self.counts = require_counts(state, "counts", len(self.categories))
        self._fold = {}
        has = "dtype_categories" in state and state["dtype_categories"] is not None
        self.dtype_categories = require_list(state, "dtype_categories") if has else None
        self.dtype_ordered = require_bool(state, "dtype_ordered") if "dtype_ordered" in state else False
        self.code_ranges = _code_ranges_state(state.get("code_ranges"), self.column.id_format)


class BooleanCodec(CategoricalCodec):
    """Booleans are two categories; neither is ever rare-folded (both values are public)."""

    public_fields = ()

    def released(self, stats: CategoryStats, budget: PrivacyBudget, public: PublicBounds) -> pd.Series:
        """Both values (public, free), a missing cell if the column is nullable."""
        cells = [v for v in (False, True) for _ in range(clearing_count(self.options.rare_min_count))]
        return public_series(cells, self.column.nullable, self.column.dtype)

    def analyze(self, values: pd.Series) -> CategoryStats:
        present = values.dropna()
        as_bool = present.map(_to_bool)
        bad = as_bool.isna()
        if bad.any():
            raise DataError(f"column {self.column.name!r}: value {present[bad].iloc[0]!r} is not a boolean")
        true = int(as_bool.astype(bool).sum())
        counts = OrderedCounts(((False, int(as_bool.size) - true), (True, true)))
        return CategoryStats(MissingStats.of(values), counts)

    def learn(self, stats: CategoryStats, public: PublicBounds) -> None:
        self.missing = MissingPart(self.column.name)
        self.missing.learn(stats.missing)
        self.numeric = False
        self.dtype_categories, self.dtype_ordered = None, False
        self.categories = [False, True]
        counts = stats.counts.as_dict()
        self.counts = [counts.get(False, 0), counts.get(True, 0)]
        self._fold = {}

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        mapped = values.map(_to_bool, na_action="ignore")
        bad = mapped.isna() & values.notna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            raise DataError(
                f"column {self.column.name!r}: value {values.iloc[row]!r} in row {row} is not a boolean"
            )
        codes = mapped.fillna(bool(self.placeholder)).astype(bool).to_numpy().astype("int64")
        parts = self.missing.encode(values)
        parts[f"{self.column.name}::{CODE_PART}"] = codes
        return parts

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        super().set_state(state, arrays)
        if not (self.categories == [False, True] and all(isinstance(c, bool) for c in self.categories)):
            raise StateError(
                "categories", f"expected [false, true] for a boolean column, got {show(self.categories)}"
            )


_TRUE = {True, "true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y", "1"}
_FALSE = {False, "false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N", "0"}


def _to_bool(value: Any) -> bool | None:
    value = _python(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return bool(value)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None
