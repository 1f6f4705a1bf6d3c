"""The dp engine side by side with the open DP synthesizers, in one run, on the same splits.

Peers: smartnoise-synth's MST and AIM (Private-PGM underneath) and OpenDP's AIM and MST
(``opendp.extras.mbi``).  Each peer runs in its own virtual environment (they pin other numpy/pandas
versions than Mirage): a subprocess of ``--sn-python`` / ``--opendp-python`` runs this same file with
``--worker``, fits on the split's training rows written to a temporary CSV, samples ``len(train)`` rows
and writes them back with its fit seconds.  Mirage's ``dp`` engine fits in this process.  Every
sample is scored here with the same code as ``bench_engines.py`` (1-, 2-, 3-way marginal accuracy,
column-pair score, detection AUC, TSTR and TSTR/TRTR, DCR share), against the same holdout.

    python benchmarks/bench_dp_peers.py --tables adult,insurance --epsilons 0.3,1,3,10 --seeds 3 \\
        --sn-python /tmp/snvenv/bin/python --opendp-python /tmp/odpvenv/bin/python
    python benchmarks/bench_dp_peers.py --show benchmarks/results/dp_peers.json

Budgets, so that the columns compare like with like:

* ``argn_dp``: Mirage's ``argn`` with ``epsilon`` (DP-SGD; private domains as ``dp``).
* ``dp``: the whole (epsilon, delta=1e-9) covers everything, domains included (half of rho goes to the
  domains the schema does not declare, none is read from the data for free).
* ``dp_declared``: the training rows' schema passed as public: numbers' bounds and every categorical
  column's categories (the values the training rows hold) declared, free (not private: as the OpenDP
  peers' cuts are).  ``dp_aim`` and ``dp_aim_declared``: the same with ``selection="aim"``.
* ``cart``: Mirage's non-DP default engine on the same split, for reference (no privacy budget; run
  once per split and shown at epsilon ``inf``).
* smartnoise ``sn_mst`` / ``sn_aim``: ``preprocessor_eps`` = 10% of epsilon buys the continuous
  columns' bounds (smartnoise subtracts it from epsilon); the category lists are read from the data
  without budget (smartnoise's own behaviour: not private).  ``sn_mst_bounds`` / ``sn_aim_bounds``:
  every continuous column's bounds declared public the way smartnoise's docs say ("If you know the
  bounds, pass them in to save budget"): ``transformer={column: BinTransformer(bins=20, lower=...,
  upper=...)}`` (its default 20 bins), the training rows' minimum and maximum (free, not private, as
  ``dp_declared``'s), so no ``preprocessor_eps`` is spent.
* OpenDP ``odp_mst`` / ``odp_aim``: OpenDP needs every domain declared; the benchmark declares the
  training rows' categories and quantile bin edges for free (not private: a favour to the peer).
  Numbers are cut into ``--bins`` quantile bins and drawn uniformly within a bin on the way back.

A peer that fails, runs past ``--peer-timeout`` wall seconds or past ``--peer-cpu`` CPU seconds (a time
box that does not depend on how loaded the machine is) is reported with its error, not dropped; once
a peer has timed out on a table at some epsilon, its runs there at that epsilon or higher (later seeds
included) are recorded as skipped, naming the timeout, rather than run again: MST's work does not shrink
as epsilon grows and AIM's grows with it.  The peers share one JAX compilation cache per run
(``--jax-cache``; a favour to them: their later fits skip recompiling).  ``--jobs N`` runs up to N
peers at once (their fit seconds then share the CPU: compare them within one run only).  The table
gives each metric's mean over the seeds that ran and its range ``[min, max]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, RESULTS_DIR

MIRAGE_DP = {  # system: (domains declared, selection)
    "dp": (False, "tree"),
    "dp_declared": (True, "tree"),
    "dp_aim": (False, "aim"),
    "dp_aim_declared": (True, "aim"),
}
SN_PEERS = ["sn_mst", "sn_aim", "sn_mst_bounds", "sn_aim_bounds"]
SYSTEMS = [*MIRAGE_DP, "argn_dp", "cart", *SN_PEERS, "odp_mst", "odp_aim"]
METRICS = [
    "marginal_k1",
    "marginal_k2",
    "marginal_k3",
    "pair_score",
    "detection_auc",
    "tstr",
    "utility_ratio",
    "fit_s",
    "fit_cpu_s",
]
DELTA = 1e-9
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


# --- the peers (run inside their own environment, with --worker) ------------------------------
def worker(args: argparse.Namespace) -> int:
    import pandas as pd

    train = pd.read_csv(args.train)
    categorical = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    continuous = [c for c in train.columns if c not in categorical]
    epsilon, seed = float(args.epsilon), int(args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    if args.worker.startswith("sn_"):
        from snsynth import Synthesizer
        from snsynth.transform import BinTransformer

        name = args.worker.removeprefix("sn_").removesuffix("_bounds")
        nullable = bool(train.isna().any().any())
        declared = args.worker.endswith("_bounds")
        bounds = {
            c: BinTransformer(
                bins=20, lower=float(train[c].min()), upper=float(train[c].max()), nullable=nullable
            )
            for c in continuous
        }
        model = Synthesizer.create(name, epsilon=epsilon, delta=DELTA, verbose=False)
        model.fit(
            train,
            transformer=bounds if declared else None,
            categorical_columns=categorical,
            continuous_columns=continuous,
            preprocessor_eps=0.0 if declared else 0.1 * epsilon,
            nullable=nullable,
        )
        fit_s = time.perf_counter() - start
        fit_cpu_s = time.process_time() - cpu_start
        synthetic = model.sample(len(train))
    else:
        synthetic, fit_s = _opendp_peer(train, categorical, args.worker, epsilon, seed, int(args.bins))
        fit_cpu_s = time.process_time() - cpu_start  # the data's conversion included (small)
    synthetic = pd.DataFrame(synthetic, columns=train.columns)
    synthetic.to_csv(args.out, index=False)
    Path(args.out + ".json").write_text(json.dumps({"fit_s": fit_s, "fit_cpu_s": fit_cpu_s}))
    return 0


def _opendp_peer(
    train: Any, categorical: list[str], which: str, epsilon: float, seed: int, bins: int
) -> tuple[Any, float]:
    """OpenDP's MST or AIM: categories released privately by OpenDP (keys not given: it thresholds noisy
    counts, spending delta), numbers cut at the training rows' quantiles (declared: free, not private)."""
    import numpy as np
    import opendp.prelude as dp
    import polars as pl
    from opendp.extras.mbi import AIM, MST

    dp.enable_features("contrib")
    start = time.perf_counter()
    data = pl.from_pandas(train)
    cuts = {}
    for c in train.columns:
        if c in categorical:
            data = data.with_columns(pl.col(c).cast(pl.String))
        else:
            data = data.with_columns(pl.col(c).cast(pl.Float64))
            numbers = train[c].dropna().astype("float64")
            inner = np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1))[1:-1])
            cuts[c] = [float(x) for x in inner] or [float(numbers.median())]
    algorithm = MST() if which == "odp_mst" else AIM()
    for attempt in range(4):
        # OpenDP 0.16 can refuse its own split of the budget by one rounding step ("insufficient budget
        # for query: 0.000570...38 > 0.000570...35"): ask again for a hair less (never more)
        shave = 1.0 - attempt * 1e-9
        context = dp.Context.compositor(
            data=data.lazy(),
            privacy_unit=dp.unit_of(contributions=1),
            privacy_loss=dp.loss_of(rho=_rho(epsilon, DELTA / 2) * shave, delta=DELTA / 2),
            split_evenly_over=1,
        )
        query = context.query()
        try:
            table = query.contingency_table(cuts=cuts, algorithm=algorithm).release()
            break
        except dp.OpenDPException as exc:
            if "insufficient budget" not in str(exc) or attempt == 3:
                raise
    fit_s = time.perf_counter() - start
    # Private-PGM's own generator draws the rows (OpenDP passes no seed through)
    del seed
    return table.synthesize(len(train)).to_pandas(), fit_s


