"""``mirage simulate``: synthetic data from simulators rather than learned from rows.

``mirage simulate patients`` runs Synthea disease modules (GMF JSON) over a base population and writes
Synthea's CSV tables to a new folder.  ``mirage simulate transactions`` simulates card transactions
with labelled fraud and writes them (with their customers and merchants) to a table file or a folder.
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

__all__ = ["DEFAULT_CUSTOMERS", "DEFAULT_POPULATION", "register", "simulate_app"]

DEFAULT_POPULATION = 1000
DEFAULT_CUSTOMERS = 10_000

simulate_app = typer.Typer(
    help="Simulate synthetic data from rules: patients from Synthea disease modules, card transactions.",
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


def _fraud_mix(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, sep, share = part.partition("=")
        try:
            mix[name.strip()] = float(share)
        except ValueError:
            sep = ""
        if not sep:
            raise OptionError(
                f"--fraud-mix: '{part}' is not PATTERN=SHARE (e.g. card_testing=0.5,bust_out=0.5)"
            )
    return mix


def _table_paths(output: Path) -> dict[str, Path]:
    """``tx.parquet`` -> transactions there, customers and merchants in ``tx.customers.parquet`` and
    ``tx.merchants.parquet`` beside it."""
    return {
        "transactions": output,
        "customers": output.with_name(f"{output.stem}.customers{output.suffix}"),
        "merchants": output.with_name(f"{output.stem}.merchants{output.suffix}"),
    }


def transactions_command(
    ctx: typer.Context,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Table file for the transactions (tx.parquet; customers and merchants go beside it as "
            "tx.customers.parquet, tx.merchants.parquet), or a new folder (no suffix) for all three.",
        ),
    ],
    customers: Annotated[
        int | None,
        typer.Option(
            "--customers",
            "-n",
            parser=positive_row_count,
            metavar="N",
            help=f"Number of customers (default {DEFAULT_CUSTOMERS:,}).",
        ),
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Days simulated from --start.")] = 90,
    start: Annotated[str, typer.Option(help="The first day (YYYY-MM-DD).")] = "2025-01-01",
    fraud_rate: Annotated[float, typer.Option(help="Expected share of fraudulent transactions.")] = 0.002,
    fraud_mix: Annotated[
        str | None,
        typer.Option(
            help="Shares of the fraud patterns, e.g. card_testing=0.3,account_takeover=0.3,bust_out=0.15,"
            "merchant_compromise=0.25 (the default)."
        ),
    ] = None,
    merchants: Annotated[
        int | None, typer.Option(min=10, help="Number of merchants (default: customers / 25).")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="YAML/JSON file changing behaviour from a date on "
            "(from, spend, defaults, fraud_rate, fraud_mix).",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Same seed, same transactions (random when not given).")
    ] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet (for a folder).")] = "parquet",
    workers: Annotated[
        int,
        typer.Option(min=1, help="Processes simulating blocks of customers (same output for any number)."),
    ] = 1,
    force: Annotated[bool, typer.Option("--force", help="Replace existing output.")] = False,
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Simulate card transactions of customers at merchants, with fraud labelled by pattern."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    from mirage.io import write_folder, write_table
    from mirage.simulate import BLOCK_AGENTS, population_blocks, simulate_transactions, transactions_database

    if not 0 <= fraud_rate < 0.5:
        raise OptionError(f"--fraud-rate must be at least 0 and below 0.5, got {fraud_rate:g}")
    mix = _fraud_mix(fraud_mix)
    paths = _table_paths(output) if output.suffix else {}
    targets = list(paths.values()) or [output]
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise OutputExistsError(f"output '{existing[0]}' already exists; pass --force to replace it")
    if not output.parent.is_dir():
        raise OptionError(f"--output '{output}': folder '{output.parent}' does not exist; create it first")
    count = DEFAULT_CUSTOMERS if customers is None else customers
    drawn_seed = secrets.randbits(63) if seed is None else seed
    options: dict[str, Any] = {
        "seed": drawn_seed,
        "start": start,
        "fraud_rate": fraud_rate,
        "fraud_mix": mix,
        "merchants": merchants,
        "scenario": scenario,
    }
    began = time.perf_counter()
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, min(BLOCK_AGENTS, -(-count // (4 * workers))))
        with ProcessPoolExecutor(max_workers=min(workers, os.cpu_count() or 1)) as pool:
            blocks = population_blocks(count, size)
            tables = simulate_transactions(count, days, blocks=blocks, executor=pool, **options)
    else:
        tables = simulate_transactions(count, days, **options)
    seconds = time.perf_counter() - began
    if paths:
        for name, path in paths.items():
            write_table(tables[name], path, force=force)
    else:
        write_folder(output, transactions_database(), tables, format=file_format, force=force)
    rows = tables["transactions"]
    rate = len(rows) / seconds if seconds > 0 else float("inf")
    ui.say(
        f"simulated {len(rows):,} transactions of {count:,} customers over {days} days in {seconds:.2f} s "
        f"({rate:,.0f} transactions/s); wrote {output}"
    )
    fraud = rows["fraud_pattern"].value_counts()
    ui.say(
        f"{int(rows['is_fraud'].sum()):,} fraudulent ({rows['is_fraud'].mean():.4%}): "
        + ", ".join(f"{int(fraud[name]):,} {name}" for name in fraud.index)
    )
    if seed is None:
        ui.note(f"seed {drawn_seed} (pass --seed {drawn_seed} to simulate the same transactions again)")


def register(app: typer.Typer) -> None:
    simulate_app.command("patients")(patients_command)
    simulate_app.command("transactions")(transactions_command)
    app.add_typer(simulate_app, name="simulate")
