"""``mirage sample``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mirage.io import write_chunks
from tests.cli.helpers import error_line, invoke

READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": pd.read_csv,
    ".parquet": pd.read_parquet,
    ".jsonl": lambda path: pd.read_json(path, lines=True),
}


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_writes_rows_in_each_format(model_path: Path, data_csv: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"synthetic{suffix}"
    result = invoke("sample", model_path, "-n", 321, "-o", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    frame = READERS[suffix](out)
    assert len(frame) == 321
    assert list(frame.columns) == list(pd.read_csv(data_csv, nrows=1).columns)
    assert "321 rows" in result.stdout and "rows/s" in result.stdout


def test_same_seed_same_rows(model_path: Path, tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        assert invoke("sample", model_path, "-n", 200, "-o", tmp_path / name, "--seed", 9).exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_without_seed_tells_the_seed_it_used(model_path: Path, tmp_path: Path) -> None:
    result = invoke("sample", model_path, "-n", 50, "-o", tmp_path / "a.csv")
    assert result.exit_code == 0
    seed = result.stderr.split()[1]
    assert invoke("sample", model_path, "-n", 50, "-o", tmp_path / "b.csv", "--seed", seed).exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_streams_chunks_to_the_writer(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def spy(chunks: Iterable[pd.DataFrame], path: Path, **kwargs: Any) -> int:
        seen.append(chunks)
        return write_chunks(chunks, path, **kwargs)

    monkeypatch.setattr("mirage.io.write_chunks", spy)
    assert invoke("sample", model_path, "-n", 10, "-o", tmp_path / "s.csv").exit_code == 0
    assert isinstance(seen[0], Iterator)


def test_without_output_shows_a_table(model_path: Path) -> None:
    result = invoke("sample", model_path, "-n", 4, "--seed", 0)
    assert result.exit_code == 0, result.output
    assert "4 synthetic rows" in result.stdout and "income" in result.stdout


def test_too_many_rows_for_the_terminal(model_path: Path) -> None:
    result = invoke("sample", model_path, "-n", 1001)
    assert result.exit_code == 2
    assert "-o" in error_line(result)


def test_refuses_existing_output_before_sampling(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s.csv"
    out.write_text("precious\n", encoding="utf-8")

    def no_loading(path: Path) -> None:
        raise AssertionError("nothing must be loaded or sampled")

    monkeypatch.setattr("mirage.load", no_loading)
    result = invoke("sample", model_path, "-n", 10, "-o", out)
    assert result.exit_code == 2
    assert "--force" in error_line(result) and "s.csv" in error_line(result)
    assert out.read_text(encoding="utf-8") == "precious\n"


def test_force_overwrites(model_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    out.write_text("old\n", encoding="utf-8")
    assert invoke("sample", model_path, "-n", 10, "-o", out, "--force").exit_code == 0
    assert len(pd.read_csv(out)) == 10


@pytest.mark.parametrize("name", ["missing.mirage", "out.unknown"])
def test_errors_name_the_file(model_path: Path, tmp_path: Path, name: str) -> None:
    if name.startswith("missing"):
        args: list[Any] = [tmp_path / name, "-n", 5]
    else:
        args = [model_path, "-n", 5, "-o", tmp_path / name]
    result = invoke("sample", *args)
    assert result.exit_code == 2
    assert name in error_line(result)


@pytest.mark.parametrize("written", ["1200", "1_200", "1,200", "1.2e3", "1.2E+3", "1200.0"])
def test_row_counts_as_people_write_them(model_path: Path, tmp_path: Path, written: str) -> None:
    out = tmp_path / "s.csv"
    result = invoke("sample", model_path, "-n", written, "-o", out, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 1200


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("1.5", "not a whole number"),
        ("1e-3", "not a whole number"),
        ("12,34", "not a number of rows"),
        ("1__000", "not a number of rows"),
        ("ten", "not a number of rows"),
        ("inf", "not a number of rows"),
        ("-1e3", "negative"),
        ("1e30", "at most 1e18"),
    ],
)
def test_row_counts_that_are_not_counts(model_path: Path, written: str, message: str) -> None:
    result = invoke("sample", model_path, "-n", written)
    assert result.exit_code == 2
    line = error_line(result)
    assert f"'{written}'" in line and message in line and "--rows" in line


def test_preview_never_splits_a_value(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mirage

    rows = mirage.load(model_path).sample(3, seed=0)
    values = {str(v) for v in rows.to_numpy().ravel() if not pd.isna(v)} | set(rows.columns)
    for width in (50, 80, 120, 200):
        monkeypatch.setenv("COLUMNS", str(width))
        result = invoke("sample", model_path, "-n", 3, "--seed", 0)
        assert result.exit_code == 0, result.output
        assert max(map(len, result.stdout.splitlines())) <= width
        missing = [v for v in values if v not in result.stdout]
        assert missing == [], f"split at width {width}: {missing}"


def test_dash_writes_csv_to_standard_output(model_path: Path, tmp_path: Path) -> None:
    import io

    result = invoke("sample", model_path, "-n", 1500, "-o", "-", "--seed", 4)
    assert result.exit_code == 0, result.output
    streamed = pd.read_csv(io.StringIO(result.stdout))
    assert len(streamed) == 1500 and "rows/s" not in result.stdout
    assert invoke("sample", model_path, "-n", 1500, "-o", tmp_path / "a.csv", "--seed", 4).exit_code == 0
    assert result.stdout == (tmp_path / "a.csv").read_text(encoding="utf-8")
