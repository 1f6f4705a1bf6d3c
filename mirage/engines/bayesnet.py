"""``bayesnet``: a Bayesian network over the shared token domain, sampled ancestrally.

The table's sub-columns become categorical tokens (:class:`~mirage.encoding.discretise.Discretiser`:
a continuous sub-column a quantile bin and a sub-bin within it, a datetime its day, weekday and time
of day; every bin describes at least ``rare_min_count`` rows and the outermost edges leave the rare
extremes out, the rows beyond them drawn from a smooth tail).  Each token is a node with a
conditional table given its parents.

A continuous sub-column has at most ``n_bins`` bins: one exact code per value only when it has at
most ``n_bins`` values (or for a value that fills a bin by itself); a column of a few dozen values
(whole degrees, prices) gets quantile bins, the values held by enough of a bin's rows exact among its
sub-bins.  One code per value would give such a column dozens of codes, whose parents BIC cannot
afford, and no dependence between numbers would be learned (Seattle's daily maximum and minimum
temperatures: correlation 0.01 against 0.88).

``sub_bins=None`` chooses each number's resolution on held-out rows instead: the bin count of the
equal-mass histogram that gives held-out rows the highest likelihood
(:func:`~mirage.encoding.marginal.held_out_knot_count`, at most ``n_bins * 8`` bins) sets the fewest
rows every bin and sub-bin describes (recorded per column in ``state.training.bayesnet.bin_rows``).
A histogram of ``m`` rows per bin carries about ``1 / m`` of its rows' particulars: a normal salary
of 700 rows beside a category reads a DCR share of 0.548 at 10 rows per bin, 0.522 at the 37 chosen on
held-out rows (30 split seeds; the deep schema's employees, held out by region: 0.541 -> 0.525).  A
column flagged ``KEEP_RESOLUTION`` in its ``extra`` (a related table's children-per-row count, which
ranks the parents) keeps ``rare_min_count`` rows per bin.  The default in a database
(:data:`mirage.relational.DATABASE_PARAMS`), where a
table often has one or two numbers; not for one table, where the joint carries more than each margin.

Three separate steps, so that a differentially private variant (PrivBayes-style) can replace the
first two with private ones and keep the rest:

1. :func:`learn_structure`: the parents of each node.  Each token after the first of its column has
   the column's previous token as a required parent (a missing flag before its value, a bin before its
   sub-bin), so a column's tokens always agree.  The other edges are learned: by greedy hill-climbing
   (add, remove or reverse the edge that most improves the score, until none does) with the BIC or
   the K2 score and at most ``max_parents`` learned parents per node, or by a Chow-Liu tree (the
   spanning tree of largest mutual information, rooted at the first token), faster on wide tables.
   No conditional table may exceed ``MAX_CELLS`` cells.
2. :func:`count_families`: each node's counts per configuration of its parents.
3. :func:`conditional_tables`: the counts smoothed by a Dirichlet prior centred on the node's
   marginal, of total mass ``smoothing`` pseudo-rows per code the node takes (so an unseen parent
   configuration draws from the marginal; a code never seen is never drawn).

``max_dcr_share`` (off by default, as for ``cart`` and ``argn``) runs the memorisation guard
(:mod:`mirage.engines._guard`) over ``max_parents`` and ``smoothing``: the fit's own, then one learned
parent, then ``GUARD_SMOOTHING`` pseudo-rows per code, then no learned edge.

The graph is ``model.graph_`` (token and column edges, JSON), and the model file holds it as the
network's structure (``state.engine.graph``) with one probability table per node.

With a context (tag ``context``: a child table learned given its parent row), the context's
sub-columns become nodes too, discretised by a discretiser of their own (``n_bins`` bins each, no
sub-bins, every bin describing at least ``rare_min_count`` rows; a value past the outer bins counts in
the nearest, an unseen category comes encoded as the rare or most frequent one).  A context node is
never drawn, so it has no parents and no table: it may only be a parent of the table's own nodes, and
the structure search chooses which (hill-climbing counts them among the ``max_parents`` learned
parents; a Chow-Liu tree grows from the context nodes, each own node joining by its most informative
link).  Sampling given context rows is then exact ancestral sampling with the context nodes clamped
to the rows' tokens; a configuration of context tokens never seen draws from the node's smoothed
table, the node's marginal.  Conditions, scenarios, imputation and ``log_prob`` are not supported
given a context.

Conditions are drawn natively (tag ``native_conditions``) on the codes they allow: the nodes are
drawn in topological order, a conditioned node from its table restricted to the allowed codes, and
the row is kept with probability ``w / w_max`` (``w``: the product of the mass the restricted tables
had, ``w_max``: its largest value over the parent configurations), which makes the draw exact.  Evidence
on root-side nodes (no unconditioned ancestor) is kept every time.  Ranges of numbers are left to the
shared row filter.  A scenario redraws every other token given the intervened ones (the evidence), by
the same clamped draw and acceptance per row, so a column moves with the evidence whichever way the
learned edges between them run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import gammaln

from mirage._progress import report
from mirage._validate import StateError, require, require_array, require_list, require_mapping, within
from mirage.encoding import Domain, SubColumn, Token
from mirage.encoding.datetime import date_subcolumns
from mirage.encoding.discretise import Discretiser
from mirage.engines._base import EngineTags, Synthesizer
from mirage.engines._conditions import SubColumnBox, impossible
from mirage.engines._context import ContextParts
from mirage.engines._guard import PrivacyKnob
from mirage.engines._impute import impute_by_pattern
from mirage.engines._params import SEED, Param, integer, number, text
from mirage.engines._registry import register_engine
from mirage.errors import OptionError
from mirage.schema import Kind, kept_at_resolution

__all__ = ["BayesNetSynthesizer", "conditional_tables", "count_families", "learn_structure"]

STRUCTURES = ("hill_climb", "chow_liu")
SCORES = ("bic", "k2")
MAX_CELLS = 1 << 16  # cells of one node's conditional table (parent configurations x codes)
PROPOSAL_ROUNDS = 20  # batches drawn per call for conditions before giving back fewer rows
GUARD_SMOOTHING = 2.0  # pseudo-rows per code of the memorisation guard's smoother settings
SCENARIO_ROUNDS = 50  # redraws of a scenario's rows before a row keeps its last (weighted) draw
MOST_SUB_BINS = 8  # the default sub-bins per bin, and the most that sub_bins=None chooses
CONTEXT_DISCRETISER = "context_discretiser"  # the context's bins in the model file (state and arrays)


def _parents_and_smoothing(engine: BayesNetSynthesizer, rows: int) -> list[dict[str, Any]]:
    """The settings the memorisation guard tries: the fit's own, then one learned parent, then more
    smoothing, then no learned edge (each column given only its own tokens)."""
    own = {"max_parents": engine.max_parents, "smoothing": engine.smoothing}
    wide = max(engine.smoothing, GUARD_SMOOTHING)
    ladder = [own, {"max_parents": min(engine.max_parents, 1), "smoothing": engine.smoothing}]
    ladder += [
        {"max_parents": min(engine.max_parents, 1), "smoothing": wide},
        {"max_parents": 0, "smoothing": wide},
    ]
    return [dict(t) for t in dict.fromkeys(tuple(sorted(s.items())) for s in ladder)]


@register_engine
class BayesNetSynthesizer(Synthesizer):
    name = "bayesnet"
    params: ClassVar[Mapping[str, Param]] = {
        "structure": text(lambda v: v in STRUCTURES, "'hill_climb' or 'chow_liu'"),
        "score": text(lambda v: v in SCORES, "'bic' or 'k2'"),
        "max_parents": integer(0, 8),
        "smoothing": number(0, low_open=True),
        "n_bins": integer(2, 1000),
        "sub_bins": integer(
            1,
            1000,
            optional=True,
            note=f"(None: chosen per number on held-out rows, at most {MOST_SUB_BINS})",
        ),
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "seed": SEED,
    }
    privacy_knob = PrivacyKnob("parents and smoothing", _parents_and_smoothing)
    tags = EngineTags(context=True, native_conditions=True, impute=True, log_prob=True, scenario=True)

    def __init__(
        self,
        *,
        structure: str = "hill_climb",
        score: str = "bic",
        max_parents: int = 2,
        smoothing: float = 0.5,
        n_bins: int = 10,
        sub_bins: int | None = MOST_SUB_BINS,
        max_dcr_share: float | None = None,
        seed: int = 0,
    ) -> None:
        self.structure = structure
        self.score = score
        self.max_parents = max_parents
        self.smoothing = smoothing
        self.n_bins = n_bins
        self.sub_bins = sub_bins
        self.max_dcr_share = max_dcr_share
        self.seed = seed

    # --- learning -----------------------------------------------------------------------------
    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        self._learn_network(parts, subcolumns, None, rng)

    def _fit_given(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts,
        rng: np.random.Generator,
    ) -> None:
        self._learn_network(parts, subcolumns, context, rng)

    def _learn_network(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts | None,
        rng: np.random.Generator,
    ) -> None:
        self.subcolumns_ = subcolumns
        dates = date_subcolumns(subcolumns, {c.name for c in self.schema_ if c.kind is Kind.DATETIME})
        k = self.encoding_.rare_min_count
        self.discretiser_ = Discretiser(
            n_bins=self.n_bins,
            sub_bins=self.sub_bins or MOST_SUB_BINS,
            min_count=k,
            max_exact=self.n_bins,
            protect=k,
            tails=True,
            held_out_seed=None if self.sub_bins else int(rng.integers(2**31 - 1)),
            finest=kept_at_resolution(self.schema_),
        ).fit(parts, subcolumns, dates=dates)
        if self.sub_bins is None:
            self.training_["bayesnet"] = {"bin_rows": dict(self.discretiser_.piece_rows)}
        domain = self.discretiser_.domain
        tokens = self.discretiser_.encode(parts)
        self.context_discretiser_: Discretiser | None = None
        if context is not None:
            given = list(context.subcolumns)
            schema = self.context_schema_ or ()
            context_dates = date_subcolumns(given, {c.name for c in schema if c.kind is Kind.DATETIME})
            self.context_discretiser_ = Discretiser(
                n_bins=self.n_bins, sub_bins=1, min_count=k, protect=k
            ).fit(context.parts, given, dates=context_dates)
            tokens = np.hstack([tokens, self.context_discretiser_.encode(context.parts)])
        cards = self._cardinalities()
        parents = learn_structure(
            tokens,
            cards,
            required_parents(domain),
            method=self.structure,
            score=self.score,
            max_parents=int(self._knob_setting("max_parents")),
        )
        report("structure", 1, 1)
        self.parents_ = parents
        smoothing = float(self._knob_setting("smoothing"))
        self.tables_ = conditional_tables(count_families(tokens, cards, parents), smoothing)
        self._prepare()
        report("fit", 1, 1)

    def _context_tokens(self) -> tuple[Token, ...]:
        """The context's nodes, after the table's own (none without a context)."""
        return () if self.context_discretiser_ is None else tuple(self.context_discretiser_.domain)

    def _cardinalities(self) -> np.ndarray:
        """The number of codes of every node: the table's own, then the context's."""
        nodes = (*self.discretiser_.domain, *self._context_tokens())
        return np.array([t.cardinality for t in nodes], dtype="int64")

    def _prepare(self) -> None:
        """Derived state: the topological order, each node's cumulative tables and parent strides."""
        cards = self._cardinalities()
        d = len(self.parents_)
        self.order_ = topological_order([tuple(p for p in ps if p < d) for ps in self.parents_])
        self.cumulative_ = [np.cumsum(t, axis=1) for t in self.tables_]
        self.strides_ = [_strides(cards[list(p)]) for p in self.parents_]

    @property
    def graph_(self) -> dict[str, Any]:
        """The network as JSON: ``nodes`` (tokens: name, column, cardinality; a context's marked
        ``"context": true``), ``edges`` (parent token, child token) and ``column_edges`` (parent
        column, child column; a column's own tokens left out)."""
        self._require_fitted()
        own, given = tuple(self.discretiser_.domain), self._context_tokens()
        tokens = (*own, *given)
        edges = [[tokens[p].name, tokens[j].name] for j, ps in enumerate(self.parents_) for p in ps]
        columns: dict[tuple[str, str], None] = {}
        for j, ps in enumerate(self.parents_):
            for p in ps:
                if tokens[p].column != tokens[j].column:
                    columns[(tokens[p].column, tokens[j].column)] = None
        nodes: list[dict[str, Any]] = [
            {"name": t.name, "column": t.column, "cardinality": t.cardinality} for t in own
        ]
        nodes += [
            {"name": t.name, "column": t.column, "cardinality": t.cardinality, "context": True} for t in given
        ]
        return {"nodes": nodes, "edges": edges, "column_edges": [list(e) for e in columns]}

    # --- sampling -----------------------------------------------------------------------------
    def _draw(
        self,
        n: int,
        rng: np.random.Generator,
        tokens: np.ndarray | None = None,
        only: Sequence[int] | None = None,
        masks: Mapping[int, np.ndarray] | None = None,
        evidence: Sequence[int] = (),
        given: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Token rows drawn in topological order (``only``: just these nodes, the others kept from
        ``tokens``), conditioned nodes (``masks``) restricted to their allowed codes; with the product
        of the restricted mass per row, times the probability of each kept ``evidence`` node's token
        given its parents.  ``given``: the rows' context tokens, the context nodes clamped to them."""
        d = len(self.parents_)
        out = np.zeros((n, d), dtype="int64") if tokens is None else tokens.copy()
        if given is not None:
            out = np.hstack([out, given.astype("int64")])
        weight = np.ones(n)
        wanted = set(range(d)) if only is None else set(only)
        weighed = set(evidence)
        for j in self.order_:
            if j not in wanted and j not in weighed:
                continue
            config = (
                out[:, list(self.parents_[j])] @ self.strides_[j]
                if self.parents_[j]
                else np.zeros(n, "int64")
            )
            if j not in wanted:
                weight *= self.tables_[j][config, out[:, j]]
                continue
            cumulative = self.cumulative_[j][config]
            u = rng.random(n)
            if masks is not None and j in masks:
                probs = np.diff(cumulative, axis=1, prepend=0.0) * masks[j]
                mass = probs.sum(axis=1)
                weight *= mass
                cumulative = np.cumsum(probs, axis=1)
                u = u * mass
            out[:, j] = np.minimum((cumulative <= u[:, None]).sum(axis=1), cumulative.shape[1] - 1)
        return out[:, :d], weight

    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        tokens, _ = self._draw(n, rng)
        return self.discretiser_.decode(tokens, rng)

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        if self.context_discretiser_ is None:
            raise OptionError("this model was fitted without a context; it cannot sample given one")
        tokens, _ = self._draw(context.n, rng, given=self.context_discretiser_.encode(context.parts))
        return self.discretiser_.decode(tokens, rng)

    def _sample_matching(self, n: int, rng: np.random.Generator, accept: Any) -> dict[str, np.ndarray]:
        box: SubColumnBox | None = getattr(accept, "box", None)
        masks = self._masks(box) if box else {}
        if not masks:
            return self._sample(n, rng)
        ceiling = 1.0
        for j, mask in masks.items():
            best = float(np.max(self.tables_[j] @ mask))
            if best <= 0.0:
                token = self.discretiser_.domain[j]
                raise impossible(token.column, "has no probability for the values the conditions allow")
            ceiling *= best
        kept: list[np.ndarray] = []
        for _ in range(PROPOSAL_ROUNDS):
            tokens, weight = self._draw(n, rng, masks=masks)
            kept.append(tokens[rng.random(n) * ceiling < weight])
            if sum(len(k) for k in kept) >= n:
                break
        tokens = np.concatenate(kept)[:n]
        return self.discretiser_.decode(tokens, rng)

    def _masks(self, box: SubColumnBox) -> dict[int, np.ndarray]:
        """The allowed codes of each conditioned code token (ranges are left to the row filter)."""
        masks = {}
        for j, token in enumerate(self.discretiser_.domain):
            if token.role == "code" and token.subcolumn in box.codes:
                allowed = np.asarray(box.codes[token.subcolumn], dtype=bool)
                mask = np.zeros(token.cardinality)
                mask[: min(allowed.size, token.cardinality)] = allowed[: token.cardinality]
                masks[j] = mask
        return masks

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Every other token redrawn from the network given the intervened ones (the evidence), exactly:
        each row is drawn ancestrally with its evidence clamped and kept with probability ``w / w_max``
        (``w``: the evidence's probability given its drawn parents, ``w_max``: its largest value over
        the parents not clamped), so a column moves with the evidence whichever way its edges run and
        a column independent of it keeps its distribution."""
        domain = self.discretiser_.domain
        evidence = [j for j, t in enumerate(domain) if t.subcolumn in fixed]
        others = [j for j in range(len(domain)) if j not in set(evidence)]
        if not evidence or not others:
            return parts
        given = self.discretiser_.encode(parts)
        n = len(given)
        ceiling = np.ones(n)
        for j in evidence:
            ceiling *= self._evidence_ceiling(j, given, set(evidence))
        tokens = given.copy()
        pending = np.arange(n)
        for _ in range(SCENARIO_ROUNDS):
            drawn, weight = self._draw(
                len(pending), rng, tokens=given[pending], only=others, evidence=evidence
            )
            keep = rng.random(len(pending)) * ceiling[pending] < weight
            tokens[pending] = drawn  # a row never kept keeps its last draw (weighted, not exact)
            pending = pending[~keep]
            if not pending.size:
                break
        decoded = self.discretiser_.decode(tokens, rng)
        out = dict(parts)
        for j in others:
            out[domain[j].subcolumn] = decoded[domain[j].subcolumn]
        return out

    def _impute_parts(
        self, parts: dict[str, np.ndarray], known: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The missing sub-columns drawn from the network given each row's known ones, one exact
        clamped draw per pattern of known sub-columns (as a scenario's, with the known tokens as the
        evidence)."""
        return impute_by_pattern(
            self.subcolumns_,
            parts,
            known,
            lambda given, fixed: (
                self._propagate(given, fixed, rng)
                if fixed
                else self._sample(len(next(iter(given.values()))), rng)
            ),
        )

    def log_prob(self, data: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Per-row log-probability of the rows' tokens under the network (nats): the sum over nodes of
        the log of the node's table at its token given its parents' tokens, exact.

        ``data`` is a DataFrame (encoded with the fitted encoder) or already encoded sub-columns.  A
        continuous value counts through its bin and sub-bin, so this is the log-probability of the
        discretised row, comparable across rows and models with the same discretisation.  On a model
        with rules, that of the row rewritten as the engine learned it.
        """
        self._require_fitted()
        if self.context_schema_ is not None:
            raise OptionError("log_prob of a model fitted with a context is not supported yet")
        if isinstance(data, pd.DataFrame) and self.rules_ is not None:
            data = self.rules_.engine_frame(data)  # the row as the engine learned it (see mirage.control)
        parts = self.encoder_.encode(data) if isinstance(data, pd.DataFrame) else data
        tokens = self.discretiser_.encode(parts)
        n = tokens.shape[0]
        out = np.zeros(n)
        for j, table in enumerate(self.tables_):
            ps = list(self.parents_[j])
            config = tokens[:, ps] @ self.strides_[j] if ps else np.zeros(n, "int64")
            out += np.log(np.maximum(table[config, tokens[:, j]], 1e-300))
        return out

    def _evidence_ceiling(self, j: int, given: np.ndarray, evidence: set[int]) -> np.ndarray:
        """Per row, the largest probability of evidence token ``j``'s value over its parents that are not
        evidence (those that are take the row's values)."""
        cards = [self.discretiser_.domain[p].cardinality for p in self.parents_[j]]
        table = self.tables_[j].reshape(*cards, -1)
        free = tuple(i for i, p in enumerate(self.parents_[j]) if p not in evidence)
        best = table.max(axis=free) if free else table
        index = tuple(given[:, p] for p in self.parents_[j] if p in evidence)
        return np.asarray(best[(*index, given[:, j])], dtype="float64")

    # --- persistence ------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        disc_state, disc_arrays = self.discretiser_.get_state()
        graph = self.graph_
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "discretiser": disc_state,
            "graph": {"edges": graph["edges"], "column_edges": graph["column_edges"]},
        }
        arrays = {f"discretiser.{k}": v for k, v in disc_arrays.items()}
        arrays.update({f"table.{j}": t for j, t in enumerate(self.tables_)})
        if self.context_discretiser_ is not None:
            context_state, context_arrays = self.context_discretiser_.get_state()
            state["context_discretiser"] = context_state
            arrays.update({f"{CONTEXT_DISCRETISER}.{k}": v for k, v in context_arrays.items()})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        prefix = "discretiser."
        own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        with within("discretiser", prefix):
            discretiser = Discretiser.from_state(require_mapping(require(state, "discretiser")), own)
        if discretiser.subcolumns != subcolumns:
            raise StateError("discretiser.subcolumns", "differ from state.engine.subcolumns")
        self._require_recorded("n_bins", discretiser.n_bins, "state.engine.discretiser.n_bins")
        self._require_recorded("sub_bins", discretiser.sub_bins, "state.engine.discretiser.sub_bins")
        context_discretiser = self._restore_context_discretiser(state, arrays)
        domain = discretiser.domain
        nodes = (*domain, *(() if context_discretiser is None else context_discretiser.domain))
        with within("graph"):
            parents = _parents_from_edges(
                require_list(require_mapping(require(state, "graph")), "edges"), nodes, len(domain)
            )
        tables = []
        for j, token in enumerate(domain):
            q = math.prod(nodes[p].cardinality for p in parents[j])
            table = require_array(arrays, f"table.{j}", kind="f", shape=(q, token.cardinality))
            if np.any(table < 0) or not np.allclose(table.sum(axis=1), 1.0, atol=1e-6):
                raise StateError(f"table.{j}", "expected rows of probabilities summing to 1", array=True)
            tables.append(table)
        self.subcolumns_, self.discretiser_ = subcolumns, discretiser
        self.context_discretiser_ = context_discretiser
        self.parents_, self.tables_ = parents, tables
        self._prepare()

    def _restore_context_discretiser(
        self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> Discretiser | None:
        """The saved context discretiser, which a model fitted with a context has (and only such a
        model), over the context encoder's sub-columns."""
        given = [] if self.context_encoder_ is None else list(self.context_encoder_.subcolumns)
        if CONTEXT_DISCRETISER not in state:
            if given:
                raise StateError(CONTEXT_DISCRETISER, "missing: the model was fitted with a context")
            return None
        if not given:
            raise StateError(CONTEXT_DISCRETISER, "a model fitted without a context (state.context) has none")
        prefix = f"{CONTEXT_DISCRETISER}."
        own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        with within(CONTEXT_DISCRETISER, prefix):
            discretiser = Discretiser.from_state(require_mapping(require(state, CONTEXT_DISCRETISER)), own)
        if discretiser.subcolumns != given:
            raise StateError(
                f"{CONTEXT_DISCRETISER}.subcolumns", "differ from the context encoder's sub-columns"
            )
        return discretiser


# --- the three steps ------------------------------------------------------------------------------
def required_parents(domain: Domain) -> list[int | None]:
    """Per token, the previous token of its column (None for a column's first)."""
    last: dict[str, int] = {}
    out: list[int | None] = []
    for j, token in enumerate(domain):
        out.append(last.get(token.column))
        last[token.column] = j
    return out


def learn_structure(
    tokens: np.ndarray,
    cards: np.ndarray,
    required: Sequence[int | None],
    *,
    method: str = "hill_climb",
    score: str = "bic",
    max_parents: int = 2,
) -> list[tuple[int, ...]]:
    """The parents of each node (sorted), learned from the token matrix; every ``required`` parent is
    an edge (in either direction when a Chow-Liu tree already orders the pair).

    The nodes are the first ``len(required)`` columns of ``tokens``; the columns after them are context
    nodes, which are never drawn: they may be parents of nodes but have none themselves."""
    d, total = len(required), tokens.shape[1]
    if method == "chow_liu":
        return _chow_liu(tokens, cards, required)
    family = _FamilyScores(tokens, cards, score)
    parents: list[set[int]] = [set() if r is None else {r} for r in required]
    parents += [set() for _ in range(d, total)]
    current = [family(j, frozenset(parents[j])) for j in range(d)]

    def learned(j: int) -> int:
        return len(parents[j]) - (required[j] is not None)

    def fits(j: int, ps: set[int]) -> bool:
        return int(cards[j]) * math.prod(int(cards[p]) for p in ps) <= MAX_CELLS

    for _ in range(4 * d * max(1, max_parents) + d):
        ancestors = _ancestors(parents)
        best_gain, best_op = 1e-9, None
        for v in range(d):
            for u in range(total):
                if u == v:
                    continue
                if u in parents[v]:
                    if u == required[v]:
                        continue
                    loss = family(v, frozenset(parents[v] - {u})) - current[v]
                    if loss > best_gain:
                        best_gain, best_op = loss, ("remove", u, v)
                    if u >= d:  # a context node takes no parents: its edge is never reversed
                        continue
                    other_path = any(u == p or u in ancestors[p] for p in parents[v] if p != u)
                    if learned(u) < max_parents and not other_path and fits(u, parents[u] | {v}):
                        gain = loss + family(u, frozenset(parents[u] | {v})) - current[u]
                        if gain > best_gain:
                            best_gain, best_op = gain, ("reverse", u, v)
                elif learned(v) < max_parents and v not in ancestors[u] and fits(v, parents[v] | {u}):
                    gain = family(v, frozenset(parents[v] | {u})) - current[v]
                    if gain > best_gain:
                        best_gain, best_op = gain, ("add", u, v)
        if best_op is None:
            break
        op, u, v = best_op
        if op == "add":
            parents[v].add(u)
        else:
            parents[v].discard(u)
            if op == "reverse":
                parents[u].add(v)
                current[u] = family(u, frozenset(parents[u]))
        current[v] = family(v, frozenset(parents[v]))
    return [tuple(sorted(p)) for p in parents[:d]]


def count_families(
    tokens: np.ndarray, cards: np.ndarray, parents: Sequence[tuple[int, ...]]
) -> list[np.ndarray]:
    """Per node (one per entry of ``parents``, the first columns of ``tokens``; any after them are
    context nodes), its counts: an ``(parent configurations, codes)`` array (last parent fastest)."""
    out = []
    n = tokens.shape[0]
    for j, ps in enumerate(parents):
        r = int(cards[j])
        q = math.prod(int(cards[p]) for p in ps)
        config = tokens[:, list(ps)] @ _strides(cards[list(ps)]) if ps else np.zeros(n, dtype="int64")
        out.append(np.bincount(config * r + tokens[:, j], minlength=q * r).reshape(q, r).astype("float64"))
    return out


def conditional_tables(counts: Sequence[np.ndarray], smoothing: float) -> list[np.ndarray]:
    """Per node, ``P(code | parent configuration)``: counts plus a Dirichlet prior of ``smoothing``
    pseudo-rows per code the node takes, spread as the node's marginal (zero on codes never seen)."""
    out = []
    for c in counts:
        marginal = c.sum(axis=0)
        total = marginal.sum()
        prior = marginal / total if total > 0 else np.full(c.shape[1], 1.0 / c.shape[1])
        support = max(1, int(np.count_nonzero(prior)))
        smoothed = c + smoothing * support * prior
        out.append(smoothed / smoothed.sum(axis=1, keepdims=True))
    return out


# --- graph helpers --------------------------------------------------------------------------------
class _FamilyScores:
    """The BIC or K2 score of a node given a set of parents, cached."""

    def __init__(self, tokens: np.ndarray, cards: np.ndarray, score: str) -> None:
        self.tokens, self.cards, self.score = tokens, cards, score
        self.log_n = math.log(max(tokens.shape[0], 2))
        self.cache: dict[tuple[int, frozenset[int]], float] = {}

    def __call__(self, j: int, parents: frozenset[int]) -> float:
        key = (j, parents)
        if key not in self.cache:
            self.cache[key] = self._score(j, tuple(sorted(parents)))
        return self.cache[key]

    def _score(self, j: int, parents: tuple[int, ...]) -> float:
        n = self.tokens.shape[0]
        r = int(self.cards[j])
        q = math.prod(int(self.cards[p]) for p in parents)
        config = (
            self.tokens[:, list(parents)] @ _strides(self.cards[list(parents)])
            if parents
            else np.zeros(n, "int64")
        )
        counts = np.bincount(config * r + self.tokens[:, j], minlength=q * r).reshape(q, r)
        totals = counts.sum(axis=1)
        if self.score == "k2":
            seen = totals > 0
            return float(np.sum(gammaln(r) - gammaln(totals[seen] + r)) + np.sum(gammaln(counts[seen] + 1.0)))
        nonzero = counts > 0
        rows = np.broadcast_to(totals[:, None], counts.shape)[nonzero]
        likelihood = float(np.sum(counts[nonzero] * np.log(counts[nonzero] / rows)))
        return likelihood - 0.5 * self.log_n * q * (r - 1)


def _strides(cards: np.ndarray) -> np.ndarray:
    """Mixed-radix strides of parent codes (the last parent varies fastest)."""
    out = np.ones(len(cards), dtype="int64")
    for i in range(len(cards) - 2, -1, -1):
        out[i] = out[i + 1] * int(cards[i + 1])
    return out


def _ancestors(parents: Sequence[set[int] | tuple[int, ...]]) -> list[set[int]]:
    out: list[set[int]] = []
    for j in range(len(parents)):
        seen: set[int] = set()
        stack = list(parents[j])
        while stack:
            p = stack.pop()
            if p not in seen:
                seen.add(p)
                stack.extend(parents[p])
        out.append(seen)
    return out


def descendants(parents: Sequence[tuple[int, ...]], sources: set[int]) -> set[int]:
    """``sources`` and every node reachable from them."""
    children: list[list[int]] = [[] for _ in parents]
    for j, ps in enumerate(parents):
        for p in ps:
            children[p].append(j)
    seen, stack = set(sources), list(sources)
    while stack:
        for c in children[stack.pop()]:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def topological_order(parents: Sequence[tuple[int, ...]]) -> list[int]:
    """The nodes, each after its parents (``ValueError`` on a cycle)."""
    remaining = {j: set(ps) for j, ps in enumerate(parents)}
    order: list[int] = []
    while remaining:
        ready = sorted(j for j, ps in remaining.items() if not ps)
        if not ready:
            raise ValueError("the graph has a cycle")
        order.extend(ready)
        for j in ready:
            del remaining[j]
        for ps in remaining.values():
            ps.difference_update(ready)
    return order


def _chow_liu(tokens: np.ndarray, cards: np.ndarray, required: Sequence[int | None]) -> list[tuple[int, ...]]:
    """The maximum mutual-information spanning tree, plus the required edges: rooted at node 0, or
    with context nodes (the columns of ``tokens`` after the ``len(required)`` nodes), grown from them
    (each node joins by its most informative link, to a node or to the context)."""
    n, total = tokens.shape
    d = len(required)
    information = np.zeros((total, total))
    marginals = [np.bincount(tokens[:, j], minlength=int(cards[j])) / n for j in range(total)]
    for a in range(d):
        for b in range(a + 1, total):
            rb = int(cards[b])
            joint = np.bincount(tokens[:, a] * rb + tokens[:, b], minlength=int(cards[a]) * rb)
            joint = joint.reshape(int(cards[a]), rb) / n
            outer = np.outer(marginals[a], marginals[b])
            nonzero = joint > 0
            information[a, b] = information[b, a] = float(
                np.sum(joint[nonzero] * np.log(joint[nonzero] / outer[nonzero]))
            )
    parents: list[set[int]] = [set() for _ in range(total)]
    if d:
        in_tree = np.zeros(total, dtype=bool)
        if total > d:
            in_tree[d:] = True
            best = information[d:].max(axis=0)
            link = d + information[d:].argmax(axis=0)
        else:
            in_tree[0] = True
            best = information[0].copy()
            link = np.zeros(total, dtype="int64")
        for _ in range(d - int(total == d)):
            candidates = np.where(in_tree, -np.inf, best)
            j = int(np.argmax(candidates))
            parents[j].add(int(link[j]))
            in_tree[j] = True
            closer = information[j] > best
            best = np.where(closer, information[j], best)
            link = np.where(closer, j, link)
    for j, r in enumerate(required):
        if r is None or r in parents[j] or j in parents[r]:
            continue
        if j in _ancestors(parents)[r]:  # r -> j would close a cycle: the pair is linked the other way
            parents[r].add(j)
        else:
            parents[j].add(r)
    return [tuple(sorted(p)) for p in parents[:d]]


def _parents_from_edges(edges: list[Any], nodes: Sequence[Token], d: int) -> list[tuple[int, ...]]:
    """The parents of each of the first ``d`` tokens (the others: context nodes, which have none) from
    the saved ``[parent, child]`` token-name pairs, checked."""
    names = {t.name: j for j, t in enumerate(nodes)}
    if len(names) != len(nodes):
        raise StateError("", "two tokens of the table and its context share a name")
    parents: list[set[int]] = [set() for _ in range(d)]
    for i, edge in enumerate(edges):
        if not (
            isinstance(edge, list) and len(edge) == 2 and all(isinstance(e, str) and e in names for e in edge)
        ):
            raise StateError(
                f"edges.{i}", f"expected [parent token, child token] of this model, got {edge!r}"
            )
        p, c = names[edge[0]], names[edge[1]]
        if p == c:
            raise StateError(f"edges.{i}", f"a token cannot be its own parent ({edge[0]!r})")
        if c >= d:
            raise StateError(f"edges.{i}", f"context token {edge[1]!r} cannot have a parent")
        parents[c].add(p)
    out = [tuple(sorted(p)) for p in parents]
    try:
        topological_order([tuple(p for p in ps if p < d) for ps in out])
    except ValueError:
        raise StateError("edges", "the graph has a cycle") from None
    return out
