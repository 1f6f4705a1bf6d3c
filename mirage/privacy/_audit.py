"""The empirical audit: a lower bound on a mechanism's epsilon from how well its outputs tell two
neighbouring datasets apart (Jagielski et al. 2020, Nasr et al. 2021).

For (epsilon, delta)-DP every event S has P[M(D') in S] <= e^epsilon P[M(D) in S] + delta.  The audit
runs the mechanism many times on D and on D' (D plus one worst-case row: it raises one cell of the
measured marginal by one), takes S = {the cell's noisy count >= t}, and bounds both rates with
Clopper-Pearson intervals: epsilon >= ln((lower(p1) - delta) / upper(p0)) holds with the intervals'
confidence.  The threshold t is chosen on a first half of the runs and the bound computed on the second,
so that choosing it does not bias the bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["AuditResult", "audit_counting_mechanism", "epsilon_lower_bound"]


@dataclass(frozen=True)
class AuditResult:
    epsilon_lower_bound: float
    threshold: int
    rate_d: float  # share of runs on D whose noisy count reached the threshold
    rate_neighbour: float
    runs: int


def epsilon_lower_bound(
    hits_d: int, hits_neighbour: int, runs: int, delta: float, alpha: float = 0.05
) -> float:
    """ln((lower(p1) - delta) / upper(p0)) with Clopper-Pearson bounds (each at 1 - alpha/2); 0 if vacuous."""
    from scipy.stats import beta

    upper_d = 1.0 if hits_d >= runs else float(beta.ppf(1 - alpha / 2, hits_d + 1, runs - hits_d))
    hits_n = hits_neighbour
    lower_n = 0.0 if hits_n <= 0 else float(beta.ppf(alpha / 2, hits_n, runs - hits_n + 1))
    if lower_n - delta <= 0 or upper_d <= 0:
        return 0.0
    return max(0.0, math.log((lower_n - delta) / upper_d))


def audit_counting_mechanism(
    mechanism: Callable[[np.ndarray], np.ndarray],
    counts: np.ndarray,
    cell: int,
    *,
    delta: float,
    runs: int,
    alpha: float = 0.05,
) -> AuditResult:
    """Audit ``mechanism`` (integer counts -> noisy counts) on the marginal ``counts`` and its neighbour with
    one more row in ``cell``; ``runs`` runs on each dataset (each run noises the whole marginal)."""
    counts = np.asarray(counts, dtype=np.int64)
    neighbour = counts.copy()
    neighbour[cell] += 1
    # one call noises ``runs`` independent copies of the marginal: the same as ``runs`` separate runs
    out_d = mechanism(np.tile(counts, runs).reshape(runs, -1))[:, cell] - counts[cell]
    out_n = mechanism(np.tile(neighbour, runs).reshape(runs, -1))[:, cell] - counts[cell]
    half = runs // 2
    best_t, best = 1, -math.inf
    for t in range(1, int(max(out_n[:half].max(initial=1), 1)) + 1):
        p0 = (np.count_nonzero(out_d[:half] >= t) + 1) / (half + 2)
        p1 = np.count_nonzero(out_n[:half] >= t) / half
        if p1 - delta > 0 and (score := math.log((p1 - delta) / p0)) > best:
            best_t, best = t, score
    rest = runs - half
    hits_d = int(np.count_nonzero(out_d[half:] >= best_t))
    hits_n = int(np.count_nonzero(out_n[half:] >= best_t))
    return AuditResult(
        epsilon_lower_bound(hits_d, hits_n, rest, delta, alpha), best_t, hits_d / rest, hits_n / rest, runs
    )
