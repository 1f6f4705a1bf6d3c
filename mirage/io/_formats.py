"""Which file format a path or a ``format=`` name means."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

from mirage.errors import DataError, OptionError

__all__ = ["COMPRESSIBLE", "COMPRESSIONS", "FORMATS", "open_binary", "resolve_format"]

# what a text file (CSV, TSV, JSON Lines) may be compressed with, by the extension after its own
COMPRESSIONS: dict[str, Callable[..., object]] = {
    ".gz": gzip.GzipFile,
    ".bz2": bz2.BZ2File,
    ".xz": lzma.LZMAFile,
}
COMPRESSIBLE = ("csv", "tsv", "jsonl", "json")

FORMATS = ("csv", "tsv", "parquet", "jsonl", "json", "xlsx", "xls")

_ALIASES = {
    "csv": "csv",
    "txt": "csv",
    "tsv": "tsv",
    "parquet": "parquet",
    "pq": "parquet",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "json",
    "xlsx": "xlsx",
    "excel": "xlsx",
    "xls": "xls",
}


def open_binary(path: Path) -> IO[bytes]:
    """``path``'s bytes, decompressed when its extension names a compression (``data.csv.gz``)."""
    opener = COMPRESSIONS.get(path.suffix.lower())
    return cast(IO[bytes], opener(path, "rb")) if opener else path.open("rb")


def resolve_format(
    path: Path, format: str | None, *, allowed: tuple[str, ...] = FORMATS, compressed: bool = False
) -> str:
    """The canonical format name for ``path``: ``format`` if given, else from the extension.

    With ``compressed``, a CSV, TSV or JSON Lines file may end in a compression's extension
    (``data.csv.gz``, ``.bz2``, ``.xz``); its format is the extension before that one.
    """
    if compressed and path.suffix.lower() in COMPRESSIONS:
        inner = resolve_format(path.with_suffix(""), format, allowed=allowed)
        if inner not in COMPRESSIBLE:
            raise DataError(
                f"'{path}': a compressed {inner} file cannot be read; only CSV, TSV and JSON Lines "
                f"files may be compressed ({', '.join(COMPRESSIONS)})"
            )
        return inner
    if format is not None:
        name = _ALIASES.get(format.lower().lstrip("."))
        if name is None or name not in allowed:
            raise OptionError(f"format={format!r} is not supported here; use one of {', '.join(allowed)}")
        return name
    suffix = path.suffix.lower()
    name = _ALIASES.get(suffix.lstrip(".")) if suffix else None
    if name is None or name not in allowed:
        what = f"extension {suffix!r}" if suffix else "no extension"
        expected = ", ".join(sorted(f".{s}" for s, f in _ALIASES.items() if f in allowed and s != "excel"))
        raise DataError(
            f"'{path}' has {what}, which is not a supported file type here "
            f"(expected {expected}); rename the file or pass format= (Python)"
        )
    return name
