"""Select, measure, estimate: a tree-shaped graphical model from noisy 1- and 2-way marginals (MST-style).

McKenna, Miklau and Sheldon's MST (2021), with the estimation step done in closed form on the tree:

* measure every attribute's 1-way marginal (Gaussian, zCDP), a continuous one on its fine grid, then
  cut it into coarse bins at the noisy marginal's quantiles (post-processing, :mod:`._bins`);
* select the tree's edges one at a time as Kruskal's algorithm does, each by the exponential mechanism
  (OpenDP's report-noisy-max) among the pairs that join two components, scored by how far the pair's
  true 2-way marginal is from the independent model of the noisy 1-ways (L1 distance, sensitivity 1);
* measure the selected edges' 2-way marginals (Gaussian);
* estimate: each attribute's 1-way marginal as the inverse-variance weighted mean of its own noisy
  measurement and the margins of its measured edges, made non-negative; each edge's joint raked
  (iterative proportional fitting) to the estimated 1-ways of its two ends; rooted, the tree is a
  Bayesian network whose every table agrees with its neighbours' (a consistent distribution),
  sampled ancestrally with the user's seed.

Everything that reads the data goes through ``GaussianMechanism`` or ``ExponentialMechanism`` and is
charged on the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mirage._warnings import warn
from mirage.engines.dp._bins import CoarseModel, coarse_bins, coarse_codes
from mirage.privacy import ExponentialMechanism, GaussianMechanism, Ledger

__all__ = ["OneWays", "TreeModel", "even_where_drowned", "fit_tree", "measure_one_ways", "one_way_sigma"]

ONE_WAY_SHARE, SELECT_SHARE = 0.2, 0.1  # of the marginals' rho; the tree's edges get the rest
RAKE_ROUNDS = 20
SPIKE_SIGMAS = 3.0  # a point bucket's noisy count under this many deviations is taken as empty


@dataclass
class TreeModel(CoarseModel):
    cardinalities: list[int]  # coarse codes of each attribute
    order: list[int]  # attributes, each after its parent
    parents: list[int]  # parent of each attribute, -1 for the root
    tables: list[np.ndarray]  # P(attribute) for the root, P(attribute | parent) (parent x attribute) else
    rows: float = 0.0  # the noisy number of rows (a 1-way marginal's total)
    # per attribute: the coarse code of each fine code, and P(fine code | its coarse code)
    to_coarse: list[np.ndarray] = field(default_factory=list)
    within: list[np.ndarray] = field(default_factory=list)

    def draw(self, out: np.ndarray, a: int, rng: np.random.Generator, rows: np.ndarray) -> None:
        """Redraw attribute ``a`` in ``rows`` given its parent's values in ``out``."""
        n = int(rows.sum())
        table = self.tables[a]
        u = rng.random(n)
        if self.parents[a] < 0:
            cdf = np.cumsum(table)
            out[rows, a] = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), table.size - 1)
            return
        cdf = np.cumsum(table, axis=1)[out[rows, self.parents[a]]]
        codes = (u[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
        out[rows, a] = np.minimum(codes, table.shape[1] - 1)

    def marginals(self) -> list[np.ndarray]:
        """Each attribute's distribution (over its coarse codes) under the model."""
        out: list[np.ndarray] = [np.zeros(0)] * len(self.cardinalities)
        for a in self.order:
            p = self.parents[a]
            out[a] = self.tables[a] if p < 0 else out[p] @ self.tables[a]
        return out

    def descendants(self, roots: set[int]) -> list[int]:
        """Attributes below any of ``roots`` (not the roots), in sampling order."""
        below: set[int] = set()
        for a in self.order:
            if a not in roots and (self.parents[a] in roots or self.parents[a] in below):
                below.add(a)
        return [a for a in self.order if a in below]


def _two_way(x: np.ndarray, y: np.ndarray, cx: int, cy: int) -> np.ndarray:
    return np.bincount(x * cy + y, minlength=cx * cy).reshape(cx, cy)


def _components(d: int, edges: list[tuple[int, int]]) -> list[int]:
    label = list(range(d))
    for i, j in edges:
        old, new = label[j], label[i]
        label = [new if x == old else x for x in label]
    return label


def _rake(joint: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    table = np.clip(joint, 0, None) + 1e-9
    for _ in range(RAKE_ROUNDS):
        table *= (rows / np.maximum(table.sum(1), 1e-12))[:, None]
        table *= (cols / np.maximum(table.sum(0), 1e-12))[None, :]
    return table


def one_way_sigma(rho: float, d: int) -> float:
    """The noise of each 1-way marginal ``fit_tree`` measures with ``rho`` over ``d`` attributes."""
    return GaussianMechanism(rho=rho * (ONE_WAY_SHARE if d > 1 else 1.0) / max(d, 1)).sigma


@dataclass
class OneWays:
    """Every attribute's noisy 1-way marginal, measured on its fine codes and summed into coarse bins."""

    to_coarse: list[np.ndarray]  # per attribute: the coarse code of each fine code
    within: list[np.ndarray]  # per attribute: P(fine code | its coarse code)
    counts: list[np.ndarray]  # per attribute: the noisy counts of its coarse codes
    variances: list[np.ndarray]  # per attribute: each coarse count's noise variance
    drowned: list[int] = field(default_factory=list)  # attributes whose counts the noise left none of

    @property
    def cardinalities(self) -> list[int]:
        return [int(m.max()) + 1 for m in self.to_coarse]

    @property
    def total(self) -> float:
        """The noisy number of rows: the mean total of the 1-ways (at least 1)."""
        return max(float(np.mean([m.sum() for m in self.counts])), 1.0) if self.counts else 1.0

    def codes(self, fine: np.ndarray) -> np.ndarray:
        return coarse_codes(self.to_coarse, fine) if self.to_coarse else fine


def measure_one_ways(
    fine: np.ndarray,
    fine_cardinalities: list[int],
    continuous: list[bool],
    ledger: Ledger,
    rho_each: float,
    bins: int,
    names: list[str],
    spikes: Sequence[np.ndarray | None] | None = None,
) -> OneWays:
    """Measure each attribute's 1-way marginal on its fine codes with ``rho_each``; a continuous
    attribute's fine codes are cut into at most about ``bins`` coarse bins at its noisy quantiles.

    ``spikes`` (per attribute, a mask of fine buckets or None) marks point buckets of a continuous
    grid: each is drawn as one value, so the noise of an empty one would put a spike of a value no row
    holds (the end of a range that reaches past the data) into the output.  A point bucket's noisy count
    under ``SPIKE_SIGMAS`` deviations is taken as zero (post-processing)."""
    one_way = GaussianMechanism(rho=rho_each)
    out = OneWays([], [], [], [])
    for a, cardinality in enumerate(fine_cardinalities):
        noisy = one_way(
            np.bincount(fine[:, a], minlength=cardinality),
            ledger=ledger,
            what=f"1-way marginal {names[a]}",
        ).astype("float64")
        spike = None if spikes is None else spikes[a]
        if spike is not None and spike.any():
            noisy = np.where(spike & (noisy < SPIKE_SIGMAS * one_way.sigma), 0.0, noisy)
        mapping = coarse_bins(noisy, bins) if continuous[a] else np.arange(noisy.size, dtype=np.int64)
        count = int(mapping.max()) + 1
        clipped = np.clip(noisy, 0.0, None)
        mass = np.bincount(mapping, weights=clipped, minlength=count)
        # P(fine | coarse): the noisy shape within the bin, uniform where the bin has no mass
        size = np.bincount(mapping, minlength=count).astype("float64")
        out.within.append(
            np.where(mass[mapping] > 0, clipped / np.where(mass > 0, mass, 1.0)[mapping], 1.0 / size[mapping])
        )
        out.to_coarse.append(mapping)
        out.counts.append(np.bincount(mapping, weights=noisy, minlength=count))
        out.variances.append(size * one_way.sigma**2)
    out.counts, out.drowned = even_where_drowned(out.counts)
    if out.drowned:
        columns = sorted({names[a].partition("::")[0] for a in out.drowned})
        warn(
            f"the noise at epsilon {ledger.epsilon:g} left no positive count in the 1-way marginal of "
            f"{', '.join(map(repr, columns))}: drawn evenly over its public domain (declared categories or "
            "range); raise epsilon for its shape"
        )
    return out


def even_where_drowned(counts: list[np.ndarray]) -> tuple[list[np.ndarray], list[int]]:
    """``counts`` with each attribute's noisy counts that hold no positive one (the noise drowned them)
    replaced by an even split of the other attributes' mean total (post-processing), and which those
    were."""
    drowned = [a for a, c in enumerate(counts) if not (np.asarray(c) > 0).any()]
    totals = [float(c.sum()) for a, c in enumerate(counts) if a not in drowned]
    total = max(float(np.mean(totals)), 1.0) if totals else 1.0
    even = [np.full(c.size, total / c.size) if a in drowned else c for a, c in enumerate(counts)]
    return even, drowned


def fit_tree(
    fine: np.ndarray,
    fine_cardinalities: list[int],
    continuous: list[bool],
    ledger: Ledger,
    rho: float,
    max_cells: int,
    bins: int,
    names: list[str] | None = None,
    spikes: Sequence[np.ndarray | None] | None = None,
) -> TreeModel:
    """Fit the tree model to the fine token matrix ``fine`` (rows x attributes), spending ``rho`` on
    ``ledger``; a continuous attribute's fine codes are cut into at most about ``bins`` coarse ones."""
    d = len(fine_cardinalities)
    names = names or [str(a) for a in range(d)]
    rho_one = rho * (ONE_WAY_SHARE if d > 1 else 1.0) / d
    ones = measure_one_ways(fine, fine_cardinalities, continuous, ledger, rho_one, bins, names, spikes)
    to_coarse, within, coarse_one, variance_one = ones.to_coarse, ones.within, ones.counts, ones.variances
    cards = [int(m.max()) + 1 for m in to_coarse]
    codes = ones.codes(fine)
    total = max(float(np.mean([m.sum() for m in coarse_one])), 1.0)
    independent = [np.clip(m, 0, None) for m in coarse_one]
    independent = [m / m.sum() if m.sum() > 0 else np.full(m.size, 1.0 / m.size) for m in independent]
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d) if cards[i] * cards[j] <= max_cells]
    # L1 distance of each pair's true 2-way marginal from the independent model of the noisy 1-ways
    scores = {
        (i, j): float(
            np.abs(
                _two_way(codes[:, i], codes[:, j], cards[i], cards[j])
                - total * np.outer(independent[i], independent[j])
            ).sum()
        )
        for i, j in pairs
    }
    rounds = max(d - 1, 1)
    select = ExponentialMechanism(rho=rho * SELECT_SHARE / rounds)
    edges: list[tuple[int, int]] = []
    selections = 0
    for _ in range(rounds):
        label = _components(d, edges)
        candidates = [p for p in pairs if label[p[0]] != label[p[1]]]
        if not candidates:
            break
        if len(candidates) == 1:
            edges.append(candidates[0])
            continue
        selections += 1
        picked = select(
            np.array([scores[p] for p in candidates]),
            ledger=ledger,
            what=f"selection of edge {len(edges) + 1}",
        )
        edges.append(candidates[picked])
    joints: dict[tuple[int, int], np.ndarray] = {}
    # the tree's edges get what the 1-ways and the selections left (selections skipped leave more)
    edge_mechanism = GaussianMechanism(
        rho=max(rho - rho_one * d - select.rho * selections, 1e-12) / max(len(edges), 1)
    )
    if edges:
        for i, j in edges:
            joints[(i, j)] = edge_mechanism(
                _two_way(codes[:, i], codes[:, j], cards[i], cards[j]),
                ledger=ledger,
                what=f"2-way marginal {names[i]} x {names[j]}",
            ).astype("float64")
    # each attribute's 1-way: inverse-variance weighted mean of its measurement and its edges' margins
    estimates = []
    for a in range(d):
        weighted, weights = coarse_one[a] / variance_one[a], 1.0 / variance_one[a]
        for (i, j), joint in joints.items():
            if a in (i, j):
                margin = joint.sum(axis=1) if a == i else joint.sum(axis=0)
                other = cards[j] if a == i else cards[i]
                variance = other * edge_mechanism.sigma**2
                weighted, weights = weighted + margin / variance, weights + 1.0 / variance
        estimate = np.clip(weighted / weights, 0, None)
        estimates.append(
            estimate / estimate.sum() * total
            if estimate.sum() > 0
            else np.full(estimate.size, total / estimate.size)
        )
    neighbours: dict[int, list[int]] = {a: [] for a in range(d)}
    for i, j in edges:
        neighbours[i].append(j)
        neighbours[j].append(i)
    order: list[int] = []
    parents = [-1] * d
    seen: set[int] = set()
    for root in range(d):  # a forest when pairs were too large to measure
        if root in seen:
            continue
        stack, seen = [root], seen | {root}
        while stack:
            a = stack.pop(0)
            order.append(a)
            for b in sorted(neighbours[a]):
                if b not in seen:
                    seen.add(b)
                    parents[b] = a
                    stack.append(b)
    tables: list[np.ndarray] = [np.zeros(0)] * d
    for a in range(d):
        p = parents[a]
        if p < 0:
            tables[a] = estimates[a] / estimates[a].sum()
            continue
        joint = joints[(p, a)] if (p, a) in joints else joints[(a, p)].T
        raked = _rake(joint, estimates[p], estimates[a])
        sums = raked.sum(axis=1, keepdims=True)
        fallback = estimates[a] / estimates[a].sum()  # a parent value with no mass: the 1-way marginal
        tables[a] = np.where(sums > 0, raked / np.where(sums > 0, sums, 1.0), fallback[None, :])
    return TreeModel(cards, order, parents, tables, total, to_coarse, within)
