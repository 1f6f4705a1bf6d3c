"""Typed conditions for ``sample(conditions=...)``: what a column's values must be in every row drawn.

``conditions`` maps a learned column to a value (equality), a list, tuple or set of values (any of
them), or one of the objects here: ``OneOf(values)``, ``Between(low, high)`` (numbers or dates, both
ends included, either end open with None), ``IsNull()`` and ``NotNull()``.  Engines tagged
``native_conditions`` draw matching rows directly where they can; every other condition is met by
bounded rejection of drawn rows.

What a native engine draws from is :class:`SubColumnBox`, the conditions translated onto the encoded
sub-columns: allowed codes of discrete sub-columns (a category's code, a missing flag) and a closed
interval of continuous ones (a range of numbers or dates).  The box holds every matching row and
possibly a few more (a value that decoding rounds across a range's end; a set mixing nulls and
values constrains only the missing flag), so an engine draws from its model restricted to the box and
the row filter then keeps the matching rows: the kept rows follow the model's distribution given the
conditions exactly, and almost every drawn row is kept.  An impossible condition (a value the model
never emits, seen too rarely and folded into the rare class, a range outside the learned values, a
null in a column never missing) is refused up front by :func:`condition_box`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from mirage._duration_text import as_duration
from mirage.encoding import TableEncoder
from mirage.encoding._base import MISSING_PART, Codec
from mirage.encoding.marginal import Marginal
from mirage.errors import MirageError, OptionError
from mirage.schema import Column, Kind, Schema
from mirage.schema._datetimes import read_datetimes

__all__ = [
    "Between",
    "Condition",
    "ConditionFilter",
    "IsNull",
    "NotNull",
    "OneOf",
    "SubColumnBox",
    "condition_box",
    "datetime_literal",
    "impossible",
    "knot_probability",
    "marginal_range",
    "resolve_conditions",
    "round_trips",
]


class Condition:
    """What the values of one column must satisfy."""

    def mask(self, values: pd.Series) -> np.ndarray:
        """True where ``values`` satisfy the condition."""
        raise NotImplementedError

    def resolved(self, column: Column) -> Condition:
        """This condition checked against ``column`` (``OptionError`` naming it), its bounds typed."""
        return self


class OneOf(tuple, Condition):
    """Any of ``values`` (one value: equality).  A tuple, so engines that condition natively on sets of
    values read it as one."""

    def __new__(cls, values: Iterable[Any]) -> OneOf:
        return super().__new__(cls, tuple(values))

    def __repr__(self) -> str:
        return f"OneOf({list(self)!r})"

    def mask(self, values: pd.Series) -> np.ndarray:
        return values.isin(list(self)).to_numpy()

    def resolved(self, column: Column) -> Condition:
        if not self:
            raise OptionError(f"condition on column {column.name!r} allows no value")
        if column.kind is Kind.DATETIME:
            dates = [v if _is_null(v) else datetime_literal(v, column) for v in self]
            return DatesOneOf(dates, column.datetime_format)
        return self


class DatesOneOf(OneOf):
    """Any of ``values`` (Timestamps) in a date column, whose drawn values may be text in ``fmt``."""

    fmt: str | None

    def __new__(cls, values: Iterable[Any], fmt: str | None = None) -> DatesOneOf:
        made = tuple.__new__(cls, tuple(values))
        made.fmt = fmt
        return made

    def mask(self, values: pd.Series) -> np.ndarray:
        dates, _, _ = _comparable_dates(values, None, None, self.fmt)
        wanted = [v for v in self if not _is_null(v)]
        keep: list[Any] = list(pd.to_datetime(pd.Series(wanted, dtype=object))) if wanted else []
        found = dates.isin(keep).to_numpy(dtype=bool)
        if len(wanted) < len(self):
            found |= values.isna().to_numpy()
        return found


def _is_null(value: Any) -> bool:
    return bool(np.ndim(value) == 0 and pd.isna(value))


_YEAR_FIRST = re.compile(r"\s*\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?([ T].*)?$")


def datetime_literal(value: Any, column: Column) -> pd.Timestamp:
    """A date given in a condition on ``column``: a datetime as is, text written as the column's dates
    are (its ``datetime_format``) or year first (ISO 8601); other text only where reading it day first
    and month first agree (``01.06.2023`` is refused on a column of other dates, not read as 6 January).
    A ``ValueError`` says why not."""
    if isinstance(value, (pd.Timestamp, datetime, date, np.datetime64)):
        return pd.Timestamp(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    fmt = column.datetime_format
    if fmt:
        parsed = read_datetimes(pd.Series([value]), fmt).iloc[0]
        if not pd.isna(parsed):
            return pd.Timestamp(parsed)
    if _YEAR_FIRST.match(value):
        return pd.Timestamp(value)
    written = f"as the column's dates are ({fmt}) or " if fmt else ""
    example = "e.g. '2024-01-31'"
    try:
        month_first = pd.Timestamp(pd.to_datetime(value, dayfirst=False))
        day_first = pd.Timestamp(pd.to_datetime(value, dayfirst=True))
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a date; write it {written}year first, {example}") from None
    if pd.isna(month_first) or pd.isna(day_first):  # empty text
        raise ValueError(f"{value!r} is not a date; write it {written}year first, {example}")
    if month_first != day_first:
        raise ValueError(
            f"{value!r} reads as {month_first:%Y-%m-%d} month first and {day_first:%Y-%m-%d} day first; "
            f"write it {written}year first, e.g. '{day_first:%Y-%m-%d}'"
        )
    return month_first


@dataclass(frozen=True)
class Between(Condition):
    """Values from ``low`` to ``high``, both included (None: no bound); numbers, dates or durations
    (a duration column's bounds: timedeltas, seconds, or text such as ``'2h 30m'``).  ``fmt``: how a
    date column's drawn values are written, when they are text (set by :meth:`resolved`)."""

    low: Any = None
    high: Any = None
    fmt: str | None = None

    def mask(self, values: pd.Series) -> np.ndarray:
        low, high = self.low, self.high
        if isinstance(low, pd.Timestamp) or isinstance(high, pd.Timestamp):
            values, low, high = _comparable_dates(values, low, high, self.fmt)
        keep = values.notna().to_numpy(copy=True)
        if low is not None:
            keep &= (values >= low).fillna(False).to_numpy(dtype=bool)
        if high is not None:
            keep &= (values <= high).fillna(False).to_numpy(dtype=bool)
        return keep

    def resolved(self, column: Column) -> Condition:
        where = f"condition on column {column.name!r}"
        if column.kind not in (Kind.NUMERIC, Kind.DATETIME):
            raise OptionError(f"{where}: a range needs a numeric or datetime column, not {column.kind.value}")
        if self.low is None and self.high is None:
            raise OptionError(f"{where}: a range needs a low or a high bound")
        bounds = [self._bound(value, column, where) for value in (self.low, self.high)]
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            raise OptionError(f"{where}: the range's low bound {self.low!r} is above its high {self.high!r}")
        fmt = column.datetime_format if column.kind is Kind.DATETIME else None
        return Between(bounds[0], bounds[1], fmt)

    @staticmethod
    def _bound(value: Any, column: Column, where: str) -> Any:
        if value is None:
            return None
        durations = column.dtype.startswith("timedelta")
        if column.kind is Kind.DATETIME:
            try:
                return datetime_literal(value, column)
            except ValueError as error:
                raise OptionError(f"{where}: a range bound must be a date: {error}") from None
        try:
            if isinstance(value, (bool, np.bool_)):
                raise TypeError
            return as_duration(value) if durations else float(value)
        except (TypeError, ValueError):
            expected = "a date" if column.kind is Kind.DATETIME else "a number"
            if durations:
                expected = "a duration (a timedelta, seconds, or text such as '2h 30m')"
            raise OptionError(f"{where}: a range bound must be {expected}, got {value!r}") from None


def _comparable_dates(values: pd.Series, low: Any, high: Any, fmt: str | None) -> tuple[pd.Series, Any, Any]:
    """Dates a range's Timestamp bounds can be compared with: a column of date text (as sampled from a
    table that stored dates as text) read in its format ``fmt``, and naive bounds read in the column's
    time zone."""
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        if fmt:
            values = read_datetimes(values.astype(object), fmt)
        else:
            values = pd.to_datetime(values, errors="coerce", format="mixed")
    zone = getattr(values.dt, "tz", None)

    def aligned(bound: Any) -> Any:
        if not isinstance(bound, pd.Timestamp):
            return bound
        if zone is not None and bound.tzinfo is None:
            return bound.tz_localize(zone)
        if zone is None and bound.tzinfo is not None:
            return bound.tz_convert(None)
        return bound

    return values, aligned(low), aligned(high)


@dataclass(frozen=True)
class IsNull(Condition):
    """The value is missing."""

    def mask(self, values: pd.Series) -> np.ndarray:
        return values.isna().to_numpy()


@dataclass(frozen=True)
class NotNull(Condition):
    """The value is present."""

    def mask(self, values: pd.Series) -> np.ndarray:
        return values.notna().to_numpy()


def as_condition(value: Any, column: Column | None = None) -> Condition:
    """A condition object for a value given in ``conditions``: a list or set is any of its values; a
    ``(low, high)`` tuple on a numeric or datetime column is the range between them, both included
    (``None``: no bound), and on other columns any of its values; anything else is equality."""
    if isinstance(value, Condition):
        return value
    if isinstance(value, tuple) and column is not None and column.kind in (Kind.NUMERIC, Kind.DATETIME):
        if len(value) != 2:
            raise OptionError(
                f"condition on column {column.name!r}: a tuple is a range (low, high), got {len(value)} "
                "values (pass a list for a set of values)"
            )
        return Between(*value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return OneOf(value)
    return OneOf((value,))


def resolve_conditions(conditions: Mapping[str, Any], schema: Schema) -> dict[str, Condition]:
    """``conditions`` as condition objects, each checked against its column (``OptionError`` naming it)."""
    if not isinstance(conditions, Mapping):
        raise OptionError(f"conditions must map column names to conditions, got {type(conditions).__name__}")
    names = set(schema.names)
    resolved: dict[str, Condition] = {}
    for column, value in conditions.items():
        if column not in names:
            raise OptionError(f"condition on unknown column {column!r}")
        if not schema[column].kind.learned:
            kind = schema[column].kind.value
            raise OptionError(f"condition on column {column!r}: {kind} columns are generated, not learned")
        resolved[column] = as_condition(value, schema[column]).resolved(schema[column])
    return resolved


def impossible(column: str, what: str) -> MirageError:
    """The error of a condition no drawn row can meet (rejection would accept none of them)."""
    return MirageError(f"conditions cannot be met: column {column!r} {what} (acceptance rate 0)")


@dataclass(frozen=True)
class SubColumnBox:
    """Conditions on the encoded sub-columns: ``codes`` maps a discrete sub-column to the mask of its
    allowed codes, ``ranges`` a continuous one to its allowed closed interval (encoded units)."""

    codes: Mapping[str, np.ndarray]
    ranges: Mapping[str, tuple[float, float]]

    def __bool__(self) -> bool:
        return bool(self.codes or self.ranges)


@dataclass(frozen=True)
class ConditionFilter:
    """The row filter of resolved conditions (callable on a frame of decoded learned columns), with their
    box on the sub-columns for engines that draw inside it."""

    conditions: Mapping[str, Condition]
    box: SubColumnBox

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        mask = np.ones(len(frame), dtype=bool)
        for column, condition in self.conditions.items():
            mask = mask & condition.mask(frame[column])
        return pd.Series(mask, index=frame.index)


def round_trips(codec: Codec[Any], values: Iterable[Any]) -> tuple[list[Any], dict[str, np.ndarray]]:
    """The ``values`` the codec decodes back to themselves (a null to a null), with their encodings.

    A value never seen, or seen too rarely and folded into the rare class, decodes to something else.
    """
    kept: list[Any] = []
    continuous = getattr(codec, "value_name", None) is not None
    for value in values:
        candidate = pd.Series([value], dtype=object)
        if continuous:  # decoding rounds numbers at random: a value within the learned range is drawn
            if _within(codec, candidate):
                kept.append(value)
            continue
        try:
            parts = codec.encode(candidate)
            decoded = codec.decode(parts, 1, np.random.default_rng(0), 0)
        except (MirageError, ValueError, TypeError, OverflowError):
            continue
        null = bool(pd.isna(value)) if np.ndim(value) == 0 else False
        if (null and bool(decoded.isna().iloc[0])) or (not null and bool(decoded.isin([value]).iloc[0])):
            kept.append(value)
    if not kept:
        return [], {}
    return kept, codec.encode(pd.Series(kept, dtype=object))


def _within(codec: Any, candidate: pd.Series) -> bool:
    """Whether a number or date column's codec can give the one value of ``candidate``."""
    if bool(candidate.isna().iloc[0]):
        return bool(codec.missing.subcolumns)
    try:
        value = float(codec.to_floats(candidate)[0])
    except (MirageError, ValueError, TypeError, OverflowError):
        return False
    return bool(codec.minimum <= value <= codec.maximum)


def condition_box(conditions: Mapping[str, Condition], encoder: TableEncoder) -> SubColumnBox:
    """The box on the sub-columns that holds every row meeting ``conditions`` (resolved ones); an
    impossible condition is a ``MirageError`` naming it."""
    codecs = {codec.column.name: codec for codec in encoder.codecs}
    codes: dict[str, np.ndarray] = {}
    ranges: dict[str, tuple[float, float]] = {}
    for column, condition in conditions.items():
        codec = codecs[column]
        subs = codec.subcolumns
        flag = next((s for s in subs if s.part == MISSING_PART), None)
        if isinstance(condition, OneOf):
            kept, parts = round_trips(codec, condition)
            if not kept:
                raise impossible(
                    column,
                    f"never takes {list(condition)!r} in this model (a value never seen, or seen too "
                    "rarely and folded into the rare class)",
                )
            nulls = any(bool(pd.isna(v)) for v in kept if np.ndim(v) == 0)
            for s in subs:
                if s.discrete and (s is flag or not nulls):
                    mask = np.zeros(max(1, s.cardinality), dtype=bool)
                    mask[np.asarray(parts[s.name], dtype="int64")] = True
                    codes[s.name] = mask
        elif isinstance(condition, IsNull):
            if flag is None:
                raise impossible(column, "is never missing in this model, so IsNull() cannot hold")
            codes[flag.name] = np.array([False, True])
        elif isinstance(condition, (NotNull, Between)):
            if flag is not None:
                codes[flag.name] = np.array([True, False])
            if isinstance(condition, Between):
                interval = _encoded_range(codec, condition)
                if interval is not None:
                    ranges[interval[0]] = interval[1]
    return SubColumnBox(codes, ranges)


def _encoded_range(codec: Codec[Any], condition: Between) -> tuple[str, tuple[float, float]] | None:
    """The value sub-column of a number or date column with the range in its encoded units (None when
    the bounds cannot be encoded: the row filter then does all the work)."""
    name = getattr(codec, "value_name", None)
    minimum, maximum = getattr(codec, "minimum", None), getattr(codec, "maximum", None)
    if name is None or minimum is None or maximum is None:
        return None
    bounds = []
    for bound, default in ((condition.low, -np.inf), (condition.high, np.inf)):
        if bound is None:
            bounds.append(default)
            continue
        try:
            bounds.append(float(codec.to_floats(pd.Series([bound]))[0]))  # type: ignore[attr-defined]
        except (MirageError, ValueError, TypeError, OverflowError):
            return None
    low, high = bounds
    if np.isnan(low) or np.isnan(high):
        return None
    if low > maximum or high < minimum:
        column = codec.column.name
        raise impossible(
            column,
            f"takes no value in the range {_show(condition)}: the model learned values from "
            f"{_show_value(codec, minimum)} to {_show_value(codec, maximum)}",
        )
    value_range = getattr(codec, "value_range", None)
    if value_range is not None:
        low, high = value_range(low, high)
    return name, (float(low), float(high))


def _show(condition: Between) -> str:
    low = "" if condition.low is None else condition.low
    high = "" if condition.high is None else condition.high
    return f"[{low}, {high}]"


def _show_value(codec: Codec[Any], value: float) -> str:
    if codec.column.kind is Kind.DATETIME:
        try:
            parts = codec.parts_of(np.array([value]))  # type: ignore[attr-defined]
            return str(codec.decode(parts, 1, np.random.default_rng(0), 0).iloc[0])
        except (MirageError, ValueError, TypeError, KeyError):
            return f"{value:g}"
    return f"{value:g}"


def marginal_range(marginal: Marginal, low: float, high: float) -> tuple[float, float]:
    """The probabilities between which a continuous marginal's quantile function stays within ``low``
    to ``high``: on its knots' grid (:func:`knot_probability`), with the tails' shares around it."""
    knots = marginal.table
    lower = marginal.probability(np.array(knot_probability(knots, low, "left")), np.array(low))
    upper = marginal.probability(np.array(knot_probability(knots, high, "right")), np.array(high))
    return float(lower), float(upper)


def knot_probability(knots: np.ndarray, x: float, side: str) -> float:
    """The probability at which a quantile function given by ``knots`` (on an even probability grid, as
    :class:`mirage.encoding.marginal.Marginal` keeps them) reaches ``x``: the first such probability
    for a low end (``side="left"``), the last for a high end (``"right"``)."""
    size = knots.size
    if size == 1:
        return 0.0 if side == "left" else 1.0
    k = int(np.searchsorted(knots, x, side="left" if side == "left" else "right"))
    if k == 0:
        return 0.0
    if k >= size:
        return 1.0
    step = knots[k] - knots[k - 1]
    fraction = 0.0 if step <= 0 else float(np.clip((x - knots[k - 1]) / step, 0.0, 1.0))
    return (k - 1 + fraction) / (size - 1)
