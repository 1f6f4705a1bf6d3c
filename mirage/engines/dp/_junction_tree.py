"""Junction trees over discrete attributes, and belief propagation on them in log space.

A distribution whose log-probability is a sum of potentials, one per clique of attributes, is
inferred exactly on a junction tree of the cliques: the graph joining every two attributes that share
a clique is triangulated (greedy elimination, each step the attribute whose neighbourhood makes the
fewest cells), its maximal cliques joined into a tree of largest separators (the running intersection
property holds on a chordal graph's maximum-weight clique tree), and two passes of sum-product messages
give every clique's marginal.

Arrays are indexed by their clique's attributes in increasing order, so that a sub-clique's array
broadcasts into a super-clique's by reshaping alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "JunctionTree",
    "broadcast",
    "calibrate",
    "junction_tree",
    "logsumexp_onto",
    "sum_onto",
    "tree_cells",
    "triangulate",
]

Clique = tuple[int, ...]


@dataclass(frozen=True)
class JunctionTree:
    cliques: list[Clique]  # each sorted
    order: list[int]  # cliques, each after its parent
    parent: list[int]  # parent clique of each clique, -1 for the root

    def separator(self, c: int) -> Clique:
        p = self.parent[c]
        return () if p < 0 else tuple(sorted(set(self.cliques[c]) & set(self.cliques[p])))

    def children(self, c: int) -> list[int]:
        return [k for k in self.order if self.parent[k] == c]

    def home(self, clique: Sequence[int]) -> int:
        """The first (smallest) clique of the tree holding every attribute of ``clique``."""
        wanted = set(clique)
        holding = [c for c, members in enumerate(self.cliques) if wanted <= set(members)]
        if not holding:
            raise ValueError(f"no clique of the junction tree holds {tuple(clique)}")
        return min(holding, key=lambda c: len(self.cliques[c]))


def cells(clique: Iterable[int], cardinalities: Sequence[int]) -> int:
    return math.prod(cardinalities[a] for a in clique)


def triangulate(d: int, cliques: Sequence[Sequence[int]], cardinalities: Sequence[int]) -> list[Clique]:
    """The maximal cliques of a chordal graph holding every one of ``cliques`` (over ``d`` attributes)."""
    adjacent = np.zeros((d, d), dtype=bool)
    for clique in cliques:
        members = list(clique)
        adjacent[np.ix_(members, members)] = True
    np.fill_diagonal(adjacent, False)
    log_cards = np.log(np.asarray(cardinalities, dtype="float64"))
    remaining = np.ones(d, dtype=bool)
    formed: list[frozenset[int]] = []
    for _ in range(d):
        # the log cells of each remaining attribute's clique, were it eliminated now
        weight = (adjacent & remaining[None, :]).astype("float64") @ log_cards + log_cards
        best = int(np.argmin(np.where(remaining, weight, np.inf)))
        around = np.flatnonzero(adjacent[best] & remaining)
        formed.append(frozenset([best, *around.tolist()]))
        adjacent[np.ix_(around, around)] = True
        adjacent[around, around] = False
        remaining[best] = False
    maximal = {c for c in formed if not any(c < other for other in formed)}
    return sorted((tuple(sorted(c)) for c in maximal), key=lambda c: (len(c), c))


def tree_cells(d: int, cliques: Sequence[Sequence[int]], cardinalities: Sequence[int]) -> int:
    """The number of cells of the junction tree of ``cliques``: what a model holding them stores."""
    return sum(cells(c, cardinalities) for c in triangulate(d, cliques, cardinalities))


def junction_tree(d: int, cliques: Sequence[Sequence[int]], cardinalities: Sequence[int]) -> JunctionTree:
    """The junction tree of ``cliques`` (every single attribute included)."""
    maximal = triangulate(d, [*cliques, *[(a,) for a in range(d)]], cardinalities)
    # Kruskal on the largest separators first (empty ones join the components of a forest)
    pairs = sorted(
        ((len(set(a) & set(b)), i, j) for i, a in enumerate(maximal) for j, b in enumerate(maximal) if i < j),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    label = list(range(len(maximal)))
    adjacent: list[list[int]] = [[] for _ in maximal]
    for _, i, j in pairs:
        if label[i] != label[j]:
            old = label[j]
            label = [label[i] if x == old else x for x in label]
            adjacent[i].append(j)
            adjacent[j].append(i)
    order, parent, queue, seen = [], [-1] * len(maximal), [0], {0}
    while queue:
        c = queue.pop(0)
        order.append(c)
        for k in sorted(adjacent[c]):
            if k not in seen:
                seen.add(k)
                parent[k] = c
                queue.append(k)
    return JunctionTree(maximal, order, parent)


def broadcast(values: np.ndarray, clique: Sequence[int], target: Sequence[int]) -> np.ndarray:
    """``values`` over ``clique`` reshaped to broadcast over ``target`` (a sorted superset)."""
    members = set(clique)
    shape = [values.shape[list(clique).index(a)] if a in members else 1 for a in target]
    return values.reshape(shape)


def _axes(clique: Sequence[int], keep: Sequence[int]) -> tuple[int, ...]:
    kept = set(keep)
    return tuple(i for i, a in enumerate(clique) if a not in kept)


def sum_onto(values: np.ndarray, clique: Sequence[int], keep: Sequence[int]) -> np.ndarray:
    """``values`` over ``clique`` summed onto the sorted sub-clique ``keep``."""
    axes = _axes(clique, keep)
    return values.sum(axis=axes) if axes else values


def logsumexp_onto(values: np.ndarray, clique: Sequence[int], keep: Sequence[int]) -> np.ndarray:
    """``log(sum(exp(values)))`` over ``clique`` onto the sorted sub-clique ``keep``."""
    axes = _axes(clique, keep)
    if not axes:
        return values
    top = values.max(axis=axes, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    out = np.log(np.exp(values - top).sum(axis=axes, keepdims=True)) + top
    return out.squeeze(axis=axes)


def calibrate(tree: JunctionTree, potentials: Sequence[np.ndarray], total: float) -> list[np.ndarray]:
    """Every clique's marginal (counts summing to ``total``) of the distribution proportional to
    ``exp(sum of potentials)``, a potential per clique of ``tree`` (sum-product, two passes)."""
    cliques = tree.cliques
    up: dict[int, np.ndarray] = {}  # message from a clique to its parent, over their separator
    for c in reversed(tree.order):
        if tree.parent[c] < 0:
            continue
        belief = potentials[c] + sum(
            (broadcast(up[k], tree.separator(k), cliques[c]) for k in tree.children(c)),
            np.zeros(()),
        )
        up[c] = logsumexp_onto(belief, cliques[c], tree.separator(c))
    down: dict[int, np.ndarray] = {}  # message from a clique's parent to it
    marginals: list[np.ndarray] = [np.zeros(0)] * len(cliques)
    for c in tree.order:
        belief = potentials[c] + sum(
            (broadcast(up[k], tree.separator(k), cliques[c]) for k in tree.children(c)), np.zeros(())
        )
        if tree.parent[c] >= 0:
            belief = belief + broadcast(down[c], tree.separator(c), cliques[c])
        for k in tree.children(c):
            outgoing = belief - broadcast(up[k], tree.separator(k), cliques[c])
            down[k] = logsumexp_onto(outgoing, cliques[c], tree.separator(k))
        top = belief.max()
        weights = np.exp(belief - top)
        marginals[c] = weights * (total / weights.sum())
    return marginals
