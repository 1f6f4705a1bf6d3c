"""``mirage sample MODEL -n N -o rows.csv --workers N``: rows drawn in blocks on Dask land in the one
file named, as sampling here writes it, not in a folder called ``rows.csv`` holding Parquet parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mirage.cli._scale import _join_parts
from tests.cli.helpers import error_line, invoke

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=300).round(3), "kind": rng.choice(["a", "b"], 300)})
    folder = tmp_path_factory.mktemp("model")
    frame.to_csv(folder / "eu.csv", sep=";", decimal=",", index=False)
    path = folder / "m.mirage"
    assert invoke("fit", folder / "eu.csv", "-o", path, "--engine", "copula").exit_code == 0
    return path


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_one_file_named_gets_the_rows_sampling_here_writes(
    model_file: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"rows.{suffix}"
    result = invoke("sample", model_file, "-n", 500, "-o", out, "--workers", 1, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert out.is_file() and f"wrote 500 rows to {out}" in result.output
    here = tmp_path / "here.csv"
    assert invoke("sample", model_file, "-n", 500, "-o", here, "--seed", 3).exit_code == 0
    if suffix == "csv":
        assert out.read_bytes() == here.read_bytes()
        assert out.read_text(encoding="utf-8").splitlines()[0] == "x;kind"
    else:
        expected = pd.read_csv(here, sep=";", decimal=",")
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_parts_join_in_order_with_one_header_and_one_parquet_file(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for index, rows in enumerate(([1, 2], [3], [4, 5])):
        frame = pd.DataFrame({"a": rows, "b": [f"r{r}" for r in rows]})
        frame.to_csv(parts / f"part-{index:05d}.csv", sep=";", index=False)
        frame.to_parquet(parts / f"part-{index:05d}.parquet", index=False)
    _join_parts(parts, tmp_path / "all.csv", "csv", force=False)
    assert (tmp_path / "all.csv").read_text(encoding="utf-8").splitlines() == [
        "a;b", "1;r1", "2;r2", "3;r3", "4;r4", "5;r5"
    ]  # fmt: skip
    _join_parts(parts, tmp_path / "all.parquet", "parquet", force=False)
    assert pd.read_parquet(tmp_path / "all.parquet")["a"].tolist() == [1, 2, 3, 4, 5]
    assert pq.ParquetFile(tmp_path / "all.parquet").metadata.num_row_groups == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "rows.xlsx"], "rows drawn in blocks are written as CSV or Parquet"),
        (["-o", "rows.csv", "--format", "parquet"], "--format parquet contradicts -o"),
    ],
)
def test_outputs_blocks_cannot_be_joined_into_are_named(
    model_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [str(tmp_path / a) if a.startswith("rows.") else a for a in args]
    result = invoke("sample", model_file, "-n", 50, *args, "--workers", 1)
    assert result.exit_code != 0 and message in error_line(result)


def test_an_existing_file_is_kept_without_force(model_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("keep me\n", encoding="utf-8")
    result = invoke("sample", model_file, "-n", 50, "-o", out, "--workers", 1)
    assert result.exit_code != 0 and "--force" in error_line(result)
    assert out.read_text(encoding="utf-8") == "keep me\n"
