"""A database's schema: its tables (each a :class:`Schema` with a primary key) and the foreign keys
between them, with a JSON round trip a user can edit and the order in which tables are learned.

Key columns (primary and foreign) are never learned as values: primary keys are regenerated in the
source's format, foreign keys point to generated parent rows.  The order puts every parent before its
children; a self-reference (an employee's manager) or a cycle is broken on a nullable foreign key,
which is then filled after its parent table exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mirage.errors import SchemaError
from mirage.schema._schema import Schema, load_json_file, parse_json

__all__ = ["DATABASE_FORMAT_VERSION", "DatabaseSchema", "ForeignKey", "Table"]

DATABASE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ForeignKey:
    """``child(columns)`` refers to ``parent(parent_columns)`` (composite keys have several columns)."""

    child: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    nullable: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "parent_columns", tuple(self.parent_columns))
        if not self.columns or len(self.columns) != len(self.parent_columns):
            raise SchemaError(
                f"foreign key {self.name}: needs as many columns as the parent key it refers to"
            )

    @property
    def name(self) -> str:
        return f"{self.child}({', '.join(self.columns)}) -> {self.parent}({', '.join(self.parent_columns)})"

    @property
    def self_reference(self) -> bool:
        return self.child == self.parent

    def to_dict(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "columns": list(self.columns),
            "parent": self.parent,
            "parent_columns": list(self.parent_columns),
            "nullable": self.nullable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForeignKey:
        try:
            return cls(
                child=str(data["child"]),
                columns=tuple(str(c) for c in data["columns"]),
                parent=str(data["parent"]),
                parent_columns=tuple(str(c) for c in data["parent_columns"]),
                nullable=bool(data.get("nullable", False)),
            )
        except (KeyError, TypeError) as exc:
            raise SchemaError(
                f"a foreign key needs child, columns, parent and parent_columns ({exc})"
            ) from None


@dataclass
class Table:
    """One table: its columns' schema, its primary key and unique constraints.

    ``sql_types`` keeps each column's SQL type as reflected from a database (``"VARCHAR(40)"``), so a
    synthetic database can be created with the same DDL; empty for tables read from files.

    ``not_null`` names the columns other than the primary key's declared ``NOT NULL`` in the source
    database (reflected), so the synthetic database declares them so too (primary key columns always are).

    ``reference`` marks public reference data (a lookup table such as shippers or categories): it is
    not learned but copied as is, rows and keys, into every synthetic database; the user says so
    explicitly (``"reference": true`` in the JSON), since whatever such a table holds is published.
    """

    name: str
    schema: Schema
    primary_key: tuple[str, ...] = ()
    unique: list[tuple[str, ...]] = field(default_factory=list)
    sql_types: dict[str, str] = field(default_factory=dict)
    reference: bool = False
    not_null: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.primary_key = tuple(self.primary_key)
        self.unique = [tuple(u) for u in self.unique]
        self.not_null = tuple(self.not_null)
        for column in [
            *self.primary_key,
            *(c for u in self.unique for c in u),
            *self.sql_types,
            *self.not_null,
        ]:
            if column not in self.schema.names:
                raise SchemaError(f"table {self.name!r}: key column {column!r} is not one of its columns")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"primary_key": list(self.primary_key), "schema": self.schema.to_dict()}
        if self.unique:
            out["unique"] = [list(u) for u in self.unique]
        if self.sql_types:
            out["sql_types"] = dict(self.sql_types)
        if self.reference:
            out["reference"] = True
        if self.not_null:
            out["not_null"] = list(self.not_null)
        return out

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Table:
        if not isinstance(data, Mapping) or "schema" not in data:
            raise SchemaError(f"table {name!r}: a table is a JSON object with a 'schema'")
        try:
            schema = Schema.from_dict(data["schema"])
        except SchemaError as exc:
            raise SchemaError(f"table {name!r}: {exc}") from None
        return cls(
            name=name,
            schema=schema,
            primary_key=tuple(data.get("primary_key", ())),
            unique=[tuple(u) for u in data.get("unique", [])],
            sql_types=dict(data.get("sql_types", {})),
            reference=_flag(name, data.get("reference", False)),
            not_null=tuple(str(c) for c in data.get("not_null", ())),
        )


def _flag(table: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(f"table {table!r}: reference must be true or false, got {value!r}")
    return value


@dataclass
class DatabaseSchema:
    """Tables by name and the foreign keys between them."""

    tables: dict[str, Table]
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name, table in self.tables.items():
            if table.name != name:
                raise SchemaError(f"table {table.name!r} is listed under the name {name!r}")
        for fk in self.foreign_keys:
            for table_name, columns in ((fk.child, fk.columns), (fk.parent, fk.parent_columns)):
                if table_name not in self.tables:
                    raise SchemaError(f"foreign key {fk.name}: no table {table_name!r}")
                names = self.tables[table_name].schema.names
                for column in columns:
                    if column not in names:
                        raise SchemaError(
                            f"foreign key {fk.name}: table {table_name!r} has no column {column!r}"
                        )
            parent = self.tables[fk.parent]
            if fk.parent_columns != parent.primary_key and fk.parent_columns not in parent.unique:
                raise SchemaError(
                    f"foreign key {fk.name}: {fk.parent}({', '.join(fk.parent_columns)}) is neither the "
                    "primary key nor a unique key of its table"
                )
        self.order()  # raises on a cycle that no nullable foreign key breaks

    def __getitem__(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise SchemaError(f"no table {name!r} (tables: {', '.join(self.tables)})") from None

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    def parents(self, table: str) -> list[ForeignKey]:
        """The foreign keys of ``table`` (one per parent reference, self-references included)."""
        return [fk for fk in self.foreign_keys if fk.child == table]

    def children(self, table: str) -> list[ForeignKey]:
        """The foreign keys that refer to ``table``."""
        return [fk for fk in self.foreign_keys if fk.parent == table]

    def key_columns(self, table: str) -> list[str]:
        """Columns of ``table`` in its primary key or in a foreign key, in the table's column order."""
        keys = set(self.tables[table].primary_key)
        keys.update(c for fk in self.parents(table) for c in fk.columns)
        return [c for c in self.tables[table].schema.names if c in keys]

    def deferred(self) -> list[ForeignKey]:
        """The foreign keys :meth:`order` breaks (self-references and cycle-breaking nullable ones):
        they are filled after both tables exist."""
        return self._order()[1]

    def order(self) -> list[str]:
        """Table names with every parent before its children (apart from :meth:`deferred` keys)."""
        return self._order()[0]

    def _order(self) -> tuple[list[str], list[ForeignKey]]:
        deferred = [fk for fk in self.foreign_keys if fk.self_reference]
        while True:
            edges = [fk for fk in self.foreign_keys if fk not in deferred]
            order, stuck = _topological(list(self.tables), edges)
            if not stuck:
                return order, deferred
            breakable = [fk for fk in edges if fk.nullable and _in_cycle(fk, edges)]
            if not breakable:
                raise SchemaError(
                    f"the tables {', '.join(sorted(stuck))} refer to each other in a cycle and none of their "
                    "foreign keys is nullable; mark one nullable to break the cycle"
                )
            deferred.append(breakable[0])

    def validate(self, data: Mapping[str, pd.DataFrame]) -> None:
        """Raise SchemaError naming the first table missing from ``data`` or present in excess, or the
        first column a table lacks."""
        missing = [t for t in self.tables if t not in data]
        if missing:
            raise SchemaError(f"table {missing[0]!r} is in the schema but not in the data")
        extra = [t for t in data if t not in self.tables]
        if extra:
            raise SchemaError(f"table {extra[0]!r} is in the data but not in the schema")
        for name, table in self.tables.items():
            try:
                table.schema.validate(data[name])
            except SchemaError as exc:
                raise SchemaError(f"table {name!r}: {exc}") from None

    def integrity_problems(self, data: Mapping[str, pd.DataFrame]) -> list[str]:
        """Every broken key in ``data``, one line each: a primary or unique key with a null or a repeated
        value, a foreign key whose value no parent row has (or a null where the key is not nullable).
        An empty list means full referential integrity."""
        problems: list[str] = []
        for name, table in self.tables.items():
            frame = data[name]
            for key in [table.primary_key, *table.unique] if table.primary_key else table.unique:
                values = frame[list(key)]
                nulls = int(values.isna().any(axis=1).sum())
                if nulls and key == table.primary_key:
                    problems.append(f"{name}({', '.join(key)}): {nulls} row(s) with a null primary key")
                repeated = int(values.dropna().duplicated().sum())
                if repeated:
                    problems.append(f"{name}({', '.join(key)}): {repeated} repeated key value(s)")
        for fk in self.foreign_keys:
            child = data[fk.child][list(fk.columns)]
            null = child.isna().any(axis=1)
            if null.any() and not fk.nullable:
                problems.append(
                    f"{fk.name}: {int(null.sum())} null reference(s) in a key that is not nullable"
                )
            parent = data[fk.parent][list(fk.parent_columns)].dropna()
            parent_keys = set(parent.itertuples(index=False, name=None))
            referenced = child[~null].itertuples(index=False, name=None)
            dangling = sum(1 for key in referenced if key not in parent_keys)
            if dangling:
                problems.append(f"{fk.name}: {dangling} reference(s) to no parent row")
        return problems

    # JSON round trip -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": DATABASE_FORMAT_VERSION,
            "tables": {name: table.to_dict() for name, table in self.tables.items()},
            "foreign_keys": [fk.to_dict() for fk in self.foreign_keys],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatabaseSchema:
        if not isinstance(data, Mapping) or not isinstance(data.get("tables"), Mapping):
            raise SchemaError("a database schema is a JSON object with a 'tables' object")
        version = data.get("format_version", DATABASE_FORMAT_VERSION)
        if not isinstance(version, int) or version > DATABASE_FORMAT_VERSION:
            raise SchemaError(
                f"database schema format version {version} is newer than this Mirage reads "
                f"({DATABASE_FORMAT_VERSION}); upgrade mirage-synth"
            )
        tables = {str(name): Table.from_dict(str(name), t) for name, t in data["tables"].items()}
        foreign_keys = [ForeignKey.from_dict(fk) for fk in data.get("foreign_keys", [])]
        return cls(tables=tables, foreign_keys=foreign_keys)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> DatabaseSchema:
        return cls.from_dict(parse_json(text, "database schema"))

    @classmethod
    def load(cls, path: str | Path) -> DatabaseSchema:
        return load_json_file(path, "database schema", cls.from_json)


def _topological(tables: list[str], edges: list[ForeignKey]) -> tuple[list[str], set[str]]:
    """Kahn's order (ties in the given table order); the tables left in a cycle, if any."""
    waiting = {t: {fk.parent for fk in edges if fk.child == t} for t in tables}
    order: list[str] = []
    while True:
        ready = [t for t in tables if t not in order and not waiting[t] - set(order)]
        if not ready:
            break
        order.extend(ready[:1])
    stuck = {t for t in tables if t not in order}
    return order, stuck


def _in_cycle(fk: ForeignKey, edges: list[ForeignKey]) -> bool:
    """Whether ``fk.parent`` depends, through ``edges``, on ``fk.child`` (so ``fk`` closes a cycle)."""
    seen: set[str] = set()
    frontier = [fk.parent]
    while frontier:
        table = frontier.pop()
        if table == fk.child:
            return True
        if table not in seen:
            seen.add(table)
            frontier.extend(e.parent for e in edges if e.child == table)
    return False
