"""Every Mirage engine on every shared table over several split seeds: privacy, fidelity, utility.

For each table, split seed and engine: ``split_holdout(table, --holdout, seed)``, fit the engine on
the training rows (model seed = split seed), sample as many rows (``--factor`` times as many for a
steadier DCR share; the other scores use the first ``len(train)`` rows) and score them:

* ``dcr_share``: the DCR share of :func:`mirage.evaluation._privacy.dcr` (0.5 ideal; the bar is
  0.53), with its 95% interval;
* ``quality``: mean of the column-shape and column-pair scores (as ``mirage.evaluate``);
* ``detection_auc``: the classifier two-sample test (0.5 ideal);
* ``utility_ratio``: TSTR / TRTR on the table's usual target;
* ``marginal_accuracy``: the mean 1-, 2- and 3-way marginal accuracy (1 - TVD of the joint
  histograms, 10 bins; :func:`mirage.evaluation._marginals.kway_marginal_accuracy`);
* ``fit s`` and ``sample rows/s`` (the ``--factor`` times ``len(train)`` rows drawn in one call);
  ``fit cpu s``: the fit's CPU seconds (this process), steadier than wall seconds on a loaded machine.

``--full-seeds N`` reads every score on the first N split seeds only and the DCR share alone on the
others (the DCR share needs ~20 seeds to be read to +-0.01; the other scores are steady at 5).

The table shows, per engine and table, the mean and the range (min-max) over the seeds, and flags
(``!``) every mean DCR share above 0.53.  Tables under ``--small-rows`` rows get ``--seeds`` split
seeds, larger ones ``--big-seeds``; ``--max-rows`` subsamples larger tables (seeded, before the
split) so that the whole run fits on two cores.  Results go to ``--out`` (JSON) after every run;
``--resume`` skips the runs already in it.

    python benchmarks/bench_engines.py                                    # everything
    python benchmarks/bench_engines.py --tables insurance,titanic,diabetes,breast_cancer \\
        --engines copula,cart --seeds 5                                   # the small tables
    python benchmarks/bench_engines.py --engines cart,cart@max_dcr_share=0.53  # settings as JSON
    python benchmarks/bench_engines.py --tables titanic,insurance --engines 'cart@max_dcr_share=null,cart' \\
        --seeds 20 --full-seeds 5                                          # the guard: 20 DCR seeds
    python benchmarks/bench_engines.py --show benchmarks/results/engines.json   # the table again
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, RESULTS_DIR, environment_info, format_table
from _common import TARGET_COLUMNS as TARGETS

ENGINES = ["copula", "cart", "argn", "bayesnet", "gmm", "kde"]
METRICS = ["dcr_share", "quality", "detection_auc", "utility_ratio", "marginal_accuracy"]
SHARE_LIMIT = 0.53
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def load_table(name: str, data_dir: Path, max_rows: int | None) -> tuple[Any, int]:
    """The table (subsampled to ``max_rows``, seeded) and its full number of rows."""
    from mirage.io import read_table

    frame = read_table(data_dir / f"{name}.csv")
    rows = len(frame)
    if max_rows is not None and rows > max_rows:
        frame = frame.sample(n=max_rows, random_state=0).reset_index(drop=True)
    return frame, rows


def engine_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``cart@max_dcr_share=0.53@min_samples_leaf=100`` -> ``("cart", {...})`` (values as JSON)."""
    name, *settings = spec.split("@")
    params = {}
    for setting in settings:
        key, _, value = setting.partition("=")
        params[key] = json.loads(value)
    return name, params


def run_one(
    engine: str,
    table: str,
    frame: Any,
    seed: int,
    holdout: float,
    factor: int,
    threads: int,
    dcr_only: bool = False,
) -> dict[str, Any]:
    import mirage
    from mirage.evaluation import split_holdout

    train, held = split_holdout(frame, holdout, seed)
    start, cpu = time.perf_counter(), time.process_time()
    name, params = engine_spec(engine)
    model = mirage.fit(train, engine=name, seed=seed, **params)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    synthetic = model.sample(factor * len(train), seed=seed)
    sample_s = time.perf_counter() - start
    return {
        "table": table,
        "engine": engine,
        "picked": model.name,  # what auto fitted
        "seed": seed,
        "rows": len(frame),
        "train_rows": len(train),
        "synthetic_rows": len(synthetic),
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "sample_rows_per_s": len(synthetic) / sample_s if sample_s > 0 else None,
        **(
            dcr_score(train, held, synthetic, model.schema_, seed)
            if dcr_only
            else score_sample(table, train, held, synthetic, model.schema_, seed, threads)
        ),
    }


