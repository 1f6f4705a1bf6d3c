"""The event-sequence side of ``mirage schema``, ``fit``, ``sample`` and ``report``: a schema with an
entity key and an order column, a model of whole histories, histories drawn per entity."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mirage.cli._options import check_output, exit_on_failed_gates, parse_named_gates
from mirage.cli._ui import UI, row_progress
from mirage.errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fit_sequences", "is_sequence_model", "is_sequence_schema_file", "load_sequence_model"]
__all__ += ["model_name", "parse_sequence_gates", "report_sequence_files", "report_sequences"]
__all__ += ["sample_sequences", "write_sequence_schema"]


def is_sequence_schema_file(path: Path) -> bool:
    """Whether the schema JSON at ``path`` is a sequence schema (unreadable files are not: the
    single-table path reports them)."""
    from mirage.sequential import is_sequence_schema

    try:
        return is_sequence_schema(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False


def is_sequence_model(path: Path) -> bool:
    """Whether the model file at ``path`` holds a sequence model (either engine)."""
    from mirage.model_file import read_manifest
    from mirage.sequential import SEQUENTIAL, SEQUENTIAL_ARGN

    return read_manifest(path).get("engine") in (SEQUENTIAL, SEQUENTIAL_ARGN)


SEQUENCE_ENGINES = ("auto", "sequential", "argn")  # --engine with a sequence schema


def _sequence_model(engine: str, seed: int | None, params: list[str]) -> Any:
    """The unfitted sequence model ``--engine`` and ``--param key=value`` ask for."""
    from mirage.sequential import ArgnSequenceSynthesizer, SequenceSynthesizer

    if engine not in SEQUENCE_ENGINES:
        raise OptionError(
            f"--engine {engine!r}: a sequence schema is learned by sequential (cart per step, the "
            "default) or argn (a neural history encoder)"
        )
    options: dict[str, Any] = {}
    if engine == "argn":
        names = set(ArgnSequenceSynthesizer().get_params()) - {"seed"}
        for item in params:
            name, _, value = item.partition("=")
            if name not in names or not value:
                raise OptionError(
                    f"--param {item!r}: the argn sequence model takes {', '.join(sorted(names))} as key=value"
                )
            options[name] = _number(item, value)
        return ArgnSequenceSynthesizer(seed=seed or 0, **options)
    for item in params:
        name, _, value = item.partition("=")
        if name not in ("lags", "min_samples_leaf", "rare_min_count") or not value.lstrip("-").isdigit():
            raise OptionError(
                f"--param {item!r}: a sequence model takes lags=N, min_samples_leaf=N and rare_min_count=N"
            )
        options[name] = int(value)
    return SequenceSynthesizer(seed=seed or 0, **options)


def _number(item: str, value: str) -> int | float | None:
    if value.lower() == "none":
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        raise OptionError(f"--param {item!r}: the value must be a number (or none)") from None


def load_sequence_model(path: Path) -> Any:
    """The sequence model in the file at ``path``, whichever engine wrote it."""
    from mirage.model_file import read_manifest
    from mirage.sequential import SEQUENTIAL_ARGN, ArgnSequenceSynthesizer, SequenceSynthesizer

    if read_manifest(path).get("engine") == SEQUENTIAL_ARGN:
        return ArgnSequenceSynthesizer.load(path)
    return SequenceSynthesizer.load(path)


def write_sequence_schema(
    ui: UI,
    data: str,
    entity: str | None,
    order: str | None,
    output: Path | None,
    force: bool,
    locale: str | None,
    reading: dict[str, str],
) -> None:
    """``mirage schema events.csv --entity ID --order TIME``."""
    from mirage.io import atomic_path, read_table
    from mirage.sequential import infer_sequence_schema

    if entity is None or order is None:
        raise OptionError("--entity and --order go together: give the entity key and the order column")
    frame = read_table(data, **reading)
    for option, name in (("--entity", entity), ("--order", order)):
        if name not in frame.columns:
            raise OptionError(f"{option}: no column {name!r} in the event table")
    frame = checked_events(frame, entity, order, data, keep_offsets=True)
    schema = infer_sequence_schema(frame, entity, order, locale=locale)
    text = schema.to_json() + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    with atomic_path(output, force=force) as temp:
        temp.write_text(text, encoding="utf-8")
    entities = frame[entity].nunique()
    ui.say(f"wrote {output}: {len(frame):,} events of {entities:,} entities ({entity}), ordered by {order}")
    ui.say(f"then: mirage fit {data} --schema {output} -o events.mirage")


def _numeric(values: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype))


def checked_events(
    frame: pd.DataFrame,
    entity: str,
    order: str,
    source: str | Path,
    *,
    timestamped: bool | None = None,
    keep_offsets: bool = False,
) -> pd.DataFrame:
    """``frame``'s events, or a one-line error naming ``source`` and the column for what a sequence model
    cannot learn from: no rows, missing keys or order values, one entity, one event per entity.
    Timestamps written with UTC offsets come back as naive UTC times (the same instants), or as the
    text they are where ``keep_offsets`` (a schema and model then write times back at those offsets)."""
    if frame.empty:
        raise OptionError(
            f"{source} has no events (no rows under its header); a sequence model needs histories"
        )
    for role, name in (("entity", entity), ("order", order)):
        empty = frame[name].isna().to_numpy()
        if empty.any():
            raise OptionError(
                f"{source}: the {role} column {name!r} is empty in {int(empty.sum()):,} rows (first: row "
                f"{int(empty.argmax()) + 1}); drop those rows or fill them"
            )
    entities = frame[entity].nunique()
    if entities < 2:
        raise OptionError(
            f"{source} holds the history of one entity ({entity} {_plain(frame[entity].iloc[0])!r}); a "
            "sequence model learns from the histories of at least 2"
        )
    if entities == len(frame):
        raise OptionError(
            f"{source}: every {entity} has one event, so there are no histories to learn; model it as one "
            "table (mirage schema / fit without --entity and --order)"
        )
    if timestamped is not False and not _numeric(frame[order]):
        frame = _utc_times(frame, order, source, keep_offsets)
    return frame


def _utc_times(frame: pd.DataFrame, order: str, source: str | Path, keep_offsets: bool) -> pd.DataFrame:
    """``frame`` with an order column of text timestamps carrying UTC offsets as naive UTC times (left
    as text, once checked, where ``keep_offsets``)."""
    import pandas as pd

    values = frame[order]
    if pd.api.types.is_datetime64_any_dtype(values.dtype) and getattr(values.dt, "tz", None) is None:
        return frame
    text = values.astype(str)
    if not text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).any():
        return frame
    stamps = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
    bad = stamps.isna().to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise OptionError(
            f"{source}: the order column {order!r} holds {text.iloc[row]!r} in row {row + 1}, not a time"
        )
    return frame if keep_offsets else frame.assign(**{order: stamps.dt.tz_localize(None)})


def _check_fit_context(context: pd.DataFrame, events: pd.DataFrame, entity: str, path: Path) -> None:
    """One context row per entity of the events, keyed by the events' entity column."""
    if entity not in context.columns:
        raise OptionError(f"--context {path}: no column {entity!r} (the entity key of the events)")
    keys = context[entity]
    twice = keys[keys.duplicated()]
    if len(twice):
        raise OptionError(
            f"--context {path}: {entity} {_plain(twice.iloc[0])!r} has more than one row; give one per entity"
        )
    present = events[entity].drop_duplicates()
    missing = ~present.isin(keys)
    if missing.any():
        raise OptionError(
            f"--context {path}: no row for {int(missing.sum()):,} of the {len(present):,} entities ({entity} "
            f"{_plain(present[missing].iloc[0])!r}, ...); give one row per entity of the events"
        )


