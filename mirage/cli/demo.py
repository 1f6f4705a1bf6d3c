"""``mirage demo``: the whole loop on the bundled census sample, with per-column scores."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mirage.cli._options import positive_row_count, resolve_engine, say_auto_pick
from mirage.cli._ui import UI, DebugOption, QuietOption, cell, fit_progress, row_progress
from mirage.engines._registry import ENGINES, engine_class
from mirage.errors import DataError, OutputExistsError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register", "scores_table"]

BAR_WIDTH = 20
DEFAULT_FOLDER = Path("mirage-demo")


def _bar(score: float) -> Text:
    filled = round(max(0.0, min(1.0, score)) * BAR_WIDTH)
    style = "green" if score >= 0.9 else "yellow" if score >= 0.75 else "red"
    return Text.assemble(("█" * filled, style), ("░" * (BAR_WIDTH - filled), "dim"))


def scores_table(scores: pd.DataFrame) -> Table:
    table = Table(title="how close each synthetic column is to the real one (1 = identical)")
    for header in ("column", "kind", "metric"):
        table.add_column(header)
    table.add_column("score", justify="right")
    table.add_column("")
    for row in scores.to_dict("records"):
        score = float(row["score"])
        table.add_row(cell(row["column"]), str(row["kind"]), str(row["metric"]), f"{score:.3f}", _bar(score))
    return table


def _check_folder(folder: Path, outputs: list[Path], force: bool) -> None:
    """The demo writes into ``folder``, created if its parent exists; an earlier demo's files need --force."""
    if not folder.parent.is_dir():
        raise DataError(f"--output-dir '{folder}': folder '{folder.parent}' does not exist; create it first")
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(f"--output-dir '{folder}' is a file, not a folder")
    earlier = [path for path in outputs if path.exists()]
    if any(path.is_dir() for path in earlier):
        raise OutputExistsError(f"'{next(p for p in earlier if p.is_dir())}' is a folder; move it away")
    if earlier and not force:
        names = " and ".join(f"'{path}'" for path in earlier)
        raise OutputExistsError(
            f"an earlier demo left {names}: pass --force to overwrite, "
            "or --output-dir DIR to write somewhere else"
        )


def demo_command(
    ctx: typer.Context,
    output_dir: Annotated[
        Path,
        typer.Option(
            "--output-dir", help="Folder for the files written (created if missing; its parent must exist)."
        ),
    ] = DEFAULT_FOLDER,
    engine: Annotated[
        str, typer.Option(help=f"Engine: auto or one of {', '.join(sorted(ENGINES))}.")
    ] = "auto",
    rows: Annotated[
        int | None,
        typer.Option(
            parser=positive_row_count,
            metavar="ROWS",
            help="Synthetic rows to draw (default: as many as the demo data).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of fitting and sampling.")] = 7,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the files of an earlier demo.")] = False,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Fit, sample and score the bundled census data, end to end."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    import pandas as pd

    import mirage
    from mirage.demo import load_demo
    from mirage.evaluation import column_shape_scores
    from mirage.io import write_table

    synthetic_path = output_dir / "synthetic.csv"
    model_path = output_dir / "demo.mirage"
    _check_folder(output_dir, [synthetic_path, model_path], force)
    real = load_demo()
    ui.note(f"demo data: {len(real):,} rows x {real.shape[1]} columns of the UCI Adult census table")
    engine = resolve_engine(engine, real, {})
    hyperparameters: dict[str, Any] = {}
    if engine == "auto" or "seed" in engine_class(engine)._param_names():  # auto's engines all take one
        hyperparameters["seed"] = seed
    start = time.perf_counter()
    with fit_progress(ui):
        model = mirage.fit(real, engine=engine, **hyperparameters)
    fit_seconds = time.perf_counter() - start
    say_auto_pick(model, ui)
    n = len(real) if rows is None else rows
    chunks = row_progress(model.sample_chunks(n, seed=seed), n, ui, "sampling")
    synthetic = pd.concat(list(chunks), ignore_index=True)
    output_dir.mkdir(exist_ok=True)
    write_table(synthetic, synthetic_path, force=force)
    model.save(model_path, force=force)
    ui.note(f"fitted {model.name} in {fit_seconds:.2f} s; drew {n:,} rows")

    scores = column_shape_scores(real, synthetic, model.schema_)
    ui.table(scores_table(scores))
    ui.out.print(Text.assemble("average score ", (f"{scores['score'].mean():.3f}", "bold")))
    ui.say(f"wrote {synthetic_path} and {model_path}")
    ui.say(
        "next:\n"
        f"  mirage info {model_path}\n"
        f"  mirage sample {model_path} -n 10\n"
        "  mirage schema your.csv -o schema.json\n"
        "  mirage fit your.csv --schema schema.json -o model.mirage"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
