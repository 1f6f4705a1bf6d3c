"""Writing tables atomically: whole DataFrames or a stream of chunks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.types import is_object_dtype

from mirage._attrs import PLAIN_CSV
from mirage.errors import DataError, OptionError
from mirage.io._atomic import atomic_path
from mirage.io._formats import resolve_format
from mirage.io._jsonl import write_jsonl

__all__ = ["write_chunks", "write_table"]

PathLike = str | os.PathLike[str]

_TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl", "xlsx")
_CHUNK_FORMATS = ("csv", "tsv", "parquet", "jsonl")


def csv_dialect(dialect: Mapping[str, str] | None) -> dict[str, str]:
    """``{"delimiter": ..., "decimal": ...}`` checked: one character each, and not the same one."""
    out = dict(PLAIN_CSV)
    for key, value in (dialect or {}).items():
        if key not in out:
            raise OptionError(f"csv dialect: unknown setting {key!r} (known: delimiter, decimal)")
        if not isinstance(value, str) or len(value) != 1 or value in '"\r\n':
            raise OptionError(f"csv dialect: {key} must be one character, got {value!r}")
        out[key] = value
    if out["delimiter"] == out["decimal"]:
        raise OptionError(f"csv dialect: delimiter and decimal mark are both {out['delimiter']!r}")
    return out


def _write_csv(
    df: pd.DataFrame, handle: IO[str], kind: str, *, header: bool, dialect: Mapping[str, str] = PLAIN_CSV
) -> None:
    """``dialect`` (checked by :func:`csv_dialect`) applies to CSV; TSV is tab-separated with points."""
    sep, decimal = ("\t", ".") if kind == "tsv" else (dialect["delimiter"], dialect["decimal"])
    df.to_csv(handle, sep=sep, decimal=decimal, index=False, header=header, lineterminator="\n")


def _arrow_table(df: pd.DataFrame, target: Path, schema: pa.Schema | None = None) -> pa.Table:
    try:
        return pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise DataError(f"cannot write '{target}' as Parquet: {exc}") from exc


def write_table(df: pd.DataFrame, path: PathLike, *, force: bool = False, format: str | None = None) -> Path:
    """Write ``df`` (without its index) to a CSV/TSV, Parquet, JSON Lines or Excel file, atomically.

    Refuses an existing file unless ``force`` (``OutputExistsError``); returns the path written.
    """
    target = Path(path)
    kind = resolve_format(target, format, allowed=_TABLE_FORMATS)
    with atomic_path(target, force=force) as temp:
        if kind == "parquet":
            pq.write_table(_arrow_table(df, target), temp)
        elif kind == "xlsx":
            try:
                df.to_excel(temp, index=False, engine="openpyxl")
            except (ValueError, TypeError) as exc:
                raise DataError(f"cannot write '{target}' as Excel: {exc}") from exc
        else:
            with temp.open("w", encoding="utf-8", newline="") as handle:
                if kind == "jsonl":
                    write_jsonl(df, handle, target)
                else:
                    _write_csv(df, handle, kind, header=True)
    return target


def _first_table(first: pd.DataFrame, target: Path) -> pa.Table:
    """The first chunk as Arrow, with all-missing text columns typed as strings rather than null."""
    table = _arrow_table(first, target)
    schema = table.schema
    for index, field in enumerate(schema):
        if pa.types.is_null(field.type) and is_object_dtype(first.dtypes.iloc[index]):
            schema = schema.set(index, field.with_type(pa.string()))
    return table.cast(schema)


def _aligned(chunk: object, number: int, columns: list[str] | None, target: Path) -> pd.DataFrame:
    if not isinstance(chunk, pd.DataFrame):
        raise DataError(f"chunk {number} for '{target}' is a {type(chunk).__name__}, not a DataFrame")
    if columns is None or list(chunk.columns) == columns:
        return chunk
    if sorted(map(str, chunk.columns)) != sorted(map(str, columns)):
        raise DataError(
            f"chunk {number} for '{target}' has columns {list(chunk.columns)}, "
            f"but the first chunk has {columns}"
        )
    return chunk[columns]


def _parquet_chunks(chunks: Iterable[pd.DataFrame], temp: Path, target: Path) -> int | None:
    rows = 0
    columns: list[str] | None = None
    writer: pq.ParquetWriter | None = None
    try:
        for number, raw in enumerate(chunks, start=1):
            chunk = _aligned(raw, number, columns, target)
            if writer is None:
                columns = list(chunk.columns)
                table = _first_table(chunk, target)
                writer = pq.ParquetWriter(temp, table.schema)
            else:
                table = _arrow_table(chunk, target, writer.schema)
            writer.write_table(table)
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    return None if writer is None else rows


def _text_chunks(
    chunks: Iterable[pd.DataFrame],
    temp: Path,
    target: Path,
    kind: str,
    dialect: Mapping[str, str],
) -> int | None:
    rows = 0
    columns: list[str] | None = None
    with temp.open("w", encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(chunks, start=1):
            chunk = _aligned(raw, number, columns, target)
            if kind == "jsonl":
                write_jsonl(chunk, handle, target)
            else:
                _write_csv(chunk, handle, kind, header=columns is None, dialect=dialect)
            columns = list(chunk.columns)
            rows += len(chunk)
    return None if columns is None else rows


def write_chunks(
    chunks: Iterable[pd.DataFrame] | pd.DataFrame,
    path: PathLike,
    *,
    force: bool = False,
    format: str | None = None,
    dialect: Mapping[str, str] | None = None,
) -> int:
    """Stream DataFrames to one CSV/TSV, Parquet or JSON Lines file, atomically; return the row count.

    Only one chunk is held at a time.  The first chunk fixes the columns and (for Parquet) the types;
    later chunks are reordered and cast to them.  If iterating ``chunks`` raises, nothing is written
    and the error propagates; no chunks at all is a ``DataError``.  A lone DataFrame is one chunk.
    ``dialect`` (``{"delimiter": ";", "decimal": ","}``) sets how a CSV file writes fields and numbers;
    other formats ignore it.
    """
    target = Path(path)
    kind = resolve_format(target, format, allowed=_CHUNK_FORMATS)
    settings = csv_dialect(dialect) if kind == "csv" else PLAIN_CSV
    stream: Iterable[pd.DataFrame] = [chunks] if isinstance(chunks, pd.DataFrame) else chunks
    with atomic_path(target, force=force) as temp:
        if kind == "parquet":
            rows = _parquet_chunks(stream, temp, target)
        else:
            rows = _text_chunks(stream, temp, target, kind, settings)
        if rows is None:
            raise DataError(f"nothing to write to '{target}': no chunks were given")
    return rows
