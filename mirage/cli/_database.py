"""The database side of ``mirage fit``, ``sample``, ``report`` and ``info``: a whole database (a URL or a
folder of table files) learned into one model file, sampled into a new database or folder, scored
per table and across tables.  The commands dispatch here when their input is a database."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table as RichTable

from mirage.cli._options import check_output, exit_on_failed_gates, parse_named_gates
from mirage.cli._ui import UI, cell
from mirage.errors import DataError, OptionError, OutputExistsError

if TYPE_CHECKING:
    import pandas as pd

    from mirage.encoding import EncodingOptions
    from mirage.relational import RelationalSynthesizer
    from mirage.schema import DatabaseSchema

#: what ``fit``'s summary says of a database default (``mirage.relational.DATABASE_PARAMS``) in force
HELD_OUT_NOTES = {"quantiles": "knots chosen on held-out rows", "sub_bins": "bins chosen on held-out rows"}

__all__ = [
    "fit_database",
    "info_database",
    "is_database_source",
    "is_relational_model",
    "parse_database_gates",
    "recorded_source",
    "report_database",
    "sample_database",
]


def is_database_source(source: str) -> bool:
    """Whether ``source`` is a database URL or a folder of table files (rather than one table file)."""
    from mirage.io import is_database_url

    return is_database_url(source) or Path(source).is_dir()


def is_relational_model(path: Path) -> bool:
    """Whether the model file at ``path`` holds a whole database's model (read from its manifest; a
    file that is no model file is left to the single-table path, which says what is wrong with it)."""
    from mirage.errors import ModelFileError
    from mirage.model_file import read_manifest
    from mirage.relational import RELATIONAL

    try:
        return bool(read_manifest(path).get("engine") == RELATIONAL)
    except ModelFileError:
        return False


def recorded_source(source: str) -> str:
    """``source`` as the model file records it: a URL without its password (the report reconnects with
    the server's other means: ~/.pgpass, PGPASSWORD), a SQLite file or a folder as an absolute path."""
    from mirage.io import is_database_url

    if not is_database_url(source):
        return str(Path(source).resolve())
    import sqlalchemy as sa

    url = sa.engine.make_url(source)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    text: str = url.set(password=None).render_as_string(hide_password=False)
    return text


def read_source(
    source: str, schema_path: Path | None, reading: dict[str, str], ui: UI | None = None
) -> tuple[DatabaseSchema, dict[str, pd.DataFrame]]:
    """The tables at ``source`` (a database URL or a folder) and their schema: ``schema_path`` when
    given, else reflected from the database or inferred from the folder's files."""
    import warnings

    from mirage.io import infer_database_schema, is_database_url, read_database, read_folder
    from mirage.schema import DatabaseSchema

    database: DatabaseSchema | None = None
    if is_database_url(source):
        if reading:
            flag = "--on-bad-lines" if "on_bad_lines" in reading else "--encoding"
            raise OptionError(f"{flag} applies to files, not to the database {source}")
        database, frames = read_database(source)
    else:
        frames = read_folder(source, **reading)
    if schema_path is not None:
        database = DatabaseSchema.load(schema_path)
    elif database is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            database = infer_database_schema(frames)
        if ui is not None:
            ui.note(
                f"keys and foreign keys inferred from the files; check them with mirage schema {source} "
                "-o db.schema.json, edit, and pass --schema db.schema.json"
            )
    missing = [name for name in database.tables if name not in frames]
    if missing:
        raise DataError(f"{source} has no table {missing[0]!r}, which the schema names")
    return database, {name: frames[name] for name in database.tables}


# --- fit ------------------------------------------------------------------------------------------


def fit_database(
    ui: UI,
    source: str,
    output: Path,
    *,
    engine: str,
    schema_path: Path | None,
    hyperparameters: dict[str, Any],
    encoding_options: EncodingOptions | None,
    holdout: float | None,
    split_seed: int,
    force: bool,
    reading: dict[str, str],
) -> None:
    """``mirage fit DATABASE``: learn every table of the database or folder ``source``."""
    from mirage.cli._options import check_hyperparameters, engine_named
    from mirage.relational import DATABASE_PARAMS, DEFAULT_ENGINE, RelationalSynthesizer

    check_output(output, force)
    name = DEFAULT_ENGINE if engine == "auto" else engine
    check_hyperparameters(engine_named(name), hyperparameters)
    params = dict(hyperparameters)
    seed = int(params.pop("seed", 0))
    database, frames = read_source(source, schema_path, reading, ui)
    start = time.perf_counter()
    model = RelationalSynthesizer(database, engine=name, params=params, seed=seed)
    model.fit(frames, encoding_options=encoding_options, holdout=holdout, split_seed=split_seed)
    seconds = time.perf_counter() - start
    model.training_["source"] = recorded_source(source)
    if reading:
        model.training_["read_options"] = dict(reading)
    model.save(output, force=force)
    if ui.quiet:
        return
    ui.table(_tables_summary(model, frames))
    hidden = not_learned_table(model.database.order(), {n: p.to_dict() for n, p in model.plans_.items()})
    if hidden is not None:
        ui.table(hidden)
    summary = RichTable.grid(padding=(0, 2))
    how = ["auto: every table"] if engine == "auto" else []
    for param in DATABASE_PARAMS.get(name, {}):
        if param in HELD_OUT_NOTES and param not in hyperparameters:
            how.append(HELD_OUT_NOTES[param])
    summary.add_row("engine", name + (f" ({', '.join(how)})" if how else ""))
    if holdout is not None:
        summary.add_row("holdout", f"{holdout:.0%} of the root rows, with their descendants, kept aside")
    summary.add_row("seconds", f"{seconds:.2f}")
    summary.add_row("model", str(output))
    ui.table(summary)


def _tables_summary(model: RelationalSynthesizer, frames: dict[str, pd.DataFrame]) -> RichTable:
    table = RichTable(title="tables learned")
    held = model.training_.get("holdout_rows")
    headers = ["table", "rows", *(["held out"] if held else []), "learned", "columns", "given", "matched to"]
    for header in [*headers, "engine"]:
        table.add_column(header)
    for name in model.database.order():
        plan = model.plans_[name]
        engine = model.engines_[name]
        table.add_row(
            cell(name),
            f"{plan.rows:,}",
            *([f"{held[name]:,}"] if held else []),
            "model" if engine else "empty",
            str(len(model.database[name].schema)),
            cell(plan.primary.parent if plan.primary is not None else "-"),
            cell(", ".join(fk.parent for fk in plan.matched) or "-"),
            engine.name if engine is not None else "-",
        )
    del frames
    return table


def not_learned_table(order: list[str], plans: Mapping[str, Any]) -> RichTable | None:
    """The columns not learned one by one (None: there are none): references to a table the database
    lacks, regenerated (:mod:`mirage.relational._hidden`), and a column group learned as one hidden
    entity (:mod:`mirage.relational._groups`).  ``plans``: each table's saved plan (``TablePlan.to_dict``)."""
    rows: list[tuple[str, str, str]] = []
    for name in order:
        plan = plans.get(name)
        if not isinstance(plan, Mapping):
            continue
        hidden = plan.get("hidden") or {}
        for column, reference in hidden.items() if isinstance(hidden, Mapping) else []:
            values = reference.get("values", "?") if isinstance(reference, Mapping) else "?"
            rows.append(
                (
                    name,
                    column,
                    f"hidden reference: regenerated, not learned ({values} values in the data; it names "
                    "a table the database lacks)",
                )
            )
        group = plan.get("group")
        members = group.get("members") if isinstance(group, Mapping) else None
        if isinstance(members, list) and members:
            rows.append(
                (
                    name,
                    ", ".join(str(m) for m in members),
                    f"column group, learned as one hidden entity (decided by {members[0]})",
                )
            )
    if not rows:
        return None
    table = RichTable(title="columns not learned one by one")
    for header in ("table", "columns", "how"):
        table.add_column(header)
    for name, columns, how in rows:
        table.add_row(cell(name), cell(columns), how)
    return table


# --- sample ---------------------------------------------------------------------------------------


def sample_database(
    ui: UI,
    model_path: Path,
    output: str | None,
    *,
    scale: float | None,
    rows: int | None,
    seed: int,
    seed_given: bool,
    force: bool,
    file_format: str | None,
) -> None:
    """``mirage sample DATABASE_MODEL --scale S -o URL|FOLDER``: a new synthetic database."""
    from mirage.io import is_database_url, write_database, write_folder
    from mirage.relational import RelationalSynthesizer

    if rows is not None:
        raise OptionError(
            f"{model_path} holds a model of several related tables: --rows does not apply; pass --scale "
            "(2.0: twice as many root rows)"
        )
    if output is None:
        raise OptionError(
            f"{model_path} holds a model of several related tables: pass -o sqlite:///synthetic.db, "
            "-o postgresql://user@host/db or -o FOLDER"
        )
    if scale is not None and not scale > 0:
        raise OptionError(f"--scale must be a positive number, got {scale}")
    database_target = is_database_url(output)
    if database_target and file_format is not None:
        raise OptionError(f"--format applies to a folder output, not to the database {output}")
    if file_format is not None and file_format not in ("csv", "parquet"):
        raise OptionError(f"--format must be csv or parquet, got {file_format!r}")
    model = RelationalSynthesizer.load(model_path)
    source = model.training_.get("source")
    sources = [str(source)] if source else []
    if database_target:
        if source and is_database_url(str(source)) and _same_database(str(source), output):
            raise OutputExistsError(f"{output} is the database the model learned; write to a new database")
    else:
        target = Path(output)
        if source and target.resolve() == Path(str(source)).resolve():
            raise OutputExistsError(f"'{output}' is the folder the model learned; write to a new folder")
        if target.exists() and not force:
            raise OutputExistsError(f"output folder '{output}' already exists; pass --force to replace it")
        if not target.parent.is_dir():
            raise DataError(
                f"cannot write '{output}': folder '{target.parent}' does not exist; create it first"
            )
    start = time.perf_counter()
    frames = model.sample(scale=1.0 if scale is None else scale, seed=seed)
    if database_target:
        write_database(output, model.database, frames, force=force, sources=sources)
    else:
        write_folder(
            output, model.database, frames, format=file_format or "csv", force=force, sources=sources
        )
    seconds = time.perf_counter() - start
    if not ui.quiet:
        table = RichTable(title="tables written")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name in model.database.order():
            table.add_row(cell(name), f"{len(frames[name]):,}")
        ui.table(table)
    total = sum(len(frame) for frame in frames.values())
    ui.say(f"wrote {total:,} rows in {len(frames)} tables to {output} in {seconds:.2f} s")
    if not seed_given:
        ui.note(f"seed {seed} (pass --seed {seed} to draw the same database again)")


def _same_database(first: str, second: str) -> bool:
    from mirage.io._database import _url, source_id

    return source_id(_url(first)) == source_id(_url(second))


# --- info -----------------------------------------------------------------------------------------


def info_database(ui: UI, model_path: Path, manifest: dict[str, Any]) -> None:
    """``mirage info DATABASE_MODEL``: the model's tables, keys and how each is learned."""
    from mirage._manifest import edited_parts
    from mirage.relational import SMALL_TABLE_ROWS
    from mirage.schema import DatabaseSchema

    database = DatabaseSchema.from_dict(manifest["schema"])
    state = manifest.get("state", {})
    tables = state.get("tables", {})
    training = state.get("training", {})
    hyper = manifest.get("hyperparameters", {})
    grid = RichTable.grid(padding=(0, 2))
    grid.add_row("model", str(model_path))
    grid.add_row(
        "engine", f"relational ({len(database.tables)} tables, {len(database.foreign_keys)} foreign keys)"
    )
    grid.add_row(
        "written by",
        f"mirage {manifest.get('mirage_version', '?')} (model format {manifest.get('format_version', '?')})",
    )
    grid.add_row("table engine", cell(hyper.get("engine")))
    params = ", ".join(f"{k}={v!r}" for k, v in (hyper.get("params") or {}).items())
    grid.add_row("hyperparameters", (params or "none") + f"; seed {hyper.get('seed', 0)}")
    if "source" in training:
        grid.add_row("source", cell(training["source"]))
    if "holdout_fraction" in training:
        grid.add_row(
            "holdout",
            f"{float(training['holdout_fraction']):.0%} of the root rows with their descendants, "
            f"split seed {training.get('split_seed', 0)}",
        )
    else:
        grid.add_row("holdout", "none (fitted on all rows)")
    small = training.get("small_tables")
    if isinstance(small, Mapping) and small:
        grid.add_row(
            "small tables",
            ", ".join(f"{name} ({rows} rows learned)" for name, rows in small.items())
            + f": under {SMALL_TABLE_ROWS} rows, learned at a DCR share over 0.53 with any engine; "
            "mark public ones reference",
        )
    edited = edited_parts(manifest)
    grid.add_row("edited by hand", "unknown" if edited is None else ", ".join(sorted(edited)) or "no")
    ui.table(grid)
    table = RichTable(title="tables")
    for header in ("table", "training rows", "columns", "primary key", "foreign keys", "learned"):
        table.add_column(header)
    reference = set(training.get("reference_tables", []))
    for name in database.order():
        entry = tables.get(name, {})
        plan = entry.get("plan", {})
        engine = entry.get("engine")
        references = [
            f"{', '.join(fk.columns)} -> {fk.parent}" + (" (nullable)" if fk.nullable else "")
            for fk in database.parents(name)
        ]
        if name in reference:
            how = "copied as is (reference data)"
        elif isinstance(engine, dict):
            primary = next(
                (fk.parent for fk in database.foreign_keys if fk.name == plan.get("primary")), None
            )
            how = str(engine.get("engine")) + (f" given each {primary} row" if primary else "")
        else:
            how = "empty"
        table.add_row(
            cell(name),
            f"{int(plan.get('rows', 0)):,}",
            str(len(database[name].schema)),
            cell(", ".join(database[name].primary_key) or "none"),
            cell("; ".join(references) or "none"),
            cell(how),
        )
    ui.table(table)
    saved = {n: e.get("plan") if isinstance(e, dict) else None for n, e in tables.items()}
    hidden = not_learned_table(database.order(), saved)
    if hidden is not None:
        ui.table(hidden)


# --- report ---------------------------------------------------------------------------------------


def report_database(
    ui: UI,
    model_path: Path,
    output: Path,
    *,
    data: str | None,
    seed: int,
    fail_under: list[str],
    fail_over: list[str],
    force: bool,
    reading: dict[str, str],
) -> None:
    """``mirage report DATABASE_MODEL -o report.html``: each table's scores and the relational ones."""

    from mirage.cli._ui import fit_progress
    from mirage.evaluation._relational_report import evaluate_database
    from mirage.relational import RelationalSynthesizer

    under = parse_database_gates(fail_under, "--fail-under")
    over = parse_database_gates(fail_over, "--fail-over")
    if output.suffix.lower() not in (".html", ".htm"):
        raise OptionError(f"--output {str(output)!r}: the report is HTML; name it with .html")
    json_path = output.with_suffix(".json")
    check_output(output, force)
    check_output(json_path, force)
    model = RelationalSynthesizer.load(model_path)
    source = data or model.training_.get("source")
    if source is None:
        raise OptionError(f"{model_path} does not record where its data is; pass --data URL|FOLDER")
    from mirage.io import is_database_url

    if not is_database_url(str(source)) and not Path(str(source)).is_dir():
        raise DataError(f"the model's data {str(source)!r} is gone; pass its new place with --data")
    recorded = dict(model.training_.get("read_options") or {})
    _, frames = read_source(str(source), None, {**recorded, **reading})
    ui.note(f"sampling a database from {model_path} and scoring every table (a few seconds per table)")
    with fit_progress(ui):
        report = evaluate_database(model, frames, seed=seed)
        report.to_html(str(output), force=force)
        report.to_json(str(json_path), force=force)
    if not ui.quiet:
        ui.table(_report_summary(report.summary()))
    for line in report.notes:
        ui.note(line)
    ui.say(f"wrote {output} and {json_path}")
    exit_on_failed_gates(ui, report.check(under, over))


def parse_database_gates(items: list[str], option: str) -> dict[str, float]:
    """``NAME=VALUE`` gates of a database's report: a database score (cardinality_similarity), a table
    score for the worst table (quality) or for one (orders.quality)."""
    from mirage.evaluation._relational_report import check_gate_names

    return parse_named_gates(
        items, option, check_name=lambda name: check_gate_names([name]), example="cardinality_similarity=0.9"
    )


def _report_summary(summary: dict[str, Any]) -> RichTable:
    table = RichTable(title="synthetic database report")
    table.add_column("score")
    table.add_column("value", justify="right")
    for name, value in summary.items():
        table.add_row(name, "-" if value is None else f"{value:.4f}")
    return table
