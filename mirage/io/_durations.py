"""Durations written as text in days, hours, minutes and seconds (``1h 30m``, ``2 hrs 5 mins``,
``3d 4h``): read as timedeltas, written back the way the source wrote them.

A column is read so when every value it holds is such a duration, with one label per unit, the units
of each value in decreasing order, and some value holding two units or the column two units (one unit
alone, ``45 min``, is a number with a unit: :mod:`mirage.schema._number_text`).  How the column wrote
them is kept (:func:`duration_texts`) for :func:`spell_durations`: the labels (``day``/``days`` by
the number), the space between number and label and between parts, and which units a value shows:
every unit of the column (``0h 45m``), those from its largest non-zero one down (``2h 0m``, ``45m``),
or only its non-zero ones (``19h``).  ISO 8601 durations (``PT1H20M``, ``P3DT4H``, ``PT45S``) are read
too and written back so, with their non-zero parts, at the smallest unit the column wrote.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage._duration_text import PART, SECONDS, UNIT_OF

__all__ = ["check_duration_texts", "duration_texts", "spell_durations"]

_DURATION = re.compile(rf"{PART}(?:,? ?{PART})*")
_PARTS = re.compile(PART)
_LONGEST = pd.Timedelta.max.total_seconds()  # about 292 years
_SHOWN = ("all", "from_largest", "non_zero")


_ISO = re.compile(r"P(?:(?P<d>\d+)D)?(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?")


def duration_texts(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Convert ``df``'s columns of text durations to timedeltas, in place; how each was written."""
    found: dict[str, dict[str, Any]] = {}
    for name in df.columns:
        values = df[name]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        distinct = values.dropna().unique().tolist()
        if not distinct or not all(isinstance(v, str) and v[:1] in "P0123456789" for v in distinct):
            continue
        spelt = (
            _iso_spelling(distinct)
            if distinct[0].startswith("P")
            else _spelling(pd.Series(distinct, dtype=object))
        )
        if spelt is None:
            continue
        style, seconds = spelt
        if max(seconds) > _LONGEST:  # no duration type holds it: the column is not durations
            continue
        per_value = dict(zip(distinct, seconds, strict=True))
        df[name] = pd.to_timedelta(values.map(per_value), unit="s")
        found[str(name)] = style
    return found


def _spelling(distinct: pd.Series) -> tuple[dict[str, Any], list[int]] | None:
    if not bool(distinct.str.fullmatch(_DURATION.pattern).all()):
        return None
    labels: dict[str, str] = {}
    spaces: set[str] = set()
    joins: set[str] = set()
    shown: list[list[str]] = []
    seconds: list[int] = []
    plural = False
    for text in distinct.tolist():
        matches = list(_PARTS.finditer(text))
        parts = [m.groups() for m in matches]
        units = [UNIT_OF[label] for _, _, label in parts]
        if not _largest_first(units):
            return None
        for (_, space, label), unit in zip(parts, units, strict=True):
            base = _singular(label)
            if labels.setdefault(unit, base) != base:
                return None
            plural |= base != label
            spaces.add(space)
        joins.update(text[a.end() : b.start()] for a, b in itertools.pairwise(matches))
        shown.append(units)
        numbers = [int(number) for number, _, _ in parts]
        seconds.append(sum(n * SECONDS[u] for n, u in zip(numbers, units, strict=True)))
    units = [u for u in SECONDS if u in labels]
    if len(spaces) > 1 or len(joins) > 1 or (len(units) < 2 and all(len(s) == 1 for s in shown)):
        return None
    style = {
        "units": [labels[u] for u in units],
        "space": spaces.pop(),
        "join": joins.pop() if joins else " ",
        "shown": _shown(shown, units),
        "plural": plural,
    }
    return style, seconds


def _iso_spelling(distinct: list[str]) -> tuple[dict[str, Any], list[int]] | None:
    """ISO 8601 durations (``PT1H20M``): the style that writes them back, at the smallest unit any of
    them holds, and each one's seconds."""
    seconds: list[int] = []
    smallest = 0
    for text in distinct:
        found = _ISO.fullmatch(text)
        if found is None or text in ("P", "PT"):
            return None
        parts = {unit: int(n) for unit, n in found.groupdict().items() if n is not None}
        smallest = max(smallest, max(list(SECONDS).index(unit) for unit in parts))
        seconds.append(sum(n * SECONDS[unit] for unit, n in parts.items()))
    return {"iso": True, "smallest": list(SECONDS)[smallest]}, seconds


