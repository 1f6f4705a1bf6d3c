"""Per-column shape scores: how close each synthetic marginal is to the real one (1 is identical).

Numeric and datetime columns: 1 - the two-sample Kolmogorov-Smirnov statistic (SDMetrics'
KSComplement).  Categorical and boolean columns: 1 - total variation distance between the category
frequencies (SDMetrics' TVComplement, including categories only the synthetic data has).  Missing
values are left out of both, as SDMetrics does.  Identifier, PII and text columns are replaced
rather than learned, so they get no shape score.

The small helpers here (learned columns, category keys, numbers from numeric or datetime columns)
are shared by the other fidelity and utility modules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from mirage.encoding.datetime import parse_datetimes
from mirage.errors import DataError
from mirage.schema import Column, Kind, Schema, infer_schema

__all__ = [
    "as_numbers",
    "category_keys",
    "column_shape_scores",
    "ks_complement",
    "learned_columns",
    "require_columns",
    "tv_complement",
]

NUMERIC_KINDS = (Kind.NUMERIC, Kind.DATETIME)


def learned_columns(
    real: pd.DataFrame, synthetic: pd.DataFrame | None, schema: Schema | None
) -> tuple[Schema, list[Column]]:
    """The schema (inferred from ``real`` when None) and its learned columns, checked in both frames."""
    schema = schema if schema is not None else infer_schema(real)
    columns = [c for c in schema if c.kind.learned]
    require_columns(real, columns, "real")
    if synthetic is not None:
        require_columns(synthetic, columns, "synthetic")
    return schema, columns


def require_columns(frame: pd.DataFrame, columns: list[Column], which: str) -> None:
    """Raise DataError naming the first of ``columns`` that ``frame`` lacks, or if it has no rows."""
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise DataError(f"column {missing[0]!r} is in the schema but not in the {which} data")
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


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - KS statistic of the non-missing values (1 = same distribution); 0 if only one side has any."""
    real = np.asarray(real, dtype="float64")
    synthetic = np.asarray(synthetic, dtype="float64")
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if real.size == 0 or synthetic.size == 0:
        return float(real.size == synthetic.size)
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """1 - total variation distance of the non-missing category frequencies (1 = same frequencies)."""
    p = category_keys(real).dropna().value_counts(normalize=True)
    q = category_keys(synthetic).dropna().value_counts(normalize=True)
    if p.empty or q.empty:
        return float(p.empty and q.empty)
    p, q = p.align(q, fill_value=0.0)
    return float(np.clip(1.0 - 0.5 * np.abs(p - q).sum(), 0.0, 1.0))


def column_shape_scores(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema | None = None
) -> pd.DataFrame:
    """One row per learned column: ``column``, ``kind``, ``metric`` and ``score`` in [0, 1] (1 = best)."""
    _, columns = learned_columns(real, synthetic, schema)
    rows = []
    for column in columns:
        if column.kind in NUMERIC_KINDS:
            a = as_numbers(real[column.name], column)
            b = as_numbers(synthetic[column.name], column)
            rows.append((column.name, column.kind.value, "KSComplement", ks_complement(a, b)))
        else:
            score = tv_complement(real[column.name], synthetic[column.name])
            rows.append((column.name, column.kind.value, "TVComplement", score))
    return pd.DataFrame(rows, columns=["column", "kind", "metric", "score"])
