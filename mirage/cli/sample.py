"""``mirage sample``: draw synthetic rows from a model file."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mirage.cli._options import check_output, row_count
from mirage.cli._ui import UI, DebugOption, QuietOption, cell, row_progress
from mirage.errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PREVIEW_MAX_ROWS", "register", "rows_table"]

PREVIEW_MAX_ROWS = 1000


def rows_table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for name in frame.columns:
        table.add_column(str(name))
    for row in frame.itertuples(index=False, name=None):
        table.add_row(*(cell(value) for value in row))
    return table


def sample_command(
    ctx: typer.Context,
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file written by mirage fit.")],
    rows: Annotated[
        int,
        typer.Option(
            "--rows",
            "-n",
            parser=row_count,
            metavar="ROWS",
            help="Number of rows to draw: 1000000, 1_000_000, 1,000,000 or 1e6.",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help=f"File to write (.csv, .tsv, .parquet, .jsonl); without it up to {PREVIEW_MAX_ROWS} rows "
            "are shown as a table.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Same seed, same rows (random when not given)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Draw synthetic rows from a model file, to a file or as a table."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    import mirage
    from mirage._api import single_table
    from mirage.io import write_chunks

    if output is None and rows > PREVIEW_MAX_ROWS:
        raise OptionError(
            f"{rows:,} rows is too many to show (at most {PREVIEW_MAX_ROWS:,}); pass -o FILE to write them"
        )
    if output is not None:
        check_output(output, force)
    model = single_table(mirage.load(model_path), model_path)
    drawn_seed = secrets.randbits(63) if seed is None else seed
    if output is None:
        ui.table(rows_table(model.sample(rows, seed=drawn_seed), f"{rows:,} synthetic rows"))
        _tell_seed(ui, seed, drawn_seed)
        return
    start = time.perf_counter()
    chunks = row_progress(model.sample_chunks(rows, seed=drawn_seed), rows, ui, "sampling")
    written = write_chunks(chunks, output, force=force, dialect=model.schema_.extra.get("csv"))
    seconds = time.perf_counter() - start
    rate = written / seconds if seconds > 0 else float("inf")
    ui.say(f"wrote {written:,} rows to {output} in {seconds:.2f} s ({rate:,.0f} rows/s)")
    _tell_seed(ui, seed, drawn_seed)


def _tell_seed(ui: UI, given: int | None, used: int) -> None:
    if given is None:
        ui.note(f"seed {used} (pass --seed {used} to draw the same rows again)")


def register(app: typer.Typer) -> None:
    app.command("sample")(sample_command)
