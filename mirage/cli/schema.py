"""``mirage schema``: infer the editable JSON schema of a table, of a folder of tables or of a database."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from mirage.cli._options import check_output, read_options
from mirage.cli._ui import (
    UI,
    DebugOption,
    EncodingOption,
    OnBadLinesOption,
    QuietOption,
    cell,
)

if TYPE_CHECKING:
    import pandas as pd

    from mirage.schema import Column, DatabaseSchema, Schema

__all__ = ["database_table", "register", "rules_table", "schema_table"]


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def _details(column: Column) -> str:
    from mirage.schema import Kind

    if column.kind is Kind.NUMERIC:
        what = "integer" if column.integer else "decimal"
        if column.decimals and not column.integer:
            what += f", {column.decimals} decimals"
        return f"{what}, {_number(column.minimum)} to {_number(column.maximum)}"
    if column.kind is Kind.CATEGORICAL:
        parts = [f"{len(column.categories)} categories"] if column.categories else []
        return ", ".join([*parts, "ordered"] if column.ordered else parts)
    if column.kind is Kind.DATETIME:
        return f"text as {column.datetime_format}" if column.datetime_format else "native datetimes"
    if column.kind is Kind.IDENTIFIER:
        return f"regenerated as {column.id_format}" if column.id_format else "regenerated"
    if column.kind is Kind.PII:
        return f"fake {column.pii_type} ({column.locale or 'default locale'})"
    if column.kind is Kind.TEXT:
        return "fake text of learned length"
    return ""


def schema_table(schema: Schema, title: str = "schema", notes: Mapping[str, str] | None = None) -> Table:
    """One row per column; ``notes``: more details of some columns (by name), from a fitted model."""
    table = Table(title=title)
    for header in ("name", "kind", "dtype", "nullable", "details"):
        table.add_column(header)
    for column in schema:
        table.add_row(
            cell(column.name),
            column.kind.value,
            cell(column.dtype),
            "yes" if column.nullable else "no",
            cell(", ".join(filter(None, [_details(column), (notes or {}).get(column.name, "")]))),
        )
    return table


def rules_table(schema: Schema, title: str = "suggested rules (hold on every row)") -> Table:
    """The schema's suggested rules, one a row, to accept by moving them into ``rules``."""
    table = Table(title=title)
    table.add_column("rule")
    table.add_column("kind")
    for rule in schema.suggested_rules:
        table.add_row(cell(rule.describe()), rule.name)
    if not schema.suggested_rules:
        table.add_row("none found", "")
    return table


def database_table(database: DatabaseSchema, frames: dict[str, pd.DataFrame], title: str = "tables") -> Table:
    """One row per table: its rows, columns, primary key and the foreign keys that leave it."""
    table = Table(title=title)
    for header in ("table", "rows", "columns", "primary key", "foreign keys"):
        table.add_column(header)
    for name in database.order():
        entry = database[name]
        references = [
            f"{', '.join(fk.columns)} -> {fk.parent}" + (" (nullable)" if fk.nullable else "")
            for fk in database.parents(name)
        ]
        table.add_row(
            cell(name),
            str(len(frames[name])),
            str(len(entry.schema)),
            cell(", ".join(entry.primary_key) or "none"),
            cell("; ".join(references) or "none"),
        )
    return table


def _write(output: Path, text: str, force: bool) -> None:
    from mirage.io import atomic_path

    with atomic_path(output, force=force) as temp:
        temp.write_text(text, encoding="utf-8")


def _database_command(
    ui: UI, source: str, output: Path | None, force: bool, locale: str | None, reading: dict[str, str]
) -> None:
    from mirage.errors import OptionError
    from mirage.io import infer_database_schema, is_database_url, read_database, read_folder

    if is_database_url(source):
        if reading:
            flag = "--on-bad-lines" if "on_bad_lines" in reading else "--encoding"
            raise OptionError(f"{flag} applies to files, not to the database {source}")
        database, frames = read_database(source, locale=locale)
    else:
        frames = read_folder(source, **reading)
        database = infer_database_schema(frames, locale=locale)
    text = database.to_json() + "\n"
    if output is None:
        typer.echo(text, nl=False)
        if not ui.quiet:
            ui.table(database_table(database, frames), err=True)
        return
    _write(output, text, force)
    if not ui.quiet:
        ui.table(database_table(database, frames))
    ui.say(f"wrote {output}; edit it (keys, foreign keys, column kinds), then pass it back with --schema")


def schema_command(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Argument(
            help="Table to describe (.csv, .tsv, .parquet, .jsonl, .xlsx), a folder of such files (one "
            "table each; keys and foreign keys inferred), or a database URL (sqlite:///shop.db, "
            "postgresql://user@host:port/shop; keys and foreign keys reflected).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here instead of to stdout.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    locale: Annotated[
        str | None,
        typer.Option(
            help="Locale of the fake values for personal data (default: read from e-mail domains, phone "
            "country codes and IBANs, else en_US)."
        ),
    ] = None,
    suggest_rules: Annotated[
        bool,
        typer.Option(
            "--suggest-rules",
            help="Propose business rules that hold on every row (inequalities between numeric or date "
            "columns, sums, a category that determines another) under suggested_rules; move those you "
            "accept into rules.",
        ),
    ] = False,
    entity: Annotated[
        str | None, typer.Option(help="Events per entity: the column naming the entity (with --order).")
    ] = None,
    order: Annotated[
        str | None, typer.Option(help="Events per entity: the timestamp or step column ordering them.")
    ] = None,
    on_bad_lines: OnBadLinesOption = "error",
    encoding: EncodingOption = None,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Infer the schema of a table, a folder of tables or a database as editable JSON.

    Edit the JSON (a column's kind, its bounds; a database's keys and foreign keys) and pass it to
    mirage fit with --schema.
    """
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    reading = read_options(on_bad_lines, encoding)

    from mirage.io import is_database_url, read_table
    from mirage.schema import infer_schema

    if output is not None:
        check_output(output, force)
    if entity is not None or order is not None:
        from mirage.cli._sequential import write_sequence_schema

        write_sequence_schema(ui, data, entity, order, output, force, locale, reading)
        return
    if is_database_url(data) or Path(data).is_dir():
        if suggest_rules:
            from mirage.errors import OptionError

            raise OptionError(
                "--suggest-rules works on one table; give a table file, not a folder or database"
            )
        _database_command(ui, data, output, force, locale, reading)
        return
    frame = read_table(data, **reading)
    schema = infer_schema(frame, locale=locale)
    if suggest_rules:
        from mirage.control import suggest_rules as suggest

        schema.suggested_rules = suggest(frame, schema)
    text = schema.to_json() + "\n"
    if output is None:
        typer.echo(text, nl=False)
        if not ui.quiet:
            ui.table(schema_table(schema), err=True)
            if suggest_rules:
                ui.table(rules_table(schema), err=True)
        return
    _write(output, text, force)
    if not ui.quiet:
        ui.table(schema_table(schema))
        if suggest_rules:
            ui.table(rules_table(schema))
    ui.say(f"wrote {output}; edit it, then: mirage fit {data} --schema {output} -o model.mirage")


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_command)
