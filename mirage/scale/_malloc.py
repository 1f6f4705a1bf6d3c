"""Freed memory reused, not handed back to the system, while a task samples or fits on a Dask worker.

Dask's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (its ``pre-spawn-environ``
setting, meant to return freed memory to the system).  Setting it also switches off glibc's
growing mmap threshold, so every array over 128 KiB is mapped afresh on allocation and unmapped on
release: a block of 50,000 rows of an Adult-shaped copula model then pays about ten times the page
faults, and takes about 60% more CPU time to draw, decode and encode as Parquet.

``reusing_freed_memory`` sets, for the time a task runs, the thresholds glibc would reach by itself
(arrays up to 32 MiB come from the heap, and up to 64 MiB of freed heap is kept); when the last such
task in the process ends, it puts the worker's settings back and trims the heap once.  Only where
someone set those variables (a Dask worker): a plain process keeps glibc's own tuning.  Not glibc
(macOS, Windows, musl): nothing is changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["reusing_freed_memory"]

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
TASK_MMAP_THRESHOLD = 32 * 2**20  # the most glibc's own threshold grows to on 64-bit systems
TASK_TRIM_THRESHOLD = 2 * TASK_MMAP_THRESHOLD  # what glibc pairs with it
GLIBC_DEFAULT = 128 * 1024  # both thresholds' default
VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")

_lock = threading.Lock()
_active = 0


def _glibc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def _setting(name: str) -> int:
    try:
        return int(os.environ.get(name, GLIBC_DEFAULT))
    except ValueError:
        return GLIBC_DEFAULT


@contextlib.contextmanager
def reusing_freed_memory() -> Iterator[None]:
    """Within: glibc's default thresholds, where the environment had fixed them (see the module)."""
    global _active
    libc = _glibc() if any(name in os.environ for name in VARIABLES) else None
    if libc is None:
        yield
        return
    with _lock:
        if _active == 0:
            libc.mallopt(M_MMAP_THRESHOLD, TASK_MMAP_THRESHOLD)
            libc.mallopt(M_TRIM_THRESHOLD, TASK_TRIM_THRESHOLD)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                libc.mallopt(M_MMAP_THRESHOLD, _setting("MALLOC_MMAP_THRESHOLD_"))
                libc.mallopt(M_TRIM_THRESHOLD, _setting("MALLOC_TRIM_THRESHOLD_"))
                libc.malloc_trim(0)
