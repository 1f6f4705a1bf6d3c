"""``cart``: sequential tree synthesis, the method of R's synthpop.

Sub-columns are visited in order.  The first is drawn from its marginal; each later one from a
decision tree fitted on the sub-columns before it: discrete ones from the class frequencies of the
leaf the synthetic row falls in (shrunk towards the column's overall frequencies by ``prior_weight``
pseudo-rows), continuous ones by drawing an observed value of the leaf and smoothing it with a
Gaussian kernel of ``smoothing`` times the leaf's Silverman bandwidth.  Values that form a spike (a
share of at least ``spike_share`` of the rows, such as a zero balance, and at least ``rare_min_count``
rows, the encoding option) are kept exact.

Where a column's missing flag says missing, its other sub-columns hold a placeholder, not a value:
their trees and leaves learn from the rows where the column is present only, and a sampled row
whose flag says missing gets the placeholder back, as the training rows had it, for the trees after.

``min_samples_leaf`` is the privacy knob: no leaf describes fewer rows.  Its default grows with the
data (at least 50 rows, and 1/250 of the rows above 12,500); at that default the DCR share reads
0.53-0.57 on small tables (titanic, insurance, 2,000 rows of Adult).  With ``max_dcr_share`` set
(0.53, the project's bar), the memorisation guard (:mod:`mirage.engines._guard`) raises it before the
fit, 1.5 times a step and four steps at most, until the synthetic rows stop sitting closer to the rows
learned than to unseen ones.  It is off by default: larger leaves also lose structure that is the
population's (a rule that holds for 5% of the rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from mirage._progress import report
from mirage._validate import StateError, require_array, require_int, require_list
from mirage.encoding import SubColumn
from mirage.encoding.marginal import Marginal
from mirage.engines._base import EngineTags, Synthesizer, missing_flags
from mirage.engines._context import ContextParts
from mirage.engines._guard import PrivacyKnob
from mirage.engines._params import QUANTILES, SEED, Param, integer, number
from mirage.engines._protect import fold_into, protected_range, rank_windows
from mirage.engines._registry import register_engine
from mirage.engines._tree import TreeArrays

__all__ = ["CartSynthesizer"]

MIN_LEAF = 50
LEAF_FRACTION = 250
LEAF_STEPS = 5  # the guard tries the leaf size and up to four larger ones, each 1.5 times the last
LEAF_GROWTH = 1.5
# trees compare float32 values; scikit-learn also sums its inputs, which must not overflow float32
TREE_INPUT_LIMIT = 1e30
HUGE = 1e100  # a regression target this large is scaled down, or its squared errors overflow


def _auto_leaf(rows: int) -> int:
    return max(MIN_LEAF, rows // LEAF_FRACTION)


def _leaf_sizes(engine: CartSynthesizer, rows: int) -> list[dict[str, int]]:
    """The leaf sizes the memorisation guard tries (after a size below the default, the default's
    ladder), while a tree can still split in two."""
    sizes = [engine.min_samples_leaf or _auto_leaf(rows)]
    while len(sizes) < LEAF_STEPS and (size := max(round(LEAF_GROWTH * sizes[-1]), MIN_LEAF)) <= rows // 2:
        sizes.append(size)
    return [{"min_samples_leaf": size} for size in sizes]


@register_engine
class CartSynthesizer(Synthesizer):
    name = "cart"
    params: ClassVar[Mapping[str, Param]] = {
        "min_samples_leaf": integer(1, optional=True),
        "max_depth": integer(1, optional=True),
        "smoothing": number(0, note="(0 turns it off)"),
        "prior_weight": number(0),
        "spike_share": number(0, 1, low_open=True),
        "quantiles": QUANTILES,
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "seed": SEED,
    }
    privacy_knob = PrivacyKnob("leaf size", _leaf_sizes)
    tags = EngineTags(context=True)

    def __init__(
        self,
        *,
        min_samples_leaf: int | None = None,
        max_depth: int | None = None,
        smoothing: float = 1.0,
        prior_weight: float = 0.0,
        spike_share: float = 0.05,
        quantiles: int = 1000,
        max_dcr_share: float | None = None,
        seed: int = 0,
    ) -> None:
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.smoothing = smoothing
        self.prior_weight = prior_weight
        self.spike_share = spike_share
        self.quantiles = quantiles
        self.max_dcr_share = max_dcr_share
        self.seed = seed

    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        n = len(parts[subcolumns[0].name]) if subcolumns else 0
        self._grow_all(parts, subcolumns, np.zeros((n, 0)), rng)

    def _fit_given(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts,
        rng: np.random.Generator,
    ) -> None:
        self._grow_all(parts, subcolumns, context.matrix(), rng)

    def _grow_all(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """One tree per sub-column, on the context's sub-columns (never drawn) and the sub-columns before
        it.  Without a context the first sub-column is drawn from its marginal instead."""
        self.subcolumns_ = subcolumns
        self.context_width_ = context.shape[1]
        self.trees_: list[TreeArrays] = []
        self.leaves_: list[dict[str, np.ndarray]] = []
        self.placeholders_: dict[int, tuple[int, float]] = {}  # sub-column -> (its flag, placeholder)
        self.leaf_size_ = self._knob_setting("min_samples_leaf")
        if not subcolumns:
            return
        x = np.column_stack([parts[s.name].astype("float64") for s in subcolumns])
        c = self.context_width_
        if c == 0:
            self.first_ = Marginal.fit(subcolumns[0], x[:, 0], self.quantiles, self.encoding_.rare_min_count)
        flags = missing_flags(subcolumns)
        inputs = _tree_inputs(np.hstack([context, x]))
        first = self._first_tree()
        for j in range(first, len(subcolumns)):
            report("fit", j - first + 1, len(subcolumns) - first)
            present = self._present_rows(x, j, flags.get(j))
            tree, leaf_of_row = self._grow(inputs[present, : c + j], x[present, j], subcolumns[j], rng)
            self.trees_.append(tree)
            self.leaves_.append(self._leaf_tables(subcolumns[j], x[present, j], leaf_of_row, tree.n_leaves))

    def _first_tree(self) -> int:
        """The first sub-column drawn from a tree: 1 (the first comes from its marginal), or 0 with a
        context."""
        return 0 if self.context_width_ else 1

    def _present_rows(self, x: np.ndarray, j: int, flag: int | None) -> np.ndarray:
        """The rows whose sub-column ``j`` holds a value (all rows but those its flag says missing).

        Records the placeholder the missing rows hold, for sampling to give them back.
        """
        if flag is None:
            return np.ones(len(x), dtype=bool)
        present = x[:, flag] == 0
        if present.all() or not present.any():
            return np.ones(len(x), dtype=bool)
        self.placeholders_[j] = (flag, float(x[~present, j][0]))
        return present

    def _grow(
        self, predictors: np.ndarray, y: np.ndarray, sub: SubColumn, rng: np.random.Generator
    ) -> tuple[TreeArrays, np.ndarray]:
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # slow import: fit only

        if np.all(y == y[0]) or len(y) < 2 * self.leaf_size_:
            return TreeArrays.stump(), np.zeros(len(y), dtype="int32")
        params = {
            "min_samples_leaf": self.leaf_size_,
            "max_depth": self.max_depth,
            "random_state": int(rng.integers(2**31 - 1)),
        }
        model = DecisionTreeClassifier(**params) if sub.discrete else DecisionTreeRegressor(**params)
        scale = 1.0 if sub.discrete else float(np.max(np.abs(y)))
        model.fit(predictors, y / scale if scale > HUGE else y)  # the splits do not depend on the scale
        tree = TreeArrays.from_sklearn(model)
        return tree, tree.leaf_index[model.apply(predictors)]

    def _leaf_tables(
        self, sub: SubColumn, y: np.ndarray, leaf: np.ndarray, n_leaves: int
    ) -> dict[str, np.ndarray]:
        if sub.discrete:
            counts = np.zeros((n_leaves, max(1, sub.cardinality)), dtype="float64")
            np.add.at(counts, (leaf, y.astype("int64")), 1.0)
            counts += self.prior_weight * counts.sum(axis=0) / counts.sum()
            return {"cumulative": np.cumsum(counts, axis=1) / counts.sum(axis=1, keepdims=True)}
        order = np.lexsort((y, leaf))
        values = y[order]
        offsets = np.searchsorted(leaf[order], np.arange(n_leaves + 1)).astype("int64")
        _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        # A spike also needs as many rows as a category does, or on a small table every value
        # (one row in twenty is 5%) would be given back exactly.
        rare = self.encoding_.rare_min_count
        spike = ((counts / y.size >= self.spike_share) & (counts >= rare))[inverse][order]
        bandwidth = np.zeros(n_leaves)
        if self.smoothing > 0:
            for k in range(n_leaves):
                smooth = values[offsets[k] : offsets[k + 1]][~spike[offsets[k] : offsets[k + 1]]]
                bandwidth[k] = self.smoothing * _silverman(smooth)
        lo, hi = rank_windows(values, y, rare)
        return {
            "values": values,
            "offsets": offsets,
            "spike": spike,
            "bandwidth": bandwidth,
            "lo": np.where(spike, values, lo),
            "hi": np.where(spike, values, hi),
            "range": protected_range(y, rare),
        }

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._draw_all(np.zeros((n, 0)), rng)

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._draw_all(context.matrix(), rng)

    def _draw_all(self, context: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        p, n, c = len(self.subcolumns_), int(context.shape[0]), int(context.shape[1])
        if p == 0:
            return {}
        out = np.empty((n, p), dtype="float64")
        predictors = np.zeros((n, c + p), dtype="float32")  # what the trees compare, filled as we go
        predictors[:, :c] = _tree_inputs(context)
        first = self._first_tree()
        if first:
            out[:, 0] = self.first_.inverse(rng.random(n))
            predictors[:, 0] = _tree_inputs(out[:, 0])
        for j in range(first, p):
            leaf = self.trees_[j - first].apply(predictors)
            out[:, j] = self._draw(self.subcolumns_[j], self.leaves_[j - first], leaf, rng)
            if j in self.placeholders_:
                flag, placeholder = self.placeholders_[j]
                out[out[:, flag] != 0, j] = placeholder
            predictors[:, c + j] = _tree_inputs(out[:, j])
        return {
            s.name: out[:, j].astype("int64") if s.discrete else out[:, j]
            for j, s in enumerate(self.subcolumns_)
        }

    @staticmethod
    def _draw(
        sub: SubColumn, table: Mapping[str, np.ndarray], leaf: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        u = rng.random(leaf.size)
        if sub.discrete:
            cumulative = table["cumulative"][leaf]
            codes = (u[:, None] >= cumulative).sum(axis=1)
            return np.minimum(codes, cumulative.shape[1] - 1).astype("float64")
        offsets = table["offsets"]
        start, size = offsets[leaf], offsets[leaf + 1] - offsets[leaf]
        idx = start + np.minimum((u * size).astype("int64"), size - 1)
        values = table["values"][idx]
        if "lo" in table:  # a rare value is drawn over the window of rows around it (_protect)
            lo, hi = table["lo"][idx], table["hi"][idx]
            values = lo + rng.random(leaf.size) * (hi - lo)
        noise = rng.standard_normal(leaf.size) * table["bandwidth"][leaf]
        drawn = np.where(table["spike"][idx], values, values + noise)
        if "range" in table:  # rare extremes are never emitted, not even by clipping to the bounds
            drawn = np.where(table["spike"][idx], drawn, fold_into(drawn, table["range"], rng))
        return drawn

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state: dict[str, Any] = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "leaf_size": self.leaf_size_,
            "placeholders": [[j, flag, value] for j, (flag, value) in self.placeholders_.items()],
        }
        if self.context_width_:
            state["context_width"] = self.context_width_
        arrays: dict[str, np.ndarray] = {}
        if self.subcolumns_ and not self.context_width_:
            arrays["first"] = self.first_.table
        for j, (tree, table) in enumerate(zip(self.trees_, self.leaves_, strict=True)):
            arrays.update(tree.to_arrays(f"tree.{j}"))
            arrays.update({f"leaves.{j}.{k}": v for k, v in table.items()})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        self.leaf_size_ = require_int(state, "leaf_size", low=1)
        if self._guard_choice().get("min_samples_leaf") != self.leaf_size_:  # else the guard raised it
            self._require_recorded("min_samples_leaf", self.leaf_size_, "state.engine.leaf_size")
        self.placeholders_ = _placeholders(state, len(subcolumns))
        c = len(self.context_encoder_.subcolumns) if self.context_encoder_ is not None else 0
        width = require_int(state, "context_width", low=0) if "context_width" in state else 0
        if width != c:
            raise StateError("context_width", f"expected {c}, the context encoder's number of sub-columns")
        self.context_width_ = c
        self.trees_, self.leaves_ = [], []
        first = self._first_tree()
        if subcolumns and first:
            self.first_ = Marginal.from_arrays(subcolumns[0], arrays, "first")
        for k, j in enumerate(range(first, len(subcolumns))):
            tree = TreeArrays.from_arrays(arrays, f"tree.{k}", n_features=c + j)
            self.trees_.append(tree)
            self.leaves_.append(_leaf_tables(subcolumns[j], arrays, f"leaves.{k}.", tree.n_leaves))
        self.subcolumns_ = subcolumns


def _leaf_tables(
    sub: SubColumn, arrays: Mapping[str, np.ndarray], prefix: str, n_leaves: int
) -> dict[str, np.ndarray]:
    """A tree's saved leaf tables, checked against its sub-column and its number of leaves."""
    if sub.discrete:
        key = f"{prefix}cumulative"
        cumulative = require_array(arrays, key, kind="f", shape=(n_leaves, max(1, sub.cardinality)))
        if np.any(np.diff(cumulative, axis=1) < 0) or np.any(cumulative[:, 0] < 0):
            raise StateError(key, "expected non-decreasing cumulative probabilities per leaf", array=True)
        if np.any(np.abs(cumulative[:, -1] - 1.0) > 1e-6):
            raise StateError(key, "expected each leaf's cumulative probabilities to end at 1", array=True)
        return {"cumulative": cumulative}
    values = require_array(arrays, f"{prefix}values", kind="f", shape=(None,))
    offsets = require_array(arrays, f"{prefix}offsets", kind="i", shape=(n_leaves + 1,))
    if offsets[0] != 0 or offsets[-1] != values.size or np.any(np.diff(offsets) < 1):
        raise StateError(
            f"{prefix}offsets",
            f"expected increasing offsets from 0 to {values.size} (every leaf holds a value)",
            array=True,
        )
    spike = require_array(arrays, f"{prefix}spike", kind="b", shape=(values.size,))
    bandwidth = require_array(arrays, f"{prefix}bandwidth", kind="f", shape=(n_leaves,))
    if np.any(bandwidth < 0):
        raise StateError(f"{prefix}bandwidth", "expected bandwidths >= 0", array=True)
    table = {"values": values, "offsets": offsets, "spike": spike, "bandwidth": bandwidth}
    if f"{prefix}lo" in arrays or f"{prefix}hi" in arrays:  # files before value protection have none
        lo = require_array(arrays, f"{prefix}lo", kind="f", shape=(values.size,))
        hi = require_array(arrays, f"{prefix}hi", kind="f", shape=(values.size,))
        if np.any(lo > values) or np.any(hi < values):
            raise StateError(f"{prefix}lo", "expected windows lo <= value <= hi", array=True)
        table.update(lo=lo, hi=hi)
    if f"{prefix}range" in arrays:
        bounds = require_array(arrays, f"{prefix}range", kind="f", shape=(4,), finite=False)
        if np.any(bounds[1:] < bounds[:-1]):  # not np.diff: infinite bounds (no protection) are fine
            raise StateError(f"{prefix}range", "expected four non-decreasing bounds", array=True)
        table["range"] = bounds
    return table


