"""The ``dp`` engine: differentially private synthetic data by select-measure-generate.

``fit`` spends the user's (epsilon, delta) and nothing more: a share (``PREPROCESS_SHARE``) on the
columns' domains that the schema does not declare (:mod:`._domains`), the rest on noisy marginals of
the token matrix (:mod:`._tree`).  Every charge is on the model's ledger (``model.ledger_``), saved in
the model file and shown by ``mirage budget``.  The noise comes from OpenDP's secure sampler; ``seed``
fixes only the sampling from the fitted model (two fits of the same data differ, by design).
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
from mirage.engines._params import SEED, Param, integer, number
from mirage.engines._registry import register_engine
from mirage.engines._tags import EngineTags
from mirage.engines.dp._domains import private_public_frame, restrict
from mirage.engines.dp._tree import TreeModel, fit_tree
from mirage.errors import OptionError
from mirage.privacy import Ledger
from mirage.schema import Schema, infer_schema

__all__ = ["DPSynthesizer"]

PREPROCESS_SHARE = 0.1  # of rho, spent on the domains the schema does not declare


@register_engine
class DPSynthesizer(Synthesizer):
    """Marginal-based differentially private engine (rho-zCDP Gaussian mechanism, MST-style tree model).

    ``epsilon``, ``delta``: the privacy budget of the whole fit.  ``bins``: buckets of each continuous
    sub-column (over its public or privately estimated range).  ``max_cells``: the largest 2-way marginal
    measured.  ``seed``: the sampling after fitting (never the noise).
    """

    name = "dp"
    params: ClassVar[Mapping[str, Param]] = {
        "epsilon": number(0, low_open=True),
        "delta": number(0, 1, low_open=True, high_open=True),
        "bins": integer(2, 256),
        "max_cells": integer(4),
        "seed": SEED,
    }
    tags = EngineTags(differential_privacy=True)

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        bins: int = 16,
        max_cells: int = 10_000,
        seed: int = 0,
    ) -> None:
        self.epsilon = epsilon
        self.delta = delta
        self.bins = bins
        self.max_cells = max_cells
        self.seed = seed

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, schema: Schema | None = None, **options: Any) -> DPSynthesizer:
        """As ``Synthesizer.fit``; a schema inferred here keeps no value read from the data (bounds,
        categories, decimals): those come from the budget."""
        if schema is None and isinstance(data, pd.DataFrame) and data.shape[1] and len(data):
            frame = data.reset_index(drop=True)
            frame.columns = [str(c) for c in frame.columns]
            schema = public_schema(infer_schema(frame))
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
        public = private_public_frame(
            data, schema, ledger, rho * PREPROCESS_SHARE, self.delta / 2, options.rare_min_count
        )
        encoder = TableEncoder(schema, options).fit(public.frame)
        self.schema_ = schema
        self.rules_ = None
        self.encoder_ = encoder
        self.context_schema_: Schema | None = None
        self.context_encoder_: TableEncoder | None = None
        self.training_: dict[str, Any] = {}
        self.ledger_ = ledger
        self.measured_columns_ = list(public.measured)
        self.subcolumns_ = list(encoder.subcolumns)
        self.ranges_ = _ranges(encoder.encode(public.frame), self.subcolumns_)
        self._fit(
            encoder.encode(restrict(data, public.frame, schema)), self.subcolumns_, np.random.default_rng(0)
        )
        self._publish_counts()

    def _publish_counts(self) -> None:
        """The category counts the codecs keep (read by rebalancing and fairness) made the model's own
        estimates: the public frame's counts say nothing of the data."""
        marginals = self.model_.marginals()
        index = {s.name: j for j, s in enumerate(self.subcolumns_)}
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
        codes = self._tokens(parts)
        self.model_ = fit_tree(
            codes, self._cardinalities(), self.ledger_, self.ledger_.rho_left, int(self.max_cells)
        )
        # the row count is not released exactly: the total of a noisy marginal stands for it
        self.n_training_rows_ = max(1, round(self.model_.rows))

    def _cardinalities(self) -> list[int]:
        return [s.cardinality if s.discrete else int(self.bins) for s in self.subcolumns_]

    def _tokens(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        columns = []
        for s in self.subcolumns_:
            values = np.asarray(parts[s.name])
            if s.discrete:
                columns.append(np.clip(values.astype(np.int64), 0, s.cardinality - 1))
            else:
                low, high = self.ranges_[s.name]
                scaled = (values - low) / (high - low) * self.bins if high > low else np.zeros(values.size)
                columns.append(np.clip(np.floor(scaled), 0, self.bins - 1).astype(np.int64))
        return np.stack(columns, axis=1) if columns else np.zeros((0, 0), dtype=np.int64)

    # --- sampling -----------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self._parts(self.model_.sample(n, rng), rng)

    def _parts(self, codes: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for j, s in enumerate(self.subcolumns_):
            if s.discrete:
                out[s.name] = codes[:, j].astype(np.int64)
            else:
                low, high = self.ranges_[s.name]
                width = (high - low) / self.bins
                out[s.name] = low + (codes[:, j] + rng.random(codes.shape[0])) * width
        return out

    def _codes(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        return self._tokens(parts)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The attributes below the intervened ones in the tree redrawn given them."""
        codes = self._codes(parts)
        roots = {j for j, s in enumerate(self.subcolumns_) if s.name in fixed}
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
            "order": self.model_.order,
            "parents": self.model_.parents,
            "measured_columns": self.measured_columns_,
            "ledger": self.ledger_.to_dict(),
        }
        arrays = {f"table.{a}": t for a, t in enumerate(self.model_.tables)}
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        subcolumns = self._restore_subcolumns(state)
        d = len(subcolumns)
        order = [int(a) for a in require_list(state, "order", length=d)]
        parents = [int(p) for p in require_list(state, "parents", length=d)]
        if sorted(order) != list(range(d)) or any(not -1 <= p < d for p in parents):
            raise StateError("order", "is not a tree over the sub-columns")
        ranges = {
            name: (float(b[0]), float(b[1])) for name, b in require_mapping(state.get("ranges", {})).items()
        }
        with within("ledger"):
            ledger = Ledger.from_dict(require_mapping(state.get("ledger", {})))
        self.subcolumns_ = subcolumns
        self.ranges_ = ranges
        cards = self._cardinalities()
        tables = []
        for a in range(d):
            key = f"table.{a}"
            if key not in arrays:
                raise StateError(key, "is missing", array=True)
            shape = (cards[a],) if parents[a] < 0 else (cards[parents[a]], cards[a])
            tables.append(require_array(arrays, key, kind="f", shape=shape))
        self.model_ = TreeModel(cards, order, parents, tables)
        self.ledger_ = ledger
        self.measured_columns_ = [str(c) for c in require_list(state, "measured_columns")]


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


def _ranges(parts: Mapping[str, np.ndarray], subcolumns: list[SubColumn]) -> dict[str, tuple[float, float]]:
    """Each continuous sub-column's range over the public frame: public, so its bins are too."""
    out = {}
    for s in subcolumns:
        if not s.discrete:
            values = np.asarray(parts[s.name], dtype="float64")
            values = values[np.isfinite(values)]
            out[s.name] = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    return out
