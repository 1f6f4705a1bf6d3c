"""The classic techniques side by side (issue 22): every registered Mirage engine and SDV's CTGAN, TVAE
and GaussianCopula on the shared tables over several split seeds.

Each run splits the table with ``split_holdout`` (seeded), fits on the training rows, samples as many
rows and scores them exactly as ``bench_engines.py`` does (``score_sample``): quality, 1-, 2- and
3-way marginal accuracy, detection AUC, TSTR ratio, DCR share, fit wall and CPU seconds (CPU: the
figure to compare on a shared machine) and sampled rows/s.  Runs go seed by seed across the tables.
Below the table, issue 22's targets: ``gan`` against CTGAN and ``vae`` against TVAE, paired seeds.
Mirage engines are named as in ``bench_engines.py`` (``gan@max_epochs=50``); by default every engine
the registry lists, so engines registered later join without a change here.  The SDV peers
(``sdv_ctgan``, ``sdv_tvae``, ``sdv_copula``, settings alike: ``sdv_ctgan@epochs=100``) run in SDV's
own environment through ``--sdv-python`` (SDV pins pandas < 3): a child process of that interpreter
reads the training rows from a CSV, fits, samples and writes its rows to a CSV, which this process
scores like ours.  Without ``--sdv-python`` they run in this process when ``sdv`` is importable and
are skipped with a note elsewhere.  Every run has one thread (``--threads``), the children too.

``--full-seeds N`` reads every score on the first N split seeds only and the DCR share alone on the
others (as in ``bench_engines.py``: the DCR share of a small table needs 10-20 seeds to be read to
+-0.01-0.02; the other scores are steady at 5), for the peers too; the table's means are over the seeds
each figure was read on.

Results go to ``--out`` (JSON, after every run; ``--resume`` skips the runs in it) and the markdown
table of means over the seeds to ``--markdown``.

    python benchmarks/bench_classic.py --tables insurance,titanic --engines gan,vae \\
        --peers sdv_ctgan,sdv_tvae --sdv-python /tmp/sdvvenv/bin/python --seeds 3
    python benchmarks/bench_classic.py --tables titanic --engines vae,vae@max_dcr_share=0.53 --peers '' \\
        --seeds 15 --full-seeds 5                                  # the DCR share over 15 split seeds
    python benchmarks/bench_classic.py --show benchmarks/results/classic.json
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, RESULTS_DIR, environment_info
from _common import TARGET_COLUMNS as TARGETS
from bench_engines import THREAD_VARIABLES, engine_spec, load_table, run_one, score_sample

PEERS = {
    "sdv_ctgan": "CTGANSynthesizer",
    "sdv_tvae": "TVAESynthesizer",
    "sdv_copula": "GaussianCopulaSynthesizer",
}
COLUMNS = [
    ("quality", "quality"),
    ("marginal_k1", "1-way"),
    ("marginal_k2", "2-way"),
    ("marginal_k3", "3-way"),
    ("detection_auc", "detection AUC"),
    ("utility_ratio", "TSTR ratio"),
    ("dcr_share", "DCR share"),
    ("fit_s", "fit s"),
    ("fit_cpu_s", "fit CPU s"),
    ("sample_rows_per_s", "rows/s"),
]
SHARE_LIMIT = 0.53
TARGET_PAIRS = [("gan", "sdv_ctgan"), ("vae", "sdv_tvae")]  # issue 22: as good, a third of the fit time


def run_peer(
    spec: str,
    table: str,
    frame: Any,
    seed: int,
    holdout: float,
    factor: int,
    threads: int,
    dcr_only: bool = False,
) -> dict[str, Any]:
    """Fit one SDV synthesizer at its defaults (or ``@`` settings) and score its sample like ours."""
    from mirage.evaluation import split_holdout

    train, held = split_holdout(frame, holdout, seed)
    synthetic, timing = fit_and_sample(spec, train, factor * len(train))
    return peer_record(spec, table, frame, seed, train, held, synthetic, timing, threads, dcr_only)


def run_peer_process(
    python: str,
    spec: str,
    table: str,
    frame: Any,
    seed: int,
    holdout: float,
    factor: int,
    threads: int,
    dcr_only: bool = False,
) -> dict[str, Any]:
    """``run_peer`` with the fit and sample in a child process of ``python`` (SDV's environment)."""
    import pandas as pd

    from mirage.evaluation import split_holdout

    train, held = split_holdout(frame, holdout, seed)
    with tempfile.TemporaryDirectory() as folder:
        train_csv, out_csv = Path(folder) / "train.csv", Path(folder) / "synthetic.csv"
        train.to_csv(train_csv, index=False)
        command = [python, str(Path(__file__).resolve()), "--fit-peer", spec, "--train-csv", str(train_csv)]
        command += ["--out-csv", str(out_csv), "--rows", str(factor * len(train)), "--threads", str(threads)]
        command += ["--peer-seed", str(seed)]
        env = {**os.environ, **{variable: str(threads) for variable in THREAD_VARIABLES}}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{spec} failed: {done.stderr.strip().splitlines()[-1:]}")
        timing = json.loads(done.stdout.strip().splitlines()[-1])
        synthetic = pd.read_csv(out_csv)
    return peer_record(spec, table, frame, seed, train, held, synthetic, timing, threads, dcr_only)


def fit_and_sample(spec: str, train: Any, rows: int) -> tuple[Any, dict[str, float]]:
    """Fit one SDV synthesizer on ``train`` and draw ``rows`` rows: the rows and the fit's wall and CPU
    seconds and the sample's wall seconds."""
    import sdv.single_table
    from sdv.metadata import Metadata

    name, params = engine_spec(spec)
    metadata = Metadata.detect_from_dataframes({"table": train})
    model = getattr(sdv.single_table, PEERS[name])(metadata, **params)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit({"table": train}) if _takes_dict() else model.fit(train)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    synthetic = model.sample(num_rows=rows)
    sample_s = time.perf_counter() - start
    if isinstance(synthetic, dict):
        synthetic = synthetic["table"]
    return synthetic, {"fit_s": fit_s, "fit_cpu_s": fit_cpu_s, "sample_s": sample_s}


def peer_record(
    spec: str,
    table: str,
    frame: Any,
    seed: int,
    train: Any,
    held: Any,
    synthetic: Any,
    timing: dict[str, float],
    threads: int,
    dcr_only: bool = False,
) -> dict[str, Any]:
    """A peer's run, its rows brought to the training frame's columns and dtypes and scored like ours
    (``dcr_only``: the DCR share alone)."""
    from bench_engines import dcr_score
    from bench_peers import align

    import mirage

    synthetic = align(synthetic, train)
    return {
        "table": table,
        "engine": spec,
        "seed": seed,
        "rows": len(frame),
        "train_rows": len(train),
        "synthetic_rows": len(synthetic),
        "fit_s": timing["fit_s"],
        "fit_cpu_s": timing.get("fit_cpu_s"),
        "sample_rows_per_s": len(synthetic) / timing["sample_s"] if timing["sample_s"] > 0 else None,
        **(
            dcr_score(train, held, synthetic, mirage.infer_schema(train), seed)
            if dcr_only
            else score_sample(table, train, held, synthetic, mirage.infer_schema(train), seed, threads)
        ),
    }


def fit_peer(spec: str, train_csv: Path, out_csv: Path, rows: int, threads: int, seed: int) -> int:
    """The child's side: fit one SDV synthesizer on ``train_csv``, write ``rows`` rows to ``out_csv``
    and print the fit and sample seconds as one JSON line."""
    import pandas as pd
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    synthetic, timing = fit_and_sample(spec, pd.read_csv(train_csv), rows)
    synthetic.to_csv(out_csv, index=False)
    print(json.dumps(timing))
    return 0


def _takes_dict() -> bool:
    """SDV 2.x fits on ``{table name: frame}``; 1.x on the frame."""
    import sdv

    return int(sdv.__version__.split(".")[0]) >= 2


def summary(results: list[dict[str, Any]]) -> str:
    """The markdown table: per table and engine, each figure's mean over the seeds."""
    headers = ["table", "engine", "seeds", *[label for _, label in COLUMNS]]
    rows = []
    for table, engine in dict.fromkeys((r["table"], r["engine"]) for r in results):
        runs = [r for r in results if (r["table"], r["engine"]) == (table, engine) and "error" not in r]
        failed = len([r for r in results if (r["table"], r["engine"]) == (table, engine) and "error" in r])
        row = [table, engine, f"{len(runs)}" + (f" (+{failed} failed)" if failed else "")]
        for key, _ in COLUMNS:
            values = [float(r[key]) for r in runs if r.get(key) is not None]
            if not values:
                row.append("-")
                continue
            mean = sum(values) / len(values)
            if key in ("fit_s", "fit_cpu_s"):
                row.append(f"{mean:.1f}")
            elif key == "sample_rows_per_s":
                row.append(f"{mean:,.0f}")
            else:
                row.append(f"{mean:.3f}" + ("!" if key == "dcr_share" and mean > SHARE_LIMIT else ""))
        rows.append(row)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + f"\n\n! mean DCR share above {SHARE_LIMIT}\n" + targets(results)


def targets(results: list[dict[str, Any]]) -> str:
    """Issue 22's targets, per table: each neural engine against its SDV peer over the seeds both ran
    (quality and detection AUC means, and the ratio of mean fit CPU seconds; the target: <= 1/3)."""

    def mean(runs: list[dict[str, Any]], key: str) -> float | None:
        values = [float(r[key]) for r in runs if r.get(key) is not None]
        return sum(values) / len(values) if values else None

    lines = []
    for table in dict.fromkeys(r["table"] for r in results):
        for ours, peer in TARGET_PAIRS:
            runs = {
                name: {
                    r["seed"]: r
                    for r in results
                    if (r["table"], r["engine"]) == (table, name) and "error" not in r
                }
                for name in (ours, peer)
            }
            seeds = sorted(set(runs[ours]) & set(runs[peer]))
            if not seeds:
                continue
            a, b = [runs[ours][s] for s in seeds], [runs[peer][s] for s in seeds]
            cells = [table, f"{ours} / {peer}", str(len(seeds))]
            for key in ("quality", "detection_auc"):
                x, y = mean(a, key), mean(b, key)
                cells.append("-" if x is None or y is None else f"{x:.3f} / {y:.3f}")
            x, y = mean(a, "fit_cpu_s"), mean(b, "fit_cpu_s")
            cells.append("-" if x is None or not y else f"{x / y:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
    if not lines:
        return ""
    head = (
        "| table | engines | seeds | quality | detection AUC | fit CPU ratio |\n|---|---|---|---|---|---|\n"
    )
    return "\nIssue 22's targets (paired seeds):\n\n" + head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default=",".join(TARGETS), help="comma-separated: " + ",".join(TARGETS))
    parser.add_argument(
        "--engines", default="", help="comma-separated Mirage engines (default: every registered)"
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated: " + ",".join(PEERS) + " ('' none)"
    )
    parser.add_argument("--seeds", type=int, default=3, help="split seeds 0..N-1 for small tables")
    parser.add_argument("--big-seeds", type=int, default=2, help="split seeds for tables of --small-rows+")
    parser.add_argument("--small-rows", type=int, default=2000, help="a table under this many rows is small")
    parser.add_argument("--max-rows", type=int, default=10_000, help="subsample larger tables (0: never)")
    parser.add_argument("--holdout", type=float, default=0.2, help="holdout fraction of each split")
    parser.add_argument("--factor", type=int, default=1, help="synthetic rows per training row")
    parser.add_argument(
        "--full-seeds",
        type=int,
        default=None,
        help="every score on this many seeds, the DCR share alone after",
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS, OpenMP and torch threads")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="folder of the shared CSVs")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "classic.json")
    parser.add_argument("--markdown", type=Path, help="the markdown table (default: --out with .md)")
    parser.add_argument(
        "--register",
        default="",
        help="comma-separated module:Class of engines to register first (one not built in, e.g. "
        "mirage.engines.gan:GanSynthesizer)",
    )
    parser.add_argument("--resume", action="store_true", help="keep the runs already in --out, skip them")
    parser.add_argument("--show", type=Path, help="print the table of an earlier run; measure nothing")
    parser.add_argument("--sdv-python", help="run the SDV peers with this interpreter (SDV's environment)")
    parser.add_argument("--fit-peer", help=argparse.SUPPRESS)  # the child process of --sdv-python
    parser.add_argument("--train-csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out-csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--peer-seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fit_peer is not None:
        return fit_peer(args.fit_peer, args.train_csv, args.out_csv, args.rows, args.threads, args.peer_seed)
    if args.show is not None:
        print(summary(json.loads(args.show.read_text())["results"]))
        return 0
    from mirage.engines import ENGINES
    from mirage.engines._registry import register_engine

    for target in [t for t in args.register.split(",") if t]:
        module, _, name = target.partition(":")
        register_engine(getattr(importlib.import_module(module), name))

    tables = [t for t in args.tables.split(",") if t]
    engines = [e for e in args.engines.split(",") if e] or sorted(ENGINES)
    peers = [p for p in args.peers.split(",") if p]
    for name in tables:
        if name not in TARGETS:
            parser.error(f"unknown table {name!r} (known: {', '.join(TARGETS)})")
    for spec in engines:
        if engine_spec(spec)[0] not in ENGINES:
            parser.error(f"unknown engine {spec!r} (known: {', '.join(sorted(ENGINES))})")
    for spec in peers:
        if engine_spec(spec)[0] not in PEERS:
            parser.error(f"unknown peer {spec!r} (known: {', '.join(PEERS)})")
    if peers and args.sdv_python is None and importlib.util.find_spec("sdv") is None:
        print(f"note: sdv is not importable here; skipping {', '.join(peers)}", file=sys.stderr)
        peers = []
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(args.threads)
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(args.threads)

    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "show"}
    results: list[dict[str, Any]] = []
    if args.resume and args.out.exists():
        results = [r for r in json.loads(args.out.read_text())["results"] if "error" not in r]
    done = {(r["table"], r["engine"], r["seed"]) for r in results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    markdown = args.markdown or args.out.with_suffix(".md")
    # seed by seed across the tables, so that a run cut short still has every table's first seeds
    frames = {table: load_table(table, args.data, args.max_rows or None) for table in tables}
    seeds = {t: args.seeds if rows < args.small_rows else args.big_seeds for t, (_, rows) in frames.items()}
    for seed in range(max(seeds.values(), default=0)):
        for table in [t for t in tables if seed < seeds[t]]:
            frame, full_rows = frames[table]
            for spec in [*engines, *peers]:
                if (table, spec, seed) in done:
                    continue
                start = time.perf_counter()
                split = (frame, seed, args.holdout, args.factor, args.threads)
                dcr_only = args.full_seeds is not None and seed >= args.full_seeds
                try:
                    if engine_spec(spec)[0] not in PEERS:
                        record = run_one(spec, table, *split, dcr_only)
                    elif args.sdv_python:
                        record = run_peer_process(args.sdv_python, spec, table, *split, dcr_only)
                    else:
                        record = run_peer(spec, table, *split, dcr_only)
                except Exception as exc:  # one failed fit must not lose the others' figures
                    record = {"table": table, "engine": spec, "seed": seed, "error": repr(exc)}
                record["wall_s"] = time.perf_counter() - start
                record["full_rows"] = full_rows
                results.append(record)
                shown = ("table", "engine", "seed", "error", "fit_s", *[k for k, _ in COLUMNS[:-2]])
                print(
                    json.dumps({k: v for k, v in record.items() if k in shown}, default=str), file=sys.stderr
                )
                payload = {"environment": environment_info(), "options": options, "results": results}
                args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
                markdown.write_text(summary(results))
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
