"""What every command shares: the global settings, the two consoles, progress bars and small checks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
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
from rich.text import Text

from mirage._progress import progress_to
from mirage.engines import Synthesizer, choose_engine, get_engine
from mirage.errors import OptionError, OutputExistsError

__all__ = [
    "UI",
    "cell",
    "check_hyperparameters",
    "engine_named",
    "fit_progress",
    "parse_params",
    "refuse_existing",
    "resolve_engine",
    "row_progress",
]


@dataclass
class UI:
    """The global options and where output goes: ``out`` (stdout) for results, ``err`` for the rest."""

    debug: bool = False
    quiet: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, markup=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False, markup=False))

    @classmethod
    def of(cls, ctx: typer.Context) -> UI:
        return ctx.obj if isinstance(ctx.obj, UI) else cls()

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

    def progress(self, *columns: Any) -> Progress:
        return Progress(*columns, console=self.err, disable=not self.show_progress)


def cell(value: Any) -> Text:
    """A table cell that shows a value as it is, and a missing value as an empty cell."""
    if value is None or (not isinstance(value, (list, dict, str)) and bool(pd.isna(value))):
        return Text("")
    return Text(str(value))


def refuse_existing(path: Path, force: bool) -> None:
    """Fail before any work is done if ``path`` exists (or is a directory) and ``--force`` is not given."""
    if path.is_dir():
        raise OutputExistsError(f"output path '{path}' is a directory; give a file path")
    if path.exists() and not force:
        raise OutputExistsError(f"output file '{path}' already exists; pass --force to overwrite it")


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value is read as JSON when it parses (``3``, ``0.5``, ``null``, ``true``)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise OptionError(f"--param expects key=value, got {item!r}")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def check_hyperparameters(engine: type[Synthesizer], params: dict[str, Any]) -> None:
    valid = engine._param_names()
    for key in params:
        if key not in valid:
            raise OptionError(
                f"--param {key}: engine {engine.name!r} has no hyperparameter {key!r} "
                f"(valid: {', '.join(valid)})"
            )


def engine_named(name: str) -> type[Synthesizer]:
    try:
        return get_engine(name)
    except OptionError as exc:
        raise OptionError(f"--engine: {exc}") from None


def resolve_engine(name: str, data: pd.DataFrame, params: dict[str, Any], ui: UI) -> type[Synthesizer]:
    """The engine class for ``--engine``, checked against ``params``; for ``auto``, say what it picked."""
    if name != "auto":
        engine = engine_named(name)
        check_hyperparameters(engine, params)
        return engine
    picked, reason = choose_engine(data)
    engine = get_engine(picked)
    check_hyperparameters(engine, params)
    ui.note(Text.assemble("engine ", (picked, "bold"), f", picked by auto: {reason}"))
    return engine


@contextmanager
def fit_progress(ui: UI) -> Iterator[None]:
    """Show what the engine reports through ``mirage._progress`` as bars with the elapsed time."""
    bars = ui.progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    tasks: dict[str, TaskID] = {}

    def update(task: str, done: int, total: int, detail: str) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(task, total=max(total, 1), detail=detail)
        bars.update(tasks[task], completed=done, total=max(total, 1), detail=detail)

    with bars, progress_to(update):
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
