"""Which file format a path or a ``format=`` name means."""

from __future__ import annotations

from pathlib import Path

from mirage.errors import DataError, OptionError

__all__ = ["FORMATS", "resolve_format"]

FORMATS = ("csv", "tsv", "parquet", "jsonl", "xlsx", "xls")

_ALIASES = {
    "csv": "csv",
    "txt": "csv",
    "tsv": "tsv",
    "parquet": "parquet",
    "pq": "parquet",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "xlsx": "xlsx",
    "excel": "xlsx",
    "xls": "xls",
}


def resolve_format(path: Path, format: str | None, *, allowed: tuple[str, ...] = FORMATS) -> str:
    """The canonical format name for ``path``: ``format`` if given, else from the extension."""
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
