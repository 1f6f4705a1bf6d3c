"""Coverage: does the synthetic data reach everything the real data has, rare cases included?

Per learned column, both scores in [0, 1], 1 = full coverage:

* ``coverage``: categorical and boolean columns, the share of the real categories that appear in the
  synthetic data; numeric and datetime columns, SDMetrics' RangeCoverage,
  ``1 - (max(0, min_s - min_r) + max(0, max_r - max_s)) / (max_r - min_r)``;
* ``tail_coverage``: categorical columns, the share of the rare real categories (under ``rare`` of
  the non-missing rows) that appear in the synthetic data; numeric columns, how much of the real
  outlier mass (beyond the real ``tail`` and ``1 - tail`` quantiles) the synthetic data has beyond
  the same thresholds: ``sum over both sides of min(real share, synthetic share) / real share``, so
  a side with twice the real mass counts as covered, not better.  NaN when the real data has no
  rare category or no outlier; ``tail_events`` counts them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage.errors import OptionError
from mirage.evaluation._columns import NUMERIC_KINDS, as_numbers, category_keys, scored_columns
from mirage.schema import Schema

__all__ = ["coverage_scores", "range_coverage", "tail_coverage"]

COVERAGE_COLUMNS = ["column", "kind", "coverage", "tail_coverage", "tail_events"]


def range_coverage(real: np.ndarray, synthetic: np.ndarray) -> float:
    """SDMetrics' RangeCoverage of the non-missing values (1 = the synthetic range spans the real one)."""
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if real.size == 0:
        return 1.0
    if synthetic.size == 0:
        return 0.0
    low, high = float(real.min()), float(real.max())
    if high == low:
        return 1.0
    short = max(0.0, float(synthetic.min()) - low) + max(0.0, high - float(synthetic.max()))
    return float(np.clip(1.0 - short / (high - low), 0.0, 1.0))


def tail_coverage(real: np.ndarray, synthetic: np.ndarray, tail: float = 0.01) -> tuple[float, int]:
    """Share of the real mass beyond the real tail quantiles that the synthetic data matches; and
    the number of real outliers.  NaN when there is none."""
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if real.size == 0:
        return float("nan"), 0
    low, high = np.quantile(real, [tail, 1.0 - tail])
    r_low, r_high = float(np.mean(real < low)), float(np.mean(real > high))
    events = int(np.sum(real < low) + np.sum(real > high))
    if events == 0:
        return float("nan"), 0
    if synthetic.size == 0:
        return 0.0, events
    s_low, s_high = float(np.mean(synthetic < low)), float(np.mean(synthetic > high))
    return (min(r_low, s_low) + min(r_high, s_high)) / (r_low + r_high), events


def _category_coverage(real: pd.Series, synthetic: pd.Series, rare: float) -> tuple[float, float, int]:
    counts = category_keys(real).dropna().value_counts()
    if counts.empty:
        return 1.0, float("nan"), 0
    reached = counts.index.isin(category_keys(synthetic).dropna().unique())
    is_rare = (counts / counts.sum() < rare).to_numpy()
    rare_share = float(reached[is_rare].mean()) if is_rare.any() else float("nan")
    return float(reached.mean()), rare_share, int(is_rare.sum())


def coverage_scores(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema | None = None,
    *,
    tail: float = 0.01,
    rare: float = 0.01,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-column coverage (``column, kind, coverage, tail_coverage, tail_events``) and the means.

    The means dict has ``coverage``, ``tail_coverage`` (over columns that have a tail) and
    ``score``, their average; all in [0, 1], 1 = the synthetic data reaches everything.
    """
    if not 0.0 < tail < 0.5:
        raise OptionError(f"tail must be a quantile between 0 and 0.5, got {tail!r}")
    if not 0.0 < rare < 1.0:
        raise OptionError(f"rare must be a frequency between 0 and 1, got {rare!r}")
    _, columns = scored_columns(real, synthetic, schema)
    rows = []
    for column in columns:
        if column.kind in NUMERIC_KINDS:
            a = as_numbers(real[column.name], column)
            b = as_numbers(synthetic[column.name], column)
            tail_share, events = tail_coverage(a, b, tail)
            rows.append((column.name, column.kind.value, range_coverage(a, b), tail_share, events))
        else:
            share, rare_share, events = _category_coverage(real[column.name], synthetic[column.name], rare)
            rows.append((column.name, column.kind.value, share, rare_share, events))
    table = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    means = {
        "coverage": float(table["coverage"].mean()) if len(table) else float("nan"),
        "tail_coverage": float(table["tail_coverage"].mean())
        if table["tail_coverage"].notna().any()
        else float("nan"),
    }
    present = [v for v in means.values() if np.isfinite(v)]
    means["score"] = float(np.mean(present)) if present else float("nan")
    return table, means
