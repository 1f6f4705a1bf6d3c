from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import invoke


@pytest.fixture(scope="module")
def holdout_model(tmp_path_factory: pytest.TempPathFactory, data_csv: Path) -> Path:
    path = tmp_path_factory.mktemp("report") / "adult.mirage"
    result = invoke("fit", data_csv, "-o", path, "--holdout", "0.25", "--engine", "cart")
    assert result.exit_code == 0, result.output
    return path


def test_report_from_a_model_with_its_holdout(holdout_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = invoke(
        "report", holdout_model, "-o", out, "--target", "income",
        "--fail-under", "quality=0.5", "--fail-over", "dcr_share=0.9",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["meta"]["rows"] == {"real": 1125, "synthetic": 1125, "holdout": 375}
    assert 0.0 < data["scores"]["dcr_share"] < 0.9 and data["scores"]["tstr"] > 0.6
    html = out.read_text()
    assert "Mirage synthetic data report" in html and "income" in html
    assert "quality" in result.stdout and "privacy" in result.stdout


def test_failed_gate_exits_1_and_names_it(holdout_model: Path, tmp_path: Path) -> None:
    result = invoke("report", holdout_model, "-o", tmp_path / "r.html", "--fail-over", "dcr_share=0.1")
    assert result.exit_code == 1
    assert "gate failed: dcr_share" in result.output


def test_report_from_files(data_csv: Path, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(data_csv)
    real, holdout, synth = tmp_path / "real.csv", tmp_path / "hold.csv", tmp_path / "synth.csv"
    frame.iloc[:600].to_csv(real, index=False)
    frame.iloc[600:900].to_csv(holdout, index=False)
    frame.iloc[900:1500].to_csv(synth, index=False)
    result = invoke(
        "report", real, synth, "--holdout", holdout, "--target", "income", "-o", tmp_path / "r.html"
    )
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "r.json").read_text())["scores"]
    assert 0.4 < scores["dcr_share"] < 0.6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-under", "speed=1"], "unknown score 'speed'"),
        (["--fail-under", "quality"], "expected NAME=VALUE"),
        (["--fail-over", "dcr_share=high"], "is not a number"),
        (["-o", "report.pdf"], "the report is HTML"),
    ],
)
def test_bad_options_are_one_line_errors(holdout_model: Path, tmp_path: Path, args, message) -> None:
    base = ["report", holdout_model]
    if "-o" not in args:
        base += ["-o", tmp_path / "r.html"]
    result = invoke(*base, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_model_without_holdout_says_how_to_get_one(model_path: Path, tmp_path: Path) -> None:
    result = invoke("report", model_path, "-o", tmp_path / "r.html")
    assert result.exit_code == 2
    assert "--holdout" in result.output


def test_existing_report_is_not_overwritten(holdout_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("keep me")
    result = invoke("report", holdout_model, "-o", out)
    assert result.exit_code == 2 and out.read_text() == "keep me"


def test_report_shows_its_progress(
    holdout_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws its bars only on a terminal
    result = invoke("report", holdout_model, "-o", tmp_path / "r.html", "--target", "income")
    assert result.exit_code == 0, result.output
    for stage in ("sampling", "scoring", "fidelity", "reference", "utility", "privacy", "4/4", "writing"):
        assert stage in result.stderr, stage


def test_a_model_over_the_no_copying_bar_is_told_which_engines_stay_within_it(
    data_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "leaf1.mirage"
    fitted = invoke(
        "fit", data_csv, "-o", path, "--holdout", "0.25", "--engine", "cart",
        "--param", "min_samples_leaf=1", "--param", "smoothing=0",
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    result = invoke("report", path, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    dcr = json.loads((tmp_path / "r.json").read_text())["details"]["privacy"]["dcr"]
    assert dcr["dcr_share"] > 0.53 and dcr["dcr_share_ci"][0] > 0.5
    hint = " ".join(result.output.split())
    assert "to share these rows: cart resolves this table finely enough" in hint
    assert "--engine gmm (mostly numeric tables)" in hint and "--engine cart" not in hint
    assert "--engine auto (below 5,000 rows it fits bayesnet and gmm and keeps the better)" in hint
    assert "--param max_dcr_share=0.53 (cart coarsens itself" in hint


@pytest.mark.parametrize(
    ("share", "interval", "hinted"),
    [
        (0.58, [0.38, 0.73], False),  # one split of a small table: the interval spans fresh rows' 0.5
        (0.52, [0.505, 0.535], False),  # measurably above 0.5 but within the bar
        (0.56, [0.52, 0.60], True),
        (0.535, [0.505, 0.545], True),  # the share, not the interval's midpoint, against the bar
    ],
)
def test_the_hint_needs_a_share_over_the_bar_and_measurably_above_fresh_rows(
    share: float, interval: list[float], hinted: bool
) -> None:
    from mirage.cli.report import _closeness_hint
    from mirage.engines.copula import CopulaSynthesizer

    hint = _closeness_hint(CopulaSynthesizer(), share, interval)
    assert (hint is not None) == hinted
    if hint is not None:  # copula has no memorisation guard to suggest
        assert "--engine copula" not in hint and "max_dcr_share" not in hint


def test_the_hint_does_not_send_a_model_auto_picked_back_to_auto() -> None:
    from mirage.cli.report import _closeness_hint
    from mirage.engines.gmm import GmmSynthesizer

    model = GmmSynthesizer()
    assert "--engine auto" in (_closeness_hint(model, 0.56, [0.52, 0.60]) or "")
    model.training_ = {"auto": {"reason": "picked"}}
    hint = _closeness_hint(model, 0.56, [0.52, 0.60]) or ""
    assert "--engine auto" not in hint and "--engine bayesnet" in hint and "--engine gmm" not in hint
