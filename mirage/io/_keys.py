"""The schema of a database read as a dict of DataFrames: each table's columns, and for files (which
declare nothing) the primary keys and foreign keys guessed from the values and the column names.

A primary key is a column with no null and no repeated value whose name says it is one (``id``,
``<table>_id``, ``<singular>_id``, or a name ending in ``id``/``code``/``key``); failing that, a pair
of such columns that is unique together (an order line: ``order_id, product_id``).  A foreign key is a
column named after another table's primary key (``customer_id`` -> ``customers(customer_id)``,
``customer_id`` -> ``customers(id)``, ``billing_customer_id`` -> ``customers(customer_id)``; within its
own table ``manager_id``, ``parent_id``, ``reports_to``) whose every non-null value is one of that key's
values, or the columns of another table's composite key, by name, whose every combination is one.  The
result is a guess to edit: the JSON says what was found and ``mirage fit --schema`` takes it back.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterable, Mapping

import pandas as pd

from mirage._warnings import MirageWarning, warn
from mirage.errors import SchemaError
from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind, Schema, Table, infer_schema
from mirage.schema._id_format import infer_id_format

__all__ = ["SOURCE_ATTR", "infer_database_schema", "keyed_schema", "singular"]

# DataFrame.attrs key naming where a table was read from (a database URL or a folder), so that a
# writer can refuse to write into the source.
SOURCE_ATTR = "mirage.source"

_KEY_SUFFIX = re.compile(r"(^|_|[a-z])(id|code|key|uuid)$", re.IGNORECASE)


def singular(name: str) -> str:
    """``customers`` -> ``customer``, ``categories`` -> ``category``, ``addresses`` -> ``address``."""
    lower = name.lower()
    if lower.endswith("ies") and len(lower) > 4:
        return name[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes")):
        return name[:-2]
    if lower.endswith("s") and not lower.endswith("ss") and len(lower) > 1:
        return name[:-1]
    return name


def keyed_schema(
    frame: pd.DataFrame, key_columns: Iterable[str], *, locale: str | None = None, table: str | None = None
) -> Schema:
    """``infer_schema(frame)`` with every key column (primary, unique or foreign) made an identifier:
    keys are regenerated, never learned as values.  Inference's warnings name ``table``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MirageWarning)
        schema = infer_schema(frame, locale=locale)
    for warning in caught:
        if issubclass(warning.category, MirageWarning) and table is not None:
            warn(f"table {table!r}: {warning.message}", stacklevel=3)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    keys = set(key_columns)
    columns = [
        column
        if column.name not in keys or column.kind is Kind.IDENTIFIER
        else Column(
            name=column.name,
            kind=Kind.IDENTIFIER,
            dtype=column.dtype,
            nullable=column.nullable,
            id_format=infer_id_format(frame[column.name]),
        )
        for column in schema
    ]
    return Schema(columns=columns, locale=schema.locale, extra=schema.extra)


def _key_name_rank(table: str, column: str) -> int | None:
    """How strongly a column's name says it is ``table``'s primary key (0 strongest), None: not at all."""
    lower, table_lower, one = column.lower(), table.lower(), singular(table).lower()
    exact = ["id", f"{table_lower}_id", f"{one}_id", f"{table_lower}id", f"{one}id"]
    if lower in exact:
        return 0
    if lower in (f"{one}_code", f"{one}_key", f"{one}code", f"{one}key", "code", "key", "uuid"):
        return 1
    if _KEY_SUFFIX.search(column):
        return 2
    return None


def _unique(frame: pd.DataFrame, columns: list[str]) -> bool:
    values = frame[columns]
    return len(frame) > 0 and not values.isna().any().any() and not values.duplicated().any()


def _usable_key_column(series: pd.Series) -> bool:
    return not pd.api.types.is_float_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _primary_key(name: str, frame: pd.DataFrame) -> tuple[str, ...]:
    ranked = sorted(
        (rank, position, str(column))
        for position, column in enumerate(frame.columns)
        if (rank := _key_name_rank(name, str(column))) is not None and _usable_key_column(frame[column])
    )
    for _, _, column in ranked:
        if _unique(frame, [column]):
            return (column,)
    keyish = [column for _, _, column in sorted(ranked, key=lambda r: r[1])]
    for pair in itertools.combinations(keyish, 2):
        if _unique(frame, list(pair)):
            return pair
    return ()


_GENERIC_KEYS = ("id", "code", "key", "uuid")
_SELF_NAMES = ("parent_id", "manager_id", "reports_to", "supervisor_id", "boss_id")


