"""``mirage sample``: draw synthetic rows from a model file."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from mirage.cli._options import check_output, row_count
from mirage.cli._ui import UI, DebugOption, QuietOption, cell, row_progress
from mirage.errors import OptionError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

__all__ = ["PREVIEW_MAX_ROWS", "parse_fair", "parse_rebalance", "register", "rows_table"]

PREVIEW_MAX_ROWS = 1000


def rows_table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for name in frame.columns:
        table.add_column(str(name))
    for row in frame.itertuples(index=False, name=None):
        table.add_row(*(cell(value) for value in row))
    return table


def parse_rebalance(items: list[str]) -> dict[str, dict[str, float]]:
    """``COLUMN:VALUE=SHARE`` items (``income:>50K=0.5``) as ``{column: {value: share}}``."""
    shares: dict[str, dict[str, float]] = {}
    for item in items:
        column, colon, rest = item.partition(":")
        value, equals, share = rest.rpartition("=")
        if not colon or not equals or not column or not value:
            # an unquoted '>' in a shell makes "income:" of "income:>50K=0.5" and a file named 50K=0.5
            redirected = colon and not rest
            hint = "; quote it, a > outside quotes redirects the output in a shell" if redirected else ""
            raise OptionError(
                f"--rebalance {item!r}: expected COLUMN:VALUE=SHARE, e.g. 'income:>50K=0.5'{hint}"
            )
        try:
            number = float(share)
        except ValueError:
            raise OptionError(f"--rebalance {item!r}: the share {share!r} is not a number") from None
        shares.setdefault(column, {})[value] = number
    return shares


def parse_fair(item: str) -> dict[str, Any]:
    """``OUTCOME:PROTECTED[,PROTECTED...]`` (``income:sex``, ``income:sex,race``) as ``{"outcome": ...,
    "protected": column or [columns]}``."""
    outcome, colon, protected = item.partition(":")
    names = protected.split(",")
    if not colon or not outcome or not all(names) or ":" in protected:
        raise OptionError(f"--fair {item!r}: expected OUTCOME:PROTECTED, e.g. income:sex or income:sex,race")
    return {"outcome": outcome, "protected": names[0] if len(names) == 1 else names}


def _with_flag(error: OptionError, flag: str) -> OptionError:
    return OptionError(f"{flag}: {error}")


def sample_command(
    ctx: typer.Context,
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file written by mirage fit.")],
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows",
            "-n",
            parser=row_count,
            metavar="ROWS",
            help="Number of rows to draw: 1000000, 1_000_000, 1,000,000 or 1e6 (a table's model).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (.csv, .tsv, .parquet, .jsonl), - for CSV on standard output, or a new "
            "database (sqlite:///out.db, postgresql://user@host/db); without it up to "
            f"{PREVIEW_MAX_ROWS} rows are shown as a table.  A database's model: a new database or a folder.",
            show_default=False,
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(help="A database's model: root rows as a multiple of the learned ones (default 1.0)."),
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Write a folder: a database's model, csv (default) or parquet; a table's model, partitioned "
            "parquet (default) or csv, one file per million rows and _SUCCESS last.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="A table's model: draw on a local Dask cluster of N processes, to the folder -o (or "
            "the one file -o rows.csv / rows.parquet, its parts joined).",
        ),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="A table's model: draw on the Dask cluster at ADDRESS (tcp://scheduler:8786), to the "
            "folder -o.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Same seed, same rows (random when not given)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    where: Annotated[
        str | None,
        typer.Option(
            help='Conditions every row meets, e.g. "is_fraud == true and age >= 30" (==, !=, >=, <=, >, <, '
            "in a list of values, between a and b, is null, is not null, joined by and).",
        ),
    ] = None,
    rebalance: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COLUMN:VALUE=SHARE",
            help="Exact share of the rows for a value, e.g. 'income:>50K=0.5', or for a range of a numeric "
            "or date column, e.g. 'age:18..30=0.5' (both ends included, either may be left out; repeatable); "
            "the column's other values share the rest as learned.",
        ),
    ] = None,
    fair: Annotated[
        str | None,
        typer.Option(
            metavar="OUTCOME:PROTECTED[,PROTECTED]",
            help="Draw OUTCOME independent of PROTECTED, e.g. income:sex (each pair of values gets "
            "n * P(protected) * P(outcome) rows); several protected columns, e.g. income:sex,race, "
            "make it independent of their combinations.",
        ),
    ] = None,
    table_name: Annotated[
        str | None,
        typer.Option(
            "--table",
            metavar="NAME",
            help="A table's model written to a database (-o sqlite:///out.db): the table's name (default: "
            "the model file's name).",
            show_default=False,
        ),
    ] = None,
    entities: Annotated[
        int | None,
        typer.Option(
            parser=row_count, metavar="N", help="A sequence model: number of whole histories to draw."
        ),
    ] = None,
    context: Annotated[
        Path | None,
        typer.Option(
            help="A sequence model fitted with --context: one row per entity to draw a history for."
        ),
    ] = None,
    first: Annotated[
        Path | None,
        typer.Option(
            help="An argn sequence model: one row per history holding values its first event takes "
            "(columns that change along a history); matched to --context rows by the entity key, else by "
            "position.",
            show_default=False,
        ),
    ] = None,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Draw synthetic rows from a model file, to a file or as a table; a whole database from a database's
    model."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    from mirage.cli._sequential import is_sequence_model, sample_sequences

    if is_sequence_model(model_path):
        drawn = secrets.randbits(63) if seed is None else seed
        target = None if output is None else Path(output)
        sample_sequences(ui, model_path, entities, context, target, drawn, force, first=first)
        _tell_seed(ui, seed, drawn)
        return
    if entities is not None or context is not None:
        raise OptionError("--entities and --context go with a sequence model; give --rows")
    if first is not None:
        raise OptionError("--first goes with a sequence model fitted with --engine argn; give --rows")

    import pandas as pd

    import mirage
    from mirage._api import single_table
    from mirage.cli._database import is_relational_model, sample_database
    from mirage.io import output_dialect, write_chunks

    if model_path.is_file() and is_relational_model(model_path):
        drawn = secrets.randbits(63) if seed is None else seed
        given = seed is not None
        sample_database(
            ui,
            model_path,
            output,
            scale=scale,
            rows=rows,
            seed=drawn,
            seed_given=given,
            force=force,
            file_format=file_format,
        )
        return
    if scale is not None:
        raise OptionError(f"--scale applies to a database's model; {model_path} holds a table's (use --rows)")
    if rows is None:
        raise OptionError("give --rows N: the number of rows to draw")
    if file_format is not None or workers is not None or cluster is not None:
        from mirage.cli._scale import sample_partitioned

        extra = [flag for flag, value in (("--rebalance", rebalance), ("--fair", fair)) if value]
        sample_partitioned(
            ui,
            model_path,
            rows,
            output,
            file_format,
            seed,
            force,
            workers,
            cluster,
            refused=extra,
            where=where,
        )
        return
    if output is None and rows > PREVIEW_MAX_ROWS:
        raise OptionError(
            f"{rows:,} rows is too many to show (at most {PREVIEW_MAX_ROWS:,}); pass -o FILE to write them"
        )
    shares = parse_rebalance(rebalance) if rebalance else None
    fairness = parse_fair(fair) if fair is not None else None
    if shares is not None and fairness is not None:
        raise OptionError("--rebalance and --fair cannot be combined; give one of them")
    from mirage.io import is_database_url

    to_database = output is not None and is_database_url(output)
    to_stdout = output == "-"
    if table_name is not None and not to_database:
        raise OptionError("--table names the table written to a database; give -o sqlite:///out.db")
    out = None if output is None or to_database or to_stdout else Path(output)
    if out is not None:
        check_output(out, force)
    model = single_table(mirage.load(model_path), model_path)
    control: dict[str, Any] = {}
    if where is not None:
        from mirage.control import parse_where

        try:
            control["conditions"] = parse_where(where, model)
        except OptionError as exc:
            raise _with_flag(exc, "--where") from None
    drawn_seed = secrets.randbits(63) if seed is None else seed
    if shares is not None or fairness is not None:
        from mirage.control._rebalance import controlled_chunks
        from mirage.engines._base import BLOCK_ROWS

        flag = "--rebalance" if shares is not None else "--fair"
        try:  # options checked here, before a row is drawn; the rows come in blocks
            sampled: Any = controlled_chunks(
                model, rows, seed=drawn_seed, context=None, rebalance=shares, fair=fairness,
                conditions=control.get("conditions"), block=BLOCK_ROWS,
            )  # fmt: skip
        except OptionError as exc:
            raise _with_flag(exc, flag) from None
    else:
        sampled = model.sample_chunks(rows, seed=drawn_seed, **control)
    if to_database:
        assert output is not None
        _sample_to_database(ui, model, model_path, sampled, rows, output, table_name, force)
        _tell_seed(ui, seed, drawn_seed)
        return
    if to_stdout:
        import sys

        from mirage.io import write_csv_stream

        write_csv_stream(
            row_progress(sampled, rows, ui, "sampling"), sys.stdout, dialect=output_dialect(model.schema_)
        )
        _tell_seed(ui, seed, drawn_seed)
        return
    if out is None:
        frame = pd.concat(list(sampled), ignore_index=True)
        ui.table(rows_table(frame, f"{rows:,} synthetic rows"))
        _tell_seed(ui, seed, drawn_seed)
        return
    start = time.perf_counter()
    chunks = row_progress(sampled, rows, ui, "sampling")
    written = write_chunks(chunks, out, force=force, dialect=output_dialect(model.schema_))
    seconds = time.perf_counter() - start
    rate = written / seconds if seconds > 0 else float("inf")
    ui.say(f"wrote {written:,} rows to {output} in {seconds:.2f} s ({rate:,.0f} rows/s)")
    _tell_seed(ui, seed, drawn_seed)


def _sample_to_database(
    ui: UI,
    model: Any,
    model_path: Path,
    sampled: Iterable[pd.DataFrame],
    rows: int,
    output: str,
    table_name: str | None,
    force: bool,
) -> None:
    from mirage.io import database_values, sql_types_of, write_table_chunks
    from mirage.schema import Table as DatabaseTable

    name = table_name if table_name is not None else model_path.name.split(".")[0]
    if not name.strip():
        raise OptionError("--table: give a table name that is not empty")
    table = DatabaseTable(name=name, schema=model.schema_, sql_types=sql_types_of(model.schema_))
    start = time.perf_counter()
    written = write_table_chunks(
        output,
        table,
        (database_values(chunk, model.schema_) for chunk in row_progress(sampled, rows, ui, "sampling")),
        force=force,
    )
    seconds = time.perf_counter() - start
    rate = written / seconds if seconds > 0 else float("inf")
    ui.say(f"wrote {written:,} rows to table {name!r} of {output} in {seconds:.2f} s ({rate:,.0f} rows/s)")


def _tell_seed(ui: UI, given: int | None, used: int) -> None:
    if given is None:
        ui.note(f"seed {used} (pass --seed {used} to draw the same rows again)")


def register(app: typer.Typer) -> None:
    app.command("sample")(sample_command)