def _plain(value: Any) -> Any:
    """A NumPy scalar as the plain Python value it holds (so that messages read 3, not np.int64(3))."""
    return value.item() if hasattr(value, "item") else value


def fit_sequences(
    ui: UI,
    data: Path,
    schema_path: Path,
    context: Path | None,
    output: Path,
    seed: int | None,
    params: list[str],
    force: bool,
    reading: dict[str, str],
    engine: str = "auto",
    holdout: float | None = None,
    split_seed: int = 0,
) -> None:
    """``mirage fit events.csv --schema events.schema.json [--context entities.csv] [--engine argn]
    [--holdout 0.2]`` (a holdout of whole entities, which ``mirage report`` finds again)."""
    from mirage.evaluation._sequential import split_entities
    from mirage.io import read_table
    from mirage.sequential import SequenceSchema

    check_output(output, force)
    model = _sequence_model(engine, seed, params)
    schema = SequenceSchema.load(schema_path)
    events = read_table(data, **reading)
    for option, name in (("entity", schema.entity), ("order", schema.order)):
        if name not in events.columns:
            raise OptionError(f"{data}: no column {name!r} (the schema's {option} column)")
    written = schema.columns[schema.order].datetime_format is not None  # offsets kept in the format
    events = checked_events(
        events, schema.entity, schema.order, data, timestamped=schema.timestamped, keep_offsets=written
    )
    if holdout is not None:
        try:
            events, _ = split_entities(events, schema.entity, holdout, split_seed)
        except OptionError as exc:  # the library names the argument; here it is the option
            raise OptionError(f"--{exc}") from None
    entities = read_table(context, **reading) if context is not None else None
    if entities is not None and context is not None:
        _check_fit_context(entities, events, schema.entity, context)
    start = time.perf_counter()
    model.fit(events, schema, context=entities)
    seconds = time.perf_counter() - start
    model.training_["source"] = str(data.resolve())
    if holdout is not None:
        model.training_["holdout_fraction"], model.training_["split_seed"] = holdout, split_seed
    if context is not None:
        model.training_["context_source"] = str(context.resolve())
    model.save(output, force=force)
    if ui.quiet:
        return
    summary = Table.grid(padding=(0, 2))
    summary.add_row("entities", f"{model.training_['entities']:,}")
    summary.add_row("events", f"{model.training_['events']:,}")
    summary.add_row("per entity", ", ".join(model.static_ + model.context_columns_) or "none")
    summary.add_row("per event", ", ".join(model.dynamic_) or "none")
    summary.add_row("engine", "argn (history encoder)" if engine == "argn" else "sequential (cart per step)")
    summary.add_row("seconds", f"{seconds:.2f}")
    summary.add_row("model", str(output))
    ui.table(summary)


