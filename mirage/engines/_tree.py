"""A fitted decision tree as plain arrays, with a vectorised ``apply`` that needs no pickle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.tree import BaseDecisionTree

__all__ = ["TreeArrays"]


@dataclass
class TreeArrays:
    left: np.ndarray  # child node ids, -1 at leaves
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    leaf_index: np.ndarray  # node id -> row of the leaf tables, -1 for inner nodes

    @classmethod
    def from_sklearn(cls, tree: BaseDecisionTree) -> TreeArrays:
        t = tree.tree_
        left = t.children_left.astype("int32")
        is_leaf = left == -1
        leaf_index = np.full(left.size, -1, dtype="int32")
        leaf_index[is_leaf] = np.arange(int(is_leaf.sum()), dtype="int32")
        return cls(
            left,
            t.children_right.astype("int32"),
            np.where(is_leaf, 0, t.feature).astype("int32"),
            t.threshold.astype("float64"),
            leaf_index,
        )

    @classmethod
    def stump(cls) -> TreeArrays:
        """A single leaf: every row lands in leaf 0."""
        one = np.array([-1], dtype="int32")
        return cls(one, one.copy(), np.zeros(1, "int32"), np.zeros(1), np.zeros(1, "int32"))

    @property
    def n_leaves(self) -> int:
        return int((self.left == -1).sum())

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Leaf row (not node id) reached by each row of ``x``, as scikit-learn routes it."""
        x = np.asarray(x, dtype="float32")
        node = np.zeros(x.shape[0], dtype="int32")
        rows = np.arange(x.shape[0])
        active = self.left[node] != -1
        while active.any():
            idx = rows[active]
            current = node[idx]
            go_left = x[idx, self.feature[current]] <= self.threshold[current]
            node[idx] = np.where(go_left, self.left[current], self.right[current])
            active[idx] = self.left[node[idx]] != -1
        return self.leaf_index[node]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.{name}": getattr(self, name)
            for name in ("left", "right", "feature", "threshold", "leaf_index")
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> TreeArrays:
        names = ("left", "right", "feature", "threshold", "leaf_index")
        return cls(*(np.asarray(arrays[f"{prefix}.{name}"]) for name in names))
