"""The report of a synthetic database: each table's single-table report, the relational scores
(integrity, cardinality similarity, parent-child correlations, detection on the joined view) and
privacy per table and on the joined view, as JSON and as one HTML page.

Privacy needs rows the model never saw: with a model fitted with a holdout (whole families of rows,
:func:`mirage.relational.split_database`), every table's report has its privacy scores and each parent
table's joined view (its rows with aggregates of their children) its DCR share; without one, the
report says so and scores fidelity only.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from mirage.errors import MirageError, OptionError
from mirage.evaluation._directions import DIRECTIONS
from mirage.evaluation._report import Report, clean_json

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from mirage.evaluation._relational import RelationalScores
    from mirage.relational import RelationalSynthesizer
    from mirage.schema import DatabaseSchema

__all__ = [
    "DATABASE_DIRECTIONS",
    "DatabaseReport",
    "all_rare_columns",
    "all_rare_notes",
    "check_gate_names",
    "evaluate_database",
]

# Database-wide score -> (direction, meaning), as DIRECTIONS for one table.
DATABASE_DIRECTIONS: dict[str, tuple[str, str]] = {
    "referential_integrity": (
        "higher",
        "share of foreign key values that point to a parent row (1.0 needed)",
    ),
    "cardinality_similarity": (
        "higher",
        "1 - KS between real and synthetic children per parent, mean over keys",
    ),
    "cardinality_min": ("higher", "the lowest cardinality similarity over the foreign keys"),
    "parent_child_correlations": (
        "higher",
        "1 - the gap between real and synthetic parent-child associations",
    ),
    "joined_detection_auc": (
        "half",
        "ROC AUC telling real from synthetic parent rows joined with their children's aggregates (0.5 ideal)",
    ),
    "joined_protected_view_auc": (
        "half",
        "the same AUC with the values the synthetic data withholds or replaces hidden on both sides "
        "(mirage.evaluation.protected_view): what the model learned; 0.5 ideal",
    ),
    "joined_dcr_share": (
        "half",
        "DCR share on the joined view (parent rows with their children's aggregates), the highest over the "
        "parent tables; 0.5 = as close to learned rows as to held ones",
    ),
}


def check_gate_names(names: Iterable[str]) -> None:
    """A gate names a database score, a single-table score (then the worst table's value is gated) or
    ``TABLE.SCORE``; anything else is an ``OptionError``."""
    for name in names:
        score = name.rsplit(".", 1)[-1]
        if name in DATABASE_DIRECTIONS or score in DIRECTIONS:
            continue
        known = ", ".join([*DATABASE_DIRECTIONS, *DIRECTIONS])
        raise OptionError(f"unknown score {name!r} in a gate (known: {known}; or TABLE.SCORE)")


@dataclass
class DatabaseReport:
    """Per-table reports (``tables``), the relational scores, the joined-view privacy and notes."""

    tables: dict[str, Report]
    relational: RelationalScores
    joined_privacy: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, float | None]:
        """The headline numbers: the database-wide scores, then each table's quality and DCR share."""
        headline = self.relational.summary()
        cardinality = [v["score"] for v in self.relational.cardinality["per_foreign_key"].values()]
        shares = [v["dcr_share"] for v in self.joined_privacy.values() if v.get("dcr_share") is not None]
        out: dict[str, float | None] = {
            "referential_integrity": headline["referential_integrity"],
            "cardinality_similarity": headline["cardinality_similarity"],
            "cardinality_min": min(cardinality) if cardinality else None,
            "parent_child_correlations": headline["parent_child_correlations"],
            "joined_detection_auc": headline["detection_auc"],
            "joined_protected_view_auc": self.relational.detection.get("protected_view_auc"),
            "joined_dcr_share": max(shares) if shares else None,
        }
        for name, report in self.tables.items():
            out[f"{name}.quality"] = report.scores.get("quality")
            out[f"{name}.dcr_share"] = report.scores.get("dcr_share")
        return out

    def value(self, name: str, word: str) -> float | None:
        """The value a gate reads: a database score, ``TABLE.SCORE``, or a table score's worst value
        over the tables (lowest for ``under``, highest for ``over``)."""
        if name in DATABASE_DIRECTIONS:
            return self.summary()[name]
        table, _, score = name.rpartition(".")
        if table:
            if table in self.meta.get("reference_tables", ()):
                return None
            if table not in self.tables:
                raise OptionError(f"gate {name!r}: no table {table!r} (tables: {', '.join(self.tables)})")
            return self.tables[table].scores.get(score)
        values = [v for r in self.tables.values() if (v := r.scores.get(score)) is not None]
        if not values:
            return None
        return min(values) if word == "under" else max(values)

    def check(
        self, fail_under: Mapping[str, float] | None = None, fail_over: Mapping[str, float] | None = None
    ) -> list[str]:
        """The failed gates as readable lines; an empty list means every gate passed."""
        failures = []
        for word, gates in (("under", fail_under or {}), ("over", fail_over or {})):
            check_gate_names(gates)
            for name, threshold in gates.items():
                value = self.value(name, word)
                table = name.rpartition(".")[0]
                if value is None and table in self.meta.get("reference_tables", ()):
                    failures.append(
                        f"{name}: table {table!r} is reference data, copied as is on purpose, and has no "
                        "scores; remove the gate, or unmark the table to learn it"
                    )
                elif value is None:
                    failures.append(f"{name} was not computed (privacy needs a model fitted with --holdout)")
                elif (value < threshold) if word == "under" else (value > threshold):
                    failures.append(f"{name} = {value:.4f} is {word} {threshold}")
        return failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "relational": self.relational.to_dict(),
            "joined_privacy": self.joined_privacy,
            "tables": {
                name: {k: v for k, v in report.to_dict().items() if k != "directions"}
                for name, report in self.tables.items()
            },
            "directions": {
                **{k: {"better": d, "meaning": m} for k, (d, m) in DATABASE_DIRECTIONS.items()},
                **{k: {"section": s, "better": d, "meaning": m} for k, (s, d, m) in DIRECTIONS.items()},
            },
            "notes": list(self.notes),
            "meta": self.meta,
        }

    def to_json(self, path: str | None = None, *, force: bool = False) -> str:
        text = json.dumps(clean_json(self.to_dict()), indent=2, allow_nan=False)
        if path is not None:
            _write_text(path, text, force=force)
        return text

    def to_html(self, path: str | None = None, *, force: bool = False) -> str:
        text = _render(self)
        if path is not None:
            _write_text(path, text, force=force)
        return text


