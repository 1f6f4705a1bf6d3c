"""Column-pair trends: does the synthetic data keep the relationships between pairs of columns?

* two numeric/datetime columns: correlation similarity ``1 - |r_real - r_synthetic| / 2`` for the
  Spearman (main) and the Pearson coefficient, rows with a missing value in either column left out;
* any pair with a categorical or boolean column: contingency similarity, ``1 - TVD`` of the joint
  frequency tables, numbers cut into 10 quantile bins fitted on the real data and a missing value
  counted as a value of its own.

Scores are in [0, 1], 1 = the relationship is kept exactly.  ``association_matrices`` gives the
real and synthetic association strength of every pair for heatmaps: Spearman's rho for two numbers,
Cramér's V for two categories, the correlation ratio (eta) for a number against a category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from mirage.evaluation._columns import NUMERIC_KINDS, as_numbers, scored_columns
from mirage.evaluation._marginals import discretise, joint_tvd
from mirage.schema import Schema

__all__ = ["association_matrices", "column_pair_scores"]

MAIN_METRICS = ("spearman", "contingency")
PAIR_COLUMNS = ["column_a", "column_b", "metric", "real", "synthetic", "score"]


def _correlation(x: np.ndarray, method: str) -> np.ndarray:
    """Correlation matrix of the columns of ``x``; pairwise-complete rows when values are missing."""
    if x.shape[1] == 0:
        return np.zeros((0, 0))
    if np.isnan(x).any():
        frame = pd.DataFrame(x)
        return frame.corr(method=method, min_periods=2).to_numpy(dtype="float64")  # type: ignore[arg-type]
    if method == "spearman":
        x = rankdata(x, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = x - x.mean(axis=0)
        norms = np.sqrt((centred**2).sum(axis=0))
        corr = (centred.T @ centred) / np.outer(norms, norms)
    return np.clip(corr, -1.0, 1.0)


def _cramers_v(counts: np.ndarray) -> float:
    """Cramér's V (no bias correction) of a contingency table; 0 when a side has a single value."""
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    n = counts.sum()
    if n == 0 or min(counts.shape) < 2:
        return 0.0
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    return float(np.sqrt(min(1.0, chi2 / n / (min(counts.shape) - 1))))


def _correlation_ratio(values: np.ndarray, codes: np.ndarray) -> float:
    """Correlation ratio eta of a number against category codes; rows with a missing number left out."""
    keep = ~np.isnan(values)
    x, c = values[keep], codes[keep]
    if x.size < 2:
        return 0.0
    total = float(((x - x.mean()) ** 2).sum())
    if total <= 0.0:
        return 0.0
    n_k = np.bincount(c).astype("float64")
    s_k = np.bincount(c, weights=x)
    present = n_k > 0
    between = float((s_k[present] ** 2 / n_k[present]).sum() - x.sum() ** 2 / x.size)
    return float(np.sqrt(np.clip(between / total, 0.0, 1.0)))


@dataclass
class _PairAnalysis:
    scores: pd.DataFrame
    names: list[str]
    real: np.ndarray
    synthetic: np.ndarray


def _analyse(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema | None, bins: int) -> _PairAnalysis:
    _, columns = scored_columns(real, synthetic, schema)
    names = [c.name for c in columns]
    d = len(columns)
    is_number = np.array([c.kind in NUMERIC_KINDS for c in columns], dtype=bool)
    numbers = np.flatnonzero(is_number)
    codes = discretise(real, synthetic, columns, bins)

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        values = [as_numbers(frame[columns[i].name], columns[i]) for i in numbers]
        return np.column_stack(values) if values else np.zeros((len(frame), 0))

    x_real, x_synthetic = matrix(real), matrix(synthetic)
    corr = {
        (method, side): np.nan_to_num(_correlation(x, method), nan=0.0)
        for method in ("spearman", "pearson")
        for side, x in (("real", x_real), ("synthetic", x_synthetic))
    }
    assoc_real, assoc_synthetic = np.eye(d), np.eye(d)
    position = {int(i): p for p, i in enumerate(numbers)}
    rows: list[tuple[str, str, str, float, float, float]] = []
    for a in range(d):
        for b in range(a + 1, d):
            if is_number[a] and is_number[b]:
                pa, pb = position[a], position[b]
                for method in ("spearman", "pearson"):
                    r, s = corr[(method, "real")][pa, pb], corr[(method, "synthetic")][pa, pb]
                    rows.append((names[a], names[b], method, float(r), float(s), 1.0 - abs(r - s) / 2.0))
                assoc_real[a, b] = corr[("spearman", "real")][pa, pb]
                assoc_synthetic[a, b] = corr[("spearman", "synthetic")][pa, pb]
            else:
                tvd = joint_tvd(codes, [a, b])[0]
                if is_number[a] or is_number[b]:
                    num, cat = (a, b) if is_number[a] else (b, a)
                    pn = position[num]
                    r = _correlation_ratio(x_real[:, pn], codes.real[cat])
                    s = _correlation_ratio(x_synthetic[:, pn], codes.synthetic[cat])
                else:
                    shape = (int(codes.cardinality[a]), int(codes.cardinality[b]))
                    r = _cramers_v(_table(codes.real[a], codes.real[b], shape))
                    s = _cramers_v(_table(codes.synthetic[a], codes.synthetic[b], shape))
                rows.append((names[a], names[b], "contingency", r, s, float(np.clip(1.0 - tvd, 0.0, 1.0))))
                assoc_real[a, b], assoc_synthetic[a, b] = r, s
    for m in (assoc_real, assoc_synthetic):
        lower = np.tril_indices(d, -1)
        m[lower] = m.T[lower]
    return _PairAnalysis(pd.DataFrame(rows, columns=PAIR_COLUMNS), names, assoc_real, assoc_synthetic)


def _table(a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    flat = np.bincount(a * shape[1] + b, minlength=shape[0] * shape[1])
    return flat.reshape(shape).astype("float64")


def column_pair_scores(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema | None = None, *, bins: int = 10
) -> tuple[pd.DataFrame, float]:
    """Pair scores (``column_a, column_b, metric, real, synthetic, score``) and their mean (1 = best).

    ``metric`` is ``spearman`` and ``pearson`` for two numbers (``real``/``synthetic`` hold the
    coefficients), ``contingency`` otherwise (they hold Cramér's V or the correlation ratio).  The
    mean is over the Spearman and contingency rows; NaN when there is no pair.
    """
    scores = _analyse(real, synthetic, schema, bins).scores
    main = scores.loc[scores["metric"].isin(MAIN_METRICS), "score"]
    return scores, float(main.mean()) if len(main) else float("nan")


def association_matrices(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema | None = None, *, bins: int = 10
) -> dict[str, pd.DataFrame]:
    """``{"real": ..., "synthetic": ...}`` square association matrices over the learned columns.

    Spearman's rho (in [-1, 1]) for two numbers, Cramér's V for two categories and the correlation
    ratio for a number against a category (both in [0, 1]); 1 on the diagonal.
    """
    analysis = _analyse(real, synthetic, schema, bins)
    return {
        side: pd.DataFrame(values, index=analysis.names, columns=analysis.names)
        for side, values in (("real", analysis.real), ("synthetic", analysis.synthetic))
    }
