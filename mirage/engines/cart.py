"""``cart``: sequential tree synthesis, the method of R's synthpop.

Sub-columns are visited in order.  The first is drawn from its marginal; each later one from a
decision tree fitted on the sub-columns before it: discrete ones from the class frequencies of the
leaf the synthetic row falls in (shrunk towards the column's overall frequencies by ``prior_weight``
pseudo-rows), continuous ones by drawing an observed value of the leaf and smoothing it with a
Gaussian kernel of ``smoothing`` times the leaf's Silverman bandwidth, in normal scores of the
column's values (``smoothing_space="normal"``, through its quantiles: a skewed column gets noise in
proportion to how densely its values lie) or in the values themselves (``"value"``).  The map to
normal scores, like the first sub-column's marginal, has a knot per ``rare_min_count`` rows at most:
with a knot at every training value a draw, however smoothed, comes back uniform within a gap
between two neighbouring training values, closer to them than to unseen rows (a single normal column
of 700 rows read a DCR share of 0.69 that way).  Values that
form a spike (a share of at least ``spike_share`` of the rows, such as a zero balance, and at least
``rare_min_count`` rows, the encoding option) are kept exact.

Where a column's missing flag says missing, its other sub-columns hold a placeholder, not a value:
their trees and leaves learn from the rows where the column is present only, and a sampled row
whose flag says missing gets the placeholder back, as the training rows had it, for the trees after.

Conditions are drawn natively (tag ``native_conditions``), without refitting and without copying
rows: the sub-columns up to the last conditioned one (the *prefix*) are drawn in the tree order, each
conditioned discrete sub-column from its leaf's frequencies restricted to the allowed codes (its
first-column marginal likewise, and a conditioned range of the first column by inverting its
marginal), a conditioned continuous one from its leaf and kept only inside its range.  A prefix so
drawn is over-represented where the leaves gave the allowed codes little mass, so it is kept with
probability ``prod(w) / prod(w_max)`` (``w``: the mass its leaves gave the allowed codes, ``w_max``:
the largest any leaf of that tree gives): rejection sampling with the truncated draw as proposal,
exact, and its acceptance is ``E[w] / w_max`` rather than the condition's prevalence.  Only the kept
prefixes get the later sub-columns, drawn forward given them.  A conditioned column early in the order
is cheapest (the first: every proposal is kept); a late one costs the prefix draws it rejects.

``impute`` fills any missing pattern: the missing sub-columns are first drawn forward in the tree
order given the values before them (known or already drawn), then ``IMPUTE_SWEEPS``
Gibbs sweeps redraw each missing sub-column given all the others.  ``L``, the likelihood of every
later sub-column of the row under its tree, is a discrete one's leaf frequency and a continuous one's
density in its leaf (the share of the leaf's values within a window of the column's median
bandwidth).  A discrete sub-column of at most ``GIBBS_CODES`` codes is drawn from its full
conditional (each code weighted by its tree's probability times ``L``); any other is redrawn by
Metropolis-within-Gibbs: a proposal from its own tree, kept with probability ``min(1, L'/L)``.  So a
missing cell is drawn given the known cells after it too, not only those before it; the window makes
the continuous likelihood an approximation.

``min_samples_leaf`` is the privacy knob: no leaf describes fewer rows.  Its default grows with the
data (at least 50 rows, and 1/250 of the rows above 12,500); at that default the DCR share reads
0.55-0.56 on small tables (titanic, insurance, diabetes, 2,000 rows of Adult; means over 20 split
seeds), over the project's bar of 0.53.  ``max_dcr_share=DEFAULT_MAX_DCR_SHARE`` (that bar,
:data:`mirage.engines._guard.DEFAULT_MAX_DCR_SHARE`) runs the memorisation guard
(:mod:`mirage.engines._guard`) before the fit: it reads, on folds of the training rows, the leaf
size, the largest of up to four larger ones (1.5 times a step) and the one between, and keeps the
smallest of the five whose fitted share meets the bar.  A table the trees clearly do not memorise
keeps its leaves after one reading; tables of more than ``CHECKED_ROWS`` rows are not checked (all of
Adult reads 0.531 at its default leaf of 104 rows).  It is off by default, on the figures of 20
split seeds: it brings titanic (0.552 -> 0.518) and insurance (0.555 -> 0.530) to the bar, and 2,000
rows of Adult (0.552 -> 0.507, 5-6 seeds), but not diabetes, whose share larger leaves do not lower
(leaf 50, 112, 168: 0.554, 0.545, 0.553), nor breast cancer (0.533 either way); it raises detection
AUC by 0.15-0.24 and costs 1.5-7 s of CPU on tables whose fit takes 0.05-0.2 s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from mirage._progress import report
from mirage._validate import StateError, require_array, require_int, require_list
from mirage.encoding import SubColumn
from mirage.encoding._tails import Tails
from mirage.encoding.marginal import Marginal
from mirage.engines._base import EngineTags, Synthesizer, missing_flags
from mirage.engines._conditions import SubColumnBox, impossible, marginal_range
from mirage.engines._context import ContextParts
from mirage.engines._guard import PrivacyKnob
from mirage.engines._params import QUANTILES, SEED, Param, integer, number, text
from mirage.engines._protect import fold_into, protected_range, rank_windows
from mirage.engines._registry import register_engine
from mirage.engines._tree import TreeArrays
from mirage.errors import MirageError

__all__ = ["CartSynthesizer"]

MIN_LEAF = 50
LEAF_FRACTION = 250
LEAF_STEPS = 5  # the guard tries the leaf size and up to four larger ones, each 1.5 times the last
LEAF_GROWTH = 1.5
# larger tables are not checked: all of Adult (26,048 training rows, leaves of 104) reads 0.531
# (0.526-0.534 over 3 split seeds) unchecked, at the bar, and a check there would cost more than the fit
CHECKED_ROWS = 20_000
# trees compare float32 values; scikit-learn also sums its inputs, which must not overflow float32
TREE_INPUT_LIMIT = 1e30
HUGE = 1e100  # a regression target this large is scaled down, or its squared errors overflow
PROPOSAL_ROUNDS = 20  # prefix batches drawn per call for conditions before giving back fewer rows
IMPUTE_SWEEPS = 5
SMOOTHING_SPACES = ("normal", "value")
NORMAL_KNOTS = 1001  # quantiles that map a continuous sub-column to normal scores for smoothing
GIBBS_CODES = 16  # a discrete sub-column with at most this many codes is imputed from its full conditional


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
        "smoothing_space": text(lambda v: v in SMOOTHING_SPACES, "'normal' or 'value'"),
        "prior_weight": number(0),
        "spike_share": number(0, 1, low_open=True),
        "quantiles": QUANTILES,
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "seed": SEED,
    }
    privacy_knob = PrivacyKnob("leaf size", _leaf_sizes, max_rows=CHECKED_ROWS)
    tags = EngineTags(context=True, native_conditions=True, impute=True, scenario=True)

    def __init__(
        self,
        *,
        min_samples_leaf: int | None = None,
        max_depth: int | None = None,
        smoothing: float = 1.0,
        smoothing_space: str = "normal",
        prior_weight: float = 0.0,
        spike_share: float = 0.05,
        quantiles: int = 1000,
        max_dcr_share: float | None = None,
        seed: int = 0,
    ) -> None:
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.smoothing = smoothing
        self.smoothing_space = smoothing_space
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
            rare = self.encoding_.rare_min_count
            knots = _knot_count(x.shape[0], rare, self.quantiles)
            self.first_ = Marginal.fit(subcolumns[0], x[:, 0], knots, rare)
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
        normal = self.smoothing > 0 and self.smoothing_space == "normal"
        smooth_values = values[~spike]
        knots = (
            _normal_knots(smooth_values, _knot_count(smooth_values.size, rare, NORMAL_KNOTS))
            if normal
            else None
        )
        scores = values if knots is None else _to_normal(values, knots)
        bandwidth = np.zeros(n_leaves)
        if self.smoothing > 0:
            for k in range(n_leaves):
                smooth = scores[offsets[k] : offsets[k + 1]][~spike[offsets[k] : offsets[k + 1]]]
                bandwidth[k] = self.smoothing * _silverman(smooth)
        lo, hi = rank_windows(values, y, rare)
        bounds = protected_range(y, rare)
        tails = Tails.fit(y, bounds[0], bounds[3]) if bounds[0] < bounds[3] else Tails()
        return {
            "values": values,
            "offsets": offsets,
            "spike": spike,
            "bandwidth": bandwidth,
            "lo": np.where(spike, values, lo),
            "hi": np.where(spike, values, hi),
            "range": bounds,
            **({"tails": tails.to_array()} if tails.any else {}),
            **({"knots": knots} if knots is not None else {}),
        }

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._draw_all(np.zeros((n, 0)), rng)

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._draw_all(context.matrix(), rng)

    def _draw_all(self, context: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n, c = int(context.shape[0]), int(context.shape[1])
        if not self.subcolumns_:
            return {}
        out, predictors = self._start(n, context)
        self._draw_range(out, predictors, c, 0, len(self.subcolumns_), rng)
        return self._parts(out)

    def _start(self, n: int, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Empty rows to draw into, and the predictors the trees compare (the context filled in)."""
        p, c = len(self.subcolumns_), int(context.shape[1])
        out = np.empty((n, p), dtype="float64")
        predictors = np.zeros((n, c + p), dtype="float32")  # what the trees compare, filled as we go
        predictors[:, :c] = _tree_inputs(context)
        return out, predictors

    def _parts(self, out: np.ndarray) -> dict[str, np.ndarray]:
        return {
            s.name: out[:, j].astype("int64") if s.discrete else out[:, j]
            for j, s in enumerate(self.subcolumns_)
        }

    def _draw_range(
        self,
        out: np.ndarray,
        predictors: np.ndarray,
        c: int,
        start: int,
        stop: int,
        rng: np.random.Generator,
        box: Mapping[int, Any] | None = None,
    ) -> np.ndarray:
        """Draw sub-columns ``start`` to ``stop - 1`` of every row in the tree order.  ``box`` maps a
        sub-column to its allowed codes (a mask) or range (low, high); returns each row's weight: the
        product of the masses its leaves gave the allowed codes, 0 where a range was missed."""
        weight = np.ones(out.shape[0])
        for j in range(start, stop):
            allowed = None if box is None else box.get(j)
            values, mass = self._draw_column(j, predictors, rng, allowed)
            if j in self.placeholders_:
                flag, placeholder = self.placeholders_[j]
                values[out[:, flag] != 0] = placeholder
            if isinstance(allowed, tuple) and not self.subcolumns_[j].discrete:
                mass = mass * ((values >= allowed[0]) & (values <= allowed[1]))
            out[:, j] = values
            predictors[:, c + j] = _tree_inputs(values)
            weight *= mass
        return weight

    def _draw_column(
        self, j: int, predictors: np.ndarray, rng: np.random.Generator, allowed: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sub-column ``j`` for each row given the predictors, and the mass its draw had: with allowed
        codes (a mask) a discrete sub-column is drawn among them, the mass being theirs; the first
        sub-column's marginal is drawn within an allowed range too."""
        n, sub, first = int(predictors.shape[0]), self.subcolumns_[j], self._first_tree()
        ones = np.ones(n)
        if j < first:
            if allowed is None:
                return self.first_.inverse(np.asarray(rng.random(n))).astype("float64"), ones
            if sub.discrete:
                return _draw_allowed(self.first_.table[None, :], np.zeros(n, dtype="int64"), allowed, rng)
            lo, hi = marginal_range(self.first_, *allowed)
            u = lo + np.asarray(rng.random(n)) * (hi - lo)
            return self.first_.inverse(u).astype("float64"), ones * (hi - lo)
        table, leaf = self.leaves_[j - first], self.trees_[j - first].apply(predictors)
        if allowed is not None and sub.discrete:
            return _draw_allowed(table["cumulative"], leaf, allowed, rng)
        return self._draw(sub, table, leaf, rng), ones

    def _envelope(self, j: int, allowed: Any) -> float:
        """The most mass any leaf of sub-column ``j``'s tree gives its allowed codes (1 for a range:
        its draws are kept or not); the first sub-column's marginal needs none (every row alike)."""
        first = self._first_tree()
        sub = self.subcolumns_[j]
        if j < first:
            if sub.discrete:
                mass = float(_allowed_mass(self.first_.table[None, :], allowed)[0])
            else:
                lo, hi = marginal_range(self.first_, *allowed)
                mass = hi - lo
            if mass <= 0:
                raise impossible(sub.column, "has no probability for what the conditions allow in this model")
            return mass
        if not sub.discrete:
            return 1.0
        best = float(_allowed_mass(self.leaves_[j - first]["cumulative"], allowed).max())
        if best <= 0:
            what = "missing flag" if sub.part == "missing" else "values"
            raise impossible(sub.column, f"has no probability for the {what} the conditions allow")
        return best

    def _sample_matching(self, n: int, rng: np.random.Generator, accept: Any) -> dict[str, np.ndarray]:
        """Rows drawn inside the conditions' box: prefixes proposed with truncated draws and kept by
        their weight over the envelope (exact rejection), then the later sub-columns drawn given them."""
        box: SubColumnBox | None = getattr(accept, "box", None)
        if not box or not self.subcolumns_:
            return self._sample(n, rng)
        constraints: dict[int, Any] = {}
        for j, s in enumerate(self.subcolumns_):
            if s.name in box.codes:
                constraints[j] = box.codes[s.name]
            elif s.name in box.ranges:
                constraints[j] = box.ranges[s.name]
        if not constraints:
            return self._sample(n, rng)
        envelope = float(np.prod([self._envelope(j, a) for j, a in constraints.items()]))
        stop = max(constraints) + 1
        batch = max(n, 1_000)
        kept_out, kept_predictors, have, proposed = [], [], 0, 0
        for _ in range(PROPOSAL_ROUNDS):
            out, predictors = self._start(batch, np.zeros((batch, 0)))
            weight = self._draw_range(out, predictors, 0, 0, stop, rng, constraints)
            keep = rng.random(batch) * envelope < weight
            kept_out.append(out[keep])
            kept_predictors.append(predictors[keep])
            have += int(keep.sum())
            proposed += batch
            if have >= n:
                break
        if have == 0:
            column = self.subcolumns_[stop - 1].column
            raise MirageError(
                f"conditions are too rare to sample: none of {proposed:,} rows drawn up to column "
                f"{column!r} matched (acceptance rate 0); relax the conditions"
            )
        out = np.concatenate(kept_out)[:n]
        predictors = np.concatenate(kept_predictors)[:n]
        self._draw_range(out, predictors, 0, stop, len(self.subcolumns_), rng)
        return self._parts(out)

    def _impute_parts(
        self, parts: dict[str, np.ndarray], known: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Missing sub-columns drawn forward in the tree order, then Metropolis-within-Gibbs sweeps
        that condition each on the known sub-columns after it too (see the module's docstring)."""
        subs = self.subcolumns_
        if not subs:
            return dict(parts)
        n = len(parts[subs[0].name])
        given = np.column_stack([np.asarray(parts[s.name], dtype="float64") for s in subs])
        observed = np.column_stack([np.asarray(known[s.name], dtype=bool) for s in subs])
        out, predictors = self._start(n, np.zeros((n, 0)))
        for j in range(len(subs)):
            values, _ = self._draw_column(j, predictors, rng)
            out[:, j] = np.where(observed[:, j], given[:, j], values)
            predictors[:, j] = _tree_inputs(out[:, j])
        windows = [self._density_window(k) for k in range(len(subs))]
        for _ in range(IMPUTE_SWEEPS):
            for j in range(len(subs)):
                rows = np.flatnonzero(~observed[:, j])
                if rows.size == 0:
                    continue
                now, row_values = predictors[rows], out[rows]
                if subs[j].discrete and subs[j].cardinality <= GIBBS_CODES:
                    codes = self._gibbs_codes(j, now, row_values, windows, rng)
                    out[rows, j] = codes
                    predictors[rows, j] = _tree_inputs(codes)
                    continue
                proposal, _ = self._draw_column(j, now, rng)
                moved, moved_values = now.copy(), row_values.copy()
                moved[:, j], moved_values[:, j] = _tree_inputs(proposal), proposal
                gain = self._later_log_likelihood(
                    j, moved, moved_values, windows
                ) - self._later_log_likelihood(j, now, row_values, windows)
                take = np.log(np.maximum(rng.random(rows.size), 1e-300)) < gain
                out[rows[take], j] = proposal[take]
                predictors[rows[take], j] = moved[take, j]
        return self._parts(out)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The sub-columns after the first intervened one in the tree order redrawn given the new values
        (those before it keep theirs)."""
        subs = self.subcolumns_
        intervened = [j for j, s in enumerate(subs) if s.name in fixed]
        if not intervened:
            return parts
        n = len(parts[subs[0].name])
        out, predictors = self._start(n, np.zeros((n, 0)))
        for j, s in enumerate(subs):
            out[:, j] = parts[s.name]
            predictors[:, j] = _tree_inputs(out[:, j])
        for j in range(min(intervened) + 1, len(subs)):
            if j in intervened:
                continue
            values, _ = self._draw_column(j, predictors, rng)
            if j in self.placeholders_:
                flag, placeholder = self.placeholders_[j]
                values[out[:, flag] != 0] = placeholder
            out[:, j] = values
            predictors[:, j] = _tree_inputs(values)
        return self._parts(out)

    def _gibbs_codes(
        self,
        j: int,
        predictors: np.ndarray,
        values: np.ndarray,
        windows: list[float],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Discrete sub-column ``j`` drawn from its full conditional: each code weighted by its tree's
        probability times the likelihood of the later sub-columns given it."""
        first = self._first_tree()
        if j < first:
            cumulative = np.broadcast_to(self.first_.table, (predictors.shape[0], self.first_.table.size))
        else:
            cumulative = self.leaves_[j - first]["cumulative"][self.trees_[j - first].apply(predictors)]
        log_weight = np.log(np.maximum(np.diff(cumulative, axis=1, prepend=0.0), 1e-300))
        moved, moved_values = predictors.copy(), values.copy()
        for code in range(cumulative.shape[1]):
            moved[:, j], moved_values[:, j] = code, code
            log_weight[:, code] += self._later_log_likelihood(j, moved, moved_values, windows)
        weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
        cumulative = np.cumsum(weight, axis=1)
        u = rng.random(weight.shape[0]) * cumulative[:, -1]
        return np.minimum((u[:, None] >= cumulative).sum(axis=1), weight.shape[1] - 1).astype("float64")

    def _density_window(self, k: int) -> float:
        """Half-width of the window a continuous sub-column's leaf density is read over: the median
        positive kernel bandwidth of its leaves, else a thousandth of its values' span."""
        first = self._first_tree()
        if k < first or self.subcolumns_[k].discrete:
            return 0.0
        table = self.leaves_[k - first]
        positive = table["bandwidth"][table["bandwidth"] > 0]
        if positive.size and "knots" in table:  # normal scores: the window's width at the median value
            h = float(np.median(positive))
            ends = _from_normal(np.array([-h, h]), table["knots"])
            if ends[1] > ends[0]:
                return float(ends[1] - ends[0]) / 2.0
        elif positive.size:
            return float(np.median(positive))
        span = float(np.ptp(table["values"])) if table["values"].size else 0.0
        return max(span * 1e-3, 1e-9)

    def _later_log_likelihood(
        self, j: int, predictors: np.ndarray, values: np.ndarray, windows: list[float]
    ) -> np.ndarray:
        """Per row, the log-likelihood of sub-columns ``j + 1`` onwards under their trees."""
        first = self._first_tree()
        total = np.zeros(predictors.shape[0])
        for k in range(max(j + 1, first), len(self.subcolumns_)):
            table, leaf = self.leaves_[k - first], self.trees_[k - first].apply(predictors)
            if self.subcolumns_[k].discrete:
                cumulative = table["cumulative"][leaf]
                code = np.clip(values[:, k].astype("int64"), 0, cumulative.shape[1] - 1)
                rows = np.arange(leaf.size)
                below = np.where(code > 0, cumulative[rows, np.maximum(code - 1, 0)], 0.0)
                total += np.log(np.maximum(cumulative[rows, code] - below, 1e-12))
                continue
            offsets, h = table["offsets"], windows[k]
            start, stop = offsets[leaf], offsets[leaf + 1]
            inside = _count_before(table["values"], start, stop, values[:, k] + h, "right") - _count_before(
                table["values"], start, stop, values[:, k] - h, "left"
            )
            total += np.log((inside + 0.5) / (stop - start + 1.0) / (2.0 * h))
        return total

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
        if "knots" in table:  # the bandwidth is in normal scores of the column's values
            moved = _from_normal(_to_normal(values, table["knots"]) + noise, table["knots"])
            smoothed = np.where(noise == 0.0, values, moved)
        else:
            smoothed = values + noise
        drawn = np.where(table["spike"][idx], values, smoothed)
        if "range" in table:  # rare extremes are never emitted, not even by clipping to the bounds
            drawn = np.where(table["spike"][idx], drawn, fold_into(drawn, table["range"], rng))
        if "tails" in table:  # a row past a bound is drawn from that side's tail, not folded inside
            low, high = float(table["range"][0]), float(table["range"][3])
            row = table["values"][idx]
            past = (row < low) | (row > high)
            tails = Tails.from_arrays(table, "tails")
            drawn = np.where(past, tails.draw_past(row, low, high, rng), drawn)
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
            arrays.update(self.first_.arrays("first"))
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


def _count_before(
    values: np.ndarray, start: np.ndarray, stop: np.ndarray, x: np.ndarray, side: str
) -> np.ndarray:
    """Per row, how many of the sorted ``values[start:stop]`` lie below ``x`` (``side="left"``) or at
    or below it (``"right"``): a binary search run for every row at once."""
    lo, hi = start.astype("int64"), stop.astype("int64")
    last = max(values.size - 1, 0)
    while True:
        active = lo < hi
        if not active.any():
            return lo - start
        middle = (lo + hi) // 2
        probe = values[np.minimum(middle, last)]
        right = active & ((probe < x) if side == "left" else (probe <= x))
        lo = np.where(right, middle + 1, lo)
        hi = np.where(active & ~right, middle, hi)


def _allowed_mass(cumulative: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Per row of cumulative code probabilities, the probability of the allowed codes."""
    probs = np.diff(cumulative, axis=1, prepend=0.0)
    k = min(probs.shape[1], allowed.size)
    return np.asarray(probs[:, :k] @ allowed[:k].astype("float64"))


def _draw_allowed(
    cumulative: np.ndarray, leaf: np.ndarray, allowed: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Codes drawn from each row's leaf frequencies restricted to the allowed codes, with the mass
    those codes had in the leaf (0: none allowed; the code drawn is then meaningless)."""
    probs = np.diff(cumulative[leaf], axis=1, prepend=0.0)
    k = min(probs.shape[1], allowed.size)
    probs[:, :k] *= allowed[:k]
    probs[:, k:] = 0.0
    mass = probs.sum(axis=1)
    u = rng.random(leaf.size) * mass
    codes = np.minimum((u[:, None] >= np.cumsum(probs, axis=1)).sum(axis=1), probs.shape[1] - 1)
    return codes.astype("float64"), mass


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
    if f"{prefix}knots" in arrays:  # files before smoothing in normal scores have none
        knots = require_array(arrays, f"{prefix}knots", kind="f", shape=(None,))
        if knots.size < 2 or np.any(np.diff(knots) < 0):
            raise StateError(f"{prefix}knots", "expected at least two non-decreasing knots", array=True)
        table["knots"] = knots
    if f"{prefix}range" in arrays:
        bounds = require_array(arrays, f"{prefix}range", kind="f", shape=(4,), finite=False)
        if np.any(bounds[1:] < bounds[:-1]):  # not np.diff: infinite bounds (no protection) are fine
            raise StateError(f"{prefix}range", "expected four non-decreasing bounds", array=True)
        table["range"] = bounds
    if f"{prefix}tails" in arrays:  # files before tails have none
        if "range" not in table:
            raise StateError(f"{prefix}tails", "expected with the protected range it extends", array=True)
        table["tails"] = Tails.from_arrays(arrays, f"{prefix}tails").to_array()
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


def _knot_count(rows: int, rare_min_count: int, most: int) -> int:
    """Knots for a quantile map of ``rows`` values: one per ``rare_min_count`` rows, ``most`` at most
    (the module's docstring says why no more)."""
    return max(2, min(most, rows // max(1, rare_min_count)))


def _normal_knots(values: np.ndarray, count: int = NORMAL_KNOTS) -> np.ndarray | None:
    """Quantiles of ``values`` at evenly spaced probabilities: the map to normal scores (None: too few
    distinct values to need one)."""
    if np.unique(values).size < 3:
        return None
    return np.quantile(values, np.linspace(0.0, 1.0, min(count, values.size)))


def _to_normal(values: np.ndarray, knots: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    ranks = np.interp(values, knots, np.linspace(0.0, 1.0, knots.size))
    edge = 0.5 / knots.size
    return np.asarray(ndtri(np.clip(ranks, edge, 1.0 - edge)), dtype="float64")


def _from_normal(scores: np.ndarray, knots: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return np.interp(ndtr(scores), np.linspace(0.0, 1.0, knots.size), knots)


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
