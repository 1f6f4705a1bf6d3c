"""The sequence report's page: the table report's style and plots (plotly.js embedded once, no network
needed to view it) with the sections that event histories need.

Per-column fidelity of the events' values reuses the table report's column plots; then the lengths
and gaps of histories, lag-k autocorrelation real against synthetic, transitions and coherence of
categories, per-entity consistency of constant columns, and detection and distance to the closest
record on entity rows (one row of aggregates per entity).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mirage.evaluation._html import (
    LEGEND,
    PAGE_STYLE,
    PLOT_CONFIG,
    REAL,
    SYNTH,
    _bins,
    _column_figures,
    _fmt,
    _short_labels,
)
from mirage.schema import Schema

__all__ = ["SequenceFields", "render_sequence_html", "sequence_figures"]


class SequenceFields(Protocol):
    """What the page reads of a sequence report (:class:`mirage.evaluation._sequential.SequenceReport`
    has all of it); the page imports nothing of the report, so neither imports the other."""

    @property
    def scores(self) -> dict[str, float | None]: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def schema(self) -> Any: ...
    @property
    def meta(self) -> dict[str, Any]: ...
    @property
    def frames(self) -> dict[str, pd.DataFrame]: ...
    @property
    def series(self) -> dict[str, dict[str, np.ndarray]]: ...
    @property
    def directions(self) -> dict[str, tuple[str, str]]: ...
    def value_schema(self) -> Schema: ...


BEST = {"higher": "higher is better", "lower": "lower is better", "half": "0.5 is ideal"}


@dataclass
class _ColumnsView:
    """What the table report's column plots read (:class:`mirage.evaluation._html.ReportFields`)."""

    schema: Schema | None
    details: dict[str, Any]
    scores: dict[str, float | None] = field(default_factory=dict)
    reference: dict[str, float | None] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


def _histogram(real: np.ndarray, synthetic: np.ndarray, title: str, axis: str) -> Any:
    import plotly.graph_objects as go

    real, synthetic = np.asarray(real, float), np.asarray(synthetic, float)
    both = np.concatenate([real, synthetic])
    both = both[np.isfinite(both)]
    bins = _bins(np.histogram_bin_edges(both, bins=30)) if both.size else None
    fig = go.Figure()
    for values, label, colour in ((real, "real", REAL), (synthetic, "synthetic", SYNTH)):
        fig.add_histogram(x=values, name=label, histnorm="probability", xbins=bins, marker_color=colour)
    fig.update_layout(title=title, height=340, legend=LEGEND, barmode="group", bargap=0.15)
    fig.update_xaxes(title=axis)
    return fig