def _refers_by_name(column: str, child: str, parent: str, parent_key: str) -> bool:
    """Whether ``child.column``'s name says it refers to ``parent(parent_key)``: the key's own name
    (``customer_id``), the parent's singular with the key (``customer_id`` -> ``customers(id)``), or
    a role before the key (``billing_customer_id``; ``manager_id`` within its own table)."""
    lower, key, one = column.lower(), parent_key.lower(), singular(parent).lower()
    if key not in _GENERIC_KEYS and (lower == key or lower.endswith(f"_{key}")):
        return True
    if parent == child and (lower in _SELF_NAMES or lower in (f"parent_{key}", f"parent_{one}_id")):
        return True
    return lower in (f"{one}_{key}", f"{parent.lower()}_{key}", f"{one}{key}") or (
        key == "id" and lower in (f"{one}_id", f"{one}id")
    )


def _contained(child: pd.Series, parent: pd.Series) -> bool:
    present = child.dropna()
    if present.empty:
        return False
    if pd.api.types.is_numeric_dtype(present.dtype) != pd.api.types.is_numeric_dtype(parent.dtype):
        return False
    return bool(present.isin(set(parent.dropna().tolist())).all())


def _rows_contained(child: pd.DataFrame, parent: pd.DataFrame) -> bool:
    present = child.dropna()
    if present.empty:
        return False
    keys = set(parent.dropna().itertuples(index=False, name=None))
    return all(row in keys for row in present.itertuples(index=False, name=None))


def _composite_keys(frames: Mapping[str, pd.DataFrame], keys: dict[str, tuple[str, ...]]) -> list[ForeignKey]:
    """A child holding every column of another table's composite key, by name, with every (non-null)
    combination one of that table's keys."""
    found = []
    for parent, parent_key in keys.items():
        if len(parent_key) < 2:
            continue
        for child, frame in frames.items():
            if child == parent or not set(parent_key) <= set(map(str, frame.columns)):
                continue
            if keys[child] == parent_key:  # the same key: a 1:1 extension, left for the user to say
                continue
            if _rows_contained(frame[list(parent_key)], frames[parent][list(parent_key)]):
                nullable = bool(frame[list(parent_key)].isna().any().any())
                found.append(ForeignKey(child, parent_key, parent, parent_key, nullable=nullable))
    return found


def _foreign_keys(frames: Mapping[str, pd.DataFrame], keys: dict[str, tuple[str, ...]]) -> list[ForeignKey]:
    found = _composite_keys(frames, keys)
    for child, frame in frames.items():
        own_key = keys[child]
        for column in map(str, frame.columns):
            if own_key == (column,):
                continue
            for parent, parent_key in keys.items():
                if len(parent_key) != 1 or (parent == child and column == parent_key[0]):
                    continue
                if not _refers_by_name(column, child, parent, parent_key[0]):
                    continue
                if _contained(frame[column], frames[parent][parent_key[0]]):
                    nullable = bool(frame[column].isna().any())
                    found.append(ForeignKey(child, (column,), parent, parent_key, nullable=nullable))
                    break
    return found


def infer_database_schema(frames: Mapping[str, pd.DataFrame], *, locale: str | None = None) -> DatabaseSchema:
    """A :class:`DatabaseSchema` guessed from the tables' values and column names: primary keys (unique,
    non-null, named like a key), foreign keys (named after another table's key, every non-null value
    one of its values; nullable where the column has nulls) and each table's column kinds, key columns
    as identifiers.  Edit its JSON where the guess is wrong."""
    keys = {name: _primary_key(name, frame) for name, frame in frames.items()}
    foreign_keys = _foreign_keys(frames, keys)
    tables = {}
    for name, frame in frames.items():
        key_columns = [*keys[name], *(c for fk in foreign_keys if fk.child == name for c in fk.columns)]
        tables[name] = Table(
            name=name,
            schema=keyed_schema(frame, key_columns, locale=locale, table=name),
            primary_key=keys[name],
        )
    return _acyclic(tables, foreign_keys)


def _acyclic(tables: dict[str, Table], foreign_keys: list[ForeignKey]) -> DatabaseSchema:
    """The schema, leaving out (last found first) foreign keys that close a cycle no nullable key breaks:
    inference must not fail where a user can add the key by hand."""
    kept = list(foreign_keys)
    while True:
        try:
            return DatabaseSchema(tables=tables, foreign_keys=kept)
        except SchemaError:
            if not kept:
                raise
            kept = kept[:-1]
