"""Write a file so that readers see either the old file or the complete new one, never a torn one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mirage.errors import DataError, OutputExistsError

__all__ = ["atomic_path"]

PathLike = str | os.PathLike[str]


def _refuse_existing(target: Path, force: bool) -> None:
    if target.is_dir():
        raise OutputExistsError(f"output path '{target}' is a directory; give a file path")
    if target.exists() and not force:
        raise OutputExistsError(f"output file '{target}' already exists; pass force=True to overwrite it")


def _create_temp(target: Path) -> Path:
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp
    raise DataError(f"cannot create a temporary file next to '{target}'")


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success fsync it and rename it onto ``path``.

    Refuses an existing ``path`` unless ``force``, and a ``path`` whose folder does not exist (as
    ``open`` does: a mistyped path must not create a folder tree).  If the
    body raises, the temporary file is removed, ``path`` is left as it was and the error propagates.
    """
    target = Path(path)
    _refuse_existing(target, force)
    if not target.parent.is_dir():
        what = "is not a folder" if target.parent.exists() else "does not exist"
        raise DataError(f"cannot write '{target}': folder '{target.parent}' {what}; create it first")
    try:
        temp = _create_temp(target)
    except OSError as exc:
        raise DataError(f"cannot write '{target}': {exc.strerror or exc}") from exc
    try:
        yield temp
        _fsync_file(temp)
        _refuse_existing(target, force)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
