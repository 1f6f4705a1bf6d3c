"""``copula``: a Gaussian copula over the encoded sub-columns; fast, the baseline.

Each sub-column is mapped to normal scores through its ranks (ties broken at random, so discrete
codes become intervals of the normal line); the correlation of the scores is the copula.  Sampling
draws correlated normals and maps them back through each marginal's quantile function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr
from threadpoolctl import threadpool_limits

from mirage._progress import report
from mirage._validate import StateError, require_array, require_list
from mirage.encoding import SubColumn
from mirage.encoding.marginal import Marginal, normal_scores
from mirage.engines._base import Synthesizer
from mirage.engines._params import QUANTILES, RARE_MIN_COUNT, SEED, Param, number
from mirage.engines._registry import register_engine

__all__ = ["CopulaSynthesizer"]


@register_engine
class CopulaSynthesizer(Synthesizer):
    name = "copula"
    params: ClassVar[Mapping[str, Param]] = {
        "rare_min_count": RARE_MIN_COUNT,
        "quantiles": QUANTILES,
        "shrinkage": number(0, 1, high_open=True),
        "seed": SEED,
    }

    def __init__(
        self,
        *,
        rare_min_count: int = 10,
        quantiles: int = 1000,
        shrinkage: float = 0.01,
        seed: int = 0,
    ) -> None:
        self.rare_min_count = rare_min_count
        self.quantiles = quantiles
        self.shrinkage = shrinkage
        self.seed = seed

    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        self.subcolumns_ = subcolumns
        self.marginals_ = [
            Marginal.fit(s, parts[s.name], self.quantiles, self.rare_min_count) for s in subcolumns
        ]
        if not subcolumns:
            self.cholesky_ = np.zeros((0, 0))
            return
        scores = np.column_stack([normal_scores(parts[s.name], s.discrete) for s in subcolumns])
        with threadpool_limits(1, "blas"):  # a second BLAS thread costs more than it saves here
            corr = _correlation(scores)
        corr = (1.0 - self.shrinkage) * corr + self.shrinkage * np.eye(len(subcolumns))
        np.fill_diagonal(corr, 1.0)
        self.cholesky_ = _safe_cholesky(corr)
        report("fit", 1, 1)

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        with threadpool_limits(1, "blas"):
            z = rng.standard_normal((n, len(self.subcolumns_))) @ self.cholesky_.T
        u = ndtr(z)
        return {
            s.name: m.inverse(u[:, j])
            for j, (s, m) in enumerate(zip(self.subcolumns_, self.marginals_, strict=True))
        }

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "discrete": [m.discrete for m in self.marginals_],
        }
        arrays = {f"marginal.{j}": m.table for j, m in enumerate(self.marginals_)}
        arrays["cholesky"] = self.cholesky_
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        discrete = require_list(state, "discrete", length=len(subcolumns))
        if discrete != [s.discrete for s in subcolumns]:
            raise StateError("discrete", "does not match the sub-columns' kinds (state.engine.subcolumns)")
        marginals = [Marginal.from_arrays(s, arrays, f"marginal.{j}") for j, s in enumerate(subcolumns)]
        p = len(subcolumns)
        self.subcolumns_, self.marginals_ = subcolumns, marginals
        self.cholesky_ = require_array(arrays, "cholesky", kind="f", shape=(p, p))


def _correlation(scores: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns; a constant column is uncorrelated with every other."""
    centred = scores - scores.mean(axis=0)
    norms = np.sqrt(np.square(centred).sum(axis=0))
    constant = norms < 1e-12
    centred[:, constant] = 0.0
    norms[constant] = 1.0
    unit = centred / norms
    return unit.T @ unit


def _safe_cholesky(corr: np.ndarray) -> np.ndarray:
    for jitter in (0.0, 1e-8, 1e-6, 1e-4, 1e-2):
        try:
            return np.linalg.cholesky(corr + jitter * np.eye(corr.shape[0]))
        except np.linalg.LinAlgError:
            continue
    eigval, eigvec = np.linalg.eigh(corr)
    return eigvec @ np.diag(np.sqrt(np.clip(eigval, 1e-6, None)))