def _rho(epsilon: float, delta: float) -> float:
    import math

    log_term = math.log(1.0 / delta)
    return (math.sqrt(log_term + epsilon) - math.sqrt(log_term)) ** 2


# --- the driver (Mirage's environment) --------------------------------------------------------
def run_peer(
    system: str,
    python: str,
    train: Any,
    epsilon: float,
    seed: int,
    bins: int,
    timeout: float,
    cache: str,
    cpu: float | None = None,
) -> tuple[Any, float, float]:
    import resource

    def limit_cpu() -> None:  # in the child: SIGXCPU past ``cpu`` seconds of CPU, SIGKILL 5 s later
        if cpu is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 5))

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="dp-peer-") as tmp:
        train_path, out_path = os.path.join(tmp, "train.csv"), os.path.join(tmp, "synthetic.csv")
        train.to_csv(train_path, index=False)
        env = {**os.environ, **{v: "1" for v in THREAD_VARIABLES}, "JAX_COMPILATION_CACHE_DIR": cache}
        env.pop("PYTHONPATH", None)
        command = [
            python, __file__, "--worker", system, "--train", train_path, "--out", out_path,
            "--epsilon", str(epsilon), "--seed", str(seed), "--bins", str(bins),
        ]  # fmt: skip
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=limit_cpu
        )
        if done.returncode < 0 and cpu is not None:
            raise subprocess.TimeoutExpired(command, cpu)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
        synthetic = pd.read_csv(out_path)
        timing = json.loads(Path(out_path + ".json").read_text())
        fit_s, fit_cpu_s = float(timing["fit_s"]), float(timing["fit_cpu_s"])
    for c in train.columns:  # the CSV round trip: back to the training rows' types
        with contextlib.suppress(TypeError, ValueError):
            synthetic[c] = synthetic[c].astype(train[c].dtype)
    return synthetic, fit_s, fit_cpu_s


