"""The self-contained HTML report: plotly.js embedded once, no network needed to view it.

The page is a one-way function of a report's fields (:class:`ReportFields`); this module imports
nothing of the report itself, so :meth:`mirage.evaluation.Report.to_html` can call it without a cycle.
"""

from __future__ import annotations

import html
import math
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mirage.encoding.datetime import parse_datetimes
from mirage.evaluation._directions import DIRECTIONS
from mirage.schema import Kind, Schema

__all__ = ["PAGE_STYLE", "ReportFields", "render_html", "report_figures"]

MAX_COLUMN_PLOTS = 40
MAX_LABEL = 16  # category labels longer than this are shortened on the axis (in full on hover)
REAL, SYNTH = "#1f5fa8", "#e07b24"  # blue and orange: apart for the common colour blindnesses too
# the mode bar would sit on the plot titles; zoom (drag) and reset (double-click) work without it
PLOT_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}
# a horizontal legend between the title and the plot, clear of the axis labels below
LEGEND = {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom"}

THREAT_MODELS = {
    "dcr": "An observer of the synthetic table looks for real records reproduced in it. For each synthetic "
    "row the closest real row is looked for among the training rows and the holdout rows (real rows never "
    "learned) together. Rows that owe nothing to the training data find a training row as often as training "
    "rows make up that pool; the share rescales the observed rate so that this reads 0.5 and 'always a "
    "training row' reads 1, whatever the split: a fraction f of copied rows reads about 0.5 + f/2. The "
    "bar is 0.53.",
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


class ReportFields(Protocol):
    """What the page reads of a report (:class:`mirage.evaluation.Report` has all of it)."""

    @property
    def scores(self) -> dict[str, float | None]: ...
    @property
    def reference(self) -> dict[str, float | None]: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def verdicts(self) -> dict[str, str]: ...
    @property
    def meta(self) -> dict[str, Any]: ...
    @property
    def frames(self) -> dict[str, pd.DataFrame]: ...
    @property
    def schema(self) -> Schema | None: ...


def render_html(report: ReportFields) -> str:
    import plotly

    divs = [
        (section, fig.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG))
        for section, fig in report_figures(report)
    ]
    sections = {
        name: "".join(f'<div class="plot">{div}</div>' for s, div in divs if s == name)
        for name in {s for s, _ in divs}
    }
    return _PAGE.format(
        plotly_js=plotly.offline.get_plotlyjs(),
        style=PAGE_STYLE,
        summary=_summary_html(report),
        scores=_scores_html(report),
        columns=sections.get("columns", "<p>No learned columns to plot.</p>"),
        pairs=sections.get("pairs", "<p>Fewer than two learned columns.</p>"),
        detection=sections.get("detection", "") + _detection_html(report),
        utility=sections.get("utility", "<p>Not measured: give a holdout and a target column.</p>")
        + _utility_html(report),
        privacy=sections.get("privacy", "") + _privacy_html(report) + _ledger_html(report),
        fairness=_fairness_html(report),
        meta=html.escape(_meta_line(report)),
    )


def report_figures(report: ReportFields) -> list[tuple[str, Any]]:
    """Every plot of the report as ``(section, plotly figure)``, in page order."""
    figures: list[tuple[str, Any]] = []
    real, synth = report.frames.get("real"), report.frames.get("synthetic")
    if real is not None and synth is not None and report.schema is not None:
        figures += [("columns", fig) for fig in _column_figures(report, real, synth)]
        heat = _heatmaps(report, real, synth)
        if heat is not None:
            figures.append(("pairs", heat))
    detection = report.details.get("detection", {})
    if detection.get("top_features"):
        figures.append(("detection", _detection_figure(detection["top_features"])))
    utility = report.details.get("utility")
    if utility:
        figures.append(("utility", _utility_figure(utility)))
    privacy = report.details.get("privacy")
    if privacy and "distances_to_train" in privacy["dcr"]:
        figures.append(("privacy", _dcr_figure(privacy["dcr"])))
    for _, fig in figures:
        fig.update_layout(template="plotly_white")
        fig.update_layout(margin={"l": 50, "r": 20, "t": 80, "b": 40}, title={"y": 0.98, "yanchor": "top"})
    return figures


def _detection_figure(top_features: list[dict[str, Any]]) -> Any:
    import plotly.graph_objects as go

    feats = top_features[::-1]
    fig = go.Figure(
        go.Bar(
            x=[f["importance"] for f in feats],
            y=[f["feature"] for f in feats],
            orientation="h",
            marker_color=SYNTH,
            text=[f"{f['importance']:.3f}" for f in feats],
            textposition="auto",
        )
    )
    fig.update_layout(title="What gives synthetic rows away (drop in detection AUC)", height=340)
    return fig


def _utility_figure(utility: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=["train real, test real (TRTR)", "train synthetic, test real (TSTR)"],
            y=[utility["trtr"], utility["tstr"]],
            marker_color=[REAL, SYNTH],
            text=[f"{utility['trtr']:.3f}", f"{utility['tstr']:.3f}"],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_layout(title=f"Utility for {utility['target']!r}: {utility['metric']}", height=340)
    return fig


def _dcr_figure(dcr: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    both = np.asarray(dcr["distances_to_train"] + dcr["distances_to_holdout"], dtype=float)
    both = both[np.isfinite(both)]
    bins = _bins(np.histogram_bin_edges(both, bins=40)) if both.size else None
    fig.add_histogram(
        x=dcr["distances_to_train"], name="to closest training row", marker_color=SYNTH, xbins=bins
    )
    fig.add_histogram(
        x=dcr["distances_to_holdout"], name="to closest holdout row", marker_color=REAL, xbins=bins
    )
    fig.update_layout(
        barmode="group",
        bargap=0.1,
        title="Distance to closest record of each synthetic row (equally large sets)",
        height=380,
        legend=LEGEND,
    )
    return fig


def _column_figures(report: ReportFields, real: pd.DataFrame, synth: pd.DataFrame) -> list[Any]:
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
            bins = _bins(np.histogram_bin_edges(both, bins=30)) if both.size else None
            for values, label, colour in ((a, "real", REAL), (b, "synthetic", SYNTH)):
                fig.add_histogram(
                    x=values, name=label, histnorm="probability", xbins=bins, marker_color=colour
                )
        elif column.kind is Kind.DATETIME:
            for frame, label, colour in ((real, "real", REAL), (synth, "synthetic", SYNTH)):
                stamps = parse_datetimes(frame[name], name, column.datetime_format).dropna()
                fig.add_histogram(
                    x=stamps, name=label, histnorm="probability", nbinsx=30, marker_color=colour
                )
        else:
            p = real[name].astype(str).where(real[name].notna(), "(missing)").value_counts(normalize=True)
            q = synth[name].astype(str).where(synth[name].notna(), "(missing)").value_counts(normalize=True)
            labels = list(p.index[:30]) + [v for v in q.index[:30] if v not in set(p.index[:30])]
            ticks = _short_labels(labels)
            for shares, label, colour in ((p, "real", REAL), (q, "synthetic", SYNTH)):
                fig.add_bar(
                    x=ticks,
                    y=[shares.get(v, 0.0) for v in labels],
                    name=label,
                    marker_color=colour,
                    customdata=labels,
                    hovertemplate="%{customdata}: %{y:.3f}<extra>" + label + "</extra>",
                )
            fig.update_xaxes(automargin=True)
        score = shapes.get(name)
        title = f"{name} ({column.kind.value})" + (f": score {score:.3f}" if isinstance(score, float) else "")
        fig.update_layout(
            title=title, height=340, showlegend=True, legend=LEGEND, barmode="group", bargap=0.15
        )
        figures.append(fig)
    return figures


def _short_labels(labels: list[str]) -> list[str]:
    """Axis labels of at most ``MAX_LABEL`` characters, still distinct (the full ones show on hover)."""
    short: list[str] = []
    for label in labels:
        # the start and the end of a long label: "Married-civ-spouse" -> "Married-ci\u2026pouse"
        text = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 6] + "\u2026" + label[-5:]
        while text in short:  # still equal to an earlier one: a zero-width space keeps them apart
            text += "\u200b"
        short.append(text)
    return short


def _bins(edges: np.ndarray) -> dict[str, float] | None:
    if len(edges) < 2:
        return None
    return {"start": float(edges[0]), "end": float(edges[-1]), "size": float(edges[1] - edges[0]) or 1.0}


def _heatmaps(report: ReportFields, real: pd.DataFrame, synth: pd.DataFrame) -> Any:
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


LEVEL_CLASS = {"good": "good", "attention": "ok", "bad": "bad", "na": "na"}
LEVEL_WORD = {"good": "good", "attention": "attention", "bad": "problem", "na": "not measured"}


def _summary_html(report: ReportFields) -> str:
    """One card per section: the overall score once, the verdict's headline and the figures behind it."""
    structured = report.details.get("verdicts", {})
    cards = []
    for name in ("fidelity", "utility", "privacy"):
        verdict = structured.get(name) or {"level": "na", "headline": report.verdicts.get(name, "")}
        level = verdict.get("level", "na")
        value, ref = report.scores.get(name), report.reference.get(name)
        number = f"{value:.3f}" if isinstance(value, (int, float)) else "-"
        ref_line = f'<div class="ref">holdout reference {ref:.3f}</div>' if isinstance(ref, float) else ""
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.get("reasons", []))
        cards.append(
            f'<div class="card {LEVEL_CLASS.get(level, "na")}">'
            f'<h3>{name.title()} <span class="level">{LEVEL_WORD.get(level, level)}</span></h3>'
            f'<div class="big">{number}</div>{ref_line}'
            f'<p class="headline">{html.escape(verdict.get("headline", ""))}</p>'
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + "</div>"
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _detection_html(report: ReportFields) -> str:
    auc = report.scores.get("detection_auc")
    if not isinstance(auc, float):
        return ""
    ref = report.reference.get("detection_auc")
    baseline = f" (the holdout against the training rows reads {ref:.2f})" if isinstance(ref, float) else ""
    return (
        f'<p class="explain">Detection AUC {auc:.2f}: a gradient-boosting classifier learns to tell '
        f"real rows from synthetic rows; 0.5 means it cannot{baseline}, 1 that it always can. Each bar "
        "is the drop in that AUC when one column is shuffled: the columns that give synthetic rows away."
        "</p>"
    )


def _utility_html(report: ReportFields) -> str:
    utility = report.details.get("utility")
    if not utility:
        return ""
    parts = [
        f"TSTR {utility['tstr']:.3f}: a model trained on the synthetic rows and tested on the real holdout; "
        f"TRTR {utility['trtr']:.3f}: the same model trained on the real training rows instead "
        f"({utility['metric']}, higher is better). Their ratio {utility['ratio']:.2f} is the utility."
    ]
    agreement = utility.get("importance_agreement")
    if isinstance(agreement, (int, float)):
        reading = (
            "both rely on much the same features"
            if agreement >= 0.7
            else "they partly rely on different features"
            if agreement >= 0.4
            else "they rely on different features, even where their scores are close: the synthetic rows "
            "carry the signal through other (correlated) columns, or lose some of the links between them"
        )
        parts.append(
            f"Feature-importance agreement {agreement:.2f} is the Spearman rank correlation between how much "
            "each feature matters to the model trained on synthetic rows and to the one trained on real "
            f"rows (1: the same order, 0: unrelated orders): here {reading}."
        )
    return "".join(f'<p class="explain">{html.escape(p)}</p>' for p in parts)


def _fairness_html(report: ReportFields) -> str:
    """Outcome rates per protected group, real beside synthetic, with the parity and odds gaps."""
    fair = report.details.get("fairness")
    if not fair:
        return ""
    real, synth = fair["real"], fair["synthetic"]
    groups = sorted(set(real["rates"]) | set(synth["rates"]))
    rows = "".join(
        f"<tr><td>{html.escape(g)}</td><td>{_fmt(real['rates'].get(g))}</td>"
        f"<td>{_fmt(synth['rates'].get(g))}</td><td>{real['rows'].get(g, 0):,}</td>"
        f"<td>{synth['rows'].get(g, 0):,}</td></tr>"
        for g in groups
    )
    totals = [("demographic parity difference", real["parity_difference"], synth["parity_difference"])]
    if "model" in real and "model" in synth:
        totals.append(
            (
                "equalised-odds gap of a model trained on the rows",
                real["model"]["equalised_odds_gap"],
                synth["model"]["equalised_odds_gap"],
            )
        )
    rows += "".join(
        f"<tr><td><b>{html.escape(name)}</b></td><td>{_fmt(a)}</td><td>{_fmt(b)}</td><td></td><td></td></tr>"
        for name, a, b in totals
    )
    explain = (
        f"Share of rows with {fair['outcome']} = {fair['positive']} in each group of {fair['protected']}, "
        "in the real and the synthetic rows. The parity difference is the largest gap between two groups' "
        "rates (0: equal); the equalised-odds gap is the largest gap in true- or false-positive rate "
        "between groups of a classifier trained on the rows and tested on the real holdout (0: equal errors)."
    )
    return (
        "<h2>Fairness</h2><table><thead><tr><th>group</th><th>real rate</th><th>synthetic rate</th>"
        "<th>real rows</th><th>synthetic rows</th></tr></thead><tbody>"
        + rows
        + f'</tbody></table><p class="explain">{html.escape(explain)}</p>'
    )


def _scores_html(report: ReportFields) -> str:
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


def _privacy_html(report: ReportFields) -> str:
    privacy = report.details.get("privacy")
    if not privacy:
        return "<p>Not measured: privacy checks need a holdout (real rows the model never saw).</p>"
    rows = []
    dcr = privacy["dcr"]
    rows.append(
        (
            "distance to closest record",
            f"DCR share {_fmt(dcr['dcr_share'])} [{_fmt(dcr['dcr_share_ci'][0])}, "
            f"{_fmt(dcr['dcr_share_ci'][1])}] (limit {dcr['dcr_share_limit']}): the closest real row is "
            f"a training row for {dcr['train_neighbour_rate']:.1%} of the synthetic rows, against "
            f"{dcr['train_neighbour_baseline']:.1%} by chance; exact copies {_fmt(dcr['exact_copy_rate'])} "
            f"vs holdout {_fmt(dcr['holdout_copy_rate'])}",
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


def _ledger_html(report: ReportFields) -> str:
    """A differentially private model's ledger: its budget and every mechanism's charge."""
    ledger = report.meta.get("privacy_ledger")
    if not ledger:
        return ""
    head = (
        f"<p>Differential privacy: epsilon {_fmt(ledger['epsilon_spent'])} spent of "
        f"{_fmt(ledger['epsilon'])} "
        f"at delta {ledger['delta']:g} (zCDP rho {ledger['rho_spent']:.4g} of {ledger['rho']:.4g}; "
        f"delta {ledger['delta_spent']:.3g} spent on thresholds).</p>"
    )
    rows = "".join(
        f"<tr><td>{html.escape(str(m['what']))}</td><td>{html.escape(str(m['mechanism']))}</td>"
        f"<td>{m['rho']:.4g}</td><td>{m['share']:.2%}</td><td>{m['sigma']:.4g}</td></tr>"
        for m in ledger["mechanisms"]
    )
    return (
        head + "<table><thead><tr><th>measured</th><th>mechanism</th><th>rho</th><th>share of budget</th>"
        "<th>noise scale</th></tr></thead><tbody>" + rows + "</tbody></table>"
    )


def _meta_line(report: ReportFields) -> str:
    rows = report.meta.get("rows", {})
    parts = [f"{k}: {v:,} rows" for k, v in rows.items() if v is not None]
    if report.meta.get("target"):
        parts.append(f"target: {report.meta['target']}")
    if report.meta.get("sample"):
        parts.append(str(report.meta["sample"]))
    return " · ".join(parts)


# the page's style sheet, shared with the sequence report's page (mirage.evaluation._sequence_html)
PAGE_STYLE = """body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 24px; color: #222; }
h1 { margin-bottom: 4px; } .meta { color: #666; margin-top: 0; }
.cards { display: flex; gap: 16px; margin: 16px 0; }
.card { flex: 1; border-radius: 8px; padding: 12px 16px; border: 1px solid #ddd; }
.card h3 { margin: 0; } .card .big { font-size: 2em; font-weight: 600; }
.card .level { font-size: 0.7em; font-weight: 500; padding: 1px 8px; border-radius: 10px;
               background: rgba(0, 0, 0, 0.07); vertical-align: middle; }
.card .ref { color: #555; font-size: 0.9em; } .card .headline { font-weight: 600; margin: 8px 0 4px; }
.card ul { margin: 0; padding-left: 18px; font-size: 0.9em; }
.explain { color: #333; max-width: 900px; }
.good { background: #eaf6ec; } .ok { background: #fdf6e3; }
.bad { background: #fdeaea; } .na { background: #f4f4f4; }
table { border-collapse: collapse; width: 100%; margin: 12px 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 6px 8px; text-align: left; vertical-align: top; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 8px; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mirage synthetic data report</title>
<style>
{style}</style>
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
{fairness}
</body></html>
"""
