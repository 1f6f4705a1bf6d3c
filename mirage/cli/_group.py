"""The command group: how errors, usage mistakes and signals become one line on stderr and an exit code.

A ``MirageError`` is one red ``error: ...`` line and exit code 2, as is a usage mistake (an unknown
option, a missing argument, a bad value); an unexpected exception is one line and exit code 1
(tracebacks only with ``--debug``); Ctrl-C exits 130 and SIGTERM 143, both after the same clean-up
(an output file being written is removed, never left half-written or as a hidden temporary file).
"""

from __future__ import annotations

import signal
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import typer
from rich.text import Text
from typer.core import TyperGroup

from mirage.cli._ui import UI
from mirage.cli._wording import cli_message
from mirage.errors import MirageError

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "EXIT_UNEXPECTED",
    "MirageGroup",
    "Terminated",
]

EXIT_ERROR = 2
EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM

# Typer's usage errors, whether it uses click or its vendored copy of it.
_CLICK_EXCEPTION: tuple[type[Exception], ...] = tuple(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
_PASS_THROUGH: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, BrokenPipeError, *_CLICK_EXCEPTION)


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like ``KeyboardInterrupt`` (a ``BaseException``, so that no
    ``except Exception`` on the way swallows it), running every clean-up on the way out."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # a second SIGTERM must not interrupt the clean-up the first one started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the body runs, SIGTERM raises ``Terminated``; the previous handler is restored after."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Mirage's data warnings as one ``warning: ...`` line each on stderr, not Python's source lines."""
    from mirage._warnings import MirageWarning

    with warnings.catch_warnings():
        default = warnings.showwarning

        def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
            if isinstance(category, type) and issubclass(category, MirageWarning):
                UI().err.print(Text(f"warning: {message}", style="yellow"), soft_wrap=True)
            else:
                default(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


class MirageGroup(TyperGroup):
    """Turns exceptions raised by a command, and usage mistakes, into one line on stderr and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            with _sigterm_unwinds(), _warnings_as_lines():
                return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except MirageError as exc:
            _fail(ctx, exc, cli_message(str(exc)), EXIT_ERROR)
        except KeyboardInterrupt as exc:
            _fail(ctx, exc, "interrupted", EXIT_INTERRUPTED)
        except Terminated as exc:
            _fail(ctx, exc, "terminated (SIGTERM)", EXIT_TERMINATED)
        except Exception as exc:
            message = f"unexpected {type(exc).__name__}: {exc}"
            if not UI.of(ctx).debug:
                message += "; run with --debug for the traceback"
            _fail(ctx, exc, message, EXIT_UNEXPECTED)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        if not standalone:
            return super().main(*args, **kwargs)
        try:
            code = super().main(*args, **kwargs)
        except _CLICK_EXCEPTION as exc:
            _usage_error(exc)
        except typer.Abort:
            _print_error("aborted")
            sys.exit(EXIT_UNEXPECTED)
        sys.exit(code if isinstance(code, int) else 0)


def _print_error(message: str) -> None:
    UI().err.print(Text(f"error: {message}", style="red"), soft_wrap=True)


def _usage_error(exc: Any) -> NoReturn:
    """Click's usage errors as one line naming the help command; ``no_args_is_help`` has shown help."""
    code = int(getattr(exc, "exit_code", EXIT_ERROR))
    if type(exc).__name__ != "NoArgsIsHelpError":
        message = " ".join(line.strip() for line in exc.format_message().splitlines() if line.strip())
        message = message.rstrip(".")
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            message += f" (see '{ctx.command_path} --help')"
        _print_error(message)
    sys.exit(code)


def _fail(ctx: typer.Context, exc: BaseException, message: str, code: int) -> NoReturn:
    ui = UI.of(ctx)
    if ui.debug:
        traceback.print_exception(exc, file=sys.stderr)
    ui.err.print(Text(f"error: {message}", style="red"), soft_wrap=True)
    raise typer.Exit(code) from exc
