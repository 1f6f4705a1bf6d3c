"""Which strftime format a column of text datetimes is written in.

Candidates are built from common date spellings (ISO, day-first with ``.``/``/``/``-``, month-first,
two-digit years, month names), each alone or with a time (minutes, seconds, fractions, 12-hour clock)
and an offset (``Z``, ``+0100``, ``+01:00``), and from months alone (``2023-01``, ``Jan 2023``).
``%:z`` stands for an offset written with a colon, which ``strftime`` before Python 3.12 cannot write
(see ``mirage.encoding.datetime``).
A format is the first candidate that parses every distinct value; the first values pick the
candidates cheaply (``strptime``), pandas confirms them on all values.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from itertools import combinations

import pandas as pd

__all__ = ["COLON_OFFSET", "datetime_format", "parse_format", "read_datetimes"]

COLON_OFFSET = "%:z"
_SAMPLE = 2_000
_PADDED_FIELDS = ("%m", "%d", "%H", "%I")  # written with a leading zero by strftime, often not by people
_UNPADDED_FIELD = re.compile(r"%-([mdHI])")
_PROBES = 5
_DATES = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d.%m.%y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%b %d, %Y",
    "%B %d, %Y",
)
# months alone ("2023-01", "Jan 2023", "01/2023", Excel's "Jan-23")
_MONTHS = ("%Y-%m", "%Y/%m", "%m/%Y", "%m.%Y", "%b %Y", "%B %Y", "%b-%Y", "%b-%y")
_CLOCKS = ("%H:%M", "%H:%M:%S", "%H:%M:%S.%f", "%I:%M %p", "%I:%M:%S %p")
_ZONES = ("", "Z", "%z", COLON_OFFSET, " %z", f" {COLON_OFFSET}")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
# a time of day alone has two-digit minutes (a score such as "3:1" is not one)
_CLOCK_TEXT = re.compile(r"\d{1,2}:\d\d(?::\d\d(?:\.\d+)?)?(?: ?[AaPp][Mm])?")


@lru_cache(maxsize=1)
def _candidates() -> tuple[str, ...]:
    formats: list[str] = []
    for date in _DATES:
        formats.append(date)
        separators = (" ", "T") if date.startswith("%Y-") else (" ",)
        for separator in separators:
            for clock in _CLOCKS:
                for zone in _ZONES:
                    if zone and "%p" in clock and not zone.startswith(" "):
                        continue
                    formats.append(f"{date}{separator}{clock}{zone}")
    formats.extend(_MONTHS)
    formats.extend(_CLOCKS)  # times of day alone, read as on 1900-01-01 and written without the date
    return tuple(formats)


def parse_format(fmt: str) -> str:
    """The format ``strptime`` and pandas read: ``%:z`` is read by ``%z``, an unpadded ``%-m`` by ``%m``."""
    return _UNPADDED_FIELD.sub(r"%\1", fmt.replace(COLON_OFFSET, "%z"))


def _unpadded(fmt: str, sample: pd.Series) -> str:
    """``fmt`` with the fields that ``sample`` writes without a leading zero (``8/5/2024``: ``%-m/%-d/%Y``)
    written so, when one such choice writes every value of ``sample`` back as it is; else ``fmt``."""
    fields = [f for f in _PADDED_FIELDS if f in fmt]
    if not fields or "%z" in parse_format(fmt) or "%f" in fmt:
        return fmt
    parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
    if parsed.isna().any() or bool((parsed.dt.strftime(fmt) == sample).all()):
        return fmt
    for size in range(1, len(fields) + 1):
        for chosen in combinations(fields, size):
            variant = fmt
            for field in chosen:
                variant = variant.replace(field, "%-" + field[1])
            if bool((parsed.dt.strftime(variant) == sample).all()):
                return variant
    return fmt


def read_datetimes(
    values: pd.Series, fmt: str | None, *, naive: bool = False, keep_offset: bool = False
) -> pd.Series:
    """Text datetimes written in ``fmt`` as pandas datetimes, NaT where a value does not parse; with an
    offset in the format, UTC instants (``naive``: without the zone, for arithmetic with naive dates;
    ``keep_offset``: at the values' offset when they all have the same one, so that dates derived from
    them are written at it too)."""
    read = None if fmt is None else parse_format(fmt)
    utc = read is not None and "%z" in read
    if utc and keep_offset:
        try:
            parsed = pd.to_datetime(values, format=read, errors="coerce")
        except (TypeError, ValueError):  # several offsets
            parsed = None
        if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed):
            return parsed
    parsed = pd.to_datetime(values, format=read, errors="coerce", utc=utc)
    return parsed.dt.tz_localize(None) if utc and naive else parsed


def _strptime(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, parse_format(fmt))
    except ValueError:
        return False
    return True


def _offset_styles(sample: pd.Series) -> tuple[str, ...]:
    """The offset formats that write ``sample``'s offsets as they are: ``+01:00`` or ``+0100``."""
    colon = int(sample.str.contains(r"[+-]\d\d:\d\d$").sum())
    plain = int(sample.str.contains(r"[+-]\d{4}$").sum())
    if colon == plain == 0:
        return ("%z", COLON_OFFSET)
    return (COLON_OFFSET,) if colon >= plain else ("%z",)


def _zone(fmt: str) -> str | None:
    if COLON_OFFSET in fmt:
        return COLON_OFFSET
    return "%z" if "%z" in fmt else None


def datetime_format(text: pd.Series) -> str | None:
    """The strftime format that every value of ``text`` (distinct strings) is written in, or None."""
    sample = text.iloc[:_SAMPLE]
    if sample.empty or not sample.str.contains(r"\d").all() or sample.str.fullmatch(_NUMBER).any():
        return None
    probes = [str(v) for v in sample.iloc[:_PROBES]]
    styles = _offset_styles(sample)
    for fmt in _candidates():
        zone = _zone(fmt)
        if (zone is not None and zone not in styles) or not all(_strptime(v, fmt) for v in probes):
            continue
        if fmt in _CLOCKS and not sample.str.fullmatch(_CLOCK_TEXT).all():
            continue
        utc = "%z" in parse_format(fmt)
        read = parse_format(fmt)
        if pd.to_datetime(sample, format=read, errors="coerce", utc=utc).notna().all() and (
            len(text) == len(sample)
            or pd.to_datetime(text, format=read, errors="coerce", utc=utc).notna().all()
        ):
            return _unpadded(fmt, sample.reset_index(drop=True))
    return None
