"""Progress reporting without coupling engines to a user interface.

Engines call ``report(task, done, total, detail)``; whoever wants to show progress (the CLI's rich bar)
wraps the work in ``progress_to(callback)``.  ``detail`` is a short line for people (an epoch's loss and
the time left, say).  Outside such a block, reports cost one context-variable read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["ProgressCallback", "progress_to", "report"]

ProgressCallback = Callable[[str, int, int, str], None]
_CALLBACK: ContextVar[ProgressCallback | None] = ContextVar("mirage_progress", default=None)


def report(task: str, done: int, total: int, detail: str = "") -> None:
    callback = _CALLBACK.get()
    if callback is not None:
        callback(task, done, total, detail)


@contextmanager
def progress_to(callback: ProgressCallback) -> Iterator[None]:
    token = _CALLBACK.set(callback)
    try:
        yield
    finally:
        _CALLBACK.reset(token)
