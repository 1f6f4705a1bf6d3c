"""CSV reading: encoding and delimiter detection, clean errors for malformed files."""

from __future__ import annotations

import codecs
import csv
import io
import lzma
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mirage._attrs import CSV_DIALECT
from mirage._warnings import warn
from mirage.errors import DataError, OptionError
from mirage.io._dates import dates_missing_words
from mirage.io._durations import duration_texts
from mirage.io._encoding import detect_encoding, detect_text_encoding, undecodable
from mirage.io._formats import open_binary
from mirage.io._numbers import (
    CURRENCIES_ATTR,
    DECIMAL_ATTR,
    MARKS_ATTR,
    MISSING_ATTR,
    NUMBERS_ATTR,
    convert_numbers,
    padded_numbers,
)

__all__ = ["BAD_LINES", "DELIMITERS", "detect_encoding", "read_csv", "sniff_delimiter"]

DELIMITERS = ",;\t|"
BAD_LINES = ("error", "skip")
SAMPLE_BYTES = 1 << 20
_SNIFF_CHARS = 64 * 1024
# options that change which lines are records or how fields are counted: the field-count check is off
_STRUCTURE_OPTIONS = frozenset(
    {"header", "names", "skiprows", "skipfooter", "nrows", "comment", "usecols", "index_col", "chunksize"}
)
_CSV_DIALECT_OPTIONS = ("quotechar", "escapechar", "doublequote")
_LEADING_ZERO = re.compile(r"[+-]?0\d")


def sniff_delimiter(text: str, default: str = ",") -> str:
    """The delimiter among ``DELIMITERS`` that ``text`` (the start of a CSV file) uses."""
    sample = text[:_SNIFF_CHARS]
    header = sample.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    if delimiter and delimiter in header:
        return delimiter
    counts = {d: header.count(d) for d in DELIMITERS}
    most = max(counts, key=lambda d: counts[d])
    return most if counts[most] else default


def _sample_text(sample: bytes, encoding: str, *, complete: bool) -> str:
    text = sample.decode(encoding, errors="replace")
    if not complete:
        text = text[: _last_record_end(text)]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _last_record_end(text: str) -> int:
    """Where the last whole record of a file's first part ends: after its last line break outside
    double quotes (a quoted field may hold line breaks, and a part cut inside one cannot be parsed)."""
    chars = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    outside = (np.cumsum(chars == ord('"')) & 1) == 0
    ends = np.flatnonzero((chars == ord("\n")) & outside)
    return int(ends[-1]) + 1 if ends.size else text.rfind("\n") + 1


def _header(path: Path, text: str, delimiter: str) -> list[str] | None:
    """The header's fields; two columns of the same name are refused (unnamed ones are checked once
    read: a spreadsheet's export ends in empty ones)."""
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return None
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise DataError(f"'{path}' has two columns named {name!r} in its header (line 1)")
        seen.add(name)
    return header


_PREAMBLE_LOOK = 200  # lines of a file's start that tell where its header is


