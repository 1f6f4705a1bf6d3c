"""Durations written in days, hours, minutes and seconds (``2h 30m``, ``1 hr, 5 mins``, ``90min``):
the units and their labels, and reading one such text (for files, :mod:`mirage.io._durations`; for
conditions, :mod:`mirage.engines._conditions`)."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["PART", "SECONDS", "UNIT_OF", "as_duration"]

SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
UNIT_OF = {
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
}
PART = r"(\d+)( ?)(" + "|".join(sorted(UNIT_OF, key=len, reverse=True)) + r")(?![A-Za-z])"
_DURATION = re.compile(rf"\s*{PART}(?:,? ?{PART})*\s*")


def as_duration(value: Any) -> pd.Timedelta:
    """``value`` as a duration: a timedelta, a number of seconds, or text (``2h 30m``, ``1 hr, 5 mins``,
    ``01:30:00``, ``90min``); ``ValueError`` when it is none of these."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, (int, float)):
        return pd.Timedelta(seconds=float(value))
    if isinstance(value, str):
        if _DURATION.fullmatch(value):
            seconds = sum(int(n) * SECONDS[UNIT_OF[label]] for n, _, label in re.findall(PART, value))
            return pd.Timedelta(seconds=seconds)
        try:
            parsed = pd.Timedelta(value.strip())
        except (TypeError, ValueError):
            raise ValueError(f"expected a duration such as '2h 30m' or '01:30:00', got {value!r}") from None
        if pd.isna(parsed):
            raise ValueError(f"expected a duration, got {value!r}")
        return parsed
    try:
        parsed = pd.Timedelta(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a duration, got {value!r}") from None
    if pd.isna(parsed):
        raise ValueError(f"expected a duration, got {value!r}")
    return parsed
