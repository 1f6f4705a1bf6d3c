"""``--on-bad-lines`` and ``--encoding``: the reading options of fit, schema, impute and report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import error_line, invoke, manifest


@pytest.fixture
def short_line_csv(tmp_path: Path, data_csv: Path) -> Path:
    path = tmp_path / "with_short_line.csv"
    text = data_csv.read_text(encoding="utf-8").splitlines()
    text.insert(600, "39,State-gov")  # a truncated record in the middle of the file
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def test_a_short_line_stops_fit_naming_the_line(short_line_csv: Path, tmp_path: Path) -> None:
    result = invoke("fit", short_line_csv, "-o", tmp_path / "m.mirage", "--engine", "copula")
    assert result.exit_code == 2
    assert "line 601" in error_line(result)
    assert not (tmp_path / "m.mirage").exists()


def test_skipping_bad_lines_is_said_and_the_holdout_split_is_rebuilt_the_same_way(
    short_line_csv: Path, data_csv: Path, tmp_path: Path
) -> None:
    model = tmp_path / "m.mirage"
    args = ["--engine", "copula", "--holdout", "0.2", "--on-bad-lines", "skip"]
    result = invoke("fit", short_line_csv, "-o", model, *args)
    assert result.exit_code == 0, result.output
    assert any(line.startswith("warning: ") and "601" in line for line in result.stderr.splitlines())
    training = manifest(model)["state"]["training"]
    assert training["read_options"] == {"on_bad_lines": "skip"}
    assert training["source_rows"] == len(pd.read_csv(data_csv))

    report = invoke("report", model, "-o", tmp_path / "r.html", "--rows", "300")
    assert report.exit_code == 0, report.output
    assert (tmp_path / "r.html").exists()


def test_an_explicit_encoding_reads_what_detection_would_refuse(tmp_path: Path) -> None:
    data = tmp_path / "latin.csv"
    rows = [f"{'Müller' if k % 3 else 'Ørsted'},{k % 17}" for k in range(60)]
    data.write_bytes(("name,v\n" + "\n".join(rows) + "\n").encode("cp1252"))
    result = invoke("schema", data, "-o", tmp_path / "s.json", "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    bad = invoke("schema", data, "-o", tmp_path / "t.json", "--encoding", "no-such-codec")
    assert bad.exit_code == 2 and "no-such-codec" in error_line(bad)


def test_text_options_on_a_parquet_file_name_the_option(tmp_path: Path) -> None:
    data = tmp_path / "d.parquet"
    pd.DataFrame({"a": range(50)}).to_parquet(data)
    result = invoke("schema", data, "-o", tmp_path / "s.json", "--on-bad-lines", "skip")
    assert result.exit_code == 2
    line = error_line(result)
    assert "on_bad_lines" in line and "d.parquet" in line


def test_an_unknown_choice_is_refused(data_csv: Path, tmp_path: Path) -> None:
    result = invoke("schema", data_csv, "-o", tmp_path / "s.json", "--on-bad-lines", "pad")
    assert result.exit_code == 2 and "--on-bad-lines" in error_line(result)
