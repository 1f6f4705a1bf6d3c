"""Mirage's ``argn`` and ``cart`` engines side by side with peers at their default settings.

Peers: mostlyai-engine's ``TabularARGN`` and SDV's ``TVAESynthesizer``.  Every table is split 80/20
with ``mirage.evaluation.split_holdout(df, 0.2, seed=0)``; each system fits on the 80% in its own
subprocess (one CPU thread: OMP/MKL/OpenBLAS and torch all set to 1, for fairness on small machines)
and samples ``len(train)`` rows.  Peers are killed after ``--peer-timeout`` seconds and reported as
TIMEOUT.  Every sample is then scored with ``mirage.evaluate`` against the same holdout (and with
SDMetrics' QualityReport when ``sdmetrics`` is importable).

    python benchmarks/bench_peers.py [--datasets adult,insurance] [--systems argn,cart,mostlyai,tvae]
                                     [--peer-timeout S] [--out DIR] [--reuse mostlyai,tvae]

``--reuse`` scores the samples an earlier run left in ``--out`` for those systems instead of fitting
them again (their fit and sample times are the earlier run's): peers at fixed defaults need to run
once, while Mirage's engines change.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, DEFAULT_DATA_DIR
from _common import TARGET_COLUMNS as TARGETS

SYSTEMS = ["argn", "cart", "mostlyai", "tvae"]
PEERS = {"mostlyai", "tvae"}
METRICS = [
    "quality",
    "marginal_k1",
    "marginal_k2",
    "marginal_k3",
    "detection_auc",
    "utility_ratio",
    "dcr_share",
]
THREAD_VARS = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"]
SEED = 0


def load_split(dataset: str, data_dir: Path, split_seed: int = SEED) -> tuple[Any, Any]:
    """``(train, holdout)`` of ``data_dir/<dataset>.csv``; the same split for every system."""
    from mirage.evaluation import split_holdout
    from mirage.io import read_table

    frame = read_table(data_dir / f"{dataset}.csv")
    return split_holdout(frame, 0.2, seed=split_seed)


def fit_and_sample(system: str, train: Any, factor: int = 1) -> tuple[Any, float, float]:
    """Fit ``system`` at its defaults on ``train``, draw ``factor * len(train)`` rows; return
    (synthetic, fit seconds, sample seconds)."""
    import torch

    torch.set_num_threads(1)
    n = factor * len(train)
    if system in ("argn", "cart"):
        import mirage

        model: Any = (
            mirage.ArgnSynthesizer(seed=SEED) if system == "argn" else mirage.CartSynthesizer(seed=SEED)
        )
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synthetic = model.sample(n, seed=SEED)
        return synthetic, fit_s, time.perf_counter() - start
    if system == "mostlyai":
        from mostlyai.engine import TabularARGN

        with tempfile.TemporaryDirectory(prefix="mostlyai-ws-") as workspace:
            model = TabularARGN(workspace_dir=workspace, random_state=SEED, device="cpu")
            start = time.perf_counter()
            model.fit(train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            synthetic = model.sample(n_samples=n)
            return synthetic, fit_s, time.perf_counter() - start
    if system == "tvae":
        from sdv.metadata import Metadata
        from sdv.single_table import TVAESynthesizer

        metadata = Metadata.detect_from_dataframes({"table": train})
        model = TVAESynthesizer(metadata)
        start = time.perf_counter()
        model.fit({"table": train})  # SDV 2.x takes (and returns) {table name: frame}
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synthetic = model.sample(num_rows=n)
        if isinstance(synthetic, dict):
            synthetic = synthetic["table"]
        return synthetic, fit_s, time.perf_counter() - start
    raise ValueError(f"unknown system {system!r}")


def worker(system: str, dataset: str, data_dir: Path, out: Path, split_seed: int, factor: int) -> int:
    """Subprocess entry point: fit, sample, and leave ``<out>.parquet`` and ``<out>.json``."""
    train, _ = load_split(dataset, data_dir, split_seed)
    synthetic, fit_s, sample_s = fit_and_sample(system, train, factor)
    synthetic.to_parquet(out.with_suffix(".parquet"), index=False)
    record = {"fit_s": fit_s, "sample_s": sample_s, "rows": len(synthetic)}
    out.with_suffix(".json").write_text(json.dumps(record))
    return 0


def align(synthetic: Any, train: Any) -> Any:
    """Bring a peer's output to the training frame's columns and plain dtypes (numbers / object)."""
    import numpy as np
    import pandas as pd

    frame = synthetic.reindex(columns=train.columns).reset_index(drop=True)
    for column in train.columns:
        if pd.api.types.is_numeric_dtype(train[column]) and not pd.api.types.is_bool_dtype(train[column]):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
            if pd.api.types.is_integer_dtype(train[column]) and not frame[column].isna().any():
                frame[column] = frame[column].round().astype(train[column].dtype)
        else:
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), np.nan)
    return frame


def sdmetrics_quality(train: Any, synthetic: Any) -> float | None:
    """SDMetrics' single-table QualityReport score, or None where sdmetrics is not importable."""
    try:
        from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        return None
    import pandas as pd

    columns = {
        c: {
            "sdtype": "numerical"
            if pd.api.types.is_numeric_dtype(train[c]) and not pd.api.types.is_bool_dtype(train[c])
            else "categorical"
        }
        for c in train.columns
    }
    report = QualityReport()
    report.generate(train, synthetic, {"columns": columns}, verbose=False)
    return float(report.get_score())


