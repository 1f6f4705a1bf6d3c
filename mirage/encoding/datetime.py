"""Datetimes: seconds since the epoch as a continuous sub-column, decoded at the learned resolution.

Text datetimes keep their strftime format so written output looks like the input (``%:z`` is an
offset written with a colon, ``+01:00``); native datetime columns come back with their dtype (unit
and time zone).  Time zones are converted to UTC for learning and restored: a native column gets its
zone back; text with offsets is written at the offset its values had, or, where it has several that
one time zone explains (``+01:00`` in winter, ``+02:00`` in summer), at that zone's offset for each
value, its time of day learned on that zone's clock; offsets that no zone explains (``+01:00`` beside
``-05:00``) are each written on about their share of the rows, chosen by a hash of each instant
(the instants are right either way; which row has which offset is not learned), with a warning.

A datetime's *parts* are the codec's to define (:class:`DateParts`): the day (whole days since the
epoch), the day of the week (when the data spans at least a week) and the time of day (when any value
has one).  Engines that model categories (through :mod:`mirage.encoding.discretise`) split seconds
into these parts and join them back, drawing a day on the drawn weekday, so that weekly rhythms (no
orders on Sundays) and daily ones (card payments by day, not at 3 a.m.) survive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import timedelta, timezone
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import (
    StateError,
    require_bool,
    require_bounds,
    require_int,
    require_list,
    require_mapping,
    require_optional_int,
    require_str,
    require_time_zone,
    show,
    within,
)
from mirage._warnings import warn
from mirage.encoding._base import SubColumn, as_dtype
from mirage.encoding._continuous import (
    VALUE_PART,
    ContinuousCodec,
    ContinuousStats,
    counted_values,
    observed_values,
    reflect,
)
from mirage.encoding._pieces import draw_within
from mirage.encoding._public import PrivacyBudget, PublicBounds, public_series
from mirage.errors import DataError, OptionError
from mirage.schema import Column
from mirage.schema._datetimes import COLON_OFFSET, parse_format, read_datetimes

__all__ = [
    "DAY",
    "SECONDS_PER_DAY",
    "TIME",
    "WEEKDAY",
    "DateParts",
    "DatetimeCodec",
    "as_written",
    "date_subcolumns",
    "days_and_times",
    "format_datetimes",
    "most_common",
    "offsets_written",
    "parse_datetimes",
    "weekdays_of",
    "zones_of_offsets",
]

SECONDS_PER_DAY = 86_400.0
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday is 0)
WEEKDAYS = 7
DAY, WEEKDAY, TIME = "day", "weekday", "time"

_UNITS = {"D": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}
_OFFSET = re.compile(r"(?:(?P<z>Z)|(?P<sign>[+-])(?P<hours>\d\d):?(?P<minutes>\d\d))\s*$")
# the areas of the IANA zones a text column's offsets are matched against, in the order of preference
_ZONE_AREAS = ("Europe/", "America/", "Asia/", "Australia/", "Africa/", "Pacific/", "Atlantic/", "Indian/")
ZONE_CHECK_PAIRS = 2000
_MARK = "@@"  # around %z while strftime writes it; the colon goes in afterwards
_FRACTION = "@f@"  # before %f while strftime writes it; the digits past the resolution are cut after
_UNIT_DIGITS = {"ms": 3, "us": 6}  # digits after the seconds that a resolution needs (coarser: none)
_WRITTEN_FRACTION = re.compile(r"\d:\d\d[.,](\d+)")


def parse_datetimes(values: pd.Series, column: str, fmt: str | None) -> pd.Series:
    """Parse to naive UTC ``datetime64[ns]``; a clear error names the first unparseable row."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        parsed = read_datetimes(values, fmt)
        bad = parsed.isna() & values.notna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            expected = f" (expected format {fmt!r})" if fmt else ""
            raise DataError(
                f"column {column!r}: value {values.iloc[row]!r} in row {row} is not a datetime{expected}"
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def format_datetimes(stamps: pd.Series, fmt: str, *, fraction_digits: int = 6) -> pd.Series:
    """``stamps.dt.strftime(fmt)``, where ``%:z`` writes the offset as ``+01:00`` and ``%f`` writes the
    first ``fraction_digits`` digits of the microseconds (3: milliseconds)."""
    short = "%f" in fmt and fraction_digits < 6
    if short:
        fmt = fmt.replace("%f", f"{_FRACTION}%f")
    if COLON_OFFSET in fmt:
        text = stamps.dt.strftime(fmt.replace(COLON_OFFSET, f"{_MARK}%z{_MARK}"))
        text = text.str.replace(f"{_MARK}([+-]\\d\\d)(\\d\\d){_MARK}", r"\1:\2", regex=True)
    else:
        text = stamps.dt.strftime(fmt)
    if short:
        text = text.str.replace(f"{_FRACTION}(\\d{{{fraction_digits}}})\\d*", r"\1", regex=True)
    return text


def as_written(stamps: pd.DatetimeIndex, column: Column) -> list[Any]:
    """Naive UTC datetimes as ``column`` holds them: text in its format (at UTC where the format has an
    offset) when its dtype is not a datetime one, else as they are."""
    fmt = column.datetime_format
    if fmt is None or pd.api.types.is_datetime64_any_dtype(pd.api.types.pandas_dtype(column.dtype)):
        return list(stamps)
    written = pd.Series(stamps.tz_localize("UTC") if "%z" in parse_format(fmt) else stamps)
    return list(format_datetimes(written, fmt))


def _multiples_of(seconds: np.ndarray, step: float) -> bool:
    """Whether every value is a whole number of ``step`` seconds, up to the float error of the values
    (seconds since the epoch carry about 2e-7 s of it, so ``np.mod`` alone misses milliseconds)."""
    steps = seconds / step
    error = 4 * np.spacing(np.abs(seconds)) / step + 1e-9
    return bool(np.all(np.abs(steps - np.round(steps)) <= error))


def days_and_times(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole days since the epoch and seconds into the day of ``seconds`` (since the epoch)."""
    day = np.floor(seconds / SECONDS_PER_DAY)
    return day, seconds - day * SECONDS_PER_DAY


def weekdays_of(day: np.ndarray) -> np.ndarray:
    """The day of the week (Monday 0) of whole days since the epoch."""
    return ((day.astype("int64") + EPOCH_WEEKDAY) % WEEKDAYS).astype("int64")


@dataclass(frozen=True)
class DateParts:
    """The parts a datetime column (seconds since the epoch) is split into besides its day.

    ``weekday``: the day of the week is a part (the data spans at least a week); ``time``: the time
    of day is a part (some value has one); ``weekdays``: the weekdays a drawn day may fall on (those
    seen in at least ``min_count`` rows).
    """

    weekday: bool
    time: bool
    weekdays: tuple[bool, ...] = (True,) * WEEKDAYS

    @classmethod
    def learn(cls, seconds: np.ndarray, *, min_count: int) -> DateParts:
        """The parts of the finite values of ``seconds``."""
        day, time = days_and_times(seconds[np.isfinite(seconds)])
        counts = np.bincount(weekdays_of(day), minlength=WEEKDAYS)
        return cls(
            weekday=bool(day.size and day.max() - day.min() >= WEEKDAYS),
            time=bool(np.any(time != 0)),
            weekdays=tuple(bool(c >= min_count) for c in counts)
            if counts.max() >= min_count
            else (True,) * WEEKDAYS,
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The parts in order: ``day``, then ``weekday`` and ``time`` where the column has them."""
        return (DAY,) + ((WEEKDAY,) if self.weekday else ()) + ((TIME,) if self.time else ())

    def split(self, seconds: np.ndarray) -> dict[str, np.ndarray]:
        """Each part of ``seconds``: whole days and seconds into the day (float64), weekdays (int64 codes
        in ``[0, 7)``)."""
        day, time = days_and_times(seconds)
        parts = {DAY: day, WEEKDAY: weekdays_of(day), TIME: time}
        return {name: parts[name] for name in self.names}

    def draw_day(
        self,
        lo: np.ndarray,
        hi: np.ndarray,
        closed: np.ndarray,
        weekday: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """A whole day uniformly within each piece of days ``[lo, hi)`` (``closed``: ``[lo, hi]``), on
        ``weekday`` where the column has weekdays (see :meth:`split`)."""
        day = draw_within(lo, hi, closed, True, rng)
        if not self.weekday:
            return day
        if weekday is None:
            raise ValueError("this datetime column has weekdays: draw_day needs one a row")
        return _on_weekday(day, lo, hi, closed, weekday, np.array(self.weekdays, dtype=bool), rng)

    @staticmethod
    def join(day: np.ndarray, time: np.ndarray | None = None) -> np.ndarray:
        """Seconds since the epoch from whole days and seconds into the day (None: midnight)."""
        return day * SECONDS_PER_DAY + (np.zeros_like(day) if time is None else time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, state: Any) -> DateParts:
        """Restore :meth:`to_dict`'s output; every field is checked (a saved state is untrusted)."""
        state = require_mapping(state)
        weekdays = require_list(state, "weekdays", length=WEEKDAYS)
        if not all(isinstance(w, bool) for w in weekdays):
            raise StateError("weekdays", f"expected 7 booleans, got {show(weekdays)}")
        return cls(require_bool(state, "weekday"), require_bool(state, "time"), tuple(weekdays))


def _require_time_of_day(state: Any) -> tuple[float, float]:
    with within("time_of_day"):
        low, high = require_bounds(require_mapping(state), "low", "high")
        if low < 0.0 or high >= SECONDS_PER_DAY:
            raise StateError("high", f"a time of day is within [0, {SECONDS_PER_DAY:g}) seconds")
    return float(low), float(high)


def date_subcolumns(subcolumns: list[SubColumn], datetime_columns: set[str]) -> list[str]:
    """The sub-columns holding a datetime column's seconds since the epoch (or its day's, where its time
    of day is a sub-column of its own): those a discretiser splits into :class:`DateParts`."""
    return [s.name for s in subcolumns if s.column in datetime_columns and s.part == VALUE_PART]


def _on_weekday(
    day: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    closed: np.ndarray,
    weekday: np.ndarray,
    allowed: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A day drawn uniformly among the days of ``[lo, hi]`` on ``weekday``.

    Where the piece (shorter than a week) has no such day, a day of the piece on a weekday the data
    has (``allowed``); ``day`` itself for point pieces and where neither exists.
    """
    first = np.ceil(lo)
    last = np.where(closed, np.floor(hi), np.ceil(hi) - 1.0)
    start = first + np.mod(weekday - weekdays_of(first), WEEKDAYS)
    count = np.floor((last - start) / 7.0) + 1.0
    u = rng.random(day.size)
    pick = np.minimum(start + 7.0 * np.floor(u * np.maximum(count, 1.0)), last)
    candidates = first[:, None] + np.arange(7.0)[None, :]
    valid = (candidates <= last[:, None]) & allowed[weekdays_of(candidates)]
    n_valid = valid.sum(axis=1)
    rank = np.minimum(np.floor(u * np.maximum(n_valid, 1)), np.maximum(n_valid - 1, 0))
    nth = np.argmax(np.cumsum(valid, axis=1) > rank[:, None], axis=1)
    fallback = np.where(n_valid > 0, candidates[np.arange(day.size), nth], day)
    return np.where(lo == hi, day, np.where(count >= 1, pick, fallback))


def _row_offsets(values: pd.Series) -> np.ndarray:
    """Each text value's UTC offset (minutes east) as written; NaN where it has none."""
    found = values.astype("string").str.extract(_OFFSET)
    written = (found["z"].notna() | found["sign"].notna()).to_numpy(dtype=bool)
    sign = np.where(found["sign"].eq("-").fillna(False).to_numpy(dtype=bool), -1.0, 1.0)
    hours = pd.to_numeric(found["hours"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    minutes = pd.to_numeric(found["minutes"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    return np.where(written, sign * (hours * 60 + minutes), np.nan)


def _offset_counts(minutes: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Rows per UTC offset (minutes east), by first appearance, of :func:`_row_offsets`."""
    counts = pd.Series(minutes[np.isfinite(minutes)].astype("int64")).value_counts(sort=False)
    return tuple((int(k), int(v)) for k, v in zip(counts.index.tolist(), counts.tolist(), strict=True))


@lru_cache(maxsize=1)
def _candidate_zones() -> tuple[str, ...]:
    """The IANA zones of the world's areas (no ``Etc/`` fixed offsets, no legacy aliases), the
    area order deciding which of several zones that explain the same offsets a model records."""
    from zoneinfo import available_timezones

    def key(name: str) -> tuple[int, str]:
        return next(i for i, area in enumerate(_ZONE_AREAS) if name.startswith(area)), name

    return tuple(sorted((z for z in available_timezones() if z.startswith(_ZONE_AREAS)), key=key))


def _zone_offsets(instants: pd.DatetimeIndex, zone: str) -> np.ndarray:
    """The UTC offsets (minutes east) of time zone ``zone`` at ``instants`` (UTC)."""
    local = instants.tz_convert(zone).tz_localize(None)
    return np.asarray((local - instants.tz_localize(None)).total_seconds(), dtype="float64") / 60.0


def _zones_explaining(seconds: np.ndarray, minutes: np.ndarray) -> tuple[str, ...]:
    """The time zones whose UTC offset at each instant (seconds since the epoch, UTC) is the offset
    (minutes east) it was written with, such as Europe/Berlin's for ``+01:00`` in winter and ``+02:00``
    in summer; up to ``ZONE_CHECK_PAIRS`` distinct (minute, offset) pairs, evenly spread, are checked."""
    keep = np.isfinite(seconds) & np.isfinite(minutes)
    pairs = np.unique(np.column_stack([np.floor(seconds[keep] / 60.0) * 60.0, minutes[keep]]), axis=0)
    if pairs.shape[0] == 0:
        return ()
    if pairs.shape[0] > ZONE_CHECK_PAIRS:
        pairs = pairs[np.round(np.linspace(0, pairs.shape[0] - 1, ZONE_CHECK_PAIRS)).astype("int64")]
    instants = pd.DatetimeIndex(pd.to_datetime(pairs[:, 0].astype("int64"), unit="s", utc=True))
    # a first pass on one pair of each offset rules out most zones cheaply
    _, first = np.unique(pairs[:, 1], return_index=True)
    probe = instants[first]
    zones = [z for z in _candidate_zones() if np.array_equal(_zone_offsets(probe, z), pairs[first, 1])]
    return tuple(z for z in zones if np.array_equal(_zone_offsets(instants, z), pairs[:, 1]))


def _written_times(seconds: np.ndarray, minutes: np.ndarray) -> tuple[float, float] | None:
    """The least and greatest time of day (seconds) on the clocks the values were written in."""
    keep = np.isfinite(seconds) & np.isfinite(minutes)
    _, time = days_and_times(seconds[keep] + minutes[keep] * 60.0)
    return (float(time.min()), float(time.max())) if time.size else None


def wall_seconds(seconds: np.ndarray, tz: str | None) -> np.ndarray:
    """Seconds since the epoch (UTC) as the clock of time zone ``tz`` reads them (None: UTC's)."""
    if tz is None or seconds.size == 0:
        return seconds
    stamps = pd.DatetimeIndex(pd.to_datetime(np.round(seconds * 1e6).astype("int64"), unit="us", utc=True))
    return np.asarray(stamps.tz_convert(tz).tz_localize(None).as_unit("us").asi8, dtype="float64") / 1e6


def utc_seconds(wall: np.ndarray, tz: str | None) -> np.ndarray:
    """The inverse of :func:`wall_seconds`: a clock reading that a change to summer time skips moves
    forward, one that it repeats is taken in winter time."""
    if tz is None or wall.size == 0:
        return wall
    stamps = pd.DatetimeIndex(pd.to_datetime(np.round(wall * 1e6).astype("int64"), unit="us"))
    local = stamps.tz_localize(tz, ambiguous=np.zeros(wall.size, dtype=bool), nonexistent="shift_forward")
    return np.asarray(local.tz_convert("UTC").tz_localize(None).as_unit("us").asi8, dtype="float64") / 1e6


def _fraction_digit_counts(values: pd.Series) -> tuple[tuple[int, int], ...]:
    """Rows per number of digits text values write after the seconds (``10:00:00.000``: 3)."""
    digits = values.dropna().astype(str).str.extract(_WRITTEN_FRACTION)[0].dropna().str.len()
    counts = digits.value_counts(sort=False)
    return tuple((int(k), int(v)) for k, v in zip(counts.index.tolist(), counts.tolist(), strict=True))


def offsets_written(values: pd.Series) -> tuple[tuple[int, int], ...]:
    """Rows per UTC offset (minutes east) text datetimes are written at, by first appearance."""
    return _offset_counts(_row_offsets(values))


def zones_of_offsets(values: pd.Series, column: str, fmt: str) -> tuple[str, ...]:
    """The time zones whose offset at each text datetime's instant is the offset it is written at."""
    return _zones_explaining(_seconds(parse_datetimes(values, column, fmt)), _row_offsets(values))


def most_common(counts: tuple[tuple[int, int], ...]) -> int | None:
    """The value most rows have, of ``(value, rows)`` counts (the smallest of a tie); None: no counts."""
    if not counts:
        return None
    most = max(c for _, c in counts)
    return min(k for k, c in counts if c == most)


def _seconds(parsed: pd.Series) -> np.ndarray:
    ns = parsed.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    return np.where(parsed.isna().to_numpy(), np.nan, ns / 1e9)


def _public_seconds(value: Any, column: str) -> float | None:
    """A public datetime bound as seconds since the epoch (UTC); a clear error names what cannot be read."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise OptionError(f"column {column!r}: public bound {value!r} is not a datetime") from None
    if stamp is pd.NaT:
        raise OptionError(f"column {column!r}: public bound {value!r} is not a datetime")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return float(_seconds(pd.Series([stamp]).astype("datetime64[ns]"))[0])


class DatetimeCodec(ContinuousCodec):
    public_fields = ("minimum", "maximum")
    takes_budget = True
    unit: str
    tz: str | None
    offset: int | None = None  # text with offsets: the offset (minutes east of UTC) written back
    #: text with offsets that no time zone explains: (offset, rows) of each, written at those shares
    mixed_offsets: tuple[tuple[int, int], ...] = ()
    written_digits: int | None = None  # text: the digits most rows write after the seconds (None: unknown)
    #: the learned range of the time of day (seconds into the day) when some value has one, which makes
    #: it a sub-column of its own: the value sub-column then holds the day (its midnight, in seconds)
    time_of_day: tuple[float, float] | None = None

    @property
    def time_name(self) -> str:
        return f"{self.column.name}::{TIME}"

    @property
    def subcolumns(self) -> list[SubColumn]:
        if self.time_of_day is None:
            return super().subcolumns
        return [*super().subcolumns, self.sub(TIME, discrete=False)]

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        parts = super().encode(values)
        parts.update(self.parts_of(parts[self.value_name]))
        return parts

    def parts_of(self, seconds: np.ndarray) -> dict[str, np.ndarray]:
        """The value sub-column (and the time of day's, where it has one) of seconds since the epoch."""
        seconds = np.asarray(seconds, dtype="float64")
        if self.time_of_day is None:
            return {self.value_name: seconds}
        day, time = days_and_times(wall_seconds(seconds, self.tz))
        return {self.value_name: day * SECONDS_PER_DAY, self.time_name: time}

    def value_range(self, low: float, high: float) -> tuple[float, float]:
        """The values of the value sub-column that decode to a datetime in ``[low, high]`` (seconds) at
        some time of day: the range itself, or the days it touches where the day is its own value."""
        if self.time_of_day is None:
            return low, high
        # a value decodes to its nearest whole day, which is the zone's, not UTC's
        below = SECONDS_PER_DAY / 2 - 1.0 + (SECONDS_PER_DAY if self.tz is not None else 0.0)
        return (
            float(np.floor(low / SECONDS_PER_DAY) * SECONDS_PER_DAY - below),
            float(np.floor(high / SECONDS_PER_DAY) * SECONDS_PER_DAY + below),
        )

    def seconds(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        """Seconds since the epoch from the value sub-column (and the time of day's, where it has one):
        the day is the nearest whole day to the value, the time kept within its learned range (both on
        the column's clock: its time zone's, where it has one)."""
        value = np.asarray(parts[self.value_name], dtype="float64")
        if self.time_of_day is None:
            return value
        low, high = self.time_of_day
        day = np.round(value / SECONDS_PER_DAY) * SECONDS_PER_DAY
        return utc_seconds(
            day + reflect(np.asarray(parts[self.time_name], dtype="float64"), low, high), self.tz
        )

    def to_floats(self, values: pd.Series) -> np.ndarray:
        return _seconds(parse_datetimes(values, self.column.name, self.column.datetime_format))

    def analyze(self, values: pd.Series) -> ContinuousStats:
        seconds = self.to_floats(values)
        stats = self.stats_of(values, seconds)
        tz = getattr(getattr(values, "dt", None), "tz", None) if hasattr(values, "dt") else None
        fmt = self.column.datetime_format
        digits = _fraction_digit_counts(values) if fmt is not None and "%f" in fmt else ()
        _, time = days_and_times(wall_seconds(seconds[np.isfinite(seconds)], None if tz is None else str(tz)))
        stats = replace(
            stats,
            tz=str(tz) if tz is not None else None,
            fraction_digits=digits,
            time_of_day=(float(time.min()), float(time.max())) if time.size else None,
        )
        if fmt is None or "%z" not in parse_format(fmt):
            return stats
        minutes = _row_offsets(values)
        return replace(
            stats,
            offsets=_offset_counts(minutes),
            zones=_zones_explaining(seconds, minutes),
            written_time_of_day=_written_times(seconds, minutes),
        )

    def learn(self, stats: ContinuousStats, public: PublicBounds) -> None:
        self.tz = stats.tz
        self.offset = most_common(stats.offsets)
        # text written at several offsets that one time zone explains (summer time) is learned and
        # written back on that zone's clock: at one offset, summer rows would move by an hour
        zoned_text = len(stats.offsets) > 1 and bool(stats.zones)
        if zoned_text and stats.zones:
            self.tz = stats.zones[0]
        self.mixed_offsets = stats.offsets if len(stats.offsets) > 1 and not stats.zones else ()
        if self.mixed_offsets:
            written = ", ".join(f"{_offset_text(m)} ({rows:,} rows)" for m, rows in self.mixed_offsets)
            warn(
                f"column {self.column.name!r}: its times are written at UTC offsets {written} that no "
                "time zone explains; synthetic times are written at each offset on about its share of the "
                "rows, chosen at random (the instants are kept; which rows had which offset is not learned)"
            )
        self.written_digits = most_common(stats.fraction_digits)
        observed = observed_values(stats.observed)
        if observed.size == 0:
            observed = np.array([0.0])
        low, high = (
            _public_seconds(public.minimum, self.column.name),
            _public_seconds(public.maximum, self.column.name),
        )
        self.minimum = low if low is not None else float(observed.min())
        self.maximum = high if high is not None else float(observed.max())
        if self.minimum > self.maximum:
            raise OptionError(f"column {self.column.name!r}: public.minimum is after public.maximum")
        self.unit = next((u for u, step in _UNITS.items() if _multiples_of(observed, step)), "us")
        self.fill = float(np.median(observed))
        spans = stats.written_time_of_day if zoned_text else stats.time_of_day
        self.time_of_day = spans if spans is not None and spans != (0.0, 0.0) else None

    def released(self, stats: ContinuousStats, budget: PrivacyBudget, public: PublicBounds) -> pd.Series:
        """An even grid over the public range or the private one (months or years), floored to whole days
        unless the noisy count of rows with a time of day passes; written in the column's format when it
        is text."""
        from mirage.privacy._domains import (
            DATETIME_RANGE_SHARE,
            GRID_POINTS,
            has_time_of_day,
            private_datetime_range,
        )

        col = self.column
        low, high = _public_seconds(public.minimum, col.name), _public_seconds(public.maximum, col.name)
        values, counts = counted_values(stats, col.name)
        missing = col.nullable
        if low is None or high is None:
            (found_low, found_high), missing = private_datetime_range(
                values, counts, stats.missing_rows, budget.ledger, budget.rho, budget.rows, col.name
            )
            low = found_low if low is None else low
            high = found_high if high is None else high
        _, time = days_and_times(wall_seconds(values, stats.tz))
        timed = int(counts[time != 0.0].sum())
        rho_times = budget.rho * (1.0 - DATETIME_RANGE_SHARE)
        stamps = pd.to_datetime(np.round(np.linspace(low, high, GRID_POINTS) * 1e9).astype("int64"))
        if not has_time_of_day(timed, budget.ledger, rho_times, col.name):
            stamps = stamps.floor("D")
        return public_series(as_written(stamps, col), missing, col.dtype)

    def finish(self, seconds: np.ndarray) -> np.ndarray:
        step = _UNITS[self.unit]
        return np.clip(
            np.round(reflect(seconds, self.minimum, self.maximum) / step) * step, self.minimum, self.maximum
        )

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        seconds = self.finish(self.seconds(parts))
        stamps = pd.Series(
            pd.to_datetime(np.round(seconds * 1e6).astype("int64"), unit="us"), name=self.column.name
        ).astype("datetime64[ns]")
        mask = self.missing.mask(parts, n)
        if mask.any():
            stamps = stamps.where(~mask)
        if self.tz is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.tz)
        fmt = self.column.datetime_format
        if fmt is not None:
            if self.mixed_offsets and self.tz is None:
                text = self._at_mixed_offsets(stamps, seconds, fmt)
            else:
                if self.offset is not None and self.tz is None:
                    zone = timezone(timedelta(minutes=self.offset))
                    stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(zone)
                text = format_datetimes(stamps, fmt, fraction_digits=self._fraction_digits())
            return as_dtype(text.where(~mask, None), self.column.dtype)
        return self._native(stamps)

    def _at_mixed_offsets(self, stamps: pd.Series, seconds: np.ndarray, fmt: str) -> pd.Series:
        """Naive UTC ``stamps`` written in ``fmt``, each at one of the learned offsets, about as many
        at each as the source had, chosen by a hash of the instant (whatever the chunks, alike)."""
        rows = np.array([r for _, r in self.mixed_offsets], dtype="float64")
        bounds = np.cumsum(rows) / rows.sum()
        bits = np.where(np.isnan(seconds), 0.0, seconds).view("uint64")
        spread = ((bits * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)).astype("float64") / 2.0**53
        which = np.minimum(np.searchsorted(bounds, spread, side="right"), len(rows) - 1)
        text = pd.Series(None, index=stamps.index, dtype=object, name=stamps.name)
        utc = stamps.dt.tz_localize("UTC")
        for k, (minutes, _) in enumerate(self.mixed_offsets):
            pick = which == k
            if pick.any():
                zoned = utc[pick].dt.tz_convert(timezone(timedelta(minutes=minutes)))
                text[pick] = format_datetimes(zoned, fmt, fraction_digits=self._fraction_digits())
        return text

    def _fraction_digits(self) -> int:
        """Digits written after the seconds: as many as the source wrote, or as the learned resolution
        needs where that is more (older models, which did not record it: the resolution's, else six)."""
        needed = _UNIT_DIGITS.get(self.unit, 0)
        if self.written_digits is None:
            return needed if self.unit == "ms" else 6
        return min(6, max(needed, self.written_digits))

    def _native(self, stamps: pd.Series) -> pd.Series:
        """``stamps`` with the column's datetime dtype (its unit, and its zone if it has one)."""
        try:
            dtype = pd.api.types.pandas_dtype(self.column.dtype)
        except TypeError:
            return stamps
        if not pd.api.types.is_datetime64_any_dtype(dtype):
            return stamps
        if isinstance(dtype, pd.DatetimeTZDtype) and self.tz is None:
            return stamps.dt.tz_localize("UTC").astype(dtype)
        if not isinstance(dtype, pd.DatetimeTZDtype) and self.tz is not None:
            return stamps
        return stamps.astype(dtype)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super().get_state()
        state.update(unit=self.unit, tz=self.tz)
        if self.offset is not None:
            state["offset"] = self.offset
        if self.mixed_offsets:
            state["mixed_offsets"] = [[minutes, rows] for minutes, rows in self.mixed_offsets]
        if self.written_digits is not None:
            state["written_digits"] = self.written_digits
        if self.time_of_day is not None:
            state["time_of_day"] = {"low": self.time_of_day[0], "high": self.time_of_day[1]}
        return state, arrays

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        super().set_state(state, arrays)
        self.unit = require_str(state, "unit", choices=list(_UNITS))
        self.tz = require_time_zone(state, "tz")
        self.offset = require_optional_int(state, "offset", low=-1440) if "offset" in state else None
        self.mixed_offsets = _require_offset_rows(state) if "mixed_offsets" in state else ()
        self.written_digits = (
            require_optional_int(state, "written_digits", low=0) if "written_digits" in state else None
        )
        self.time_of_day = _require_time_of_day(state["time_of_day"]) if "time_of_day" in state else None


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _require_offset_rows(state: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    """``state["mixed_offsets"]``: two or more ``[minutes east of UTC, rows]`` pairs, some rows in all."""
    pairs = require_list(state, "mixed_offsets")
    found: list[tuple[int, int]] = []
    with within("mixed_offsets"):
        for i, pair in enumerate(pairs):
            items = require_list({str(i): pair}, str(i), length=2)
            with within(str(i)):
                minutes = require_int({"0": items[0]}, "0", low=-1440, high=1440)
                found.append((minutes, require_int({"1": items[1]}, "1", low=0)))
    if len(found) < 2 or sum(r for _, r in found) == 0:
        raise StateError("mixed_offsets", f"expected two or more offsets with rows, got {show(pairs)}")
    return tuple(found)
