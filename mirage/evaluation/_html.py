"""The self-contained HTML report: plotly.js embedded once, no network needed to view it."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mirage.encoding.datetime import parse_datetimes
from mirage.schema import Kind

if TYPE_CHECKING:
    from mirage.evaluation._evaluate import Report

__all__ = ["render_html"]

MAX_COLUMN_PLOTS = 40
REAL, SYNTH = "#1f5fa8", "#e07b24"

THREAT_MODELS = {
    "dcr": "An observer of the synthetic table looks for real records reproduced in it. Each synthetic "
    "row's distance to its closest training row is compared with its distance to the closest holdout row "
    "(real rows never learned); a share near 0.5 means synthetic rows are no closer to the training data "
    "than fresh rows are.",
    "membership_inference": "The attacker holds the synthetic table and a full candidate record and "
    "guesses that the record was in the training data when a synthetic row lies close to it. AUC 0.5 means "
    "members and non-members cannot be told apart.",
    "singling_out": "Holding only the synthetic table, the attacker claims that exactly one person in the "
    "real data has a given rare value or extreme; success on training rows is compared with success on "
    "holdout rows (Anonymeter's method).",
    "linkability": "The attacker holds two databases about the same people, each with some of the "
    "columns, and links them through their nearest synthetic rows.",
    "inference": "The attacker knows every column of a person but one and guesses that secret from the "
    "nearest synthetic row; the risk is the gain on training rows over holdout rows (worst column shown).",
}


def render_html(report: Report) -> str:
    import plotly
    import plotly.graph_objects as go

    figures: list[tuple[str, str]] = []

    def add(section: str, fig: go.Figure) -> None:
        fig.update_layout(template="plotly_white", margin={"l": 50, "r": 20, "t": 50, "b": 40})
        figures.append(
            (section, fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))
        )

    real, synth = report.frames.get("real"), report.frames.get("synthetic")
    if real is not None and synth is not None and report.schema is not None:
        for fig in _column_figures(report, real, synth):
            add("columns", fig)
        heat = _heatmaps(report, real, synth)
        if heat is not None:
            add("pairs", heat)
    detection = report.details.get("detection", {})
    if detection.get("top_features"):
        feats = detection["top_features"][::-1]
        fig = go.Figure(
            go.Bar(
                x=[f["importance"] for f in feats],
                y=[f["feature"] for f in feats],
                orientation="h",
                marker_color=SYNTH,
            )
        )
        fig.update_layout(title="What gives synthetic rows away (drop in detection AUC)", height=340)
        add("detection", fig)
    utility = report.details.get("utility")
    if utility:
        fig = go.Figure(
            go.Bar(
                x=["train real, test real (TRTR)", "train synthetic, test real (TSTR)"],
                y=[utility["trtr"], utility["tstr"]],
                marker_color=[REAL, SYNTH],
            )
        )
        fig.update_layout(title=f"Utility for {utility['target']!r}: {utility['metric']}", height=340)
        add("utility", fig)
    privacy = report.details.get("privacy")
    if privacy and "distances_to_train" in privacy["dcr"]:
        dcr = privacy["dcr"]
        fig = go.Figure()
        fig.add_histogram(
            x=dcr["distances_to_train"],
            name="to closest training row",
            opacity=0.6,
            marker_color=SYNTH,
            nbinsx=60,
        )
        fig.add_histogram(
            x=dcr["distances_to_holdout"],
            name="to closest holdout row",
            opacity=0.6,
            marker_color=REAL,
            nbinsx=60,
        )
        fig.update_layout(
            barmode="overlay", title="Distance to closest record of each synthetic row", height=360
        )
        add("privacy", fig)

    sections = {
        name: "".join(f'<div class="plot">{div}</div>' for s, div in figures if s == name)
        for name in {s for s, _ in figures}
    }
    return _PAGE.format(
        plotly_js=plotly.offline.get_plotlyjs(),
        summary=_summary_html(report),
        scores=_scores_html(report),
        columns=sections.get("columns", "<p>No learned columns to plot.</p>"),
        pairs=sections.get("pairs", "<p>Fewer than two learned columns.</p>"),
        detection=sections.get("detection", ""),
        utility=sections.get("utility", "<p>Not measured: give a holdout and a target column.</p>"),
        privacy=sections.get("privacy", "") + _privacy_html(report),
        meta=html.escape(_meta_line(report)),
    )


def _column_figures(report: Report, real: pd.DataFrame, synth: pd.DataFrame) -> list[Any]:
    import plotly.graph_objects as go

    assert report.schema is not None
    shapes = {row["column"]: row["score"] for row in report.details.get("column_shapes", [])}
    figures = []
    for column in [c for c in report.schema if c.kind.learned][:MAX_COLUMN_PLOTS]:
        name = column.name
        fig = go.Figure()
        if column.kind is Kind.NUMERIC:
            a = pd.to_numeric(real[name], errors="coerce").dropna()
            b = pd.to_numeric(synth[name], errors="coerce").dropna()
            both = np.concatenate([a.to_numpy(dtype=float), b.to_numpy(dtype=float)])
            bins = _bins(np.histogram_bin_edges(both, bins=40)) if both.size else None
            fig.add_histogram(
                x=a, name="real", histnorm="probability", xbins=bins, marker_color=REAL, opacity=0.6
            )
            fig.add_histogram(
                x=b, name="synthetic", histnorm="probability", xbins=bins, marker_color=SYNTH, opacity=0.6
            )
            fig.update_layout(barmode="overlay")
        elif column.kind is Kind.DATETIME:
            for frame, label, colour in ((real, "real", REAL), (synth, "synthetic", SYNTH)):
                stamps = parse_datetimes(frame[name], name, column.datetime_format).dropna()
                fig.add_histogram(
                    x=stamps, name=label, histnorm="probability", nbinsx=40, marker_color=colour, opacity=0.6
                )
            fig.update_layout(barmode="overlay")
        else:
            p = real[name].astype(str).where(real[name].notna(), "(missing)").value_counts(normalize=True)
            q = synth[name].astype(str).where(synth[name].notna(), "(missing)").value_counts(normalize=True)
            labels = list(p.index[:30]) + [v for v in q.index[:30] if v not in set(p.index[:30])]
            fig.add_bar(x=labels, y=[p.get(v, 0.0) for v in labels], name="real", marker_color=REAL)
            fig.add_bar(x=labels, y=[q.get(v, 0.0) for v in labels], name="synthetic", marker_color=SYNTH)
        score = shapes.get(name)
        title = f"{name} ({column.kind.value})" + (f": score {score:.3f}" if isinstance(score, float) else "")
        fig.update_layout(title=title, height=300, showlegend=True, legend={"orientation": "h", "y": -0.25})
        figures.append(fig)
    return figures


def _bins(edges: np.ndarray) -> dict[str, float] | None:
    if len(edges) < 2:
        return None
    return {"start": float(edges[0]), "end": float(edges[-1]), "size": float(edges[1] - edges[0]) or 1.0}


def _heatmaps(report: Report, real: pd.DataFrame, synth: pd.DataFrame) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from mirage.evaluation._pairs import association_matrices

    matrices = association_matrices(real, synth, report.schema)
    if matrices["real"].shape[0] < 2:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("real", "synthetic"), horizontal_spacing=0.12)
    for i, key in enumerate(("real", "synthetic"), start=1):
        m = matrices[key]
        fig.add_trace(
            go.Heatmap(
                z=m.to_numpy(),
                x=list(m.columns),
                y=list(m.index),
                zmin=-1,
                zmax=1,
                colorscale="RdBu",
                reversescale=True,
                showscale=i == 2,
            ),
            row=1,
            col=i,
        )
    size = max(420, 18 * matrices["real"].shape[0] + 200)
    fig.update_layout(
        title="Associations: Spearman (numbers), Cramér's V and correlation ratio (categories)", height=size
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def _summary_html(report: Report) -> str:
    cards = []
    for name in ("fidelity", "utility", "privacy"):
        value = report.scores.get(name)
        level = "na" if value is None else ("good" if value >= 0.9 else "ok" if value >= 0.75 else "bad")
        cards.append(
            f'<div class="card {level}"><h3>{name.title()}</h3><div class="big">{_fmt(value)}</div>'
            f"<p>{html.escape(report.verdicts.get(name, ''))}</p></div>"
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _scores_html(report: Report) -> str:
    from mirage.evaluation._evaluate import DIRECTIONS

    rows = []
    for name, (section, better, meaning) in DIRECTIONS.items():
        if section == "summary" or name not in report.scores:
            continue
        best = {"higher": "higher is better", "lower": "lower is better", "half": "0.5 is ideal"}[better]
        rows.append(
            f"<tr><td>{section}</td><td><code>{name}</code></td><td>{_fmt(report.scores[name])}</td>"
            f"<td>{_fmt(report.reference.get(name))}</td><td>{best}</td><td>{html.escape(meaning)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>section</th><th>score</th><th>synthetic</th><th>reference (holdout)</th>"
        "<th>direction</th><th>meaning</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _privacy_html(report: Report) -> str:
    privacy = report.details.get("privacy")
    if not privacy:
        return "<p>Not measured: privacy checks need a holdout (real rows the model never saw).</p>"
    rows = []
    dcr = privacy["dcr"]
    rows.append(
        (
            "distance to closest record",
            f"DCR share {_fmt(dcr['dcr_share'])} (limit {dcr['dcr_share_limit']}); "
            f"exact copies {_fmt(dcr['exact_copy_rate'])} vs holdout {_fmt(dcr['holdout_copy_rate'])}",
            THREAT_MODELS["dcr"],
        )
    )
    mia = privacy["membership_inference"]
    rows.append(
        (
            "membership inference",
            f"AUC {_fmt(mia['auc'])} [{_fmt(mia['auc_ci'][0])}, {_fmt(mia['auc_ci'][1])}]",
            THREAT_MODELS["membership_inference"],
        )
    )
    for key, label in (
        ("singling_out", "singling out"),
        ("linkability", "linkability"),
        ("inference", "attribute inference"),
    ):
        result = privacy[key]
        ci = result.get("risk_ci", [None, None])
        rows.append(
            (label, f"risk {_fmt(result['risk'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]", THREAT_MODELS[key])
        )
    body = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{b}</td><td>{html.escape(c)}</td></tr>" for a, b, c in rows
    )
    return (
        "<table><thead><tr><th>check</th><th>result (95% interval)</th><th>threat model</th></tr>"
        "</thead><tbody>" + body + "</tbody></table>"
    )


def _meta_line(report: Report) -> str:
    rows = report.meta.get("rows", {})
    parts = [f"{k}: {v:,} rows" for k, v in rows.items() if v is not None]
    if report.meta.get("target"):
        parts.append(f"target: {report.meta['target']}")
    return " · ".join(parts)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mirage synthetic data report</title>
<style>
body {{ font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 24px; color: #222; }}
h1 {{ margin-bottom: 4px; }} .meta {{ color: #666; margin-top: 0; }}
.cards {{ display: flex; gap: 16px; margin: 16px 0; }}
.card {{ flex: 1; border-radius: 8px; padding: 12px 16px; border: 1px solid #ddd; }}
.card h3 {{ margin: 0; }} .card .big {{ font-size: 2em; font-weight: 600; }}
.good {{ background: #eaf6ec; }} .ok {{ background: #fdf6e3; }}
.bad {{ background: #fdeaea; }} .na {{ background: #f4f4f4; }}
table {{ border-collapse: collapse; width: 100%; margin: 12px 0; font-size: 0.92em; }}
th, td {{ border-bottom: 1px solid #e5e5e5; padding: 6px 8px; text-align: left; vertical-align: top; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 8px; }}
</style>
<script type="text/javascript">{plotly_js}</script>
</head><body>
<h1>Mirage synthetic data report</h1>
<p class="meta">{meta}</p>
<h2>Summary</h2>
{summary}
{scores}
<h2>Columns: real vs synthetic</h2>
<div class="grid">{columns}</div>
<h2>Relationships between columns</h2>
{pairs}
<h2>Detection</h2>
{detection}
<h2>Utility</h2>
{utility}
<h2>Privacy</h2>
{privacy}
</body></html>
"""
