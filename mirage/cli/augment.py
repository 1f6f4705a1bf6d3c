"""``mirage augment``: a real table topped up with synthetic rows of its minority class, flagged."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from mirage.cli._options import check_output, read_options
from mirage.cli._ui import UI, DebugOption, EncodingOption, OnBadLinesOption, QuietOption

__all__ = ["register"]


def augment_command(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(metavar="REAL", help="The real table (.csv, .parquet, ...).")],
    model_path: Annotated[
        Path, typer.Option("--model", "-m", metavar="MODEL", help="Model file fitted on REAL's columns.")
    ],
    target: Annotated[str, typer.Option(help="The class column to top up.")],
    minority_share: Annotated[
        float, typer.Option(help="Share of the rows the minority class makes up afterwards, e.g. 0.3.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write the augmented table to.")],
    minority: Annotated[
        str | None, typer.Option(help="The class to top up (default: the rarest value of --target).")
    ] = None,
    flag: Annotated[str, typer.Option(help="Column marking the synthetic rows (True).")] = "_synthetic",
    seed: Annotated[
        int | None, typer.Option(min=0, help="Same seed, same rows (random when not given).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    on_bad_lines: OnBadLinesOption = "error",
    encoding: EncodingOption = None,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Add synthetic rows of REAL's minority class (drawn from MODEL given the class) until it makes up
    --minority-share of the rows; the added rows are flagged in a column."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    reading = read_options(on_bad_lines, encoding)

    import mirage
    from mirage._api import single_table
    from mirage.control import augment
    from mirage.io import dialect_as_read, read_table, write_chunks

    check_output(output, force)
    model = single_table(mirage.load(model_path), model_path)
    real = read_table(data, **reading)
    used = secrets.randbits(63) if seed is None else seed
    out = augment(
        real, model, target=target, minority_share=minority_share, minority=minority, seed=used, flag=flag
    )
    write_chunks(out, output, force=force, dialect=dialect_as_read(real, model.schema_))
    synthetic = out[out[flag]]
    value = synthetic[target].iloc[0]
    share = float((out[target] == value).mean())
    ui.say(
        f"added {len(synthetic):,} synthetic rows of {target} = {value} to {len(real):,} real rows "
        f"(now {share:.3f} of {len(out):,} rows) and wrote {output}"
    )
    if seed is None:
        ui.note(f"seed {used} (pass --seed {used} to draw the same rows again)")


def register(app: typer.Typer) -> None:
    app.command("augment")(augment_command)
