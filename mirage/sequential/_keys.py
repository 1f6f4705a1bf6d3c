"""The keys and order values of drawn entities written the way the source wrote them: keys in the
entity column's id format (``C0001``), timestamps in the order column's text format."""

from __future__ import annotations

import re
import string
from datetime import timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from mirage._warnings import warn
from mirage.encoding import EncodingOptions
from mirage.encoding.datetime import (
    as_written,
    format_datetimes,
    most_common,
    offsets_written,
    parse_format,
    zones_of_offsets,
)
from mirage.encoding.identifier import IdentifierCodec, parse_id_format
from mirage.errors import SchemaError
from mirage.schema import Column, Kind

__all__ = ["CLOCK", "clock_seconds", "entity_keys", "order_values", "written_clock"]

# Column.extra key of a text order column with UTC offsets: the clock its times are written on, a time
# zone ("Europe/Berlin") or a fixed offset ("+02:00")
CLOCK = "clock"
_FIXED = re.compile(r"([+-])(\d\d):(\d\d)")


def entity_keys(column: Column, start: int, count: int) -> np.ndarray:
    """Keys of entities ``start`` to ``start + count - 1``: numbers for a numeric key column, else text
    in its ``id_format`` (a prefix and digits numbered from 1), else ``e<n>``."""
    if column.kind is Kind.NUMERIC or pd.api.types.is_integer_dtype(_dtype(column.dtype)):
        return np.arange(start, start + count, dtype="int64")
    if not column.id_format:
        return np.asarray([f"e{start + i}" for i in range(count)], dtype=object)
    text = _numbered(column.id_format)
    codec = IdentifierCodec(
        Column(column.name, Kind.IDENTIFIER, dtype="object", id_format=text), EncodingOptions()
    )
    codec.reduce([codec.analyze(pd.Series([], dtype=object))])
    return codec.decode({}, count, np.random.default_rng(0), start).to_numpy(dtype=object)


def _numbered(text: str) -> str:
    """A pattern of a literal prefix and digits (``C0999``: ``C0`` then three digits) as a template
    numbering the keys (``C{:04d}``), which has room for any number of entities, in every block alike."""
    fmt = parse_id_format(text)
    if fmt.kind != "pattern":
        return text
    lead = 0
    while (
        lead < len(fmt.positions) and fmt.positions[lead][0] is None and not fmt.positions[lead][1].isdigit()
    ):
        lead += 1
    rest = fmt.positions[lead:]
    digits = all((a is None and c.isdigit()) or a == string.digits for a, c in rest)
    if not rest or not digits or all(a is None for a, _ in rest):
        return text
    prefix = "".join(c for _, c in fmt.positions[:lead]).replace("{", "{{").replace("}", "}}")
    return f"{prefix}{{:0{len(rest)}d}}"


def written_clock(values: pd.Series, column: Column) -> str | None:
    """The clock a text order column written with UTC offsets is written back on: the time zone whose
    offsets its values all have (``Europe/Berlin`` for ``+01:00`` in winter and ``+02:00`` in summer),
    else the offset most of them have (``+02:00``, with a warning where others are left out); None
    where its text has no offsets."""
    fmt = column.datetime_format
    if column.kind is not Kind.DATETIME or fmt is None or "%z" not in parse_format(fmt):
        return None
    counts = offsets_written(values)
    most = most_common(counts)
    if most is None:
        return None
    if len(counts) == 1:
        return _offset_text(most)
    zones = zones_of_offsets(values, column.name, fmt)
    if zones:
        return zones[0]
    written = ", ".join(f"{_offset_text(m)} ({rows:,} rows)" for m, rows in counts)
    warn(
        f"column {column.name!r}: its times are written at UTC offsets {written} that no time zone "
        f"explains; synthetic times are written at {_offset_text(most)}, the offset most rows have"
    )
    return _offset_text(most)


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _clock_zone(column: Column, clock: Any) -> tzinfo:
    fixed = _FIXED.fullmatch(clock) if isinstance(clock, str) else None
    if fixed is not None:
        minutes = int(fixed[2]) * 60 + int(fixed[3])
        return timezone(timedelta(minutes=-minutes if fixed[1] == "-" else minutes))
    try:
        return ZoneInfo(str(clock))
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemaError(
            f"column {column.name!r}: clock {clock!r} is neither a time zone (Europe/Berlin) "
            "nor a UTC offset (+02:00)"
        ) from None


def _clock(column: Column) -> tzinfo | None:
    """The clock of an order column of text times with UTC offsets (None: UTC's)."""
    clock = column.extra.get(CLOCK)
    fmt = column.datetime_format
    if clock is None or fmt is None or "%z" not in parse_format(fmt):
        return None
    if pd.api.types.is_datetime64_any_dtype(_dtype(column.dtype)):
        return None
    return _clock_zone(column, clock)


def clock_seconds(seconds: np.ndarray, column: Column) -> np.ndarray:
    """Seconds since the epoch (UTC) as the order column's clock reads them: a sequence model learns
    times of day on the clock its source was written on (08:00 in Berlin is 08:00 in summer too)."""
    zone = _clock(column)
    if zone is None or seconds.size == 0:
        return seconds
    stamps = pd.DatetimeIndex(pd.to_datetime(np.rint(seconds * 1e6).astype("int64"), unit="us", utc=True))
    return np.asarray(stamps.tz_convert(zone).tz_localize(None).as_unit("us").asi8, dtype="float64") / 1e6


def order_values(order: np.ndarray, column: Column) -> Any:
    """Order numbers (seconds since the epoch for timestamps, on the column's clock where it has one:
    :func:`clock_seconds`) as the order column holds them."""
    if column.kind is Kind.DATETIME:
        stamps = pd.DatetimeIndex(pd.to_datetime(np.rint(order * 1e6).astype("int64"), unit="us"))
        zone = _clock(column)
        if zone is not None and column.datetime_format is not None:
            # a time the clock skips (02:30 when summer time begins) is moved past the gap; one it shows
            # twice (when summer time ends) is taken as the first
            local = stamps.tz_localize(
                zone, ambiguous=np.ones(len(stamps), dtype=bool), nonexistent="shift_forward"
            )
            return np.asarray(format_datetimes(pd.Series(local), column.datetime_format), dtype=object)
        if column.datetime_format and not pd.api.types.is_datetime64_any_dtype(_dtype(column.dtype)):
            return np.asarray(as_written(stamps, column), dtype=object)
        return stamps
    if column.integer:
        return np.rint(order).astype("int64")
    return order


def _dtype(dtype: str) -> Any:
    try:
        return pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return np.dtype(object)
