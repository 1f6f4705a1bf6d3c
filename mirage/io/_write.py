"""Writing tables atomically: whole DataFrames or a stream of chunks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import is_object_dtype

from mirage._attrs import PLAIN_CSV, source_extra
from mirage.errors import DataError, OptionError
from mirage.io._atomic import atomic_path
from mirage.io._csv import holds_booleans
from mirage.io._durations import check_duration_texts, spell_durations
from mirage.io._formats import resolve_format
from mirage.io._jsonl import json_layout, write_json_records, write_jsonl
from mirage.io._parquet_types import check_parquet_types
from mirage.schema import Kind, Schema

__all__ = ["output_dialect", "write_chunks", "write_csv_stream", "write_table"]

PathLike = str | os.PathLike[str]

_TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl", "json", "xlsx")
_CHUNK_FORMATS = ("csv", "tsv", "parquet", "jsonl", "json", "xlsx")
EXCEL_MAX_ROWS = 1_048_575  # the rows of a sheet, less its header


def output_dialect(schema: Schema) -> dict[str, Any]:
    """How a file of rows drawn for ``schema`` is written: for a CSV the source's delimiter, decimal mark
    and currency signs or units, and whole numbers that pandas holds as floats because of gaps written
    whole (``8``, not ``8.0``); for JSON its nesting; for Parquet the source's decimal and date types."""
    whole = [
        c.name
        for c in schema.columns
        if c.dtype.startswith("float")
        and (c.kind is Kind.CATEGORICAL or (c.kind is Kind.NUMERIC and c.integer))
    ]
    layout = schema.extra.get("json")
    parquet = schema.extra.get("parquet")
    return {
        **schema.extra.get("csv", {}),
        **({"whole": whole} if whole else {}),
        **({"json": layout} if layout else {}),
        **({"parquet": parquet} if parquet else {}),
    }


