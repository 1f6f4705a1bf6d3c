"""``mirage budget``: the privacy ledger of a differentially private model file, read from its manifest.

Every step of the fit that touched the data is one row: what it measured, the mechanism, its zCDP cost
rho, its noise scale and any delta it spent; the total is given as epsilon at the model's delta.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mirage.cli._ui import UI, DebugOption, QuietOption

__all__ = ["budget_line", "register"]


def budget_line(ledger: dict[str, Any]) -> str:
    """One line: the epsilon spent of the budget, at delta, and how many measurements."""
    entries = ledger.get("entries", [])
    plural = "" if len(entries) == 1 else "s"
    return (
        f"epsilon {float(ledger.get('epsilon_spent', 0.0)):.4g} spent of {float(ledger['epsilon']):g} "
        f"at delta {float(ledger['delta']):g} (rho {float(ledger.get('rho_spent', 0.0)):.4g} of "
        f"{float(ledger.get('rho_budget', 0.0)):.4g}), {len(entries)} measurement{plural}"
    )


def budget_command(
    ctx: typer.Context,
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file written by mirage fit.")],
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show the privacy ledger of a model file: every measurement of the data and its cost."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    from mirage.errors import OptionError
    from mirage.model_file import read_manifest
    from mirage.privacy import Ledger

    manifest = read_manifest(model_path)
    engine_state = dict(manifest.get("state", {}).get("engine", {}))
    if "ledger" not in engine_state:
        raise OptionError(
            f"{model_path}: the {manifest.get('engine')} model was not fitted with differential privacy, "
            "so it has no privacy ledger (fit with --engine dp --epsilon ...)"
        )
    raw = dict(engine_state["ledger"])
    ledger = Ledger.from_dict(raw)
    table = Table(title=f"privacy ledger of {model_path}")
    for column in ("step", "measured", "mechanism", "rho", "sigma", "delta"):
        table.add_column(column, justify="right" if column in ("step", "rho", "sigma", "delta") else "left")
    for i, entry in enumerate(ledger.entries, start=1):
        table.add_row(
            str(i),
            entry.what,
            entry.mechanism,
            f"{entry.rho:.4g}",
            f"{entry.sigma:.4g}",
            f"{entry.delta:.3g}",
        )
    ui.table(table)
    ui.table(_total(ledger))


def _total(ledger: Any) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_row("total", budget_line(ledger.to_dict()))
    grid.add_row(
        "accounting", "rho-zCDP, converted at half of delta; the other half covers category thresholds"
    )
    grid.add_row("noise", "OpenDP's discrete Gaussian, from the system's secure generator (never the seed)")
    return grid


def register(app: typer.Typer) -> None:
    app.command("budget")(budget_command)
