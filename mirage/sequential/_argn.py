"""argn's sequential mode: histories drawn event by event by a neural network with a history encoder.

As in mostlyai-engine's sequential model, an entity row (its attributes, its first order value) is drawn
first by argn given the entity's context row; then a recurrent network runs over the entity's events:
its state after events ``0..t-1``, started from the entity's tokens (context and attributes), conditions
event ``t``, whose tokens are drawn one by one (a stop flag first, so that lengths and ends are learned,
then the gap to the previous event, then the values).  Gaps are learned as the days crossed and the time
of day (timestamps) or as the step difference, never as absolute positions; the recurrent input carries
where the previous event lies in time and its calendar, so weekly and monthly rhythms and a window's end
can be learned.  An event drawn later than the learned times ends its history instead.

Blocks of :data:`~mirage.sequential.ENTITY_BLOCK` entities are seeded ``SeedSequence([seed, block])``: the
same seed gives the same histories however they are read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage._progress import EpochProgress, TrainingDone, report_event
from mirage.encoding import EncodingOptions, SubColumn
from mirage.encoding.datetime import date_subcolumns
from mirage.encoding.discretise import Discretiser
from mirage.errors import DataError, OptionError, SchemaError
from mirage.schema import Kind
from mirage.sequential._keys import entity_keys, order_values
from mirage.sequential._model import (
    _DAY,
    DAYS,
    DOM,
    ENTITY_BLOCK,
    FIRST,
    GAP,
    LENGTH,
    TOD,
    SequenceSynthesizer,
    _calendar,
    _derive,
    read_model_file,
    sorted_events,
    write_model_file,
)
from mirage.sequential._schema import SequenceSchema

if TYPE_CHECKING:
    import torch

    from mirage.encoding._table import TableEncoder
    from mirage.engines.argn import ArgnSynthesizer
    from mirage.sequential._argn_network import SequenceNetwork

__all__ = ["SEQUENTIAL_ARGN", "ArgnSequenceSynthesizer"]

SEQUENTIAL_ARGN = "sequential_argn"  # the engine field of an argn sequence model file
_RESERVED = (FIRST, GAP, DAYS, TOD, "_length", "_step", "_left", "_weekday", "_monthday", "_hour")
_GAP_COLUMN = "_gap"  # sub-column names of the gap discretiser
_POSITION_BINS = 32  # quantile bins of the previous event's time, and of the time since the first one
_MIN_VALIDATED = 200  # entities: fewer train on all of them, stopping on the training loss
_LEFT_CODES = 64  # events left in a history, the last code standing for this many or more
_LATE_DRAWS = 8  # draws of an event that falls after the learned times before its history ends
_MAX_DAYS = 62  # gaps (days) the day token steers: longer ones are drawn without it
_MIN_DELTA = 5e-4
_LR_DECAY = 0.5


def _check_int(name: str, value: object, low: int, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise OptionError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_number(name: str, value: object, low: float, high: float = math.inf) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise OptionError(f"{name} must be a number from {low} to {high}, got {value!r}")


def _auto_batch(n_entities: int) -> int:
    """About an eighth of the entities, a power of two from 8 to 128 histories."""
    return int(min(128, max(8, 2 ** round(math.log2(max(n_entities, 1) / 8)))))


def _gap_subcolumns(timestamped: bool) -> list[SubColumn]:
    names = [DAYS, TOD] if timestamped else [GAP]
    return [SubColumn(f"{_GAP_COLUMN}::{n}", _GAP_COLUMN, n, discrete=False) for n in names]


def _date_subcolumns(encoder: TableEncoder) -> list[str]:
    return date_subcolumns(encoder.subcolumns, {c.name for c in encoder.schema if c.kind is Kind.DATETIME})


def _spread_lengths(lengths: np.ndarray, seed: int) -> np.ndarray:
    """Each length plus a seeded uniform draw in [0, 1): what the entity model learns, the floor of
    which is the length again.  Lengths all equal stay as they are (one exact value to draw: fMRI)."""
    if lengths.min() == lengths.max():
        return lengths
    return lengths + np.random.default_rng(_derive(seed, 0x1E5)).random(len(lengths))


def _length_tails(learned: np.ndarray, engine_tokens: Discretiser, lowest: int, highest: int) -> np.ndarray:
    """Where the entity model's lengths stop short, and the tails to draw past there, ``(2, 5)``: per end
    (shortest, longest) the inner and outer edge of its end piece, the share of the piece's training
    lengths beyond the outer edge, the scale of an exponential tail through the piece's own counts, and
    the bound (the shortest learned length, one past the longest).  The token layer's outermost edges
    are the ``rare_min_count``-th shortest and longest lengths, the lengths beyond fold into the end
    pieces, and nothing past the edges is drawn (transactions, 400 histories: 2% of them on each side).
    ``learned``: the lengths as the entity model learned them; all zero (no tails) where it has one
    piece or one code."""
    tails = np.zeros((2, 5))
    _, arrays = engine_tokens.get_state()
    index = next(
        (i for i, sub in enumerate(engine_tokens.subcolumns) if sub.column == LENGTH and not sub.discrete),
        None,
    )
    if index is None:  # lengths all equal: one code
        return tails
    lo, hi = arrays[f"{index}.lo"], arrays[f"{index}.hi"]
    last = int(arrays[f"{index}.n_sub"][-1]) - 1
    if lo.shape[0] == 1 and last == 0:
        return tails
    shortest = (float(hi[0, 0]), float(lo[0, 0]), float(lowest))
    ends = (shortest, (float(lo[-1, last]), float(hi[-1, last]), highest + 1.0))
    for side, (inner, outer, bound) in enumerate(ends):
        held = (learned <= inner) if side == 0 else (learned >= inner)
        beyond = (learned < outer) if side == 0 else (learned > outer)
        total, past = int(held.sum()), int(beyond.sum())
        if past == 0 or past >= total or inner == outer:
            continue
        tails[side] = (inner, outer, past / total, abs(outer - inner) / math.log(total / past), bound)
    return tails


def _stretch_tails(drawn: np.ndarray, tails: np.ndarray) -> np.ndarray:
    """``drawn`` lengths with each end piece's outer share moved past its outer edge (:func:`_length_tails`):
    a monotone map of the position within the piece, the piece's inner part stretched uniformly over it,
    the outer part onto the exponential tail cut at the bound (no draw from the generator)."""
    out = drawn.astype("float64").copy()
    for side, (inner, outer, share, scale, bound) in enumerate(tails):
        if share <= 0.0:
            continue
        direction = -1.0 if side == 0 else 1.0
        depth = (out - inner) * direction / abs(outer - inner)
        within = (depth >= 0.0) & (depth <= 1.0)
        kept = within & (depth < 1.0 - share)
        out[kept] = inner + direction * depth[kept] / (1.0 - share) * abs(outer - inner)
        tail = within & ~kept
        into = (depth[tail] - (1.0 - share)) / share
        reach = 1.0 - math.exp(-max(0.0, (bound - outer) * direction) / scale)
        out[tail] = outer - direction * scale * np.log1p(-np.minimum(into, 1.0 - 1e-12) * reach)
    return out


class ArgnSequenceSynthesizer:
    """Histories per entity by argn with a history encoder: ``fit(events, schema, context=None)``, then
    ``sample(n_entities)``.

    ``max_training_time`` (seconds) and ``max_epochs`` bound the training of both networks together
    (the entity network gets a fifth of the time); ``patience`` epochs without a better validation loss
    stop it.  ``hidden_size``, ``depth``, ``dropout``, ``learning_rate``, ``weight_decay``,
    ``batch_size`` (histories per step; None: automatic), ``n_bins`` and ``sub_bins`` are the network's
    and the discretiser's, as in argn; ``cpu_threads`` the torch threads.
    """

    def __init__(
        self,
        *,
        max_training_time: float = 600.0,
        max_epochs: int = 200,
        patience: int = 4,
        batch_size: int | None = None,
        hidden_size: int = 64,
        depth: int = 1,
        dropout: float = 0.1,
        learning_rate: float = 5e-3,
        weight_decay: float = 1e-3,
        validation_share: float = 0.1,
        n_bins: int = 64,
        sub_bins: int = 16,
        cpu_threads: int | None = 1,
        seed: int = 0,
    ) -> None:
        if isinstance(max_training_time, bool) or not isinstance(max_training_time, (int, float)):
            raise OptionError(f"max_training_time must be a number of seconds, got {max_training_time!r}")
        if not max_training_time > 0:
            raise OptionError(f"max_training_time must be positive, got {max_training_time!r}")
        for name, value, low in (
            ("max_epochs", max_epochs, 1),
            ("patience", patience, 1),
            ("hidden_size", hidden_size, 1),
            ("depth", depth, 0),
            ("n_bins", n_bins, 1),
            ("sub_bins", sub_bins, 1),
            ("seed", seed, 0),
        ):
            _check_int(name, value, low)
        _check_int("batch_size", batch_size, 1, optional=True)
        _check_int("cpu_threads", cpu_threads, 1, optional=True)
        _check_number("dropout", dropout, 0.0, 0.95)
        _check_number("learning_rate", learning_rate, 1e-12)
        _check_number("weight_decay", weight_decay, 0.0)
        _check_number("validation_share", validation_share, 0.0, 0.5)
        self.max_training_time = float(max_training_time)
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
        self.cpu_threads = cpu_threads
        self.seed = seed
        self.schema_: SequenceSchema | None = None
        # codes of the gap discretiser's tokens within a range, by token and bound (see _range_bias)
        self._range_masks: dict[tuple[int, float], np.ndarray | None] = {}

    def get_params(self) -> dict[str, Any]:
        return {
            "max_training_time": self.max_training_time,
            "max_epochs": self.max_epochs,
            "patience": self.patience,
            "batch_size": self.batch_size,
            "hidden_size": self.hidden_size,
            "depth": self.depth,
            "dropout": self.dropout,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "validation_share": self.validation_share,
            "n_bins": self.n_bins,
            "sub_bins": self.sub_bins,
            "cpu_threads": self.cpu_threads,
            "seed": self.seed,
        }

    # --- learning ------------------------------------------------------------------------------
    def fit(
        self, events: pd.DataFrame, schema: SequenceSchema, context: pd.DataFrame | None = None
    ) -> ArgnSequenceSynthesizer:
        """Learn ``events`` (one row per event) under ``schema``; ``context``: one row per entity,
        holding the entity column and the columns its histories are drawn given."""
        from mirage.engines._registry import require as require_dependencies

        require_dependencies("argn")  # names the extra that installs PyTorch
        from mirage.encoding._table import TableEncoder
        from mirage.engines.argn import ArgnSynthesizer

        if not isinstance(events, pd.DataFrame):
            raise DataError(f"events must be a pandas DataFrame, got {type(events).__name__}")
        if not isinstance(schema, SequenceSchema):
            raise OptionError(f"schema must be a SequenceSchema, got {type(schema).__name__}")
        schema.validate(events)
        for name in events.columns:
            if str(name).startswith("_lag") or name in _RESERVED:
                raise SchemaError(f"column {name!r} uses a name the sequence model reserves; rename it")
        started = time.perf_counter()
        self._range_masks = {}
        events, order = sorted_events(events, schema)
        codes, uniques = pd.factorize(events[schema.entity], sort=False)
        if len(uniques) < 2:
            raise DataError(f"the event table has {len(uniques)} entities; at least 2 are needed")
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        lengths = np.diff(np.r_[starts, len(events)])
        values = schema.value_columns
        changes = events[values].ne(events[values].shift()).to_numpy() & ~events[values].isna().to_numpy()
        changes[starts] = False
        static = [c for c, moved in zip(values, changes.any(axis=0), strict=True) if not moved]
        dynamic = [c for c in values if c not in static]
        self.context_columns_: list[str] = []
        entity_context = None
        if context is not None:
            entity_context = SequenceSynthesizer._align_context(context, uniques, schema)
            self.context_columns_ = list(entity_context.columns)
        options = EncodingOptions(locale=schema.columns.locale)

        # the entity model: attributes and first order value per entity, given the context
        entities = events.iloc[starts][static].reset_index(drop=True)
        if schema.timestamped:
            entities[FIRST] = np.floor(order[starts] / _DAY).astype("int64")
            entities[TOD] = order[starts] % _DAY
        else:
            entities[FIRST] = order[starts]
        # the length is drawn with the entity, and each step knows how many events are left: a learned
        # stop flag drawn at every step adds its small errors up over a long history and ends too many
        # of them early (transactions: length KS complement 0.87-0.91)
        entities[LENGTH] = lengths.astype("int64")
        # the entity model learns each length plus a uniform draw in [0, 1), the floor of which is the
        # length again: integer lengths tie, and the token layer makes a length many entities share a
        # point of its own, while the interval around it draws that point's integer as often as its
        # neighbours' (transactions, 400 histories: the lengths' CDF 0.036-0.045 under the real one at 66)
        learned = entities.assign(**{LENGTH: _spread_lengths(lengths, self.seed)})
        entity_schema = SequenceSynthesizer._sub_schema(schema, static, learned)
        self.entity_engine_: ArgnSynthesizer = ArgnSynthesizer(
            max_training_time=self.max_training_time / 5,
            max_epochs=self.max_epochs,
            patience=self.patience,
            cpu_threads=self.cpu_threads,
            device="cpu",
            seed=self.seed,
        )
        self.entity_engine_.draw_tails = False  # the lengths' tails are _stretch_tails'
        self.entity_engine_.fit(learned, entity_schema, context=entity_context)
        shortest, longest = int(lengths.min()), int(lengths.max())
        self.length_tails_ = _length_tails(
            learned[LENGTH].to_numpy(), self.entity_engine_.discretiser_, shortest, longest
        )

        # the entity's tokens the history network starts from: its context and its attributes
        full = entities if entity_context is None else pd.concat([entity_context, entities], axis=1)
        self.entity_encoder_ = TableEncoder(SequenceSynthesizer._sub_schema(schema, static, full), options)
        self.entity_encoder_.fit(full)
        entity_parts = self.entity_encoder_.encode(full)
        self.entity_discretiser_ = self._discretiser(len(uniques), options).fit(
            entity_parts, self.entity_encoder_.subcolumns, dates=_date_subcolumns(self.entity_encoder_)
        )
        entity_tokens = self.entity_discretiser_.encode(entity_parts)

        # each event's tokens: the gap, then its values
        clock = np.r_[order[0], order[:-1]]
        clock[starts] = order[starts]
        gap_subcolumns = _gap_subcolumns(schema.timestamped)
        if schema.timestamped:
            gap_parts = {
                gap_subcolumns[0].name: (np.floor(order / _DAY) - np.floor(clock / _DAY)).astype("float64"),
                gap_subcolumns[1].name: order % _DAY,
            }
        else:
            gap_parts = {gap_subcolumns[0].name: order - clock}
        self.gap_discretiser_ = self._discretiser(len(events), options).fit(gap_parts, gap_subcolumns)
        gap_tokens = self.gap_discretiser_.encode(gap_parts)
        self.event_encoder_: TableEncoder | None = None
        value_tokens = np.zeros((len(events), 0), dtype="int64")
        self.value_discretiser_: Discretiser | None = None
        if dynamic:
            frame = events[dynamic]
            self.event_encoder_ = TableEncoder(
                SequenceSynthesizer._sub_schema(schema, dynamic, frame), options
            )
            self.event_encoder_.fit(frame)
            parts = self.event_encoder_.encode(frame)
            self.value_discretiser_ = self._discretiser(len(events), options).fit(
                parts, self.event_encoder_.subcolumns, dates=_date_subcolumns(self.event_encoder_)
            )
            value_tokens = self.value_discretiser_.encode(parts)
        # timestamps: the day of the month an event falls on, drawn before its gap (the gap's days are
        # then drawn among those that land on it): a monthly rhythm is one code for the network to
        # learn (a salary on the 15th), not a different count of days after each previous event
        self.day_token_ = schema.timestamped
        days_of_month = np.zeros((len(events), 0))
        if self.day_token_:
            days_of_month = _calendar(order)[DOM].reshape(-1, 1) - 1
        self.max_days_ = int(gap_parts[gap_subcolumns[0].name].max()) if self.day_token_ else 0
        event_tokens = np.column_stack(
            [np.zeros(len(events), dtype="int64"), days_of_month.astype("int64"), gap_tokens, value_tokens]
        )

        self.schema_ = schema
        self.static_, self.dynamic_ = static, dynamic
        self.max_length_ = int(lengths.max())
        self.drawn_length_ = True
        self.hidden_ = self.hidden_size
        self.training_: dict[str, Any] = {"entities": len(starts), "events": len(events)}
        spent = time.perf_counter() - started
        # where each event's predecessor lies in time (for the first event: the entity's first time),
        # then where each entity's last event lies (the step that holds its stop flag)
        firsts = np.repeat(order[starts], lengths)
        self.time_edges_ = self._edges(clock)
        # the latest time an event may take: the rare_min_count-th latest one, as value protection
        # bounds a numeric column (histories observed up to a window's end stop there)
        self.last_time_ = float(np.sort(order)[-min(len(order), options.rare_min_count)])
        self.elapsed_edges_ = self._edges(clock - firsts)
        times, origins = np.r_[clock, order[starts + lengths - 1]], np.r_[firsts, order[starts]]
        left = np.r_[
            np.repeat(lengths, lengths) - (np.arange(len(events)) - np.repeat(starts, lengths)),
            np.zeros(len(starts), dtype="int64"),
        ]
        position = self._position_codes(times, origins, left)
        scalars = self._position_scalars(times, origins, left)
        import torch

        from mirage.engines.argn._runtime import torch_scope

        with torch_scope(self.cpu_threads):  # the initial weights from the seed, torch's own state untouched
            torch.manual_seed(self.seed)
            network = self._new_network(self.dropout)
        self._train(network, entity_tokens, event_tokens, lengths, starts, position, scalars, spent)
        self.network_ = network
        return self

    def _discretiser(self, rows: int, options: EncodingOptions) -> Discretiser:
        from mirage.engines.argn._defaults import auto_min_bin_count

        return Discretiser(
            n_bins=self.n_bins,
            sub_bins=self.sub_bins,
            min_count=auto_min_bin_count(rows),
            protect=options.rare_min_count,
        )

    @staticmethod
    def _edges(values: np.ndarray) -> np.ndarray:
        """Interior quantiles of ``values``: :data:`_POSITION_BINS` bins at most."""
        inner = np.linspace(0.0, 1.0, _POSITION_BINS + 1)[1:-1]
        return np.unique(np.quantile(values, inner)).astype("float64")

    def _position_cardinalities(self) -> list[int]:
        cards = [len(self.time_edges_) + 1, len(self.elapsed_edges_) + 1]
        cards += [_LEFT_CODES] if self.drawn_length_ else []
        return cards + ([7, 31, 24] if self._require_fitted().timestamped else [])

    def _position_codes(self, clock: np.ndarray, first: np.ndarray, left: np.ndarray) -> np.ndarray:
        """Per time in ``clock`` (an entity's first at ``first``, ``left`` events still to come): its
        quantile bin among the training events' times and since the entity's first event, the events
        left, and for timestamps its weekday, day of month and hour, int64 ``(n, P)``."""
        codes = [
            np.searchsorted(self.time_edges_, clock, side="right"),
            np.searchsorted(self.elapsed_edges_, clock - first, side="right"),
        ]
        if self.drawn_length_:
            codes.append(np.clip(left, 0, _LEFT_CODES - 1))
        if self._require_fitted().timestamped:
            codes += list(self._calendar_codes(clock).T)
        return np.column_stack(codes).astype("int64")

    @staticmethod
    def _calendar_codes(clock: np.ndarray) -> np.ndarray:
        """The weekday, day of month and hour of each time in ``clock`` (seconds), int64 ``(n, 3)``."""
        parts = _calendar(clock)
        return np.column_stack(
            [
                parts["_weekday"],
                np.clip(parts["_monthday"] - 1, 0, 30),
                np.clip(np.floor(parts["_hour"]), 0, 23).astype("int64"),
            ]
        ).astype("int64")

    def _position_scalars(self, clock: np.ndarray, first: np.ndarray, left: np.ndarray) -> np.ndarray:
        """The same positions as numbers, scaled by the spread of the training ones, float32 ``(n, S)``;
        with drawn lengths also the share of events left and the time left per event left (the pace a
        history must keep to end near the learned times' end)."""
        out = []
        spans = []
        for edges, value in ((self.time_edges_, clock), (self.elapsed_edges_, clock - first)):
            low = edges[0] if edges.size else 0.0
            span = edges[-1] - edges[0] if edges.size > 1 else 1.0
            spans.append(span if span > 0 else 1.0)
            out.append((value - low) / spans[-1])
        if self.drawn_length_:
            out.append(left / self.max_length_)
            pace = (self.last_time_ - clock) / (np.maximum(left, 0) + 1) / (spans[0] / self.max_length_)
            out.append(np.log1p(np.maximum(pace, 0.0)))
        return np.clip(np.column_stack(out), -2.0, 3.0).astype("float32")

    def _event_cardinalities(self) -> list[int]:
        cards = [2, *([31] if self.day_token_ else []), *self.gap_discretiser_.domain.cardinalities]
        if self.value_discretiser_ is not None:
            cards += list(self.value_discretiser_.domain.cardinalities)
        return cards

    def _new_network(self, dropout: float) -> SequenceNetwork:
        from mirage.sequential._argn_network import LENGTH_SCALARS, POSITION_SCALARS, SequenceNetwork

        sub_valid: dict[int, np.ndarray] = {}
        code_valid: dict[int, np.ndarray] = {}
        offset = self._gap_offset()
        for disc in (self.gap_discretiser_, self.value_discretiser_):
            if disc is None:
                continue
            for j in range(len(disc.domain)):
                if (valid := disc.sub_bin_valid(j)) is not None:
                    sub_valid[offset + j] = valid
                if (codes := disc.code_valid(j)) is not None:
                    code_valid[offset + j] = codes
            offset += len(disc.domain)
        self._require_fitted()
        return SequenceNetwork(
            self.entity_discretiser_.domain.cardinalities,
            self._event_cardinalities(),
            sub_valid,
            code_valid,
            self.hidden_,
            self.depth,
            dropout,
            self._position_cardinalities(),
            POSITION_SCALARS + (LENGTH_SCALARS if self.drawn_length_ else 0),
        )

    def _train(
        self,
        network: SequenceNetwork,
        entity_tokens: np.ndarray,
        event_tokens: np.ndarray,
        lengths: np.ndarray,
        starts: np.ndarray,
        position: np.ndarray,
        scalars: np.ndarray,
        spent: float,
    ) -> None:
        """Padded histories (the step after the last event holds the stop flag), trained with AdamW and
        early stopping on a validation share of the entities."""
        import copy

        import torch

        from mirage.engines.argn._optimiser import AdamW
        from mirage.engines.argn._runtime import torch_scope

        n, width = len(lengths), event_tokens.shape[1]
        steps = self.max_length_ + 1
        tokens = np.zeros((n, steps, width), dtype="int64")
        weight = np.zeros((n, steps, width), dtype="float32")
        entity_of = np.repeat(np.arange(n), lengths)
        step_of = np.arange(len(event_tokens)) - np.repeat(starts, lengths)
        tokens[entity_of, step_of] = event_tokens
        weight[entity_of, step_of] = 1.0
        weight[:, 0, 1 : self._gap_offset() + len(self.gap_discretiser_.domain)] = 0.0  # the entity's time
        tokens[np.arange(n), lengths, 0] = 1  # the stop flag after the last event
        weight[np.arange(n), lengths, 0] = 1.0
        where = np.zeros((n, steps, position.shape[1]), dtype="int64")
        where[entity_of, step_of] = position[: len(event_tokens)]
        where[np.arange(n), lengths] = position[len(event_tokens) :]
        scaled = np.zeros((n, steps, scalars.shape[1]), dtype="float32")
        scaled[entity_of, step_of] = scalars[: len(event_tokens)]
        scaled[np.arange(n), lengths] = scalars[len(event_tokens) :]

        rng = np.random.default_rng(self.seed)
        permutation = rng.permutation(n)
        # a validation share of a few entities is too noisy to stop on (56 fMRI histories stopped at
        # 15 epochs, lag-1 0.76 against 0.87 real): below 200 entities the training loss decides
        n_val = round(n * self.validation_share) if n >= _MIN_VALIDATED else 0
        val, fit = permutation[:n_val], permutation[n_val:]
        batch = min(self.batch_size or _auto_batch(len(fit)), len(fit))
        budget = self.max_training_time * 4 / 5 - spent / 2
        history: list[dict[str, float]] = []
        stopped, best_epoch, best = "max_epochs", 0, math.inf
        start = time.perf_counter()
        with torch_scope(self.cpu_threads):
            torch.manual_seed(self.seed)
            x_ent = torch.as_tensor(entity_tokens, dtype=torch.long)
            x_ev = torch.as_tensor(tokens)
            x_w = torch.as_tensor(weight)
            x_where = torch.as_tensor(where)
            x_scaled = torch.as_tensor(scaled)
            sizes = torch.as_tensor(lengths + 1)

            def batch_loss(rows: torch.Tensor) -> torch.Tensor:
                span = int(sizes[rows].max())  # the batch's own padding only
                loss: torch.Tensor = network(
                    x_ent[rows],
                    x_ev[rows, :span],
                    x_where[rows, :span],
                    x_scaled[rows, :span],
                    x_w[rows, :span],
                )
                return loss

            optimiser = AdamW(network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
            best_state = copy.deepcopy(network.state_dict())
            bad = 0
            fit_rows = torch.as_tensor(fit)
            for epoch in range(1, self.max_epochs + 1):
                network.train(True)
                shuffled = fit_rows[torch.randperm(len(fit))]
                total, out_of_time = 0.0, False
                for first in range(0, len(fit), batch):
                    rows = shuffled[first : first + batch]
                    loss = batch_loss(rows)
                    optimiser.zero_grad()
                    (loss / len(rows)).backward()
                    optimiser.step()
                    total += float(loss.detach())
                    if time.perf_counter() - start > budget:
                        out_of_time = True
                        break
                network.train(False)
                train_loss = total / len(fit)
                if n_val:
                    with torch.inference_mode():
                        val_loss = float(batch_loss(torch.as_tensor(val))) / n_val
                else:
                    val_loss = train_loss
                elapsed = time.perf_counter() - start
                history.append(
                    {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "seconds": elapsed}
                )
                if val_loss < best - _MIN_DELTA * abs(best) or not math.isfinite(best):
                    best, best_epoch, bad = val_loss, epoch, 0
                    best_state = copy.deepcopy(network.state_dict())
                else:
                    bad += 1
                    optimiser.lr *= _LR_DECAY
                left = min(budget - elapsed, (self.max_epochs - epoch) * elapsed / epoch)
                report_event(
                    EpochProgress(
                        "fit", epoch, self.max_epochs, train_loss, val_loss, best_epoch, elapsed, left
                    )
                )
                if out_of_time:
                    stopped = "max_training_time"
                    break
                if bad >= self.patience:
                    stopped = "early_stopping"
                    break
            network.load_state_dict(best_state)
            network.train(False)
        report_event(TrainingDone("fit", len(history), best_epoch, stopped))
        self.training_.update(
            {
                "stopped": stopped,
                "best_epoch": best_epoch,
                "best_val_loss": best,
                "epochs": len(history),
                "history": history,
                "batch_size": batch,
            }
        )

    # --- drawing -------------------------------------------------------------------------------
    def _require_fitted(self) -> SequenceSchema:
        if self.schema_ is None:
            raise OptionError("this sequence model is not fitted yet; call fit first")
        return self.schema_

    def sample(
        self,
        n_entities: int | None = None,
        *,
        seed: int | None = None,
        context: pd.DataFrame | None = None,
        first: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Whole histories of ``n_entities`` entities (or one per row of ``context``), ordered by
        entity then order, with their context columns.  ``first``: one row per entity holding values
        its first event takes (columns that change along a history)."""
        chunks = list(self.sample_chunks(n_entities, seed=seed, context=context, first=first))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def sample_chunks(
        self,
        n_entities: int | None = None,
        *,
        seed: int | None = None,
        context: pd.DataFrame | None = None,
        first: pd.DataFrame | None = None,
    ) -> Iterator[pd.DataFrame]:
        """The histories of :data:`~mirage.sequential.ENTITY_BLOCK` entities at a time (flat memory)."""
        schema = self._require_fitted()
        seed = self.seed if seed is None else seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise OptionError(f"seed must be a non-negative integer, got {seed!r}")
        if context is not None:
            if not isinstance(context, pd.DataFrame):
                raise OptionError(f"context must be a pandas DataFrame, got {type(context).__name__}")
            if not self.context_columns_:
                raise OptionError("this model was fitted without a context; it cannot sample given one")
            absent = [c for c in self.context_columns_ if c not in context.columns]
            if absent:
                raise OptionError(f"the context has no column {absent[0]!r}")
            if n_entities is not None and n_entities != len(context):
                raise OptionError(f"n_entities is {n_entities} but the context has {len(context)} rows")
            n_entities = len(context)
        elif self.context_columns_:
            raise OptionError("this model was fitted with a context: pass one (one row per entity)")
        if first is not None:
            if not isinstance(first, pd.DataFrame):
                raise OptionError(f"first must be a pandas DataFrame, got {type(first).__name__}")
            for name in first.columns:
                if name in self.static_:
                    raise OptionError(
                        f"first: column {name!r} is constant within each history; only columns that "
                        f"change along a history ({', '.join(self.dynamic_) or 'none'}) can be given"
                    )
                if name not in self.dynamic_:
                    raise OptionError(f"first: {name!r} is not a column of the events' values")
                if first[name].isna().any():
                    raise OptionError(f"first: column {name!r} has missing values")
            if n_entities is None:
                n_entities = len(first)
            if n_entities != len(first):
                raise OptionError(f"n_entities is {n_entities} but first has {len(first)} rows")
        if isinstance(n_entities, bool) or not isinstance(n_entities, (int, np.integer)) or n_entities < 0:
            raise OptionError(f"n_entities must be a non-negative integer, got {n_entities!r}")
        n = int(n_entities)
        if n == 0:
            yield pd.DataFrame({c: pd.Series([], dtype=object) for c in schema.columns.names})
            return
        known = self._first_tokens(first) if first is not None else {}
        for block, start in enumerate(range(0, n, ENTITY_BLOCK)):
            stop = min(n, start + ENTITY_BLOCK)
            part = None if context is None else context.iloc[start:stop].reset_index(drop=True)
            given = {j: codes[start:stop] for j, codes in known.items()}
            yield self._sample_block(start, stop - start, _derive(int(seed), block), part, given)

    def _first_tokens(self, first: pd.DataFrame) -> dict[int, np.ndarray]:
        """The event-token codes of the values ``first`` gives, by event-token index."""
        if self.event_encoder_ is None or self.value_discretiser_ is None or first.shape[1] == 0:
            return {}
        disc = self.value_discretiser_
        full: dict[str, np.ndarray] = {s.name: np.zeros(len(first)) for s in disc.subcolumns}
        for codec in self.event_encoder_.codecs:
            if codec.column.name in first.columns:
                full.update(codec.encode(first[codec.column.name].reset_index(drop=True)))
        tokens = disc.encode(full)
        offset = self._gap_offset() + len(self.gap_discretiser_.domain)
        return {
            offset + j: tokens[:, j] for j, token in enumerate(disc.domain) if token.column in first.columns
        }

    def _entity_tokens(self, entities: pd.DataFrame, context: pd.DataFrame | None) -> np.ndarray:
        full = entities if context is None else pd.concat([context[self.context_columns_], entities], axis=1)
        return self.entity_discretiser_.encode(
            self.entity_encoder_.encode(full[self.entity_encoder_.schema.names])
        )

    def _sample_block(
        self, start: int, m: int, seed: int, context: pd.DataFrame | None, known: Mapping[int, np.ndarray]
    ) -> pd.DataFrame:
        import torch

        from mirage.engines.argn._runtime import torch_scope

        schema = self._require_fitted()
        if context is None:
            entities = self.entity_engine_.sample(m, seed=_derive(seed, 0))
        else:
            entities = self.entity_engine_.sample(
                context=context[self.context_columns_], seed=_derive(seed, 0)
            )
        entities = entities.reset_index(drop=True)
        rng = np.random.default_rng(_derive(seed, 1))
        clock = self._firsts(entities)
        firsts = clock.copy()
        lengths = self._lengths(entities)
        if self.drawn_length_:  # the history network learned the integer lengths
            entities[LENGTH] = lengths
        n_gap = len(self.gap_discretiser_.domain)
        gap_names = [s.name for s in self.gap_discretiser_.subcolumns]
        if schema.timestamped:
            start_gap = {gap_names[0]: np.zeros(m), gap_names[1]: clock % _DAY}
        else:
            start_gap = {gap_names[0]: np.zeros(m)}
        first_gap_tokens = self.gap_discretiser_.encode(start_gap)
        go = self._gap_offset()
        network = self.network_
        pieces: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        gaps: list[np.ndarray] = []
        with torch.inference_mode(), torch_scope(self.cpu_threads):
            vector = network.entity_vector(torch.as_tensor(self._entity_tokens(entities, context)))
            state = network.initial_state(vector)
            previous = network.start.expand(m, network.hidden).clone()
            alive = np.ones(m, dtype=bool)
            for t in range(self.max_length_ + 1):
                active = np.flatnonzero(alive)
                if active.size == 0:
                    break
                index = torch.as_tensor(active)
                left = lengths[active] - t
                position = torch.as_tensor(self._position_codes(clock[active], firsts[active], left))
                scalars = torch.as_tensor(self._position_scalars(clock[active], firsts[active], left))
                steps = torch.full((active.size,), t, dtype=torch.long)
                given = previous[index] + network.step_input(steps, position, scalars)
                out, h = network.gru(given.unsqueeze(1), state[:, index].contiguous())
                state[:, index] = h
                base = out[:, 0] + vector[index]
                fixed: dict[int, torch.Tensor] = {}
                if self.drawn_length_:
                    fixed[0] = torch.as_tensor((left <= 0).astype("int64"))
                if t == 0:
                    fixed[0] = torch.zeros(active.size, dtype=torch.long)
                    for j in range(n_gap):
                        fixed[go + j] = torch.as_tensor(first_gap_tokens[active, j])
                    if self.day_token_:
                        fixed[1] = torch.as_tensor(_calendar(clock[active])[DOM] - 1)
                    fixed.update({j: torch.as_tensor(codes[active]) for j, codes in known.items()})
                elif t == self.max_length_:  # never longer than the longest history learned
                    fixed[0] = torch.ones(active.size, dtype=torch.long)
                window = self._window_bias(clock[active]) if t > 0 and self.drawn_length_ else {}
                drawn = network.draw_event(base, fixed, window, rng)
                ended = drawn[:, 0].numpy() == 1
                alive[active[ended]] = False
                going = active[~ended]
                if going.size == 0:
                    continue
                kept = drawn[torch.as_tensor(~ended)]
                tokens = kept.numpy()
                if t == 0:
                    gap = np.zeros(going.size)
                else:
                    gap = self._gaps(tokens[:, 1 : go + n_gap], clock[going], rng)
                    late = clock[going] + gap > self.last_time_
                    # a history with events still to come draws a late event again: the training events
                    # all lie within the learned times, so the next one is drawn given that it does
                    inner = np.flatnonzero(~ended)
                    for _ in range(_LATE_DRAWS if self.drawn_length_ else 0):
                        again = np.flatnonzero(late)
                        if again.size == 0:
                            break
                        redrawn = network.draw_event(
                            base[torch.as_tensor(inner[again])],
                            {0: torch.zeros(again.size, dtype=torch.long)},
                            self._window_bias(clock[going[again]]),
                            rng,
                        )
                        kept[torch.as_tensor(again)] = redrawn
                        tokens = kept.numpy()
                        gap[again] = self._gaps(tokens[again, 1 : go + n_gap], clock[going[again]], rng)
                        late = clock[going] + gap > self.last_time_
                    # an event still later than the learned times ends its history instead (a window's end)
                    if late.any():
                        alive[going[late]] = False
                        going, gap, tokens, kept = going[~late], gap[~late], tokens[~late], kept[~late]
                        if going.size == 0:
                            continue
                clock[going] += gap
                previous[torch.as_tensor(going)] = network.event_vector(kept)
                pieces.append(tokens[:, go + n_gap :])
                rows.append(going)
                gaps.append(gap)
        return self._assemble(schema, start, entities, pieces, rows, gaps, context, rng)

    def _window_bias(self, then: np.ndarray) -> dict[int, Any]:
        """Logit biases, by event-token index, that keep an event after a previous one at ``then``
        within the learned times: its gap's days (timestamps) or steps, and on the window's last day
        its time of day.  A history with events still to come draws its next one given that it falls
        in the window its training histories were observed in (drawing freely and ending a history
        whose event fell late left 2-2.6% of transactions histories short of their drawn lengths).  A
        limit no piece reaches leaves the draw free (the event comes late and ends its history).
        Values are tensors or functions of the codes drawn so far (see
        :meth:`SequenceNetwork.draw_event`)."""
        schema = self._require_fitted()
        disc = self.gap_discretiser_
        names = [sub.name for sub in disc.subcolumns]
        if schema.timestamped:
            days = np.floor(self.last_time_ / _DAY) - np.floor(then / _DAY)
            out = self._range_bias(names[0], days, None)
            if self.day_token_:
                out = self._on_drawn_day(out, then)
            # on the last day, no later than the last time: given the days drawn, where they say it
            days_token = next(j for j, token in enumerate(disc.domain) if token.subcolumn == names[0])
            latest = np.full_like(days, self.last_time_ % _DAY)
            return out | self._range_bias(names[1], latest, (days_token, days))
        return self._range_bias(names[0], self.last_time_ - then, None)

    def _on_drawn_day(self, window: dict[int, Any], then: np.ndarray) -> dict[int, Any]:
        """``window`` with the days bin token restricted to the days after ``then`` that fall on the
        drawn day of the month (rows where none can keep the window's bias alone)."""
        import torch

        from mirage.engines.argn._network import MASK_BIAS

        disc = self.gap_discretiser_
        k = next(j for j, token in enumerate(disc.domain) if token.subcolumn == disc.subcolumns[0].name)
        j = self._gap_offset() + k
        touches = self._day_touches(k)  # (days, codes): which days each code's piece holds
        free = ~touches.any(axis=0)  # codes of longer gaps: not steered
        day = np.floor(then / _DAY).astype("int64")[:, None] + np.arange(touches.shape[0])[None, :]
        days = day.astype("datetime64[D]")
        month_day = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype("int64")
        window_bias = window.get(j)

        def given(drawn: torch.Tensor) -> torch.Tensor:
            on_day = month_day == drawn[:, 1].numpy()[:, None]  # (rows, days)
            allowed = ((on_day.astype("float32") @ touches.astype("float32")) > 0) | free
            kept = window_bias if isinstance(window_bias, torch.Tensor) else torch.zeros(allowed.shape)
            bias = kept + torch.as_tensor(np.where(allowed, 0.0, MASK_BIAS).astype("float32"))
            usable = (bias > MASK_BIAS / 2).any(dim=1, keepdim=True)
            return torch.where(usable, bias, kept)

        return window | {j: given}

    def _on_month_day(
        self,
        days: np.ndarray,
        month_day: np.ndarray,
        codes: np.ndarray,
        then: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``days`` drawn within a range of days (a bin token's piece) moved onto a day of that range
        that falls on the drawn day of the month (``month_day``, 0-based), drawn uniformly among them;
        rows without one keep theirs."""
        touches = self._day_touches(0)
        span = np.arange(touches.shape[0])
        day = np.floor(then / _DAY).astype("int64")[:, None] + span[None, :]
        dates = day.astype("datetime64[D]")
        on_day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype("int64") == month_day[
            :, None
        ]
        fits = on_day & touches[:, np.clip(codes, 0, touches.shape[1] - 1)].T  # (rows, days)
        moved = fits.any(axis=1) & ~on_day[np.arange(len(days)), np.clip(days, 0, span[-1]).astype("int64")]
        moved &= days <= span[-1]
        if moved.any():
            weights = fits[moved] * rng.random(fits[moved].shape)
            days = days.copy()
            days[moved] = weights.argmax(axis=1)
        return days

    def _day_touches(self, k: int) -> np.ndarray:
        """``(days, codes)``: whether the piece of each code of gap token ``k`` (the days' bin) holds
        each whole number of days up to the most days learned."""
        key = (-1000 - k, 0.0)
        if key not in self._range_masks:
            rows = [
                np.asarray(self.gap_discretiser_.range_codes(k, d - 0.5, d + 0.5), dtype=bool)
                for d in range(min(self.max_days_, _MAX_DAYS) + 1)
            ]
            self._range_masks[key] = np.stack(rows)
        touches = self._range_masks[key]
        assert touches is not None
        return touches

    def _range_bias(
        self, subcolumn: str, high: np.ndarray, when: tuple[int, np.ndarray] | None
    ) -> dict[int, Any]:
        """Biases keeping the gap discretiser's ``subcolumn`` within ``[0, high]`` per row, by event-token
        index; ``when``: ``(j, days)``, only on rows whose drawn gap token ``j`` (a days bin) holds no
        value below ``days``."""
        import torch

        from mirage.engines.argn._network import MASK_BIAS

        disc = self.gap_discretiser_
        offset = self._gap_offset()
        values, where = np.unique(high, return_inverse=True)
        where = where.reshape(-1)
        cache = self._range_masks
        out: dict[int, Any] = {}
        tokens = [j for j, token in enumerate(disc.domain) if token.subcolumn == subcolumn]
        for j in tokens:
            masks = []
            for value in values.tolist():
                if (j, value) not in cache:
                    mask = disc.range_codes(j, 0.0, value)
                    # a limit no piece (no sub-bin of a bin) reaches leaves the draw free
                    cache[j, value] = None if mask is None else mask | ~mask.any(axis=-1, keepdims=True)
                masks.append(cache[j, value])
            if any(m is None for m in masks):
                return {}
            stacked = np.stack([m for m in masks if m is not None])
            bias = torch.as_tensor(np.where(stacked[where], 0.0, MASK_BIAS).astype("float32"))
            out[offset + j] = self._conditional_bias(bias, offset + j, j > tokens[0], when)
        return out

    def _conditional_bias(self, bias: Any, j: int, sub_bin: bool, when: tuple[int, np.ndarray] | None) -> Any:
        """``bias`` ``(n, card)`` or, for a sub-bin token, ``(n, bins, card)``, as the tensor or function
        :meth:`SequenceNetwork.draw_event` takes."""
        import torch

        if not sub_bin and when is None:
            return bias

        def given(drawn: torch.Tensor) -> torch.Tensor:
            rows = torch.arange(drawn.shape[0])
            chosen = bias[rows, drawn[:, j - 1]] if sub_bin else bias
            if when is None:
                return chosen
            k, days = when
            codes = drawn[:, self._gap_offset() + k].numpy()
            exact = torch.as_tensor(self._no_earlier(codes, k, days))
            return torch.where(exact.unsqueeze(1), chosen, torch.zeros_like(chosen))

        return given

    def _gap_offset(self) -> int:
        """The event-token index of the first gap token (after the stop flag and the day token)."""
        return 2 if self.day_token_ else 1

    def _no_earlier(self, codes: np.ndarray, k: int, days: np.ndarray) -> np.ndarray:
        """Whether each row's drawn bin code of gap token ``k`` holds no value below its ``days``."""
        values, where = np.unique(days, return_inverse=True)
        cache = self._range_masks
        for value in values.tolist():
            if (-1 - k, value) not in cache:  # negative keys: below, not within
                cache[-1 - k, value] = self.gap_discretiser_.range_codes(k, -np.inf, value - 0.5)
        earlier = np.stack([np.asarray(cache[-1 - k, v], dtype=bool) for v in values.tolist()])
        return np.asarray(~earlier[where.reshape(-1), codes], dtype=bool)

    def _gaps(self, tokens: np.ndarray, then: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The gap in order units each event's tokens after the stop flag (the day token, then the gap
        tokens) give, after the previous event at ``then``."""
        names = [s.name for s in self.gap_discretiser_.subcolumns]
        day_tokens = self._gap_offset() - 1
        parts = self.gap_discretiser_.decode(tokens[:, day_tokens:], rng)
        schema = self._require_fitted()
        if not schema.timestamped:
            return np.maximum(0.0, parts[names[0]])
        days = np.maximum(0.0, np.rint(parts[names[0]]))
        if self.day_token_:
            days = self._on_month_day(days, tokens[:, 0], tokens[:, day_tokens], then, rng)
        moment = (np.floor(then / _DAY) + days) * _DAY + np.clip(parts[names[1]], 0.0, _DAY - 1)
        return np.maximum(0.0, moment - then)

    def _lengths(self, entities: pd.DataFrame) -> np.ndarray:
        """Each entity's drawn number of events (unused by a model whose stop flag is drawn)."""
        if not self.drawn_length_:
            return np.zeros(len(entities), dtype="int64")
        drawn = np.floor(_stretch_tails(entities[LENGTH].to_numpy(dtype="float64"), self.length_tails_))
        return np.clip(drawn, 1, self.max_length_).astype("int64")

    def _firsts(self, entities: pd.DataFrame) -> np.ndarray:
        first = entities[FIRST].to_numpy(dtype="float64")
        if self._require_fitted().timestamped:
            return np.rint(first) * _DAY + np.clip(entities[TOD].to_numpy(dtype="float64"), 0.0, _DAY - 1)
        return first.copy()

    def _assemble(
        self,
        schema: SequenceSchema,
        start: int,
        entities: pd.DataFrame,
        pieces: list[np.ndarray],
        rows: list[np.ndarray],
        gaps: list[np.ndarray],
        context: pd.DataFrame | None,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        entity_of = np.concatenate(rows)
        step_of = np.concatenate([np.full(len(r), t) for t, r in enumerate(rows)])
        arrange = np.lexsort((step_of, entity_of))
        entity_of = entity_of[arrange]
        tokens = np.concatenate(pieces)[arrange]
        gap = np.concatenate(gaps)[arrange]
        n = len(entity_of)
        lengths = np.bincount(entity_of, minlength=len(entities))
        running = np.cumsum(gap)
        firsts = np.repeat(np.cumsum(np.r_[0, lengths[:-1]]), lengths)
        order = self._firsts(entities)[entity_of] + running - running[firsts]
        values = pd.DataFrame(index=pd.RangeIndex(n))
        if self.event_encoder_ is not None and self.value_discretiser_ is not None:
            parts = self.value_discretiser_.decode(tokens, rng)
            values = self.event_encoder_.decode(parts, n, rng, start)
        out: dict[str, Any] = {}
        for column in schema.columns:
            name = column.name
            if name == schema.entity:
                out[name] = self._keys(schema, start, entity_of, context)
            elif name == schema.order:
                out[name] = order_values(order, column)
            elif name in self.static_:
                out[name] = entities[name].to_numpy()[entity_of]
            else:
                out[name] = values[name].to_numpy()
        frame = pd.DataFrame(out)
        if context is not None:
            for name in self.context_columns_:
                frame[name] = context[name].to_numpy()[entity_of]
        return frame

    @staticmethod
    def _keys(
        schema: SequenceSchema, start: int, entity_of: np.ndarray, context: pd.DataFrame | None
    ) -> np.ndarray:
        if context is not None and schema.entity in context.columns:
            return context[schema.entity].to_numpy()[entity_of]
        count = int(entity_of.max()) + 1 if entity_of.size else 0
        return entity_keys(schema.columns[schema.entity], start, count)[entity_of]

    # --- persistence ---------------------------------------------------------------------------
    def save(self, target: str | Path | IO[bytes], *, force: bool = False) -> Path | IO[bytes]:
        """One model file (JSON manifest and safetensors arrays, no pickle)."""
        from mirage.sequential._argn_state import model_state

        schema = self._require_fitted()
        state, arrays = model_state(self)
        return write_model_file(SEQUENTIAL_ARGN, self.get_params(), schema, state, arrays, target, force)

    @classmethod
    def load(cls, source: str | Path | bytes | IO[bytes]) -> ArgnSequenceSynthesizer:
        """The argn sequence model in a model file (a path, bytes or a binary stream)."""
        from mirage.sequential._argn_state import restore_model

        def build(manifest: Mapping[str, Any], payload: bytes) -> ArgnSequenceSynthesizer:
            model = cls(**dict(manifest["hyperparameters"]))
            restore_model(model, manifest, payload)
            return model

        return read_model_file(source, SEQUENTIAL_ARGN, "argn sequence model", build)
