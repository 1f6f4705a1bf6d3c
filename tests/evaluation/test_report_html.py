"""The report's plots: no mode bar over the titles, readable labels, two colours that stay apart,
numbers on the bars, and each summary number printed once."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from mirage.evaluation import Report, evaluate
from mirage.evaluation._html import MAX_LABEL, report_figures
from tests.evaluation.conftest import population_parts, summary_cards

LONG = [
    "Married-civ-spouse with a very long description",
    "Married-AF-spouse with a very long description",
    "Never-married",
]


@pytest.fixture(scope="module")
def report(adult: pd.DataFrame) -> Report:
    train, holdout, fresh = population_parts(adult.iloc[:1500], 0.8, seed=0)
    # a column of long labels sharing their first characters, as marital_status and occupation do
    train, holdout, fresh = (
        frame.assign(status=[LONG[i % 3] for i in range(len(frame))]) for frame in (train, holdout, fresh)
    )
    return evaluate(train, fresh, holdout=holdout, target="income", n_attacks=100)


def test_no_plot_shows_the_mode_bar_over_its_title(report: Report) -> None:
    page = report.to_html()
    plots = page.count("Plotly.newPlot(")
    assert plots >= 10
    assert page.count('"displayModeBar": false') == plots


def test_real_and_synthetic_bars_stand_side_by_side_in_two_colours(report: Report) -> None:
    figures = [fig for section, fig in report_figures(report) if section in ("columns", "privacy")]
    for fig in figures:
        assert fig.layout.barmode == "group", fig.layout.title.text
        colours = {trace.marker.color for trace in fig.data}
        assert len(colours) == len(fig.data) == 2, fig.layout.title.text
        assert all(trace.opacity is None or trace.opacity == 1 for trace in fig.data)
        # the legend sits above the plot area, clear of the axis labels below it
        assert fig.layout.legend.y >= 1 and fig.layout.legend.yanchor == "bottom"


def test_long_category_labels_are_shortened_apart_and_shown_in_full_on_hover(report: Report) -> None:
    fig = next(
        f for s, f in report_figures(report) if s == "columns" and f.layout.title.text.startswith("status")
    )
    for trace in fig.data:
        ticks, full = list(trace.x), list(trace.customdata)
        assert sorted(full) == sorted(LONG)
        assert all(len(t.rstrip("\u200b")) <= MAX_LABEL for t in ticks)
        assert len(set(ticks)) == len(ticks)  # the two "Married-..." labels stay apart
        assert "customdata" in trace.hovertemplate
    assert fig.layout.xaxis.automargin is True


def test_utility_and_detection_bars_carry_their_numbers(report: Report) -> None:
    figures = dict(report_figures(report))
    utility = report.details["utility"]
    bars = figures["utility"].data[0]
    assert list(bars.text) == [f"{utility['trtr']:.3f}", f"{utility['tstr']:.3f}"]
    detection = figures["detection"].data[0]
    assert len(detection.text) == len(detection.x) and all(
        re.fullmatch(r"\d\.\d{3}", t) for t in detection.text
    )


def test_each_summary_card_prints_its_number_once(report: Report) -> None:
    cards = summary_cards(report.to_html())
    assert sorted(cards) == ["fidelity", "privacy", "utility"]
    for name, card in cards.items():
        assert card.count(f"{report.scores[name]:.3f}") == 1, name
