"""``mirage schema``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mirage.schema import Schema
from tests.cli.helpers import error_line, invoke, read_json


def test_prints_json_to_stdout_and_the_table_to_stderr(data_csv: Path) -> None:
    result = invoke("schema", data_csv)
    assert result.exit_code == 0, result.output
    schema = Schema.from_json(result.stdout)
    assert schema.names == list(pd.read_csv(data_csv, nrows=1).columns)
    assert schema["education_num"].kind.value == "numeric"
    assert "nullable" in result.stderr and "education_num" in result.stderr


def test_writes_the_file_and_refuses_to_overwrite_it(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    result = invoke("schema", data_csv, "-o", out)
    assert result.exit_code == 0, result.output
    assert Schema.load(out).names[0] == "age"
    assert "details" in result.stdout and str(out) in result.stdout

    again = invoke("schema", data_csv, "-o", out, "--locale", "de_DE")
    assert again.exit_code == 2
    line = error_line(again)
    assert str(out) in line and "--force" in line
    assert read_json(out)["locale"] == "en_US"

    forced = invoke("schema", data_csv, "-o", out, "--locale", "de_DE", "--force")
    assert forced.exit_code == 0, forced.output
    assert read_json(out)["locale"] == "de_DE"


def test_quiet_prints_nothing_but_the_json(data_csv: Path, tmp_path: Path) -> None:
    result = invoke("-q", "schema", data_csv)
    assert result.exit_code == 0
    assert result.stderr == ""
    Schema.from_json(result.stdout)
    written = invoke("--quiet", "schema", data_csv, "-o", tmp_path / "s.json")
    assert written.exit_code == 0 and written.stdout == "" and written.stderr == ""


def test_missing_input_names_the_file(tmp_path: Path) -> None:
    result = invoke("schema", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "nope.csv" in error_line(result)
