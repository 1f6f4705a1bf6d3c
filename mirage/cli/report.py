"""``mirage report``: score synthetic data for fidelity, utility and privacy; HTML and JSON out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from mirage.cli._options import (
    check_output,
    exit_on_failed_gates,
    parse_named_gates,
    positive_row_count,
    read_options,
)
from mirage.cli._ui import (
    UI,
    DebugOption,
    EncodingOption,
    OnBadLinesOption,
    QuietOption,
    fit_progress,
    row_progress,
)
from mirage.errors import OptionError

if TYPE_CHECKING:
    import pandas as pd

    from mirage.engines import Synthesizer
    from mirage.evaluation import Report

__all__ = ["parse_fairness", "parse_gates", "register"]


def parse_fairness(item: str) -> dict[str, str]:
    """``OUTCOME:PROTECTED[:POSITIVE]`` as the ``fairness`` of :func:`mirage.evaluate`."""
    parts = item.split(":", 2)
    if len(parts) < 2 or not all(parts):
        raise OptionError(f"--fair {item!r}: expected OUTCOME:PROTECTED[:POSITIVE], e.g. income:sex")
    fairness = {"outcome": parts[0], "protected": parts[1]}
    if len(parts) == 3:
        fairness["positive"] = parts[2]
    return fairness


def parse_gates(items: list[str], option: str) -> dict[str, float]:
    """``NAME=VALUE`` gates of a table's report (names: ``mirage.evaluation.DIRECTIONS``)."""
    from mirage.evaluation import DIRECTIONS

    def check_name(name: str) -> None:
        if name not in DIRECTIONS:
            raise OptionError(f"unknown score {name!r} (known: {', '.join(DIRECTIONS)})")

    return parse_named_gates(items, option, check_name=check_name, example="quality=0.85")