def score(dataset: str, train: Any, holdout: Any, synthetic: Any) -> dict[str, Any]:
    """Every score on the first ``len(train)`` synthetic rows; the DCR share on all of them.

    The DCR share of ~1,000 synthetic rows moves by +-0.02 between samples of one model; more rows
    (``--dcr-factor``) measure the same quantity with less noise, for every system alike.
    """
    import mirage
    from mirage.evaluation import evaluate
    from mirage.evaluation._privacy import dcr

    schema = mirage.infer_schema(train)
    report = evaluate(
        train,
        synthetic.iloc[: len(train)].reset_index(drop=True),
        holdout=holdout,
        target=TARGETS[dataset],
        schema=schema,
        n_attacks=300,
    )
    result: dict[str, Any] = {m: report.scores.get(m) for m in METRICS}
    result["dcr_rows"] = len(train)
    if len(synthetic) > len(train):
        result["dcr_share_first_rows"] = result["dcr_share"]
        result["dcr_share"] = dcr(train, holdout, synthetic, schema, return_distances=False)["dcr_share"]
        result["dcr_rows"] = len(synthetic)
    result["sdm_quality"] = sdmetrics_quality(train, synthetic.iloc[: len(train)])
    return result


def stem_of(out_dir: Path, dataset: str, system: str, split_seed: int, factor: int = 1) -> Path:
    name = f"{dataset}-{system}" if split_seed == SEED else f"{dataset}-s{split_seed}-{system}"
    return out_dir / (name if factor == 1 else f"{name}-x{factor}")


def run_one(
    system: str,
    dataset: str,
    data_dir: Path,
    out_dir: Path,
    timeout: float | None,
    reuse: bool = False,
    split_seed: int = SEED,
    factor: int = 1,
) -> dict[str, Any]:
    stem = stem_of(out_dir, dataset, system, split_seed, factor)
    if reuse and stem.with_suffix(".json").exists() and stem.with_suffix(".parquet").exists():
        earlier: dict[str, Any] = json.loads(stem.with_suffix(".json").read_text())
        earlier["status"] = "ok (reused)"
        return earlier
    env = dict(os.environ, **{var: "1" for var in THREAD_VARS})
    command = [sys.executable, __file__, "--worker", system, dataset, str(data_dir), str(stem)]
    command += [str(split_seed), str(factor)]
    log = stem.with_suffix(".log")
    start = time.perf_counter()
    with open(log, "w") as handle:
        try:
            proc = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": "TIMEOUT", "wall_s": time.perf_counter() - start}
    if proc.returncode != 0:
        return {"status": f"FAILED rc={proc.returncode} (see {log})", "wall_s": time.perf_counter() - start}
    record: dict[str, Any] = json.loads(stem.with_suffix(".json").read_text())
    record["status"] = "ok"
    record["wall_s"] = time.perf_counter() - start
    return record


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0]}
    for package in ["mirage-synth", "torch", "mostlyai-engine", "sdv", "sdmetrics", "pandas", "scikit-learn"]:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _mean(values: list[Any]) -> float | None:
    found = [float(v) for v in values if v is not None]
    return sum(found) / len(found) if found else None


