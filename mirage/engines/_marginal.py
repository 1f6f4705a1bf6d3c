"""One sub-column's marginal distribution: probability integral transform and its inverse.

Shared by engines that need a uniform or normal view of every sub-column (copula) or a smoothed
draw from a marginal (the first column of the tree engine).  Continuous marginals keep a fixed number
of quantile knots, never the training values; discrete marginals keep code frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirage.encoding import SubColumn

__all__ = ["Marginal", "uniform_ranks"]


def uniform_ranks(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ranks scaled into (0, 1), ties broken at random so spikes spread over their mass."""
    n = x.size
    order = np.lexsort((rng.random(n), x))
    ranks = np.empty(n, dtype="float64")
    ranks[order] = np.arange(n, dtype="float64")
    return (ranks + 0.5) / n


@dataclass
class Marginal:
    discrete: bool
    table: np.ndarray  # knots (continuous) or cumulative code probabilities (discrete)

    @classmethod
    def fit(cls, sub: SubColumn, x: np.ndarray, n_knots: int) -> Marginal:
        if sub.discrete:
            counts = np.bincount(x.astype("int64"), minlength=max(1, sub.cardinality)).astype("float64")
            return cls(True, np.cumsum(counts) / counts.sum())
        probs = np.linspace(0.0, 1.0, min(n_knots, max(2, x.size)))
        return cls(False, np.quantile(x, probs))

    def inverse(self, u: np.ndarray) -> np.ndarray:
        """Values (float) or codes (int64) at probabilities ``u``."""
        if self.discrete:
            codes = np.searchsorted(self.table, u, side="right")
            return np.minimum(codes, self.table.size - 1).astype("int64")
        return np.interp(u, np.linspace(0.0, 1.0, self.table.size), self.table)
