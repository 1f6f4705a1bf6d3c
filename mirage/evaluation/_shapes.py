"""Per-column shape scores: how close each synthetic marginal is to the real one (1 is identical).

Numeric and datetime columns: 1 - the two-sample Kolmogorov-Smirnov statistic (SDMetrics'
KSComplement).  Categorical and boolean columns: 1 - total variation distance between the category
frequencies (SDMetrics' TVComplement, including categories only the synthetic data has).  Missing
values are left out of both, as SDMetrics does.  Identifier, PII and text columns are replaced
rather than learned, so they get no shape score.

"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from mirage.evaluation._columns import NUMERIC_KINDS, as_numbers, category_keys, scored_columns
from mirage.schema import Schema

__all__ = ["column_shape_scores", "ks_complement", "tv_complement"]


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
    _, columns = scored_columns(real, synthetic, schema)
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