def dialect_as_read(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """How to write ``frame`` back as the file it was read from was written (its delimiter, decimal
    mark, JSON nesting and Parquet types, from the reader's attrs), with ``schema``'s whole numbers: a
    table a command completes (imputed cells, added rows) goes back to the user's format, not the
    model's source's or a plain CSV."""
    dialect = output_dialect(schema)
    for key in schema.extra.get("csv", {}):
        dialect.pop(key, None)
    dialect.pop("json", None)
    dialect.pop("parquet", None)
    read = source_extra(frame.attrs, frame.columns)
    return {**dialect, **read.pop("csv", {}), **read}


def _one_cell(text: str) -> bool:
    """Text a CSV cell holds unquoted-safe: no quote and no line break."""
    return all(c not in '"\r\n' for c in text)


def _column_map(key: str, value: Any, valid: Callable[[Any], bool], expected: str) -> dict[str, Any]:
    """A dialect entry mapping column names to values ``valid`` accepts; else an ``OptionError``."""
    if not isinstance(value, Mapping) or not all(valid(v) for v in value.values()):
        raise OptionError(f"csv dialect: {key} must map column names to {expected}, got {value!r}")
    return {str(k): v for k, v in value.items()}


def csv_dialect(dialect: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"delimiter": ..., "decimal": ..., "numbers": {...}}`` checked: one character each, not the same
    one, and for ``numbers`` (columns the source wrote with a currency sign or unit) each column's
    ``prefix``, ``suffix``, ``decimals`` and ``grouped``."""
    out: dict[str, Any] = dict(PLAIN_CSV)
    for key, value in (dialect or {}).items():
        if key in ("json", "parquet"):  # how JSON output nests, Parquet output's types: not CSV's
            continue
        if key == "numbers":
            out[key] = _number_texts(value)
            continue
        if key == "whole":
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise OptionError("csv dialect: whole must list column names")
            out[key] = list(value)
            continue
        if key == "booleans":
            if not isinstance(value, Mapping) or not all(
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(w, str) and w and _one_cell(w) for w in pair)
                for pair in value.values()
            ):
                raise OptionError("csv dialect: booleans must map column names to the two words written")
            out[key] = {str(k): list(v) for k, v in value.items()}
            continue
        if key == "durations":
            try:
                out[key] = check_duration_texts(value)
            except ValueError as exc:
                raise OptionError(f"csv dialect: {exc}") from None
            continue
        if key == "signed":
            out[key] = _column_map(
                key,
                value,
                lambda style: style in ("positive", "non-negative"),
                "'positive' or 'non-negative' (the numbers written with a plus)",
            )
            continue
        if key == "dates":
            out[key] = _column_map(
                key,
                value,
                lambda fmt: isinstance(fmt, str) and "%" in fmt and _one_cell(fmt),
                "strftime formats such as '%d/%m/%Y'",
            )
            continue
        if key == "missing":
            out[key] = _column_map(
                key,
                value,
                _missing_spelling,
                "the word written, or the words and their shares ({'N/A': 0.7, '-': 0.3})",
            )
            continue
        if key == "marks":
            out[key] = _column_map(
                key,
                value,
                lambda m: (
                    isinstance(m, Mapping)
                    and isinstance(m.get("mark"), str)
                    and bool(m["mark"])
                    and _one_cell(m["mark"])
                    and not any(c.isdigit() for c in m["mark"])
                    and isinstance(m.get("share"), float | int)
                    and 0 < m["share"] <= 1
                ),
                "{'mark': '*', 'share': 0.01} (a footnote mark and the share of numbers written with it)",
            )
            continue
        if key == "currencies":
            out[key] = _column_map(
                key,
                value,
                lambda c: (
                    isinstance(c, Mapping)
                    and isinstance(c.get("column"), str)
                    and c.get("side") in ("prefix", "suffix")
                    and c.get("space") in ("", " ")
                ),
                "{'column': 'price currency', 'side': 'prefix' or 'suffix', 'space': ' ' or ''} (the column "
                "holding each number's currency)",
            )
            continue
        if key == "bom":
            if not isinstance(value, bool):
                raise OptionError(f"csv dialect: bom must be true or false, got {value!r}")
            out[key] = value
            continue
        if key == "line_end":
            if value not in ("\n", "\r\n"):
                raise OptionError(f"csv dialect: line_end must be '\\n' or '\\r\\n', got {value!r}")
            out[key] = value
            continue
        if key not in out:
            raise OptionError(
                f"csv dialect: unknown setting {key!r} "
                "(known: delimiter, decimal, numbers, whole, signed, dates, missing, marks, booleans, "
                "durations, currencies, bom, line_end)"
            )
        if not isinstance(value, str) or len(value) != 1 or value in '"\r\n':
            raise OptionError(f"csv dialect: {key} must be one character, got {value!r}")
        out[key] = value
    if out["delimiter"] == out["decimal"]:
        raise OptionError(f"csv dialect: delimiter and decimal mark are both {out['delimiter']!r}")
    return out


def _missing_spelling(value: Any) -> bool:
    """One word for a missing cell, or two or more with their shares of the missing cells."""

    def word(w: Any) -> bool:
        return isinstance(w, str) and bool(w) and _one_cell(w)

    if isinstance(value, Mapping):
        shares = list(value.values())
        return (
            len(value) >= 2
            and all(word(w) for w in value)
            and all(isinstance(s, float | int) and not isinstance(s, bool) and s > 0 for s in shares)
            and abs(sum(shares) - 1.0) < 1e-3
        )
    return word(value)


def _number_texts(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise OptionError("csv dialect: numbers must map column names to how they are written")
    out: dict[str, dict[str, Any]] = {}
    for column, text in value.items():
        ok = (
            isinstance(text, Mapping)
            and isinstance(text.get("prefix"), str)
            and isinstance(text.get("suffix"), str)
            and isinstance(text.get("decimals"), int)
            and not isinstance(text.get("decimals"), bool)
            and 0 <= text["decimals"] <= 12
            and isinstance(text.get("grouped"), bool)
            and _one_cell(text["prefix"] + text["suffix"])
            and text.get("negative", "minus") in ("minus", "parentheses", "minus sign")
            and isinstance(text.get("trimmed", False), bool)
            and text.get("decimal", ".") in (".", ",")
        )
        if not ok:
            raise OptionError(
                f"csv dialect: numbers of column {column!r} need prefix and suffix (text), decimals (0-12) "
                "and grouped (true/false), and negative 'minus', 'parentheses' or 'minus sign', trimmed "
                f"(true/false) and decimal ('.' or ',') if given, got {text!r}"
            )
        out[str(column)] = dict(text)
    return out


def _with_number_text(
    df: pd.DataFrame, numbers: Mapping[str, Mapping[str, Any]], decimal: str
) -> pd.DataFrame:
    """Numbers of the columns in ``numbers`` written as their source wrote them: ``$1,234.50``."""
    out = df
    for name, text in numbers.items():
        if name not in df.columns or not pd.api.types.is_numeric_dtype(df[name].dtype):
            continue
        values = df[name].astype("float64").to_numpy()
        written = [None if v != v else _spelt(float(v), text, decimal) for v in values]
        if out is df:
            out = df.copy()
        out[name] = pd.Series(written, index=df.index, dtype=object)
    return out


def _spelt(x: float, text: Mapping[str, Any], decimal: str) -> str:
    decimal = str(text.get("decimal", decimal))
    digits = format(abs(x), f"{',' if text['grouped'] else ''}.{text['decimals']}f")
    if text.get("trimmed") and "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    if decimal == ",":
        digits = digits.translate({ord(","): ".", ord("."): ","})
    if x < 0 and text.get("negative") == "parentheses":
        return f"({text['prefix']}{digits}{text['suffix']})"
    minus = "\u2212" if text.get("negative") == "minus sign" else "-"
    return f"{minus if x < 0 else ''}{text['prefix']}{digits}{text['suffix']}"


def _plus_signs(
    df: pd.DataFrame, numbers: pd.DataFrame, signed: Mapping[str, str], decimal: str
) -> pd.DataFrame:
    """The columns in ``signed`` with a plus before their positive ``numbers`` (and zeros, for
    ``"non-negative"``), after ``df`` has written them as text or as they are."""
    out = df
    for name, style in signed.items():
        if name not in numbers.columns or not _plain_numbers(numbers[name]):
            continue
        values = numbers[name].astype("float64").to_numpy()
        plus = values >= 0 if style == "non-negative" else values > 0
        if not plus.any():
            continue
        out = _around(df, out, name, plus, decimal, before="+")
    return out


def _footnote_marks(
    df: pd.DataFrame, numbers: pd.DataFrame, marks: Mapping[str, Mapping[str, Any]], decimal: str
) -> pd.DataFrame:
    """The columns in ``marks`` with their footnote mark after about ``share`` of their numbers, chosen
    by a hash of each number (the same number is always marked alike, whatever the chunks)."""
    out = df
    for name, style in marks.items():
        if name not in numbers.columns or not _plain_numbers(numbers[name]):
            continue
        values = numbers[name].astype("float64").to_numpy()
        bits = np.where(np.isnan(values), 0.0, values).view("uint64")
        spread = (bits * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)
        pick = ~np.isnan(values) & (spread.astype("float64") / 2.0**53 < float(style["share"]))
        if not pick.any():
            continue
        out = _around(df, out, name, pick, decimal, after=str(style["mark"]))
    return out


def _around(
    df: pd.DataFrame,
    out: pd.DataFrame,
    name: str,
    rows: np.ndarray,
    decimal: str,
    *,
    before: str = "",
    after: str = "",
) -> pd.DataFrame:
    """``out`` (a copy of ``df`` once changed) with column ``name``'s cells in ``rows`` written between
    ``before`` and ``after``."""
    if out is df:
        out = df.copy()
    texts = [_number_cell(v, decimal) for v in df[name].to_numpy(dtype=object)]
    out[name] = pd.Series(
        [f"{before}{t}{after}" if p and t is not None else t for t, p in zip(texts, rows, strict=True)],
        index=df.index,
        dtype=object,
    )
    return out


def _with_currencies(
    df: pd.DataFrame, numbers: pd.DataFrame, currencies: Mapping[str, Mapping[str, str]], decimal: str
) -> pd.DataFrame:
    """The columns in ``currencies`` with each number's currency (from its column, then left out)
    written beside it as the source did (``EUR 12``)."""
    out = df
    for name, style in currencies.items():
        column = style["column"]
        if name not in df.columns or column not in df.columns or not _plain_numbers(numbers[name]):
            continue
        if out is df:
            out = df.copy()
        texts = [_number_cell(v, decimal) for v in out[name].to_numpy(dtype=object)]
        codes = out[column].to_numpy(dtype=object)
        present = numbers[name].notna().to_numpy()
        out[name] = pd.Series(
            [
                _beside(text, code, style)
                if has and text is not None and isinstance(code, str) and code
                else text
                for text, code, has in zip(texts, codes, present, strict=True)
            ],
            index=df.index,
            dtype=object,
        )
        out = out.drop(columns=[column])
    return out


def _beside(text: str, code: str, style: Mapping[str, str]) -> str:
    return f"{code}{style['space']}{text}" if style["side"] == "prefix" else f"{text}{style['space']}{code}"


def _plain_numbers(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def _number_cell(value: Any, decimal: str) -> str | None:
    """``value`` as ``to_csv`` writes it (None when missing): already text, a whole number or a float."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value
    text = repr(float(value)) if isinstance(value, float | np.floating) else str(value)
    return text.replace(".", decimal) if decimal != "." else text


def _date_texts(df: pd.DataFrame, formats: Mapping[str, str]) -> pd.DataFrame:
    """Datetime columns in ``formats`` written in their strftime format (``20/10/2024``)."""
    out = df
    for name, fmt in formats.items():
        if name not in df.columns or not pd.api.types.is_datetime64_any_dtype(df[name].dtype):
            continue
        if out is df:
            out = df.copy()
        out[name] = df[name].dt.strftime(fmt).astype(object).where(df[name].notna(), None)
    return out


def _duration_texts(df: pd.DataFrame, styles: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Durations of the columns in ``styles`` written as their source wrote them: ``1h 30m``."""
    names = [name for name in styles if name in df.columns]
    if not names:
        return df
    out = df.copy()
    for name in names:
        out[name] = spell_durations(df[name], styles[name])
    return out


def _boolean_texts(df: pd.DataFrame, words: Mapping[str, list[str]]) -> pd.DataFrame:
    """Boolean columns in ``words`` written with their source's words (``true``/``false``)."""
    out = df
    for name, (yes, no) in words.items():
        if name not in df.columns or not holds_booleans(df[name]):
            continue
        if out is df:
            out = df.copy()
        column = df[name].astype("boolean")
        text = pd.Series(np.where(column.fillna(False).to_numpy(dtype=bool), yes, no), index=df.index)
        out[name] = text.astype(object).where(column.notna().to_numpy(), None)
    return out


def _missing_words(
    df: pd.DataFrame, words: Mapping[str, str | Mapping[str, float]], decimal: str
) -> pd.DataFrame:
    """Missing cells of the columns in ``words`` written as the word their source used (``N/A``), or,
    where it used several, each word on about its share of them."""
    out = df
    for name, spelling in words.items():
        if name not in df.columns or not bool(df[name].isna().any()):
            continue
        if out is df:
            out = df.copy()
        column = out[name]
        gaps = column.isna().to_numpy()
        if pd.api.types.is_float_dtype(column.dtype):
            # the column becomes text, which to_csv no longer gives the decimal mark
            text = column.to_numpy(dtype="float64").astype(str)
            cells = np.char.replace(text, ".", decimal) if decimal != "." else text
        else:
            cells = column.astype(object).to_numpy()
        written = np.array(cells, dtype=object)
        written[gaps] = _words_at_shares(spelling, int(gaps.sum()))
        out[name] = pd.Series(written, index=column.index, dtype=object)
    return out


def _words_at_shares(spelling: str | Mapping[str, float], cells: int) -> np.ndarray:
    """``cells`` words: the one word, or each of several on its share of them, spread evenly (the
    golden-ratio sequence: any run of the cells holds about the shares)."""
    if isinstance(spelling, str):
        return np.full(cells, spelling, dtype=object)
    shares = np.array(list(spelling.values()), dtype="float64")
    bounds = np.cumsum(shares) / shares.sum()
    spread = np.mod(0.5 + np.arange(cells) * 0.6180339887498949, 1.0)
    which = np.minimum(np.searchsorted(bounds, spread, side="right"), len(shares) - 1)
    return np.array(list(spelling), dtype=object)[which]


INT64_LIMIT = 2.0**63


def _whole_numbers(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Float columns (whole numbers with gaps: pandas reads those as floats) written ``8``, not ``8.0``."""
    out = df
    for name in names:
        if name not in df.columns or not pd.api.types.is_float_dtype(df[name].dtype):
            continue
        values = df[name].to_numpy(dtype="float64")
        present = values[~np.isnan(values)]
        if present.size and (not np.all(np.isfinite(present)) or np.any(present != np.round(present))):
            continue
        if present.size and np.abs(present).max() >= INT64_LIMIT:  # whole as floats, past any integer
            continue
        if out is df:
            out = df.copy()
        out[name] = df[name].astype("Int64")
    return out


def _write_csv(
    df: pd.DataFrame, handle: IO[str], kind: str, *, header: bool, dialect: Mapping[str, Any] = PLAIN_CSV
) -> None:
    """``dialect`` (checked by :func:`csv_dialect`) applies to CSV; TSV is tab-separated with points."""
    sep, decimal = ("\t", ".") if kind == "tsv" else (dialect["delimiter"], dialect["decimal"])
    if dialect.get("whole"):
        df = _whole_numbers(df, dialect["whole"])
    numbers = df
    if dialect.get("numbers"):
        df = _with_number_text(df, dialect["numbers"], decimal)
    if dialect.get("signed"):
        df = _plus_signs(df, numbers, dialect["signed"], decimal)
    if dialect.get("marks"):
        df = _footnote_marks(df, numbers, dialect["marks"], decimal)
    if dialect.get("dates"):
        df = _date_texts(df, dialect["dates"])
    if dialect.get("booleans"):
        df = _boolean_texts(df, dialect["booleans"])
    if dialect.get("durations"):
        df = _duration_texts(df, dialect["durations"])
    if dialect.get("missing"):
        df = _missing_words(df, dialect["missing"], decimal)
    if dialect.get("currencies"):
        df = _with_currencies(df, numbers, dialect["currencies"], decimal)
    line_end = str(dialect.get("line_end", "\n"))
    df.to_csv(handle, sep=sep, decimal=decimal, index=False, header=header, lineterminator=line_end)


def _arrow_table(df: pd.DataFrame, target: Path, schema: pa.Schema | None = None) -> pa.Table:
    try:
        return pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise DataError(f"cannot write '{target}' as Parquet: {exc}") from exc


def write_table(df: pd.DataFrame, path: PathLike, *, force: bool = False, format: str | None = None) -> Path:
    """Write ``df`` (without its index) to a CSV/TSV, Parquet, JSON Lines, JSON or Excel file, atomically.

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
                elif kind == "json":
                    handle.write("[\n")
                    write_json_records(df, handle, target, first=True)
                    handle.write("\n]\n")
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


def parquet_types(dialect: Mapping[str, Any] | None) -> dict[str, pa.DataType]:
    """The Arrow types ``dialect["parquet"]["types"]`` names (the source's decimals and dates), checked."""
    settings = (dialect or {}).get("parquet") or {}
    if not isinstance(settings, Mapping) or set(settings) - {"types"}:
        raise OptionError(f"parquet dialect: expected {{'types': {{column: type}}}}, got {settings!r}")
    try:
        return check_parquet_types(settings.get("types", {}))
    except ValueError as exc:
        raise OptionError(f"parquet dialect: {exc}") from None


def _typed(table: pa.Table, types: Mapping[str, pa.DataType], target: Path) -> pa.Table:
    """``table`` with the columns in ``types`` cast to them: floats to decimals of the source's scale,
    datetimes to dates."""
    for name, kind in types.items():
        index = table.schema.get_field_index(name)
        if index < 0 or table.schema.field(index).type == kind:
            continue
        column = table.column(index)
        try:
            if pa.types.is_decimal(kind) and pa.types.is_floating(column.type):
                column = pc.round(column, kind.scale)
            cast = column.cast(kind)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise DataError(f"cannot write column {name!r} of '{target}' as Parquet {kind}: {exc}") from exc
        table = table.set_column(index, table.schema.field(index).with_type(kind), cast)
    return table


def _parquet_chunks(
    chunks: Iterable[pd.DataFrame], temp: Path, target: Path, types: Mapping[str, pa.DataType]
) -> int | None:
    rows = 0
    columns: list[str] | None = None
    writer: pq.ParquetWriter | None = None
    pandas_schema: pa.Schema | None = None
    try:
        for number, raw in enumerate(chunks, start=1):
            chunk = _aligned(raw, number, columns, target)
            if writer is None:
                columns = list(chunk.columns)
                table = _first_table(chunk, target)
                pandas_schema = table.schema
                table = _typed(table, types, target)
                writer = pq.ParquetWriter(temp, table.schema)
            else:
                table = _typed(_arrow_table(chunk, target, pandas_schema), types, target)
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
    dialect: Mapping[str, Any],
) -> int | None:
    rows = 0
    columns: list[str] | None = None
    with temp.open("w", encoding="utf-8", newline="") as handle:
        if kind == "json":
            handle.write("[\n")
        if kind in ("csv", "tsv") and dialect.get("bom"):
            handle.write("\ufeff")  # the source's byte order mark, by which Excel reads the file as UTF-8
        for number, raw in enumerate(chunks, start=1):
            chunk = _aligned(raw, number, columns, target)
            if kind == "jsonl":
                write_jsonl(chunk, handle, target, dialect.get("json"))
            elif kind == "json":
                write_json_records(chunk, handle, target, first=rows == 0, layout=dialect.get("json"))
            else:
                _write_csv(chunk, handle, kind, header=columns is None, dialect=dialect)
            columns = list(chunk.columns)
            rows += len(chunk)
        if kind == "json":
            handle.write("\n]\n")
    return None if columns is None else rows


def _excel_chunks(chunks: Iterable[pd.DataFrame], temp: Path, target: Path) -> int | None:
    """The chunks as one Excel sheet (held together: a sheet is written whole), refused past its size."""
    frames: list[pd.DataFrame] = []
    rows = 0
    columns: list[str] | None = None
    for number, raw in enumerate(chunks, start=1):
        chunk = _aligned(raw, number, columns, target)
        columns = list(chunk.columns)
        rows += len(chunk)
        if rows > EXCEL_MAX_ROWS:
            raise DataError(
                f"'{target}': an Excel sheet holds at most {EXCEL_MAX_ROWS:,} rows; "
                "write .csv, .parquet or .jsonl for more"
            )
        frames.append(chunk)
    if columns is None:
        return None
    try:
        pd.concat(frames, ignore_index=True).to_excel(temp, index=False, engine="openpyxl")
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot write '{target}' as Excel: {exc}") from exc
    return rows


def write_csv_stream(
    chunks: Iterable[pd.DataFrame], handle: IO[str], *, dialect: Mapping[str, Any] | None = None
) -> int:
    """Stream DataFrames as CSV text to an open ``handle`` (standard output), the header once, in
    ``dialect`` as :func:`write_chunks` writes a CSV file; return the row count."""
    settings = csv_dialect(dialect)
    rows = 0
    columns: list[str] | None = None
    for number, raw in enumerate(chunks, start=1):
        chunk = _aligned(raw, number, columns, Path("<stdout>"))
        _write_csv(chunk, handle, "csv", header=columns is None, dialect=settings)
        columns = list(chunk.columns)
        rows += len(chunk)
    handle.flush()
    return rows


def write_chunks(
    chunks: Iterable[pd.DataFrame] | pd.DataFrame,
    path: PathLike,
    *,
    force: bool = False,
    format: str | None = None,
    dialect: Mapping[str, Any] | None = None,
) -> int:
    """Stream DataFrames to one CSV/TSV, Parquet, JSON Lines, JSON or Excel file, atomically; return the
    row count.

    Only one chunk is held at a time (an Excel sheet, at most 1,048,575 rows, is written whole).  The
    first chunk fixes the columns and (for Parquet) the types; later chunks are reordered and cast to
    them.  If iterating ``chunks`` raises, nothing is written
    and the error propagates; no chunks at all is a ``DataError``.  A lone DataFrame is one chunk.
    ``dialect`` (``{"delimiter": ";", "decimal": ","}``) sets how a CSV file writes fields and numbers,
    its ``"json"`` how JSON nests and its ``"parquet"`` (``{"types": {"amount": "decimal128(12,2)"}}``)
    the Parquet types of columns pandas holds otherwise (floats, datetimes); Excel ignores it.
    """
    target = Path(path)
    kind = resolve_format(target, format, allowed=_CHUNK_FORMATS)
    if kind in ("csv", "tsv"):
        settings: dict[str, Any] = csv_dialect(dialect)
    elif kind in ("jsonl", "json"):
        settings = {"json": json_layout((dialect or {}).get("json"))}
    else:
        settings = dict(PLAIN_CSV)
    types = parquet_types(dialect) if kind == "parquet" else {}
    stream: Iterable[pd.DataFrame] = [chunks] if isinstance(chunks, pd.DataFrame) else chunks
    with atomic_path(target, force=force) as temp:
        if kind == "parquet":
            rows = _parquet_chunks(stream, temp, target, types)
        elif kind == "xlsx":
            rows = _excel_chunks(stream, temp, target)
        else:
            rows = _text_chunks(stream, temp, target, kind, settings)
        if rows is None:
            raise DataError(f"nothing to write to '{target}': no chunks were given")
    return rows
