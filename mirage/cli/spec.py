"""``mirage spec``: a fitted model or a schema as an editable spec (YAML or JSON) for ``mirage generate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mirage.cli._options import check_output, row_count
from mirage.cli._ui import UI, DebugOption, QuietOption
from mirage.errors import OptionError

if TYPE_CHECKING:
    from mirage.schema import DatabaseSchema, Schema

__all__ = ["register"]


def spec_command(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Spec file to write (.yaml, .yml or .json).")
    ],
    model_path: Annotated[
        Path | None,
        typer.Argument(
            metavar="[MODEL]", help="A copula or cart model file written by mirage fit.", show_default=False
        ),
    ] = None,
    from_schema: Annotated[
        Path | None,
        typer.Option(
            "--from-schema",
            help="Start from a schema JSON file (mirage schema; a table's or a database's), not a model.",
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
            help="Rows the spec declares (root tables).",
            show_default=False,
        ),
    ] = None,
    min_share: Annotated[
        float, typer.Option(help="A model's categories rarer than this share are dropped from the spec.")
    ] = 0.01,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the rows the model draws for the spec.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing spec file.")] = False,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write a spec: a model's structure with coarsened statistics (no real rows), or a schema's skeleton."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    if (model_path is None) == (from_schema is None):
        raise OptionError("give a MODEL file or --from-schema SCHEMA.json (one of them)")
    if output.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise OptionError(f"--output {str(output)!r}: a spec file is .yaml, .yml or .json")
    check_output(output, force)
    from mirage.spec import spec_from_model, spec_from_schema, write_spec

    if from_schema is not None:
        spec = spec_from_schema(_schema(from_schema), rows=rows if rows is not None else 1000)
        write_spec(spec, output, force=force)
        ui.say(f"wrote {output}: a starting spec for {len(spec['tables'])} table(s); edit its distributions")
        return
    assert model_path is not None
    import mirage
    from mirage._api import single_table

    model = single_table(mirage.load(model_path), model_path)
    try:
        spec = spec_from_model(model, rows=rows, seed=seed, min_share=min_share, table=model_path.stem)
    except OptionError as exc:
        raise OptionError(f"{model_path}: {exc}") from None
    write_spec(spec, output, force=force)
    table = next(iter(spec["tables"].values()))
    ui.say(
        f"wrote {output}: {len(table['columns'])} columns, coarsened from rows the model drew "
        "(no training rows read)"
    )


def _schema(path: Path) -> Schema | DatabaseSchema:
    from mirage.schema import DatabaseSchema, Schema
    from mirage.schema._schema import load_json_file, parse_json

    data = load_json_file(path, "schema", lambda text: parse_json(text, "schema"))
    if isinstance(data, dict) and "tables" in data:
        return DatabaseSchema.from_dict(data)
    return Schema.from_dict(data)


def register(app: typer.Typer) -> None:
    app.command("spec")(spec_command)