def report_command(
    ctx: typer.Context,
    arguments: Annotated[
        list[str],
        typer.Argument(
            metavar="MODEL | REAL SYNTHETIC | SPEC DATA",
            help="A model file fitted with --holdout, a real and a synthetic data file, or a spec and the "
            "data generated from it (a folder, a database URL or a file).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="HTML report to write; JSON goes beside it.  With a spec: the checks' JSON file (optional).",
            show_default=False,
        ),
    ] = None,
    holdout: Annotated[
        Path | None, typer.Option(help="Real rows the model never saw (needed for utility and privacy).")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Column to predict for the utility scores.")] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="Where the model's training data is now, if it has moved (a database's model: a URL or "
            "a folder).",
            show_default=False,
        ),
    ] = None,
    rows: Annotated[
        int | None,
        typer.Option(
            parser=positive_row_count,
            metavar="ROWS",
            help="Synthetic rows to draw from a model (default: training size).",
        ),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(
            parser=positive_row_count,
            metavar="ROWS",
            help="Score a uniform sample: ROWS real rows drawn across the files of --data (a file or a "
            "glob such as 'data/*.parquet') or of REAL, ROWS synthetic rows, and as many of --holdout; "
            "the report states it.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed for sampling and for the scores.")] = 0,
    fair: Annotated[
        str | None,
        typer.Option(
            metavar="OUTCOME:PROTECTED[:POSITIVE]",
            help="Add the fairness section, e.g. income:sex (POSITIVE: the outcome value counted, by default "
            "its rarest): outcome rates per group, parity difference, equalised-odds gap.",
        ),
    ] = None,
    fail_under: Annotated[
        list[str] | None, typer.Option("--fail-under", help="Gate NAME=VALUE: exit 1 if the score is lower.")
    ] = None,
    fail_over: Annotated[
        list[str] | None, typer.Option("--fail-over", help="Gate NAME=VALUE: exit 1 if the score is higher.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing report files.")] = False,
    context: Annotated[
        Path | None, typer.Option(help="A sequence model: the entities' context rows, if they have moved.")
    ] = None,
    sequence_schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="REAL SYNTHETIC event files: their sequence schema (mirage schema --entity --order); "
            "without it, files laid out as histories are read as such.",
        ),
    ] = None,
    on_bad_lines: OnBadLinesOption = "error",
    encoding: EncodingOption = None,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Score synthetic data against real data: fidelity, utility, privacy; write HTML and JSON."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)
    reading = read_options(on_bad_lines, encoding)
    from mirage.cli.generate import is_spec_argument, report_spec

    if arguments and is_spec_argument(Path(arguments[0])):
        report_spec(ui, arguments, output, force=force, seed=seed)  # data may be a URL: kept as text
        return
    inputs = [Path(a) for a in arguments]
    if output is None:
        raise OptionError("give --output REPORT.html: the report to write")

    import pandas as pd

    import mirage
    from mirage._api import single_table
    from mirage._progress import report as report_progress
    from mirage.cli._database import is_relational_model, report_database
    from mirage.evaluation import evaluate, recover_split
    from mirage.io import read_table

    if len(inputs) == 1 and inputs[0].is_file() and is_relational_model(inputs[0]):
        if holdout is not None or target is not None or rows is not None or fair is not None:
            flag = "--holdout" if holdout is not None else "--target" if target is not None else "--rows"
            flag = "--fair" if fair is not None else flag
            raise OptionError(f"{flag} applies to a table's model; {inputs[0]} holds a database's")
        gates = {"fail_under": fail_under or [], "fail_over": fail_over or []}
        report_database(ui, inputs[0], output, data=data, seed=seed, force=force, reading=reading, **gates)
        return
    from mirage.cli._sequential import is_sequence_model, report_sequences

    if len(inputs) == 1 and is_sequence_model(inputs[0]):  # its gates name sequence scores
        sequence_gates = {"fail_under": fail_under or [], "fail_over": fail_over or []}
        report_sequences(
            ui, inputs[0], data, context, holdout, output, seed, force, reading, **sequence_gates
        )
        return
    real_read = None  # two files: the real one, read once whichever report follows
    if len(inputs) == 2 and sample is None and target is None and fair is None and rows is None:
        from mirage.cli._sequential import report_sequence_files

        sequence_gates = {"fail_under": fail_under or [], "fail_over": fail_over or []}
        real_read = read_table(inputs[0], **reading)
        files = (inputs[0], real_read, inputs[1])
        if report_sequence_files(
            ui, files, sequence_schema, holdout, output, seed, force, reading, **sequence_gates
        ):
            return
    if sequence_schema is not None:
        raise OptionError("--schema goes with a real and a synthetic file of event histories")
    fairness = parse_fairness(fair) if fair is not None else None
    under = parse_gates(fail_under or [], "--fail-under")
    over = parse_gates(fail_over or [], "--fail-over")
    if output.suffix.lower() not in (".html", ".htm"):
        raise OptionError(f"--output {str(output)!r}: the report is HTML; name it with .html")
    json_path = output.with_suffix(".json")
    check_output(output, force)
    check_output(json_path, force)
    held: pd.DataFrame | None
    stated: str | None = None
    model = None  # a model file's model: its privacy ledger goes into the report
    if sample is not None:
        from mirage.cli._scale import sampled_inputs

        if rows is not None:
            raise OptionError("--rows and --sample cannot be combined: --sample sets the synthetic rows too")
        real, held, synthetic, schema, stated = sampled_inputs(
            ui, inputs, data, holdout, sample, seed, reading
        )
    elif len(inputs) == 1:
        model = single_table(mirage.load(inputs[0]), inputs[0])
        if holdout is not None:
            if data is None:
                raise OptionError("with --holdout and a model, pass --data: the real rows the model learned")
            real, held = read_table(data, **reading), read_table(holdout, **reading)
        else:
            if "holdout_fraction" not in model.training_:
                raise OptionError(
                    f"{inputs[0]} was fitted without --holdout: refit with --holdout 0.2, "
                    "or pass --data REAL.csv --holdout HOLDOUT.csv"
                )
            real, held = recover_split(model.training_, data, reading)
        n = rows or len(real)
        ui.note(f"sampling {n:,} rows from {inputs[0]}")
        chunks = list(row_progress(model.sample_chunks(n, seed=seed), n, ui, "sampling"))
        synthetic = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]  # as sample()
        schema = model.schema_
    elif len(inputs) == 2:
        real = real_read if real_read is not None else read_table(inputs[0], **reading)
        synthetic = read_table(inputs[1], **reading)
        held = read_table(holdout, **reading) if holdout is not None else None
        schema = None
    else:
        raise OptionError("give one model file, or a real and a synthetic data file")
    ui.note("scoring fidelity, utility and privacy (detection and attack models take a few seconds)")
    with fit_progress(ui):
        report = evaluate(
            real, synthetic, holdout=held, target=target, schema=schema, seed=seed, fairness=fairness
        )
        if (ledger := getattr(model, "ledger_", None)) is not None:  # a DP model: its privacy ledger
            report.meta["privacy_ledger"] = ledger.summary()
        if stated is not None:
            report.meta["sample"] = stated
        report_progress("writing", 0, 1, output.name)
        report.to_html(str(output), force=force)
        report.to_json(str(json_path), force=force)
        report_progress("writing", 1, 1, output.name)
    table, verdicts = _summary_table(report)
    ui.table(table)
    for verdict in verdicts:
        ui.say(verdict)
    dcr = report.details.get("privacy", {}).get("dcr", {})
    if model is not None and (hint := _closeness_hint(model, dcr.get("dcr_share"), dcr.get("dcr_share_ci"))):
        ui.say(hint)
    ui.say(f"wrote {output} and {json_path}")
    exit_on_failed_gates(ui, report.check(under, over))


