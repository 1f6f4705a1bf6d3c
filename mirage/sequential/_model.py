"""The fast sequence model: each event drawn by cart given its entity and its previous events.

An entity row (its attributes, its number of events, its first order value) is drawn first, given the
entity's context row when there is one.  Then every entity's history grows one step at a time, all
entities of a block at once: event ``t`` is drawn given the entity's row, the step index, the events
left, and the previous ``lags`` events' values and gaps.  Blocks of :data:`ENTITY_BLOCK` entities are
seeded ``SeedSequence([seed, block])``: the same seed gives the same histories however they are read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mirage.errors import DataError, ModelFileError, OptionError, SchemaError
from mirage.schema import Kind, Schema, infer_schema
from mirage.sequential._given import EncodedDraw, usable
from mirage.sequential._schema import SequenceSchema

__all__ = ["ENTITY_BLOCK", "SEQUENTIAL", "SequenceSynthesizer"]

SEQUENTIAL = "sequential"  # the engine field of a sequence model file
ENTITY_BLOCK = 16_384
LENGTH, FIRST, GAP, STEP, LEFT = "_length", "_first", "_gap", "_step", "_left"
DOW, DOM, HOUR = "_weekday", "_monthday", "_hour"
DAYS, TOD = "_days", "_time_of_day"
_DAY = 86_400.0
_NONE = "<none>"  # a categorical lag before the entity's first event


def _derive(*words: int) -> int:
    return int(np.random.SeedSequence(list(words)).generate_state(1, dtype=np.uint32)[0])


def _calendar(seconds: np.ndarray) -> dict[str, np.ndarray]:
    """Day of week, day of month and hour of the time of an entity's previous event, which the next
    event's gap and values are drawn given (weekly rhythms, paydays)."""
    stamps = np.floor(seconds).astype("int64").astype("datetime64[s]")
    days = stamps.astype("datetime64[D]")
    return {
        DOW: ((days.astype("int64") + 3) % 7).astype("int64"),
        DOM: ((days - days.astype("datetime64[M]")).astype("int64") + 1).astype("int64"),
        HOUR: (seconds % 86_400) / 3_600,
    }


def _lag(column: str, j: int) -> str:
    return f"_lag{j}_{column}"


