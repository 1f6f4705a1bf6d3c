"""Sampling to partitioned files: the same bytes here, on one Dask worker and on three (a real
LocalCluster of processes), a _SUCCESS manifest written last, and an existing output refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import mirage
from mirage.engines._base import BLOCK_ROWS
from mirage.errors import OptionError, OutputExistsError
from mirage.scale import SUCCESS, DaskExecutor, LocalExecutor, executor_for

distributed = pytest.importorskip("distributed")

ROWS = 2 * BLOCK_ROWS + 1_234  # three files of one block each, the last one short


@pytest.fixture(scope="module")
def model() -> mirage.Synthesizer:
    rng = np.random.default_rng(0)
    n = 500
    age = rng.integers(18, 90, n)
    frame = pd.DataFrame(
        {
            "age": age,
            "income": np.round(age * 900 + rng.normal(0, 5_000, n), 2),
            "city": rng.choice(["Lyon", "Oslo", "Quito"], n),
            "member": rng.random(n) < 0.3,
        }
    )
    return mirage.fit(frame, engine="copula")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_local_executor_maps_in_order() -> None:
    with executor_for() as executor:
        assert isinstance(executor, LocalExecutor)
        assert executor.map(lambda x, add: x + add, [1, 2, 3], {"add": 10}) == [11, 12, 13]


def test_the_dask_executor_maps_on_worker_processes(cluster: object) -> None:
    with distributed.Client(cluster) as client, DaskExecutor(client=client) as executor:
        assert executor.workers == 3
        pids = executor.map(_pid, list(range(6)))
        assert len(pids) == 6 and len(set(pids)) > 1  # other processes than this one
        assert _pid(0) not in pids


def test_a_started_local_cluster_runs_no_profiler_and_a_slow_tick() -> None:
    """Both poll several times a second in every worker (the profiler takes the GIL from the task)."""
    with DaskExecutor(workers=1) as executor:
        polled = executor.client.run(_polling)
        assert list(polled.values()) == [(False, 1.0)]


def _polling(dask_worker: object) -> tuple[bool, float]:
    return "profile" in dask_worker.periodic_callbacks, dask_worker._tick_interval  # type: ignore[attr-defined]


def _pid(_: int) -> int:
    import os

    return os.getpid()


def test_the_same_bytes_on_three_workers_and_here(
    model: mirage.Synthesizer, cluster: object, tmp_path: Path
) -> None:
    here = model.sample_to(tmp_path / "here", ROWS, seed=7, block_rows=BLOCK_ROWS)
    with distributed.Client(cluster) as client:
        three = model.sample_to(tmp_path / "three", ROWS, seed=7, block_rows=BLOCK_ROWS, client=client)
    assert three.files == here.files and len(here.files) == 3
    assert _files(tmp_path / "here") == _files(tmp_path / "three")  # one worker: tests/scale/test_cli.py
    frame = pd.read_parquet(tmp_path / "three")  # _SUCCESS is skipped by the reader
    assert len(frame) == ROWS
    pd.testing.assert_frame_equal(frame, model.sample(ROWS, seed=7))
    manifest = json.loads((tmp_path / "three" / SUCCESS).read_text())
    assert manifest["rows"] == ROWS and manifest["seed"] == 7 and manifest["files"] == list(here.files)
    assert pq.ParquetFile(tmp_path / "three" / "part-00002.parquet").metadata.num_rows == 1_234


def test_drawing_ahead_or_not_writes_the_same_bytes(model: mirage.Synthesizer, tmp_path: Path) -> None:
    ahead = model.sample_to(tmp_path / "ahead", ROWS, seed=3, block_rows=2 * BLOCK_ROWS, draw_ahead=True)
    plain = model.sample_to(tmp_path / "plain", ROWS, seed=3, block_rows=2 * BLOCK_ROWS, draw_ahead=False)
    assert ahead.files == plain.files
    assert _files(tmp_path / "ahead") == _files(tmp_path / "plain")


def test_workers_draw_ahead_only_with_two_cores_each(cluster: object) -> None:
    """Three one-thread workers on one host: each would need six cores; one worker alone, two."""
    from mirage.scale._sample import _draws_ahead

    with distributed.Client(cluster) as client, DaskExecutor(client=client) as executor:
        by_host = executor.tasks_by_host()
        assert sum(by_host.values()) == 3 and len(by_host) == 1
        cores = executor.client.run(_cores)
        decided = executor.map(_draws_ahead, [None] * 3, {"tasks_by_host": by_host})
    assert decided == [min(cores.values()) >= 6] * 3
    assert _draws_ahead(None, {}) == (_cores() >= 2)  # in this process, alone
    assert _draws_ahead(False, {}) is False


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def test_csv_files_read_back_to_n_rows(model: mirage.Synthesizer, tmp_path: Path) -> None:
    written = model.sample_to(tmp_path / "out", BLOCK_ROWS + 5, format="csv", seed=1, block_rows=BLOCK_ROWS)
    frames = [pd.read_csv(tmp_path / "out" / name) for name in written.files]
    assert sum(len(f) for f in frames) == BLOCK_ROWS + 5
    assert list(frames[0].columns) == model.schema_.names


def test_an_existing_output_is_refused_without_force(model: mirage.Synthesizer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    model.sample_to(out, 100, seed=1)
    with pytest.raises(OutputExistsError, match="not empty; pass force=True"):
        model.sample_to(out, 100, seed=2)
    (out / "notes.txt").write_text("kept")
    model.sample_to(out, 10, seed=2, force=True)
    assert len(pd.read_parquet(out / "part-00000.parquet")) == 10
    assert (out / "notes.txt").read_text() == "kept"


def test_a_run_that_fails_leaves_no_success_marker(model: mirage.Synthesizer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    model.sample_to(out, 100, seed=1)
    (out / "part-00001.parquet").mkdir()  # the second file cannot be written
    with pytest.raises(OSError):
        model.sample_to(out, BLOCK_ROWS + 1, seed=1, block_rows=BLOCK_ROWS, force=True)
    assert not (out / SUCCESS).exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "xlsx"}, "format must be one of parquet, csv"),
        ({"block_rows": 1_000}, "block_rows must be a positive multiple of 50,000"),
        ({"workers": 2, "cluster": "tcp://x:1"}, "give one of workers, cluster or client"),
        ({"draw_ahead": "yes"}, "draw_ahead must be True, False or None"),
    ],
)
def test_bad_options_are_named(
    model: mirage.Synthesizer, tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionError, match=message):
        model.sample_to(tmp_path / "out", 10, **options)  # type: ignore[arg-type]
