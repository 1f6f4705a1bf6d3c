"""What every command shares: the global settings, the two consoles, tables and progress bars.

Only typer and rich are imported here: the ``mirage`` command starts without pandas, scikit-learn or
PyTorch, which each command imports when it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from mirage._progress import ProgressEvent, describe, progress_events_to
from mirage.cli._tables import print_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "UI",
    "DebugOption",
    "EncodingOption",
    "OnBadLinesOption",
    "QuietOption",
    "cell",
    "fit_progress",
    "row_progress",
]

_GLOBAL = "Global options (before or after the command name)"
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show full tracebacks of errors.", rich_help_panel=_GLOBAL)
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bars or status messages.", rich_help_panel=_GLOBAL),
]

_READING = "Reading text files"
OnBadLinesOption = Annotated[
    str,
    typer.Option(
        "--on-bad-lines",
        help="A line with more or fewer fields than the header: 'error' (stop, naming it) or 'skip'.",
        rich_help_panel=_READING,
    ),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding", help="Text encoding of the input files (default: detected).", rich_help_panel=_READING
    ),
]


@dataclass
class UI:
    """The global options and where output goes: ``out`` (stdout) for results, ``err`` for the rest."""

    debug: bool = False
    quiet: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, markup=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False, markup=False))

    @classmethod
    def of(cls, ctx: typer.Context, *, debug: bool = False, quiet: bool = False) -> UI:
        """The settings of this run; ``--debug``/``-q`` given after the command name switch them on too."""
        if not isinstance(ctx.obj, UI):
            ctx.obj = cls()
        ui: UI = ctx.obj
        ui.debug = ui.debug or debug
        ui.quiet = ui.quiet or quiet
        return ui

    @property
    def show_progress(self) -> bool:
        return not self.quiet and self.err.is_terminal

    def note(self, message: str | Text) -> None:
        """A status line on stderr, silenced by ``--quiet``."""
        if not self.quiet:
            self.err.print(message, soft_wrap=True)

    def say(self, message: str | Text) -> None:
        """A result line on stdout, silenced by ``--quiet``."""
        if not self.quiet:
            self.out.print(message, soft_wrap=True)

    def table(self, table: Table, *, err: bool = False) -> None:
        """Print a table on stdout (or stderr), never splitting a word across lines."""
        print_table(self.err if err else self.out, table)

    def progress(self, *columns: Any) -> Progress:
        return Progress(*columns, console=self.err, disable=not self.show_progress)


def cell(value: Any) -> Text:
    """A table cell that shows a value as it is, and a missing value as an empty cell."""
    import pandas as pd

    if value is None or (not isinstance(value, (list, dict, str)) and bool(pd.isna(value))):
        return Text("")
    return Text(str(value))


@contextmanager
def fit_progress(ui: UI) -> Iterator[None]:
    """Show the events the work reports through ``mirage._progress`` as bars with the elapsed time.

    A bar per task; its detail column is the event's line (an epoch's losses, the best epoch so far and
    the time left while a model trains).
    """
    bars = ui.progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    tasks: dict[str, TaskID] = {}

    def show(event: ProgressEvent) -> None:
        total, detail = max(event.total, 1), describe(event)
        if event.task not in tasks:
            tasks[event.task] = bars.add_task(event.task, total=total, detail=detail)
        bars.update(tasks[event.task], completed=event.done, total=total, detail=detail)

    with bars, progress_events_to(show):
        yield


def row_progress(chunks: Iterable[pd.DataFrame], total: int, ui: UI, label: str) -> Iterator[pd.DataFrame]:
    """Pass ``chunks`` through, counting their rows on a bar once the consumer is done with each."""
    bars = ui.progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with bars:
        task = bars.add_task(label, total=max(total, 1))
        for chunk in chunks:
            yield chunk
            bars.advance(task, len(chunk))
