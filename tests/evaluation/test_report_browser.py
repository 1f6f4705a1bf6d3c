"""The HTML report in a real browser (Debian's chromium driven by Playwright): it renders offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import mirage
from mirage.evaluation import evaluate, split_holdout

CHROMIUM = "/usr/bin/chromium"
# bounding boxes of what the reader sees: mode-bar buttons, and legends that cover a title or axis labels
LAYOUT_CHECK = """() => {
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const out = {modebar_buttons: document.querySelectorAll('.modebar-btn').length, overlaps: []};
  for (const plot of document.querySelectorAll('.plotly-graph-div')) {
    const legend = plot.querySelector('.legend');
    if (!legend) continue;
    const box = legend.getBoundingClientRect();
    const title = plot.querySelector('.gtitle');
    const name = title ? title.textContent : '?';
    if (title && hit(box, title.getBoundingClientRect())) out.overlaps.push('legend on title: ' + name);
    for (const tick of plot.querySelectorAll('.xtick text')) {
      if (hit(box, tick.getBoundingClientRect())) { out.overlaps.push('legend on labels: ' + name); break; }
    }
  }
  return out;
}"""


@pytest.mark.slow
def test_report_renders_every_plot_without_errors(adult: pd.DataFrame, tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="scripts/install-browser installs Playwright"
    )
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed; run scripts/install-browser")
    train, holdout = split_holdout(adult.iloc[:2000], 0.25, seed=0)
    synth = mirage.fit(train, engine="cart").sample(len(train), seed=1)
    report = evaluate(train, synth, holdout=holdout, target="income", n_attacks=300)
    page_path = tmp_path / "report.html"
    report.to_html(str(page_path))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        requests: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length > 0")
        plots = page.locator(".plotly-graph-div").count()
        layout = page.evaluate(LAYOUT_CHECK)
        shot = page.screenshot(full_page=True)
        browser.close()
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests  # nothing fetched from a network
    learned = sum(c.kind.learned for c in report.schema or [])
    assert plots >= learned + 4  # a plot per column, heatmaps, detection, utility, DCR
    assert len(shot) > 100_000
    assert layout["modebar_buttons"] == 0  # nothing drawn over the plot titles
    assert layout["overlaps"] == []  # legends clear of titles and of the (long) category labels
