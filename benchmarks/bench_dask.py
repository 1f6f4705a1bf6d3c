"""Scale-out on Dask (issue 20): sampling to partitioned Parquet on 1 and 2 worker processes, the disk's
Parquet write bandwidth for the same data, and the copula fitted from the partitioned files.

Run: ``python benchmarks/bench_dask.py [--rows 10_000_000] [--workers 1,2] [--out /tmp/bench_dask]
[--fit-rows 20_000_000] [--no-fit] [--draw-ahead auto|on|off]``.

* sample: an Adult-shaped copula model (fitted on the shared ``adult.csv``) draws ``--rows`` rows with
  ``model.sample_to(..., client=...)`` on a fresh ``LocalCluster`` of N worker processes (one thread
  each, with the settings of the cluster ``--workers N`` starts, ``LOCAL_CLUSTER_SETTINGS``): rows/s,
  the scaling against one worker, and each worker's peak resident memory (its ``VmHWM``; a fresh
  cluster per run, so the peak is the run's). Not ``ru_maxrss``: a worker is spawned (forked, then
  exec'd) from this process, and Linux carries the forking process's peak into the child's
  ``ru_maxrss``, so every worker would report at least this process's peak (the 1,245 MiB "per worker"
  of an earlier 2-worker run was this process's peak after the 1-worker fit).
* write only: the Parquet write rate of the very frames the sampler hands its writer, without
  generating them: each worker draws the blocks of the sample's first file once (``sample_block``,
  as ``sample_to``'s tasks do, so the same dtypes and Arrow representation: text columns as Arrow
  strings, numbers as drawn) and holds them; the timed tasks then write them with the same writer
  (``write_chunks``: the same 50,000-row chunks, the same ``FILE_ROWS`` files, one task per file,
  under ``reusing_freed_memory`` as the sampling tasks) on the same N workers.  Nothing is shipped
  from the client but the task's file number.  This is the limit the disk and the Parquet encoder
  set for these rows, so ``sample / write`` is the share of it sampling reaches.  (Until stop 30 each
  write-only task meant to read the first sampled file once per worker and keep its frame in a
  global; but this script's functions reach the workers by value, with fresh globals for every task,
  so every task read the 1M-row file again inside the timed pass: the 780k rows/s a worker "wrote"
  against 2.18M in one process, which sampling then beat.)
* CPU: each worker's CPU seconds (``getrusage``, all its threads) over the sampling and over the
  write-only tasks, and this process's (the client, which also runs the ``LocalCluster``'s
  scheduler): CPU per million rows, and the cores a run kept busy (all CPU seconds over the wall
  time).  On a loaded machine these say more than the rates: a worker that draws the next block in a
  second thread while it writes (``drawn_ahead``) can use more than one core, which bounds the
  scaling of 2 workers on 2 cores.  ``sample_to`` draws ahead only where a host has two cores per
  task (``--draw-ahead auto``): here one worker does, two do not; ``--draw-ahead off`` gives the
  scaling of single-threaded workers.
* fit: ``fit_partitions`` (copula) of the sampled files, or of the first files holding ``--fit-rows``
  rows, on N workers: rows/s and peak memory per worker and of this (the client) process.

The output folder is removed at the end unless ``--keep``.  Figures go to ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import io
import logging
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA_DIR, environment_info, format_table, write_results

HELD = "mirage_bench_held_blocks"  # the worker's attribute holding the blocks _write_copy writes
PARQUET_BYTES_PER_ROW = 16  # Adult-shaped rows, snappy: 12.7 bytes measured, with room


def _peak_mib() -> float:
    """This process's own peak resident memory: ``VmHWM`` (reset by exec, unlike ``ru_maxrss``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hold_blocks(model_file: bytes, rows: int, dask_worker: Any) -> int:
    """On a worker (``client.run``): draw the blocks of the sample's first file (``rows`` rows) as
    ``sample_to``'s task draws them, and hold them on the worker for ``_write_copy``; returns the rows.

    On the worker object, not in a global: this script's functions reach the workers by value, each
    with globals of its own."""
    from mirage.engines._base import BLOCK_ROWS
    from mirage.scale._malloc import reusing_freed_memory
    from mirage.scale._sample import shipped_model

    model = shipped_model(model_file)
    with reusing_freed_memory():
        held = [
            model.sample_block(i, min(BLOCK_ROWS, rows - start), seed=0)
            for i, start in enumerate(range(0, rows, BLOCK_ROWS))
        ]
    setattr(dask_worker, HELD, held)
    return sum(len(frame) for frame in held)


