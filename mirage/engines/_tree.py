"""A fitted decision tree as plain arrays, with a vectorised ``apply`` that needs no pickle.

``apply`` rebuilds scikit-learn's compiled tree from the arrays (five times faster than walking the
tree in numpy) and falls back to the numpy walk when that private interface is not available.  Fewer
than ``COMPILE_ROWS`` rows are walked in numpy unless scikit-learn's trees are loaded already: the
walk takes milliseconds there, importing scikit-learn about a second (the whole of a small sample).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mirage._validate import StateError, require_array

if TYPE_CHECKING:
    from sklearn.tree import BaseDecisionTree

__all__ = ["COMPILE_ROWS", "TreeArrays"]

COMPILE_ROWS = 20_000


@dataclass
class TreeArrays:
    left: np.ndarray  # child node ids, -1 at leaves
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    leaf_index: np.ndarray  # node id -> row of the leaf tables, -1 for inner nodes
    _compiled: Any = field(default=None, repr=False, compare=False)

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
        """Leaf row (not node id) reached by each row of ``x``, as scikit-learn routes it.

        ``x`` may hold more columns than the tree uses; scikit-learn compares float32 values.
        """
        x = np.ascontiguousarray(x, dtype="float32")
        if self._compiled is None and x.shape[0] < COMPILE_ROWS and "sklearn.tree" not in sys.modules:
            return self._walk(x)
        if self._compiled is None:
            self._compiled = _compile(self, x.shape[1]) or False
        if (
            self._compiled is not False
            and self._compiled[1] == x.shape[1]
            and self.feature.max() < x.shape[1]
        ):
            return self.leaf_index[self._compiled[0].apply(x)]
        return self._walk(x)

    def _walk(self, x: np.ndarray) -> np.ndarray:
        n, width = x.shape
        flat = x.ravel()
        node = np.zeros(n, dtype="int32")
        active = np.arange(n) if self.left[0] != -1 else np.zeros(0, dtype="int64")
        while active.size:
            current = node[active]
            go_left = flat[active * width + self.feature[current]] <= self.threshold[current]
            following = np.where(go_left, self.left[current], self.right[current])
            node[active] = following
            active = active[self.left[following] != -1]
        return self.leaf_index[node]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.{name}": getattr(self, name)
            for name in ("left", "right", "feature", "threshold", "leaf_index")
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str, *, n_features: int) -> TreeArrays:
        """The tree saved under ``prefix``, checked: compiled code must never index out of bounds."""
        kinds = {"left": "i", "right": "i", "feature": "i", "threshold": "f", "leaf_index": "i"}
        loaded = [
            require_array(arrays, f"{prefix}.{name}", kind=k, shape=(None,)) for name, k in kinds.items()
        ]
        if not cls(*loaded).check(n_features):
            raise StateError(f"{prefix}.left", "the tree arrays do not describe a valid tree", array=True)
        return cls(*(a.astype("float64" if a.dtype.kind == "f" else "int32") for a in loaded))

    def check(self, n_features: int) -> bool:
        """Whether the arrays form a tree over ``n_features`` predictors."""
        n = self.left.size
        inner = self.left != -1
        sizes = {self.right.size, self.feature.size, self.threshold.size, self.leaf_index.size}
        ids = np.arange(n)
        return bool(
            n > 0
            and sizes == {n}
            and np.array_equal(inner, self.right != -1)
            # children come after their parent (scikit-learn's layout), so there is no cycle
            and bool(np.all((self.left[inner] > ids[inner]) & (self.left[inner] < n)))
            and bool(np.all((self.right[inner] > ids[inner]) & (self.right[inner] < n)))
            and bool(np.all((self.feature >= 0) & (self.feature < n_features)))
            and np.array_equal(self.leaf_index[~inner], np.arange(int((~inner).sum())))
            and bool(np.all(self.leaf_index[inner] == -1))
        )


def _compile(tree: TreeArrays, n_features: int) -> tuple[Any, int] | None:
    """scikit-learn's compiled tree built from the arrays (no pickle involved), or None."""
    try:
        from sklearn.tree._tree import NODE_DTYPE, Tree

        nodes = np.zeros(tree.left.size, dtype=NODE_DTYPE)
        nodes["left_child"] = tree.left
        nodes["right_child"] = tree.right
        nodes["feature"] = tree.feature
        nodes["threshold"] = tree.threshold
        compiled = Tree(n_features, np.array([1], dtype=np.intp), 1)
        compiled.__setstate__(
            {
                "max_depth": int(tree.left.size),
                "node_count": int(tree.left.size),
                "nodes": nodes,
                "values": np.zeros((tree.left.size, 1, 1)),
            }
        )
        return compiled, n_features
    except Exception:
        return None
