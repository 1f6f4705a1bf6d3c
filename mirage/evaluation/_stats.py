"""The statistics the scores share: normal quantiles, Wilson intervals of a rate, the rank ROC AUC and
its Hanley-McNeil interval, and the test for a finite score."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm, rankdata

from mirage.errors import OptionError

__all__ = [
    "hanley_mcneil_interval",
    "is_finite_number",
    "roc_auc",
    "wilson_centre",
    "wilson_interval",
    "z_value",
]


def is_finite_number(value: Any) -> bool:
    """Whether a score is a finite int or float (not a bool, None, NaN or an infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def z_value(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level (1.96 at 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise OptionError(f"confidence must be between 0 and 1, got {confidence!r}")
    return float(norm.ppf(0.5 + confidence / 2.0))


def wilson_centre(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson centre and half-width (Wilson 1927); the interval always lies within [0, 1]."""
    z2 = z * z
    centre = (successes + z2 / 2.0) / (n + z2)
    half = z / (n + z2) * math.sqrt(successes * (n - successes) / n + z2 / 4.0)
    return centre, half


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """The Wilson score interval of a binomial rate: ``(centre, low, high)``.

    ``centre = (s + z^2/2) / (n + z^2)`` and the half-width is
    ``z / (n + z^2) * sqrt(s (n - s) / n + z^2 / 4)`` (Wilson 1927); with no trials the interval
    is the whole of [0, 1] around 0.5.
    """
    if n <= 0:
        return 0.5, 0.0, 1.0
    if not 0 <= successes <= n:
        raise OptionError(f"successes must be between 0 and n={n}, got {successes!r}")
    centre, half = wilson_centre(successes, n, z_value(confidence))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, despite rounding
    high = 1.0 if successes == n else min(1.0, centre + half)
    return centre, low, high


def roc_auc(scores: NDArray[np.float64], positive: NDArray[np.bool_]) -> float:
    """Area under the ROC curve from the Mann-Whitney rank sum, ties counted half: the chance that a
    positive scores higher than a negative.  NaN without both positives and negatives."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def hanley_mcneil_interval(
    auc: float, n_pos: int, n_neg: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Hanley & McNeil (1982) normal interval for an AUC, clipped to [0, 1]."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1.0 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    half = z_value(confidence) * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)