def _autocorrelation_figure(autocorrelation: dict[str, dict[int, tuple[float, float]]]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    pairs = [(column, lag) for column, per in autocorrelation.items() for lag in sorted(per)]
    labels = _short_labels([f"{column} lag {lag}" for column, lag in pairs])
    for index, (label, colour) in enumerate((("real", REAL), ("synthetic", SYNTH))):
        values = [autocorrelation[column][lag][index] for column, lag in pairs]
        fig.add_bar(
            x=labels,
            y=values,
            name=label,
            marker_color=colour,
            text=[_fmt(v) for v in values],
            textposition="auto",
        )
    fig.update_layout(
        title="Autocorrelation within a history (lag 1, 2, ...)", height=380, legend=LEGEND, barmode="group"
    )
    fig.update_yaxes(range=[-1, 1])
    return fig


def _dcr_figure(dcr: dict[str, Any]) -> Any:
    held = dcr.get("holdout")
    if held is not None and "distances_to_train" in held:
        first, second = held["distances_to_train"], held["distances_to_holdout"]
        names = ("to closest training entity", "to closest holdout entity")
        title = "Distance of each synthetic entity to the closest real one (equally large sets)"
    else:
        first, second = dcr.get("distances_to_real", []), dcr.get("real_to_real", [])
        names = ("synthetic to closest real entity", "real to closest other real entity")
        title = "Distance to the closest real entity (aggregates per entity, standardised)"
    fig = _histogram(np.asarray(first), np.asarray(second), title, "distance")
    fig.data[0].name, fig.data[1].name = names
    fig.data[0].marker.color, fig.data[1].marker.color = SYNTH, REAL
    return fig


def sequence_figures(report: SequenceFields) -> list[tuple[str, Any]]:
    """Every plot of the sequence report as ``(section, plotly figure)``, in page order."""
    figures: list[tuple[str, Any]] = []
    schema = report.schema
    real, synthetic = report.frames.get("real"), report.frames.get("synthetic")
    if real is not None and synthetic is not None:
        view = _ColumnsView(report.value_schema(), {"column_shapes": report.details.get("column_shapes", [])})
        figures += [("columns", fig) for fig in _column_figures(view, real, synthetic)]
        figures.append(
            (
                "histories",
                _histogram(
                    report.series["lengths"]["real"],
                    report.series["lengths"]["synthetic"],
                    f"Events per entity: 1-KS {_fmt(report.scores.get('length_ks'))}",
                    "events",
                ),
            )
        )
        unit = "seconds" if schema.timestamped else "steps"
        figures.append(
            (
                "histories",
                _histogram(
                    report.series["gaps"]["real"],
                    report.series["gaps"]["synthetic"],
                    f"Gaps between consecutive events: 1-KS {_fmt(report.scores.get('gap_ks'))}",
                    unit,
                ),
            )
        )
    if report.details.get("autocorrelation"):
        figures.append(("histories", _autocorrelation_figure(report.details["autocorrelation"])))
    figures.append(("entities", _dcr_figure(report.details["dcr"])))
    for _, fig in figures:
        fig.update_layout(template="plotly_white")
        fig.update_layout(margin={"l": 50, "r": 20, "t": 80, "b": 40}, title={"y": 0.98, "yanchor": "top"})
    return figures


def _scores_html(report: SequenceFields) -> str:
    rows = [
        f"<tr><td><code>{name}</code></td><td>{_fmt(report.scores.get(name))}</td><td>{BEST[better]}</td>"
        f"<td>{html.escape(meaning)}</td></tr>"
        for name, (better, meaning) in report.directions.items()
    ]
    return (
        "<table><thead><tr><th>score (gate name)</th><th>synthetic</th><th>direction</th><th>meaning</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _histories_html(report: SequenceFields) -> str:
    details = report.details
    parts = []
    if details["autocorrelation"]:
        rows = [
            [column, *[value for lag in sorted(per) for value in per[lag]]]
            for column, per in details["autocorrelation"].items()
        ]
        lags = sorted(next(iter(details["autocorrelation"].values())))
        headers = ["column", *[f"lag {lag} {side}" for lag in lags for side in ("real", "synthetic")]]
        parts.append("<h3>Autocorrelation</h3>" + _table(headers, rows))
    categorical = list(details["transitions"])
    if categorical:
        rows = [[c, details["transitions"][c], details["coherence"][c]] for c in categorical]
        parts.append(
            "<h3>Categories along a history</h3>"
            '<p class="explain">Transitions: 1 - TVD of the pairs of consecutive values. Coherence: the '
            "share of synthetic entities whose set of values some real entity has.</p>"
            + _table(["column", "transitions", "coherence"], rows)
        )
    if details["per_step"]:
        steps = len(next(iter(details["per_step"].values())))
        rows = [[c, *scores] for c, scores in details["per_step"].items()]
        parts.append(
            "<h3>Per-step marginals (1-KS or 1-TVD of the t-th event)</h3>"
            + _table(["column", *[f"event {t + 1}" for t in range(steps)]], rows)
        )
    return "".join(parts)


def _entities_html(report: SequenceFields) -> str:
    details, scores = report.details, report.scores
    consistency = details["consistency"]
    parts = ["<h3>Consistency of constant columns</h3>"]
    if consistency:
        parts.append(
            '<p class="explain">Columns holding one value along every real entity\'s history (a '
            "subject's group, a customer's segment): the share of synthetic entities that keep one too.</p>"
            + _table(
                ["column", "synthetic entities holding one value"], [[c, v] for c, v in consistency.items()]
            )
        )
    else:
        parts.append("<p>No column is constant along the real entities' histories.</p>")
    auc = scores.get("detection_auc")
    parts.append(
        "<h3>Detection on entity rows</h3>"
        f'<p class="explain">Detection AUC {_fmt(auc)}: a gradient-boosting classifier tells real from '
        "synthetic entities by one row of aggregates each (length, gaps, each numeric column's mean, "
        "spread, first and last value and mean change, the shares of the real data's commonest "
        "categories); 0.5 means it cannot, 1 that it always can.</p>"
    )
    held = details["dcr"].get("holdout")
    if held is not None:
        text = (
            f"DCR share on entity rows {_fmt(held['dcr_share'])} (0.5: synthetic entities are as close to "
            f"the training entities as to the holdout ones; bar {held['dcr_share_limit']}); "
            f"synthetic entities equal to a training one: {_fmt(held['exact_copy_rate'])} "
            f"(holdout entities equal to a training one: {_fmt(held['holdout_copy_rate'])})."
        )
    else:
        text = (
            "No holdout: the DCR share needs real entities the model never saw (pass --holdout "
            "HELD_EVENTS.csv). Synthetic entities equal to a real one: "
            f"{_fmt(details['dcr']['copied_share'])};"
            " closer to a real entity than real entities are to each other (median): "
            f"{_fmt(details['dcr']['closer_than_real_share'])}."
        )
    parts.append(f'<h3>Privacy on entity rows</h3><p class="explain">{html.escape(text)}</p>')
    return "".join(parts)


def _meta_line(report: SequenceFields) -> str:
    meta = report.meta
    entities, events = meta.get("entities", {}), meta.get("events", {})
    parts = [f"{side}: {count:,} entities" for side, count in entities.items()]
    parts += [f"{side}: {count:,} events" for side, count in events.items()]
    parts.append(f"entity {meta.get('entity')!r}, ordered by {meta.get('order')!r}")
    if meta.get("model"):
        parts.append(f"model {meta['model']}")
    return " · ".join(parts)


def render_sequence_html(report: SequenceFields) -> str:
    """The sequence report as one self-contained HTML page."""
    import plotly

    divs = [
        (section, fig.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG))
        for section, fig in sequence_figures(report)
    ]

    def section(name: str) -> str:
        return "".join(f'<div class="plot">{div}</div>' for s, div in divs if s == name)

    return _PAGE.format(
        style=PAGE_STYLE,
        plotly_js=plotly.offline.get_plotlyjs(),
        meta=html.escape(_meta_line(report)),
        scores=_scores_html(report),
        columns=section("columns") or "<p>No value columns to plot.</p>",
        histories=f'<div class="grid">{section("histories")}</div>' + _histories_html(report),
        entities=_entities_html(report) + section("entities"),
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mirage: Sequence report</title>
<style>
{style}</style>
<script type="text/javascript">{plotly_js}</script>
</head><body>
<h1>Sequence report</h1>
<p class="meta">{meta}</p>
<h2 id="summary">Summary</h2>
{scores}
<h2 id="columns">Columns of the events: real vs synthetic</h2>
<div class="grid">{columns}</div>
<h2 id="histories">Histories: lengths, gaps, autocorrelation</h2>
{histories}
<h2 id="entities">Entities: consistency, detection, privacy</h2>
{entities}
</body></html>
"""