def _placeholders(state: Mapping[str, Any], n_subcolumns: int) -> dict[int, tuple[int, float]]:
    """Sub-column -> (its missing flag's sub-column, the value that stands in where the flag says missing)."""
    entries = require_list(state, "placeholders") if "placeholders" in state else []
    out: dict[int, tuple[int, float]] = {}
    for entry in entries:
        ok = isinstance(entry, list) and len(entry) == 3
        if ok:
            j, flag, value = entry
            ok = all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_subcolumns for i in (j, flag)
            )
            ok = ok and isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
        if not ok:
            raise StateError(
                "placeholders", f"expected [sub-column, flag sub-column, finite value], got {entry!r}"
            )
        out[int(j)] = (int(flag), float(value))
    return out


def _tree_inputs(x: np.ndarray) -> np.ndarray:
    """Values as the trees compare them (float32, as scikit-learn does); values past
    ``TREE_INPUT_LIMIT`` are held at it, where scikit-learn would refuse them as infinite."""
    return np.clip(x, -TREE_INPUT_LIMIT, TREE_INPUT_LIMIT).astype("float32")


def _silverman(values: np.ndarray) -> float:
    if values.size < 2:
        return 0.0
    scale = float(np.max(np.abs(values)))
    if scale == 0.0:
        return 0.0
    z = values / scale  # squares of values past 1e154 would overflow
    sd = float(z.std(ddof=1))
    iqr = float(np.subtract(*np.percentile(z, [75, 25])))
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    return 0.9 * spread * scale * values.size ** (-0.2)
