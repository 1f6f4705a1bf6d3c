"""JSON Lines: one JSON object per line, floats written with full precision."""

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

__all__ = ["read_jsonl", "write_jsonl"]


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
    names = [str(name) for name in df.columns]
    for row in df.itertuples(index=False, name=None):
        record = {name: _plain(value) for name, value in zip(names, row, strict=True)}
        try:
            line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DataError(f"a row cannot be written to '{target}' as JSON: {exc}") from exc
        handle.write(line + "\n")
