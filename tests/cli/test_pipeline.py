"""The whole loop a user runs: schema, edit it, fit with it, sample; once in-process, once for real."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd

from tests.cli.helpers import invoke, manifest


def mirage_command() -> list[str]:
    """The installed ``mirage`` console script of this interpreter, else its entry point run directly."""
    script = Path(sysconfig.get_path("scripts")) / "mirage"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from mirage.cli import main; main()"]


def test_edited_schema_is_honoured(data_csv: Path, tmp_path: Path) -> None:
    schema_path = tmp_path / "schema.json"
    assert invoke("schema", data_csv, "-o", schema_path).exit_code == 0
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    for i, column in enumerate(schema["columns"]):
        if column["name"] == "education_num":
            schema["columns"][i] = {"name": "education_num", "kind": "categorical", "dtype": "int64"}
    schema_path.write_text(json.dumps(schema), encoding="utf-8")

    model = tmp_path / "m.mirage"
    fitted = invoke("fit", data_csv, "--schema", schema_path, "-o", model, "--engine", "cart")
    assert fitted.exit_code == 0, fitted.output
    kinds = {c["name"]: c["kind"] for c in manifest(model)["schema"]["columns"]}
    assert kinds["education_num"] == "categorical"

    real = pd.read_csv(data_csv)
    for out in (tmp_path / "s.parquet", tmp_path / "s.csv"):
        assert invoke("sample", model, "-n", 2000, "-o", out, "--seed", 3).exit_code == 0
        synthetic = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out)
        assert synthetic.shape == (2000, real.shape[1])
        assert list(synthetic.columns) == list(real.columns)
        assert set(synthetic["education_num"]) <= set(real["education_num"])
        assert synthetic["education_num"].dtype == "int64"


def test_installed_command_runs_in_a_real_process(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    done = subprocess.run(
        [*mirage_command(), "sample", str(model_path), "-n", "250", "-o", str(out), "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(out)) == 250


def test_installed_command_reports_errors_as_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    done = subprocess.run(
        [*mirage_command(), "fit", str(missing), "-o", str(tmp_path / "m.mirage")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: input file '{missing}' does not exist"
    assert done.stdout == ""
