"""CSV reading: encoding and delimiter detection, clean errors for malformed files."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
from charset_normalizer import from_bytes

from mirage.errors import DataError, OptionError

__all__ = ["DELIMITERS", "detect_encoding", "read_csv", "sniff_delimiter"]

DELIMITERS = ",;\t|"
SAMPLE_BYTES = 1 << 20
_SNIFF_CHARS = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_TIE = 0.01
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """Guess the text encoding of ``sample``, the first bytes of a file (all of it if ``complete``).

    A BOM decides; else UTF-8 if the bytes are valid UTF-8; else charset-normalizer's guess, with
    cp1252 preferred whenever it explains the bytes as well (small samples are ambiguous).
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    has_nul = b"\x00" in sample
    matches = [m for m in from_bytes(sample) if has_nul or not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        return "latin-1"
    best = min(matches, key=lambda m: (m.chaos, -m.coherence))
    western = from_bytes(sample, cp_isolation=["cp1252"]).best()
    if (
        western is not None
        and western.chaos <= best.chaos + _TIE
        and western.coherence >= best.coherence - _TIE
    ):
        return "cp1252"
    return str(best.encoding)


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
        text = text[: text.rfind("\n") + 1]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_header(path: Path, text: str, delimiter: str) -> None:
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"'{path}' has two columns named {name!r} in its header (line 1)")
        seen.add(name)


def _physical_line(path: Path, encoding: str, delimiter: str, expected: int) -> int | None:
    """The 1-based line on which the first record with more than ``expected`` fields starts."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1
        try:
            for row in reader:
                if len(row) > expected:
                    return start
                start = reader.line_num + 1
        except csv.Error:
            return None
    return None


def _parser_error(path: Path, exc: Exception, encoding: str, delimiter: str) -> DataError:
    message = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
    match = _FIELD_COUNT.search(message)
    if match is None:
        return DataError(f"cannot parse '{path}' as CSV: {message}")
    expected, line, saw = (int(g) for g in match.groups())
    line = _physical_line(path, encoding, delimiter, expected) or line
    return DataError(f"'{path}' line {line} has {saw} fields, but the header has {expected}")


def read_csv(path: Path, *, default_delimiter: str | None, options: dict[str, Any]) -> pd.DataFrame:
    """Read a delimited text file with detected encoding and delimiter; ``options`` go to pandas."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        complete = handle.read(1) == b""
    encoding = options.pop("encoding", None) or detect_encoding(sample, complete=complete)
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise OptionError(f"encoding={encoding!r} is not a known text encoding") from exc
    text = _sample_text(sample, encoding, complete=complete)
    delimiter = options.pop("sep", None) or options.pop("delimiter", None)
    if delimiter is None:
        delimiter = default_delimiter or sniff_delimiter(text)
    if not {"header", "names", "skiprows"} & options.keys():
        _check_header(path, text, delimiter)
    options.setdefault("keep_default_na", False)
    options.setdefault("na_values", [""])
    if options.get("engine", "c") == "c":
        options.setdefault("low_memory", False)
    try:
        return pd.read_csv(path, sep=delimiter, encoding=encoding, **options)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"'{path}' is empty: it has no header line") from exc
    except pd.errors.ParserError as exc:
        raise _parser_error(path, exc, encoding, delimiter) from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"'{path}' cannot be decoded as {encoding} ({exc.reason}); pass encoding= to name its encoding"
        ) from exc