def _write_text(path: str, text: str, *, force: bool) -> None:
    from mirage.io import atomic_path

    with atomic_path(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _unkeyed(database: DatabaseSchema, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    keys = set(database.key_columns(table))
    return frame[[c for c in frame.columns if c not in keys]]


def evaluate_database(
    model: RelationalSynthesizer,
    frames: Mapping[str, pd.DataFrame],
    *,
    seed: int = 0,
    detection: bool = True,
) -> DatabaseReport:
    """Sample a database from ``model`` (seed ``seed``, the learned size) and score it against the real
    ``frames`` (all rows; the model's holdout, if it has one, is split off again and used for privacy)."""
    from mirage.evaluation._evaluate import evaluate
    from mirage.evaluation._relational import evaluate_relational
    from mirage.relational import SMALL_TABLE_ROWS, small_table_message, split_database
    from mirage.schema import Schema

    database = model.database
    training = model.training_
    notes: list[str] = []
    held: dict[str, pd.DataFrame] | None = None
    real = {name: frames[name].reset_index(drop=True) for name in database.tables}
    if "holdout_fraction" in training:
        real, held = split_database(
            database, real, float(training["holdout_fraction"]), int(training.get("split_seed", 0))
        )
    else:
        notes.append(
            "no privacy scores: the model was fitted without a holdout (mirage fit ... --holdout 0.2 keeps "
            "whole families of rows aside for them)"
        )
    synthetic = model.sample(scale=1.0, seed=seed)
    notes.extend(all_rare_notes(database, synthetic))
    notes.extend(
        small_table_message(name, len(real[name]))
        for name in database.order()
        if model.engines_.get(name) is not None and len(real[name]) < SMALL_TABLE_ROWS
    )
    tables: dict[str, Report] = {}
    for name in database.order():
        if database[name].reference:
            notes.append(
                f"table {name!r}: reference data (lookup rows), copied as is on purpose; not scored, and "
                "excluded from the privacy gates (dcr_share and the other no-copy scores)"
            )
            continue
        schema = database[name].schema
        columns = [c for c in schema if c.name not in set(database.key_columns(name))]
        if not columns or not len(real[name]) or not len(synthetic[name]):
            notes.append(f"table {name!r}: no learned columns or no rows; not scored")
            continue
        table_held = None
        if held is not None and len(held[name]):
            table_held = _unkeyed(database, name, held[name])
        elif held is not None:
            notes.append(f"table {name!r}: no held rows (kept whole for its children); no privacy scores")
        try:
            tables[name] = evaluate(
                _unkeyed(database, name, real[name]),
                _unkeyed(database, name, synthetic[name]),
                holdout=table_held,
                schema=Schema(columns, locale=schema.locale),
                seed=seed,
            )
        except MirageError as exc:
            notes.append(f"table {name!r}: not scored ({exc})")
    relational = evaluate_relational(database, real, synthetic, detection=detection, seed=seed, n_threads=1)
    joined = _joined_privacy(database, real, held, synthetic, seed) if held is not None else {}
    return DatabaseReport(
        tables=tables,
        relational=relational,
        joined_privacy=joined,
        notes=notes,
        meta={
            "seed": seed,
            "reference_tables": [n for n in database.order() if database[n].reference],
            "all_rare_columns": all_rare_columns(database, synthetic),
            "real_rows": {n: len(f) for n, f in real.items()},
            "synthetic_rows": {n: len(f) for n, f in synthetic.items()},
            "holdout_rows": None if held is None else {n: len(f) for n, f in held.items()},
        },
    )


def all_rare_columns(database: DatabaseSchema, synthetic: Mapping[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Per table, the categorical columns whose every present synthetic value is the rare token."""
    from mirage.encoding.categorical import RARE_TOKEN
    from mirage.schema import Kind

    out: dict[str, list[str]] = {}
    for name in database.order():
        frame = synthetic[name]
        for column in database[name].schema:
            if column.kind is not Kind.CATEGORICAL or column.name not in frame.columns:
                continue
            present = frame[column.name].dropna()
            if len(present) and (present.astype(str) == RARE_TOKEN).all():
                out.setdefault(name, []).append(column.name)
    return out


def all_rare_notes(database: DatabaseSchema, synthetic: Mapping[str, pd.DataFrame]) -> list[str]:
    """One line per column that came out all ``_RARE_``: value protection withheld every value."""
    from mirage.encoding.categorical import RARE_TOKEN

    return [
        f"table {name!r}: column {column!r} came out all {RARE_TOKEN} (every value is rarer than "
        "rare_min_count in the learned rows, or on a small table than rare_min_count and a margin, so "
        "value protection withheld them all); a lower rare_min_count keeps more values, at a cost in "
        "privacy"
        for name, columns in all_rare_columns(database, synthetic).items()
        for column in columns
    ]


def _joined_privacy(
    database: DatabaseSchema,
    real: Mapping[str, pd.DataFrame],
    held: Mapping[str, pd.DataFrame],
    synthetic: Mapping[str, pd.DataFrame],
    seed: int,
) -> dict[str, Any]:
    """Per parent table with held rows, the DCR share of its joined view (rows with aggregates of
    their children): do synthetic families sit closer to learned families than to held ones?"""
    from mirage.evaluation._privacy import dcr
    from mirage.evaluation._relational import denormalise

    out: dict[str, Any] = {}
    for table in database.order():
        if not [fk for fk in database.children(table) if not fk.self_reference] or not len(held[table]):
            continue
        train_flat, schema = denormalise(database, real, table)
        held_flat, _ = denormalise(database, held, table)
        synthetic_flat, _ = denormalise(database, synthetic, table)
        result = dcr(train_flat, held_flat, synthetic_flat, schema, seed=seed, return_distances=False)
        out[table] = {
            "dcr_share": result["dcr_share"],
            "exact_copy_rate": result["exact_copy_rate"],
            "rows": {"train": len(train_flat), "holdout": len(held_flat), "synthetic": len(synthetic_flat)},
        }
    return out


# --- HTML -----------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.75rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; }
"""


def _cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_cell_text(v)}</td>'
            if isinstance(v, (int, float)) or v is None
            else f"<td>{_cell_text(v)}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


TABLE_SCORES = (
    "quality",
    "column_shapes",
    "column_pairs",
    "detection_auc",
    "coverage",
    "dcr_share",
    "mia_auc",
)


def _render(report: DatabaseReport) -> str:
    relational = report.relational
    summary = report.summary()
    parts = ["<h1>Synthetic database report</h1>"]
    parts += [f'<p class="note">{html.escape(line)}</p>' for line in report.notes]
    parts.append("<h2>Across tables</h2>")
    parts.append(
        _table(
            ["score", "value", "better", "meaning"],
            [[n, summary[n], d, m] for n, (d, m) in DATABASE_DIRECTIONS.items()],
        )
    )
    parts.append("<h3>Children per parent</h3>")
    parts.append(
        _table(
            ["foreign key", "cardinality similarity", "real mean", "synthetic mean"],
            [
                [fk, v.get("score"), v.get("real_mean"), v.get("synthetic_mean")]
                for fk, v in relational.cardinality["per_foreign_key"].items()
            ],
        )
    )
    parts.append("<h3>Parent-child correlations</h3>")
    parts.append(
        _table(
            ["foreign key", "score", "pairs"],
            [
                [fk, v.get("score"), v.get("pairs")]
                for fk, v in relational.correlations["per_foreign_key"].items()
            ],
        )
    )
    if relational.detection:
        parts.append("<h3>Detection on the joined view</h3>")
        parts.append(
            _table(
                ["parent table", "detection AUC", "features", "rows per class"],
                [
                    [t, v.get("detection_auc"), v.get("features"), v.get("rows_per_class")]
                    for t, v in relational.detection.get("per_table", {}).items()
                ],
            )
        )
    if report.joined_privacy:
        parts.append("<h3>Privacy on the joined view</h3>")
        parts.append(
            _table(
                ["parent table", "DCR share", "exact copy rate"],
                [[t, v["dcr_share"], v["exact_copy_rate"]] for t, v in report.joined_privacy.items()],
            )
        )
    problems = relational.integrity.get("problems", [])
    parts.append(
        "<p>Referential integrity: "
        + ("every key valid.</p>" if not problems else f"{len(problems)} problems:</p>")
    )
    if problems:
        parts.append("<ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in problems[:50]) + "</ul>")
    parts.append("<h2>Per table</h2>")
    parts.append(
        _table(
            ["table", *TABLE_SCORES],
            [[name, *(r.scores.get(s) for s in TABLE_SCORES)] for name, r in report.tables.items()],
        )
    )
    for name, table_report in report.tables.items():
        verdicts = "".join(
            f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in table_report.verdicts.items()
        )
        parts.append(f"<h3>{html.escape(name)}</h3><ul>{verdicts}</ul>")
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Synthetic database report</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