def declared_schema(train: Any) -> Any:
    """The training rows' inferred schema with every categorical column's categories declared (inference
    leaves them to be learned): the whole domain public."""
    import mirage
    from mirage.schema import Kind

    schema = mirage.infer_schema(train)
    for column in schema:
        if column.kind is Kind.CATEGORICAL and column.categories is None:
            column.categories = sorted(train[column.name].dropna().unique().tolist(), key=str)
    return schema


def run_dp(
    train: Any, epsilon: float, seed: int, declared: bool, selection: str = "tree"
) -> tuple[Any, float, float]:
    """Mirage's dp engine; ``declared``: the training rows' domains passed as public (``declared_schema``;
    free, as the OpenDP peers' cuts are).  Its CPU seconds are this thread's (numpy's)."""
    import mirage

    start, cpu_start = time.perf_counter(), time.thread_time()
    schema = declared_schema(train) if declared else None
    model = mirage.fit(
        train, engine="dp", epsilon=epsilon, delta=DELTA, seed=seed, schema=schema, selection=selection
    )
    fit_s, fit_cpu_s = time.perf_counter() - start, time.thread_time() - cpu_start
    return model.sample(len(train), seed=seed), fit_s, fit_cpu_s


def run_argn_dp(train: Any, epsilon: float, seed: int) -> tuple[Any, float, float]:
    """Mirage's argn with DP-SGD (domains private, as ``dp``); CPU seconds of the whole process (torch's
    threads included)."""
    import mirage

    start, cpu_start = time.perf_counter(), time.process_time()
    model = mirage.fit(train, engine="argn", epsilon=epsilon, delta=DELTA, seed=seed)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    return model.sample(len(train), seed=seed), fit_s, fit_cpu_s


def run_cart(train: Any, seed: int) -> tuple[Any, float, float]:
    """Mirage's non-DP ``cart`` engine at its defaults (the reference the DP engines approach at large
    epsilon); CPU seconds of this thread."""
    import mirage

    start, cpu_start = time.perf_counter(), time.thread_time()
    model = mirage.fit(train, engine="cart", seed=seed)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.thread_time() - cpu_start
    return model.sample(len(train), seed=seed), fit_s, fit_cpu_s


