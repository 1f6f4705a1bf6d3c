"""``mirage impute``: fill the missing cells of a table from a model that can condition on any columns."""

from __future__ import annotations

import secrets
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from mirage.cli._options import check_output, read_options
from mirage.cli._ui import (
    UI,
    DebugOption,
    EncodingOption,
    OnBadLinesOption,
    QuietOption,
)
from mirage.errors import OptionError

__all__ = ["register"]


def impute_command(
    ctx: typer.Context,
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file written by mirage fit.")],
    data: Annotated[
        Path, typer.Argument(metavar="DATA", help="Table with missing cells (.csv, .parquet, ...).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write the completed table to.")],
    seed: Annotated[
        int | None, typer.Option(min=0, help="Same seed, same imputations (random when not given).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    on_bad_lines: OnBadLinesOption = "error",
    encoding: EncodingOption = None,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fill the missing cells of DATA's learned columns, each drawn given the rest of its row."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    reading = read_options(on_bad_lines, encoding)

    import mirage
    from mirage._api import single_table
    from mirage.io import dialect_as_read, read_table, write_chunks

    check_output(output, force)
    if not zipfile.is_zipfile(model_path) and zipfile.is_zipfile(data):
        raise OptionError(
            f"'{model_path}' is not a model file but '{data}' is: the model comes first "
            f"(mirage impute {data} {model_path} -o ...)"
        )
    model = single_table(mirage.load(model_path), model_path)
    if not model.get_tags().impute:
        from mirage.engines import engines_with

        able = " or ".join(f"--engine {name}" for name in engines_with("impute"))
        raise OptionError(
            f"the {model.name} engine cannot impute; fit the model with {able} to fill missing cells"
        )
    frame = read_table(data, **reading)
    holes = {name: int(frame[name].isna().sum()) for name in model.schema_.names if name in frame.columns}
    used = secrets.randbits(63) if seed is None else seed
    filled = model.impute(frame, seed=used)
    write_chunks(filled, output, force=force, dialect=dialect_as_read(frame, model.schema_))
    total = sum(holes.values()) - sum(int(filled[name].isna().sum()) for name in holes)
    columns = ", ".join(f"{name} {count:,}" for name, count in holes.items() if count)
    ui.say(f"filled {total:,} missing cells ({columns or 'none'}) and wrote {len(filled):,} rows to {output}")
    if seed is None:
        ui.note(f"seed {used} (pass --seed {used} to draw the same values again)")


def register(app: typer.Typer) -> None:
    app.command("impute")(impute_command)