class SequenceSynthesizer:
    """Histories per entity: ``fit(events, schema, context=None)``, then ``sample(n_entities)``.

    ``lags``: how many previous events condition each event.  ``min_samples_leaf``: cart's leaf size.
    """

    def __init__(self, *, lags: int = 3, min_samples_leaf: int | None = 8, seed: int = 0) -> None:
        if isinstance(lags, bool) or not isinstance(lags, int) or not 1 <= lags <= 20:
            raise OptionError(f"lags must be an integer from 1 to 20, got {lags!r}")
        self.lags = lags
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
            if str(name).startswith("_lag") or name in (
                LENGTH,
                FIRST,
                GAP,
                STEP,
                LEFT,
                DOW,
                DOM,
                HOUR,
                DAYS,
                TOD,
            ):
                raise SchemaError(f"column {name!r} uses a name the sequence model reserves; rename it")
        events = events.sort_values([schema.entity, schema.order], kind="mergesort").reset_index(drop=True)
        codes, uniques = pd.factorize(events[schema.entity], sort=False)
        if len(uniques) < 2:
            raise DataError(f"the event table has {len(uniques)} entities; at least 2 are needed")
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        lengths = np.diff(np.r_[starts, len(events)])
        order = self._order_numbers(events[schema.order], schema)
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
        self.entity_engine_.fit(entities, self._sub_schema(schema, static, entities), context=entity_context)

        self.static_, self.dynamic_ = static, dynamic
        self.lagged_ = [c for c in dynamic if schema.columns[c].kind in (Kind.NUMERIC, Kind.CATEGORICAL)]
        data = pd.DataFrame(index=events.index)  # the timing first: an event's kind often follows from it
        given = self._history(events[self.lagged_], gap, starts, lengths)
        if schema.timestamped:
            clock = np.r_[order[0], order[:-1]]
            clock[starts] = order[starts]
            given = given.assign(**_calendar(clock))
            # a gap is drawn as the days it crosses and the event's time of day (never a night hour
            # no real event has), the gap in seconds following from both
            data[DAYS] = (np.floor(order / _DAY) - np.floor(clock / _DAY)).astype("int64")
            data[TOD] = order % _DAY
        else:
            data[GAP] = gap
        data = pd.concat([data, events[dynamic]], axis=1)
        entity_rows = np.repeat(np.arange(len(starts)), lengths)
        for name in static:
            given[name] = self._as_drawn(events[name], entities[name], schema.columns[name].kind)
        for name in self.context_columns_:
            assert entity_context is not None
            given[name] = entity_context[name].to_numpy()[entity_rows]
        self.event_engine_ = CartSynthesizer(min_samples_leaf=self.min_samples_leaf, seed=self.seed)
        self.event_engine_.fit(data, self._sub_schema(schema, dynamic, data), context=given)
        self.schema_ = schema
        self.training_: dict[str, Any] = {"entities": len(starts), "events": len(events)}
        return self

    @staticmethod
    def _order_numbers(order: pd.Series, schema: SequenceSchema) -> np.ndarray:
        if schema.timestamped:
            stamps = pd.to_datetime(order)
            return (stamps - pd.Timestamp(0)).dt.total_seconds().to_numpy(dtype="float64")
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

    @staticmethod
    def _as_drawn(values: pd.Series, per_entity: pd.Series, kind: Kind) -> np.ndarray:
        """An entity attribute as the entity model draws it: a category held by too few entities to
        be generated verbatim comes out as the rare token, so events learn it as that token too."""
        from mirage.encoding import EncodingOptions
        from mirage.encoding.categorical import RARE_TOKEN

        if kind is not Kind.CATEGORICAL:
            return values.to_numpy()
        counts = per_entity.value_counts()
        rare = counts.index[counts < EncodingOptions().rare_min_count]
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
        fixed_encoded = {} if fast is None else {name: fast.encode(name, v) for name, v in fixed.items()}
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
            if schema.timestamped:
                given.update(_calendar(clock[active]))
            if fast is None:
                for name, value in fixed.items():
                    given[name] = value[active]
                drawn = self.event_engine_.sample(context=pd.DataFrame(given), seed=_derive(seed, t + 1))
            else:
                encoded = {name: fast.encode(name, value) for name, value in given.items()}
                encoded.update({name: [v[active] for v in parts] for name, parts in fixed_encoded.items()})
                drawn = fast.draw(encoded, len(active), _derive(seed, t + 1))
            if schema.timestamped:
                if t == 0:
                    gap = np.zeros(len(active))
                else:
                    days = np.maximum(0, np.rint(drawn[DAYS].to_numpy(dtype="float64")))
                    then = clock[active]
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
                out[name] = self._order_values(order, column.kind, column.dtype, bool(column.integer))
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
        if schema.columns[schema.entity].kind is Kind.NUMERIC:
            return (start + entity_of).astype("int64")
        return np.asarray([f"e{start + i}" for i in entity_of], dtype=object)

    @staticmethod
    def _order_values(order: np.ndarray, kind: Kind, dtype: str, integer: bool) -> Any:
        if kind is Kind.DATETIME:
            return pd.to_datetime(np.rint(order * 1e6).astype("int64"), unit="us")
        if integer:
            return np.rint(order).astype("int64")
        return order

    # --- persistence ---------------------------------------------------------------------------
    def save(self, target: str | Path | IO[bytes], *, force: bool = False) -> Path | IO[bytes]:
        """One model file (JSON manifest and safetensors arrays, no pickle)."""
        from mirage._model_archive import write_archive

        schema = self._require_fitted()
        engines: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for part, engine in (("entity", self.entity_engine_), ("event", self.event_engine_)):
            state, engine_arrays = engine.get_state()
            engines[part] = {"hyperparameters": engine.get_params(), "schema": engine.schema_.to_dict()}
            engines[part]["state"] = state
            arrays.update({f"{part}/{k}": v for k, v in engine_arrays.items()})
        body = {
            "engine": SEQUENTIAL,
            "hyperparameters": {
                "lags": self.lags,
                "min_samples_leaf": self.min_samples_leaf,
                "seed": self.seed,
            },
            "schema": schema.to_dict(),
            "state": {
                "static": self.static_,
                "dynamic": self.dynamic_,
                "lagged": self.lagged_,
                "context_columns": self.context_columns_,
                "training": self.training_,
                "engines": engines,
            },
        }
        write_archive(body, arrays, target, force=force)
        return Path(target) if isinstance(target, str) else target

    @classmethod
    def load(cls, source: str | Path | bytes | IO[bytes]) -> SequenceSynthesizer:
        """The sequence model in a model file (a path, bytes or a binary stream)."""
        from mirage._model_archive import describe, read_archive

        manifest, payload = read_archive(source, arrays=True)
        where = describe(source)
        if manifest.get("engine") != SEQUENTIAL:
            raise ModelFileError(f"{where}: holds a {manifest.get('engine')!r} model, not a sequence model")
        try:
            return cls._from_manifest(manifest, payload)
        except (ModelFileError, SchemaError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{where}: the sequence model is inconsistent ({exc})") from None

    @classmethod
    def _from_manifest(cls, manifest: Mapping[str, Any], payload: bytes) -> SequenceSynthesizer:
        from safetensors.numpy import load as load_arrays

        from mirage._validate import StateError
        from mirage.engines.cart import CartSynthesizer

        hyper = dict(manifest["hyperparameters"])
        model = cls(
            lags=int(hyper["lags"]), min_samples_leaf=hyper.get("min_samples_leaf"), seed=int(hyper["seed"])
        )
        state = dict(manifest["state"])
        arrays = load_arrays(payload) if payload else {}
        for part in ("entity", "event"):
            saved = dict(state["engines"][part])
            engine = CartSynthesizer(**dict(saved["hyperparameters"]))
            own = {k[len(part) + 1 :]: v for k, v in arrays.items() if k.startswith(f"{part}/")}
            try:
                engine.set_state(Schema.from_dict(dict(saved["schema"])), saved["state"], own)
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
