"""Per-column shape scores: how close each synthetic marginal is to the real one (1 is identical).

Numeric and datetime columns: 1 - the two-sample Kolmogorov-Smirnov statistic (SDMetrics'
KSComplement).  Categorical and boolean columns: 1 - total variation distance between the category
frequencies (SDMetrics' TVComplement).  Missing values are left out of both, as SDMetrics does.
Identifier, PII and text columns are replaced rather than learned, so they get no shape score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from mirage.encoding.datetime import parse_datetimes
from mirage.schema import Kind, Schema, infer_schema

__all__ = ["column_shape_scores", "ks_complement", "tv_complement"]


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if real.size == 0 or synthetic.size == 0:
        return float(real.size == synthetic.size)
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    p = real.dropna().astype(str).value_counts(normalize=True)
    q = synthetic.dropna().astype(str).value_counts(normalize=True)
    if p.empty or q.empty:
        return float(p.empty and q.empty)
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def _as_number(values: pd.Series, schema_fmt: str | None, kind: Kind, name: str) -> np.ndarray:
    if kind is Kind.DATETIME:
        parsed = parse_datetimes(values, name, schema_fmt)
        return parsed.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64") * np.where(
            parsed.isna(), np.nan, 1.0
        )
    return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()


def column_shape_scores(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema | None = None
) -> pd.DataFrame:
    """One row per learned column: ``column``, ``kind``, ``metric`` and ``score`` in [0, 1]."""
    schema = schema or infer_schema(real)
    rows = []
    for column in schema:
        if not column.kind.learned:
            continue
        if column.kind in (Kind.NUMERIC, Kind.DATETIME):
            a = _as_number(real[column.name], column.datetime_format, column.kind, column.name)
            b = _as_number(synthetic[column.name], column.datetime_format, column.kind, column.name)
            rows.append((column.name, column.kind.value, "KSComplement", ks_complement(a, b)))
        else:
            score = tv_complement(real[column.name], synthetic[column.name])
            rows.append((column.name, column.kind.value, "TVComplement", score))
    return pd.DataFrame(rows, columns=["column", "kind", "metric", "score"])
