"""``mirage simulate``: synthetic data from simulators rather than learned from rows.

``mirage simulate patients`` runs Synthea disease modules (GMF JSON) over a base population and writes
Synthea's CSV tables to a new folder.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mirage.cli._options import positive_row_count
from mirage.cli._ui import UI, DebugOption, QuietOption
from mirage.errors import OptionError, OutputExistsError

__all__ = ["DEFAULT_POPULATION", "register", "simulate_app"]

DEFAULT_POPULATION = 1000

simulate_app = typer.Typer(
    help="Simulate synthetic data from rules: patients from Synthea disease modules.",
    no_args_is_help=True,
)


def patients_command(
    ctx: typer.Context,
    modules: Annotated[
        Path,
        typer.Option("--modules", "-m", help="Folder of Synthea GMF modules (*.json), run as published."),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="New folder for the tables (patients.csv, encounters.csv, ...)."),
    ],
    population: Annotated[
        int | None,
        typer.Option(
            "--population",
            "-p",
            parser=positive_row_count,
            metavar="N",
            help=f"Number of patients (default {DEFAULT_POPULATION:,}).",
        ),
    ] = None,
    years: Annotated[
        float,
        typer.Option(help="Years of records kept before the end date (lives always run from birth)."),
    ] = 10.0,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Same seed, same patients (random when not given).")
    ] = None,
    end: Annotated[str, typer.Option(help="The date the simulation stops (YYYY-MM-DD).")] = "2025-01-01",
    locale: Annotated[str, typer.Option(help="Faker locale of names and addresses.")] = "en_US",
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    workers: Annotated[
        int, typer.Option(min=1, help="Processes simulating blocks of patients (same output for any number).")
    ] = 1,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output folder.")] = False,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Simulate patients through Synthea disease modules and write Synthea's CSV tables."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    from mirage.io import write_folder
    from mirage.simulate import BLOCK_AGENTS, patients_database, population_blocks, simulate_patients

    if years <= 0:
        raise OptionError(f"--years must be positive, got {years:g}")
    if output.exists() and not force:
        raise OutputExistsError(f"output folder '{output}' already exists; pass --force to replace it")
    if not output.parent.is_dir():
        raise OptionError(f"--output '{output}': folder '{output.parent}' does not exist; create it first")
    population = DEFAULT_POPULATION if population is None else population
    drawn_seed = secrets.randbits(63) if seed is None else seed
    start = time.perf_counter()
    options: dict[str, Any] = {"years": years, "seed": drawn_seed, "end": end, "locale": locale}
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        # blocks small enough for every worker to get several (the output does not depend on them)
        size = max(1, min(BLOCK_AGENTS, -(-population // (4 * workers))))
        with ProcessPoolExecutor(max_workers=min(workers, os.cpu_count() or 1)) as pool:
            blocks = population_blocks(population, size)
            frames = simulate_patients(modules, population, blocks=blocks, executor=pool, **options)
    else:
        frames = simulate_patients(modules, population, **options)
    seconds = time.perf_counter() - start
    write_folder(output, patients_database(), frames, format=file_format, force=force)
    rate = population / seconds if seconds > 0 else float("inf")
    counts = ", ".join(f"{len(frame):,} {name}" for name, frame in frames.items() if name != "patients")
    ui.say(f"simulated {population:,} patients in {seconds:.2f} s ({rate:,.0f} patients/s); wrote {output}")
    ui.say(counts)
    if seed is None:
        ui.note(f"seed {drawn_seed} (pass --seed {drawn_seed} to simulate the same patients again)")


def register(app: typer.Typer) -> None:
    simulate_app.command("patients")(patients_command)
    app.add_typer(simulate_app, name="simulate")
