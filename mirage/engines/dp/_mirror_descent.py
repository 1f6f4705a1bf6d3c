"""The graphical model that best fits noisy marginals: entropic mirror descent over clique potentials.

McKenna, Sheldon and Miklau's Private-PGM (2019), written here on :mod:`._junction_tree`: among the
distributions that factor over the junction tree of the measured cliques, find the marginals ``mu``
minimising the Gaussian negative log-likelihood of the measurements,

    L(mu) = 1/2 * sum over measurements of sum over cells of (mu_r - y_r)**2 / variance,

by mirror descent on the log-potentials ``theta`` (``theta -= step * dL/dmu``, then belief propagation
gives ``mu``), the step found by backtracking (Armijo) as Private-PGM does.  The result is a consistent
distribution (every clique marginal agrees with its neighbours') that is post-processing of the
measurements: it costs no privacy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mirage.engines.dp._junction_tree import JunctionTree, broadcast, calibrate, sum_onto

__all__ = ["Estimate", "Measurement", "estimate", "warm_potentials"]

LINE_SEARCH_STEPS = 25


@dataclass(frozen=True)
class Measurement:
    clique: tuple[int, ...]  # sorted attributes
    values: np.ndarray  # noisy counts over the clique
    variance: np.ndarray  # each cell's noise variance (broadcasts over ``values``)


@dataclass
class Estimate:
    tree: JunctionTree
    potentials: list[np.ndarray]
    marginals: list[np.ndarray]
    total: float
    step: float = 0.0
    losses: list[float] = field(default_factory=list)

    def project(self, clique: Sequence[int]) -> np.ndarray:
        """The model's marginal (counts) over ``clique``, a subset of one of the tree's cliques."""
        home = self.tree.home(clique)
        return sum_onto(self.marginals[home], self.tree.cliques[home], tuple(sorted(clique)))


def _loss(
    tree: JunctionTree, marginals: Sequence[np.ndarray], measurements: Sequence[Measurement], homes: list[int]
) -> tuple[float, list[np.ndarray]]:
    loss = 0.0
    gradient = [np.zeros_like(m) for m in marginals]
    for m, h in zip(measurements, homes, strict=True):
        error = sum_onto(marginals[h], tree.cliques[h], m.clique) - m.values
        diff = error / m.variance
        loss += 0.5 * float(np.sum(diff * error))
        gradient[h] = gradient[h] + broadcast(diff, m.clique, tree.cliques[h])
    return loss, gradient


def warm_potentials(
    old: Estimate | None, tree: JunctionTree, cardinalities: Sequence[int]
) -> list[np.ndarray]:
    """Potentials on ``tree`` giving the same distribution as ``old`` (each of its cliques held by one
    of ``tree``'s), or zeros (the uniform distribution) without one."""
    potentials = [np.zeros([cardinalities[a] for a in c]) for c in tree.cliques]
    if old is None:
        return potentials
    for clique, theta in zip(old.tree.cliques, old.potentials, strict=True):
        h = tree.home(clique)
        potentials[h] = potentials[h] + broadcast(theta, clique, tree.cliques[h])
    return potentials


def estimate(
    tree: JunctionTree,
    measurements: Sequence[Measurement],
    cardinalities: Sequence[int],
    total: float,
    iterations: int,
    start: Estimate | None = None,
) -> Estimate:
    """Mirror descent from ``start``'s distribution (uniform without one) for ``iterations`` steps."""
    homes = [tree.home(m.clique) for m in measurements]
    theta = warm_potentials(start, tree, cardinalities)
    mu = calibrate(tree, theta, total)
    loss, gradient = _loss(tree, mu, measurements, homes)
    step = start.step if start is not None and start.step > 0 else 1.0 / total**2
    losses = [loss]
    for _ in range(iterations):
        step *= 2.0
        for _ in range(LINE_SEARCH_STEPS):
            trial = [t - step * g for t, g in zip(theta, gradient, strict=True)]
            trial_mu = calibrate(tree, trial, total)
            trial_loss, trial_gradient = _loss(tree, trial_mu, measurements, homes)
            decrease = sum(float(np.sum(g * (a - b))) for g, a, b in zip(gradient, mu, trial_mu, strict=True))
            if loss - trial_loss >= 0.5 * step * decrease:
                break
            step *= 0.5
        theta, mu, loss, gradient = trial, trial_mu, trial_loss, trial_gradient
        losses.append(loss)
    return Estimate(tree, theta, mu, total, step, losses)