def sample_sequences(
    ui: UI,
    model_path: Path,
    entities: int | None,
    context: Path | None,
    output: Path | None,
    seed: int,
    force: bool,
    *,
    first: Path | None = None,
) -> None:
    """``mirage sample events.mirage --entities N [--context entities.csv] [--first first.csv] -o
    synth.parquet``."""
    from mirage.io import output_dialect, read_table, write_chunks

    if output is None:
        raise OptionError("pass -o FILE: a sequence model writes whole histories to a file")
    check_output(output, force)
    model = load_sequence_model(model_path)
    given = read_table(context) if context is not None else None
    if given is not None and context is not None:
        given = _checked_context(model, given, context)
    starts = _first_events(model, read_table(first), first, given) if first is not None else None
    if given is None and starts is None and entities is None:
        raise OptionError("give --entities N (or --context FILE, one row per entity)")
    n = len(given) if given is not None else len(starts) if starts is not None else int(entities or 0)
    if entities is not None and entities != n:
        which = f"--context {context}" if given is not None else f"--first {first}"
        raise OptionError(
            f"--entities {entities}: {which} has {n:,} rows, one per history; give one or the other"
        )
    start = time.perf_counter()
    options = {} if starts is None else {"first": starts}
    chunks = model.sample_chunks(n, seed=seed, context=given, **options)
    dialect = output_dialect(model.schema_.columns)
    written = write_chunks(
        row_progress(chunks, n, ui, "sampling entities"), output, force=force, dialect=dialect
    )
    seconds = time.perf_counter() - start
    rate = written / seconds if seconds > 0 else float("inf")
    ui.say(
        f"wrote {written:,} events of {n:,} entities to {output} in {seconds:.2f} s ({rate:,.0f} events/s)"
    )


