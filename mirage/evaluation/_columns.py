"""Column helpers every score shares: which columns are scored, and their values as numbers or as
comparable labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mirage.encoding.datetime import parse_datetimes
from mirage.errors import DataError, SchemaError
from mirage.schema import Column, Kind, Schema, infer_schema

__all__ = [
    "MISSING_TOKEN",
    "NUMERIC_KINDS",
    "as_numbers",
    "canonical_strings",
    "category_keys",
    "learned_columns",
    "numeric_values",
    "require_columns",
    "require_present",
    "scored_columns",
]

NUMERIC_KINDS = (Kind.NUMERIC, Kind.DATETIME)
MISSING_TOKEN = "\x00<NA>"

FloatArray = NDArray[np.float64]


def scored_columns(
    real: pd.DataFrame, synthetic: pd.DataFrame | None, schema: Schema | None
) -> tuple[Schema, list[Column]]:
    """The schema (inferred from ``real`` when None) and its learned columns, checked in both frames."""
    schema = schema if schema is not None else infer_schema(real)
    columns = [c for c in schema if c.kind.learned]
    require_columns(real, columns, "real")
    if synthetic is not None:
        require_columns(synthetic, columns, "synthetic")
    return schema, columns


def require_present(frame: pd.DataFrame, columns: list[Column], which: str) -> None:
    """Raise DataError naming the first of ``columns`` that ``frame`` lacks."""
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise DataError(f"column {missing[0]!r} is in the schema but not in the {which} data")


def require_columns(frame: pd.DataFrame, columns: list[Column], which: str) -> None:
    """Raise DataError naming the first of ``columns`` that ``frame`` lacks, or if it has no rows."""
    require_present(frame, columns, which)
    if len(frame) == 0:
        raise DataError(f"the {which} data has no rows")


def category_keys(values: pd.Series) -> pd.Series:
    """Comparable category labels: strings, numbers as floats first (1 and 1.0 agree), NaN kept."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("float64")
    return values.astype(str)


def as_numbers(values: pd.Series, column: Column) -> np.ndarray:
    """Float values of a numeric column, or seconds since the epoch of a datetime one; NaN if missing."""
    if column.kind is Kind.DATETIME:
        parsed = parse_datetimes(values, column.name, column.datetime_format)
        ns = parsed.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        return np.where(parsed.isna().to_numpy(), np.nan, ns / 1e9)
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    return np.asarray(numbers, dtype="float64")


def learned_columns(schema: Schema, *frames: tuple[str, pd.DataFrame]) -> list[Column]:
    """The schema's learned columns, checked to be present in every named frame."""
    columns = [c for c in schema if c.kind.learned]
    if not columns:
        raise SchemaError("no learned (numeric, categorical, boolean or datetime) column to compare rows on")
    for label, frame in frames:
        missing = [c.name for c in columns if c.name not in frame.columns]
        if missing:
            raise SchemaError(f"column {missing[0]!r} is in the schema but not in the {label} data")
    return columns


def numeric_values(values: pd.Series, column: Column) -> FloatArray:
    """Float64 values of a numeric or datetime column (datetimes as ns since the epoch), NaN if missing."""
    if column.kind is Kind.DATETIME:
        parsed = parse_datetimes(values, column.name, column.datetime_format)
        ns = parsed.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
        return np.asarray(np.where(parsed.isna().to_numpy(), np.nan, ns), dtype=np.float64)
    out = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(copy=True)
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out, dtype=np.float64)


def canonical_strings(values: pd.Series, column: Column) -> NDArray[np.object_]:
    """Each value as a canonical string, so 39, 39.0 and "39.0" agree; missing is a token of its own."""
    missing = values.isna().to_numpy()
    if column.kind in (Kind.NUMERIC, Kind.DATETIME):
        text = numeric_values(values, column).astype(str).astype(object)
        missing = missing | (text == "nan")
    elif pd.api.types.is_bool_dtype(values.dtype):
        text = values.astype(str).to_numpy(dtype=object)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        text = values.astype("float64").to_numpy().astype(str).astype(object)
    else:
        text = values.astype(str).to_numpy(dtype=object)
    text[missing] = MISSING_TOKEN
    return text