def _write_copy(task: tuple[int, int], *, folder: str) -> int:
    """Write file ``index`` of ``rows`` rows from the blocks ``_hold_blocks`` drew (on a worker), with
    ``sample_to``'s writer and chunks."""
    from distributed import get_worker

    from mirage.engines._base import BLOCK_ROWS
    from mirage.io import write_chunks
    from mirage.scale._malloc import reusing_freed_memory

    index, rows = task
    held = getattr(get_worker(), HELD)

    def chunks() -> Any:
        for i, start in enumerate(range(0, rows, BLOCK_ROWS)):
            size = min(BLOCK_ROWS, rows - start)
            yield held[i] if size == len(held[i]) else held[i].iloc[:size]

    with reusing_freed_memory():  # as sample_to's tasks run, so the two rates compare
        target = Path(folder) / f"part-{index:05d}.parquet"
        return write_chunks(chunks(), target, force=True, format="parquet")


def _cpu_seconds() -> float:
    """This process's CPU seconds so far, all threads (user and system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _workers_cpu(client: Any) -> float:
    return float(sum(client.run(_cpu_seconds).values()))


def _cluster(workers: int) -> tuple[Any, Any]:
    import dask
    import distributed

    from mirage.scale._executor import LOCAL_CLUSTER_SETTINGS

    with dask.config.set(LOCAL_CLUSTER_SETTINGS):  # as the cluster `--workers N` starts
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            memory_limit=None,
        )
    return cluster, distributed.Client(cluster)


def _worker_peaks(client: Any) -> list[float]:
    return sorted(round(v, 1) for v in client.run(_peak_mib).values())


def _fit(folder: Path, model: Any, workers: int, fit_rows: int | None) -> dict[str, Any]:
    """``fit_partitions`` (copula) of the sampled files (the first holding ``fit_rows`` rows)."""
    from mirage.scale import FILE_ROWS, fit_partitions

    cluster, client = _cluster(workers)
    try:
        client.run(lambda: __import__("mirage.scale._fit"))
        client_before = _peak_mib()
        start = time.perf_counter()
        parts = sorted(str(p) for p in folder.glob("part-*.parquet"))
        if fit_rows is not None:
            parts = parts[: -(-fit_rows // FILE_ROWS)]
        fitted = fit_partitions(parts, schema=model.schema_, client=client)
        fit_s = time.perf_counter() - start
        fit_peaks = _worker_peaks(client)
    finally:
        client.close()
        cluster.close()
    seen = fitted.training_["partitioned"]["rows_seen"]
    return {
        "fit_seconds": fit_s,
        "fit_rows_per_s": seen / fit_s,
        "fit_peak_mib_per_worker": fit_peaks,
        "client_peak_mib": max(client_before, _peak_mib()),
        "fit_rows_seen": seen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_dask"))
    parser.add_argument("--keep", action="store_true", help="keep the sampled files")
    parser.add_argument(
        "--fit-rows",
        type=lambda s: int(s.replace("_", "")),
        default=None,
        help="fit on the first files holding this many rows (default: all the sampled rows)",
    )
    parser.add_argument("--no-fit", action="store_true", help="sample and write only, no fit")
    parser.add_argument(
        "--draw-ahead",
        choices=("auto", "on", "off"),
        default="auto",
        help="sample_to's draw_ahead: auto (None: where a host has two cores per task), on, off",
    )
    args = parser.parse_args()

    import pandas as pd

    import mirage
    from mirage.scale import FILE_ROWS, DaskExecutor

    real = pd.read_csv(DEFAULT_DATA_DIR / "adult.csv")
    model = mirage.fit(real, engine="copula")
    counts = [int(w) for w in args.workers.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    # the sampled folder and its write-only copy exist together (12.7 MB per million rows each, measured)
    need = 2 * args.rows * PARQUET_BYTES_PER_ROW
    free = shutil.disk_usage(args.out).free
    if free < need:
        raise SystemExit(
            f"--out {args.out}: {need / 2**30:.1f} GiB needed for {args.rows:,} rows (the sample and its "
            f"write-only copy), {free / 2**30:.1f} GiB free"
        )
    stream = io.BytesIO()
    model.save(stream)
    model_file = stream.getvalue()
    results: list[dict[str, Any]] = []
    for workers in counts:
        folder, copy = args.out / f"sample-{workers}", args.out / f"write-{workers}"
        try:
            cluster, client = _cluster(workers)
            try:
                client.run(lambda: __import__("mirage.engines.copula"))  # imports are not sampling
                cpu_before, client_cpu = _workers_cpu(client), _cpu_seconds()
                start = time.perf_counter()
                model.sample_to(
                    folder,
                    args.rows,
                    seed=0,
                    client=client,
                    force=True,
                    draw_ahead={"auto": None, "on": True, "off": False}[args.draw_ahead],
                )
                sample_s = time.perf_counter() - start
                sample_client_cpu = _cpu_seconds() - client_cpu
                sample_cpu = _workers_cpu(client) - cpu_before
                sample_peaks = _worker_peaks(client)
            finally:
                client.close()
                cluster.close()
            size = sum(p.stat().st_size for p in folder.glob("part-*.parquet"))
            cluster, client = _cluster(workers)
            try:
                copy.mkdir(exist_ok=True)
                tasks = [
                    (i, min(FILE_ROWS, args.rows - i * FILE_ROWS)) for i in range(-(-args.rows // FILE_ROWS))
                ]
                held = client.run(_hold_blocks, model_file, tasks[0][1])  # drawing is not writing
                if set(held.values()) != {tasks[0][1]}:
                    raise SystemExit(f"the workers hold {held} rows, not {tasks[0][1]:,} each")
                with DaskExecutor(client=client) as executor:
                    cpu_before, client_cpu = _workers_cpu(client), _cpu_seconds()
                    start = time.perf_counter()
                    executor.map(_write_copy, tasks, {"folder": str(copy)})
                    write_s = time.perf_counter() - start
                    write_client_cpu = _cpu_seconds() - client_cpu
                    write_cpu = _workers_cpu(client) - cpu_before
                copy_size = sum(p.stat().st_size for p in copy.glob("part-*.parquet"))
                shutil.rmtree(copy)
            finally:
                client.close()
                cluster.close()
            fit: dict[str, Any] = {}
            if not args.no_fit:
                fit = _fit(folder, model, workers, args.fit_rows)
        finally:  # also when stopped: a 100M-row run leaves no 1.3 GB folder behind
            shutil.rmtree(copy, ignore_errors=True)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        results.append(
            {
                "workers": workers,
                "rows": args.rows,
                "draw_ahead": args.draw_ahead,
                "sample_seconds": sample_s,
                "sample_rows_per_s": args.rows / sample_s,
                "sample_peak_mib_per_worker": sample_peaks,
                "parquet_mib": size / 2**20,
                "write_only_seconds": write_s,
                "write_only_rows_per_s": args.rows / write_s,
                "write_only_mib_per_s": size / 2**20 / write_s,
                "sample_share_of_write": write_s / sample_s,
                "write_only_parquet_mib": copy_size / 2**20,
                "sample_worker_cpu_seconds": sample_cpu,
                "sample_client_cpu_seconds": sample_client_cpu,
                "sample_cpu_seconds_per_million_rows": (sample_cpu + sample_client_cpu) / args.rows * 1e6,
                "sample_cores_busy": (sample_cpu + sample_client_cpu) / sample_s,
                "write_only_worker_cpu_seconds": write_cpu,
                "write_only_client_cpu_seconds": write_client_cpu,
                "write_only_cpu_seconds_per_million_rows": (write_cpu + write_client_cpu) / args.rows * 1e6,
                "write_only_cores_busy": (write_cpu + write_client_cpu) / write_s,
                **fit,
            }
        )
    base = results[0]["sample_rows_per_s"]
    rows = [
        [
            str(r["workers"]),
            f"{r['sample_rows_per_s']:,.0f}",
            f"{r['sample_rows_per_s'] / base:.2f}x",
            f"{r['write_only_rows_per_s']:,.0f} ({r['write_only_mib_per_s']:.0f} MiB/s)",
            f"{r['sample_share_of_write']:.0%}",
            f"{r['sample_cpu_seconds_per_million_rows']:.2f} / "
            f"{r['write_only_cpu_seconds_per_million_rows']:.2f}",
            f"{r['sample_cores_busy']:.2f} / {r['write_only_cores_busy']:.2f}",
            f"{r['sample_client_cpu_seconds']:.1f}",
            "/".join(f"{m:.0f}" for m in r["sample_peak_mib_per_worker"]),
            f"{r['fit_rows_per_s']:,.0f}" if r.get("fit_rows_per_s") else "-",
            "/".join(f"{m:.0f}" for m in r.get("fit_peak_mib_per_worker", [])) or "-",
        ]
        for r in results
    ]
    headers = [
        "workers",
        "sample rows/s",
        "scaling",
        "write-only rows/s",
        "sample/write",
        "CPU s per 1M rows: sample / write",
        "cores busy: sample / write",
        "client CPU s (sample)",
        "sample peak MiB/worker",
        "fit rows/s",
        "fit peak MiB/worker",
    ]
    print(f"{args.rows:,} rows of an Adult-shaped copula model, Parquet, {FILE_ROWS:,} rows per file")
    if not args.no_fit:
        print(f"fit: the first {results[0]['fit_rows_seen']:,} rows")
    print(format_table(headers, rows))
    for path in write_results("bench_dask", {"environment": environment_info(), "results": results}):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