def _checked_context(model: Any, given: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The context rows of ``--context``, checked against the model with the file named."""
    if not model.context_columns_:
        raise OptionError(
            f"--context {path}: {model_name(model)} was fitted without a context; give --entities N"
        )
    absent = [c for c in model.context_columns_ if c not in given.columns]
    if absent:
        raise OptionError(f"--context {path}: no column {absent[0]!r} (the model was fitted with it)")
    if given.empty:
        raise OptionError(f"--context {path}: no rows; give one row per history to draw")
    entity = model._require_fitted().entity
    if entity in given.columns:
        twice = given[entity][given[entity].duplicated()]
        if len(twice):
            raise OptionError(
                f"--context {path}: {entity} {_plain(twice.iloc[0])!r} has more than one row; each row "
                "draws one history, under its key"
            )
    return given


def model_name(model: Any) -> str:
    from mirage.sequential import ArgnSequenceSynthesizer

    return "the argn sequence model" if isinstance(model, ArgnSequenceSynthesizer) else "the sequence model"


def _first_events(model: Any, frame: pd.DataFrame, path: Path, given: pd.DataFrame | None) -> pd.DataFrame:
    """The ``--first`` rows (one per history: values its first event takes), checked against the model
    with the file and column named; matched to the context's rows by the entity key when both have it."""
    from mirage.sequential import ArgnSequenceSynthesizer

    if not isinstance(model, ArgnSequenceSynthesizer):
        raise OptionError(
            f"--first {path}: the sequential model (cart per step) does not condition on first events; "
            "fit with --engine argn to give them"
        )
    schema = model._require_fitted()
    if frame.empty:
        raise OptionError(f"--first {path}: no rows; give one row per history")
    if schema.entity in frame.columns:
        if given is not None and schema.entity in given.columns:
            keys = frame[schema.entity]
            if keys.duplicated().any():
                raise OptionError(
                    f"--first {path}: {schema.entity} {keys[keys.duplicated()].iloc[0]!r} appears twice"
                )
            missing = ~given[schema.entity].isin(keys)
            if missing.any():
                raise OptionError(
                    f"--first {path}: no row for {schema.entity} {given[schema.entity][missing].iloc[0]!r} "
                    "of the context"
                )
            frame = frame.set_index(schema.entity).loc[given[schema.entity]].reset_index(drop=True)
        else:
            frame = frame.drop(columns=[schema.entity])
    for name in frame.columns:
        if name == schema.order:
            raise OptionError(
                f"--first {path}: column {name!r} is the order; a history's first time is drawn, only its "
                f"values can be given ({', '.join(model.dynamic_) or 'none'})"
            )
        if name in model.static_ or name in model.context_columns_:
            raise OptionError(
                f"--first {path}: column {name!r} is constant within each history; only columns that change "
                f"along a history can be given ({', '.join(model.dynamic_) or 'none'})"
            )
        if name not in model.dynamic_:
            raise OptionError(
                f"--first {path}: no column {name!r} among the events' values "
                f"({', '.join(model.dynamic_) or 'none'})"
            )
        empty = frame[name].isna().to_numpy()
        if empty.any():
            raise OptionError(f"--first {path}: column {name!r} is empty in row {int(empty.argmax()) + 1}")
    if given is not None and len(frame) != len(given):
        raise OptionError(
            f"--first {path}: {len(frame):,} rows but the context has {len(given):,}; give one per history"
        )
    return frame


def report_sequences(
    ui: UI,
    model_path: Path,
    data: str | None,
    context: Path | None,
    holdout: Path | None,
    output: Path,
    seed: int,
    force: bool,
    reading: dict[str, str],
    *,
    fail_under: list[str] | None = None,
    fail_over: list[str] | None = None,
) -> None:
    """``mirage report events.mirage -o report.html [--data EVENTS] [--holdout HELD_EVENTS]
    [--fail-under length_ks=0.9 --fail-over detection_auc=0.8]``: the sequence report, HTML and JSON;
    exit 1 when a gate fails."""
    from mirage.evaluation._sequential import sequence_report
    from mirage.io import read_table

    under, over = _report_gates(output, fail_under, fail_over)
    model = load_sequence_model(model_path)
    source = Path(data) if data is not None else Path(str(model.training_.get("source", "")))
    if data is None and "source" not in model.training_:
        raise OptionError("the model does not record its training events; pass --data EVENTS.csv")
    if not source.is_file():
        raise OptionError(f"the training events are not at {source}; pass --data EVENTS.csv")
    real = read_table(source, **reading)
    held = read_table(holdout, **reading) if holdout is not None else None
    schema = model._require_fitted()
    if "holdout_fraction" in model.training_:  # fitted with --holdout: the same entities held out again
        from mirage.evaluation._sequential import split_entities

        fraction, split_seed = float(model.training_["holdout_fraction"]), int(model.training_["split_seed"])
        real, recovered = split_entities(real, schema.entity, fraction, split_seed)
        held = recovered if held is None else held
        if int(model.training_["entities"]) != real[schema.entity].nunique():
            raise OptionError(
                f"{source} is not the table {model_path} learned ({real[schema.entity].nunique():,} entities "
                f"outside the holdout, the model learned {int(model.training_['entities']):,}); pass --data"
            )
    if held is not None and holdout is not None:
        _check_holdout(held, real, schema, holdout)
    given = None
    if model.context_columns_:
        place = context or Path(str(model.training_.get("context_source", "")))
        if not place.is_file():
            raise OptionError(f"the entities' context is not at {place}; pass --context ENTITIES.csv")
        given = read_table(place, **reading)
    json_path = output.with_suffix(".json")
    check_output(output, force)
    check_output(json_path, force)
    n = int(model.training_["entities"]) if given is None else None
    ui.note(f"sampling {n if given is None else len(given):,} histories from {model_path}")
    synthetic = model.sample(n, seed=seed, context=given)
    ui.note("scoring histories and entities (detection and distances take a few seconds)")
    report = sequence_report(
        real, synthetic, schema, holdout=held, seed=seed, meta={"model": str(model_path)}
    )
    _write_report(ui, report, output, json_path, force, under, over)


def _report_gates(
    output: Path, fail_under: list[str] | None, fail_over: list[str] | None
) -> tuple[dict[str, float], dict[str, float]]:
    """The ``--fail-under`` and ``--fail-over`` gates of a sequence report, its output checked as HTML."""
    under = parse_sequence_gates(fail_under or [], "--fail-under")
    over = parse_sequence_gates(fail_over or [], "--fail-over")
    if output.suffix.lower() not in (".html", ".htm"):
        raise OptionError(f"--output {str(output)!r}: the report is HTML; name it with .html")
    return under, over


def _write_report(
    ui: UI,
    report: Any,
    output: Path,
    json_path: Path,
    force: bool,
    under: dict[str, float],
    over: dict[str, float],
) -> None:
    """Write a sequence report's JSON and HTML, print its scores, exit 1 on a failed gate."""
    report.to_json(str(json_path), force=force)
    report.to_html(str(output), force=force)
    summary = Table(title="sequence report")
    summary.add_column("score")
    summary.add_column("gate name")
    summary.add_column("value")
    for name, value in report.scores.items():  # the JSON's top-level names of the KS complements
        label = {"length_ks": "length_ks_complement", "gap_ks": "gap_ks_complement"}.get(name, name)
        summary.add_row(label, name, "-" if value is None else f"{value:.3f}")
    for column, lags in report.details["autocorrelation"].items():
        real_value, synthetic_value = lags[1]
        summary.add_row(
            f"lag-1 autocorrelation {column}", "", f"{synthetic_value:.3f} (real {real_value:.3f})"
        )
    ui.table(summary)
    ui.say(f"wrote {output} and {json_path}")
    exit_on_failed_gates(ui, report.check(under, over))


def parse_sequence_gates(items: list[str], option: str) -> dict[str, float]:
    """``NAME=VALUE`` gates of a sequence report (names: :data:`SEQUENCE_DIRECTIONS`)."""
    from mirage.evaluation._sequential import SEQUENCE_DIRECTIONS

    def check_name(name: str) -> None:
        if name not in SEQUENCE_DIRECTIONS:
            known = ", ".join(SEQUENCE_DIRECTIONS)
            raise OptionError(f"unknown score {name!r} of a sequence report (known: {known})")

    return parse_named_gates(items, option, check_name=check_name, example="length_ks=0.9")


def _check_holdout(held: pd.DataFrame, real: pd.DataFrame, schema: Any, path: Path) -> None:
    """The holdout's events are of entities the model never saw, under the same columns."""
    absent = [c for c in schema.columns.names if c not in held.columns]
    if absent:
        raise OptionError(f"--holdout {path}: no column {absent[0]!r}")
    shared = set(held[schema.entity]) & set(real[schema.entity])
    if shared:
        raise OptionError(
            f"--holdout {path}: {len(shared):,} of its entities ({schema.entity} "
            f"{sorted(map(str, shared))[0]!r}, ...) are in the training events too; a holdout holds "
            "entities the model never saw"
        )


def report_sequence_files(
    ui: UI,
    files: tuple[Path, pd.DataFrame, Path],
    schema_path: Path | None,
    holdout: Path | None,
    output: Path,
    seed: int,
    force: bool,
    reading: dict[str, str],
    *,
    fail_under: list[str] | None = None,
    fail_over: list[str] | None = None,
) -> bool:
    """``mirage report REAL SYNTHETIC -o report.html [--schema events.schema.json]``: the sequence report
    of two event files (``files``: the real file, its table, the synthetic file).

    Without ``--schema`` the histories' entity and order columns are read off the real file's layout
    (:func:`~mirage.sequential.history_columns`).  True when a sequence report was written; False
    when the real file is not laid out as histories (a table's report follows); a one-line error
    asking for ``--schema`` when the layout cannot tell the columns apart."""
    from mirage.evaluation._sequential import sequence_report
    from mirage.io import read_table
    from mirage.sequential import SequenceSchema, history_columns, infer_sequence_schema

    real_path, real, synthetic_path = files
    if schema_path is not None:
        if not is_sequence_schema_file(schema_path):
            raise OptionError(
                f"--schema {schema_path}: not a sequence schema; a report of two files takes the one "
                "mirage schema REAL --entity ID --order TIME writes (a table's report infers its own)"
            )
        schema = SequenceSchema.load(schema_path)
        for name in (schema.entity, schema.order):
            if name not in real.columns:
                raise OptionError(f"{real_path}: no column {name!r} (the --schema's {_role(schema, name)})")
    else:
        pairs = history_columns(real)
        if not pairs:
            return False
        if len(pairs) > 1:
            named = ", ".join(f"{e} ordered by {o}" for e, o in pairs[:3])
            raise OptionError(
                f"{real_path} reads as event histories in {len(pairs)} ways ({named}); pass --schema "
                f"(mirage schema {real_path} --entity ID --order TIME -o events.schema.json)"
            )
        entity, order = pairs[0]
        real = checked_events(real, entity, order, real_path)
        schema = infer_sequence_schema(real, entity, order)
        ui.say(
            f"{real_path} read as event histories of {entity}, ordered by {order} "
            "(pass --schema to choose the columns)"
        )
    under, over = _report_gates(output, fail_under, fail_over)
    real = checked_events(real, schema.entity, schema.order, real_path, timestamped=schema.timestamped)
    synthetic = read_table(synthetic_path, **reading)
    for name in (schema.entity, schema.order):
        if name not in synthetic.columns:
            raise OptionError(f"{synthetic_path}: no column {name!r} (the histories' {_role(schema, name)})")
    synthetic = checked_events(
        synthetic, schema.entity, schema.order, synthetic_path, timestamped=schema.timestamped
    )
    held = None
    if holdout is not None:
        held = read_table(holdout, **reading)
        _check_holdout(held, real, schema, holdout)
    json_path = output.with_suffix(".json")
    check_output(output, force)
    check_output(json_path, force)
    ui.note("scoring histories and entities (detection and distances take a few seconds)")
    meta = {"real": str(real_path), "synthetic": str(synthetic_path)}
    report = sequence_report(real, synthetic, schema, holdout=held, seed=seed, meta=meta)
    _write_report(ui, report, output, json_path, force, under, over)
    return True


def _role(schema: Any, name: str) -> str:
    return "entity column" if name == schema.entity else "order column"
