"""Infer each column's kind from its data and name.

The rules favour privacy when in doubt: unique keys become identifiers (regenerated, never learned),
personal data becomes PII (replaced), long or near-unique strings become free text (not copied).
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage._attrs import source_extra
from mirage._warnings import warn
from mirage.errors import DataError
from mirage.schema._column import Column, Kind
from mirage.schema._datetimes import datetime_format
from mirage.schema._id_format import infer_id_format, infer_pattern, pattern_regex
from mirage.schema._locale import DEFAULT_LOCALE, guess_locale
from mirage.schema._number_text import split_affixes
from mirage.schema._pii import detect_pii
from mirage.schema._schema import Schema

__all__ = ["HighCardinality", "high_cardinality", "infer_schema"]

MAX_LOW_CARDINALITY = 10
TEXT_MIN_MEAN_LENGTH = 40
RARE_MIN_COUNT = 10  # the encoders' default: a category seen in fewer rows is never emitted
MOSTLY_RARE = 0.5  # a categorical column is "mostly rare" when more rows than this are rare
NEAR_UNIQUE = 0.9  # distinct values per row from which repeated keys are still keys
STRUCTURED = 0.9  # share of distinct values a character-class pattern must describe
# postal codes: learned as categories where they repeat (a place), replaced where nearly every row has
# its own (then they identify, and numbering them as keys would write codes no place has)
_POSTAL_NAME = re.compile(
    r"(^|[_\W])(zip|zipcode|postcode|postalcode|plz)$|(^|[_\W])(zip|post|postal)[_\W]?code$", re.I
)
_CITY_NAME = re.compile(
    r"(^|[_\W])(city|town|municipality|ort|wohnort|stadt|ville|ciudad|cidade|citt[aà]|stad|miasto)$", re.I
)
_ID_NAME = re.compile(r"(^|[_\W])(id|uuid|guid|key|code)$|^id[_\W]|[a-z]Id$|ID$", re.IGNORECASE)


def infer_schema(data: pd.DataFrame, *, locale: str | None = None) -> Schema:
    """A schema for ``data``: one column entry per DataFrame column, in order.

    ``locale``: the Faker locale of the replacement personal data; None reads it from the values that
    name a country (e-mail domains, phone country codes, IBANs: :mod:`mirage.schema._locale`), with a
    warning that says so, and takes ``en_US`` where they say nothing.
    """
    if data.columns.duplicated().any():
        name = data.columns[data.columns.duplicated()][0]
        raise DataError(f"column {name!r} appears twice in the data")
    columns = [infer_column(str(name), data[name]) for name in data.columns]
    if locale is None:
        locale = _read_locale(data, columns)
    for column in columns:
        if column.kind is Kind.PII and column.locale is None:
            column.locale = locale
    return Schema(columns=columns, locale=locale, extra=source_extra(data.attrs, data.columns))


def _read_locale(data: pd.DataFrame, columns: list[Column]) -> str:
    pii = [(c.name, c.pii_type, data[c.name]) for c in columns if c.kind is Kind.PII]
    guess = guess_locale(pii) if pii else None
    if guess is None:
        return DEFAULT_LOCALE
    if guess.locale != DEFAULT_LOCALE:
        warn(
            f"personal data will be replaced in locale {guess.locale}, read from {guess.reason}; "
            "pass locale= (--locale) to choose another"
        )
    return guess.locale


def infer_column(name: str, values: pd.Series) -> Column:
    dtype = str(values.dtype)
    nullable = bool(values.isna().any())
    present = values.dropna()
    base: dict[str, Any] = {"name": name, "dtype": dtype, "nullable": nullable}
    if present.empty:
        return Column(kind=Kind.CATEGORICAL, **base)
    if pd.api.types.is_bool_dtype(values.dtype) or _all_bool(present):
        return Column(kind=Kind.BOOLEAN, **base)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return Column(kind=Kind.DATETIME, **base)
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return _duration_column(present, base)
    if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered:
        return Column(kind=Kind.CATEGORICAL, ordered=True, **base)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return _numeric_column(name, present, base)
    if all(isinstance(v, decimal.Decimal) for v in present.head(1000)) and _all_decimal(present):
        return _numeric_column(name, present.astype("float64"), {**base, "dtype": "float64"})
    return _text_column(name, present, base)


def _all_decimal(present: pd.Series) -> bool:
    """Decimals from a database driver or an Arrow ``decimal128`` column, learned as numbers."""
    return all(isinstance(v, decimal.Decimal) and v.is_finite() for v in present)


def _all_bool(present: pd.Series) -> bool:
    return present.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in present.unique())


def _numeric_column(name: str, present: pd.Series, base: dict[str, Any]) -> Column:
    x = present.astype("float64").to_numpy()
    n = x.size
    whole = bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1.0) == 0.0))
    if pd.api.types.is_integer_dtype(present.dtype):  # exactly: past 2**53 floats merge neighbours
        n_unique, span = int(present.nunique()), int(present.max()) - int(present.min()) + 1
    else:
        n_unique, span = int(np.unique(x).size), int(x.max() - x.min() + 1) if whole else -1
    pii = detect_pii(name, present)
    if pii is not None:
        return Column(kind=Kind.PII, pii_type=pii, **base)
    if whole and n_unique == n and n >= 2 and (_ID_NAME.search(name) or span == n):
        return Column(kind=Kind.IDENTIFIER, id_format=infer_id_format(present), **base)
    if n_unique <= MAX_LOW_CARDINALITY and n >= 5 * n_unique and n_unique < n:
        return Column(kind=Kind.CATEGORICAL, ordered=True, **base)
    return _measured(x, whole, base)


def _duration_column(present: pd.Series, base: dict[str, Any]) -> Column:
    """A duration (``timedelta64``) column: a number of seconds, written back as durations."""
    x = present.dt.total_seconds().to_numpy(dtype="float64")
    return _measured(x, bool(np.all(np.mod(x, 1.0) == 0.0)), base, limit=6)


def _measured(x: np.ndarray, whole: bool, base: dict[str, Any], *, limit: int = 10) -> Column:
    """A numeric column of the values ``x``: their range and the decimals they are written with."""
    return Column(
        kind=Kind.NUMERIC,
        integer=whole,
        minimum=float(x.min()),
        maximum=float(x.max()),
        decimals=0 if whole else _decimals(x, limit),
        **base,
    )


def _decimals(x: np.ndarray, limit: int = 10) -> int | None:
    finite = x[np.isfinite(x)]
    for d in range(limit + 1):
        if np.all(np.abs(np.round(finite, d) - finite) <= 1e-9 * np.maximum(1.0, np.abs(finite))):
            return d
    return None


def _text_column(name: str, present: pd.Series, base: dict[str, Any]) -> Column:
    counts = present.astype(str).value_counts(sort=False)
    distinct = pd.Series(counts.index, dtype=object)
    fmt = datetime_format(distinct)
    if fmt is not None:
        return Column(kind=Kind.DATETIME, datetime_format=fmt, **base)
    signed = split_affixes(distinct)
    if signed is not None:
        sign = (signed[0].prefix + "..." + signed[0].suffix).strip()
        raise DataError(
            f"column {name!r} holds numbers written as text with {sign!r} (such as {distinct.iloc[0]!r}); "
            "read the file with mirage.io.read_table, which reads them as numbers and writes them back "
            "the same way, or convert the column to numbers"
        )
    pii = detect_pii(name, present)
    if pii is not None:
        return Column(kind=Kind.PII, pii_type=pii, **base)
    n, n_unique = int(counts.sum()), len(counts)
    postal = high_cardinality(counts) if n >= 2 and _POSTAL_NAME.search(name) else None
    if postal is not None:  # mostly rare codes (all of them when every row has its own)
        warn(
            f"column {name!r}: {n_unique:,} distinct postal codes in {n:,} rows; {postal.share:.0%} of the "
            f"rows hold codes seen in fewer than {RARE_MIN_COUNT} rows, which identify rather than place "
            "them; replaced with fake postal codes of the locale (declare the column categorical to learn "
            "the frequent ones)"
        )
        return Column(kind=Kind.PII, pii_type="postal_code", warned=True, **base)
    places = high_cardinality(counts) if n >= 2 and _CITY_NAME.search(name) else None
    if places is not None:  # mostly rare city names: a place few rows share identifies them
        warn(
            f"column {name!r}: {n_unique:,} distinct cities in {n:,} rows; {places.share:.0%} of the rows "
            f"hold cities seen in fewer than {RARE_MIN_COUNT} rows; replaced with fake city names of the "
            "locale (declare the column categorical to learn the frequent ones)"
        )
        return Column(kind=Kind.PII, pii_type="city", warned=True, **base)
    if n_unique == n and n >= 2 and (_ID_NAME.search(name) or _id_like(distinct)):
        return Column(kind=Kind.IDENTIFIER, id_format=infer_id_format(present), **base)
    weights = counts.to_numpy() / n
    mean_length = float(distinct.str.len().to_numpy() @ weights)
    mean_words = float((distinct.str.count(r"\s+").to_numpy() + 1) @ weights)
    if mean_length >= TEXT_MIN_MEAN_LENGTH:
        return Column(kind=Kind.TEXT, **base)
    if n_unique > 20 and n_unique > 0.5 * n and mean_words >= 2:
        rare = float(counts.to_numpy()[counts.to_numpy() < RARE_MIN_COUNT].sum() / n)
        HighCardinality(Kind.TEXT, n_unique, n, rare, RARE_MIN_COUNT).warn(name, inferred=True)
        return Column(kind=Kind.TEXT, warned=True, **base)
    better = high_cardinality(counts)
    if better is not None:
        better.warn(name, inferred=True)
        id_format = infer_id_format(present) if better.kind is Kind.IDENTIFIER else better.id_format
        return Column(kind=better.kind, id_format=id_format, warned=True, **base)
    return Column(kind=Kind.CATEGORICAL, **base)


@dataclass(frozen=True)
class HighCardinality:
    """What a column with mostly rare categories is better described as, and why."""

    kind: Kind
    distinct: int
    rows: int
    share: float  # of the rows that hold rare categories
    rare_min_count: int
    id_format: str | None = None  # categorical: rare values are written as new codes in this format

    @property
    def better(self) -> bool:
        """Whether there is a better kind than a categorical column of mostly ``_RARE_``."""
        return self.kind is not Kind.CATEGORICAL or self.id_format is not None

    def describe(self) -> str:
        if self.kind is Kind.IDENTIFIER:
            return "identifier (keys regenerated in the same format, never learned)"
        if self.kind is Kind.TEXT:
            return "text (Faker text of the learned length, never copied)"
        return (
            f"categorical with id_format {self.id_format!r} (frequent values learned, "
            "rare ones written as new codes of that format)"
        )

    def warn(self, column: str, *, inferred: bool) -> None:
        """Say so, naming ``column``: the kind inferred instead, or the one to consider."""
        what = (
            f"column {column!r}: {self.distinct:,} distinct values in {self.rows:,} rows; {self.share:.0%} "
            f"of the rows hold values seen in fewer than {self.rare_min_count} rows, which a categorical "
            "column generates as '_RARE_'"
        )
        if not self.better:
            advice = f"give more rows, or a lower rare_min_count (now {self.rare_min_count})"
        elif inferred:
            advice = f"inferred as {self.describe()}"
        else:
            advice = f"consider giving it this kind in the schema: {self.describe()}"
        warn(f"{what}; {advice}", stacklevel=4)


def high_cardinality(counts: pd.Series, rare_min_count: int = RARE_MIN_COUNT) -> HighCardinality | None:
    """What text values (``counts``: rows per distinct value) that are mostly rare are better as.

    None when at most ``MOSTLY_RARE`` of the rows hold values seen in fewer than ``rare_min_count``
    rows.  Else near-unique values are keys (identifier), prose is text, values that share a
    character-class pattern are codes (categorical whose rare values are written as new codes of
    the pattern); with 20 distinct values or fewer, or none of these, the column stays categorical.
    """
    n, n_unique = int(counts.sum()), len(counts)
    rare_rows = int(counts[counts < rare_min_count].sum())
    if n == 0 or rare_rows <= MOSTLY_RARE * n:
        return None
    share = rare_rows / n
    if n_unique <= 20:
        return HighCardinality(Kind.CATEGORICAL, n_unique, n, share, rare_min_count)
    distinct = pd.Series([str(v) for v in counts.index], dtype=object)
    words = float(distinct.str.count(r"\s+").mean()) + 1
    if words >= 2 or float(distinct.str.len().mean()) >= TEXT_MIN_MEAN_LENGTH:
        return HighCardinality(Kind.TEXT, n_unique, n, share, rare_min_count)
    if n_unique >= NEAR_UNIQUE * n:
        return HighCardinality(Kind.IDENTIFIER, n_unique, n, share, rare_min_count)
    pattern = infer_pattern(distinct.tolist())
    if _describes(pattern, distinct):
        return HighCardinality(Kind.CATEGORICAL, n_unique, n, share, rare_min_count, id_format=pattern)
    return HighCardinality(Kind.CATEGORICAL, n_unique, n, share, rare_min_count)


def _describes(pattern: str, distinct: pd.Series) -> bool:
    """Whether ``pattern`` has a class position and fits at least ``STRUCTURED`` of the values."""
    unescaped = re.sub(r"\\.", "", pattern)
    if not any(c in "Aa9" for c in unescaped):
        return False
    return bool(distinct.str.fullmatch(pattern_regex(pattern)).mean() >= STRUCTURED)


def _id_like(text: pd.Series) -> bool:
    """Unique values without spaces and of a near-constant length look like keys."""
    lengths = text.str.len()
    return bool(
        not text.str.contains(r"\s").any() and lengths.max() - lengths.min() <= 2 and lengths.min() >= 3
    )
