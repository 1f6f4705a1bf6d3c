"""``mirage fit``: learn a table and save the model file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperCommand, TyperOption

from mirage.cli._options import (
    check_hyperparameters,
    check_output,
    engine_named,
    parse_params,
    read_options,
    resolve_engine,
    say_auto_pick,
)
from mirage.cli._ui import (
    UI,
    DebugOption,
    EncodingOption,
    OnBadLinesOption,
    QuietOption,
    fit_progress,
)
from mirage.cli.budget import budget_line
from mirage.engines._registry import ENGINES
from mirage.errors import OptionError

__all__ = ["register"]

PARAM_HELP = "Engine hyperparameter, or the encoding option rare_min_count, as key=value (repeatable)."


def _engine_params() -> str:
    names = {name: ENGINES.unchecked(name)._param_names() for name in sorted(ENGINES)}
    return "; ".join(f"{name}: {', '.join(params)}" for name, params in names.items())


class _FitCommand(TyperCommand):
    """Lists each engine's hyperparameters in ``--help`` only, so that start-up imports no engine."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.params:
            if isinstance(param, TyperOption) and param.name == "param":
                param.help = f"{PARAM_HELP} {_engine_params()}"
        super().format_help(ctx, formatter)


def fit_command(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Argument(
            help="Table to learn (.csv, .tsv, .parquet, .jsonl, .xlsx), or a whole database: a URL "
            "(sqlite:///shop.db, postgresql://user@host/shop) or a folder of table files.",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write, e.g. model.mirage.")],
    engine: Annotated[
        str, typer.Option(help=f"Engine: auto or one of {', '.join(sorted(ENGINES))}.")
    ] = "auto",
    schema: Annotated[
        Path | None,
        typer.Option(help="Schema JSON from mirage schema (inferred, or reflected, when not given)."),
    ] = None,
    holdout: Annotated[
        float | None,
        typer.Option(
            help="Fraction of rows kept aside, never learned, for the privacy checks of the report."
        ),
    ] = None,
    split_seed: Annotated[int, typer.Option(help="Seed of the holdout split.")] = 0,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed of the engine's randomness (engine default: 0).")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help=PARAM_HELP)] = None,
    epsilon: Annotated[
        float | None,
        typer.Option(help="Differential privacy budget of the fit (engine dp; with auto, picks dp)."),
    ] = None,
    delta: Annotated[
        float | None, typer.Option(help="Differential privacy delta (engine dp; default 1e-9).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing model file.")] = False,
    context: Annotated[
        Path | None,
        typer.Option(
            help="With a sequence schema: one row per entity (its key and the columns to condition on)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Fit on a local Dask cluster of N processes (a file or a glob of them)."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(metavar="ADDRESS", help="Fit on the Dask cluster at ADDRESS (tcp://scheduler:8786)."),
    ] = None,
    sample_rows: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Partitioned data (a glob, --workers, --cluster): the uniform sample of rows an engine "
            "other than copula fits on (default 100,000).",
        ),
    ] = None,
    on_bad_lines: OnBadLinesOption = "error",
    encoding: EncodingOption = None,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Learn a table, or a whole database of related tables, and save the model file."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    reading = read_options(on_bad_lines, encoding)

    import mirage
    from mirage.cli._sequential import fit_sequences, is_sequence_schema_file
    from mirage.engines._base import require_training_rows
    from mirage.io import read_table
    from mirage.schema import Schema

    if schema is not None and is_sequence_schema_file(schema):
        options = (param or [], force, reading, engine, holdout, split_seed)
        fit_sequences(ui, Path(data), schema, context, output, seed, *options)
        return
    if context is not None:
        raise OptionError("--context goes with a sequence schema (mirage schema --entity ID --order TIME)")
    check_output(output, force)
    hyperparameters = _hyperparameters(param or [], seed)
    for name, value in (("epsilon", epsilon), ("delta", delta)):
        if value is not None:
            if name in hyperparameters and hyperparameters[name] != value:
                raise OptionError(f"--{name} and --param {name}=... disagree; give only one")
            hyperparameters[name] = value
    if engine == "auto" and (epsilon is not None or delta is not None):
        engine = "dp"  # a privacy budget asks for the engine that spends one
    encoding_options = _encoding_options(hyperparameters)
    if engine != "auto":
        check_hyperparameters(engine_named(engine), hyperparameters)
    if holdout is not None and not 0.0 < holdout < 1.0:
        raise OptionError(f"--holdout must be a fraction strictly between 0 and 1, got {holdout}")
    from mirage.scale._partitions import is_pattern
    from mirage.scale._remote import is_url

    globbed = is_pattern(data) and "://" not in data and not Path(data).exists()  # not a URL, not a file
    if workers is not None or cluster is not None or globbed or is_url(data) or sample_rows is not None:
        from mirage.cli._scale import fit_partitioned

        fit_partitioned(
            ui,
            data,
            output,
            engine=engine,
            schema_path=schema,
            hyperparameters=hyperparameters,
            encoding_options=encoding_options,
            holdout=holdout,
            split_seed=split_seed,
            force=force,
            reading=reading,
            workers=workers,
            cluster=cluster,
            sample_rows=sample_rows,
        )
        return
    from mirage.cli._database import fit_database, is_database_source

    if is_database_source(data):
        fit_database(
            ui,
            data,
            output,
            engine=engine,
            schema_path=schema,
            hyperparameters=hyperparameters,
            encoding_options=encoding_options,
            holdout=holdout,
            split_seed=split_seed,
            force=force,
            reading=reading,
        )
        return
    user_schema = Schema.load(schema) if schema is not None else None
    frame = read_table(data, **reading)
    n_rows = len(frame)
    learned = frame
    if holdout is not None:  # auto picks, and the summary speaks, from the rows learned
        from mirage.evaluation._holdout import split_holdout

        learned, _ = split_holdout(frame, holdout, split_seed)
    require_training_rows(len(learned), holdout=holdout, kept=n_rows - len(learned))
    engine = resolve_engine(engine, learned, hyperparameters)
    del learned
    start = time.perf_counter()
    with fit_progress(ui):
        model = mirage.fit(
            frame,
            engine=engine,
            schema=user_schema,
            holdout=holdout,
            split_seed=split_seed,
            read_options=reading,
            source=data,
            encoding_options=encoding_options,
            **hyperparameters,
        )
    seconds = time.perf_counter() - start
    say_auto_pick(model, ui)
    model.save(output, force=force)
    if ui.quiet:
        return
    summary = Table.grid(padding=(0, 2))
    summary.add_row("rows", f"{model.n_training_rows_:,}")
    if holdout is not None:
        summary.add_row("holdout", f"{n_rows - model.n_training_rows_:,} rows kept aside")
    summary.add_row("columns", str(len(model.schema_)))
    summary.add_row("engine", model.name)
    checked = getattr(model, "training_", {}).get("guard")
    if checked is not None:
        from mirage.engines._guard import outcome

        summary.add_row("privacy check", outcome(checked))
    ledger = getattr(model, "ledger_", None)
    if ledger is not None:
        summary.add_row("privacy", budget_line(ledger.to_dict()))
    summary.add_row("seconds", f"{seconds:.2f}")
    summary.add_row("model", str(output))
    ui.table(summary)


def _encoding_options(params: dict[str, Any]) -> Any:
    """The ``EncodingOptions`` that ``--param rare_min_count=N`` sets, taken out of ``params`` (None when
    no --param names an encoding option)."""
    from mirage.engines._base import ENCODING_OPTIONS

    given = {k: params.pop(k) for k in ENCODING_OPTIONS if k in params}
    if not given:
        return None
    from mirage.encoding import EncodingOptions
    from mirage.engines._params import RARE_MIN_COUNT

    for name, value in given.items():
        problem = RARE_MIN_COUNT.problem(value)
        if problem is not None:
            raise OptionError(f"--param {name} {problem}")
    return EncodingOptions(**given)


def _hyperparameters(items: list[str], seed: int | None) -> dict[str, Any]:
    params = parse_params(items)
    if seed is not None:
        if "seed" in params and params["seed"] != seed:
            raise OptionError("--seed and --param seed=... disagree; give only one")
        params["seed"] = seed
    return params


def register(app: typer.Typer) -> None:
    app.command("fit", cls=_FitCommand)(fit_command)
