"""Adaptive selection of marginals (AIM, McKenna, Mullins, Sheldon and Miklau 2022), on this package's
graphical-model estimate (:mod:`._mirror_descent`).

The workload is every 3-way marginal; the candidates are its closure (every 1-, 2- and 3-way marginal
of at most ``max_cells`` cells).  After the 1-ways (measured on the fine grids, as the tree model does),
each round

* keeps the candidates whose junction tree, added to the model's, stays within the share of
  ``MAX_MODEL_CELLS`` that the share of the budget spent so far allows (public: cardinalities only);
* picks one by the exponential mechanism (OpenDP's report-noisy-max), scoring a candidate ``r`` by
  ``w_r * (|M_r(data) - M_r(model)|_1 - sqrt(2/pi) * sigma * cells_r)``: how far the model is from the
  data there, less the error measuring it would leave.  ``w_r`` is the candidate's weight in the
  workload, ``sum over workload cliques s of |r & s|``, which is ``|r|`` times a constant: the score's
  sensitivity is 3 (a row added or removed moves an L1 distance by at most 1);
* measures it with the Gaussian mechanism and re-estimates the model (mirror descent, warm started);
* anneals: when the new measurement moved the model's marginal there by no more than the noise
  expected of it, the next rounds get four times the rho (half the noise), as AIM does.

A round's rho is ``SELECT_SHARE`` selection and the rest measurement; the last round spends exactly
what is left, so the ledger adds up to the budget given.  The model's marginals on candidates that no
clique of its junction tree holds are read from a sample of it (post-processing: a Monte Carlo estimate
instead of exact inference, which would build a clique over the candidate's whole path in the tree).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mirage.engines.dp._junction_tree import junction_tree, tree_cells
from mirage.engines.dp._mirror_descent import Estimate, Measurement, estimate
from mirage.engines.dp._network import NetworkModel, network_from_tree
from mirage.engines.dp._tree import ONE_WAY_SHARE, measure_one_ways
from mirage.privacy import ExponentialMechanism, GaussianMechanism, Ledger

__all__ = ["fit_adaptive"]

MAX_WAY = 3  # the workload's marginals
SELECT_SHARE = 0.1  # of a round's rho, on the selection (AIM: 1 - alpha)
ROUNDS_PER_ATTRIBUTE = 16  # a first round's rho: what the 1-ways left over this many rounds per attribute
MAX_MODEL_CELLS = 1_000_000  # the largest junction tree the model grows to
ROUND_ITERATIONS = 60  # mirror descent steps after each round (warm started)
FINAL_ITERATIONS = 400
SAMPLE_ROWS = 20_000  # rows drawn from the model to read its marginals off the junction tree's cliques


@dataclass(frozen=True)
class _Candidate:
    clique: tuple[int, ...]
    cells: int
    weight: float


def _marginal(codes: np.ndarray, clique: tuple[int, ...], cardinalities: list[int]) -> np.ndarray:
    shape = tuple(cardinalities[a] for a in clique)
    index = np.ravel_multi_index(tuple(codes[:, a] for a in clique), shape)
    return np.bincount(index, minlength=math.prod(shape)).reshape(shape).astype("float64")


def _network(model: Estimate, cardinalities: list[int]) -> NetworkModel:
    order, parents, tables, one_ways = network_from_tree(model.tree, model.marginals, cardinalities)
    return NetworkModel(list(cardinalities), order, parents, tables, one_ways, model.total)


def _model_marginals(
    model: Estimate, candidates: list[_Candidate], cardinalities: list[int], rng: np.random.Generator
) -> dict[tuple[int, ...], np.ndarray]:
    """The model's marginal (counts) on each candidate: exact when a clique of its tree holds it, else
    from a sample of the model."""
    out: dict[tuple[int, ...], np.ndarray] = {}
    held = [set(c) for c in model.tree.cliques]
    sample: np.ndarray | None = None
    for candidate in candidates:
        if any(set(candidate.clique) <= h for h in held):
            out[candidate.clique] = model.project(candidate.clique)
            continue
        if sample is None:
            sample = _network(model, cardinalities).sample(SAMPLE_ROWS, rng)
        counts = _marginal(sample, candidate.clique, cardinalities)
        out[candidate.clique] = counts * (model.total / SAMPLE_ROWS)
    return out


def fit_adaptive(
    fine: np.ndarray,
    fine_cardinalities: list[int],
    continuous: list[bool],
    ledger: Ledger,
    rho: float,
    max_cells: int,
    bins: int,
    names: list[str] | None = None,
    spikes: Sequence[np.ndarray | None] | None = None,
) -> NetworkModel:
    """Fit the network model to the fine token matrix ``fine`` (rows x attributes), spending exactly
    ``rho`` on ``ledger``."""
    d = len(fine_cardinalities)
    if d == 0:
        return NetworkModel([], [], [], [], [], 0.0)
    names = names or [str(a) for a in range(d)]
    end = ledger.rho_spent + rho  # the ledger's total when the fit is done
    rho_one = rho * (ONE_WAY_SHARE if d > 1 else 1.0) / d
    ones = measure_one_ways(fine, fine_cardinalities, continuous, ledger, rho_one, bins, names, spikes)
    cards = ones.cardinalities
    codes = ones.codes(fine)
    total = ones.total
    measurements = [Measurement((a,), ones.counts[a], ones.variances[a]) for a in range(d)]
    model = estimate(junction_tree(d, [], cards), measurements, cards, total, ROUND_ITERATIONS)
    candidates = [
        _Candidate(clique, math.prod(cards[a] for a in clique), float(len(clique)))
        for k in range(1, min(MAX_WAY, d) + 1)
        for clique in itertools.combinations(range(d), k)
        if math.prod(cards[a] for a in clique) <= max_cells
    ]
    truth = {c.clique: _marginal(codes, c.clique, cards) for c in candidates}
    # the model's draws that estimate its marginals are post-processing: any generator will do
    rng = np.random.default_rng(0)
    rho_round = (end - ledger.rho_spent) / (ROUNDS_PER_ATTRIBUTE * max(d, 1))
    rounds = 0
    while d > 1 and end - ledger.rho_spent > 0:
        left = end - ledger.rho_spent
        last = left <= 2 * rho_round
        if last:
            rho_round = left
        select_rho = SELECT_SHARE * rho_round
        # the last round's measurement takes exactly what is left, so that the ledger adds up
        measure = GaussianMechanism(rho=rho_round - select_rho)
        share = (ledger.rho_spent + rho_round - (end - rho)) / rho
        cliques = list(model.tree.cliques)
        current = tree_cells(d, cliques, cards)
        eligible = [
            c
            for c in candidates
            if any(set(c.clique) <= set(h) for h in cliques)
            or tree_cells(d, [*cliques, c.clique], cards) <= max(share * MAX_MODEL_CELLS, current)
        ]
        before = _model_marginals(model, eligible, cards, rng)
        bias = math.sqrt(2 / math.pi) * measure.sigma
        scores = np.array(
            [c.weight * (np.abs(truth[c.clique] - before[c.clique]).sum() - bias * c.cells) for c in eligible]
        )
        picked = eligible[
            ExponentialMechanism(rho=select_rho, sensitivity=float(MAX_WAY))(
                scores, ledger=ledger, what=f"selection of marginal {rounds + 1}"
            )
        ]
        label = " x ".join(names[a] for a in picked.clique)
        if last:  # exactly what is left after the selection's charge
            measure = GaussianMechanism(rho=end - ledger.rho_spent)
        what = f"{len(picked.clique)}-way marginal {label}"
        noisy = measure(truth[picked.clique], ledger=ledger, what=what)
        measurements.append(
            Measurement(picked.clique, noisy.astype("float64"), np.full(noisy.shape, measure.sigma**2))
        )
        tree = junction_tree(d, [*cliques, picked.clique], cards)
        model = estimate(tree, measurements, cards, total, ROUND_ITERATIONS, start=model)
        rounds += 1
        moved = float(np.abs(model.project(picked.clique) - before[picked.clique]).sum())
        if last:
            break
        if moved <= bias * picked.cells:
            rho_round *= 4.0
    model = estimate(model.tree, measurements, cards, total, FINAL_ITERATIONS, start=model)
    network = _network(model, cards)
    network.to_coarse, network.within = ones.to_coarse, ones.within
    return network
