"""Progress reporting without coupling engines to a user interface.

Work reports events: :class:`Progress` (a task's ``done`` of ``total`` steps, with an optional
``detail`` line) through ``report(task, done, total, detail)``, and :class:`EpochProgress` (a training
epoch's losses, the best epoch so far and the time left, as numbers) or :class:`TrainingDone` through
``report_event``.  Whoever wants them wraps the work in ``progress_events_to(listener)``, which receives
the events themselves, or ``progress_to(callback)``, which receives ``(task, done, total, detail)`` with
the detail written by :func:`describe`.  Outside such a block, reports cost one context-variable read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = [
    "EpochProgress",
    "Progress",
    "ProgressCallback",
    "ProgressEvent",
    "ProgressListener",
    "TrainingDone",
    "describe",
    "progress_events_to",
    "progress_to",
    "report",
    "report_event",
]


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` steps of ``task``; ``detail`` is a short line for people."""

    task: str
    done: int
    total: int
    detail: str = ""


@dataclass(frozen=True)
class EpochProgress:
    """A training epoch ended: its losses, the best epoch so far and an upper bound on the time left.

    Early stopping can end training at any epoch, so ``seconds_left`` is the smaller of the time
    budget left and the remaining epochs at the mean epoch time so far.
    """

    task: str
    epoch: int
    max_epochs: int
    train_loss: float
    val_loss: float
    best_epoch: int
    elapsed_seconds: float
    seconds_left: float

    @property
    def done(self) -> int:
        return self.epoch

    @property
    def total(self) -> int:
        return self.max_epochs


@dataclass(frozen=True)
class TrainingDone:
    """Training ended after ``epochs`` epochs because of ``stopped``; the weights of ``best_epoch`` kept.

    ``stopped`` is ``"max_epochs"``, ``"early_stopping"`` or ``"max_training_time"``.
    """

    task: str
    epochs: int
    best_epoch: int
    stopped: str

    @property
    def done(self) -> int:
        return self.epochs

    @property
    def total(self) -> int:
        return self.epochs


ProgressEvent = Progress | EpochProgress | TrainingDone
ProgressCallback = Callable[[str, int, int, str], None]
ProgressListener = Callable[[ProgressEvent], None]
_LISTENER: ContextVar[ProgressListener | None] = ContextVar("mirage_progress", default=None)

_STOPPED = {"early_stopping": "stopped early", "max_training_time": "time budget spent"}


def describe(event: ProgressEvent) -> str:
    """The event's detail line: ``loss 9.810 · val 9.920 (best: epoch 6) · at most 1m20s left``."""
    if isinstance(event, EpochProgress):
        minutes, seconds = divmod(max(0, round(min(event.seconds_left, 1e9))), 60)
        return (
            f"loss {event.train_loss:.3f} · val {event.val_loss:.3f} (best: epoch {event.best_epoch}) · "
            f"at most {minutes}m{seconds:02d}s left"
        )
    if isinstance(event, TrainingDone):
        why = _STOPPED.get(event.stopped, "done")
        return f"{why} after {event.epochs} epochs; kept epoch {event.best_epoch}"
    return event.detail


def report_event(event: ProgressEvent) -> None:
    listener = _LISTENER.get()
    if listener is not None:
        listener(event)


def report(task: str, done: int, total: int, detail: str = "") -> None:
    listener = _LISTENER.get()
    if listener is not None:
        listener(Progress(task, done, total, detail))


@contextmanager
def progress_events_to(listener: ProgressListener) -> Iterator[None]:
    """Send the events reported inside the block to ``listener``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


@contextmanager
def progress_to(callback: ProgressCallback) -> Iterator[None]:
    """Send ``(task, done, total, detail)`` of every event reported inside the block to ``callback``."""
    with progress_events_to(lambda event: callback(event.task, event.done, event.total, describe(event))):
        yield