def _largest_first(units: list[str]) -> bool:
    """Whether ``units`` (``d``, ``h``, ``m``, ``s``) go from the largest down, none twice."""
    ranks = [list(SECONDS).index(unit) for unit in units]
    return ranks == sorted(set(ranks))


def _singular(label: str) -> str:
    """``days`` -> ``day``, ``hrs`` -> ``hr``; a label that is not a plural unchanged (``s``, ``h``)."""
    return label[:-1] if label.endswith("s") and label[:-1] in UNIT_OF else label


def _shown(shown: list[list[str]], units: list[str]) -> str:
    if all(s == units for s in shown):
        return "all"
    if all(s == units[units.index(s[0]) :] for s in shown):
        return "from_largest"
    return "non_zero"


def check_duration_texts(value: Any) -> dict[str, dict[str, Any]]:
    """A CSV dialect's ``durations`` setting, checked; ``ValueError`` says what is wrong."""
    if not isinstance(value, Mapping):
        raise ValueError("durations must map column names to how they are written")
    out: dict[str, dict[str, Any]] = {}
    for column, style in value.items():
        if isinstance(style, Mapping) and style.get("iso") is True:
            if set(style) != {"iso", "smallest"} or style.get("smallest") not in SECONDS:
                raise ValueError(
                    f"ISO durations of column {column!r} need iso (true) and smallest (d, h, m or s), "
                    f"got {dict(style)!r}"
                )
            out[str(column)] = dict(style)
            continue
        labels = style.get("units") if isinstance(style, Mapping) else None
        ok = (
            isinstance(labels, list)
            and labels
            and all(isinstance(label, str) and label in UNIT_OF for label in labels)
            and _largest_first([UNIT_OF[label] for label in labels])
            and isinstance(style, Mapping)
            and style.get("space") in ("", " ")
            and style.get("join") in ("", " ", ",", ", ")
            and style.get("shown") in _SHOWN
            and isinstance(style.get("plural", False), bool)
        )
        if not ok:
            raise ValueError(
                f"durations of column {column!r} need units (labels of days, hours, minutes, seconds, "
                f"largest first), space ('' or ' '), join ('', ' ', ',' or ', ') and shown "
                f"({', '.join(_SHOWN)}), and plural (true/false) if given, got {style!r}"
            )
        out[str(column)] = dict(style)
    return out


def spell_durations(values: pd.Series, style: Mapping[str, Any]) -> pd.Series:
    """Timedeltas (or seconds) written in ``style``, rounded to its smallest unit; missing stay missing."""
    iso = bool(style.get("iso"))
    units = list(SECONDS)[: list(SECONDS).index(style["smallest"]) + 1] if iso else None
    labels = units or list(style["units"])
    sizes = [SECONDS[UNIT_OF[label]] for label in labels]
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        seconds = values.dt.total_seconds().to_numpy(dtype="float64")
    else:
        seconds = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    missing = ~np.isfinite(seconds)
    steps = np.rint(np.where(missing, 0.0, np.abs(seconds)) / sizes[-1]).astype(np.int64)
    out: list[str | None] = []
    for step, gap in zip(steps.tolist(), missing.tolist(), strict=True):
        if gap:
            out.append(None)
            continue
        left, numbers = step * sizes[-1], []
        for size in sizes:
            numbers.append(left // size)
            left -= numbers[-1] * size
        out.append(_iso_spelt(numbers, labels) if iso else _spelt(numbers, labels, style))
    return pd.Series(out, index=values.index, dtype=object, name=values.name)


def _iso_spelt(numbers: list[int], units: list[str]) -> str:
    """``PT1H20M``: the non-zero parts (a zero as its smallest unit, ``PT0S``, ``P0D``)."""
    parts = {unit: n for unit, n in zip(units, numbers, strict=True) if n}
    if not parts:
        parts = {units[-1]: 0}
    day = f"{parts['d']}D" if "d" in parts else ""
    time = "".join(f"{parts[u]}{u.upper()}" for u in ("h", "m", "s") if u in parts)
    return f"P{day}{'T' + time if time else ''}"


def _spelt(numbers: list[int], labels: list[str], style: Mapping[str, Any]) -> str:
    shown = list(range(len(numbers)))
    if style["shown"] == "from_largest":
        first = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
        shown = shown[first:]
    elif style["shown"] == "non_zero":
        shown = [i for i, n in enumerate(numbers) if n] or [len(numbers) - 1]
    plural = bool(style.get("plural"))
    return style["join"].join(
        f"{numbers[i]}{style['space']}{labels[i]}{'s' if plural and numbers[i] != 1 else ''}" for i in shown
    )
