"""The fast sequence model: each event drawn by cart given its entity and its previous events.

An entity row (its attributes, its number of events, its first order value) is drawn first, given the
entity's context row when there is one.  Then every entity's history grows one step at a time, all
entities of a block at once: event ``t`` is drawn given the entity's row, the step index, the events
left, and the previous ``lags`` events' values and gaps.  Blocks of :data:`ENTITY_BLOCK` entities are
seeded ``SeedSequence([seed, block])``: the same seed gives the same histories however they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from mirage.errors import DataError, ModelFileError, OptionError, SchemaError
from mirage.schema import Kind, Schema, infer_schema
from mirage.sequential._given import EncodedDraw, usable
from mirage.sequential._keys import clock_seconds, entity_keys, order_values
from mirage.sequential._schema import SequenceSchema

if TYPE_CHECKING:
    from mirage.engines._base import Synthesizer

__all__ = [
    "ENTITY_BLOCK",
    "SEQUENTIAL",
    "SequenceSynthesizer",
    "engine_state",
    "read_model_file",
    "restore_engine",
    "sorted_events",
    "write_model_file",
]

_Model = TypeVar("_Model")
_Engine = TypeVar("_Engine", bound="Synthesizer")

SEQUENTIAL = "sequential"  # the engine field of a sequence model file
ENTITY_BLOCK = 16_384
LENGTH, FIRST, GAP, STEP, LEFT = "_length", "_first", "_gap", "_step", "_left"
DOW, DOM, HOUR, MONTH_LEFT, MID_LEFT = "_weekday", "_monthday", "_hour", "_month_left", "_mid_month_left"
DAYS, TOD = "_days", "_time_of_day"
DAY_PREFIX = "_day"  # the calendar of the day an event falls on: _day_weekday, _day_monthday, ...
_DAY = 86_400.0
_NONE = "<none>"  # a categorical lag before the entity's first event


def _derive(*words: int) -> int:
    return int(np.random.SeedSequence(list(words)).generate_state(1, dtype=np.uint32)[0])


def _calendar(seconds: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    """Day of week, day of month, days to the next 1st and 15th, and hour of ``seconds``: for an entity's
    previous event, what the next event's day is drawn given; for the day an event falls on (names
    prefixed :data:`DAY_PREFIX`), what its time of day and values are drawn given (paydays, weekly
    rhythms)."""
    stamps = np.floor(seconds).astype("int64").astype("datetime64[s]")
    days = stamps.astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    out = {
        DOW: ((days.astype("int64") + 3) % 7).astype("int64"),
        DOM: ((days - month).astype("int64") + 1).astype("int64"),
        MONTH_LEFT: ((month + 1).astype("datetime64[D]") - days).astype("int64"),
    }
    # the usual paydays: the 1st (days to the next month) and the 15th
    mid = month.astype("datetime64[D]") + 14
    out[MID_LEFT] = np.where(days <= mid, mid - days, (month + 1).astype("datetime64[D]") + 14 - days).astype(
        "int64"
    )
    if not prefix:
        out[HOUR] = (seconds % 86_400) / 3_600
    return {prefix + name: values for name, values in out.items()}


# whether an event's day comes before, on or after the next 1st and 15th: drawn ahead of the days
# themselves, so that a tree learns "never past the payday" as a class, not as a bound on a number
ANCHORS = {"_at_month": MONTH_LEFT, "_at_mid_month": MID_LEFT}
# the weekday of an event's day, drawn between the anchors and the days: the days are drawn given it
# (moving them onto the drawn weekday was tried: it broke the bursts after paydays)
WEEKDAY = "_at_weekday"
_SIDES = ("before", "on", "after")


def _anchored(days: np.ndarray, calendar: Mapping[str, Any] | pd.DataFrame) -> dict[str, np.ndarray]:
    """The time model's targets: each anchor's side (see :data:`ANCHORS`), then the days."""
    out: dict[str, np.ndarray] = {}
    for name, left in ANCHORS.items():
        side = np.sign(days - np.asarray(calendar[left], dtype="int64")) + 1
        out[name] = np.asarray(_SIDES, dtype=object)[side]
    out[WEEKDAY] = (np.asarray(calendar[DOW], dtype="int64") + days) % 7
    out[DAYS] = days
    return out


def _within_anchors(drawn: pd.DataFrame, calendar: Mapping[str, Any]) -> np.ndarray:
    """The drawn days moved into the range the drawn anchor sides allow (the first anchor's alone
    where they disagree)."""
    days = np.maximum(0, np.rint(drawn[DAYS].to_numpy(dtype="float64")))
    low, high = np.zeros(len(days)), np.full(len(days), np.inf)
    for i, (name, left) in enumerate(ANCHORS.items()):
        side = drawn[name].astype(object).to_numpy() if name in drawn.columns else np.full(len(days), None)
        at = np.asarray(calendar[left], dtype="float64")
        lo = np.where(side == "after", at + 1, np.where(side == "on", at, 0.0))
        hi = np.where(side == "before", at - 1, np.where(side == "on", at, np.inf))
        lo, hi = np.maximum(low, lo), np.minimum(high, hi)
        if i == 0:
            low, high = lo, hi
        else:
            keep = lo <= hi
            low, high = np.where(keep, lo, low), np.where(keep, hi, high)
    return np.clip(days, low, np.maximum(low, high))


def _lag(column: str, j: int) -> str:
    return f"_lag{j}_{column}"


class SequenceSynthesizer:
    """Histories per entity: ``fit(events, schema, context=None)``, then ``sample(n_entities)``.

    ``lags``: how many previous events condition each event.  ``min_samples_leaf``: cart's leaf size.
    ``rare_min_count``: the fewest rows (entities, for a column constant within each entity) a category
    needs to be generated as itself rather than as the rare token (default 10, as for tables).
    """

    def __init__(
        self,
        *,
        lags: int = 3,
        min_samples_leaf: int | None = 8,
        rare_min_count: int | None = None,
        seed: int = 0,
    ) -> None:
        from mirage.engines._params import RARE_MIN_COUNT

        if isinstance(lags, bool) or not isinstance(lags, int) or not 1 <= lags <= 20:
            raise OptionError(f"lags must be an integer from 1 to 20, got {lags!r}")
        if rare_min_count is not None and (problem := RARE_MIN_COUNT.problem(rare_min_count)):
            raise OptionError(f"rare_min_count {problem}")
        self.lags = lags
        self.rare_min_count = rare_min_count
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed
        self.schema_: SequenceSchema | None = None

    # --- learning ------------------------------------------------------------------------------
    def fit(
        self, events: pd.DataFrame, schema: SequenceSchema, context: pd.DataFrame | None = None
    ) -> SequenceSynthesizer:
        """Learn ``events`` (one row per event) under ``schema``; ``context``: one row per entity,
        holding the entity column and the columns its histories are drawn given."""
        from mirage.engines.cart import CartSynthesizer

        if not isinstance(schema, SequenceSchema):
            raise OptionError(f"schema must be a SequenceSchema, got {type(schema).__name__}")
        schema.validate(events)
        for name in events.columns:
            if str(name).startswith(("_lag", DAY_PREFIX)) or name in (
                LENGTH,
                FIRST,
                GAP,
                STEP,
                LEFT,
                DOW,
                DOM,
                HOUR,
                MONTH_LEFT,
                MID_LEFT,
                *ANCHORS,
                WEEKDAY,
                DAYS,
                TOD,
            ):
                raise SchemaError(f"column {name!r} uses a name the sequence model reserves; rename it")
        events, order = sorted_events(events, schema)
        codes, uniques = pd.factorize(events[schema.entity], sort=False)
        if len(uniques) < 2:
            raise DataError(f"the event table has {len(uniques)} entities; at least 2 are needed")
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        lengths = np.diff(np.r_[starts, len(events)])
        gap = np.r_[0.0, np.diff(order)]
        gap[starts] = 0.0
        values = schema.value_columns
        changes = events[values].ne(events[values].shift()).to_numpy() & ~events[values].isna().to_numpy()
        changes[starts] = False
        static = [c for c, moved in zip(values, changes.any(axis=0), strict=True) if not moved]
        dynamic = [c for c in values if c not in static]
        self.context_columns_: list[str] = []
        entity_context = None
        if context is not None:
            entity_context = self._align_context(context, uniques, schema)
            self.context_columns_ = list(entity_context.columns)

        entities = events.iloc[starts][static].reset_index(drop=True)
        entities[LENGTH] = lengths.astype("int64")
        if schema.timestamped:  # the first day and the time of day apart, so that hours stay real ones
            entities[FIRST] = np.floor(order[starts] / _DAY).astype("int64")
            entities[TOD] = order[starts] % _DAY
        else:
            entities[FIRST] = order[starts]
        self.entity_engine_ = CartSynthesizer(min_samples_leaf=self.min_samples_leaf, seed=self.seed)
        self.entity_engine_.fit(
            entities,
            self._sub_schema(schema, static, entities),
            context=entity_context,
            encoding_options=self._encoding(),
        )

        self.static_, self.dynamic_ = static, dynamic
        self.lagged_ = [c for c in dynamic if schema.columns[c].kind in (Kind.NUMERIC, Kind.CATEGORICAL)]
        data = pd.DataFrame(index=events.index)  # the timing first: an event's kind often follows from it
        given = self._history(events[self.lagged_], gap, starts, lengths)
        entity_rows = np.repeat(np.arange(len(starts)), lengths)
        for name in static:
            given[name] = self._as_drawn(
                events[name], entities[name], schema.columns[name].kind, self.rare_min_count or 10
            )
        for name in self.context_columns_:
            assert entity_context is not None
            given[name] = entity_context[name].to_numpy()[entity_rows]
        self.time_engine_: CartSynthesizer | None = None
        if schema.timestamped:
            clock = np.r_[order[0], order[:-1]]
            clock[starts] = order[starts]
            given = given.assign(**_calendar(clock))
            # an event's day is drawn first, as the days it lies after the previous event's day; then
            # its time of day (never a night hour no real event has) and its values, given the
            # calendar of that day: a payday or a Saturday is seen as such, not as a sum of gaps
            days = (np.floor(order / _DAY) - np.floor(clock / _DAY)).astype("int64")
            timing = pd.DataFrame(_anchored(days, given))
            self.time_engine_ = CartSynthesizer(
                min_samples_leaf=self.min_samples_leaf, smoothing=0.0, seed=self.seed
            )
            self.time_engine_.fit(
                timing, self._sub_schema(schema, [], timing), context=given, encoding_options=self._encoding()
            )
            given = given.assign(**{DAYS: days}, **_calendar(np.floor(order / _DAY) * _DAY, DAY_PREFIX))
        else:
            data[GAP] = gap
        # on a known day, what happens is drawn before the hour it happens at (a salary at 09:00)
        data = pd.concat([data, events[dynamic]], axis=1)
        if schema.timestamped:
            data[TOD] = order % _DAY
        self.event_engine_ = CartSynthesizer(min_samples_leaf=self.min_samples_leaf, seed=self.seed)
        self.event_engine_.fit(
            data, self._sub_schema(schema, dynamic, data), context=given, encoding_options=self._encoding()
        )
        self.schema_ = schema
        self.training_: dict[str, Any] = {"entities": len(starts), "events": len(events)}
        return self

    @staticmethod
    def _order_numbers(order: pd.Series, schema: SequenceSchema) -> np.ndarray:
        if schema.timestamped:
            from mirage.encoding.datetime import parse_datetimes

            # offsets (+01:00, Z) become the same instants in UTC, as a datetime column's codec reads them
            fmt = schema.columns[schema.order].datetime_format
            if fmt is not None:
                stamps = parse_datetimes(order, schema.order, fmt)
            else:
                stamps = pd.to_datetime(order, utc=True).dt.tz_localize(None)
            seconds = (stamps - pd.Timestamp(0)).dt.total_seconds().to_numpy(dtype="float64")
            return clock_seconds(seconds, schema.columns[schema.order])
        return order.to_numpy(dtype="float64")

    @staticmethod
    def _align_context(context: pd.DataFrame, uniques: Any, schema: SequenceSchema) -> pd.DataFrame:
        if not isinstance(context, pd.DataFrame):
            raise OptionError(f"context must be a pandas DataFrame, got {type(context).__name__}")
        if schema.entity not in context.columns:
            raise DataError(f"the context has no entity column {schema.entity!r}")
        keys = context[schema.entity]
        if keys.duplicated().any():
            raise DataError(f"the context has entity {keys[keys.duplicated()].iloc[0]!r} more than once")
        shared = [c for c in context.columns if c != schema.entity and c in schema.columns.names]
        if shared:
            raise SchemaError(f"context column {shared[0]!r} is also a column of the events; rename it")
        aligned = context.set_index(schema.entity).reindex(pd.Index(uniques))
        missing = aligned.isna().all(axis=1).to_numpy()
        if missing.any():
            raise DataError(f"entity {uniques[int(np.flatnonzero(missing)[0])]} has no row in the context")
        if aligned.shape[1] == 0:
            raise DataError("the context has no column besides the entity key")
        return aligned.reset_index(drop=True)

    def _encoding(self) -> Any:
        """The encoding options of every part's fit (None: the engines' defaults)."""
        from mirage.encoding import EncodingOptions

        return None if self.rare_min_count is None else EncodingOptions(rare_min_count=self.rare_min_count)

    @staticmethod
    def _as_drawn(values: pd.Series, per_entity: pd.Series, kind: Kind, rare_min_count: int) -> np.ndarray:
        """An entity attribute as the entity model draws it: a category held by too few entities to
        be generated verbatim comes out as the rare token, so events learn it as that token too."""
        from mirage.encoding.categorical import RARE_TOKEN

        if kind is not Kind.CATEGORICAL:
            return values.to_numpy()
        counts = per_entity.value_counts()
        rare = counts.index[counts < rare_min_count]
        return values.astype(object).where(~values.isin(rare), RARE_TOKEN).to_numpy()

    @staticmethod
    def _sub_schema(schema: SequenceSchema, declared: list[str], frame: pd.DataFrame) -> Schema:
        inferred = infer_schema(frame).to_dict()
        own = {entry["name"]: entry for entry in schema.columns.to_dict()["columns"]}
        inferred["columns"] = [own.get(entry["name"], entry) for entry in inferred["columns"]]
        return Schema.from_dict(inferred)

    def _history(
        self, values: pd.DataFrame, gap: np.ndarray, starts: np.ndarray, lengths: np.ndarray
    ) -> pd.DataFrame:
        """The conditioning columns of every training event: step, events left, lagged values."""
        step = np.arange(len(gap)) - np.repeat(starts, lengths)
        left = np.repeat(lengths, lengths) - step
        given: dict[str, Any] = {STEP: step.astype("int64"), LEFT: left.astype("int64")}
        for j in range(1, self.lags + 1):
            before = step < j
            for name in values.columns:
                shifted = values[name].shift(j)
                given[_lag(name, j)] = self._fill(shifted.to_numpy(), before, values[name])
            lagged_gap = np.r_[np.zeros(j), gap[:-j]] if len(gap) > j else np.zeros(len(gap))
            lagged_gap[before] = 0.0
            given[_lag(GAP, j)] = lagged_gap
        return pd.DataFrame(given)

    @staticmethod
    def _fill(values: np.ndarray, before: np.ndarray, like: pd.Series) -> np.ndarray:
        if pd.api.types.is_numeric_dtype(like.dtype) and not pd.api.types.is_bool_dtype(like.dtype):
            out = np.asarray(values, dtype="float64").copy()
            out[before] = 0.0
            return out
        out = np.asarray(values, dtype=object).copy()
        out[before] = _NONE
        return np.asarray([_NONE if v is None or v != v else str(v) for v in out], dtype=object)

    # --- drawing -------------------------------------------------------------------------------
    def _require_fitted(self) -> SequenceSchema:
        if self.schema_ is None:
            raise OptionError("this sequence model is not fitted yet; call fit first")
        return self.schema_

    def sample(
        self, n_entities: int | None = None, *, seed: int | None = None, context: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Whole histories of ``n_entities`` entities (or one per row of ``context``), ordered by
        entity then order, with their context columns."""
        chunks = list(self.sample_chunks(n_entities, seed=seed, context=context))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]

    def sample_chunks(
        self, n_entities: int | None = None, *, seed: int | None = None, context: pd.DataFrame | None = None
    ) -> Iterator[pd.DataFrame]:
        """The histories of :data:`ENTITY_BLOCK` entities at a time (flat memory)."""
        self._require_fitted()
        seed = self.seed if seed is None else seed
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
        if isinstance(n_entities, bool) or not isinstance(n_entities, (int, np.integer)) or n_entities < 0:
            raise OptionError(f"n_entities must be a non-negative integer, got {n_entities!r}")
        n = int(n_entities)
        if n == 0:
            yield self._empty()
            return
        for block, start in enumerate(range(0, n, ENTITY_BLOCK)):
            stop = min(n, start + ENTITY_BLOCK)
            part = None if context is None else context.iloc[start:stop].reset_index(drop=True)
            yield self._sample_block(start, stop - start, _derive(seed, block), part)

    def sample_to(
        self,
        path: str | Path,
        n_entities: int | None = None,
        *,
        seed: int | None = None,
        context: pd.DataFrame | None = None,
        force: bool = False,
        format: str | None = None,
    ) -> int:
        """Write the histories of ``sample(n_entities, seed=, context=)`` to one Parquet, CSV or JSON
        Lines file, :data:`ENTITY_BLOCK` entities at a time (memory stays flat however many), through a
        temporary file renamed into place; an existing file is kept unless ``force``.  Returns the
        number of events written."""
        from mirage.io import write_chunks

        self._require_fitted()
        chunks = self.sample_chunks(n_entities, seed=seed, context=context)
        return write_chunks(chunks, Path(path), force=force, format=format)

    def _empty(self) -> pd.DataFrame:
        schema = self._require_fitted()
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in schema.columns.names})

    def _sample_block(self, start: int, m: int, seed: int, context: pd.DataFrame | None) -> pd.DataFrame:
        schema = self._require_fitted()
        if context is None:
            entities = self.entity_engine_.sample(m, seed=_derive(seed, 0))
        else:
            entities = self.entity_engine_.sample(
                context=context[self.context_columns_], seed=_derive(seed, 0)
            )
        lengths = np.maximum(1, np.rint(entities[LENGTH].to_numpy(dtype="float64"))).astype("int64")
        lag_values: dict[str, list[np.ndarray]] = {}
        for name in self.lagged_:
            like = self.schema_.columns[name] if self.schema_ else None
            numeric = like is not None and like.kind is Kind.NUMERIC
            lag_values[name] = [
                np.zeros(m) if numeric else np.full(m, _NONE, dtype=object) for _ in range(self.lags)
            ]
        lag_gaps = [np.zeros(m) for _ in range(self.lags)]
        clock = self._firsts(entities)  # the time of each entity's last event
        fixed = {name: entities[name].to_numpy() for name in self.static_}
        if context is not None:
            fixed.update({name: context[name].to_numpy() for name in self.context_columns_})
        fast = EncodedDraw(self.event_engine_, (GAP, DAYS, TOD)) if usable(self.event_engine_, m) else None
        timing = self.time_engine_
        fast_timing = None
        if timing is not None and usable(timing, m):  # every column of the day's draw is read at once
            fast_timing = EncodedDraw(timing, timing.schema_.names)
        encoded_fixed = {} if fast is None else {name: fast.encode(name, v) for name, v in fixed.items()}
        encoded_timing = {}
        if fast_timing is not None:
            encoded_timing = {name: fast_timing.encode(name, v) for name, v in fixed.items()}
        pieces: list[pd.DataFrame] = []
        rows: list[np.ndarray] = []
        for t in range(int(lengths.max())):
            active = np.flatnonzero(lengths > t)
            given: dict[str, Any] = {
                STEP: np.full(len(active), t, dtype="int64"),
                LEFT: (lengths[active] - t).astype("int64"),
            }
            for j in range(self.lags):
                for name in self.lagged_:
                    given[_lag(name, j + 1)] = lag_values[name][j][active]
                given[_lag(GAP, j + 1)] = lag_gaps[j][active]
            then = clock[active]
            if schema.timestamped:
                given.update(_calendar(then))
            if timing is not None:  # the event's day first, then what happens on it
                if t == 0:
                    days = np.zeros(len(active))
                else:
                    when = self._draw(
                        timing, fast_timing, given, fixed, active, _derive(seed, t + 1, 1), encoded_timing
                    )
                    days = _within_anchors(when, given)
                day = np.floor(then / _DAY) + days
                given[DAYS] = days.astype("int64")
                given.update(_calendar(day * _DAY, DAY_PREFIX))
            drawn = self._draw(
                self.event_engine_, fast, given, fixed, active, _derive(seed, t + 1), encoded_fixed
            )
            if timing is not None:
                moment = day * _DAY + drawn[TOD].to_numpy(dtype="float64")
                gap = np.zeros(len(active)) if t == 0 else np.maximum(0.0, moment - then)
            elif schema.timestamped:  # a model file from before days were drawn apart
                if t == 0:
                    gap = np.zeros(len(active))
                else:
                    days = np.maximum(0, np.rint(drawn[DAYS].to_numpy(dtype="float64")))
                    moment = (np.floor(then / _DAY) + days) * _DAY + drawn[TOD].to_numpy(dtype="float64")
                    gap = np.maximum(0.0, moment - then)
            else:
                gap = np.maximum(0.0, drawn[GAP].to_numpy(dtype="float64"))
                if t == 0:
                    gap[:] = 0.0
            drawn[GAP] = gap
            for name in self.lagged_:
                lag_values[name].insert(0, lag_values[name].pop().copy())
                if lag_values[name][0].dtype == object:
                    text = None if fast is None else fast.drawn_text(name)
                    if text is None:
                        column = drawn[name]
                        column = column.astype(object).where(column.notna(), _NONE).astype(str).astype(object)
                        text = column.to_numpy()
                    lag_values[name][0][active] = text
                else:
                    lag_values[name][0][active] = drawn[name].to_numpy()
            lag_gaps.insert(0, lag_gaps.pop().copy())
            lag_gaps[0][active] = gap
            clock[active] += gap
            pieces.append(drawn)
            rows.append(active)
        held = {} if fast is None else fast.held()
        return self._assemble(schema, start, entities, lengths, pieces, rows, context, held)

    @staticmethod
    def _draw(
        engine: Any,
        fast: EncodedDraw | None,
        given: dict[str, Any],
        fixed: dict[str, np.ndarray],
        active: np.ndarray,
        seed: int,
        encoded_fixed: dict[str, list[np.ndarray]] | None = None,
    ) -> pd.DataFrame:
        """One step's draw of ``engine`` for the ``active`` entities given their step features
        (``given``) and their entity columns (``fixed``, all entities of the block)."""
        if fast is None:
            frame = pd.DataFrame({**given, **{name: value[active] for name, value in fixed.items()}})
            return engine.sample(context=frame[engine.context_schema_.names], seed=seed)
        names = set(fast.order)
        if encoded_fixed is None:
            encoded_fixed = {name: fast.encode(name, value) for name, value in fixed.items()}
        encoded = {name: fast.encode(name, value) for name, value in given.items() if name in names}
        encoded.update({name: [v[active] for v in parts] for name, parts in encoded_fixed.items()})
        return fast.draw(encoded, len(active), seed)

    def _firsts(self, entities: pd.DataFrame) -> np.ndarray:
        """Each drawn entity's first order value."""
        first = entities[FIRST].to_numpy(dtype="float64")
        if self.schema_ is not None and self.schema_.timestamped:
            return np.rint(first) * _DAY + np.clip(entities[TOD].to_numpy(dtype="float64"), 0.0, _DAY - 1)
        return first.copy()

    def _assemble(
        self,
        schema: SequenceSchema,
        start: int,
        entities: pd.DataFrame,
        lengths: np.ndarray,
        pieces: list[pd.DataFrame],
        rows: list[np.ndarray],
        context: pd.DataFrame | None,
        held: Mapping[str, pd.Series],
    ) -> pd.DataFrame:
        drawn = pd.concat(pieces, ignore_index=True)
        for name, values in held.items():  # the columns drawn step by step but decoded once
            drawn[name] = values
        entity_of = np.concatenate(rows)
        step_of = np.concatenate([np.full(len(r), t) for t, r in enumerate(rows)])
        arrange = np.lexsort((step_of, entity_of))
        drawn = drawn.iloc[arrange].reset_index(drop=True)
        entity_of = entity_of[arrange]
        gaps = drawn[GAP].to_numpy(dtype="float64")
        firsts = np.repeat(np.cumsum(np.r_[0, lengths[:-1]]), lengths)
        running = np.cumsum(gaps)  # each entity's first gap is 0, so its own running sum starts there
        order = self._firsts(entities)[entity_of] + running - running[firsts]
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
                out[name] = drawn[name].to_numpy()
        frame = pd.DataFrame(out)
        if context is not None:
            for name in self.context_columns_:
                frame[name] = context[name].to_numpy()[entity_of]
        return frame

    def _keys(
        self, schema: SequenceSchema, start: int, entity_of: np.ndarray, context: pd.DataFrame | None
    ) -> np.ndarray:
        if context is not None and schema.entity in context.columns:
            return context[schema.entity].to_numpy()[entity_of]
        count = int(entity_of.max()) + 1 if entity_of.size else 0
        return entity_keys(schema.columns[schema.entity], start, count)[entity_of]

    # --- persistence ---------------------------------------------------------------------------
    def save(self, target: str | Path | IO[bytes], *, force: bool = False) -> Path | IO[bytes]:
        """One model file (JSON manifest and safetensors arrays, no pickle)."""
        schema = self._require_fitted()
        engines: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        parts = [("entity", self.entity_engine_), ("event", self.event_engine_)]
        if self.time_engine_ is not None:
            parts.append(("time", self.time_engine_))
        for part, engine in parts:
            engines[part], engine_arrays = engine_state(engine, part)
            arrays.update(engine_arrays)
        hyperparameters = {
            "lags": self.lags,
            "min_samples_leaf": self.min_samples_leaf,
            "rare_min_count": self.rare_min_count,
            "seed": self.seed,
        }
        state = {
            "static": self.static_,
            "dynamic": self.dynamic_,
            "lagged": self.lagged_,
            "context_columns": self.context_columns_,
            "training": self.training_,
            "engines": engines,
        }
        return write_model_file(SEQUENTIAL, hyperparameters, schema, state, arrays, target, force)

    @classmethod
    def load(cls, source: str | Path | bytes | IO[bytes]) -> SequenceSynthesizer:
        """The sequence model in a model file (a path, bytes or a binary stream)."""
        return read_model_file(source, SEQUENTIAL, "sequence model", cls._from_manifest)

    @classmethod
    def _from_manifest(cls, manifest: Mapping[str, Any], payload: bytes) -> SequenceSynthesizer:
        from safetensors.numpy import load as load_arrays

        from mirage._validate import StateError
        from mirage.engines.cart import CartSynthesizer

        hyper = dict(manifest["hyperparameters"])
        model = cls(
            lags=int(hyper["lags"]),
            min_samples_leaf=hyper.get("min_samples_leaf"),
            rare_min_count=hyper.get("rare_min_count"),
            seed=int(hyper["seed"]),
        )
        state = dict(manifest["state"])
        arrays = load_arrays(payload) if payload else {}
        model.time_engine_ = None
        for part in ("entity", "event", "time"):
            if part == "time" and part not in state["engines"]:
                continue  # a model file from before an event's day was drawn apart
            try:
                engine = restore_engine(CartSynthesizer, dict(state["engines"][part]), arrays, part)
            except StateError as exc:
                raise ModelFileError(
                    f"{part} model: {exc.where if exc.array else exc.path}: {exc.reason}"
                ) from None
            setattr(model, f"{part}_engine_", engine)
        model.static_ = [str(c) for c in state["static"]]
        model.dynamic_ = [str(c) for c in state["dynamic"]]
        model.lagged_ = [str(c) for c in state["lagged"]]
        model.context_columns_ = [str(c) for c in state["context_columns"]]
        model.training_ = dict(state["training"])
        model.schema_ = SequenceSchema.from_dict(dict(manifest["schema"]))
        return model


