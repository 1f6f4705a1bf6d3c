"""``mirage sample MODEL -n N -o FOLDER --format parquet --workers 1``: a local Dask cluster of one
process, started and closed by the command, writes the same bytes as sampling here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.engines._base import BLOCK_ROWS
from mirage.scale import SUCCESS
from tests.cli.helpers import error_line, invoke

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=300), "kind": rng.choice(["a", "b"], 300)})
    path = tmp_path_factory.mktemp("model") / "m.mirage"
    mirage.fit(frame, engine="copula").save(path)
    return path


def test_one_worker_writes_the_bytes_sampling_here_writes(model_file: Path, tmp_path: Path) -> None:
    rows = BLOCK_ROWS + 17  # two blocks in one file (a file holds a million rows)
    result = invoke("sample", model_file, "-n", rows, "-o", tmp_path / "dask", "--workers", 1, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert f"wrote {rows:,} rows to 1 file in" in result.output
    mirage.load(model_file).sample_to(tmp_path / "here", rows, seed=3)
    for name in ("part-00000.parquet", SUCCESS):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()
    assert len(pd.read_parquet(tmp_path / "dask")) == rows


def test_an_existing_folder_is_refused_without_force(model_file: Path, tmp_path: Path) -> None:
    assert invoke("sample", model_file, "-n", 10, "-o", tmp_path / "out", "--format", "csv").exit_code == 0
    result = invoke("sample", model_file, "-n", 10, "-o", tmp_path / "out", "--format", "csv")
    assert result.exit_code != 0
    assert "is not empty; pass --force" in error_line(result)
    assert (
        invoke("sample", model_file, "-n", 10, "-o", tmp_path / "out", "--format", "csv", "--force").exit_code
        == 0
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx", "-o", "out"], "--format must be one of parquet, csv"),
        (["--format", "csv"], "give it with -o FOLDER"),
        (["--workers", "2", "--cluster", "tcp://x:1", "-o", "out"], "not both"),
        (
            ["--format", "csv", "-o", "out", "--rebalance", "kind:a=0.5"],
            "--rebalance gives shares of the whole",
        ),
        (["--format", "csv", "-o", "out", "--where", "nope > 0"], "--where:"),
    ],
)
def test_bad_options_are_one_line(model_file: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("sample", model_file, "-n", 10, *[str(tmp_path / a) if a == "out" else a for a in args])
    assert result.exit_code != 0
    assert message in error_line(result)


def test_where_conditions_are_drawn_block_by_block(model_file: Path, tmp_path: Path) -> None:
    args = ("-n", 500, "--format", "csv", "--seed", 4)
    result = invoke("sample", model_file, *args, "-o", tmp_path / "out", "--where", "kind == 'b'")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "out" / "part-00000.csv")
    assert len(frame) == 500 and set(frame["kind"]) == {"b"}