def dcr_score(train: Any, held: Any, synthetic: Any, schema: Any, seed: int) -> dict[str, Any]:
    """The DCR share alone, read as in :func:`score_sample`."""
    from mirage.evaluation._privacy import dcr

    start = time.perf_counter()
    privacy = dcr(train, held, synthetic, schema, seed=seed, return_distances=False)
    return {"score_s": time.perf_counter() - start, **_privacy_fields(privacy)}


def _privacy_fields(privacy: dict[str, Any]) -> dict[str, Any]:
    """The DCR figures the bench records, of :func:`mirage.evaluation._privacy.dcr`'s result."""
    keys = ("dcr_share", "dcr_share_ci", "exact_copy_rate", "holdout_copy_rate")
    return {key: privacy[key] for key in keys}


def score_sample(
    table: str, train: Any, held: Any, synthetic: Any, schema: Any, seed: int, threads: int
) -> dict[str, Any]:
    """Every score of ``synthetic`` against the split: the DCR share on all its rows, the others on its
    first ``len(train)`` rows (also used by bench_classic.py for the peers' samples)."""
    from mirage.evaluation._detection import detection_scores
    from mirage.evaluation._marginals import kway_marginal_accuracy
    from mirage.evaluation._pairs import column_pair_scores
    from mirage.evaluation._privacy import dcr
    from mirage.evaluation._shapes import column_shape_scores
    from mirage.evaluation._utility import utility_scores

    first = synthetic.iloc[: len(train)].reset_index(drop=True)
    start = time.perf_counter()
    privacy = dcr(train, held, synthetic, schema, seed=seed, return_distances=False)
    shapes = column_shape_scores(train, first, schema)
    _, pair_mean = column_pair_scores(train, first, schema)
    parts = [float(shapes["score"].mean()), float(pair_mean)]
    parts = [p for p in parts if p == p]  # NaN where a table has no pairs
    detection = detection_scores(train, first, schema, seed=seed, n_threads=threads)
    utility = utility_scores(train, first, held, TARGETS[table], schema, seed=seed, n_threads=threads)
    marginals = kway_marginal_accuracy(train, first, schema, seed=seed)
    return {
        "score_s": time.perf_counter() - start,
        **_privacy_fields(privacy),
        "quality": sum(parts) / len(parts) if parts else None,
        "detection_auc": detection["detection_auc"],
        "utility_ratio": utility["ratio"],
        "marginal_accuracy": marginals["overall"],
        "marginal_k1": marginals.get("k1"),
        "marginal_k2": marginals.get("k2"),
        "marginal_k3": marginals.get("k3"),
        "tstr": utility["tstr"],
        "trtr": utility["trtr"],
    }


def mean_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean over split seeds (the seeds' spread is the noise that matters)."""
    from scipy import stats

    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, mean
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    half = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1)) * sd / len(values) ** 0.5
    return mean - half, mean + half


