"""``mirage demo``: the whole loop on the bundled census sample, with per-column scores."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

import mirage
from mirage.cli._ui import UI, cell, fit_progress, refuse_existing, resolve_engine, row_progress
from mirage.demo import load_demo
from mirage.engines import ENGINES
from mirage.evaluation import column_shape_scores
from mirage.io import write_table

__all__ = ["register", "scores_table"]

BAR_WIDTH = 20


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


def demo_command(
    ctx: typer.Context,
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Folder for the files written.")] = Path(
        "mirage-demo"
    ),
    engine: Annotated[
        str, typer.Option(help=f"Engine: auto or one of {', '.join(sorted(ENGINES))}.")
    ] = "auto",
    rows: Annotated[
        int | None, typer.Option(min=1, help="Synthetic rows to draw (default: as many as the demo data).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of fitting and sampling.")] = 7,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the files of an earlier demo.")] = False,
) -> None:
    """Fit, sample and score the bundled census data, end to end."""
    ui = UI.of(ctx)
    synthetic_path = output_dir / "synthetic.csv"
    model_path = output_dir / "demo.mirage"
    refuse_existing(synthetic_path, force)
    refuse_existing(model_path, force)
    real = load_demo()
    ui.note(f"demo data: {len(real):,} rows x {real.shape[1]} columns of the UCI Adult census table")
    engine_class = resolve_engine(engine, real, {}, ui)
    hyperparameters: dict[str, Any] = {"seed": seed} if "seed" in engine_class._param_names() else {}
    start = time.perf_counter()
    with fit_progress(ui):
        model = mirage.fit(real, engine=engine_class.name, **hyperparameters)
    fit_seconds = time.perf_counter() - start
    n = len(real) if rows is None else rows
    chunks = row_progress(model.sample_chunks(n, seed=seed), n, ui, "sampling")
    synthetic = pd.concat(list(chunks), ignore_index=True)
    write_table(synthetic, synthetic_path, force=force)
    model.save(model_path, force=force)
    ui.note(f"fitted {engine_class.name} in {fit_seconds:.2f} s; drew {n:,} rows")

    scores = column_shape_scores(real, synthetic, model.schema_)
    ui.out.print(scores_table(scores))
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
