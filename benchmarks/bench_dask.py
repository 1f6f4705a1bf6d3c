"""Scale-out on Dask (issue 20): sampling to partitioned Parquet on 1 and 2 worker processes, the disk's
Parquet write bandwidth for the same data, and the copula fitted from the partitioned files.

Run: ``python benchmarks/bench_dask.py [--rows 10_000_000] [--workers 1,2] [--out /tmp/bench_dask]
[--fit-rows 20_000_000]``.

* sample: an Adult-shaped copula model (fitted on the shared ``adult.csv``) draws ``--rows`` rows with
  ``model.sample_to(..., client=...)`` on a fresh ``LocalCluster`` of N worker processes (one thread
  each): rows/s, the scaling against one worker, and each worker's peak resident memory (its
  ``VmHWM``; a fresh cluster per run, so the peak is the run's).  Not ``ru_maxrss``: a worker is
  spawned (forked, then exec'd) from this process, and Linux carries the forking process's peak into
  the child's ``ru_maxrss``, so every worker would report at least this process's peak (the 1,245 MiB
  "per worker" of an earlier 2-worker run was this process's peak after the 1-worker fit).
* write only: the same number of rows written the same way (``write_chunks``, the same 50,000-row
  chunks per file, the same files) from one file's frames already in memory: what the disk and the
  Parquet encoder allow without generating anything (on the same N workers), so ``sample / write`` is
  the share of the write bandwidth reached.
* fit: ``fit_partitions`` (copula) of the sampled files, or of the first files holding ``--fit-rows``
  rows, on N workers: rows/s and peak memory per worker and of this (the client) process.

The output folder is removed at the end unless ``--keep``.  Figures go to ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA_DIR, environment_info, format_table, write_results

_frames: dict[str, Any] = {}
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


def _write_copy(task: tuple[int, int], *, source: str, folder: str) -> int:
    """Write file ``index`` of ``rows`` rows from the frames of ``source`` held in memory (a worker)."""
    import pandas as pd

    from mirage.engines._base import BLOCK_ROWS
    from mirage.io import write_chunks
    from mirage.scale._malloc import reusing_freed_memory

    index, rows = task
    if source not in _frames:
        _frames[source] = pd.read_parquet(source)
    frame = _frames[source]

    def chunks() -> Any:
        for start in range(0, rows, BLOCK_ROWS):
            yield frame.iloc[start : min(start + BLOCK_ROWS, rows)].reset_index(drop=True)

    with reusing_freed_memory():  # as sample_to's tasks run, so the two rates compare
        return write_chunks(chunks(), Path(folder) / f"part-{index:05d}.parquet", force=True)


def _cluster(workers: int) -> tuple[Any, Any]:
    import distributed

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
    args = parser.parse_args()

    import pandas as pd

    import mirage
    from mirage.scale import FILE_ROWS, DaskExecutor, fit_partitions

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
    results: list[dict[str, Any]] = []
    for workers in counts:
        folder, copy = args.out / f"sample-{workers}", args.out / f"write-{workers}"
        try:
            cluster, client = _cluster(workers)
            try:
                client.run(lambda: __import__("mirage.engines.copula"))  # imports are not sampling
                start = time.perf_counter()
                model.sample_to(folder, args.rows, seed=0, client=client, force=True)
                sample_s = time.perf_counter() - start
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
                with DaskExecutor(client=client) as executor:
                    first = str(folder / "part-00000.parquet")
                    # warm: the read of the source file is not writing
                    executor.map(_write_copy, tasks[:1], {"source": first, "folder": str(copy)})
                    start = time.perf_counter()
                    executor.map(_write_copy, tasks, {"source": first, "folder": str(copy)})
                    write_s = time.perf_counter() - start
                shutil.rmtree(copy)
            finally:
                client.close()
                cluster.close()
            cluster, client = _cluster(workers)
            try:
                client.run(lambda: __import__("mirage.scale._fit"))
                client_before = _peak_mib()
                start = time.perf_counter()
                parts = sorted(str(p) for p in folder.glob("part-*.parquet"))
                if args.fit_rows is not None:
                    parts = parts[: -(-args.fit_rows // FILE_ROWS)]
                fitted = fit_partitions(parts, schema=model.schema_, client=client)
                fit_s = time.perf_counter() - start
                fit_peaks = _worker_peaks(client)
            finally:
                client.close()
                cluster.close()
        finally:  # also when stopped: a 100M-row run leaves no 1.3 GB folder behind
            shutil.rmtree(copy, ignore_errors=True)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        results.append(
            {
                "workers": workers,
                "rows": args.rows,
                "sample_seconds": sample_s,
                "sample_rows_per_s": args.rows / sample_s,
                "sample_peak_mib_per_worker": sample_peaks,
                "parquet_mib": size / 2**20,
                "write_only_seconds": write_s,
                "write_only_rows_per_s": args.rows / write_s,
                "write_only_mib_per_s": size / 2**20 / write_s,
                "sample_share_of_write": write_s / sample_s,
                "fit_seconds": fit_s,
                "fit_rows_per_s": fitted.training_["partitioned"]["rows_seen"] / fit_s,
                "fit_peak_mib_per_worker": fit_peaks,
                "client_peak_mib": max(client_before, _peak_mib()),
                "fit_rows_seen": fitted.training_["partitioned"]["rows_seen"],
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
            "/".join(f"{m:.0f}" for m in r["sample_peak_mib_per_worker"]),
            f"{r['fit_rows_per_s']:,.0f}",
            "/".join(f"{m:.0f}" for m in r["fit_peak_mib_per_worker"]),
        ]
        for r in results
    ]
    headers = [
        "workers",
        "sample rows/s",
        "scaling",
        "write-only rows/s",
        "sample/write",
        "sample peak MiB/worker",
        "fit rows/s",
        "fit peak MiB/worker",
    ]
    print(f"{args.rows:,} rows of an Adult-shaped copula model, Parquet, {FILE_ROWS:,} rows per file")
    print(f"fit: the first {results[0]['fit_rows_seen']:,} rows")
    print(format_table(headers, rows))
    for path in write_results("bench_dask", {"environment": environment_info(), "results": results}):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
