"""Reading a table from a file whose format is known by its extension or by ``format=``."""

from __future__ import annotations

import datetime
import lzma
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import is_object_dtype

from mirage._attrs import PARQUET_TYPES
from mirage._warnings import warn
from mirage.errors import DataError, OptionError
from mirage.io._csv import read_csv
from mirage.io._dates import unify_date_formats
from mirage.io._formats import resolve_format
from mirage.io._jsonl import read_json_array, read_jsonl
from mirage.io._parquet_types import kept_types

__all__ = ["read_any", "read_table"]

# Reading options of delimited text that other formats refuse by name (pandas would fail obscurely).
TEXT_OPTIONS = {
    "jsonl": ("on_bad_lines",),
    "json": ("on_bad_lines",),
    "parquet": ("on_bad_lines", "encoding"),
    "xlsx": ("on_bad_lines", "encoding"),
    "xls": ("on_bad_lines", "encoding"),
}

PathLike = str | os.PathLike[str]


def _check_source(path: Path) -> None:
    try:
        if path.is_dir():
            raise DataError(f"'{path}' is a directory, not a data file")
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise DataError(f"input file '{path}' does not exist") from exc
    except OSError as exc:
        raise DataError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    if size == 0:
        raise DataError(f"'{path}' is empty (0 bytes)")


def _read_parquet(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path, engine="pyarrow", **options)
        df = _integers_kept(df, path)
        _record_types(df, path)
        return df
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"cannot read '{path}' as Parquet: {exc}") from exc


def _record_types(df: pd.DataFrame, path: Path) -> None:
    """Record in ``df.attrs`` the Parquet types of its columns that pandas loses (decimals, dates)."""
    import pyarrow.parquet as pq

    types = kept_types(pq.ParquetDataset(path).schema, {str(c) for c in df.columns})
    if types:
        df.attrs[PARQUET_TYPES] = types


