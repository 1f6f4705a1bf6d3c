"""The web app end to end in Debian's chromium driven by Playwright, against a real ``mirage serve``.

Screenshots of every step are kept under ``test-output/browser/`` (or ``$MIRAGE_TEST_OUTPUT/browser``)
as artefacts of the run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.server.conftest import TOKEN, table_bytes
from tests.server.test_serve import serving

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


# every form control has a name a screen reader reads out (a <label for>, or aria-label)
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


def _output() -> Path:
    folder = Path(os.environ.get("MIRAGE_TEST_OUTPUT", ROOT / "test-output")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_page(tmp_path: Path) -> Any:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="scripts/install-browser installs Playwright"
    )
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed; run scripts/install-browser")
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN)
    with (
        serving(tmp_path / "data", "--token-file", str(token_file)) as (_, base, token),
        sync_api.sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 800}, accept_downloads=True)
        page.set_default_timeout(120_000)
        errors: list[str] = []
        requests: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        yield page, base, token, errors, requests
        browser.close()


def test_upload_edit_fit_report_sample_download_in_chromium(browser_page: Any, tmp_path: Path) -> None:
    page, base, token, errors, requests = browser_page
    shots = _output()
    csv = tmp_path / "adult.csv"
    csv.write_bytes(table_bytes(400))

    page.goto(f"{base}/login?token={token}")
    assert page.url == f"{base}/"  # the token left the address bar
    page.screenshot(path=str(shots / "01-home.png"), full_page=True)
    assert page.evaluate(UNLABELLED) == []

    page.get_by_label("CSV, TSV, Parquet, JSON Lines or Excel file").set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/datasets/*")
    assert page.get_by_role("heading", name="adult.csv").is_visible()
    # edit a column kind, from the keyboard
    kind = page.get_by_label("Kind of education_num")
    assert kind.input_value() == "numeric"
    kind.focus()
    kind.select_option("categorical")
    page.get_by_role("button", name="Save the kinds").press("Enter")
    page.wait_for_selector("text=schema saved")
    assert page.get_by_label("Kind of education_num").input_value() == "categorical"
    page.screenshot(path=str(shots / "02-schema-edited.png"), full_page=True)
    assert page.evaluate(UNLABELLED) == []

    page.get_by_label("Engine", exact=True).select_option("cart")
    page.get_by_role("button", name="Train").click()
    page.wait_for_url("**/jobs/*")
    page.wait_for_function(
        "document.querySelector('#job-state') && "
        "document.querySelector('#job-state').textContent === 'running'",
        timeout=60_000,
    )
    page.screenshot(path=str(shots / "03-fit-running.png"), full_page=True)
    page.wait_for_function("document.querySelector('#job-progress').value === 100")  # pushed by SSE
    assert page.locator("#job-state").text_content() == "succeeded"
    assert page.locator("#job-percent").text_content() == "100%"
    assert page.get_by_role("button", name="Cancel the job").count() == 0
    page.screenshot(path=str(shots / "04-fit-done.png"), full_page=True)

    page.get_by_role("link", name="Open the model: report, sampling, download").click()
    page.wait_for_url("**/models/*")
    page.get_by_role("button", name="Make the report").click()
    page.wait_for_url("**/jobs/*")
    page.get_by_role("link", name="Open the report").click(timeout=300_000)
    page.wait_for_url("**/models/*")
    frame = page.frame_locator("iframe.report")
    frame.locator(".plotly-graph-div .main-svg").first.wait_for()
    page.locator("iframe.report").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "05-report.png"), full_page=True)

    assert page.evaluate(UNLABELLED) == []
    page.get_by_label("Rows", exact=True).fill("120")
    page.get_by_label("Conditions (optional)").fill("sex=Female")
    page.get_by_role("button", name="Sample").click()
    page.wait_for_url("**/jobs/*")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "sample.csv"
    download.value.save_as(path)
    rows = pd.read_csv(path)
    assert len(rows) == 120 and set(rows["sex"]) == {"Female"}
    page.screenshot(path=str(shots / "06-sampled.png"), full_page=True)
    with page.expect_download() as model_download:
        page.goto(page.url)  # the job page again, then the model page's download link
        page.get_by_role("link", name="back to the model").click()
        page.get_by_role("link", name="Download the model file").click()
    model_path = tmp_path / "model.mirage"
    model_download.value.save_as(model_path)
    import mirage

    assert mirage.load(model_path).schema_["education_num"].kind.value == "categorical"

    assert errors == []
    assert all(url.startswith(base) for url in requests), [u for u in requests if not u.startswith(base)]


def test_a_bad_file_shows_its_one_line_error(browser_page: Any, tmp_path: Path) -> None:
    page, base, token, errors, _ = browser_page
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b,c\n1,2,3\n4,5\n6,7,8\n")
    page.goto(f"{base}/login?token={token}")
    page.get_by_label("CSV, TSV, Parquet, JSON Lines or Excel file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.text_content().startswith("'bad.csv' line 3 has 2 fields, but the header has 3")
    page.screenshot(path=str(_output() / "07-bad-file.png"), full_page=True)
    assert errors == []
