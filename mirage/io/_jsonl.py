"""JSON Lines (one JSON object per line) and JSON arrays of objects, floats written with full precision."""

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

from mirage.errors import DataError
from mirage.io._encoding import undecodable
from mirage.io._formats import open_binary

__all__ = ["read_json_array", "read_jsonl", "write_json_records", "write_jsonl"]


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
    return pd.DataFrame.from_records(records)


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
    return pd.DataFrame.from_records(records)


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


def write_jsonl(df: pd.DataFrame, handle: IO[str], target: Path) -> None:
    """Write ``df``'s rows to ``handle`` as JSON Lines; missing values become ``null``."""
    for line in _records(df, target):
        handle.write(line + "\n")


def write_json_records(df: pd.DataFrame, handle: IO[str], target: Path, *, first: bool) -> None:
    """Write ``df``'s rows to ``handle`` as items of a JSON array whose ``[`` is already written,
    each after a comma unless it is the array's ``first``."""
    for line in _records(df, target):
        handle.write(("" if first else ",\n") + line)
        first = False


def _records(df: pd.DataFrame, target: Path) -> Any:
    names = [str(name) for name in df.columns]
    for row in df.itertuples(index=False, name=None):
        record = {name: _plain(value) for name, value in zip(names, row, strict=True)}
        try:
            yield json.dumps(record, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(f"a row cannot be written to '{target}' as JSON: {exc}") from exc