# engines (and auto) whose defaults kept the DCR share within the bar on Mirage's shared benchmark
# tables (README, "The no-copying bar"; tables of under ~200 rows can read over), by the tables each suits
WITHIN_BAR = {
    "auto": "below 5,000 rows it fits bayesnet and gmm and keeps the better",
    "gmm": "mostly numeric tables",
    "bayesnet": "mostly categorical ones",
    "gan": "any, with PyTorch",
    "vae": "any, with PyTorch",
}


def _closeness_hint(model: Synthesizer, share: object, interval: object) -> str | None:
    """What to do when a model file's rows sit measurably nearer the rows it learned than fresh rows
    would (the DCR share's interval wholly above 0.5) and its estimate is over the bar.  On a small
    holdout one split's interval spans both (0.38-0.73 on 69 rows), and the verdict states it."""
    from mirage.evaluation._privacy import DCR_SHARE_LIMIT

    if not (isinstance(interval, list | tuple) and len(interval) == 2):
        return None
    low = interval[0]
    if not (isinstance(share, float) and isinstance(low, float) and low > 0.5 and share > DCR_SHARE_LIMIT):
        return None
    name = type(model).name
    fitted = {name, "auto"} if "auto" in getattr(model, "training_", {}) else {name}  # it would again
    others = ", ".join(f"--engine {e} ({kind})" for e, kind in WITHIN_BAR.items() if e not in fitted)
    hint = (
        f"to share these rows: {name} resolves this table finely enough that its rows sit nearer the "
        f"rows it learned; refit with an engine whose defaults stayed within the bar on Mirage's "
        f"benchmark tables, {others}, and report again"
    )
    if type(model).privacy_knob is not None:
        hint += (
            f", or with --param max_dcr_share={DCR_SHARE_LIMIT} "
            f"({name} coarsens itself until its own check passes)"
        )
    return hint


def _summary_table(report: Report) -> tuple[Table, list[Text]]:
    from mirage.evaluation import DIRECTIONS

    table = Table(title="synthetic data report")
    for name in ("score", "synthetic", "reference (holdout)"):
        table.add_column(name)
    for name, (section, _, _) in DIRECTIONS.items():
        value = report.scores.get(name)
        if section == "summary" or value is None:
            continue
        ref = report.reference.get(name)
        table.add_row(f"{section}: {name}", f"{value:.4f}", "" if ref is None else f"{ref:.4f}")
    verdicts = []
    for name in ("fidelity", "utility", "privacy"):
        value, ref = report.scores.get(name), report.reference.get(name)
        table.add_row(
            Text(name, style="bold"),
            "-" if value is None else f"{value:.4f}",
            "" if ref is None else f"{ref:.4f}",
        )
        verdicts.append(Text.assemble((f"{name}: ", "bold"), report.verdicts[name]))
    return table, verdicts


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
