"""Rows from a spec, in seeded blocks like the learned engines.

Block ``i`` of table ``t`` draws from ``SeedSequence([seed, i, crc32(t), 0])`` (its children-per-parent
counts from ``[seed, j, crc32(t), 1]`` per block ``j`` of parent rows), and blocks have a fixed size, so
the same seed gives the same rows however the blocks are spread over chunks or processes.  Within a
block: the copula's columns are drawn together, the others in an order where each column follows the
ones it is computed from; formulas hold by construction, the other rules by drawing the rows that break
them again (at most ``rule_tries`` rounds, then an error naming the rule).
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage.control._rules import Formula, Rule, Unique, evaluate_formula
from mirage.errors import OptionError, SchemaError
from mirage.schema import Kind
from mirage.spec._copula import correlate
from mirage.spec._distributions import Distribution, Truncated, Uniform
from mirage.spec._providers import provider_values
from mirage.spec._spec import SECONDS_PER_DAY, ColumnSpec, Spec, TableSpec, generation_order

__all__ = ["BLOCK_ROWS", "TableGenerator", "generate", "generate_chunks", "table_rows"]

BLOCK_ROWS = 50_000  # as the learned engines (mirage.engines._base.BLOCK_ROWS)
_ROWS, _COUNTS, _POOL = 0, 1, 2


def table_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def _rng(seed: int, index: int, table: str, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, index, table_key(table), purpose]))


def resolve_seed(seed: int | None) -> int:
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise OptionError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


class TableGenerator:
    """Draws one table's rows (all columns but its keys) and makes them obey its rules."""

    def __init__(self, table: TableSpec, seed: int) -> None:
        self.table = table
        self.seed = seed
        self.order = generation_order(table)
        self.copula = table.copula
        self.enforced: list[tuple[int, Rule]] = [
            (i, r) for i, r in enumerate(table.rules) if not isinstance(r, Formula)
        ]
        self._identifiers: dict[str, Any] = {}

    # values -----------------------------------------------------------------------------------------
    def draw(self, m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        columns = self.table.columns
        values: dict[str, np.ndarray] = {}
        if self.copula is not None:
            z = correlate(self.copula.factor, rng.standard_normal((len(self.copula.columns), m)))
            for j, name in enumerate(self.copula.columns):
                column = columns[name]
                assert column.distribution is not None
                values[name] = self._finish(column, column.distribution.from_normal(z[j]), rng, values)
        for name in self.order:
            column = columns[name]
            if name in values or column.key or column.kind is Kind.IDENTIFIER:
                continue
            values[name] = self._finish(column, self._values(column, m, rng, values), rng, values)
        return values

    def _values(
        self, column: ColumnSpec, m: int, rng: np.random.Generator, values: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        if column.distribution is not None:
            return column.distribution.ppf(rng.random(m))
        if column.conditional is not None:
            u = rng.random(m)
            on = values[column.conditional.on]
            numeric = column.kind in (Kind.NUMERIC, Kind.DATETIME)
            out = np.full(m, np.nan) if numeric else np.full(m, None, dtype=object)
            matched = np.zeros(m, dtype=bool)
            for label, dist in column.conditional.cases.items():
                mask = on == label
                matched |= mask
                if mask.any():
                    out[mask] = dist.ppf(u[mask])
            rest = ~matched & np.asarray(pd.notna(on), dtype=bool)
            if column.conditional.default is not None and rest.any():
                out[rest] = column.conditional.default.ppf(u[rest])
            return out
        if column.bins is not None:
            source = values[column.bins.column].astype("float64")
            index = np.searchsorted(np.asarray(column.bins.edges), source, side="right") - 1
            labels = np.array([*column.bins.labels, None], dtype=object)
            inside = (index >= 0) & (index < len(column.bins.labels)) & ~np.isnan(source)
            return np.asarray(labels[np.where(inside, index, len(column.bins.labels))])
        if column.formula is not None:
            frame = pd.DataFrame({name: values[name] for name in column.needs})
            return evaluate_formula(column.formula, frame).to_numpy(dtype="float64", na_value=np.nan)
        assert column.provider is not None
        pool_seed = int(
            np.random.SeedSequence(
                [self.seed, 0, table_key(self.table.name), _POOL, table_key(column.name)]
            ).generate_state(1)[0]
        )
        p = column.provider
        return provider_values(p.name, p.locale, p.pool, m, rng, pool_seed)

    def _finish(
        self, column: ColumnSpec, x: np.ndarray, rng: np.random.Generator, values: Mapping[str, np.ndarray]
    ) -> np.ndarray:
        if column.kind in (Kind.NUMERIC, Kind.DATETIME) and x.dtype != object:
            if column.kind is Kind.DATETIME:
                x = np.floor(x) if column.date_only else np.round(x * SECONDS_PER_DAY) / SECONDS_PER_DAY
            elif column.integer:
                x = np.round(x)
            elif column.decimals is not None:
                x = np.round(x, column.decimals)
        if column.may_be_null:
            rates = np.full(x.shape[0], column.nulls)
            if column.null_given is not None:
                given = values[column.null_given]
                for label, rate in column.null_cases.items():
                    rates[given == label] = rate
            missing = np.asarray(rng.random(x.shape[0]) < rates, dtype=bool)
            if missing.any():
                x = x.astype("float64") if x.dtype.kind in "iub" else x.copy()
                x[missing] = np.nan if x.dtype.kind == "f" else None
        return x

    def frame(self, values: Mapping[str, np.ndarray], m: int) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for name, column in self.table.columns.items():
            if name in values:
                out[name] = _typed(column, values[name])
        return pd.DataFrame(out, index=pd.RangeIndex(m))

    # rules ------------------------------------------------------------------------------------------
    def _violations(self, frame: pd.DataFrame, seen: dict[int, set[Any]]) -> tuple[np.ndarray, list[int]]:
        bad = np.zeros(len(frame), dtype=bool)
        counts: list[int] = []
        for i, rule in self.enforced:
            if isinstance(rule, Unique) and any(
                self.table.columns[c].kind is Kind.IDENTIFIER for c in rule.columns
            ):
                counts.append(0)  # identifiers are unique by construction
                continue
            mask = rule.violations(frame, self.table.schema)
            if isinstance(rule, Unique) and seen.get(i):
                mask = mask | np.array([k in seen[i] for k in _keys(frame, rule)], dtype=bool)
            counts.append(int(mask.sum()))
            bad |= mask
        return bad, counts

    def enforce(
        self, frame: pd.DataFrame, rng: np.random.Generator, seen: dict[int, set[Any]]
    ) -> pd.DataFrame:
        if not self.enforced:
            return frame
        bad, counts = self._violations(frame, seen)
        for _ in range(self.table.rule_tries):
            if not bad.any():
                break
            rows = np.flatnonzero(bad)
            fresh = self.frame(self.draw(rows.size, rng), rows.size)
            for name in fresh.columns:
                frame[name] = _replace(frame[name], rows, fresh[name])
            bad, counts = self._violations(frame, seen)
        if bad.any():
            worst = max(range(len(counts)), key=lambda k: counts[k])
            index, rule = self.enforced[worst]
            raise SchemaError(
                f"{self.table.path}.rules[{index}]: rule {rule.describe()} still fails on {counts[worst]} of "
                f"{len(frame)} rows after {self.table.rule_tries} redraws; loosen the rule or the "
                "distributions it reads"
            )
        for i, rule in self.enforced:
            if isinstance(rule, Unique):
                seen.setdefault(i, set()).update(_keys(frame, rule))
        return frame

    # keys -------------------------------------------------------------------------------------------
    def identifiers(self, name: str, start: int, m: int) -> pd.Series:
        column = self.table.columns[name]
        codec = self._identifiers.get(name)
        if codec is None:
            from mirage.encoding import EncodingOptions
            from mirage.encoding.identifier import IdentifierCodec

            schema_column = self.table.schema[name]
            codec = IdentifierCodec(schema_column, EncodingOptions())
            codec.reduce([codec.analyze(pd.Series([], dtype=column.dtype))])
            if column.start is not None:
                codec.id_start = column.start
            self._identifiers[name] = codec
        out: pd.Series = codec.decode({}, m, np.random.default_rng(0), start).reset_index(drop=True)
        return out

    def block(
        self,
        index: int,
        m: int,
        seen: dict[int, set[Any]],
        parents: Mapping[str, np.ndarray] | None = None,
        references: Mapping[str, pd.Series] | None = None,
    ) -> pd.DataFrame:
        """Block ``index`` (rows ``index * BLOCK_ROWS`` onwards, ``m`` of them); ``parents``: the counted
        foreign key's values for these rows; ``references``: the other foreign keys' parent key columns."""
        rng = _rng(self.seed, index, self.table.name, _ROWS)
        frame = self.enforce(self.frame(self.draw(m, rng), m), rng, seen)
        start = index * BLOCK_ROWS
        for name in self.table.primary_key:
            frame[name] = self.identifiers(name, start, m)
        for name, keys in (parents or {}).items():
            frame[name] = pd.Series(keys).reset_index(drop=True)
        for name, parent_keys in (references or {}).items():
            size = m if len(parent_keys) else 0
            picks = rng.integers(0, max(len(parent_keys), 1), size=size)
            frame[name] = parent_keys.iloc[picks].reset_index(drop=True)
        for name, column in self.table.columns.items():
            if name not in frame and column.kind is Kind.IDENTIFIER:
                frame[name] = self.identifiers(name, start, m)
        return frame[list(self.table.columns)]


def _replace(old: pd.Series, rows: np.ndarray, new: pd.Series) -> pd.Series:
    if old.dtype == new.dtype:
        values = (
            old.to_numpy(copy=True) if not isinstance(old.array, pd.api.extensions.ExtensionArray) else None
        )
        if values is not None:
            values[rows] = new.to_numpy()
            return pd.Series(values, index=old.index, name=old.name, dtype=old.dtype)
    out = old.copy()
    out.iloc[rows] = new.to_numpy()
    return out


def _keys(frame: pd.DataFrame, rule: Unique) -> list[Any]:
    columns = list(rule.columns)
    if len(columns) == 1:
        return [v for v in frame[columns[0]].tolist() if not pd.isna(v)]
    return [k for k in frame[columns].itertuples(index=False, name=None) if not any(pd.isna(v) for v in k)]


def _typed(column: ColumnSpec, x: np.ndarray) -> Any:
    if column.kind is Kind.NUMERIC:
        if column.integer:
            if x.dtype.kind == "f" and np.isnan(x).any():
                return pd.Series(x).astype("Int64")
            return x.astype("int64")
        return x.astype("float64")
    if column.kind is Kind.DATETIME:
        missing = np.isnan(x.astype("float64"))
        seconds = np.where(missing, 0, np.round(x.astype("float64") * SECONDS_PER_DAY)).astype("int64")
        stamps = seconds.astype("datetime64[s]")
        stamps[missing] = np.datetime64("NaT")
        return stamps
    if column.kind is Kind.BOOLEAN:
        if column.may_be_null:
            return pd.array(x.tolist(), dtype="boolean")
        return x.astype(bool)
    return pd.Series(x, dtype=object)


# children per parent ------------------------------------------------------------------------------
def counts_of(dist: Distribution, u: np.ndarray) -> np.ndarray:
    """Whole numbers of children for uniform numbers ``u``: a uniform ``low..high`` gives each whole
    number in it alike; other distributions are rounded."""
    if isinstance(dist, Uniform):
        low, high = int(np.ceil(dist.low)), int(np.floor(dist.high))
        return np.minimum(low + np.floor(u * (high - low + 1)), high).astype(np.int64)
    values = dist.ppf(u)
    if isinstance(dist, Truncated) and dist.high is not None:
        values = np.minimum(values, dist.high)
    return np.maximum(np.round(values.astype("float64")), 0).astype(np.int64)


def child_counts(table: TableSpec, parents: int, seed: int) -> np.ndarray:
    assert table.per_parent is not None
    dist = table.per_parent[1]
    parts = []
    for j, start in enumerate(range(0, parents, BLOCK_ROWS)):
        size = min(BLOCK_ROWS, parents - start)
        parts.append(counts_of(dist, _rng(seed, j, table.name, _COUNTS).random(size)))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


# driving ----------------------------------------------------------------------------------------------
def table_rows(spec: Spec, name: str, *, rows: int | None = None, scale: float | None = None) -> int:
    table = spec.tables[name]
    if table.rows is None:
        raise OptionError(f"table {name!r} has rows per parent row; generate the whole spec")
    if rows is not None:
        return rows
    return max(round(table.rows * (1.0 if scale is None else scale)), 0)


def generate_chunks(
    spec: Spec, *, seed: int | None = None, rows: int | None = None, scale: float | None = None
) -> Iterator[pd.DataFrame]:
    """The rows of a single-table spec in blocks of at most ``BLOCK_ROWS`` (for streaming to a file)."""
    if not spec.single:
        raise OptionError(
            f"the spec has {len(spec.tables)} tables ({', '.join(spec.tables)}); generate them all with "
            "generate() and write a folder or a database"
        )
    name = next(iter(spec.tables))
    n = table_rows(spec, name, rows=rows, scale=scale)
    generator = TableGenerator(spec.tables[name], resolve_seed(seed))
    seen: dict[int, set[Any]] = {}
    for index, start in enumerate(range(0, max(n, 1), BLOCK_ROWS)):
        yield generator.block(index, min(BLOCK_ROWS, n - start), seen)


def generate(
    spec: Spec, *, seed: int | None = None, rows: int | None = None, scale: float | None = None
) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """Generate a spec's data: a DataFrame for a single-table spec, else a dict of DataFrames by table
    (parents first, every foreign key pointing at a generated parent row).

    ``rows``: the row count of a single-table spec (instead of its ``rows``); ``scale``: root tables'
    rows as a multiple of the spec's.  Same seed, same data.
    """
    if scale is not None and (isinstance(scale, bool) or not scale > 0):
        raise OptionError(f"scale must be a number above 0, got {scale!r}")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 0):
        raise OptionError(f"rows must be a whole number >= 0, got {rows!r}")
    if rows is not None and not spec.single:
        raise OptionError("rows applies to a spec with one table; scale a spec of several tables with scale")
    drawn = resolve_seed(seed)
    if spec.single:
        chunks = list(generate_chunks(spec, seed=drawn, rows=rows, scale=scale))
        return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    frames: dict[str, pd.DataFrame] = {}
    for name in spec.order():
        frames[name] = _generate_table(spec, name, drawn, scale, frames)
    return frames


def _generate_table(
    spec: Spec, name: str, seed: int, scale: float | None, frames: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    table = spec.tables[name]
    generator = TableGenerator(table, seed)
    counted: tuple[str, np.ndarray] | None = None
    if table.per_parent is not None:
        parent = table.per_parent[0]
        fk = next(fk for fk in table.foreign_keys if fk.parent == parent)
        keys = frames[parent][fk.parent_columns[0]]
        counts = child_counts(table, len(keys), seed)
        counted = (fk.columns[0], np.repeat(keys.to_numpy(), counts))
        n = int(counts.sum())
    else:
        n = table_rows(spec, name, scale=scale)
    references = {
        fk.columns[0]: frames[fk.parent][fk.parent_columns[0]]
        for fk in table.foreign_keys
        if counted is None or fk.columns[0] != counted[0]
    }
    for column, keys in references.items():
        if n and not len(keys):
            raise SchemaError(f"{table.path}.foreign_keys.{column}: the parent table has no rows to refer to")
    seen: dict[int, set[Any]] = {}
    chunks = []
    for index, start in enumerate(range(0, max(n, 1), BLOCK_ROWS)):
        m = min(BLOCK_ROWS, n - start)
        parents = {counted[0]: counted[1][start : start + m]} if counted is not None else None
        chunks.append(generator.block(index, m, seen, parents, references))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