# --- model files shared by both sequence models ----------------------------------------------------
def sorted_events(events: pd.DataFrame, schema: SequenceSchema) -> tuple[pd.DataFrame, np.ndarray]:
    """``events`` by entity, then in time, and their order numbers: text times written at UTC offsets
    in the order of the instants they are, not of their text (``10:00+02:00`` before ``09:30+00:00``)."""
    order = SequenceSynthesizer._order_numbers(events[schema.order], schema)
    codes, _ = pd.factorize(events[schema.entity], sort=True)
    rows = np.lexsort((order, codes))
    return events.iloc[rows].reset_index(drop=True), order[rows]


def engine_state(engine: Synthesizer, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A part model's manifest entry (hyperparameters, schema, state) and its arrays under ``prefix/``."""
    state, arrays = engine.get_state()
    entry = {"hyperparameters": engine.get_params(), "schema": engine.schema_.to_dict(), "state": state}
    return entry, {f"{prefix}/{k}": v for k, v in arrays.items()}


def restore_engine(
    kind: type[_Engine], saved: Mapping[str, Any], arrays: Mapping[str, np.ndarray], prefix: str
) -> _Engine:
    """The part model ``engine_state`` wrote under ``prefix/`` (a StateError names what is wrong)."""
    from mirage._validate import require, require_mapping

    engine = kind(**dict(require_mapping(require(saved, "hyperparameters"))))
    schema = Schema.from_dict(dict(require_mapping(require(saved, "schema"))))
    start = f"{prefix}/"
    own = {k[len(start) :]: v for k, v in arrays.items() if k.startswith(start)}
    engine.set_state(schema, require_mapping(require(saved, "state")), own)
    return engine


def write_model_file(
    engine: str,
    hyperparameters: Mapping[str, Any],
    schema: SequenceSchema,
    state: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    target: str | Path | IO[bytes],
    force: bool,
) -> Path | IO[bytes]:
    """A sequence model's file: its manifest (``engine`` names the model) and its arrays."""
    from mirage._model_archive import write_archive

    body = {
        "engine": engine,
        "hyperparameters": dict(hyperparameters),
        "schema": schema.to_dict(),
        "state": dict(state),
    }
    write_archive(body, arrays, target, force=force)
    return Path(target) if isinstance(target, str) else target


def read_model_file(
    source: str | Path | bytes | IO[bytes],
    engine: str,
    label: str,
    build: Callable[[Mapping[str, Any], bytes], _Model],
) -> _Model:
    """The ``label`` model (``engine`` in its manifest) ``build`` makes of a model file's manifest and
    arrays; a file of another model, a damaged part or an inconsistent state is a ModelFileError."""
    from mirage._model_archive import describe, read_archive
    from mirage._validate import StateError

    manifest, payload = read_archive(source, arrays=True)
    where = describe(source)
    if manifest.get("engine") != engine:
        article = "an" if label[0] in "aeiou" else "a"
        raise ModelFileError(f"{where}: holds a {manifest.get('engine')!r} model, not {article} {label}")
    try:
        return build(manifest, payload)
    except StateError as exc:
        raise ModelFileError(f"{where}: {exc.where if exc.array else exc.path}: {exc.reason}") from None
    except (ModelFileError, SchemaError, OptionError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{where}: the {label} is inconsistent ({exc})") from None
