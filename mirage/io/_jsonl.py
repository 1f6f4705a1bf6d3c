"""JSON Lines (one JSON object per line) and JSON arrays of objects, floats written with full precision.

Nested objects are read as one column per leaf, named by its path (``{"user": {"age": 41}}``: a column
``user.age``), and lists as their JSON text (one value of the column: a list is not taken apart); the
layout is kept (``DataFrame.attrs["mirage.json"]``, then the schema) so that JSON output nests the
columns and turns the lists back the same way.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mirage._attrs import JSON_LAYOUT
from mirage.errors import DataError, OptionError
from mirage.io._encoding import undecodable
from mirage.io._formats import open_binary

__all__ = ["json_layout", "read_json_array", "read_jsonl", "write_json_records", "write_jsonl"]

SEPARATOR = "."  # between the keys of a nested object's path in a column name


def read_jsonl(path: Path, *, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Read one JSON object per non-blank line; a bad line raises ``DataError`` naming it."""
    records: list[dict[str, Any]] = []
    with io.TextIOWrapper(open_binary(path), encoding=encoding) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"'{path}' line {number} is not valid JSON: {exc.msg}") from exc
                if not isinstance(record, dict):
                    raise DataError(
                        f"'{path}' line {number} is a JSON {type(record).__name__}, not an object"
                    )
                records.append(record)
        except UnicodeDecodeError as exc:
            error = undecodable(path, encoding)
            raise (error or DataError(f"'{path}' is not valid {encoding} text ({exc.reason})")) from exc
    return _table(records, path, "line", start=1)


def read_json_array(path: Path, *, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Read a JSON array of objects (one per row); anything else raises ``DataError`` naming the file."""
    with io.TextIOWrapper(open_binary(path), encoding=encoding) as handle:
        try:
            records = json.load(handle)
        except json.JSONDecodeError as exc:
            raise DataError(f"'{path}' is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
        except UnicodeDecodeError as exc:
            error = undecodable(path, encoding)
            raise (error or DataError(f"'{path}' is not valid {encoding} text ({exc.reason})")) from exc
    if not isinstance(records, list):
        raise DataError(
            f"'{path}' holds a JSON {type(records).__name__}; a table is a JSON array of objects, one per row"
        )
    for number, record in enumerate(records):
        if not isinstance(record, dict):
            raise DataError(f"'{path}' item {number} is a JSON {type(record).__name__}, not an object")
    return _table(records, path, "item", start=0)


def _table(records: list[dict[str, Any]], path: Path, unit: str, *, start: int) -> pd.DataFrame:
    """The records as a table: nested objects flattened to path-named columns, lists as JSON text."""
    nested = any(isinstance(v, dict) for record in records for v in record.values())
    lists: dict[str, None] = {}
    if nested or any(isinstance(v, list) for record in records for v in record.values()):
        flat: list[dict[str, Any]] = []
        for number, record in enumerate(records, start=start):
            row: dict[str, Any] = {}
            _flatten(record, "", row, lists, path, f"{unit} {number}")
            flat.append(row)
        records = flat
    frame = pd.DataFrame.from_records(records)
    if nested or lists:
        frame.attrs[JSON_LAYOUT] = {"nested": nested, "lists": list(lists)}
    return frame


def _flatten(
    value: dict[str, Any], prefix: str, row: dict[str, Any], lists: dict[str, None], path: Path, where: str
) -> None:
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            _flatten(item, f"{name}{SEPARATOR}", row, lists, path, where)
            continue
        if name in row:
            raise DataError(
                f"'{path}' {where}: {name!r} is both a key and the path of a nested key; rename one"
            )
        if isinstance(item, list | dict):
            lists[name] = None
            item = json.dumps(item, ensure_ascii=False)
        row[name] = item


def json_layout(layout: Any) -> dict[str, Any]:
    """A recorded JSON layout (``{"nested": bool, "lists": [column, ...]}``) checked; {} for none."""
    if layout is None:
        return {}
    ok = (
        isinstance(layout, dict)
        and isinstance(layout.get("nested"), bool)
        and isinstance(layout.get("lists"), list)
        and all(isinstance(name, str) for name in layout["lists"])
    )
    if not ok:
        raise OptionError(
            f"json layout: expected nested (true/false) and lists (column names), got {layout!r}"
        )
    return {"nested": layout["nested"], "lists": list(layout["lists"])}


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | decimal.Decimal):
        return str(value)
    if value is pd.NA:
        return None
    return value


def write_jsonl(
    df: pd.DataFrame, handle: IO[str], target: Path, layout: dict[str, Any] | None = None
) -> None:
    """Write ``df``'s rows to ``handle`` as JSON Lines; missing values become ``null``; ``layout``
    (:func:`json_layout`): nest path-named columns and turn list columns back into lists."""
    for line in _records(df, target, layout or {}):
        handle.write(line + "\n")


def write_json_records(
    df: pd.DataFrame, handle: IO[str], target: Path, *, first: bool, layout: dict[str, Any] | None = None
) -> None:
    """Write ``df``'s rows to ``handle`` as items of a JSON array whose ``[`` is already written,
    each after a comma unless it is the array's ``first``; ``layout`` as for :func:`write_jsonl`."""
    for line in _records(df, target, layout or {}):
        handle.write(("" if first else ",\n") + line)
        first = False


def _nest(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in record.items():
        *parents, leaf = name.split(SEPARATOR)
        node = out
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):  # "a" and "a.b" both given: keep the flat name
                node = out
                leaf = name
                break
            node = child
        node[leaf] = value
    return out


def _as_list(text: str) -> list[Any]:
    """A list column's cell: the list its JSON text holds, or a list of the text itself where it holds
    none (the rare-category token ``_RARE_``), so that the column holds lists only."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return [text]
    return value if isinstance(value, list) else [value]


def _records(df: pd.DataFrame, target: Path, layout: dict[str, Any]) -> Any:
    names = [str(name) for name in df.columns]
    lists = {name for name in layout.get("lists", ()) if name in names}
    for row in df.itertuples(index=False, name=None):
        record = {name: _plain(value) for name, value in zip(names, row, strict=True)}
        for name in lists:
            if isinstance(record[name], str):
                record[name] = _as_list(record[name])
        if layout.get("nested"):
            record = _nest(record)
        try:
            yield json.dumps(record, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(f"a row cannot be written to '{target}' as JSON: {exc}") from exc