def score(table: str, train: Any, held: Any, synthetic: Any, seed: int) -> dict[str, Any]:
    from bench_engines import score_sample

    import mirage
    from mirage.evaluation._pairs import column_pair_scores

    schema = mirage.infer_schema(train)
    scores = score_sample(table, train, held, synthetic, schema, seed, 1)
    _, pair_mean = column_pair_scores(train, synthetic.iloc[: len(train)].reset_index(drop=True), schema)
    scores["pair_score"] = float(pair_mean)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default="adult,insurance")
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=3, help="split seeds per table")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--bins", type=int, default=16, help="quantile bins of a number (OpenDP peers)")
    parser.add_argument("--sn-python", default="/tmp/snvenv/bin/python")
    parser.add_argument("--opendp-python", default="/tmp/odpvenv/bin/python")
    parser.add_argument("--peer-timeout", type=float, default=1800)
    parser.add_argument("--peer-cpu", type=float, default=None, help="CPU seconds a peer fit may use")
    parser.add_argument("--jax-cache", default=None, help="peers' JAX compile cache (default: fresh)")
    parser.add_argument("--jobs", type=int, default=1, help="peers run at once (Mirage's rows run alone)")
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--out", default=str(RESULTS_DIR / "dp_peers.json"))
    parser.add_argument("--show", default=None, help="print the table of an earlier run; measure nothing")
    # the worker side
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--train", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epsilon", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.show:  # several runs' files (comma-separated) make one table
        runs = [json.loads(Path(f).read_text()) for f in args.show.split(",")]
        show({"results": [r for run in runs for r in run["results"]]})
        return 0
    from bench_engines import load_table

    from mirage.evaluation import split_holdout

    results: list[dict[str, Any]] = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    systems = args.systems.split(",")
    frames = {t: load_table(t, Path(args.data), args.max_rows)[0] for t in args.tables.split(",")}
    lock = threading.Lock()
    jax_cache = args.jax_cache or tempfile.mkdtemp(prefix="dp-peers-jax-")
    timed_out: dict[tuple[str, str], tuple[float, str]] = {}

    def record(row: dict[str, Any]) -> None:
        with lock:
            results.append(row)
            keys = ["table", "seed", "epsilon", "system", *METRICS, "error"]
            print(json.dumps({k: row.get(k) for k in keys}), flush=True)
            out.write_text(json.dumps({"args": vars(args), "results": results}, indent=1, default=str))

    def run_row(table: str, seed: int, epsilon: float, system: str, train: Any, held: Any) -> None:
        row: dict[str, Any] = {"table": table, "seed": seed, "epsilon": epsilon, "system": system}
        key = (table, system)
        try:
            if key in timed_out and epsilon >= timed_out[key][0]:
                raise TimeoutError(f"skipped: {timed_out[key][1]}")
            if system in MIRAGE_DP:
                synthetic, fit_s, fit_cpu_s = run_dp(train, epsilon, seed, *MIRAGE_DP[system])
            elif system == "argn_dp":
                synthetic, fit_s, fit_cpu_s = run_argn_dp(train, epsilon, seed)
            elif system == "cart":
                synthetic, fit_s, fit_cpu_s = run_cart(train, seed)
            else:
                python = args.sn_python if system.startswith("sn_") else args.opendp_python
                try:
                    synthetic, fit_s, fit_cpu_s = run_peer(
                        system, python, train, epsilon, seed, args.bins, args.peer_timeout, jax_cache,
                        args.peer_cpu,
                    )  # fmt: skip
                except subprocess.TimeoutExpired as exc:
                    unit = "CPU s" if exc.timeout == args.peer_cpu else "s"
                    message = f"timed out after {exc.timeout:g} {unit} at epsilon {epsilon:g}, seed {seed}"
                    if key not in timed_out or epsilon < timed_out[key][0]:
                        timed_out[key] = (epsilon, message)
                    raise TimeoutError(message) from None
            row.update(fit_s=fit_s, fit_cpu_s=fit_cpu_s, **score(table, train, held, synthetic, seed))
        except Exception as exc:  # a peer's failure is a result, not a crash of the run
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        record(row)

    # seeds outermost: a run cut short still has every table and epsilon at its first seeds
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for table, frame in frames.items():
                train, held = split_holdout(frame, 0.2, seed)
                if "cart" in systems:  # no budget: once per split, shown at epsilon inf
                    run_row(table, seed, float("inf"), "cart", train, held)
                for epsilon in [float(e) for e in args.epsilons.split(",")]:
                    for system in systems:
                        if system == "cart":
                            continue
                        if system in MIRAGE_DP or system == "argn_dp":
                            run_row(table, seed, epsilon, system, train, held)
                        else:
                            futures.append(pool.submit(run_row, table, seed, epsilon, system, train, held))
        for future in futures:
            future.result()
    show({"results": results})
    return 0


def show(payload: dict[str, Any]) -> None:
    """Mean over split seeds of each metric, per table, epsilon and system, with its range [min, max]
    (n = seeds that ran)."""
    groups: dict[tuple[str, float, str], list[dict[str, Any]]] = {}
    for row in sorted(payload["results"], key=lambda r: (r["table"], r["epsilon"], r["system"])):
        groups.setdefault((row["table"], row["epsilon"], row["system"]), []).append(row)
    header = ["table", "eps", "system", "n", *METRICS]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for (table, epsilon, system), rows in groups.items():
        good = [r for r in rows if "error" not in r]
        cells = [table, f"{epsilon:g}", system, f"{len(good)}/{len(rows)}"]
        for metric in METRICS:
            values = [float(r[metric]) for r in good if r.get(metric) is not None]
            digits = 1 if metric.startswith("fit_") else 3
            if not values:
                cells.append("-")
            elif len(values) == 1:
                cells.append(f"{values[0]:.{digits}f}")
            else:
                mean = sum(values) / len(values)
                cells.append(f"{mean:.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]")
        if len(good) < len(rows):
            cells.append("error: " + next(r["error"] for r in rows if "error" in r)[:80])
        print(" | ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
