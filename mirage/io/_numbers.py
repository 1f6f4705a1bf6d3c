"""Numbers written for people: a decimal comma (``1.234,5``) or thousands separators (``1,234.5``).

pandas reads only ``1234.5``; other spellings stay text and would be learned as categories.  The
file's decimal mark is decided once, from the text columns that hold nothing but such numbers:
values that only one convention explains decide (``2,5``, ``1.234,56`` for the comma; ``1,234.5``,
``1'234.5`` for the point); when none does, a ``;`` separator means a decimal comma (the reason such
files use it) and a ``,`` separator a decimal point.  Then every text column that holds nothing but
numbers in that convention becomes numeric, and in a decimal-comma file the columns pandas read
with a decimal point are read again when their text shows thousands groups (``1.500`` is 1500).

Accountants' negatives, ``(1,234.50)``, and numbers after the typographic minus (U+2212) are numbers
below zero, and a column of numbers whose other cells are words for "missing" (``N/A``, ``-``,
``unknown``) is numbers with those cells missing; writers spell all of these back as the source did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_float_dtype, is_object_dtype, is_string_dtype

from mirage._warnings import warn
from mirage.schema import NumberText, PerRowCurrency, split_affixes, split_currencies

DECIMAL_ATTR = "mirage.decimal"  # the decimal mark the file's numbers were written with
# {column: {"prefix": "$", "suffix": "", "decimals": 2, "grouped": True}}: numbers written with a sign;
# "negative": "parentheses" when negatives are written as accountants do, (1,234.50), "minus sign" when
# with the typographic minus U+2212; "decimal": ","
# for a comma-separated file's numbers written in quotes with a decimal comma ("4,8")
NUMBERS_ATTR = "mirage.numbers"
# {column: "N/A"}: numbers whose missing cells the source wrote as a word or mark; {column: {"N/A": 0.7,
# "-": 0.3}} where it wrote several, each on that share of the missing cells
MISSING_ATTR = "mirage.missing"
# {column: {"mark": "*", "share": 0.01}}: numbers some of which carry a footnote mark (12.5*)
MARKS_ATTR = "mirage.marks"
# {column: {"column": "price currency", "side": "prefix", "space": " "}}: numbers each written with its
# own currency (EUR 12, USD 3), which the reader puts in a column of its own
CURRENCIES_ATTR = "mirage.currencies"


__all__ = [
    "CURRENCIES_ATTR",
    "DECIMAL_ATTR",
    "MARKS_ATTR",
    "MISSING_ATTR",
    "MISSING_WORDS",
    "NUMBERS_ATTR",
    "convert_numbers",
    "missing_spelling",
    "padded_numbers",
]

# group separators: a point or spaces with a decimal comma; a comma, apostrophe or spaces with a point
_COMMA_NUMBER = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?P<g>[.\u00a0\u202f ])\d{3}(?:(?P=g)\d{3})*|\d+)(?:,\d+)?")
_POINT_NUMBER = re.compile(
    r"[+-]?(?:[1-9]\d{0,2}(?P<g>[,'\u00a0\u202f ])\d{3}(?:(?P=g)\d{3})*|\d+)(?:\.\d+)?"
)
# spellings only one convention explains
_ONLY_COMMA = re.compile(r".*(?:,\d{1,2}|,\d{4,}|\.\d{3},\d+)")
_ONLY_POINT = re.compile(r".*(?:,\d{3}\.\d+|'\d{3}(?:[.']|$))")
_GROUPS = re.compile(r"[.,'\u00a0\u202f ]")
_USER_OPTIONS = ("decimal", "thousands", "dtype", "converters")
# a footnote mark after some numbers of a column (12.5*, 40†): the numbers are still numbers
_FOOTNOTE = re.compile(r"(?P<number>.*\d)(?P<mark>[*\u2020\u2021\u00a7\u00b6#^~]{1,3})")
MAX_MARKED_SHARE = 0.5  # a mark on more of the rows than this is part of how the column is written
MINUS_SIGN = "\u2212"  # the typographic minus of spreadsheets and web pages
_PARENTHESISED = re.compile(r"\(\s*([^()\s][^()]*?)\s*\)")
# what people write for a missing number; a column of numbers may also hold these
MISSING_WORDS = frozenset(
    {
        "NA",
        "N/A",
        "n/a",
        "na",
        "#N/A",
        "-",
        "--",
        "?",
        ".",
        "null",
        "NULL",
        "Null",
        "None",
        "none",
        "nan",
        "NaN",
        "unknown",
        "Unknown",
        "UNKNOWN",
        "missing",
        "Missing",
        "n.a.",
        "N.A.",
    }
)


def _text_columns(df: pd.DataFrame) -> dict[str, pd.Series]:
    return {
        str(name): df[name].dropna().astype(str)
        for name in df.columns
        if is_object_dtype(df[name].dtype) or is_string_dtype(df[name].dtype)
    }


def _all_match(values: pd.Series, pattern: re.Pattern[str]) -> bool:
    return bool(len(values)) and bool(values.str.fullmatch(pattern).all())


def decimal_mark(columns: dict[str, pd.Series], delimiter: str) -> str | None:
    """``","`` or ``"."``: how the numbers held as text in ``columns`` write their decimals."""
    comma = point = False
    for values in columns.values():
        distinct = pd.Series(values.unique())
        if _all_match(distinct, _COMMA_NUMBER) and distinct.str.fullmatch(_ONLY_COMMA).any():
            comma = True
        if _all_match(distinct, _POINT_NUMBER) and distinct.str.fullmatch(_ONLY_POINT).any():
            point = True
    if comma != point:
        return "," if comma else "."
    return {";": ",", ",": "."}.get(delimiter)


def _parse(values: pd.Series, mark: str) -> pd.Series:
    groups = r"[.\u00a0\u202f ]" if mark == "," else r"[,'\u00a0\u202f ]"
    digits = values.str.replace(groups, "", regex=True).str.replace(",", ".", regex=False)
    return pd.to_numeric(digits, errors="raise")


def _as_number(column: pd.Series, mark: str) -> pd.Series:
    """int64 when every value is present and none has decimals, else float64 with NaN."""
    present = column.notna()
    text = column[present].astype(str)
    numbers = pd.Series(np.nan, index=column.index, dtype="float64", name=column.name)
    numbers[present] = _parse(text, mark).astype("float64")
    if bool(present.all()) and not text.str.contains(mark, regex=False).any():
        whole = numbers.to_numpy()
        if np.all(np.abs(whole) < 2**53):
            return pd.Series(whole.astype("int64"), index=column.index, name=column.name)
    return numbers


def _trimmed(fractions: pd.Series) -> bool:
    """Whether numbers were written with as few decimals as each needs (``5`` beside ``12.5``): their
    decimal counts differ and none ends in a zero; ``fractions`` holds each one's digits after the
    mark (NaN: none)."""
    counts = fractions.str.len().fillna(0)
    written = fractions.dropna()
    return bool(counts.min() < counts.max() and not written.str.endswith("0").any())


def convert_numbers(
    df: pd.DataFrame,
    *,
    delimiter: str,
    options: dict[str, Any],
    raw: Callable[[list[str]], pd.DataFrame],
) -> pd.DataFrame:
    """``df`` with its numbers-as-text columns as numbers; ``raw(columns)`` reads columns as text."""
    if df.empty or any(key in options for key in _USER_OPTIONS):
        return df
    texts = _text_columns(df)
    if not texts:
        return df
    signs: dict[str, NumberText] = {}
    parenthesised: set[str] = set()
    minus_signs: set[str] = set()
    missing: dict[str, pd.Series] = {}
    marks: dict[str, tuple[str, float, int]] = {}
    currencies: dict[str, tuple[PerRowCurrency, pd.Series]] = {}
    for name, values in list(texts.items()):
        words = values.isin(MISSING_WORDS)
        if bool(words.any()) and not bool(words.all()):
            missing[name] = values[words]
            values = texts[name] = values[~words]
        written_as = values.unique()
        spellings = pd.Series(written_as)
        footnote = _footnote_mark(values, spellings)
        if footnote is not None:
            marks[name] = footnote
            spellings = spellings.str.replace(_FOOTNOTE, r"\g<number>", regex=True)
        negatives = spellings.str.fullmatch(_PARENTHESISED)
        if bool(negatives.any()):
            parenthesised.add(name)
            spellings = spellings.where(~negatives, "-" + spellings.str.extract(_PARENTHESISED)[0])
        elif bool(spellings.str.startswith(MINUS_SIGN).any()):
            minus_signs.add(name)
            spellings = spellings.str.replace(f"^{MINUS_SIGN}", "-", regex=True)
        found = split_affixes(spellings)
        if found is not None:
            signs[name] = found[0]
            spellings = found[1]
        elif (each_row := split_currencies(spellings)) is not None:
            currencies[name] = (each_row, values.map(dict(zip(written_as, each_row.currencies, strict=True))))
            spellings = each_row.numbers
        if (
            name in signs
            or name in parenthesised
            or name in minus_signs
            or name in marks
            or name in currencies
        ):
            texts[name] = values.map(dict(zip(written_as, spellings, strict=True)))
    file_mark = decimal_mark(texts, delimiter) or (
        "." if signs or parenthesised or missing or marks or currencies else None
    )
    if file_mark is None:
        return df
    # a comma-separated file's decimal commas are in quoted cells beside numbers pandas read with a
    # point (a spreadsheet's export in a decimal-comma locale): each column keeps its own mark
    each_column = delimiter == "," and file_mark == ","
    if each_column:
        file_mark = "."
    written: dict[str, dict[str, Any]] = {}
    words_for: dict[str, str | dict[str, float]] = {}
    marked: dict[str, dict[str, Any]] = {}
    per_row: dict[str, dict[str, str]] = {}
    for name, values in list(texts.items()):
        distinct = pd.Series(values.unique())
        mark = "," if each_column and decimal_mark({name: distinct}, "") == "," else file_mark
        if not _all_match(distinct, _COMMA_NUMBER if mark == "," else _POINT_NUMBER):
            continue
        grouped = bool(distinct.str.contains(_GROUPS).any())
        if not (grouped or name in signs or name in parenthesised or name in minus_signs) and not (
            name in missing or name in marks or name in currencies
        ):
            continue
        column = pd.Series(None, index=df.index, dtype=object, name=df[name].name)
        column[values.index] = values.to_numpy()
        df[name] = _as_number(column, mark)
        df.attrs[DECIMAL_ATTR] = file_mark
        if name in missing:
            words_for[name] = missing_spelling(name, missing[name], "numbers")
        if name in marks:
            marked[name] = _marked(name, *marks[name], rows=len(values))
        group = r"\d[,'\u00a0\u202f ]\d{3}" if mark == "." else r"\d[.\u00a0\u202f ]\d{3}"
        groups = bool(distinct.str.contains(group).any())
        if name in currencies:
            per_row[name] = _currency_column(df, name, *currencies[name])
        styled = name in signs or name in parenthesised or name in minus_signs or name in currencies
        if groups or styled or mark != file_mark:
            fractions = distinct.str.extract(r"[.,](\d+)$" if mark == "." else r",(\d+)$")[0]
            decimals = fractions.str.len().fillna(0)
            sign = signs.get(name, NumberText("", ""))
            written[name] = {
                "prefix": sign.prefix,
                "suffix": sign.suffix,
                "decimals": int(decimals.max()),
                # "5%" beside "12.5%": as few decimals as each value needs, never a trailing zero
                **({"trimmed": True} if _trimmed(fractions) else {}),
                "grouped": groups,
                **({"negative": "parentheses"} if name in parenthesised else {}),
                **({"negative": "minus sign"} if name in minus_signs else {}),
                **({"decimal": mark} if mark != file_mark else {}),
            }
    if written:
        df.attrs[NUMBERS_ATTR] = written
    if words_for:
        df.attrs[MISSING_ATTR] = words_for
    if marked:
        df.attrs[MARKS_ATTR] = marked
    if per_row:
        df.attrs[CURRENCIES_ATTR] = per_row
    if file_mark == "," and delimiter != ",":
        floats = [str(c) for c in df.columns if is_float_dtype(df[c].dtype) and str(c) not in texts]
        if floats:
            _reread_grouped(df, raw(floats))
    return df


def _currency_column(
    df: pd.DataFrame, name: str, written: PerRowCurrency, of_rows: pd.Series
) -> dict[str, str]:
    """Each row's currency of column ``name`` put in a column of its own after it (``price currency``),
    learned with the numbers; how a CSV writes the two back as one."""
    column = f"{name} currency"
    while column in df.columns:
        column += "_"
    codes = pd.Series(None, index=df.index, dtype=object)
    codes[of_rows.index] = of_rows.to_numpy()
    df.insert(list(df.columns).index(name) + 1, column, codes)
    listed = ", ".join(str(c) for c in of_rows.value_counts().index)
    warn(
        f"column {name!r}: numbers written with a currency each ({listed}); learned as numbers with their "
        f"currency in a column {column!r}, which CSV output writes back beside each number"
    )
    return {"column": column, "side": written.side, "space": written.space}


def _footnote_mark(values: pd.Series, spellings: pd.Series) -> tuple[str, float, int] | None:
    """The one footnote mark some (at most ``MAX_MARKED_SHARE``) of a column's numbers carry, its share
    of the rows and their number; None where there is none, or several."""
    found = spellings.str.fullmatch(_FOOTNOTE)
    if not bool(found.any()):
        return None
    used = spellings[found].str.extract(_FOOTNOTE)["mark"].unique()
    if len(used) != 1:
        return None
    rows = int(values.str.fullmatch(_FOOTNOTE).sum())
    share = rows / len(values)
    return (str(used[0]), share, rows) if share <= MAX_MARKED_SHARE else None


def _marked(name: str, mark: str, share: float, marked_rows: int, *, rows: int) -> dict[str, Any]:
    warn(
        f"column {name!r}: {marked_rows} of {rows} numbers carry a {mark!r} mark; learned as numbers, "
        f"synthetic rows write the mark on about as many ({share:.1%}), chosen at random (not tied to "
        "the other columns)"
    )
    return {"mark": mark, "share": round(share, 6)}


def missing_spelling(name: str, words: pd.Series, what: str) -> str | dict[str, float]:
    """The word synthetic rows write for a missing value (of ``what``: numbers, dates), or the words
    and their shares of the missing cells where the source wrote several."""
    counts = words.value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    shares = {str(w): round(int(c) / int(counts.sum()), 6) for w, c in counts.items()}
    listed = ", ".join(f"{w!r} ({int(c)})" for w, c in counts.items())
    warn(
        f"column {name!r}: read {listed} as missing {what}; synthetic rows write each word on about "
        "its share of the missing cells, chosen at random (not tied to the other columns)"
    )
    return shares


def _reread_grouped(df: pd.DataFrame, text: pd.DataFrame) -> None:
    """Columns read with a decimal point whose text is really thousands groups (``1.500``)."""
    for name in text.columns:
        values = text[name].dropna()
        distinct = pd.Series(values.unique())
        if _all_match(distinct, _COMMA_NUMBER) and distinct.str.contains(r"\.", regex=True).any():
            df[name] = _as_number(text[name], ",")


def padded_numbers(
    df: pd.DataFrame, decimal: str, known: Mapping[str, Any], raw: Callable[[list[str]], pd.DataFrame]
) -> dict[str, dict[str, Any]]:
    """Float columns (not in ``known``) whose every value the file writes with the same number of
    decimals (``12.50``, ``3.10``): written back so, where ``12.5`` would lose the source's zero.

    ``raw(columns)`` reads columns as text (the file's first part is enough to tell).
    """
    names = [str(c) for c in df.columns if is_float_dtype(df[c].dtype) and str(c) not in known]
    if not names:
        return {}
    try:
        text = raw(names)
    except (pd.errors.ParserError, ValueError):  # the file's first part ends inside a quoted field
        return {}
    fixed = re.compile(r"\s*[+-]?\d+" + re.escape(decimal) + r"(\d+)\s*")
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        present = text[name].dropna()
        present = present[~present.isin(MISSING_WORDS) & (present.str.strip() != "")]
        if present.empty:
            continue
        if not bool(present.str.fullmatch(fixed).all()):
            continue
        fractions = present.str.extract(fixed)[0]
        lengths = fractions.str.len().unique()
        if len(lengths) == 1 and bool(fractions.str.endswith("0").any()):
            found[name] = {"prefix": "", "suffix": "", "decimals": int(lengths[0]), "grouped": False}
    return found
