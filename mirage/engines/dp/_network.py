"""A Bayesian network read off a calibrated junction tree, for sampling and intervening.

Walking the junction tree from its root, each attribute a clique adds (one not in the separator with
its parent) gets as parents the attributes of that clique placed before it, and as table its
conditional distribution given them, read from the clique's marginal.  Ancestral sampling then draws
exactly from the junction tree's distribution; redrawing an attribute's descendants given it is an
intervention, as for the tree model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mirage.engines.dp._bins import CoarseModel
from mirage.engines.dp._junction_tree import JunctionTree, sum_onto

__all__ = ["NetworkModel", "network_from_tree"]


@dataclass
class NetworkModel(CoarseModel):
    cardinalities: list[int]  # coarse codes of each attribute
    order: list[int]  # attributes, each after its parents
    parents: list[list[int]]  # each attribute's parents, in the order its table's rows are indexed
    tables: list[np.ndarray]  # P(attribute | parents): (product of parent cardinalities) x cardinality
    one_ways: list[np.ndarray]  # each attribute's distribution under the model
    rows: float = 0.0  # the noisy number of rows
    to_coarse: list[np.ndarray] = field(default_factory=list)
    within: list[np.ndarray] = field(default_factory=list)

    def draw(self, out: np.ndarray, a: int, rng: np.random.Generator, rows: np.ndarray) -> None:
        """Redraw attribute ``a`` in ``rows`` given its parents' values in ``out``."""
        n = int(rows.sum())
        parents = self.parents[a]
        if parents:
            index = np.ravel_multi_index(
                tuple(out[rows, p] for p in parents), tuple(self.cardinalities[p] for p in parents)
            )
        else:
            index = np.zeros(n, dtype=np.int64)
        cdf = np.cumsum(self.tables[a], axis=1)[index]
        codes = (rng.random(n)[:, None] * cdf[:, -1:] >= cdf).sum(axis=1)
        out[rows, a] = np.minimum(codes, self.cardinalities[a] - 1)

    def marginals(self) -> list[np.ndarray]:
        return list(self.one_ways)

    def descendants(self, roots: set[int]) -> list[int]:
        """Attributes below any of ``roots`` (not the roots), in sampling order."""
        below: set[int] = set()
        for a in self.order:
            if a not in roots and any(p in roots or p in below for p in self.parents[a]):
                below.add(a)
        return [a for a in self.order if a in below]


def network_from_tree(
    tree: JunctionTree, marginals: Sequence[np.ndarray], cardinalities: Sequence[int]
) -> tuple[list[int], list[list[int]], list[np.ndarray], list[np.ndarray]]:
    """The order, parents, conditional tables and 1-way distributions of the network whose joint is the
    junction tree's (``marginals``: each clique's, in counts)."""
    d = len(cardinalities)
    order: list[int] = []
    parents: list[list[int]] = [[] for _ in range(d)]
    tables: list[np.ndarray] = [np.zeros(0)] * d
    one_ways: list[np.ndarray] = [np.zeros(0)] * d
    for c in tree.order:
        clique = tree.cliques[c]
        placed = list(tree.separator(c))
        joint = marginals[c]
        for a in clique:
            if a in placed:
                continue
            keep = tuple(sorted([*placed, a]))
            part = sum_onto(joint, clique, keep)
            # axes: the placed attributes in ``placed`` order, then ``a``
            part = np.transpose(part, [keep.index(p) for p in placed] + [keep.index(a)])
            table = part.reshape(math.prod(cardinalities[p] for p in placed), cardinalities[a])
            one = sum_onto(joint, clique, (a,))
            one = np.clip(one, 0.0, None)
            one = one / one.sum() if one.sum() > 0 else np.full(one.size, 1.0 / one.size)
            sums = table.sum(axis=1, keepdims=True)
            # a parent configuration the model gives no mass: the attribute's own distribution
            tables[a] = np.where(sums > 0, table / np.where(sums > 0, sums, 1.0), one[None, :])
            one_ways[a] = one
            parents[a] = list(placed)
            order.append(a)
            placed.append(a)
    return order, parents, tables, one_ways