def summary_rows(results: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    headers = ["table", "engine", "seeds"]
    for metric in METRICS:
        headers += [f"{metric} mean", "range"]
        if metric == "dcr_share":
            headers += ["95% CI of mean"]
    headers += ["fit s", "fit cpu s", "sample rows/s"]
    rows = []
    for table, engine in dict.fromkeys((r["table"], r["engine"]) for r in results):
        runs = [r for r in results if (r["table"], r["engine"]) == (table, engine) and "error" not in r]
        failed = sum((r["table"], r["engine"]) == (table, engine) and "error" in r for r in results)
        row = [table, engine, f"{len(runs)}" + (f" (+{failed} failed)" if failed else "")]
        for metric in METRICS:
            values = [float(r[metric]) for r in runs if r.get(metric) is not None]
            if not values:
                row += ["-", "-", "-"] if metric == "dcr_share" else ["-", "-"]
                continue
            mean = sum(values) / len(values)
            flag = "!" if metric == "dcr_share" and mean > SHARE_LIMIT else ""
            row += [f"{mean:.3f}{flag}", f"{min(values):.3f}-{max(values):.3f}"]
            if metric == "dcr_share":
                low, high = mean_interval(values)
                row.append(f"{low:.3f}-{high:.3f}{'!' if low > SHARE_LIMIT else ''}")
        fits = [float(r["fit_s"]) for r in runs]
        row.append(f"{sum(fits) / len(fits):.1f}" if fits else "-")
        cpus = [float(r["fit_cpu_s"]) for r in runs if r.get("fit_cpu_s") is not None]
        row.append(f"{sum(cpus) / len(cpus):.2f}" if cpus else "-")
        rates = [float(r["sample_rows_per_s"]) for r in runs if r.get("sample_rows_per_s")]
        row.append(f"{sum(rates) / len(rates):,.0f}" if rates else "-")
        rows.append(row)
    return headers, rows


def show(payload: dict[str, Any]) -> None:
    headers, rows = summary_rows(payload["results"])
    print(format_table(headers, rows, left=3))
    flagged = [f"{r[1]} x {r[0]}" for r in rows if r[3].endswith("!")]
    print(f"\n! mean DCR share above {SHARE_LIMIT}: {', '.join(flagged) if flagged else 'none'}")
    beyond = [f"{r[1]} x {r[0]}" for r in rows if r[5].endswith("!")]
    print(f"! whole 95% interval of the mean above {SHARE_LIMIT}: {', '.join(beyond) if beyond else 'none'}")
    options = payload.get("options", {})
    if options:
        print(f"options: {json.dumps(options)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default=",".join(TARGETS), help="comma-separated: " + ",".join(TARGETS))
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: " + ",".join(ENGINES))
    parser.add_argument("--seeds", type=int, default=5, help="split seeds 0..N-1 for small tables")
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
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "engines.json")
    parser.add_argument("--resume", action="store_true", help="keep the runs already in --out, skip them")
    parser.add_argument("--show", type=Path, help="print the table of an earlier run; measure nothing")
    args = parser.parse_args(argv)
    if args.show is not None:
        show(json.loads(args.show.read_text()))
        return 0
    tables = [t for t in args.tables.split(",") if t]
    engines = [e for e in args.engines.split(",") if e]
    for name in tables:
        if name not in TARGETS:
            parser.error(f"unknown table {name!r} (known: {', '.join(TARGETS)})")
    for spec in engines:
        if engine_spec(spec)[0] not in ENGINES and engine_spec(spec)[0] != "auto":
            parser.error(f"unknown engine {spec!r} (known: {', '.join(ENGINES)}, auto)")
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(args.threads)
    if any(engine_spec(e)[0] in ("argn", "auto") for e in engines):
        import torch

        torch.set_num_threads(args.threads)

    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "show"}
    results: list[dict[str, Any]] = []
    if args.resume and args.out.exists():
        results = json.loads(args.out.read_text())["results"]
    done = {(r["table"], r["engine"], r["seed"]) for r in results if "error" not in r}
    results = [r for r in results if "error" not in r]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for table in tables:
        frame, full_rows = load_table(table, args.data, args.max_rows or None)
        n_seeds = args.seeds if full_rows < args.small_rows else args.big_seeds
        for seed in range(n_seeds):
            for engine in engines:
                if (table, engine, seed) in done:
                    continue
                start = time.perf_counter()
                try:
                    dcr_only = args.full_seeds is not None and seed >= args.full_seeds
                    record = run_one(
                        engine, table, frame, seed, args.holdout, args.factor, args.threads, dcr_only
                    )
                except Exception as exc:  # one failed fit must not lose the others' figures
                    record = {"table": table, "engine": engine, "seed": seed, "error": repr(exc)}
                record["wall_s"] = time.perf_counter() - start
                record["full_rows"] = full_rows
                results.append(record)
                line = {
                    k: v for k, v in record.items() if k in ("table", "engine", "seed", "error", *METRICS)
                }
                print(json.dumps(line, default=str), file=sys.stderr, flush=True)
                payload = {"environment": environment_info(), "options": options, "results": results}
                args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    show({"options": options, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
