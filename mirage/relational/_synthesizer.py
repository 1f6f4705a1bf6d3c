"""``RelationalSynthesizer``: a whole database learned table by table with the single-table engines.

Tables are learned in :meth:`DatabaseSchema.order` (parents first).  A root table is learned alone; a
child table given its primary parent's row (the parent's learned columns as ``parent.<column>`` and
the number of children the parent has), and each parent row learns how many children it has as a
column of its own (see :mod:`mirage.relational._plan`), so "big customers place many orders" holds at
every depth.  Sampling draws the root tables, then for each parent row its children, given that row;
keys are regenerated (primary keys unique in the source's format, foreign keys to generated parent
rows only), and the keys that are not a primary parent are matched afterwards
(:mod:`mirage.relational._matching`).  Whatever the model draws, the output has full referential
integrity: a row that could not be given a valid parent is dropped with its descendants.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mirage._warnings import warn
from mirage.encoding import EncodingOptions
from mirage.encoding.categorical import number_categories_as_numbers
from mirage.engines import Synthesizer, engines_with, get_engine
from mirage.engines._auto import fit_auto
from mirage.engines._base import MIN_TRAINING_ROWS
from mirage.errors import DataError, MirageError, ModelFileError, NotFittedError, OptionError, SchemaError
from mirage.relational._cardinality import count_shape, shape_counts
from mirage.relational._derived import from_parent, to_learned
from mirage.relational._matching import feature_matrix, feature_weights, match_rows
from mirage.relational._plan import (
    DateOffset,
    TablePlan,
    count_column,
    feature_prefix,
    format_dates,
    parse_dates,
    plan_tables,
    row_positions,
)
from mirage.schema import KEEP_RESOLUTION, Column, DatabaseSchema, ForeignKey, Kind, Schema

__all__ = [
    "DATABASE_PARAMS",
    "DEFAULT_ENGINE",
    "RELATIONAL",
    "SMALL_TABLE_ROWS",
    "RelationalSynthesizer",
    "small_table_message",
]

RELATIONAL = "relational"  # the ``engine`` a relational model file names
AUTO = "auto"
PARENT = "parent."
SECONDS_PER_DAY = 86_400.0
#: a learned table of fewer rows reads a DCR share over the no-copying bar with every engine (Northwind's
#: 62 products 0.536, the deep schema's 48 regions 0.561, over 50 held-out folds): any model of ``p``
#: estimated numbers reads about ``0.5 + p / 2(N - 1)`` on ``N`` rows (one category's shares exactly;
#: ``benchmarks/bench_dcr_small_tables.py``), so the bar leaves it at most 6 numbers: ``fit`` warns
SMALL_TABLE_ROWS = 100
#: every table's engine unless ``engine`` names another (``mirage fit``'s ``--engine auto``): over 50
#: held-out folds the only engine at or under the no-copying bar on every child table of Northwind and
#: the deep schema (README, "Related tables")
DEFAULT_ENGINE = "gmm"
#: what an engine takes in a database unless the table's params set it: ``gmm`` chooses each marginal's
#: knots and ``bayesnet`` each number's bins on held-out rows, where a knot or a bin per 10 rows puts a
#: table of one or two numbers nearer the rows learned (bayesnet's employees 0.536 -> 0.515, stores
#: 0.540 -> 0.515 over 25 held-out folds); ``gmm`` takes 20 Gibbs sweeps of its codes' scores, which
#: a parent's category needs to rank its children's counts (the deep schema's visits per large over
#: per small store: 2.4 after 5 sweeps, 3.1 after 20, real 3.2)
DATABASE_PARAMS: dict[str, dict[str, Any]] = {
    "gmm": {"quantiles": None, "code_rounds": 20},
    "bayesnet": {"sub_bins": None},
}


def small_table_message(name: str, rows: int) -> str:
    """What ``fit`` and the report say of a learned table of fewer than ``SMALL_TABLE_ROWS`` rows."""
    return (
        f"table {name!r}: {rows} rows learned; a table under {SMALL_TABLE_ROWS} rows cannot be learned "
        "without its synthetic rows sitting nearer the rows learned than unseen rows would (a model of p "
        "learned numbers reads a DCR share near 0.5 + p / 2N on N rows: under "
        f"{SMALL_TABLE_ROWS} rows the 0.53 bar leaves it at most {round(0.06 * SMALL_TABLE_ROWS)}); "
        "if its rows are public, mark it "
        '"reference": true in the database schema to copy it as is'
    )


class RelationalSynthesizer:
    """Learns the tables of ``database`` with ``engine`` (a name, or a table -> name mapping).

    By default every table is learned with ``gmm``, its marginals' knots chosen on held-out rows and 20
    sweeps of its codes' scores (``DEFAULT_ENGINE``, ``DATABASE_PARAMS``; a table's params may set
    ``quantiles`` and ``code_rounds``), and ``bayesnet``
    chooses its numbers' bins on held-out rows (``sub_bins=None``).  ``"auto"`` picks
    each table's engine as :func:`mirage.engines.fit_auto` does for one table, a child table's among the
    engines that condition on its parent row (recorded in the table's model).

    ``params``: engine hyperparameters, for every table (``{"min_samples_leaf": 20}``) or per table
    (``{"orders": {...}}``).  ``seed`` seeds the fits (each table's engine gets its own seed from it
    unless its params set one).  After ``fit``, ``training_`` holds what the model file records of the
    data: the holdout's fraction and seed, and what the caller adds (``mirage fit`` adds ``source``,
    the URL or folder the tables were read from).
    """

    def __init__(
        self,
        database: DatabaseSchema,
        *,
        engine: str | Mapping[str, str] = DEFAULT_ENGINE,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        if not isinstance(database, DatabaseSchema):
            raise OptionError(f"database must be a DatabaseSchema, got {type(database).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise OptionError(f"seed must be a non-negative integer, got {seed!r}")
        self.database = database
        self.engine = engine if isinstance(engine, str) else dict(engine)
        self.params = dict(params or {})
        self.seed = int(seed)
        for table in self._engine_names():
            if table not in database.tables:
                raise OptionError(f"engine: no table {table!r} (tables: {', '.join(database.tables)})")
        self._table_params()  # checks the shape of params now, not after fitting half the tables

    # --- options --------------------------------------------------------------------------------
    def _engine_names(self) -> dict[str, str]:
        if isinstance(self.engine, str):
            return {}
        return dict(self.engine)

    def _engine_for(self, table: str) -> str:
        return self.engine if isinstance(self.engine, str) else self.engine.get(table, DEFAULT_ENGINE)

    def _table_params(self) -> dict[str, dict[str, Any]]:
        tables = set(self.database.tables)
        per_table = [k for k in self.params if k in tables]
        if per_table and len(per_table) != len(self.params):
            other = next(k for k in self.params if k not in tables)
            raise OptionError(
                f"params: {other!r} is no table; give hyperparameters for every table or per table, not both"
            )
        out: dict[str, dict[str, Any]] = {}
        for table in tables:
            given = self.params.get(table, {}) if per_table else self.params
            if not isinstance(given, Mapping):
                raise OptionError(f"params: {table!r}: expected a mapping of hyperparameters")
            out[table] = dict(given)
        return out

    def _new_engine(self, table: str, index: int) -> Synthesizer:
        name = self._engine_for(table)
        params = {**DATABASE_PARAMS.get(name, {}), **self._table_params()[table]}
        cls = get_engine(name)
        if "seed" in cls.params and "seed" not in params:
            params["seed"] = _derive_seed(self.seed, index)
        try:
            return cls(**params)
        except MirageError as exc:
            raise type(exc)(f"table {table!r}: {exc}") from None

    def _fit_table(
        self,
        table: str,
        index: int,
        data: pd.DataFrame,
        schema: Schema,
        context: pd.DataFrame | None,
        context_schema: Schema | None,
        options: EncodingOptions | None,
    ) -> Synthesizer:
        engine = None if self._engine_for(table) == AUTO else self._new_engine(table, index)
        try:
            if engine is not None:
                return engine.fit(
                    data, schema, context=context, context_schema=context_schema, encoding_options=options
                )
            params = {"seed": _derive_seed(self.seed, index), **self._table_params()[table]}
            model, _ = fit_auto(
                data,
                schema,
                context=context,
                context_schema=context_schema,
                encoding_options=options,
                engine_defaults=DATABASE_PARAMS,
                **params,
            )
            return model
        except MirageError as exc:
            raise type(exc)(f"table {table!r}: {exc}") from None

    # --- learning -------------------------------------------------------------------------------
    def fit(
        self,
        frames: Mapping[str, pd.DataFrame],
        *,
        encoding_options: EncodingOptions | Mapping[str, EncodingOptions] | None = None,
        holdout: float | None = None,
        split_seed: int = 0,
    ) -> RelationalSynthesizer:
        """Learn every table of ``frames`` (table name -> DataFrame), which must have full integrity.

        ``encoding_options`` (for every table, or a table -> options mapping) go to each table's
        engine: a lower ``rare_min_count`` keeps rarer categories and more of the extremes, the
        numbers of children included, at a cost in privacy.  ``holdout`` keeps that fraction of the
        root rows aside with their descendants (:func:`mirage.relational.split_database` with
        ``split_seed``), never learned, for the privacy checks of the report; ``training_`` records
        the fraction and the seed, not the rows.
        """
        database = self.database
        database.validate(frames)
        ruled = {
            name: len(table.schema.rules) for name, table in database.tables.items() if table.schema.rules
        }
        if ruled:  # the tables' engines learn other columns (counts, parents', dates as offsets)
            (first, count), *others = ruled.items()
            also = f" (nor those of {', '.join(repr(n) for n, _ in others)})" if others else ""
            raise OptionError(
                f"table {first!r}: business rules ({count} rule{'' if count == 1 else 's'}) are not applied "
                f'to related tables yet{also}; move them to "suggested_rules" (kept, not enforced) or '
                "remove them, or fit the table on its own with mirage.fit to enforce them; an order's dates "
                "already follow its first date"
            )
        options = self._encoding_options(encoding_options)
        frames = {name: frame.reset_index(drop=True) for name, frame in frames.items()}
        problems = database.integrity_problems(frames)
        if problems:
            raise DataError(f"the data breaks its keys: {problems[0]}" + _more(problems))
        training: dict[str, Any] = {}
        if holdout is not None:
            from mirage.relational._holdout import split_database

            learned_frames, held = split_database(database, frames, holdout, split_seed)
            training = {
                "holdout_fraction": float(holdout),
                "split_seed": int(split_seed),
                "source_rows": {name: len(frame) for name, frame in frames.items()},
                "holdout_rows": {name: len(frame) for name, frame in held.items()},
            }
            frames = learned_frames
        self._check_reference_tables()
        min_counts = {name: opts.rare_min_count for name, opts in options.items()}
        plans = plan_tables(database, frames, min_counts)
        self._check_context_engines(plans)
        reference_rows: dict[str, pd.DataFrame] = {}
        learned: dict[str, pd.DataFrame] = {}  # each table's learned columns, dates absolute
        engines: dict[str, Synthesizer | None] = {}
        for index, name in enumerate(database.order()):
            plan = plans[name]
            data, schema = self._training_frame(plan, frames, options.get(name))
            context, context_schema = None, None
            positions: np.ndarray | None = None
            if plan.primary is not None:
                positions = row_positions(
                    frames[plan.primary.parent],
                    plan.primary.parent_columns,
                    frames[name],
                    plan.primary.columns,
                )
                context, context_schema = self._context(plan.primary.parent, learned, positions)
                context_schema = number_categories_as_numbers(
                    context_schema, context, _rare_min_count(options.get(name))
                )
            self._learn_offsets(plan, frames, positions, data, schema)
            learned[name] = self._learned_part(name, data, schema, plan)
            if plan.offsets:
                learned[name] = self._absolute(plan, frames[name], learned[name])
            engines[name] = None
            if database[name].reference:  # public reference data: copied as is, with its counts
                counts = [c for c in plan.counts if c in data.columns]
                reference_rows[name] = pd.concat([frames[name], data[counts]], axis=1)
                continue
            if 0 < len(data) < MIN_TRAINING_ROWS:
                raise DataError(
                    f"table {name!r} has {len(data)} row{'' if len(data) == 1 else 's'}, too few to learn "
                    f"(at least {MIN_TRAINING_ROWS}); if it is public reference data (a lookup table such as "
                    'shippers), mark it "reference": true in the database schema to copy it as is'
                )
            if data.shape[1] and len(data):  # an empty table stays empty
                engines[name] = self._fit_table(
                    name, index, data, schema, context, context_schema, options.get(name)
                )
                if len(data) < SMALL_TABLE_ROWS:
                    training.setdefault("small_tables", {})[name] = len(data)
                    warn(small_table_message(name, len(data)))
        self.plans_ = plans
        self.engines_ = engines
        self.reference_rows_ = reference_rows
        self.training_: dict[str, Any] = training
        return self

    def _check_reference_tables(self) -> None:
        """A reference table is copied as is, so its own foreign keys must point to reference tables."""
        for fk in self.database.foreign_keys:
            if self.database[fk.child].reference and not self.database[fk.parent].reference:
                raise SchemaError(
                    f"table {fk.child!r} is reference data, copied as is, but its key {fk.name} points to "
                    f"{fk.parent!r}, which is learned; mark {fk.parent!r} as reference too, or not "
                    f"{fk.child!r}"
                )

    def _encoding_options(
        self, given: EncodingOptions | Mapping[str, EncodingOptions] | None
    ) -> dict[str, EncodingOptions]:
        if given is None:
            return {}
        if isinstance(given, EncodingOptions):
            return dict.fromkeys(self.database.tables, given)
        if not isinstance(given, Mapping):
            raise OptionError(
                f"encoding_options must be an EncodingOptions or a table -> EncodingOptions mapping, "
                f"got {type(given).__name__}"
            )
        for table, options in given.items():
            if table not in self.database.tables:
                raise OptionError(
                    f"encoding_options: no table {table!r} (tables: {', '.join(self.database.tables)})"
                )
            if not isinstance(options, EncodingOptions):
                raise OptionError(f"encoding_options: {table!r}: expected an EncodingOptions")
        return dict(given)

    def _check_context_engines(self, plans: Mapping[str, TablePlan]) -> None:
        """A child table is learned given its parent row: its engine must condition on a context."""
        for name, plan in plans.items():
            if plan.primary is None or self._engine_for(name) == AUTO:
                continue
            cls = get_engine(self._engine_for(name))
            if not cls.get_tags().context:
                raise OptionError(
                    f"engine: table {name!r} is learned given its parent row ({plan.primary.name}), which "
                    f"the {cls.name} engine cannot do; engines that can: {', '.join(engines_with('context'))}"
                )

    def _training_frame(
        self, plan: TablePlan, frames: Mapping[str, pd.DataFrame], options: EncodingOptions | None = None
    ) -> tuple[pd.DataFrame, Schema]:
        """The table's own columns, its count columns and the columns of the parents it is matched to."""
        database = self.database
        frame = frames[plan.name]
        table_schema = database[plan.name].schema
        columns: dict[str, pd.Series] = {}
        specs: list[Column] = []
        for column in plan.learned_own():
            derived = plan.derived.get(column)
            if derived is None:
                columns[column] = frame[column]
                specs.append(table_schema[column])
                continue
            fk = next(fk for fk in database.parents(plan.name) if fk.name == derived.fk)
            positions = row_positions(frames[fk.parent], fk.parent_columns, frame, fk.columns)
            parent_values = frames[fk.parent][derived.parent_column].iloc[np.maximum(positions, 0)]
            parent_values = parent_values.reset_index(drop=True).where(pd.Series(positions >= 0))
            columns[column] = to_learned(frame[column], parent_values, derived.how)
            nullable = bool(columns[column].isna().any())
            specs.append(Column(name=column, kind=Kind.NUMERIC, dtype="float64", nullable=nullable))
        if plan.group is not None:  # its members learned as one column, where the first one was
            joined = plan.group.join(frame, _rare_min_count(options)).reset_index(drop=True)
            at = next(i for i, spec in enumerate(specs) if spec.name in plan.group.members)
            specs = [spec for spec in specs if spec.name not in plan.group.members]
            specs.insert(at, plan.group.spec(table_schema))
            columns = {
                **{k: v for k, v in list(columns.items())[:at] if k not in plan.group.members},
                plan.group.name: joined,
                **{k: v for k, v in list(columns.items())[at:] if k not in plan.group.members},
            }
        for fk in database.children(plan.name):
            name = count_column(fk)
            positions = row_positions(frame, fk.parent_columns, frames[fk.child], fk.columns)
            counts = np.bincount(positions[positions >= 0], minlength=len(frame)).astype(np.int64)
            plan.counts[name] = int(counts.max()) if counts.size else 0
            plan.count_shapes[name] = count_shape(counts, _rare_min_count(options))
            columns[name] = pd.Series(counts)
            specs.append(
                Column(
                    name=name, kind=Kind.NUMERIC, dtype="int64", integer=True, extra={KEEP_RESOLUTION: True}
                )
            )
        for fk in plan.matched:
            parent = frames[fk.parent]
            positions = row_positions(parent, fk.parent_columns, frame, fk.columns)
            present = positions >= 0
            if fk.name in plan.presence:  # before the parent's columns: whether there is a parent at all
                name = plan.presence[fk.name]
                columns[name] = pd.Series(present)
                specs.append(Column(name=name, kind=Kind.BOOLEAN, dtype="bool"))
            for column in plan.features[fk.name]:
                values = parent[column].iloc[np.where(present, positions, 0)].reset_index(drop=True)
                name = feature_prefix(fk) + column
                columns[name] = values.where(pd.Series(present), None) if not present.all() else values
                spec = Column.from_dict({**database[fk.parent].schema[column].to_dict(), "name": name})
                spec.nullable = spec.nullable or not present.all()
                specs.append(spec)
            own = frame[[c for c in plan.own if table_schema[c].kind.learned]]
            plan.weights[fk.name] = feature_weights(
                parent[plan.features[fk.name]].iloc[positions[present]], own[present]
            )
        data = pd.DataFrame(columns, index=range(len(frame)))
        return data, number_categories_as_numbers(
            Schema(specs, locale=table_schema.locale), data, _rare_min_count(options)
        )

    def _learned_part(self, name: str, data: pd.DataFrame, schema: Schema, plan: TablePlan) -> pd.DataFrame:
        """What the table's children see of it: its learned own columns and its count columns."""
        keep = [c.name for c in schema if c.kind.learned and (c.name in plan.own or c.name in plan.counts)]
        return data[keep]

    def _context(
        self, parent: str, learned: Mapping[str, pd.DataFrame], positions: np.ndarray
    ) -> tuple[pd.DataFrame, Schema]:
        source = learned[parent]
        context = source.iloc[positions].reset_index(drop=True)
        context.columns = [PARENT + c for c in source.columns]
        specs = [self._spec(parent, c) for c in source.columns]
        return context, Schema([Column.from_dict({**s.to_dict(), "name": PARENT + s.name}) for s in specs])

    def _spec(self, table: str, column: str) -> Column:
        if column.startswith("#"):
            return Column(name=column, kind=Kind.NUMERIC, dtype="int64", integer=True)
        return self.database[table].schema[column]

    def _learn_offsets(
        self,
        plan: TablePlan,
        frames: Mapping[str, pd.DataFrame],
        positions: np.ndarray | None,
        data: pd.DataFrame,
        schema: Schema,
    ) -> None:
        """Replace datetime columns in ``data`` by offsets: the anchor (the table's first datetime
        column without nulls) from the parent's base date, the others from the anchor (or, without
        one, from the parent's base date)."""
        parent_base: pd.Series | None = None
        if plan.primary is not None and plan.base is not None and positions is not None:
            parent_schema = self.database[plan.primary.parent].schema
            parent_base = parse_dates(frames[plan.primary.parent][plan.base], parent_schema[plan.base])
            parent_base = parent_base.iloc[positions].reset_index(drop=True)
        table_schema = self.database[plan.name].schema
        anchor = None
        if plan.anchor is not None:
            anchor = parse_dates(data[plan.anchor], table_schema[plan.anchor]).reset_index(drop=True)
        for index, spec in enumerate(schema.columns):
            if spec.kind is not Kind.DATETIME or spec.name not in plan.own:
                continue
            start = plan.anchor if anchor is not None and spec.name != plan.anchor else None
            base = anchor if start is not None else parent_base
            if base is None:
                continue
            stamps = parse_dates(data[spec.name], spec).reset_index(drop=True)
            seconds = _seconds_between(base, stamps)
            midnight = _all_midnight(stamps) and _all_midnight(base)
            values = seconds / SECONDS_PER_DAY if midnight else seconds
            present = values[np.isfinite(values)]
            never_before = bool(present.size == 0 or present.min() >= 0)
            plan.offsets[spec.name] = DateOffset("days" if midnight else "seconds", never_before, start)
            data[spec.name] = values
            schema.columns[index] = Column(
                name=spec.name,
                kind=Kind.NUMERIC,
                dtype="float64",
                nullable=bool(np.isnan(values).any()),
                integer=midnight,
            )

    def _absolute(self, plan: TablePlan, frame: pd.DataFrame, learned: pd.DataFrame) -> pd.DataFrame:
        out = learned.copy()
        for name in plan.offsets:
            if name in out.columns:
                out[name] = frame[name].reset_index(drop=True)
        return out

    # --- sampling -------------------------------------------------------------------------------
    def _require_fitted(self) -> None:
        if not hasattr(self, "plans_"):
            raise NotFittedError("this RelationalSynthesizer is not fitted yet; call fit(frames) first")

    def sample(self, *, scale: float = 1.0, seed: int | None = None) -> dict[str, pd.DataFrame]:
        """A synthetic database: each root table gets ``round(scale * rows)`` rows, the others follow
        from the learned numbers of children.  Same ``seed``, same database."""
        self._require_fitted()
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale >= 0:
            raise OptionError(f"scale must be a non-negative number, got {scale!r}")
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise OptionError(f"seed must be a non-negative integer, got {seed!r}")
        database = self.database
        drawn: dict[str, pd.DataFrame] = {}  # per table: learned and helper columns, dates absolute
        out: dict[str, pd.DataFrame] = {}
        for index, name in enumerate(database.order()):
            plan = self.plans_[name]
            table_seed = _derive_seed(int(seed), index)
            positions: np.ndarray | None = None
            if name in self.reference_rows_:
                drawn[name], out[name] = self._reference(name, scale)
                continue
            if plan.primary is None:
                n = round(scale * plan.rows)
                rows = self._draw(name, n, table_seed, None)
            else:
                parent = drawn[plan.primary.parent]
                counts = parent[count_column(plan.primary)].to_numpy(dtype=np.int64)
                positions = np.repeat(np.arange(len(parent)), counts)
                context = self._sampled_context(plan.primary.parent, parent, positions)
                rows = self._draw(name, len(positions), table_seed, context)
            shaping = np.random.default_rng(np.random.SeedSequence([int(seed), index, 3]))
            for column, largest in plan.counts.items():
                if column in rows.columns:
                    values = pd.to_numeric(rows[column], errors="coerce").fillna(0).to_numpy(dtype=float)
                    counts = np.clip(np.round(values), 0, largest).astype(np.int64)
                    rows[column] = shape_counts(counts, plan.count_shapes.get(column, []), shaping)
            if plan.offsets:
                parent_rows = None if plan.primary is None else drawn[plan.primary.parent]
                self._add_offsets(plan, parent_rows, positions, rows)
            if plan.group is not None and plan.group.name in rows.columns:
                for column, members in plan.group.split(rows[plan.group.name]).items():
                    rows[column] = members
            hiding = np.random.default_rng(np.random.SeedSequence([int(seed), index, 4]))
            for column, reference in plan.hidden.items():
                rows[column] = reference.draw(len(rows), hiding)
            drawn[name] = rows
            out[name] = self._with_keys(plan, rows, positions, out)
        self._match(drawn, out, seed)
        return self._finish(out)

    def _reference(self, name: str, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A reference table's rows as they were (keys too); its children per row scaled by ``scale``."""
        stored = self.reference_rows_[name]
        drawn = stored.copy()
        for column in self.plans_[name].counts:
            drawn[column] = np.round(stored[column].to_numpy(dtype=float) * scale).astype(np.int64)
        return drawn, stored[self.database[name].schema.names].copy()

    def _draw(self, name: str, n: int, seed: int, context: pd.DataFrame | None) -> pd.DataFrame:
        engine = self.engines_[name]
        if engine is None:
            return pd.DataFrame(index=range(n))
        if context is None:
            return engine.sample(n, seed=seed).reset_index(drop=True)
        return engine.sample(seed=seed, context=context).reset_index(drop=True)

    def _sampled_context(self, parent: str, rows: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
        plan = self.plans_[parent]
        engine = self.engines_[parent]
        if parent in self.reference_rows_:  # the columns its children were learned given, in that order
            own = self.database[parent].schema
            learned = [c for c in plan.own if own[c].kind.learned] + list(plan.counts)
        elif engine is None:
            return pd.DataFrame(index=range(len(positions)))
        else:
            learned = [
                c.name
                for c in engine.schema_
                if c.kind.learned and (c.name in plan.own or c.name in plan.counts)
            ]
        context = rows[learned].iloc[positions].reset_index(drop=True)
        context.columns = [PARENT + c for c in learned]
        return context

    def _add_offsets(
        self, plan: TablePlan, parent: pd.DataFrame | None, positions: np.ndarray | None, rows: pd.DataFrame
    ) -> None:
        """Offsets back to dates: those from the parent's base date first (the anchor), then the
        others from the anchor."""
        table_schema = self.database[plan.name].schema
        for name, offset in sorted(plan.offsets.items(), key=lambda item: item[1].start is not None):
            if offset.start is not None:
                base = parse_dates(rows[offset.start], table_schema[offset.start]).reset_index(drop=True)
            else:
                assert plan.primary is not None and plan.base is not None
                assert parent is not None and positions is not None
                parent_spec = self.database[plan.primary.parent].schema[plan.base]
                base = parse_dates(parent[plan.base], parent_spec).iloc[positions].reset_index(drop=True)
            values = pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)
            if offset.never_before:
                values = np.where(np.isnan(values), values, np.clip(values, 0, None))
            seconds = np.round(values) * SECONDS_PER_DAY if offset.unit == "days" else values
            stamps = base + pd.to_timedelta(seconds, unit="s")
            rows[name] = format_dates(stamps, table_schema[name])

    def _with_keys(
        self,
        plan: TablePlan,
        rows: pd.DataFrame,
        positions: np.ndarray | None,
        out: Mapping[str, pd.DataFrame],
    ) -> pd.DataFrame:
        """The table's own columns and its keys: new primary keys, the primary parent's keys."""
        n = len(rows)
        columns: dict[str, Any] = {c: rows[c].reset_index(drop=True) for c in plan.own if c in rows}
        for column, generator in plan.keys.items():
            columns[column] = generator.generate(n)
        for column, start in plan.counters.items():
            within = np.zeros(n, dtype=np.int64)
            if positions is not None and n:  # rows of one parent are consecutive
                first = np.r_[True, positions[1:] != positions[:-1]]
                run_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
                within = np.arange(n) - run_start
            columns[column] = pd.Series(start + within, dtype="int64")
        if plan.primary is not None and positions is not None:
            parent = out[plan.primary.parent]
            for child_column, parent_column in zip(
                plan.primary.columns, plan.primary.parent_columns, strict=True
            ):
                columns[child_column] = parent[parent_column].iloc[positions].reset_index(drop=True)
            schema = self.database[plan.name].schema
            for column, derived in plan.derived.items():
                if derived.fk == plan.primary.name:
                    values = parent[derived.parent_column].iloc[positions]
                    columns[column] = from_parent(rows.get(column), values, derived.how, schema[column])
        for fk in plan.matched:
            for column in fk.columns:
                columns.setdefault(column, pd.Series([None] * n, dtype=object))
        return pd.DataFrame(columns, index=range(n))

    def _match(self, drawn: Mapping[str, pd.DataFrame], out: dict[str, pd.DataFrame], seed: int) -> None:
        """Fill every matched foreign key with the generated parent rows the child rows resemble."""
        for index, name in enumerate(self.database.order()):
            plan = self.plans_[name]
            rng = np.random.default_rng(np.random.SeedSequence([seed, index, 1]))
            for fk in plan.matched:
                self._match_key(plan, fk, drawn, out, rng)

    def _match_key(
        self,
        plan: TablePlan,
        fk: ForeignKey,
        drawn: Mapping[str, pd.DataFrame],
        out: dict[str, pd.DataFrame],
        rng: np.random.Generator,
    ) -> None:
        child_rows, parent_rows = drawn[plan.name], drawn[fk.parent]
        child, parent = out[plan.name], out[fk.parent]
        n = len(child)
        if n == 0:
            return
        wanted = np.ones(n, dtype=bool)
        if fk.name in plan.presence:
            wanted = child_rows[plan.presence[fk.name]].fillna(False).to_numpy(dtype=bool)
        features = plan.features[fk.name]
        child_features = child_rows[[feature_prefix(fk) + c for c in features]].copy()
        child_features.columns = features
        child_matrix, parent_matrix = feature_matrix(
            child_features[wanted], parent_rows[features], plan.weights.get(fk.name)
        )
        capacity = _capacity(parent_rows[count_column(fk)].to_numpy(dtype=float), int(wanted.sum()))
        groups = self._groups(plan, fk, child)
        if groups is None and _is_unique_key(self.database, plan.name, fk.columns):
            capacity = np.minimum(capacity, 1) if capacity is not None else np.ones(len(parent), np.int64)
        chosen = match_rows(
            child_matrix,
            parent_matrix,
            rng,
            capacity=capacity,
            groups=None if groups is None else groups[wanted],
            exclude=np.flatnonzero(wanted) if fk.self_reference else None,
        )
        rows = np.full(n, -1, dtype=np.int64)
        rows[wanted] = chosen
        valid = rows >= 0
        for child_column, parent_column in zip(fk.columns, fk.parent_columns, strict=True):
            values = parent[parent_column].iloc[np.where(valid, rows, 0)].reset_index(drop=True)
            child[child_column] = values.where(pd.Series(valid), None) if not valid.all() else values
        schema = self.database[plan.name].schema
        for column, derived in plan.derived.items():
            if derived.fk == fk.name:
                values = parent[derived.parent_column].iloc[np.where(valid, rows, 0)]
                found = from_parent(child_rows.get(column), values, derived.how, schema[column])
                child[column] = found.where(pd.Series(valid), None) if not valid.all() else found

    def _groups(self, plan: TablePlan, fk: ForeignKey, child: pd.DataFrame) -> np.ndarray | None:
        """Where ``fk``'s columns with others form a unique key: each child row's group of those others."""
        table = self.database[plan.name]
        for key in [table.primary_key, *table.unique]:
            if not key or not set(fk.columns) <= set(key) or set(key) == set(fk.columns):
                continue
            others = [c for c in key if c not in fk.columns]
            codes = child.groupby(others, dropna=False, sort=False).ngroup().to_numpy(dtype=np.int64)
            return codes
        return None

    def _finish(self, out: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Drop rows whose non-nullable key found no parent (and their descendants); columns in order."""
        database = self.database
        changed = True
        while changed:
            changed = False
            for fk in database.foreign_keys:
                child, parent = out[fk.child], out[fk.parent]
                positions = row_positions(parent, fk.parent_columns, child, fk.columns)
                null = child[list(fk.columns)].isna().any(axis=1).to_numpy()
                broken = (positions < 0) & ~null
                if fk.nullable:
                    for column in fk.columns:
                        child.loc[broken, column] = None
                    broken = np.zeros(len(child), dtype=bool)
                broken |= null & (not fk.nullable)
                if broken.any():
                    out[fk.child] = child[~broken].reset_index(drop=True)
                    changed = True
            for name, table in database.tables.items():
                frame = out[name]
                for key in [table.primary_key, *table.unique]:
                    if key and set(key) <= set(frame.columns):
                        repeated = frame[list(key)].duplicated() & frame[list(key)].notna().all(axis=1)
                        if repeated.any():
                            out[name] = frame = frame[~repeated.to_numpy()].reset_index(drop=True)
                            changed = True
        return {name: _in_source_form(database[name].schema, out[name]) for name in database.tables}

    # --- persistence ----------------------------------------------------------------------------
    def save(self, target: str | Path | IO[bytes], *, force: bool = False) -> Path | IO[bytes]:
        """Write one model file (JSON manifest and safetensors arrays, each table's engine under its
        own prefix; no pickle) to a path (atomically; ``force``: overwrite) or a binary stream."""
        from mirage._model_archive import write_archive

        self._require_fitted()
        tables: dict[str, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for name in self.database.order():
            entry: dict[str, Any] = {"plan": self.plans_[name].to_dict(), "engine": None}
            if name in self.reference_rows_:
                entry["reference_rows"] = json.loads(
                    self.reference_rows_[name].to_json(orient="split", index=False, date_format="iso")
                )
            engine = self.engines_[name]
            if engine is not None:
                state, engine_arrays = engine.get_state()
                entry["engine"] = {
                    "engine": engine.name,
                    "hyperparameters": engine.get_params(),
                    "schema": engine.schema_.to_dict(),
                    "state": state,
                }
                arrays.update({f"{name}/{k}": v for k, v in engine_arrays.items()})
            tables[name] = entry
        body = {
            "engine": RELATIONAL,
            "hyperparameters": {"engine": self.engine, "params": self.params, "seed": self.seed},
            "schema": self.database.to_dict(),
            "state": {"tables": tables, "training": dict(getattr(self, "training_", {}))},
        }
        write_archive(body, arrays, target, force=force)
        return Path(target) if isinstance(target, str) else target

    @classmethod
    def load(cls, source: str | Path | bytes | IO[bytes]) -> RelationalSynthesizer:
        """The relational model in a model file (a path, bytes or a binary stream)."""
        from mirage._model_archive import describe, read_archive

        manifest, payload = read_archive(source, arrays=True)
        where = describe(source)
        if manifest.get("engine") != RELATIONAL:
            raise ModelFileError(
                f"{where}: holds a single-table model ({manifest.get('engine')!r}); use mirage.load"
            )
        try:
            return cls._from_manifest(manifest, payload)
        except ModelFileError as exc:
            raise ModelFileError(f"{where}: {exc}") from None
        except (MirageError, KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{where}: the model state is inconsistent ({type(exc).__name__}: {exc})"
            ) from None

    @classmethod
    def _from_manifest(cls, manifest: Mapping[str, Any], payload: bytes) -> RelationalSynthesizer:
        from safetensors.numpy import load as load_arrays

        from mirage._validate import StateError, require_mapping

        database = DatabaseSchema.from_dict(manifest["schema"])
        hyper = require_mapping(manifest["hyperparameters"], "hyperparameters")
        model = cls(
            database, engine=hyper["engine"], params=hyper.get("params"), seed=int(hyper.get("seed", 0))
        )
        arrays = load_arrays(payload) if payload else {}
        tables = require_mapping(require_mapping(manifest["state"], "state")["tables"], "state.tables")
        plans: dict[str, TablePlan] = {}
        engines: dict[str, Synthesizer | None] = {}
        reference_rows: dict[str, pd.DataFrame] = {}
        for name in database.order():
            if name not in tables:
                raise ModelFileError(f"state.tables: no entry for table {name!r}")
            entry = require_mapping(tables[name], f"state.tables.{name}")
            plans[name] = TablePlan.from_dict(name, entry["plan"], database)
            engines[name] = None
            if database[name].reference:
                reference_rows[name] = _reference_frame(database, name, plans[name], entry)
            if entry.get("engine") is not None:
                saved = require_mapping(entry["engine"], f"state.tables.{name}.engine")
                engine_cls = get_engine(str(saved["engine"]))
                hyperparameters = require_mapping(saved["hyperparameters"])
                for key, value in hyperparameters.items():
                    problem = engine_cls.params[key].problem(value) if key in engine_cls.params else "unknown"
                    if problem is not None:
                        raise ModelFileError(f"state.tables.{name}.engine.hyperparameters.{key}: {problem}")
                engine = engine_cls(**hyperparameters)
                prefix = f"{name}/"
                own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                try:
                    engine.set_state(Schema.from_dict(dict(saved["schema"])), saved["state"], own)
                except StateError as exc:
                    field = exc.where if exc.array else f"state.{exc.path}"
                    raise ModelFileError(f"table {name!r}: {field}: {exc.reason}") from None
                engines[name] = engine
        model.plans_ = plans
        model.engines_ = engines
        model.reference_rows_ = reference_rows
        model.training_ = dict(require_mapping(manifest["state"].get("training", {}), "state.training"))
        return model


def _reference_frame(
    database: DatabaseSchema, name: str, plan: TablePlan, entry: Mapping[str, Any]
) -> pd.DataFrame:
    """A reference table's saved rows (JSON, split orientation), in the source's dtypes."""
    from io import StringIO

    saved = entry.get("reference_rows")
    if not isinstance(saved, Mapping) or "columns" not in saved or "data" not in saved:
        raise ModelFileError(f"state.tables.{name}.reference_rows: missing or not a table of rows")
    frame = pd.read_json(StringIO(json.dumps(saved)), orient="split", dtype=False)
    expected = [*database[name].schema.names, *plan.counts]
    if list(frame.columns) != expected:
        raise ModelFileError(
            f"state.tables.{name}.reference_rows: columns {list(frame.columns)}, not {expected}"
        )
    rows = _in_source_form(database[name].schema, frame)
    for column in plan.counts:
        rows[column] = frame[column].astype(np.int64)
    return rows


def _rare_min_count(options: EncodingOptions | None) -> int:
    return (options or EncodingOptions()).rare_min_count


def _derive_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint32)[0])


def _more(problems: list[str]) -> str:
    return f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""


def _seconds_between(base: pd.Series, stamps: pd.Series) -> np.ndarray:
    if getattr(base.dt, "tz", None) is not None and getattr(stamps.dt, "tz", None) is None:
        base = base.dt.tz_localize(None)
    if getattr(stamps.dt, "tz", None) is not None and getattr(base.dt, "tz", None) is None:
        stamps = stamps.dt.tz_localize(None)
    delta = (stamps - base).dt.total_seconds()
    return delta.to_numpy(dtype="float64", na_value=np.nan)


def _all_midnight(stamps: pd.Series) -> bool:
    present = stamps.dropna()
    return bool((present == present.dt.normalize()).all())


def _capacity(counts: np.ndarray, rows: int) -> np.ndarray | None:
    """How many of ``rows`` children each parent row takes at most: its drawn count rescaled to
    ``rows`` in all (largest remainders), so the drawn popularity is what the output has."""
    counts = np.clip(np.nan_to_num(counts), 0, None)
    total = counts.sum()
    if total <= 0 or rows == 0:
        return None
    share = counts * (rows / total)
    capacity = np.floor(share).astype(np.int64)
    short = rows - int(capacity.sum())
    if short > 0:
        capacity[np.argsort(capacity - share, kind="stable")[:short]] += 1
    return capacity


def _is_unique_key(database: DatabaseSchema, table: str, columns: tuple[str, ...]) -> bool:
    keys = [database[table].primary_key, *database[table].unique]
    return any(key and set(key) == set(columns) for key in keys)


def _in_source_form(schema: Schema, frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns in schema order, keys in the dtype the source had where they fit it."""
    out = frame[[c for c in schema.names if c in frame.columns]].copy()
    for column in schema:
        if column.name not in out.columns:  # a table learned empty has none of its own columns
            out[column.name] = pd.Series([None] * len(out), dtype=object)
        values = out[column.name]
        if values.dtype == object and column.dtype != "object":
            try:
                out[column.name] = values.astype(pd.api.types.pandas_dtype(column.dtype))
            except (TypeError, ValueError):
                with contextlib.suppress(TypeError, ValueError):
                    out[column.name] = pd.to_numeric(values)
    return out[schema.names]
