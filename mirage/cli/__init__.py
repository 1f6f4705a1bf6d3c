"""The ``mirage`` command: one module per subcommand, each with a ``register(app)`` function.

Errors are mapped to one line and an exit code in :mod:`mirage.cli._group`.  Start-up imports only
typer and rich; each command imports pandas, the engines or the evaluation when it runs.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from mirage._version import __version__
from mirage.cli._group import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_UNEXPECTED, MirageGroup
from mirage.cli._ui import UI, DebugOption, QuietOption

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "EXIT_UNEXPECTED",
    "app",
    "main",
]

app = typer.Typer(
    cls=MirageGroup,
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
    debug: DebugOption = False,
    quiet: QuietOption = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    ctx.obj = UI(debug=debug, quiet=quiet)


# Each module mirage/cli/<name>.py defines ``register(app: typer.Typer) -> None``, called in this order.
COMMANDS = [
    "schema",
    "fit",
    "sample",
    "augment",
    "impute",
    "report",
    "info",
    "budget",
    "demo",
    "simulate",
    "generate",
    "spec",
    "serve",
]
for _name in COMMANDS:
    importlib.import_module(f"mirage.cli.{_name}").register(app)


def main() -> None:
    """Run the ``mirage`` command (the console-script entry point)."""
    try:
        app(prog_name="mirage")
    except KeyboardInterrupt:  # before or after a command runs (during one, the group handles it)
        sys.exit(EXIT_INTERRUPTED)
