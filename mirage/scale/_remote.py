"""Partitions read from, and samples written to, fsspec URLs: ``file://``, ``memory://``, and ``s3://``,
``gs://``, ``abfs://`` ... when the package for that protocol (``s3fs``, ``gcsfs``, ``adlfs``) is
installed.  fsspec comes with Dask.

A partition at a URL is copied to a local temporary file on the worker that reads it and read there by
:func:`mirage.io.read_table`, with the checks it makes on every file; a sampled file is written locally
and then uploaded under a hidden temporary name (``.part-00000.parquet.<random>``, which readers skip)
and renamed into place, and ``_SUCCESS`` is written last in the same way: a folder without it is not a
complete dataset, on a bucket as on a disk.  ``file://`` URLs are plain paths.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mirage.errors import DataError, MissingDependencyError, OptionError

__all__ = ["is_pattern", "is_url", "local_copy", "local_path", "put_atomically", "remote", "url_files"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DATABASES = ("sqlite", "postgresql", "postgres")  # database URLs, read by mirage.io, not fsspec


def is_url(text: object) -> bool:
    """Whether ``text`` is an fsspec URL (``scheme://...``; database URLs are not)."""
    match = _URL.match(text) if isinstance(text, str) else None
    return match is not None and match.group(1).split("+")[0].lower() not in _DATABASES


def is_pattern(path: str) -> bool:
    """Whether ``path`` is a glob pattern."""
    return any(ch in path for ch in "*?[")


def local_path(text: str) -> str | None:
    """The local path of a ``file://`` URL (``None`` for any other URL)."""
    if text.lower().startswith("file://"):
        return text[len("file://") :] or "/"
    return None


def remote(url: str) -> tuple[Any, str]:
    """``(filesystem, path)`` of ``url``; a protocol whose package is missing is named."""
    try:
        import fsspec
    except ImportError:
        raise MissingDependencyError(
            f"{url}: URLs are read through fsspec: pip install 'mirage-synth[dask]'"
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise MissingDependencyError(f"{url}: {exc} (s3:// needs s3fs, gs:// gcsfs, abfs:// adlfs)") from None
    except ValueError as exc:
        raise OptionError(f"{url}: {exc}") from None
    return fs, str(path)


def url_files(url: str) -> list[str]:
    """The files a URL names (a glob pattern is expanded), as URLs, sorted."""
    fs, path = remote(url)
    found = sorted(fs.glob(path)) if is_pattern(path) else [path]
    files = [p for p in found if fs.isfile(p)]
    if not files:
        raise DataError(
            f"no file matches '{url}'" if is_pattern(path) else f"partition '{url}' is not a file"
        )
    return [fs.unstrip_protocol(p) for p in files]


@contextmanager
def local_copy(url: str) -> Iterator[str]:
    """A local file holding ``url``'s bytes (a ``file://`` URL is its own path), removed afterwards."""
    path = local_path(url)
    if path is not None:
        yield path
        return
    fs, source = remote(url)
    folder = tempfile.mkdtemp(prefix="mirage-partition-")
    try:
        target = os.path.join(folder, Path(source).name)
        fs.get_file(source, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def put_atomically(local: str | os.PathLike[str], url: str) -> None:
    """Upload ``local`` to ``url`` under a hidden temporary name, then rename it into place."""
    fs, target = remote(url)
    parent, name = target.rsplit("/", 1) if "/" in target else ("", target)
    temporary = f"{parent}/.{name}.{secrets.token_hex(4)}" if parent else f".{name}.{secrets.token_hex(4)}"
    fs.put_file(os.fspath(local), temporary)
    try:
        fs.mv(temporary, target)
    except BaseException:
        fs.rm(temporary)
        raise
