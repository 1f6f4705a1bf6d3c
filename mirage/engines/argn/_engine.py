"""The ``argn`` engine: settings, fitting, conditions, imputation, likelihood and state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from mirage._progress import report
from mirage._validate import StateError, require, require_bool, require_int, require_mapping, within
from mirage.encoding import EncodingOptions, SubColumn
from mirage.encoding._base import missing_subcolumn
from mirage.encoding._domain import ROLE_CODE
from mirage.encoding.datetime import date_subcolumns
from mirage.encoding.discretise import Discretiser
from mirage.engines._base import EngineTags, Synthesizer, _resolve_seed, fill_holes
from mirage.engines._conditions import ConditionFilter, SubColumnBox, impossible
from mirage.engines._context import ContextParts
from mirage.engines._guard import PrivacyKnob
from mirage.engines._params import SAMPLE, SEED, Param, integer, number, text
from mirage.engines._registry import register_engine
from mirage.engines._registry import require as require_dependencies
from mirage.engines.argn import _defaults
from mirage.engines.argn._runtime import torch_scope
from mirage.engines.argn._sampling import draw_prefix, fill_tokens, sampling_order
from mirage.engines.argn._state import load_weights, weight_arrays
from mirage.errors import MirageError, OptionError
from mirage.schema import Kind, Schema

if TYPE_CHECKING:
    from mirage.engines.argn._network import ArgnNetwork

__all__ = ["ArgnSynthesizer"]

LOG_PROB_BATCH = 4096
MIN_PROPOSALS = 1_000  # prefixes proposed per round for conditions, at least
MAX_PROPOSALS = 200_000  # and at most
PROPOSAL_ROUNDS = 20  # rounds per call before giving back fewer rows (the caller draws again, bounded)


def _require_torch() -> None:
    require_dependencies("argn")  # MissingDependencyError naming the extra that installs PyTorch


def _is_device(value: str) -> bool:
    return value in ("auto", "cpu") or value.startswith("cuda")


@dataclass(frozen=True)
class _TokenFilter(ConditionFilter):
    """The base class's row filter plus its box on the tokens: per token, the codes it may take."""

    allowed: Mapping[int, np.ndarray]


@register_engine
class ArgnSynthesizer(Synthesizer):
    name = "argn"
    params: ClassVar[Mapping[str, Param]] = {
        "max_training_time": number(0, low_open=True, allow_inf=True, note="seconds"),
        "max_epochs": integer(1),
        "patience": integer(1),
        "batch_size": integer(1, optional=True),
        "hidden_size": integer(1, optional=True),
        "depth": integer(0),
        "dropout": number(0, 1, high_open=True, optional=True),
        "learning_rate": number(0, low_open=True),
        "weight_decay": number(0, optional=True),
        "validation_share": number(0, 0.5, high_open=True),
        "n_bins": integer(1),
        "sub_bins": integer(1),
        "min_bin_count": integer(1, optional=True),
        "max_exact_values": integer(0),
        "temperature": number(0, low_open=True, stage=SAMPLE),
        "device": text(_is_device, "'auto', 'cpu' or 'cuda[:index]'"),
        "cpu_threads": integer(1, optional=True, stage=SAMPLE),
        "max_dcr_share": number(0, 1, low_open=True, optional=True, note="(None: no check)"),
        "epsilon": number(0, low_open=True, optional=True, note="(None: not private; else DP-SGD)"),
        "delta": number(0, 1, low_open=True, high_open=True),
        "seed": SEED,
    }
    privacy_knob = PrivacyKnob("regularisation", lambda engine, rows: engine._regularisations(rows))
    tags = EngineTags(native_conditions=True, impute=True, log_prob=True, context=True, scenario=True)
    # fit only: the rows past value protection's edges are drawn from tails past them; a caller that
    # draws them itself (the sequence model's lengths, sequential._argn._stretch_tails) turns it off
    draw_tails = True

    def __init__(
        self,
        *,
        max_training_time: float = 600.0,
        max_epochs: int = 200,
        patience: int = 4,
        batch_size: int | None = None,
        hidden_size: int | None = None,
        depth: int = 1,
        dropout: float | None = None,
        learning_rate: float = 5e-3,
        weight_decay: float | None = None,
        validation_share: float = 0.1,
        n_bins: int = 64,
        sub_bins: int = 16,
        min_bin_count: int | None = None,
        max_exact_values: int = 100,
        temperature: float = 1.0,
        device: str = "auto",
        cpu_threads: int | None = 1,
        max_dcr_share: float | None = None,
        epsilon: float | None = None,
        delta: float = 1e-9,
        seed: int = 0,
    ) -> None:
        self.max_training_time = max_training_time
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.hidden_size = hidden_size
        self.depth = depth
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.validation_share = validation_share
        self.n_bins = n_bins
        self.sub_bins = sub_bins
        self.min_bin_count = min_bin_count
        self.max_exact_values = max_exact_values
        self.temperature = temperature
        self.device = device
        self.cpu_threads = cpu_threads
        self.max_dcr_share = max_dcr_share
        self.epsilon = epsilon
        self.delta = delta
        self.seed = seed

    # --- sizes that need no tuning (mirage.engines.argn._defaults has the measurements) ------------
    def _regularisations(self, n: int) -> list[dict[str, float]]:
        """The dropouts and weight decays the memorisation guard tries, weakest (this fit's own) first."""
        return _defaults.regularisations(n, self.dropout, self.weight_decay)

    def _resolve_device(self) -> Any:
        _require_torch()
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise OptionError(f"device={self.device!r} but no CUDA device is available")
        return torch.device(self.device)

    # --- learning ---------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame, schema: Schema | None = None, **options: Any) -> ArgnSynthesizer:
        """As ``Synthesizer.fit``.  With ``epsilon`` (DP-SGD, :mod:`._private`), a schema inferred here
        keeps no value read from the data (bounds, categories): those come from the budget."""
        if self.epsilon is not None and schema is None:
            from mirage.engines.dp._engine import inferred_public_schema

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
        if self.epsilon is None:
            super()._learn(data, schema, context, context_schema, options)
            return
        from mirage.engines.argn._private import learn_private

        self._forget()
        learn_private(self, data, schema, context, options or EncodingOptions(locale=schema.locale))

    def _fit(
        self, parts: dict[str, np.ndarray], subcolumns: list[SubColumn], rng: np.random.Generator
    ) -> None:
        self._learn_tokens(parts, subcolumns, [], rng)

    def _fit_given(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: ContextParts,
        rng: np.random.Generator,
    ) -> None:
        """The context's sub-columns are tokenised ahead of the own ones and learned with them; at
        sampling their tokens are known and only the own ones are drawn (partial-row sampling)."""
        self._learn_tokens({**context.parts, **parts}, subcolumns, list(context.subcolumns), rng)

    def _learn_tokens(
        self,
        parts: dict[str, np.ndarray],
        subcolumns: list[SubColumn],
        context: list[SubColumn],
        rng: np.random.Generator,
        public_parts: dict[str, np.ndarray] | None = None,
    ) -> None:
        """``public_parts`` (DP): the encoded public frame the bins are cut on, instead of the rows."""
        _require_torch()
        self.subcolumns_ = subcolumns
        self.discretiser_ = Discretiser(
            n_bins=self.n_bins,
            sub_bins=self.sub_bins,
            min_count=self.min_bin_count or _defaults.auto_min_bin_count(self.n_training_rows_),
            max_exact=self.max_exact_values,
            protect=self.encoding_.rare_min_count,
            tails=self.draw_tails,
        ).fit(
            parts if public_parts is None else public_parts,
            context + subcolumns,
            dates=self._date_subcolumns(context + subcolumns),
        )
        self.history_: list[dict[str, float]] = []
        n = self.n_training_rows_
        self.hidden_ = self.hidden_size or _defaults.auto_hidden(n)
        self.dropout_ = self._knob_setting("dropout")
        self.weight_decay_ = self._knob_setting("weight_decay")
        self.schema_order_share_ = _defaults.auto_schema_order_share(n)
        if not self.discretiser_.domain:
            self.network_: ArgnNetwork | None = None
            report("fit", 1, 1)
            return
        tokens = self.discretiser_.encode(parts)
        import torch

        from mirage.engines.argn._training import TrainingSettings, train, train_private

        device = self._resolve_device()
        settings = TrainingSettings(
            max_training_time=self.max_training_time,
            max_epochs=self.max_epochs,
            patience=self.patience,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay_,
            validation_share=self.validation_share,
            schema_order_share=self.schema_order_share_,
            seed=self.seed,
        )
        devices = [device] if device.type == "cuda" else []
        with torch_scope(self.cpu_threads, devices, device.type):
            torch.manual_seed(self.seed)
            network = self._new_network(self.depth, self.dropout_).to(device)
            ledger = getattr(self, "ledger_", None)
            if ledger is None:
                result = train(network, tokens, settings, rng, device, self.history_)
            else:
                result = train_private(
                    network, tokens, settings, ledger, self.n_training_rows_, device, self.history_
                )
        self.network_ = network.to("cpu")
        self.network_.train(False)
        self.training_.update(
            {
                "stopped": result.stopped,
                "best_val_loss": result.best_val_loss,
                "best_epoch": result.best_epoch,
                "epochs": len(self.history_),
                "history": self.history_,
                "hidden": self.hidden_,
                "dropout": self.dropout_,
                "weight_decay": self.weight_decay_,
                "schema_order_share": self.schema_order_share_,
                "min_bin_count": self.discretiser_.min_count,
                "device": str(device),
            }
        )

    def _date_subcolumns(self, subcolumns: list[SubColumn]) -> list[str]:
        """Continuous sub-columns holding a datetime column's seconds: tokenised by parts."""
        kinds = {c.name: c.kind for c in self.schema_}
        if self.context_schema_ is not None:
            kinds.update({c.name: c.kind for c in self.context_schema_})
        return date_subcolumns(subcolumns, {name for name, kind in kinds.items() if kind is Kind.DATETIME})

    def _context_tokens(self) -> int:
        """How many tokens, the first ones, the context's columns have (0 without a context)."""
        names = set(self.context_schema_.names) if self.context_schema_ is not None else set()
        return sum(1 for t in self.discretiser_.domain if t.column in names)

    def _new_network(self, depth: int, dropout: float) -> ArgnNetwork:
        from mirage.engines.argn._network import ArgnNetwork

        disc, domain = self.discretiser_, self.discretiser_.domain
        valid = {j: v for j in range(len(domain)) if (v := disc.sub_bin_valid(j)) is not None}
        codes = {j: v for j in range(len(domain)) if (v := disc.code_valid(j)) is not None}
        return ArgnNetwork(domain.cardinalities, domain.groups, valid, codes, self.hidden_, depth, dropout)

    # --- sampling ---------------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        disc = self.discretiser_
        tokens = np.zeros((n, len(disc.domain)), dtype="int64")
        if self.network_ is not None and n:
            order = sampling_order(disc.domain.groups, set())
            fill_tokens(self.network_, tokens, None, order, {}, self.temperature, rng, self.cpu_threads)
        return disc.decode(tokens, rng)

    def _sample_given(self, context: ContextParts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Rows whose context tokens are known and whose own tokens are drawn given them, in the schema
        order."""
        disc = self.discretiser_
        full = {s.name: np.zeros(context.n) for s in self.subcolumns_}  # placeholders for the drawn ones
        full.update(context.parts)
        tokens = disc.encode(full)
        first = self._context_tokens()
        if self.network_ is not None and context.n and first < tokens.shape[1]:
            known = np.zeros(tokens.shape, dtype=bool)
            known[:, :first] = True
            order = list(range(first, tokens.shape[1]))
            fill_tokens(self.network_, tokens, known, order, {}, self.temperature, rng, self.cpu_threads)
        parts = disc.decode(tokens, rng)
        return {s.name: parts[s.name] for s in self.subcolumns_}

    def _refuse_context(self, what: str) -> None:
        if self.context_schema_ is not None:
            raise OptionError(f"{what} of a model fitted with a context is not supported yet")

    def _condition_filter(self, conditions: Mapping[str, Any]) -> Any:
        accept = super()._condition_filter(conditions)
        return _TokenFilter(accept.conditions, accept.box, self._token_box(accept.box))

    def _token_box(self, box: SubColumnBox | None) -> dict[int, np.ndarray]:
        """The conditions' box on the tokens: per token, the codes (a sub-bin token: per bin) that can
        hold a value inside the box."""
        disc = self.discretiser_
        allowed: dict[int, np.ndarray] = {}
        if not box:
            return allowed
        for j, token in enumerate(disc.domain):
            if token.subcolumn in box.codes and token.role == ROLE_CODE:
                allowed[j] = np.asarray(box.codes[token.subcolumn], dtype=bool)[: token.cardinality]
            elif token.subcolumn in box.ranges:
                codes = disc.range_codes(j, *box.ranges[token.subcolumn])
                if codes is not None:
                    allowed[j] = codes
        for j, mask in allowed.items():
            if not mask.any():
                raise impossible(disc.domain[j].column, "takes no value the conditions allow in this model")
        return allowed

    def _sample_matching(self, n: int, rng: np.random.Generator, accept: Any) -> dict[str, np.ndarray]:
        """Rows drawn inside the conditions' box, following the model's own rows given it.

        The prefix (the tokens up to the last conditioned one, in the schema order every row is drawn
        in) is proposed with each conditioned token restricted to its allowed codes, and kept with
        probability ``prod(w) / prod(w_max)``: ``w`` the mass the model gave the allowed codes given the
        tokens before, ``w_max`` the largest seen for that token in this call's proposals (the
        envelope).  Rejection with the restricted draw as proposal: the kept prefixes follow the
        model's joint given the box, whatever its any-order training learned for other orders, and the
        acceptance is ``E[w] / w_max`` rather than the condition's prevalence.  The later tokens are
        drawn for kept prefixes only.  May return fewer than ``n`` rows (the caller draws again).
        """
        allowed = accept.allowed if isinstance(accept, _TokenFilter) else self._token_box(None)
        if self.network_ is None or not allowed:
            return self._sample(n, rng)
        network, disc = self.network_, self.discretiser_
        stop = max(allowed) + 1
        envelope = np.zeros(len(allowed))
        kept: list[np.ndarray] = []
        have, proposed, accepted_weight = 0, 0, 0.0
        batch = max(n, MIN_PROPOSALS)
        for _ in range(PROPOSAL_ROUNDS):
            tokens, masses = draw_prefix(network, batch, allowed, self.temperature, rng, self.cpu_threads)
            envelope = np.maximum(envelope, masses.max(axis=0))
            bound = float(np.prod(envelope))
            weight = np.prod(masses, axis=1)
            keep = rng.random(batch) * bound < weight
            kept.append(tokens[keep])
            have += int(keep.sum())
            proposed += batch
            accepted_weight += float(weight.sum()) / max(bound, 1e-300)
            if have >= n:
                break
            rate = max(accepted_weight / proposed, 1.0 / proposed)
            batch = int(min(MAX_PROPOSALS, max(MIN_PROPOSALS, np.ceil(1.2 * (n - have) / rate))))
        if have == 0:
            column = disc.domain[stop - 1].column
            raise MirageError(
                f"conditions are too rare to sample: none of {proposed:,} rows drawn up to column "
                f"{column!r} matched (acceptance rate 0); relax the conditions"
            )
        tokens = np.concatenate(kept)[:n]
        known = np.zeros(tokens.shape, dtype=bool)
        known[:, :stop] = True
        order = range(stop, tokens.shape[1])  # the partial-row sampler (draws nothing when empty)
        fill_tokens(network, tokens, known, order, {}, self.temperature, rng, self.cpu_threads)
        return disc.decode(tokens, rng)

    def _propagate(
        self, parts: dict[str, np.ndarray], fixed: set[str], rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """The tokens after the first intervened one in the schema order redrawn given the ones before
        it and the intervened ones (partial-row sampling)."""
        disc = self.discretiser_
        tokens = disc.encode(parts)
        intervened = [j for j, t in enumerate(disc.domain) if t.subcolumn in fixed]
        if self.network_ is None or not intervened or tokens.shape[0] == 0:
            return parts
        known = np.zeros(tokens.shape, dtype=bool)
        known[:, : min(intervened)] = True
        known[:, intervened] = True
        order = [j for j in range(tokens.shape[1]) if not known[0, j]]
        fill_tokens(self.network_, tokens, known, order, {}, self.temperature, rng, self.cpu_threads)
        drawn = disc.decode(tokens, rng)
        # sub-columns left as they were keep their exact values, not a new decoding of their tokens
        kept = {t.subcolumn for j, t in enumerate(disc.domain) if known[0, j]}
        return {name: parts[name] if name in kept else values for name, values in drawn.items()}

    # --- imputation -------------------------------------------------------------------------------
    def _impute_frame(self, data: pd.DataFrame, seed: int | None) -> pd.DataFrame:
        """``data`` with its missing cells in learned columns drawn given the row's other cells.

        Every row keeps its observed cells exactly; a missing cell gets a value (never a null) from the
        model's distribution of that column given the observed cells of the row, under the
        any-order training (partial-row sampling).  Generated columns (keys, PII, free text) are left
        as they are.  The same seed gives the same imputations.
        """
        schema = self.encoder_.schema
        rng = np.random.default_rng(_resolve_seed(seed))
        out = data.copy()
        disc = self.discretiser_
        modelled = set(disc.domain.columns)
        nulls = {name: data[name].isna().to_numpy() for name in schema.names if name in modelled}
        holes = [name for name, mask in nulls.items() if mask.any()]
        if not holes or self.network_ is None:
            return out
        frame = data[schema.names].reset_index(drop=True)
        tokens = disc.encode(self.encoder_.encode(frame))
        known = np.ones(tokens.shape, dtype=bool)
        allowed: dict[int, np.ndarray] = {}
        for j, token in enumerate(disc.domain):
            if token.column in nulls:
                known[:, j] = ~nulls[token.column]
            if token.subcolumn == missing_subcolumn(token.column).name:
                allowed[j] = np.arange(token.cardinality) == 0  # an imputed cell is present
        rows = np.flatnonzero(~known.all(axis=1))
        order = sampling_order(disc.domain.groups, set())
        fill_tokens(self.network_, tokens, known, order, allowed, self.temperature, rng, self.cpu_threads)
        drawn = self.encoder_.decode(disc.decode(tokens[rows], rng), rows.size, rng)
        return fill_holes(data, drawn, rows, {name: nulls[name] for name in holes}, schema)

    # --- likelihood -------------------------------------------------------------------------------
    def log_prob(self, data: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
        """Per-row log-probability of the rows' tokens under the schema order (nats).

        ``data`` is a DataFrame (encoded with the fitted encoder) or already encoded sub-columns.
        Continuous values count through their bin and sub-bin, so this is the log-probability of the
        discretised row, comparable across rows and models with the same discretisation.  On a model
        with rules, that of the row rewritten as the engine learned it (a difference, a joint column;
        a formula's result, computed from its parts, adds nothing).
        """
        self._require_fitted()
        self._refuse_context("log_prob")
        if isinstance(data, pd.DataFrame) and self.rules_ is not None:
            data = self.rules_.engine_frame(data)  # the row as the engine learned it (see mirage.control)
        parts = self.encoder_.encode(data) if isinstance(data, pd.DataFrame) else data
        tokens = self.discretiser_.encode(parts)
        n = tokens.shape[0]
        if self.network_ is None or n == 0:
            return np.zeros(n)
        import torch

        network = self.network_
        out = np.empty(n)
        with torch.inference_mode(), torch_scope(self.cpu_threads):
            for lo in range(0, n, LOG_PROB_BATCH):
                x = torch.as_tensor(tokens[lo : lo + LOG_PROB_BATCH], dtype=torch.long)
                mask = network.schema_mask(x.shape[0])
                out[lo : lo + x.shape[0]] = network.log_likelihood(x, mask, sub_bins=True).double().numpy()
        return out

    # --- persistence ------------------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        disc_state, disc_arrays = self.discretiser_.get_state()
        state = {
            "subcolumns": [vars(s) for s in self.subcolumns_],
            "discretiser": disc_state,
            "hidden": self.hidden_,
            "depth": self.depth,
            "network": self.network_ is not None,
        }
        if (ledger := getattr(self, "ledger_", None)) is not None:
            state["ledger"] = ledger.to_dict()
            state["measured_columns"] = list(self.measured_columns_)
        arrays = {f"discretiser.{k}": v for k, v in disc_arrays.items()}
        if self.network_ is not None:
            arrays.update(weight_arrays(self.network_))
        return state, arrays

    def _set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.subcolumns_ = self._restore_subcolumns(state)
        prefix = "discretiser."
        own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        with within("discretiser", prefix):
            self.discretiser_ = Discretiser.from_state(require_mapping(require(state, "discretiser")), own)
        context = list(self.context_encoder_.subcolumns) if self.context_encoder_ is not None else []
        if self.discretiser_.subcolumns != context + self.subcolumns_:
            raise StateError(
                "discretiser.subcolumns", "differ from the context encoder's and state.engine.subcolumns"
            )
        disc = self.discretiser_
        self.hidden_ = require_int(state, "hidden", low=1)
        depth = require_int(state, "depth", low=0)
        has_network = require_bool(state, "network")
        self._require_recorded("depth", depth, "state.engine.depth")
        self._require_recorded("hidden_size", self.hidden_, "state.engine.hidden")
        self._require_recorded("n_bins", disc.n_bins, "state.engine.discretiser.n_bins")
        self._require_recorded("sub_bins", disc.sub_bins, "state.engine.discretiser.sub_bins")
        self._require_recorded("min_bin_count", disc.min_count, "state.engine.discretiser.min_count")
        self._require_recorded("max_exact_values", disc.max_exact, "state.engine.discretiser.max_exact")
        if has_network != bool(disc.domain):
            raise StateError("network", f"expected {str(bool(disc.domain)).lower()} for this discretiser")
        if "ledger" in state:
            from mirage.privacy import Ledger

            with within("ledger"):
                self.ledger_ = Ledger.from_dict(require_mapping(state["ledger"]))
            self.measured_columns_ = [str(c) for c in state.get("measured_columns", [])]
        self.history_ = list(self.training_.get("history", []))
        self.network_ = None
        if has_network:
            with torch_scope(None):  # the network's initial weights must not draw from torch's global RNG
                network = self._new_network(depth, 0.0)
            load_weights(network, arrays)
            self.network_ = network