def print_table(results: list[dict[str, Any]]) -> None:
    """One line per dataset and system: the mean over its split seeds (the DCR share's range too)."""
    headers = ["dataset", "system", "splits", "fit s", "rows/s", *METRICS, "dcr range", "sdm_quality"]
    rows = []
    keys = list(dict.fromkeys((r["dataset"], r["system"]) for r in results))
    for dataset, system in keys:
        runs = [r for r in results if (r["dataset"], r["system"]) == (dataset, system)]
        done = [r for r in runs if str(r["status"]).startswith("ok")]
        rate = _mean([r["rows"] / r["sample_s"] for r in done if r.get("sample_s")])
        dcr = [float(r["dcr_share"]) for r in done if r.get("dcr_share") is not None]
        rows.append(
            [
                dataset,
                system,
                f"{len(done)}/{len(runs)}",
                fmt(_mean([r.get("fit_s") for r in done]), 1),
                f"{rate:,.0f}" if rate else "-",
                *(fmt(_mean([r.get(m) for r in done])) for m in METRICS),
                f"{min(dcr):.3f}-{max(dcr):.3f}" if dcr else "-",
                fmt(_mean([r.get("sdm_quality") for r in done])),
            ]
        )
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--datasets", default="adult,insurance", help="comma-separated: " + ",".join(TARGETS))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ",".join(SYSTEMS))
    parser.add_argument("--peer-timeout", type=float, default=600.0, help="wall-clock cap per peer run (s)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "peers", help="output folder")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="folder of the shared CSVs")
    parser.add_argument("--reuse", default="", help="systems whose earlier samples are scored")
    parser.add_argument("--split-seeds", default="0", help="comma-separated seeds of the 80/20 splits")
    parser.add_argument(
        "--dcr-factor", type=int, default=1, help="sample this many times len(train) rows for the DCR share"
    )
    args = parser.parse_args(argv)
    split_seeds = [int(seed) for seed in args.split_seeds.split(",") if seed]
    reuse = {s for s in args.reuse.split(",") if s}
    datasets = [d for d in args.datasets.split(",") if d]
    systems = [s for s in args.systems.split(",") if s]
    for name in datasets:
        if name not in TARGETS:
            parser.error(f"unknown dataset {name!r} (known: {', '.join(TARGETS)})")
    for name in systems:
        if name not in SYSTEMS:
            parser.error(f"unknown system {name!r} (known: {', '.join(SYSTEMS)})")
    args.out.mkdir(parents=True, exist_ok=True)
    for var in THREAD_VARS:
        os.environ[var] = "1"
    import pandas as pd

    print("versions:", json.dumps(versions()), file=sys.stderr)
    results: list[dict[str, Any]] = []
    for dataset in datasets:
        for split_seed in split_seeds:
            train, holdout = load_split(dataset, args.data, split_seed)
            for system in systems:
                timeout = args.peer_timeout if system in PEERS else None
                tag = f"[{dataset} split {split_seed}] {system}"
                print(f"{tag}: fitting ...", file=sys.stderr, flush=True)
                record = run_one(
                    system,
                    dataset,
                    args.data,
                    args.out,
                    timeout,
                    system in reuse,
                    split_seed,
                    args.dcr_factor,
                )
                record.update(dataset=dataset, system=system, split_seed=split_seed)
                if record["status"].startswith("ok"):
                    stem = stem_of(args.out, dataset, system, split_seed, args.dcr_factor)
                    synthetic = align(pd.read_parquet(stem.with_suffix(".parquet")), train)
                    record.update(score(dataset, train, holdout, synthetic))
                print(f"{tag}: {json.dumps(record)}", file=sys.stderr, flush=True)
                results.append(record)
                summary = {"versions": versions(), "threads": 1, "results": results}
                (args.out / "bench_peers.json").write_text(json.dumps(summary, indent=2, default=str))
    print_table(results)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.exit(
            worker(
                sys.argv[2],
                sys.argv[3],
                Path(sys.argv[4]),
                Path(sys.argv[5]),
                int(sys.argv[6]),
                int(sys.argv[7]),
            )
        )
    sys.exit(main())
