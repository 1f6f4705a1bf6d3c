"""``mirage demo``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.cli.helpers import error_line, invoke, manifest


def test_demo_writes_its_files_and_scores_every_column(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = invoke("demo", "--output-dir", out, "--rows", 500)
    assert result.exit_code == 0, result.output
    synthetic = pd.read_csv(out / "synthetic.csv")
    assert len(synthetic) == 500
    assert manifest(out / "demo.mirage")["hyperparameters"]["seed"] == 7
    for text in ("KSComplement", "TVComplement", "education_num", "average score", "synthetic.csv", "next:"):
        assert text in result.stdout
    assert "picked by auto" in result.stderr

    again = invoke("demo", "--output-dir", out, "--rows", 500)
    assert again.exit_code == 2
    line = error_line(again)
    assert "synthetic.csv" in line and "--force" in line

    forced = invoke("-q", "demo", "--output-dir", out, "--rows", 300, "--engine", "copula", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(pd.read_csv(out / "synthetic.csv")) == 300
    assert manifest(out / "demo.mirage")["engine"] == "copula"
    assert "next:" not in forced.stdout and forced.stderr == ""


def test_demo_refuses_an_existing_model_file(tmp_path: Path) -> None:
    (tmp_path / "demo.mirage").write_text("mine", encoding="utf-8")
    result = invoke("demo", "--output-dir", tmp_path)
    assert result.exit_code == 2
    assert "demo.mirage" in error_line(result)


def test_demo_run_twice_explains_force(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = invoke("-q", "demo", "--output-dir", out, "--rows", 100, "--engine", "copula")
    assert first.exit_code == 0, first.output
    again = invoke("demo", "--output-dir", out, "--rows", 100, "--engine", "copula")
    assert again.exit_code == 2
    line = error_line(again)
    assert "earlier demo" in line
    assert str(out / "synthetic.csv") in line and str(out / "demo.mirage") in line
    assert "--force" in line and "--output-dir" in line
