"""Partitions read from and samples written to fsspec URLs: memory:// here, file:// on real worker
processes, with the same bytes as local paths and the same _SUCCESS protocol."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.errors import MissingDependencyError, OutputExistsError
from mirage.model_file import model_bytes
from mirage.scale import SUCCESS, fit_partitions
from tests.cli.helpers import invoke

distributed = pytest.importorskip("distributed")
fsspec = pytest.importorskip("fsspec")


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 600
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=n), "kind": rng.choice(["a", "b"], n)})


@pytest.fixture(scope="module")
def local(rows: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local")
    for i, start in enumerate((0, 250, 400)):
        rows.iloc[start : (250, 400, 600)[i]].to_parquet(out / f"p-{i}.parquet")
    return out


@pytest.fixture
def memory(local: Path) -> Iterator[str]:
    fs = fsspec.filesystem("memory")
    root = "/mirage-test"
    for path in sorted(local.glob("p-*.parquet")):
        fs.pipe(f"{root}/parts/{path.name}", path.read_bytes())
    yield f"memory://{root}"
    fs.rm(root, recursive=True)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_memory_urls_read_partitions_and_write_samples_as_local_paths_do(
    memory: str, local: Path, tmp_path: Path
) -> None:
    model = fit_partitions(f"{memory}/parts/p-*.parquet")
    expected = fit_partitions(str(local / "p-*.parquet"))
    assert model_bytes(model) == model_bytes(expected)
    written = model.sample_to(f"{memory}/out/", 1_000, seed=5)
    assert written.path == f"{memory}/out" and written.files == ("part-00000.parquet",)
    model.sample_to(tmp_path / "here", 1_000, seed=5)
    fs = fsspec.filesystem("memory")
    listed = sorted(p.rsplit("/", 1)[-1] for p in fs.ls("/mirage-test/out", detail=False))
    assert listed == ["_SUCCESS", "part-00000.parquet"]  # no temporary name left behind
    for name in listed:
        assert fs.cat(f"/mirage-test/out/{name}") == (tmp_path / "here" / name).read_bytes()
    assert json.loads(fs.cat(f"/mirage-test/out/{SUCCESS}"))["rows"] == 1_000
    with pytest.raises(OutputExistsError, match="is not empty; pass force=True"):
        model.sample_to(f"{memory}/out", 10, seed=5)
    model.sample_to(f"{memory}/out", 10, seed=6, force=True)
    assert len(pd.read_parquet(fs.open("/mirage-test/out/part-00000.parquet"))) == 10


@pytest.mark.slow  # ~5 s of worker processes; memory:// above runs the same code paths here
def test_file_urls_on_worker_processes(local: Path, cluster: object, tmp_path: Path) -> None:
    with distributed.Client(cluster) as client:
        model = fit_partitions(f"file://{local}/p-*.parquet", client=client)
        model.sample_to(f"file://{tmp_path}/remote", 2_000, seed=1, client=client)
    model.sample_to(tmp_path / "here", 2_000, seed=1)
    assert _files(tmp_path / "remote") == _files(tmp_path / "here")
    assert model_bytes(model) == model_bytes(fit_partitions(str(local / "p-*.parquet")))


def test_the_cli_fits_a_url(local: Path, tmp_path: Path) -> None:
    result = invoke("fit", f"file://{local}/p-*.parquet", "-o", tmp_path / "m.mirage", "--engine", "copula")
    assert result.exit_code == 0, result.output
    assert "600 in 3 partitions" in result.output


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed")
def test_a_protocol_without_its_package_is_named() -> None:
    with pytest.raises(MissingDependencyError, match="s3fs"):
        fit_partitions("s3://bucket/events/*.parquet")
