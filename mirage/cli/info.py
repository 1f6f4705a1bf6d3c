"""``mirage info``: what a model file holds, read from its manifest without loading the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mirage.cli._ui import UI, DebugOption, QuietOption
from mirage.cli.budget import budget_line
from mirage.cli.schema import schema_table

__all__ = ["register", "summary_table"]


def _holdout_rows(training: dict[str, Any]) -> list[tuple[str, str]]:
    if "holdout_fraction" not in training:
        return [("holdout", "none (fitted on all rows)")]
    fraction = float(training["holdout_fraction"])
    of_rows = f" of {int(training['source_rows']):,} rows" if "source_rows" in training else ""
    rows = [("holdout", f"{fraction:.0%}{of_rows} kept aside, split seed {training.get('split_seed', 0)}")]
    if "source" in training:
        digest = str(training.get("source_sha256", ""))[:16]
        rows.append(("source", f"{training['source']}" + (f" (sha256 {digest}…)" if digest else "")))
    return rows


def _guard_row(training: dict[str, Any]) -> str | None:
    """``min_samples_leaf=50: DCR share 0.551; ... (kept min_samples_leaf=168, fitted 0.524; limit 0.53,
    5 folds)``: the settings read, and the one the line fitted to them chose."""
    from mirage.engines._guard import describe

    record = training.get("guard")
    if not isinstance(record, dict):
        return None
    if "skipped" in record:
        return f"skipped ({record['skipped']})"
    readings = "; ".join(
        f"{describe(r.get('setting', {}))}: DCR share {r.get('dcr_share')}"
        for r in record.get("readings", [])
    )
    chosen = describe(record.get("chosen") or {})
    fitted = record.get("fitted_share")
    kept = f"kept {chosen}" + ("" if fitted is None else f", fitted {fitted}")
    if not record.get("met", False):
        kept = f"none met the limit, {kept}"
    folds = record.get("folds")
    return (
        f"{readings} ({kept}; limit {record.get('max_dcr_share')}, {folds} fold{'' if folds == 1 else 's'})"
    )


def _auto_note(training: dict[str, Any]) -> str:
    """How ``--engine auto`` came to this engine, when it did (the file's own figures, shown as text)."""
    picked = training.get("auto")
    if not isinstance(picked, dict):
        return ""
    aucs = picked.get("detection_auc")
    if isinstance(aucs, dict) and aucs:
        scores = ", ".join(
            f"{name} {auc:.3f}" if isinstance(auc, float) else f"{name} ?" for name, auc in aucs.items()
        )
        return f" (picked by auto; detection AUC {scores})"
    return " (picked by auto)"


def summary_table(path: Path, manifest: dict[str, Any]) -> Table:
    state = manifest.get("state", {})
    params = ", ".join(f"{k}={v!r}" for k, v in manifest["hyperparameters"].items())
    grid = Table.grid(padding=(0, 2))
    grid.add_row("model", str(path))
    grid.add_row("engine", str(manifest["engine"]) + _auto_note(dict(state.get("training", {}))))
    grid.add_row(
        "written by",
        f"mirage {manifest.get('mirage_version', '?')} (model format {manifest['format_version']})",
    )
    grid.add_row("hyperparameters", params or "none")
    if "n_training_rows" in state:
        grid.add_row("training rows", f"{int(state['n_training_rows']):,}")
    context = state.get("context")
    if isinstance(context, dict) and isinstance(context.get("schema"), dict):
        names = [str(c.get("name")) for c in context["schema"].get("columns", []) if isinstance(c, dict)]
        grid.add_row("context", f"each row drawn given a context row of {', '.join(names)}")
    for key, value in _holdout_rows(dict(state.get("training", {}))):
        grid.add_row(key, value)
    guard = _guard_row(dict(state.get("training", {})))
    if guard is not None:
        grid.add_row("privacy check", guard)
    rules = _rules_row(manifest)
    if rules is not None:
        grid.add_row("rules", rules)
    ledger = dict(state.get("engine", {})).get("ledger")
    if isinstance(ledger, dict):
        grid.add_row("privacy budget", budget_line(ledger) + " (details: mirage budget)")
    grid.add_row("edited by hand", _edits(manifest))
    return grid


def _rules_row(manifest: dict[str, Any]) -> str | None:
    """The business rules every drawn row satisfies, one after another (None: no rules)."""
    from mirage.control import rule_from_dict
    from mirage.errors import SchemaError

    schema = manifest.get("schema")
    rules = schema.get("rules") if isinstance(schema, dict) else None
    if not isinstance(rules, list) or not rules:
        return None
    try:
        return "; ".join(rule_from_dict(rule).describe() for rule in rules)
    except SchemaError as exc:
        return f"{len(rules)} (unreadable: {exc})"


def _edits(manifest: dict[str, Any]) -> str:
    from mirage._manifest import edited_parts

    edited = edited_parts(manifest)
    if edited is None:
        return "unknown (written before model files recorded digests)"
    return ", ".join(sorted(edited)) if edited else "no"


def info_command(
    ctx: typer.Context,
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="Model file written by mirage fit.")],
    debug: DebugOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show a model file's engine, hyperparameters, columns and holdout."""
    ui = UI.of(ctx, debug=debug, quiet=quiet)

    from mirage.model_file import read_manifest
    from mirage.schema import Schema

    manifest = read_manifest(model_path)
    from mirage.relational import RELATIONAL

    if manifest.get("engine") == RELATIONAL:
        from mirage.cli._database import info_database

        info_database(ui, model_path, manifest)
        return
    ui.table(summary_table(model_path, manifest))
    schema = manifest["schema"]
    if isinstance(schema, dict) and schema.get("kind") == "sequence":  # event sequences per entity
        ui.say(f"sequences of entity {schema.get('entity')!r}, ordered by {schema.get('order')!r}")
        ui.table(schema_table(Schema.from_dict(schema["columns"]), title="columns"))
        return
    ui.table(schema_table(Schema.from_dict(schema), title="columns", notes=_clock_notes(manifest)))


def _clock_notes(manifest: dict[str, Any]) -> dict[str, str]:
    """Per datetime column written as text with UTC offsets: the clock the model writes it on."""
    state = manifest.get("state")
    encoder = state.get("encoder") if isinstance(state, dict) else None
    codecs = encoder.get("codecs") if isinstance(encoder, dict) else None
    notes: dict[str, str] = {}
    for name, codec in (codecs or {}).items() if isinstance(codecs, dict) else ():
        if not isinstance(codec, dict) or not isinstance(codec.get("offset"), int):
            continue
        zone, mixed = codec.get("tz"), codec.get("mixed_offsets")
        if isinstance(mixed, list) and mixed and zone is None:
            written = ", ".join(_utc_offset(int(pair[0])) for pair in mixed)
            notes[str(name)] = f"written at {written}, each on about its share of the rows"
        elif isinstance(zone, str):
            notes[str(name)] = f"written at the UTC offset {zone} has at each value"
        else:
            notes[str(name)] = f"written at {_utc_offset(int(codec['offset']))}"
    return notes


def _utc_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def register(app: typer.Typer) -> None:
    app.command("info")(info_command)
