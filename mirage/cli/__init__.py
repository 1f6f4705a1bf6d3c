"""The ``mirage`` command: one module per subcommand, each with a ``register(app)`` function.

Errors are mapped here, once: a ``MirageError`` is one red ``error: ...`` line and exit code 2, an
unexpected exception one line and exit code 1 (tracebacks only with ``--debug``), Ctrl-C exit code 130.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Annotated, Any, NoReturn

import typer
from rich.text import Text
from typer.core import TyperGroup

from mirage._version import __version__
from mirage.cli._ui import UI
from mirage.errors import MirageError

__all__ = ["COMMANDS", "app", "main"]

EXIT_ERROR = 2
EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130

# Typer's own signals and usage errors, whether it uses click or its vendored copy of it.
_PASS_THROUGH: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    BrokenPipeError,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


class _MirageGroup(TyperGroup):
    """Turns exceptions raised by a command into one line on stderr and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except MirageError as exc:
            _fail(ctx, exc, str(exc), EXIT_ERROR)
        except KeyboardInterrupt as exc:
            _fail(ctx, exc, "interrupted", EXIT_INTERRUPTED)
        except Exception as exc:
            message = f"unexpected {type(exc).__name__}: {exc}"
            if not ctx.params.get("debug"):
                message += "; run with --debug for the traceback"
            _fail(ctx, exc, message, EXIT_UNEXPECTED)


def _fail(ctx: typer.Context, exc: BaseException, message: str, code: int) -> NoReturn:
    ui = UI.of(ctx)
    if ctx.params.get("debug"):
        traceback.print_exception(exc, file=sys.stderr)
    ui.err.print(Text(f"error: {message}", style="red"), soft_wrap=True)
    raise typer.Exit(code) from exc


app = typer.Typer(
    cls=_MirageGroup,
    help="Mirage: learn a table, generate synthetic rows, check how close they are.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mirage {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks of errors.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars or status messages.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    ctx.obj = UI(debug=debug, quiet=quiet)


# Each module mirage/cli/<name>.py defines ``register(app: typer.Typer) -> None``, called in this order.
COMMANDS = ["schema", "fit", "sample", "impute", "report", "info", "demo"]
for _name in COMMANDS:
    importlib.import_module(f"mirage.cli.{_name}").register(app)


def main() -> None:
    """Run the ``mirage`` command (the console-script entry point)."""
    try:
        app(prog_name="mirage")
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
