"""Every command that writes a file refuses a missing output folder, before doing any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import error_line, invoke


@pytest.mark.parametrize(
    ("command", "output_name"),
    [
        (["fit", "{data}", "-o"], "m.mirage"),
        (["schema", "{data}", "-o"], "schema.json"),
        (["sample", "{model}", "-n", "10", "-o"], "rows.csv"),
        (["impute", "{model}", "{data}", "-o"], "filled.csv"),
        (["report", "{data}", "{data}", "-o"], "report.html"),
        (["demo", "--output-dir"], "demo"),
    ],
)
def test_missing_output_folder_is_one_line_naming_it(
    command: list[str], output_name: str, data_csv: Path, model_path: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such"
    args = [a.format(data=data_csv, model=model_path) for a in command]
    result = invoke(*args, missing / output_name)
    assert result.exit_code == 2, result.output
    line = error_line(result)
    assert f"folder '{missing}' does not exist" in line
    assert not (tmp_path / "no").exists()


def test_output_folder_that_is_a_file(data_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("", encoding="utf-8")
    result = invoke("schema", data_csv, "-o", tmp_path / "taken" / "schema.json")
    assert result.exit_code == 2
    assert f"folder '{tmp_path / 'taken'}' is not a folder" in error_line(result)


def test_demo_creates_its_own_folder_inside_an_existing_one(tmp_path: Path) -> None:
    result = invoke("-q", "demo", "--output-dir", tmp_path / "new", "--engine", "copula", "--rows", "50")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["demo.mirage", "synthetic.csv"]
