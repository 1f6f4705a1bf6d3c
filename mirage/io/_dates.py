"""Dates a column writes in more than one format (``2023-01-05`` and ``01/05/2023``).

Exports from several systems, or hand-edited sheets, mix spellings; learned as text, every such
value is a rare category.  A text column whose values fall into a few date spellings, each of which
one strftime format reads, is rewritten in the format most of its rows use, with a warning naming
the formats and how many rows each had.  Day and month order is decided per spelling from its
values (``13/01/2023`` can only be day first); when nothing decides it, day first is taken and the
warning says so.  Offsets are left alone: columns with one are not rewritten.

A CSV column of dates whose other cells are words for "missing" (``N/A``, ``-``, ``unknown``) is
dates with those cells missing (:func:`dates_missing_words`); its writer spells them back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype, is_string_dtype

from mirage._warnings import warn
from mirage.io._numbers import MISSING_WORDS, missing_spelling
from mirage.schema._datetimes import datetime_format, parse_format

__all__ = ["dates_missing_words", "unify_date_formats"]

_MAX_SPELLINGS = 4  # a column with more separate date spellings is left as it is
_DATE_LIKE = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2} \w{3,9},? \d{4}|\w{3,9} \d{1,2}, \d{4}"


def dates_missing_words(df: pd.DataFrame) -> dict[str, str | dict[str, float]]:
    """Text columns of dates some of whose cells are words for "missing": those cells set missing in
    ``df``; per column, the word (or the words and their shares) the writer spells them with."""
    found: dict[str, str | dict[str, float]] = {}
    for position, name in enumerate(df.columns):
        values = df.iloc[:, position]
        if not (is_object_dtype(values.dtype) or is_string_dtype(values.dtype)):
            continue
        present = values.dropna()
        if present.empty or not all(isinstance(v, str) for v in present.head(200)):
            continue
        words = present.isin(MISSING_WORDS)
        if not bool(words.any()) or bool(words.all()):
            continue
        distinct = pd.Series(present[~words].unique(), dtype=object)
        if not distinct.str.fullmatch(rf"\s*(?:{_DATE_LIKE})(?:[ T]\d.*)?").all():
            continue
        spelling = distinct.str.replace(r"\d+", "9", regex=True).str.replace(r"[^\W\d_]+", "a", regex=True)
        if spelling.nunique() > _MAX_SPELLINGS or any(
            datetime_format(distinct[spelling == shape]) is None for shape in spelling.unique()
        ):
            continue
        found[str(name)] = missing_spelling(str(name), present[words], "dates")
        column: Any = values.where(~values.isin(MISSING_WORDS), None)
        df.isetitem(position, column)
    return found


def unify_date_formats(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each text column of dates in mixed formats rewritten in its most common one."""
    for position, name in enumerate(df.columns):
        values = df.iloc[:, position]
        if not is_object_dtype(values.dtype):
            continue
        present = values.dropna()
        head = present.head(200)
        if present.empty or not all(isinstance(v, str) for v in head) or not head.str.match(_DATE_LIKE).all():
            continue
        counts = present.value_counts()
        distinct = pd.Series(counts.index, dtype=object)
        if not distinct.str.match(_DATE_LIKE).all():
            continue
        spelling = distinct.str.replace(r"\d+", "9", regex=True).str.replace(r"[^\W\d_]+", "a", regex=True)
        if not 2 <= spelling.nunique() <= _MAX_SPELLINGS:  # one spelling: the schema reads its format
            continue
        rewritten = _rewritten(str(name), distinct, spelling, counts.to_numpy())
        if rewritten is not None:
            column: Any = values.astype(object).copy()
            column[present.index] = present.map(rewritten).to_numpy()
            df.isetitem(position, column)
    return df


def _rewritten(
    name: str, distinct: pd.Series, spelling: pd.Series, rows_of: np.ndarray
) -> dict[str, str] | None:
    """Each of the ``distinct`` dates (``rows_of`` rows each) written in the format most rows use."""
    formats: dict[str, str] = {}
    rows: dict[str, int] = {}
    ambiguous: list[str] = []
    for shape in spelling.unique():
        members = distinct[spelling == shape]
        fmt = datetime_format(members)
        if fmt is None or "%z" in parse_format(fmt) or fmt.endswith("Z"):
            return None
        formats[str(shape)] = fmt
        rows[fmt] = rows.get(fmt, 0) + int(rows_of[(spelling == shape).to_numpy()].sum())
        read = parse_format(fmt)
        if "%d" in read and "%m" in read and read.index("%d") < read.index("%m"):
            swapped = read.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
            if pd.to_datetime(members, format=swapped, errors="coerce").notna().all():
                ambiguous.append(fmt)
    if len(rows) < 2:
        return None
    target = max(rows, key=lambda f: rows[f])
    stamps = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns]")
    for shape, fmt in formats.items():
        members = (spelling == shape).to_numpy()
        stamps[members] = pd.to_datetime(distinct[members], format=parse_format(fmt))
    listed = ", ".join(f"{f!r} in {n} rows" for f, n in sorted(rows.items(), key=lambda item: -item[1]))
    note = (
        f"; {', '.join(repr(f) for f in ambiguous)} could also be month first: read day first"
        if ambiguous
        else ""
    )
    warn(
        f"column {name!r}: dates written in {len(rows)} formats ({listed}); read as dates and written "
        f"as {target!r}{note}"
    )
    return dict(zip(distinct, stamps.dt.strftime(target), strict=True))
