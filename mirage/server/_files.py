"""Files under the data directory: sanitised names, paths that cannot leave it, bounded uploads."""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from pathlib import Path

from mirage.errors import DataError, OptionError

__all__ = [
    "TABLE_SUFFIXES",
    "check_expansion",
    "inside",
    "remove_partial_files",
    "sanitise_filename",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".xlsx")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitise_filename(name: str, *, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> str:
    """The last component of ``name`` in letters, digits, ``._-`` only, never hidden, never empty;
    its suffix must be one of ``suffixes`` (an ``OptionError`` naming the file otherwise)."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", base).lstrip(".")[:120] or "upload"
    suffix = Path(base).suffix.lower()
    if suffix not in suffixes:
        raise OptionError(
            f"file {name!r}: unsupported type {suffix or '(no extension)'}; "
            f"upload one of {', '.join(suffixes)}"
        )
    return base


def inside(root: Path, *parts: str) -> Path:
    """``root / parts`` resolved, refused (``OptionError``) unless it stays inside ``root``."""
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise OptionError(f"path {'/'.join(parts)!r} is outside the data directory")
    return path


def check_expansion(path: Path, limit: int) -> None:
    """Refuse a compressed upload that would expand beyond ``limit`` bytes (a zip bomb) before reading it.

    An Excel workbook is a zip archive; a Parquet file's pages are compressed and its footer says how
    large they become.
    """
    suffix = path.suffix.lower()
    total = 0
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as archive:
                total = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"cannot read '{path.name}' as an Excel workbook: {exc}") from exc
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(path).metadata
        except (pa.ArrowException, OSError) as exc:
            raise DataError(f"cannot read '{path.name}' as Parquet: {exc}") from exc
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            total += sum(group.column(c).total_uncompressed_size for c in range(group.num_columns))
    if total > limit:
        raise DataError(
            f"'{path.name}' expands to {total:,} bytes, over the server's limit of {limit:,} bytes"
        )


def remove_partial_files(root: Path) -> list[Path]:
    """Delete the temporary files of writes that never finished (``.NAME.HEX.tmp``, left by a killed
    process); returns what was removed."""
    removed = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(".") and name.endswith(".tmp"):
                path = Path(dirpath) / name
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed
