"""``mirage generate``: data from a spec (YAML or JSON), without real data."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from mirage.cli._options import check_output, row_count
from mirage.cli._ui import UI, DebugOption, QuietOption, cell, row_progress
from mirage.errors import DataError, OptionError, OutputExistsError

if TYPE_CHECKING:
    from mirage.spec import Spec

__all__ = ["register"]

PREVIEW_MAX_ROWS = 1000
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl")


def generate_command(
    ctx: typer.Context,
    spec_path: Annotated[
        str,
        typer.Argument(
            metavar="SPEC",
            help="A spec file (.yaml, .yml or .json), or the name of a shipped example: shop, bank, clinic.",
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="A folder (one file per table), a database (sqlite:///out.db, postgresql://user@host/db), "
            f"or for a one-table spec a file (.csv, .tsv, .parquet, .jsonl) or - (CSV to standard output); "
            f"without it up to "
            f"{PREVIEW_MAX_ROWS} rows of a one-table spec are shown.",
            show_default=False,
        ),
    ] = None,
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows",
            "-n",
            parser=row_count,
            metavar="ROWS",
            help="Rows of a one-table spec (instead of its rows): 1000000, 1_000_000 or 1e6.",
            show_default=False,
        ),
    ] = None,
    scale: Annotated[
        float | None,
        typer.Option(help="Root tables' rows as a multiple of the spec's (children follow per parent row)."),
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="Files of a folder output: csv (default) or parquet.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Same seed, same data (random when not given).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Generate data from a spec: every table, keys valid, rules held; a one-table spec to a file."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    from mirage.io import is_database_url, output_dialect
    from mirage.spec import generate, generate_chunks, load_spec, resolve_spec_path

    spec = load_spec(resolve_spec_path(spec_path))
    if scale is not None and not scale > 0:
        raise OptionError(f"--scale must be a number above 0, got {scale:g}")
    if rows is not None and not spec.single:
        raise OptionError(
            f"--rows applies to a spec with one table; {spec_path} has {len(spec.tables)} "
            f"({', '.join(spec.tables)}): use --scale"
        )
    if file_format is not None and file_format not in ("csv", "parquet"):
        raise OptionError(f"--format must be csv or parquet, got {file_format!r}")
    drawn = secrets.randbits(63) if seed is None else seed
    database = output is not None and is_database_url(output)
    to_stdout = output == "-"
    to_file = output is not None and not database and Path(output).suffix.lower() in TABLE_SUFFIXES
    if file_format is not None and (database or to_file or to_stdout or output is None):
        raise OptionError("--format applies to a folder output")
    if to_stdout and not spec.single:
        raise OptionError(
            f"-o -: {spec_path} declares {len(spec.tables)} tables; standard output takes one table's CSV, "
            "so pass -o FOLDER or a database"
        )
    start = time.perf_counter()
    if spec.single and (output is None or to_file or to_stdout):
        name = next(iter(spec.tables))
        total = rows if rows is not None else _rows(spec, name, scale)
        chunks = generate_chunks(spec, seed=drawn, rows=rows, scale=scale)
        dialect = output_dialect(spec.tables[name].schema)  # the spec's date and number formats
        if output is None:
            if total > PREVIEW_MAX_ROWS:
                raise OptionError(
                    f"{total:,} rows is too many to show (at most {PREVIEW_MAX_ROWS:,}); pass -o FILE to "
                    "write them, or -n to draw fewer"
                )
            import pandas as pd

            from mirage.cli.sample import rows_table

            frame = pd.concat(list(chunks), ignore_index=True)
            ui.table(rows_table(frame, f"{len(frame):,} rows of {name}"))
            _tell_seed(ui, seed, drawn)
            return
        if to_stdout:
            import sys

            from mirage.io import write_csv_stream

            write_csv_stream(row_progress(chunks, total, ui, "generating"), sys.stdout, dialect=dialect)
            _tell_seed(ui, seed, drawn)
            return
        from mirage.io import write_chunks

        out = Path(output or "")
        check_output(out, force)
        progress = row_progress(chunks, total, ui, "generating")
        written = write_chunks(progress, out, force=force, dialect=dialect)
        _done(ui, written, 1, output or "", start)
        _tell_seed(ui, seed, drawn)
        return
    if output is None:
        raise OptionError(
            f"{spec_path} declares {len(spec.tables)} tables: pass -o FOLDER, -o sqlite:///out.db or "
            "-o postgresql://user@host/db"
        )
    if to_file:
        raise OptionError(
            f"-o {output}: a spec of several tables is written to a folder or a database, not to one file"
        )
    if not database:
        target = Path(output)
        if target.exists() and not force:
            raise OutputExistsError(f"output folder '{output}' already exists; pass --force to replace it")
        if not target.parent.is_dir():
            raise DataError(
                f"cannot write '{output}': folder '{target.parent}' does not exist; create it first"
            )
    result = generate(spec, seed=drawn, rows=rows, scale=scale)
    frames = result if isinstance(result, dict) else {next(iter(spec.tables)): result}
    from mirage.io import write_database, write_folder

    if database:
        write_database(output, spec.database, frames, force=force)
    else:
        write_folder(output, spec.database, frames, format=file_format or "csv", force=force)
    if not ui.quiet:
        summary = RichTable(title="tables written")
        summary.add_column("table")
        summary.add_column("rows", justify="right")
        for name, frame in frames.items():
            summary.add_row(cell(name), f"{len(frame):,}")
        ui.table(summary)
    _done(ui, sum(len(f) for f in frames.values()), len(frames), output, start)
    _tell_seed(ui, seed, drawn)


def _rows(spec: Spec, name: str, scale: float | None) -> int:
    from mirage.spec._generate import table_rows

    return table_rows(spec, name, scale=scale)


def _done(ui: UI, rows: int, tables: int, output: str, start: float) -> None:
    seconds = time.perf_counter() - start
    rate = rows / seconds if seconds > 0 else float("inf")
    what = "table" if tables == 1 else "tables"
    ui.say(f"wrote {rows:,} rows in {tables} {what} to {output} in {seconds:.2f} s ({rate:,.0f} rows/s)")


def _tell_seed(ui: UI, given: int | None, used: int) -> None:
    if given is None:
        ui.note(f"seed {used} (pass --seed {used} to generate the same data again)")


SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def is_spec_argument(path: Path) -> bool:
    """Whether a command's first argument is a spec: a YAML or JSON file, or a shipped example's name."""
    from mirage.spec import EXAMPLES

    return path.suffix.lower() in SPEC_SUFFIXES or (not path.is_file() and str(path) in EXAMPLES)


def report_spec(ui: UI, inputs: list[str], output: Path | None, *, force: bool, seed: int) -> None:
    """``mirage report SPEC DATA [-o checks.json]``: does the data match what the spec declares?"""
    from mirage.spec import check_spec, load_spec, read_spec_data, resolve_spec_path

    if len(inputs) != 2:
        raise OptionError("give a spec and the data generated from it: mirage report SPEC DATA")
    if output is not None:
        if output.suffix.lower() != ".json":
            raise OptionError(f"--output {str(output)!r}: the checks of a spec are JSON; name it with .json")
        check_output(output, force)
    spec = load_spec(resolve_spec_path(inputs[0]))
    report = check_spec(spec, read_spec_data(spec, inputs[1]), seed=seed)
    if output is not None:
        report.to_json(output, force=force)
    if not ui.quiet:
        table = RichTable(title=f"checks of {inputs[1]} against {inputs[0]}")
        for name in ("check", "table", "subject", "test", "rows", "statistic", "p-value", "result"):
            table.add_column(name)
        for check in report.checks:
            result = {True: "pass", False: "FAIL", None: "skipped"}[check.passed]
            table.add_row(
                check.kind,
                check.table,
                check.subject,
                check.test,
                f"{check.n:,}" if check.n else "",
                "" if check.statistic is None else f"{check.statistic:.4g}",
                "" if check.p_value is None else f"{check.p_value:.3g}",
                result if not check.detail else f"{result}: {check.detail}",
            )
        ui.table(table)
    for note in report.notes:
        ui.note(note)
    ui.say(report.summary())
    if output is not None:
        ui.say(f"wrote {output}")
    if not report.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
