"""``mirage sample --fair`` then ``mirage report --fair``: the fairness section, real vs synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.cli.helpers import error_line, invoke


def test_report_fair_compares_real_and_synthetic(model_path: Path, data_csv: Path, tmp_path: Path) -> None:
    real = pd.read_csv(data_csv)
    real.iloc[:1100].to_csv(tmp_path / "train.csv", index=False)
    real.iloc[1100:].to_csv(tmp_path / "holdout.csv", index=False)
    synth = tmp_path / "fair.csv"
    result = invoke("sample", model_path, "-n", 1100, "--fair", "income:sex", "-o", synth, "--seed", 1)
    assert result.exit_code == 0, result.output
    out = tmp_path / "report.html"
    result = invoke(
        "report", tmp_path / "train.csv", synth, "--holdout", tmp_path / "holdout.csv",
        "--fair", "income:sex:>50K", "-o", out, "--fail-over", "parity_difference=0.05",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.with_suffix(".json").read_text())
    fair = data["details"]["fairness"]
    assert fair["positive"] == ">50K" and set(fair["real"]["rates"]) == {"Female", "Male"}
    assert data["scores"]["parity_difference"] < 0.05 < data["reference"]["parity_difference"]
    assert data["scores"]["equalised_odds_gap"] is not None
    assert "parity_difference" in result.stdout and "<h2>Fairness</h2>" in out.read_text()


def test_report_fair_is_checked_first(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = invoke("report", data_csv, data_csv, "--fair", "income", "-o", out)
    assert result.exit_code == 2 and "--fair 'income': expected OUTCOME:PROTECTED" in error_line(result)
    result = invoke("report", data_csv, data_csv, "--fair", "income:age", "-o", out)
    last = result.stderr.strip().splitlines()[-1]
    assert result.exit_code == 2 and last.startswith("error: fairness protected 'age' is a numeric column")
    assert not out.exists()