def _lines_above_header(text: str, delimiter: str | None) -> int:
    """How many lines of a file's start (``text``) come before its header (a report's title, an
    export's notes): 0 unless the first line is not a header (as many fields as most lines, each
    named); then the lines up to the first that is one, if every line above it is blank or fills at
    most half the fields (``Account statement,,``) and none of its names is a number."""
    lines = text.split("\n", _PREAMBLE_LOOK)[:_PREAMBLE_LOOK]
    if len(lines) < 3:
        return 0
    best: tuple[int, str, int] = (0, ",", 0)
    for candidate in [delimiter] if delimiter else list(DELIMITERS):
        widths = [len(_fields(line, candidate)) for line in lines if line.strip()]
        if not widths:
            return 0
        counts = pd.Series(widths).value_counts()
        width, lines_of_width = int(counts.index[0]), int(counts.iloc[0])
        if width >= 2 and lines_of_width > best[0]:
            best = (lines_of_width, candidate, width)
    _, found, width = best

    def header_like(line: str) -> bool:
        names = [f.strip() for f in _fields(line, found)]
        return len(names) == width and all(names) and len(set(names)) == width

    if not width or header_like(lines[0]):
        return 0
    for index, line in enumerate(lines[: _PREAMBLE_LOOK // 8]):
        if header_like(line):
            names = [f.strip() for f in _fields(line, found)]
            return index if not any(_NUMBER.fullmatch(name) for name in names) else 0
        if sum(1 for f in _fields(line, found) if f.strip()) * 2 > width:
            return 0
    return 0


_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _fields(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return [line]


def _without_empty_unnamed(df: pd.DataFrame, header: list[str], path: Path) -> pd.DataFrame:
    """``df`` without the columns that have no name and no value (a spreadsheet's export writes the
    empty columns after the table, ``a,b,,``); two unnamed columns with values are refused."""
    unnamed = [df.columns[i] for i, name in enumerate(header) if not name.strip() and i < df.shape[1]]
    empty = [c for c in unnamed if bool(df[c].isna().all())]
    if len(unnamed) - len(empty) > 1:
        raise DataError(f"'{path}' has two columns named '' in its header (line 1)")
    if not empty:
        return df
    warn(f"'{path}': left out {len(empty)} column(s) with no name and no values (an export's empty columns)")
    return df.drop(columns=empty)


@dataclass
class _Source:
    """Where records come from: the file, or the records kept after bad lines were left out."""

    path: Path
    encoding: str
    delimiter: str
    dialect: dict[str, Any]
    kept: str | None = None
    above_header: int = 0  # the lines before the header (a title, notes), left out

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """``(first physical line, fields)`` of every record from the header on, blank lines left out
        as pandas does."""
        with io.TextIOWrapper(
            open_binary(self.path), encoding=self.encoding, errors="replace", newline=""
        ) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, **self.dialect)
            start = 1
            try:
                for row in reader:
                    if start > self.above_header and row and not (len(row) == 1 and not row[0].strip()):
                        yield start, row
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise DataError(f"cannot parse '{self.path}' as CSV: line {start}: {exc}") from exc

    def read(self, options: dict[str, Any]) -> pd.DataFrame:
        if self.kept is not None:
            return pd.read_csv(io.StringIO(self.kept), sep=self.delimiter, **options)
        if self.above_header:
            options = {**options, "skiprows": self.above_header}
        return pd.read_csv(self.path, sep=self.delimiter, encoding=self.encoding, **options)

    def keep(self, expected: int) -> int:
        """From now on read only the header and the records that fit ``expected`` fields and hold
        something; the number of records left out because every field was empty (``,,,``)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n", **self.dialect)
        header = True
        empty = 0
        for _, row in self.records():
            if not header and not any(row):
                empty += 1
            elif header or len(row) == expected or _trailing_empty(row, expected):
                writer.writerow(row if header else row[:expected])
            header = False
        self.kept = buffer.getvalue()
        return empty


@dataclass(frozen=True)
class _BadLine:
    line: int
    fields: int


def _trailing_empty(row: list[str], expected: int) -> bool:
    """Too many fields, but only empty ones at the end: a line ending in a delimiter, no data lost."""
    return len(row) > expected and not any(row[expected:])


def _bad_lines(source: _Source, expected: int) -> tuple[list[_BadLine], bool]:
    """Records (after the header) whose field count is not ``expected``, and whether some records
    only end in extra empty fields (fine, but pandas reads them badly)."""
    header = True
    bad: list[_BadLine] = []
    trailing = False
    for line, row in source.records():
        if header:
            header = False
        elif _trailing_empty(row, expected):
            trailing = True
        elif len(row) != expected:
            bad.append(_BadLine(line, len(row)))
    return bad, trailing


def _short_row_candidates(df: pd.DataFrame) -> bool:
    """Rows whose last field is empty: a record with too few fields reads the same way."""
    return df.shape[1] > 1 and bool(df.iloc[:, -1].isna().any())


def _read_checked(source: _Source, options: dict[str, Any], expected: int, on_bad_lines: str) -> pd.DataFrame:
    """Read with pandas; with a known header size, refuse or leave out records of another size."""
    suspicious = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = source.read(options)
        for w in caught:
            if expected and issubclass(w.category, pd.errors.ParserWarning):
                suspicious = True  # a first record longer than the header
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except pd.errors.ParserError as exc:
        bad, trailing = _bad_lines(source, expected) if expected else ([], False)
        if not bad and not trailing:
            message = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
            raise DataError(f"cannot parse '{source.path}' as CSV: {message}") from exc
    else:
        if not expected or not (suspicious or _short_row_candidates(df)):
            return _without_empty_records(df, source, options, expected)
        bad, trailing = _bad_lines(source, expected)
        if not bad and not trailing:
            return _without_empty_records(df, source, options, expected)
    if not bad:
        _left_out_empty(source, source.keep(expected))
        return source.read(options)
    first = bad[0]
    if on_bad_lines == "error":
        raise DataError(
            f"'{source.path}' line {first.line} has {first.fields} fields, but the header has {expected}; "
            "fix the line or pass on_bad_lines='skip' to leave such lines out"
        )
    warn(
        f"'{source.path}': left out {len(bad)} line(s) with the wrong number of fields "
        f"(first: line {first.line} has {first.fields}, the header has {expected})"
    )
    _left_out_empty(source, source.keep(expected))
    return source.read(options)


def _without_empty_records(
    df: pd.DataFrame, source: _Source, options: dict[str, Any], expected: int
) -> pd.DataFrame:
    """``df`` read again without the records whose every field is empty (``,,,``: a spreadsheet's
    export writes them after the table), which would be rows missing in every column and make whole
    numbers floats."""
    # in a file of one column, an empty line is that column's missing value
    if expected < 2 or df.empty or not bool(df.isna().all(axis=1).any()):
        return df
    _left_out_empty(source, source.keep(expected))
    return source.read(options)


def _left_out_empty(source: _Source, records: int) -> None:
    if records:
        warn(f"'{source.path}': left out {records} line(s) whose every field is empty")


def read_csv(path: Path, *, default_delimiter: str | None, options: dict[str, Any]) -> pd.DataFrame:
    """Read a delimited text file with detected encoding and delimiter; ``options`` go to pandas.

    Every record must have as many fields as the header: ``on_bad_lines="error"`` (the default)
    raises ``DataError`` naming the first line that has too many or too few fields, ``"skip"``
    leaves such lines out with a warning.  Numbers written with a decimal comma (``1.234,5``) or
    with thousands separators (``1,234.5``) are read as numbers.
    """
    on_bad_lines = options.pop("on_bad_lines", "error")
    if on_bad_lines not in BAD_LINES:
        raise OptionError(f"on_bad_lines={on_bad_lines!r} is not supported; use 'error' or 'skip'")
    try:
        with open_binary(path) as handle:
            sample = handle.read(SAMPLE_BYTES)
            complete = handle.read(1) == b""
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(f"cannot read '{path}': {exc}") from exc
    encoding = options.pop("encoding", None)
    if encoding is None:
        encoding, guess = detect_text_encoding(sample, complete=complete)
        if guess is not None:
            warn(guess.describe(f"'{path}'"))
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise OptionError(f"encoding={encoding!r} is not a known text encoding") from exc
    text = _sample_text(sample, encoding, complete=complete)
    delimiter = options.pop("sep", None) or options.pop("delimiter", None)
    structured = bool(_STRUCTURE_OPTIONS & options.keys())
    above_header = 0 if structured else _lines_above_header(text, delimiter or default_delimiter)
    if above_header:
        left_out = text.split("\n", above_header)
        text = left_out.pop()
        notes = ", ".join(repr(line[:40]) for line in left_out if line.strip())
        warn(
            f"'{path}': read the header from line {above_header + 1}; left out the {above_header} "
            f"line(s) above it ({notes})"
        )
    if delimiter is None:
        delimiter = default_delimiter or sniff_delimiter(text)
    header = None if structured else _header(path, text, delimiter)
    if not structured:
        options["index_col"] = False  # a first record longer than the header must not become an index
    options.setdefault("keep_default_na", False)
    options.setdefault("na_values", [""])
    if options.get("engine", "c") == "c":
        options.setdefault("low_memory", False)
    dialect = {k: options[k] for k in _CSV_DIALECT_OPTIONS if k in options}
    source = _Source(path, encoding, delimiter, dialect, above_header=above_header)
    try:
        df = _read_checked(source, options, len(header) if header else 0, on_bad_lines)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"'{path}' is empty: it has no header line") from exc
    except UnicodeDecodeError as exc:
        error = undecodable(path, encoding)
        if error is None:
            error = DataError(
                f"'{path}' cannot be decoded as {encoding} ({exc.reason}); "
                "pass encoding= to name its encoding"
            )
        raise error from exc
    if header:
        df = _without_empty_unnamed(df, header, path)
    start = _Source(path, encoding, delimiter, dialect, kept=text)  # the first SAMPLE_BYTES
    start_text = _TextOnce(start, options)  # its columns as text, each parsed once
    if not {"dtype", "converters"} & options.keys():
        _keep_leading_zeros(
            df,
            lambda cols: _raw(source, options, cols),
            start_text,
            complete=complete and source.kept is None,
        )
    if not {"dtype", "converters"} & options.keys():
        _exact_large_integers(df, lambda cols: _raw(source, options, cols))
    spelt = {"dtype", "converters", "true_values", "false_values"} & options.keys()
    booleans = {} if spelt else _boolean_words(df, start_text)
    durations = {} if {"dtype", "converters"} & options.keys() else duration_texts(df)
    df = convert_numbers(
        df, delimiter=delimiter, options=options, raw=lambda cols: _raw(source, options, cols)
    )
    decimal = df.attrs.pop(DECIMAL_ATTR, None) or options.get("decimal") or "."
    numbers = df.attrs.pop(NUMBERS_ATTR, None) or {}
    if not {"dtype", "converters"} & options.keys():
        numbers |= padded_numbers(df, decimal, numbers, start_text)
    missing = (df.attrs.pop(MISSING_ATTR, None) or {}) | (
        {} if {"dtype", "converters"} & options.keys() else dates_missing_words(df)
    )
    marks = df.attrs.pop(MARKS_ATTR, None)
    currencies = df.attrs.pop(CURRENCIES_ATTR, None)
    # a file without a "+" in its first SAMPLE_BYTES writes no plus signs: nothing to read again
    plus_written = "+" in text and not {"dtype", "converters"} & options.keys()
    signed = _plus_signs(df, start_text) if plus_written else {}
    df.attrs[CSV_DIALECT] = {
        "delimiter": delimiter,
        "decimal": decimal,
        # Excel's "CSV UTF-8" starts with a byte order mark and ends lines with CRLF; without the mark,
        # Excel reads the synthetic file's accents as another encoding
        **({"bom": True} if sample.startswith(_BYTE_ORDER_MARKS) else {}),
        **({"line_end": "\r\n"} if _crlf_lines(sample) else {}),
        **({"numbers": numbers} if numbers else {}),
        **({"signed": signed} if signed else {}),
        **({"missing": missing} if missing else {}),
        **({"marks": marks} if marks else {}),
        **({"currencies": currencies} if currencies else {}),
        **({"booleans": booleans} if booleans else {}),
        **({"durations": durations} if durations else {}),
    }
    return df


_BYTE_ORDER_MARKS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _crlf_lines(sample: bytes) -> bool:
    """Whether most of the line breaks of a file's first bytes are CRLF (a file written on Windows)."""
    crlf = sample.count(b"\r\n") + sample.count(b"\r\x00\n\x00")  # UTF-8 or UTF-16-LE
    return crlf > 0 and 2 * crlf > sample.count(b"\n")


def holds_booleans(values: pd.Series) -> bool:
    """A column of booleans: of a boolean dtype, or of objects that are all booleans (with gaps)."""
    if pd.api.types.is_bool_dtype(values.dtype) or values.dtype == "boolean":
        return True
    present = values.dropna()
    return (
        values.dtype == object and not present.empty and all(isinstance(v, bool | np.bool_) for v in present)
    )


def _boolean_words(df: pd.DataFrame, raw_start: Callable[[list[str]], pd.DataFrame]) -> dict[str, list[str]]:
    """The words (``true``/``false``, ``TRUE``/``FALSE``) of columns read as booleans that the file
    spells otherwise than ``True``/``False``, read from its first ``SAMPLE_BYTES``: for writing them back."""
    names = [str(c) for c in df.columns if holds_booleans(df[c])]
    if not names:
        return {}
    text = raw_start(names)
    words: dict[str, list[str]] = {}
    for name in names:
        seen = text[name].dropna().unique().tolist()
        yes = next((w for w in seen if w.lower() == "true"), "True")
        no = next((w for w in seen if w.lower() == "false"), "False")
        if [yes, no] != ["True", "False"]:
            words[name] = [yes, no]
    return words


def _plus_signs(df: pd.DataFrame, raw_start: Callable[[list[str]], pd.DataFrame]) -> dict[str, str]:
    """Numeric columns whose source writes an explicit plus on every positive number (``+3``, a change),
    read from the file's first ``SAMPLE_BYTES``: ``"positive"``, or ``"non-negative"`` where its zeros
    are written ``+0`` too."""
    names = [
        str(c)
        for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype)
    ]
    if not names:
        return {}
    try:
        text = raw_start(names)
    except (pd.errors.ParserError, ValueError):  # the sample ends inside a quoted field
        return {}
    signed: dict[str, str] = {}
    for name in names:
        values = text[name].dropna().str.strip()
        plus = values.str.startswith("+")
        if not bool(plus.any()):
            continue
        unsigned = values.str.lstrip("+")
        numbers = unsigned.str.contains(r"\d", regex=True) & ~unsigned.str.startswith(("-", "("))
        zero = numbers & ~unsigned.str.contains(r"[1-9]", regex=True)
        positive = numbers & ~zero
        if not bool(plus[positive].all()):
            continue
        signed[name] = "non-negative" if bool(zero.any()) and bool(plus[zero].all()) else "positive"
    return signed


_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_EXACT_FLOAT = 2**53  # integers past this are rounded by float64


def _exact_large_integers(df: pd.DataFrame, raw: Callable[[list[str]], pd.DataFrame]) -> None:
    """Integer columns with gaps, which pandas reads as float64, read again as nullable integers where
    they hold numbers past 2**53 that float64 rounds (19-digit ids: ``1234567890123456789`` read as
    ``1234567890123456768``)."""
    large = []
    for name in df.columns:
        if not pd.api.types.is_float_dtype(df[name].dtype):
            continue
        values = df[name].to_numpy(dtype="float64")
        present = values[~np.isnan(values)]
        finite = bool(present.size) and bool(np.all(np.isfinite(present)))
        if finite and np.abs(present).max() >= _EXACT_FLOAT and bool(np.all(present == np.round(present))):
            large.append(str(name))
    if not large:
        return
    text = raw(large)
    for name in large:
        written = text[name].dropna()
        if not bool(written.str.fullmatch(_INTEGER_TEXT).all()):
            continue
        exact = [int(v) for v in written]
        kind = (
            "Int64"
            if min(exact) >= -(2**63) and max(exact) < 2**63
            else "UInt64"
            if min(exact) >= 0
            else None
        )
        if kind is None or (kind == "UInt64" and max(exact) >= 2**64):
            continue
        column = pd.Series(pd.NA, index=df.index, dtype=kind, name=df[name].name)
        column[written.index] = exact
        df[name] = column


def _keep_leading_zeros(
    df: pd.DataFrame,
    raw: Callable[[list[str]], pd.DataFrame],
    raw_start: Callable[[list[str]], pd.DataFrame],
    *,
    complete: bool,
) -> None:
    """Codes written with leading zeros (``02134``, ``007``) stay text: as integers they lose them.

    The file's first ``SAMPLE_BYTES`` say which integer columns hold such codes (codes show their
    zeros throughout); only those are read again as text, since reading every integer column twice
    would make reading a file several times slower."""
    whole = [str(name) for name in df.columns if pd.api.types.is_integer_dtype(df[name].dtype)]
    if not whole:
        return
    try:
        start = raw_start(whole)
    except (pd.errors.ParserError, ValueError):  # the sample ends inside a quoted field
        start = None
    if start is not None:
        whole = [name for name in whole if bool(start[name].str.match(_LEADING_ZERO).any())]
        if not whole:
            return
    text = start if complete and start is not None else raw(whole)
    for name in whole:
        df[name] = text[name].astype(object)


class _TextOnce:
    """Columns of a source as the text it holds, each column parsed once however often asked for."""

    def __init__(self, source: _Source, options: dict[str, Any]) -> None:
        self.source, self.options = source, options
        self.read: dict[str, pd.Series] = {}

    def __call__(self, columns: list[str]) -> pd.DataFrame:
        new = [c for c in columns if c not in self.read]
        if new:
            text = _raw(self.source, self.options, new)
            self.read.update({c: text[c] for c in new})
        return pd.DataFrame({c: self.read[c] for c in columns})


def _raw(source: _Source, options: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """``columns`` as the text the file holds."""
    text_options = {k: v for k, v in options.items() if k not in ("dtype", "converters", "low_memory")}
    return source.read({**text_options, "usecols": columns, "dtype": str})
