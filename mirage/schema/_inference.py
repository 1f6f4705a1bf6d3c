"""Infer each column's kind from its data and name.

The rules favour privacy when in doubt: unique keys become identifiers (regenerated, never learned),
personal data becomes PII (replaced), long or near-unique strings become free text (not copied).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from mirage.errors import DataError
from mirage.schema._column import Column, Kind
from mirage.schema._pii import detect_pii
from mirage.schema._schema import Schema

__all__ = ["infer_schema"]

MAX_LOW_CARDINALITY = 10
TEXT_MIN_MEAN_LENGTH = 40
_SAMPLE = 2_000
_DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%Y-%m",
    "%d %b %Y",
    "%b %d, %Y",
)
_ID_NAME = re.compile(r"(^|[_\W])(id|uuid|guid|key|code)$|^id[_\W]|[a-z]Id$|ID$", re.IGNORECASE)


def infer_schema(data: pd.DataFrame, *, locale: str = "en_US") -> Schema:
    """A schema for ``data``: one column entry per DataFrame column, in order."""
    if data.columns.duplicated().any():
        name = data.columns[data.columns.duplicated()][0]
        raise DataError(f"column {name!r} appears twice in the data")
    columns = [infer_column(str(name), data[name]) for name in data.columns]
    for column in columns:
        if column.kind is Kind.PII and column.locale is None:
            column.locale = locale
    return Schema(columns=columns, locale=locale)


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
    if pd.api.types.is_numeric_dtype(values.dtype):
        return _numeric_column(name, present, base)
    return _text_column(name, present, base)


def _all_bool(present: pd.Series) -> bool:
    return present.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in present.unique())


def _numeric_column(name: str, present: pd.Series, base: dict[str, Any]) -> Column:
    x = present.astype("float64").to_numpy()
    n, n_unique = x.size, int(np.unique(x).size)
    whole = bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1.0) == 0.0))
    pii = detect_pii(name, present)
    if pii is not None:
        return Column(kind=Kind.PII, pii_type=pii, **base)
    if whole and n_unique == n and n >= 2 and (_ID_NAME.search(name) or x.max() - x.min() + 1 == n):
        return Column(kind=Kind.IDENTIFIER, **base)
    if n_unique <= MAX_LOW_CARDINALITY and n >= 5 * n_unique and n_unique < n:
        return Column(kind=Kind.CATEGORICAL, ordered=True, **base)
    decimals = 0 if whole else _decimals(x)
    return Column(
        kind=Kind.NUMERIC,
        integer=whole,
        minimum=float(x.min()),
        maximum=float(x.max()),
        decimals=decimals,
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
    fmt = _datetime_format(distinct)
    if fmt is not None:
        return Column(kind=Kind.DATETIME, datetime_format=fmt, **base)
    pii = detect_pii(name, present)
    if pii is not None:
        return Column(kind=Kind.PII, pii_type=pii, **base)
    n, n_unique = int(counts.sum()), len(counts)
    if n_unique == n and n >= 2 and (_ID_NAME.search(name) or _id_like(distinct)):
        return Column(kind=Kind.IDENTIFIER, **base)
    weights = counts.to_numpy() / n
    mean_length = float(distinct.str.len().to_numpy() @ weights)
    mean_words = float((distinct.str.count(r"\s+").to_numpy() + 1) @ weights)
    if mean_length >= TEXT_MIN_MEAN_LENGTH or (n_unique > 20 and n_unique > 0.5 * n and mean_words >= 2):
        return Column(kind=Kind.TEXT, **base)
    return Column(kind=Kind.CATEGORICAL, **base)


def _id_like(text: pd.Series) -> bool:
    """Unique values without spaces and of a near-constant length look like keys."""
    lengths = text.str.len()
    return bool(
        not text.str.contains(r"\s").any() and lengths.max() - lengths.min() <= 2 and lengths.min() >= 3
    )


def _datetime_format(text: pd.Series) -> str | None:
    sample = text.iloc[:_SAMPLE]
    if not sample.str.contains(r"\d").all() or sample.str.fullmatch(r"[+-]?\d+(\.\d+)?").any():
        return None
    for fmt in _DATETIME_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all():
            full = pd.to_datetime(text, format=fmt, errors="coerce")
            if full.notna().all():
                return fmt
    return None
