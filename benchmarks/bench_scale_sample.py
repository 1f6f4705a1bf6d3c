"""Sampling throughput against the Parquet write-only rate, measured in the same run (issue 20).

Run: ``python benchmarks/bench_scale_sample.py [--rows 2_000_000] [--repeats 3] [--tree DIR ...]``.

An Adult-shaped copula model (fitted once on the shared ``adult.csv``, saved to a model file) is
loaded in a fresh child process per measurement.  Each child, in one process, one core:

* profile: ``--profile-blocks`` blocks of 50,000 rows timed step by step: draw (the engine's
  ``_sample``), decode (the encoder's ``decode`` to a DataFrame), Arrow conversion, Parquet encoding
  (to memory); wall time, and the process's CPU time of the draw and the decode (less swayed by a
  loaded machine than the wall time, though not immune: caches and memory bandwidth are shared);
* sample: ``model.sample_to(folder, rows, seed=0)`` here (the local executor): rows/s;
* write only: the frames ``sample_to`` hands its writer (the blocks of the first file, drawn by
  ``sample_block`` as its task draws them, held in memory: the same dtypes and Arrow representation)
  written by the same writer (``write_chunks``, the same 50,000-row chunks, one file per
  ``FILE_ROWS`` rows): what the Parquet writer allows without generating anything; ``sample /
  write`` is the share of it sampling reaches.  (Until stop 30 the frames were the sampled files
  read back with ``pd.read_parquet``.)
* CPU: the process's CPU time (all threads) of the sampling and of the write-only pass, per block of
  50,000 rows; on a loaded machine the ratio of the two is a steadier figure than the rates.

``--tree`` (repeatable) names other source trees (e.g. ``git archive`` of an earlier commit) measured
in the same run, children alternating, so their ratios compare under the same load.  On a shared
machine the absolute rates are noisy; the ratios, measured back to back, much less so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[1]


def child(model_path: str, rows: int, out: str, profile_blocks: int) -> dict[str, Any]:
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mirage.engines._base import BLOCK_ROWS
    from mirage.io import write_chunks
    from mirage.model_file import load_model
    from mirage.scale import FILE_ROWS

    model = load_model(model_path)
    steps = {"draw": 0.0, "decode": 0.0, "arrow": 0.0, "parquet": 0.0}
    cpu = {"draw": 0.0, "decode": 0.0}
    for i in range(profile_blocks):
        rng = np.random.default_rng(np.random.SeedSequence([0, i]))
        c0, t0 = time.process_time(), time.perf_counter()
        parts = model._sample(BLOCK_ROWS, rng)
        c1, t1 = time.process_time(), time.perf_counter()
        frame = model.encoder_.decode(parts, BLOCK_ROWS, rng, i * BLOCK_ROWS)
        c2, t2 = time.process_time(), time.perf_counter()
        cpu["draw"] += c1 - c0
        cpu["decode"] += c2 - c1
        table = pa.Table.from_pandas(frame, preserve_index=False)
        t3 = time.perf_counter()
        pq.write_table(table, io.BytesIO())
        t4 = time.perf_counter()
        for name, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            steps[name] += seconds
    folder = Path(out) / "sample"
    Path(out).mkdir(parents=True, exist_ok=True)
    cpu_start, start = time.process_time(), time.perf_counter()
    model.sample_to(folder, rows, seed=0, force=True)
    sample_s, sample_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # the frames sample_to hands its writer: the blocks of the first file, drawn as its task draws them
    file_rows = min(FILE_ROWS, rows)
    held = [
        model.sample_block(i, min(BLOCK_ROWS, file_rows - s), seed=0)
        for i, s in enumerate(range(0, file_rows, BLOCK_ROWS))
    ]
    copy = Path(out) / "write"
    copy.mkdir(exist_ok=True)
    cpu_start, start = time.process_time(), time.perf_counter()
    for index in range(-(-rows // FILE_ROWS)):
        size = min(FILE_ROWS, rows - index * FILE_ROWS)
        chunks = (
            held[i] if min(BLOCK_ROWS, size - s) == len(held[i]) else held[i].iloc[: size - s]
            for i, s in enumerate(range(0, size, BLOCK_ROWS))
        )
        write_chunks(chunks, copy / f"part-{index:05d}.parquet", force=True, format="parquet")
    write_s, write_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    size = sum(p.stat().st_size for p in folder.glob("part-*.parquet"))
    shutil.rmtree(folder)
    shutil.rmtree(copy)
    per_block = {k: v / max(profile_blocks, 1) * 1000 for k, v in steps.items()}
    return {
        "sample_rows_per_s": rows / sample_s,
        "write_only_rows_per_s": rows / write_s,
        "write_only_mib_per_s": size / 2**20 / write_s,
        "sample_share_of_write": write_s / sample_s,
        "sample_cpu_ms_per_block": sample_cpu / rows * BLOCK_ROWS * 1000,
        "write_only_cpu_ms_per_block": write_cpu / rows * BLOCK_ROWS * 1000,
        "ms_per_block": per_block,
        "cpu_ms_per_block": {k: v / max(profile_blocks, 1) * 1000 for k, v in cpu.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile-blocks", type=int, default=10)
    parser.add_argument("--tree", action="append", default=[], help="another source tree to measure")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_scale_sample"))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_path, rows, out, blocks = args.child
        print(json.dumps(child(model_path, int(rows), out, int(blocks))))
        return

    import pandas as pd
    from _common import DEFAULT_DATA_DIR, environment_info, format_table, median, write_results

    import mirage

    args.out.mkdir(parents=True, exist_ok=True)
    model_path = args.out / "adult-copula.mirage"
    mirage.fit(pd.read_csv(DEFAULT_DATA_DIR / "adult.csv"), engine="copula").save(model_path, force=True)
    trees = [str(REPO), *args.tree]
    runs: dict[str, list[dict[str, Any]]] = {tree: [] for tree in trees}
    for _ in range(args.repeats):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": tree}
            out = args.out / f"run-{len(runs[tree])}-{trees.index(tree)}"
            command = [sys.executable, __file__, "--child", str(model_path), str(args.rows), str(out)]
            done = subprocess.run(
                [*command, str(args.profile_blocks)], env=env, capture_output=True, text=True, check=True
            )
            runs[tree].append(json.loads(done.stdout.strip().splitlines()[-1]))
            shutil.rmtree(out, ignore_errors=True)
    table = []
    for tree, results in runs.items():
        steps = {k: median([r["ms_per_block"][k] for r in results]) for k in results[0]["ms_per_block"]}
        table.append(
            [
                "this tree" if tree == str(REPO) else tree,
                f"{median([r['sample_rows_per_s'] for r in results]):,.0f}",
                f"{median([r['write_only_rows_per_s'] for r in results]):,.0f}",
                f"{median([r['sample_share_of_write'] for r in results]):.0%}",
                " / ".join(f"{steps[k]:.1f}" for k in ("draw", "decode", "arrow", "parquet")),
                " / ".join(
                    f"{median([r['cpu_ms_per_block'][k] for r in results]):.1f}" for k in ("draw", "decode")
                ),
                " / ".join(
                    f"{median([r[k] for r in results]):.1f}"
                    for k in ("sample_cpu_ms_per_block", "write_only_cpu_ms_per_block")
                ),
            ]
        )
    what = "rows of an Adult-shaped copula model to Parquet, one process, median of"
    print(f"{args.rows:,} {what} {args.repeats}")
    print(
        format_table(
            [
                "tree",
                "sample rows/s",
                "write-only rows/s",
                "sample/write",
                "ms per block: draw/decode/arrow/parquet",
                "CPU ms: draw/decode",
                "CPU ms per block: sample / write",
            ],
            table,
        )
    )
    payload = {"environment": environment_info(), "rows": args.rows, "runs": runs}
    for path in write_results("bench_scale_sample", payload):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
