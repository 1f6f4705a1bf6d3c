"""A folder of table files (CSV, TSV, Parquet, JSON Lines, Excel) as a set of related tables: one table
per file, named by the file's stem.  Written atomically: into a new folder beside the target, renamed
onto it once every file is complete."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mirage.errors import DataError, OptionError, OutputExistsError
from mirage.io._formats import COMPRESSIBLE, COMPRESSIONS, resolve_format
from mirage.io._keys import SOURCE_ATTR
from mirage.io._read import TEXT_OPTIONS, read_table
from mirage.io._write import output_dialect, write_chunks
from mirage.schema import DatabaseSchema

__all__ = ["read_folder", "write_folder"]

PathLike = str | os.PathLike[str]
FOLDER_FORMATS = ("csv", "parquet")
TABLE_EXTENSIONS = ("csv", "tsv", "parquet", "pq", "jsonl", "ndjson", "json", "xlsx", "xls")


def _folder_id(path: Path) -> str:
    return f"folder:{path.resolve()}"


def read_folder(path: PathLike, **options: Any) -> dict[str, pd.DataFrame]:
    """Every table file directly in the folder ``path``, by file stem (``orders.csv`` -> ``orders``,
    also for ``orders.csv.gz``), in name order.  Files are read by :func:`read_table` (``options`` go
    to it; those for delimited text only to text files), so CSV encodings, delimiters and decimal
    commas are detected as for one table.  Other files (a schema's JSON, a README) are left alone.
    Raises ``DataError`` naming the folder or the file at fault."""
    folder = Path(path)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"'{folder}' {what}")
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and _table_name(p)
    )
    if not files:
        raise DataError(f"folder '{folder}' holds no table files (.csv, .tsv, .parquet, .jsonl, .xlsx)")
    frames: dict[str, pd.DataFrame] = {}
    seen: dict[str, Path] = {}
    for file in files:
        name = _table_name(file)
        if name in seen:
            raise DataError(
                f"folder '{folder}': '{seen[name].name}' and '{file.name}' would both be table "
                f"{name!r}; keep one"
            )
        seen[name] = file
        # options for delimited text (on_bad_lines, encoding) apply to the text files only
        refused = TEXT_OPTIONS.get(resolve_format(file, None, compressed=True), ())
        frame = read_table(file, **{k: v for k, v in options.items() if k not in refused})
        frame.attrs[SOURCE_ATTR] = _folder_id(folder)
        frames[name] = frame
    return frames


def _table_name(file: Path) -> str:
    """The table a file holds (``orders.csv`` and ``orders.csv.gz`` -> ``orders``); "" for other files."""
    inner = file.with_suffix("") if file.suffix.lower() in COMPRESSIONS else file
    if inner.suffix.lower().lstrip(".") not in TABLE_EXTENSIONS:
        return ""
    if inner is not file and resolve_format(inner, None) not in COMPRESSIBLE:
        return ""
    return inner.stem


def write_folder(
    path: PathLike,
    database: DatabaseSchema,
    frames: Mapping[str, pd.DataFrame],
    *,
    format: str = "csv",
    force: bool = False,
    sources: Sequence[PathLike] = (),
) -> Path:
    """Write each table of ``database`` as ``<table>.csv`` (or ``.parquet``) in a new folder ``path``;
    a CSV file keeps the delimiter and decimal mark its source table had (``schema.extra["csv"]``), a
    Parquet file its decimal and date types (``schema.extra["parquet"]``).

    The files are written into a temporary folder beside ``path`` that is renamed onto it at the end,
    so ``path`` is never seen half-written.  An existing ``path`` is refused (``OutputExistsError``)
    unless ``force``, which replaces it; the folder the tables were read from (recorded by
    :func:`read_folder`) or any of ``sources`` (folders the data was learned from) is refused always.
    """
    if format not in FOLDER_FORMATS:
        raise OptionError(f"format must be one of {', '.join(FOLDER_FORMATS)}, got {format!r}")
    database.validate(frames)
    target = Path(path)
    for name, frame in frames.items():
        if frame.attrs.get(SOURCE_ATTR) == _folder_id(target):
            raise OutputExistsError(
                f"'{target}' is the folder table {name!r} was read from; write to a new folder"
            )
    if any(_folder_id(Path(source)) == _folder_id(target) for source in sources):
        raise OutputExistsError(f"'{target}' is the source folder; write to a new folder")
    if target.exists() and not force:
        raise OutputExistsError(f"output folder '{target}' already exists; pass force=True to replace it")
    if target.exists() and not target.is_dir():
        raise OutputExistsError(f"output path '{target}' is a file; give a folder path")
    if not target.parent.is_dir():
        raise DataError(f"cannot write '{target}': folder '{target.parent}' does not exist; create it first")
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    temp.mkdir()
    try:
        for name in database.order():
            # a CSV is written with its source's delimiter and decimal mark, a Parquet file with its
            # source's decimal and date types (kept in the schema)
            dialect = output_dialect(database[name].schema)
            write_chunks(frames[name], temp / f"{name}.{format}", dialect=dialect)
        if target.exists():
            old = target.with_name(f".{target.name}.{secrets.token_hex(6)}.old")
            os.replace(target, old)
            os.replace(temp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target
