"""The ``dp`` engine: differentially private synthetic data by select-measure-generate.

``fit`` spends the user's (epsilon, delta) and nothing more: a share (``PREPROCESS_SHARE``, more at a
small budget: :func:`domain_share`) on the columns' domains that the schema does not declare
(:mod:`._domains`), the rest on noisy marginals of
the token matrix (:mod:`._tree`, or :mod:`._adaptive` with ``selection="aim"``; continuous columns on
the fine grids of :mod:`._bins`).  Every charge
is on the model's ledger (``model.ledger_``), saved in the model file and shown by ``mirage budget``.
The noise comes from OpenDP's secure sampler; ``seed`` fixes only the sampling from the fitted model
(two fits of the same data differ, by design).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from mirage._validate import StateError, require_array, require_list, require_mapping, within
from mirage.encoding import EncodingOptions, SubColumn, TableEncoder
from mirage.engines._base import Synthesizer
from mirage.engines._params import SEED, Param, integer, number, text
from mirage.engines._registry import register_engine
from mirage.engines._tags import EngineTags
from mirage.engines.dp._adaptive import fit_adaptive
from mirage.engines.dp._bins import FINE_BUCKETS, FineGrid, fine_buckets, fine_grid
from mirage.engines.dp._domains import (
    paid_columns,
    private_encoder,
    public_frame,
    release_cut_rows,
    restrict,
)
from mirage.engines.dp._network import NetworkModel
from mirage.engines.dp._tree import TreeModel, fit_tree, one_way_sigma
from mirage.errors import OptionError
from mirage.privacy import GaussianMechanism, Ledger
from mirage.schema import Kind, Schema, infer_schema

__all__ = ["DPSynthesizer"]

PREPROCESS_SHARE = 0.5  # of rho, spent on the domains the schema does not declare (at least)
# more, up to this share, when half leaves a class of SMALLEST_CLASS of the noisy rows under the cut
PREPROCESS_MAX_SHARE = 0.8
SMALLEST_CLASS = 0.1
ROW_COUNT_SHARE = 0.02  # of the marginals' rho, spent on the number of rows that sizes the fine grids
ADAPTIVE_GRIDS = True  # fine grids sized to the noise (False: FINE_BUCKETS buckets always)
SELECTIONS = ("tree", "aim")


@register_engine
class DPSynthesizer(Synthesizer):
    """Marginal-based differentially private engine (rho-zCDP Gaussian mechanism, MST-style tree model).

    ``epsilon``, ``delta``: the privacy budget of the whole fit.  ``bins``: about how many coarse bins
    the model pairs a continuous sub-column's fine grid into (cut at its noisy 1-way's quantiles).
    ``max_cells``: the largest marginal measured.  ``selection``: which marginals are measured and how
    the model is estimated from them: ``"tree"`` (MST: a tree of 2-ways, estimated in closed form) or
    ``"aim"`` (AIM: 2- and 3-ways picked one round at a time where the model is worst, estimated as a
    graphical model by mirror descent; slower).  ``seed``: the sampling after fitting (never the noise).
    """

    name = "dp"
    params: ClassVar[Mapping[str, Param]] = {
        "epsilon": number(0, low_open=True),
        "delta": number(0, 1, low_open=True, high_open=True),
        "bins": integer(2, 256),
        "max_cells": integer(4),
        "selection": text(lambda v: v in SELECTIONS, "'tree' or 'aim'"),
        "seed": SEED,
    }
    tags = EngineTags(differential_privacy=True, scenario=True)

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        bins: int = 16,
        max_cells: int = 10_000,
        selection: str = "tree",
        seed: int = 0,
    ) -> None:
        self.epsilon = epsilon
        self.delta = delta
        self.bins = bins
        self.max_cells = max_cells
        self.selection = selection
        self.seed = seed

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, schema: Schema | None = None, **options: Any) -> DPSynthesizer:
        """As ``Synthesizer.fit``; a schema inferred here keeps no value read from the data (bounds,
        categories, decimals): those come from the budget."""
        if schema is None:
            schema = inferred_public_schema(data)
        super().fit(data, schema, **options)
        return self

    def _learn(
        self,
        data: pd.DataFrame,
        schema: Schema,
        context: pd.DataFrame | None = None,
        context_schema: Schema | None = None,
        options: EncodingOptions | None = None,
    ) -> None:
        self._forget()
        if schema.rules:
            raise OptionError("the dp engine cannot learn business rules yet: fit without the schema's rules")
        options = options or EncodingOptions(locale=schema.locale)
        ledger = Ledger(float(self.epsilon), float(self.delta))
        rho = ledger.rho_budget
        self.ledger_ = ledger
        self.noisy_rows_ = self._count_rows(len(data), schema, rho)
        share = domain_share(schema, rho, self.delta / 2, self.noisy_rows_)
        private = private_encoder(
            data, schema, options, ledger, rho * share, self.delta / 2,
            rows=self.noisy_rows_,
        )  # fmt: skip
        encoder = private.encoder
        public = public_frame(encoder, data)
        self.schema_ = public_formats(schema)
        self.rules_ = None
        self.encoder_ = encoder
        self.context_schema_: Schema | None = None
        self.context_encoder_: TableEncoder | None = None
        self.training_: dict[str, Any] = {}
        self.ledger_ = ledger
        self.measured_columns_ = list(private.measured)
        self.subcolumns_ = list(encoder.subcolumns)
        self.ranges_ = _ranges(encoder.encode(public), self.subcolumns_)
        self._fit(encoder.encode(restrict(data, encoder)), self.subcolumns_, np.random.default_rng(0))
        self._publish_counts()

    def _publish_counts(self) -> None:
        """The category counts the codecs keep (read by rebalancing and fairness) made the model's own
        estimates: the public frame's counts say nothing of the data."""
        marginals = self.model_.marginals()
        index = {s.name: j for j, s in enumerate(self._modelled())}
        for codec in self.encoder_.codecs:
            counts = getattr(codec, "counts", None)
            j = index.get(f"{codec.column.name}::code")
            if counts is None or j is None:
                continue
            shares = marginals[j][: len(counts)]
            codec.counts = [round(float(s) * self.n_training_rows_) for s in shares]  # type: ignore[attr-defined]

    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        """Measure and estimate the model from the encoded rows; ``rng`` is unused (the noise is OpenDP's)."""
        self.fine_buckets_ = self._measure_fine_buckets(len(next(iter(parts.values()), [])))
        self.grids_ = self._grids()
        fine = self._tokens(parts)
        fit = fit_adaptive if self.selection == "aim" else fit_tree
        self.model_: TreeModel | NetworkModel = fit(
            fine,
            self._fine_cardinalities(),
            [not s.discrete for s in self._modelled()],
            self.ledger_,
            self.ledger_.rho_left,
            int(self.max_cells),
            int(self.bins),
            [s.name for s in self._modelled()],
            [None if s.discrete else self.grids_[s.name].spikes for s in self._modelled()],
        )
        # the row count is not released exactly: the total of a noisy marginal stands for it
        self.n_training_rows_ = max(1, round(self.model_.rows))

    def _count_rows(self, rows: int, schema: Schema, rho: float) -> float | None:
        """A noisy count of the rows (charged), measured before anything else where a number or a
        datetime is learned: it picks each private range's grid and sizes the fine grids.  Its share is
        ``ROW_COUNT_SHARE`` of the marginals' part of the budget."""
        if not any(c.kind.learned and c.kind in (Kind.NUMERIC, Kind.DATETIME) for c in schema):
            return None
        count = GaussianMechanism(rho=rho * (1.0 - PREPROCESS_SHARE) * ROW_COUNT_SHARE)
        return float(count(np.array([rows]), ledger=self.ledger_, what="number of rows")[0])

    def _measure_fine_buckets(self, rows: int) -> dict[str, int]:
        """Each continuous sub-column's number of fine buckets: from the noisy count of the rows and the
        noise its 1-way will get, so that a bucket holds more rows than noise on average."""
        continuous = [s.name for s in self._modelled() if not s.discrete]
        if not continuous or not ADAPTIVE_GRIDS:
            return {}
        noisy = self.noisy_rows_
        if noisy is None:  # not counted before the domains (a continuous sub-column of another kind)
            count = GaussianMechanism(rho=self.ledger_.rho_left * ROW_COUNT_SHARE)
            noisy = float(count(np.array([rows]), ledger=self.ledger_, what="number of rows")[0])
        buckets = fine_buckets(noisy, one_way_sigma(self.ledger_.rho_left, len(self._modelled())))
        return dict.fromkeys(continuous, buckets)

    def _grids(self) -> dict[str, FineGrid]:
        """Each continuous sub-column's fine grid, made from its public range and bucket count only."""
        out = {}
        for s in self._modelled():
            if not s.discrete:
                low, high = self.ranges_[s.name]
                column = self.schema_[s.column] if s.column in self.schema_.names else None
                integer = bool(column is not None and column.integer)
                out[s.name] = fine_grid(low, high, integer, self.fine_buckets_.get(s.name, FINE_BUCKETS))
        return out

    def _fine_cardinalities(self) -> list[int]:
        return [s.cardinality if s.discrete else self.grids_[s.name].size for s in self._modelled()]

    def _modelled(self) -> list[SubColumn]:
        """The sub-columns the model measures: a generated column's (a key's missing flag) never is."""
        learned = {c.name for c in self.schema_ if c.kind.learned}
        return [s for s in self.subcolumns_ if s.column in learned]

    def _tokens(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        """The fine codes of the encoded rows (a continuous value's bucket on its fine grid)."""
        columns = []
        for s in self._modelled():
            values = np.asarray(parts[s.name])
            if s.discrete:
                columns.append(np.clip(values.astype(np.int64), 0, s.cardinality - 1))
            else:
                columns.append(self.grids_[s.name].index(values))
        return np.stack(columns, axis=1) if columns else np.zeros((0, 0), dtype=np.int64)

    # --- sampling -----------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._parts(self.model_.sample(n, rng), rng)

    def _parts(self, codes: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The model's coarse codes to encoded parts (a fine bucket drawn within each coarse bin)."""
        fine = self.model_.refine(codes, rng)
        out: dict[str, np.ndarray] = {
            s.name: np.zeros(codes.shape[0], dtype=np.int64 if s.discrete else "float64")
            for s in self.subcolumns_
        }
        for j, s in enumerate(self._modelled()):
            if s.discrete:
                out[s.name] = fine[:, j].astype(np.int64)
            else:
                out[s.name] = self.grids_[s.name].draw(fine[:, j], rng)
        return out

    def _codes(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.model_.coarse(self._tokens(parts))

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The attributes below the intervened ones in the tree redrawn given them."""
        codes = self._codes(parts)
        roots = {j for j, s in enumerate(self._modelled()) if s.name in fixed}
        rows = np.ones(codes.shape[0], dtype=bool)
        for a in self.model_.descendants(roots):
            self.model_.draw(codes, a, rng, rows)
        redrawn = self._parts(codes, rng)
        return {s.name: parts[s.name] if s.name in fixed else redrawn[s.name] for s in self.subcolumns_}

    # --- persistence --------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "ranges": {name: list(bounds) for name, bounds in self.ranges_.items()},
            "fine_buckets": dict(self.fine_buckets_),
            "model": "network" if isinstance(self.model_, NetworkModel) else "tree",
            "order": self.model_.order,
            "parents": self.model_.parents,
            "measured_columns": self.measured_columns_,
            "ledger": self.ledger_.to_dict(),
        }
        arrays = {f"table.{a}": t for a, t in enumerate(self.model_.tables)}
        for a in range(len(self.model_.tables)):
            arrays[f"coarse.{a}"] = self.model_.to_coarse[a]
            arrays[f"within.{a}"] = self.model_.within[a]
        if isinstance(self.model_, NetworkModel):
            arrays.update({f"marginal.{a}": m for a, m in enumerate(self.model_.one_ways)})
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        self.subcolumns_ = subcolumns
        d = len(self._modelled())
        network = state.get("model", "tree") == "network"
        order = [int(a) for a in require_list(state, "order", length=d)]
        if sorted(order) != list(range(d)):
            raise StateError("order", "is not an order of the sub-columns")
        if network:
            parent_sets = [[int(p) for p in ps] for ps in require_list(state, "parents", length=d)]
            placed = {a: i for i, a in enumerate(order)}
            if any(not 0 <= p < d or placed[p] >= placed[a] for a in range(d) for p in parent_sets[a]):
                raise StateError("parents", "do not come before their children in the order")
            parents: list[int] = []
        else:
            parents = [int(p) for p in require_list(state, "parents", length=d)]
            if any(not -1 <= p < d for p in parents):
                raise StateError("order", "is not a tree over the sub-columns")
        ranges = {
            name: (float(b[0]), float(b[1])) for name, b in require_mapping(state.get("ranges", {})).items()
        }
        with within("ledger"):
            ledger = Ledger.from_dict(require_mapping(state.get("ledger", {})))
        self.subcolumns_ = subcolumns
        self.ranges_ = ranges
        if any(not s.discrete and s.name not in ranges for s in subcolumns):
            raise StateError("ranges", "lacks a continuous sub-column")
        # a model saved before grids were sized to the noise has none: FINE_BUCKETS each
        buckets = require_mapping(state.get("fine_buckets", {}), "fine_buckets")
        if any(type(b) is not int or not 1 <= b <= FINE_BUCKETS for b in buckets.values()):
            raise StateError("fine_buckets", f"holds a bucket count not a whole number in 1..{FINE_BUCKETS}")
        self.fine_buckets_ = {str(name): int(b) for name, b in buckets.items()}
        self.grids_ = self._grids()
        fine_cards = self._fine_cardinalities()
        to_coarse, shares = [], []
        for a in range(d):
            mapping = require_array(arrays, f"coarse.{a}", kind="i", shape=(fine_cards[a],))
            bins = int(mapping.max(initial=-1)) + 1
            if mapping.size == 0 or mapping.min() < 0 or np.unique(mapping).size != bins:
                raise StateError(f"coarse.{a}", "does not map the fine codes onto 0, 1, ...", array=True)
            to_coarse.append(mapping)
            weights = require_array(arrays, f"within.{a}", kind="f", shape=(fine_cards[a],))
            if (weights < 0).any():
                raise StateError(f"within.{a}", "holds a negative probability", array=True)
            shares.append(weights)
        cards = [int(m.max()) + 1 for m in to_coarse]
        tables = []
        if network:
            for a in range(d):
                rows = int(np.prod([cards[p] for p in parent_sets[a]]))
                tables.append(require_array(arrays, f"table.{a}", kind="f", shape=(rows, cards[a])))
            one_ways = [require_array(arrays, f"marginal.{a}", kind="f", shape=(cards[a],)) for a in range(d)]
            self.model_ = NetworkModel(cards, order, parent_sets, tables, one_ways, 0.0, to_coarse, shares)
            self.ledger_ = ledger
            self.measured_columns_ = [str(c) for c in require_list(state, "measured_columns")]
            return
        for a in range(d):
            key = f"table.{a}"
            if key not in arrays:
                raise StateError(key, "is missing", array=True)
            shape = (cards[a],) if parents[a] < 0 else (cards[parents[a]], cards[a])
            tables.append(require_array(arrays, key, kind="f", shape=shape))
        self.model_ = TreeModel(cards, order, parents, tables, 0.0, to_coarse, shares)
        self.ledger_ = ledger
        self.measured_columns_ = [str(c) for c in require_list(state, "measured_columns")]


def domain_share(schema: Schema, rho: float, delta: float, rows: float | None) -> float:
    """The share of ``rho`` spent on the domains: ``PREPROCESS_SHARE``, or more (up to
    ``PREPROCESS_MAX_SHARE``) where that would leave a category of ``SMALLEST_CLASS`` of the noisy
    ``rows`` under its release cut (bank marketing at epsilon 0.3: 17 columns paid for, a 930-row class
    of 8,000 rows under a ~1,000-row cut); only where some column's categories are paid for.  A class
    lost at release cannot be modelled at all, where noisier marginals still carry it; the row count is
    already released, so the choice is free."""
    classes = any(c.kind is Kind.CATEGORICAL for c in paid_columns(schema))
    if rows is None or rows <= 0 or not classes:
        return PREPROCESS_SHARE
    target = SMALLEST_CLASS * rows
    if target <= 0 or release_cut_rows(schema, rho * PREPROCESS_SHARE, delta) <= target:
        return PREPROCESS_SHARE
    # the cut falls as one over the root of the domains' rho
    needed = PREPROCESS_SHARE * (release_cut_rows(schema, rho * PREPROCESS_SHARE, delta) / target) ** 2
    return min(PREPROCESS_MAX_SHARE, needed)


def inferred_public_schema(data: Any) -> Schema | None:
    """The schema inferred from ``data`` with every value read from the data taken out (bounds,
    categories, decimals), for a fit whose statistics come from the budget; None when ``data`` is not a
    non-empty DataFrame (the fit then reports what is wrong with it)."""
    if not (isinstance(data, pd.DataFrame) and data.shape[1] and len(data)):
        return None
    frame = data.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return public_schema(infer_schema(frame))


def public_schema(schema: Schema) -> Schema:
    """``schema`` without what inference read from the data's values: every learned column's bounds,
    categories and decimals cleared, and missing values allowed (whether a column has one is measured)."""
    columns = [
        dataclasses.replace(c, minimum=None, maximum=None, categories=None, decimals=None, nullable=True)
        if c.kind.learned
        else c
        for c in schema
    ]
    return dataclasses.replace(schema, columns=columns)


def public_formats(schema: Schema) -> Schema:
    """``schema`` with the counts its file format read from the rows taken out of its CSV dialect: the
    shares of several missing-value words (written evenly instead) and the footnote marks (the share of
    numbers that carried one: not written).  The words and the layout stay (the file's format, as a
    datetime format does); the shares are counts of rows, which a DP model releases only with noise."""
    dialect = (schema.extra or {}).get("csv")
    if not isinstance(dialect, dict) or not ({"missing", "marks"} & set(dialect)):
        return schema
    public = {key: value for key, value in dialect.items() if key != "marks"}
    missing = dialect.get("missing")
    if isinstance(missing, dict):
        public["missing"] = {
            column: {word: round(1.0 / len(words), 6) for word in words} if isinstance(words, dict) else words
            for column, words in missing.items()
        }
    return dataclasses.replace(schema, extra={**schema.extra, "csv": public})


def _ranges(parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn]) -> dict[str, tuple[float, float]]:
    """Each continuous sub-column's range over the public frame: public, so its bins are too."""
    out = {}
    for s in subcolumns:
        if not s.discrete:
            values = np.asarray(parts[s.name], dtype="float64")
            values = values[np.isfinite(values)]
            out[s.name] = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    return out