def _integers_kept(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``df`` with the Parquet file's integer columns that hold nulls as pandas' nullable integers of
    their width (``Int32``), read again exactly, not as the float64 pandas makes of them (``7.0``, and
    ids past 2**53 rounded)."""
    import pyarrow.parquet as pq

    floats = {str(c) for c in df.columns if pd.api.types.is_float_dtype(df[c].dtype)}
    if not floats:
        return df
    schema = pq.ParquetDataset(path).schema
    integers = [f.name for f in schema if f.name in floats and pa.types.is_integer(f.type)]
    if not integers:
        return df
    exact = pq.read_table(path, columns=integers).to_pandas(types_mapper=_NULLABLE_INTEGERS.get)
    if len(exact) != len(df):  # rows left out by the reader's filters
        return df
    for name in integers:
        df[name] = pd.Series(exact[name].array, index=df.index, name=df[name].name)
    return df


_NULLABLE_INTEGERS = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
}


def _read_excel(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    try:
        df = pd.read_excel(path, **options)
        row = None if {"header", "skiprows", "names"} & options.keys() else _header_row(df)
        if row is None:
            return df
        titled = pd.read_excel(path, **options, header=row + 1)
        above = [str(v) for v in [df.columns[0], *df.iloc[:row, 0].dropna().tolist()] if not _unnamed(v)]
        warn(
            f"'{path}': read the header from row {row + 2} of the sheet; left out the {row + 1} row(s) "
            f"above it ({', '.join(repr(v[:40]) for v in above)})"
        )
        return titled
    except ImportError as exc:
        raise DataError(f"cannot read '{path}': {exc}") from exc
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read '{path}' as an Excel workbook: {exc}") from exc


def _unnamed(name: Any) -> bool:
    return str(name).startswith("Unnamed: ")


def _header_row(df: pd.DataFrame) -> int | None:
    """The row of a sheet read with its first row as the header that is the real header, when that
    first row was a title (most columns unnamed): the first of the next rows whose every cell is a
    name, each once; None when the first row was the header."""
    width = df.shape[1]
    if width < 2 or 2 * sum(_unnamed(c) for c in df.columns) <= width:
        return None
    for row in range(min(len(df), 25)):
        cells = df.iloc[row].tolist()
        if all(isinstance(c, str) and c.strip() for c in cells) and len(set(cells)) == width:
            return row
        if sum(1 for c in cells if not pd.isna(c)) * 2 > width:
            return None
    return None


def _plain_objects(frame: pd.DataFrame) -> None:
    """Driver and Arrow objects as pandas values: decimals as floats, dates as datetimes, UUIDs as text
    (a Parquet ``decimal128`` or ``date32`` column, a database ``NUMERIC`` or ``DATE``)."""
    import decimal
    import uuid

    for position, column in enumerate(frame.columns):
        values = frame[column]
        if values.dtype != object:
            continue
        present = values.dropna()
        if present.empty:
            continue
        kinds = {type(v) for v in present.head(1000)}
        converted: Any = None
        if all(issubclass(k, decimal.Decimal) for k in kinds):
            converted = pd.to_numeric(values.map(_float_or_none), errors="coerce")
        elif all(issubclass(k, datetime.date) for k in kinds):
            converted = pd.to_datetime(values, errors="coerce")
        elif all(issubclass(k, uuid.UUID) for k in kinds):
            converted = values.map(lambda v: None if v is None else str(v))
        if converted is not None:
            frame.isetitem(position, converted)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as ``object`` dtype with ``NaN`` for missing values, whatever the reader did; decimals,
    dates and UUIDs as :func:`_plain_objects` makes them."""
    _plain_objects(df)
    for position, dtype in enumerate(df.dtypes):
        if is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
            values = df.iloc[:, position].to_numpy(dtype=object, na_value=np.nan)
            column: Any = pd.Series(values, index=df.index, dtype=object)
            df.isetitem(position, column)
    return df


def read_table(path: PathLike, *, format: str | None = None, **options: Any) -> pd.DataFrame:
    """Read a CSV/TSV, Parquet, JSON Lines, JSON (an array of objects) or Excel file into a DataFrame.

    The format comes from the extension unless ``format`` is given.  CSV encoding and delimiter are
    detected; only empty cells are missing values; dates stay text.  Text columns come back as
    ``object`` dtype.  ``options`` go to the pandas reader.  Raises ``DataError`` naming the file.
    """
    source = Path(path)
    _check_source(source)
    kind = resolve_format(source, format, compressed=True)
    misplaced = [name for name in TEXT_OPTIONS.get(kind, ()) if name in options]
    if misplaced:
        raise OptionError(f"{misplaced[0]} does not apply to the {kind} file {str(source)!r}")
    if kind in ("csv", "tsv"):
        df = read_csv(source, default_delimiter="\t" if kind == "tsv" else None, options=dict(options))
    elif kind in ("jsonl", "json"):
        reader = read_jsonl if kind == "jsonl" else read_json_array
        try:
            df = reader(source, **options)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise DataError(f"cannot read '{source}': {exc}") from exc
    elif kind == "parquet":
        df = _read_parquet(source, options)
    else:
        df = _read_excel(source, options)
    df = unify_date_formats(_normalise(df))
    if kind in ("csv", "tsv", "xlsx", "xls"):  # files people edit by hand, where a totals line ends a table
        _warn_of_a_totals_row(df, source)
    return df


_TOTAL_WORDS = ("total", "sum", "summe", "gesamt", "totaal", "totale", "somme", "suma", "totalt", "yhteensä")


def _warn_of_a_totals_row(df: pd.DataFrame, source: Path) -> None:
    """Warn when the last row holds, in numeric columns, the sums of the rows above (a totals line):
    learned as a row, it would be an outlier many times the others' size."""
    if len(df) < 5:
        return
    summed = []
    for name in df.columns:
        values = df[name]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        last, above = values.iloc[-1], values.iloc[:-1].dropna()
        if pd.isna(last) or len(above) < 2 or not above.ne(0).any() or last == 0:
            continue
        if np.isclose(float(last), float(above.sum()), rtol=1e-9, atol=0.005):
            summed.append(str(name))
    if not summed:
        return
    texts = [str(v).strip().lower() for v in df.iloc[-1] if isinstance(v, str)]
    worded = any(t.rstrip(":").startswith(_TOTAL_WORDS) for t in texts)
    if worded or len(summed) >= 2 or len(df) >= 20:
        shown = ", ".join(repr(c) for c in summed[:3]) + (" ..." if len(summed) > 3 else "")
        warn(
            f"'{source}': its last row (row {len(df)}) looks like a totals row ({shown} the sum of the "
            "rows above); it is learned as a row like the others: remove it from the file"
        )


def read_any(source: pd.DataFrame | PathLike, *, format: str | None = None, **options: Any) -> pd.DataFrame:
    """``source`` itself if it is a DataFrame, else ``read_table(source, format=..., **options)``."""
    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, str | os.PathLike):
        raise DataError(f"expected a DataFrame or a file path, got {type(source).__name__}")
    return read_table(source, format=format, **options)
