"""Select, measure, estimate: a tree-shaped graphical model from noisy 1- and 2-way marginals (MST-style).

* measure every attribute's 1-way marginal (Gaussian, zCDP);
* select: measure every pair's 2-way marginal with a small share of the budget, score each pair by the
  mutual information of its noisy marginal, keep the maximum spanning tree (McKenna et al.'s MST selects
  with the exponential mechanism on the same kind of score; here the score is itself a Gaussian
  measurement, so the selection measurements are reused in the estimate);
* measure the tree's edges again with the larger share;
* estimate: each edge's joint from the inverse-variance weighted noisy measurements, made non-negative
  and raked (iterative proportional fitting) to the estimated 1-way marginals of its two ends, gives a
  conditional table; the tree rooted at attribute 0 is a Bayesian network, a proper and consistent
  distribution, sampled ancestrally with the user's seed.

Everything that reads the data goes through ``GaussianMechanism`` and is charged on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mirage.privacy import GaussianMechanism, Ledger

__all__ = ["TreeModel", "fit_tree"]

SELECT_SHARE, ONE_WAY_SHARE = 0.1, 0.3  # of the marginals' rho; the tree's edges get the rest
RAKE_ROUNDS = 5


@dataclass
class TreeModel:
    cardinalities: list[int]
    order: list[int]  # attributes, each after its parent
    parents: list[int]  # parent of each attribute, -1 for the root
    tables: list[np.ndarray]  # P(attribute) for the root, P(attribute | parent) (parent x attribute) else
    rows: float = 0.0  # the noisy number of rows (a 1-way marginal's total)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        out = np.zeros((n, len(self.cardinalities)), dtype=np.int64)
        for a in self.order:
            self.draw(out, a, rng, np.ones(n, dtype=bool))
        return out

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
        """Each attribute's distribution under the model."""
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


def _one_way(codes: np.ndarray, cardinality: int) -> np.ndarray:
    return np.bincount(codes, minlength=cardinality)


def _two_way(x: np.ndarray, y: np.ndarray, cx: int, cy: int) -> np.ndarray:
    return np.bincount(x * cy + y, minlength=cx * cy).reshape(cx, cy)


def _mutual_information(joint: np.ndarray) -> float:
    p = np.clip(joint, 0, None)
    total = p.sum()
    if total <= 0:
        return 0.0
    p = p / total
    px, py = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    mask = p > 0
    return float((p[mask] * np.log(p[mask] / (px @ py)[mask])).sum())


def _maximum_spanning_tree(d: int, weights: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    parent = list(range(d))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges = []
    for (i, j), _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
            edges.append((i, j))
    return edges


def _rake(joint: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    table = np.clip(joint, 0, None) + 1e-9
    for _ in range(RAKE_ROUNDS):
        table *= (rows / np.maximum(table.sum(1), 1e-12))[:, None]
        table *= (cols / np.maximum(table.sum(0), 1e-12))[None, :]
    return table


def fit_tree(
    codes: np.ndarray, cardinalities: list[int], ledger: Ledger, rho: float, max_cells: int
) -> TreeModel:
    """Fit the tree model to the token matrix ``codes`` (rows x attributes), spending ``rho`` on
    ``ledger``."""
    d = len(cardinalities)
    pairs = [
        (i, j) for i in range(d) for j in range(i + 1, d) if cardinalities[i] * cardinalities[j] <= max_cells
    ]
    rho_one = rho * (ONE_WAY_SHARE if pairs else 1.0) / d
    rho_select = rho * SELECT_SHARE / max(len(pairs), 1)
    one_way = []
    for a in range(d):
        noisy = GaussianMechanism(rho=rho_one)(
            _one_way(codes[:, a], cardinalities[a]), ledger=ledger, what=f"1-way marginal {a}"
        )
        one_way.append(noisy.astype("float64"))
    total = max(float(np.mean([m.sum() for m in one_way])), 1.0)
    marginals = [np.clip(m, 0, None) for m in one_way]
    marginals = [m / m.sum() * total if m.sum() > 0 else np.full(m.size, total / m.size) for m in marginals]
    selected: dict[tuple[int, int], tuple[np.ndarray, float]] = {}
    scores = {}
    for i, j in pairs:
        joint = GaussianMechanism(rho=rho_select)(
            _two_way(codes[:, i], codes[:, j], cardinalities[i], cardinalities[j]),
            ledger=ledger,
            what=f"2-way marginal {i} x {j} (selection)",
        ).astype("float64")
        selected[(i, j)] = (joint, rho_select)
        scores[(i, j)] = _mutual_information(joint)
    edges = _maximum_spanning_tree(d, scores)
    rho_edge = (rho - ledger_share(rho_one, d) - rho_select * len(pairs)) / max(len(edges), 1)
    joints = {}
    for i, j in edges:
        measured = GaussianMechanism(rho=rho_edge)(
            _two_way(codes[:, i], codes[:, j], cardinalities[i], cardinalities[j]),
            ledger=ledger,
            what=f"2-way marginal {i} x {j}",
        ).astype("float64")
        first, rho_first = selected[(i, j)]
        # the inverse-variance weighted mean of both measurements (variance is proportional to 1 / rho)
        joints[(i, j)] = (measured * rho_edge + first * rho_first) / (rho_edge + rho_first)
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
            tables[a] = marginals[a] / marginals[a].sum()
            continue
        joint = joints[(p, a)] if (p, a) in joints else joints[(a, p)].T
        raked = _rake(joint, marginals[p], marginals[a])
        sums = raked.sum(axis=1, keepdims=True)
        fallback = marginals[a] / marginals[a].sum()  # a parent value with no mass: the 1-way marginal
        tables[a] = np.where(sums > 0, raked / np.where(sums > 0, sums, 1.0), fallback[None, :])
    return TreeModel(list(cardinalities), order, parents, tables, total)


def ledger_share(rho_one: float, d: int) -> float:
    return rho_one * d
