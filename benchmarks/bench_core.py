"""Single-table core benchmark: fit time, sampling speed and peak memory of every Mirage engine.

Measures each engine of ``mirage.engines.ENGINES`` (and SDV's ``GaussianCopulaSynthesizer`` when the
``bench`` extra is installed) on one table, each measurement in a fresh process, and checks the
targets of the "single-table core" issue.  See ``benchmarks/README.md``.

    python benchmarks/bench_core.py [--data PATH] [--rows-sample N] [--stream] [--repeat R] [--json OUT]

This is a script, not a test: it prints a table and writes JSON under ``benchmarks/results/``.
The launcher imports only the standard library (see ``_common``) so that the measurement
processes' peak RSS is their own.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_DATA_DIR,
    Isolated,
    environment_info,
    format_table,
    has_module,
    load_table,
    median,
    package_versions,
    peak_rss_mib,
    run_isolated,
    timed,
    write_results,
)

SDV = "sdv"
SEED = 1
GIB_MIB = 1024.0
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
VERSIONED = [
    "mirage-synth",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "pyarrow",
    "sdv",
    "rdt",
    "copulas",
    "torch",
]


# --- measurement jobs (each runs in its own spawned process) -------------------------------------
def _sdv_metadata(frame: Any) -> Any:
    """SDV metadata auto-detected from the DataFrame, across SDV 1.x and 2.x spellings."""
    try:
        from sdv.metadata import Metadata
    except ImportError:  # SDV < 1.15
        from sdv.metadata import SingleTableMetadata

        single = SingleTableMetadata()
        single.detect_from_dataframe(frame)
        return single
    if hasattr(Metadata, "detect_from_dataframe"):
        return Metadata.detect_from_dataframe(frame)
    return Metadata.detect_from_dataframes({"table": frame})


def _sdv_data(frame: Any) -> Any:
    """What ``fit`` takes: the DataFrame in SDV 1.x, a dict of one table name to it in SDV 2.x."""
    import sdv

    return {"table": frame} if int(sdv.__version__.split(".")[0]) >= 2 else frame


def _sdv_frame(sampled: Any) -> Any:
    """SDV 1.x returns a DataFrame from ``sample``; 2.x a dict of one table name to it."""
    return next(iter(sampled.values())) if isinstance(sampled, dict) else sampled


def job_engines() -> dict[str, Any]:
    import mirage
    from mirage.engines import ENGINES

    return {"engines": list(ENGINES), "mirage_version": mirage.__version__}


def job_baseline(system: str, data: str) -> dict[str, Any]:
    """Import the library and load the table, nothing else: the floor under the other peaks."""
    if system == SDV:
        warnings.simplefilter("ignore")
        import sdv.single_table  # noqa: F401
    else:
        import mirage.engines  # noqa: F401
    timing = timed(lambda: load_table(data))
    return {"seconds": timing.seconds, "cpu_s": timing.cpu_s}


def job_fit(system: str, data: str, model_path: str | None, trace: bool) -> dict[str, Any]:
    frame = load_table(data)
    work: Callable[[], Any]
    if system == SDV:
        warnings.simplefilter("ignore")
        from sdv.single_table import GaussianCopulaSynthesizer

        fit_data = _sdv_data(frame)

        def work() -> Any:
            synthesizer = GaussianCopulaSynthesizer(_sdv_metadata(frame))
            synthesizer.fit(fit_data)
            return synthesizer

    else:
        from mirage.engines import get_engine

        engine = get_engine(system)

        def work() -> Any:
            return engine().fit(frame)

    timing = timed(work, trace=trace)
    if model_path is not None:
        timing.result.save(model_path)
    return {
        "seconds": timing.seconds,
        "cpu_s": timing.cpu_s,
        "traced_peak_mib": timing.traced_mib,
        "rows": len(frame),
        "columns": frame.shape[1],
    }


def _load_model(system: str, model_path: str) -> Any:
    if system == SDV:
        warnings.simplefilter("ignore")
        try:  # SDV 2.x
            from sdv.utils import load_synthesizer
        except ImportError:
            from sdv.single_table import GaussianCopulaSynthesizer

            return GaussianCopulaSynthesizer.load(model_path)
        return load_synthesizer(model_path)
    import mirage

    return mirage.load(model_path)


def job_sample(system: str, model_path: str, rows: int, trace: bool) -> dict[str, Any]:
    model = _load_model(system, model_path)
    work: Callable[[], int]
    if system == SDV:

        def work() -> int:
            return len(_sdv_frame(model.sample(rows)))

    else:

        def work() -> int:
            count = 0
            for chunk in model.sample_chunks(rows, seed=SEED):
                count += len(chunk)
            return count

    timing = timed(work, trace=trace)
    if timing.result != rows:
        raise RuntimeError(f"{system} sampled {timing.result} rows, not {rows}")
    return {
        "seconds": timing.seconds,
        "cpu_s": timing.cpu_s,
        "rows": rows,
        "rows_per_s": rows / timing.seconds,
        "traced_peak_mib": timing.traced_mib,
    }


def job_stream(system: str, model_path: str, rows: int, out_dir: str) -> dict[str, Any]:
    from mirage.io import write_chunks

    model = _load_model(system, model_path)
    path = Path(out_dir) / f"{system}-stream.parquet"
    timing = timed(lambda: write_chunks(model.sample_chunks(rows, seed=SEED), path, force=True))
    size = path.stat().st_size
    path.unlink()
    if timing.result != rows:
        raise RuntimeError(f"{system} streamed {timing.result} rows, not {rows}")
    return {
        "seconds": timing.seconds,
        "cpu_s": timing.cpu_s,
        "rows": rows,
        "rows_per_s": rows / timing.seconds,
        "file_mib": size / 2**20,
    }


# --- orchestration -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    system: str
    metric: str  # key of the summary: fit_s, rows_per_s, fit_vs_sdv, peak_rss_mib
    op: str  # "<" or ">="
    threshold: float
    label: str


TARGETS = [
    Target("copula", "fit_vs_sdv", "<", 1 / 3, "copula fit time < 1/3 of SDV GaussianCopula's"),
    Target("copula", "rows_per_s", ">=", 300_000, "copula sampling >= 300k rows/s"),
    Target("cart", "fit_s", "<", 20.0, "cart fit < 20 s"),
    Target("cart", "rows_per_s", ">=", 100_000, "cart sampling >= 100k rows/s"),
]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _describe(run: Isolated) -> str:
    if not run.ok:
        return "FAILED: " + (run.error or "").strip().splitlines()[-1]
    parts = [f"{run.result['seconds']:.2f} s (cpu {run.result['cpu_s']:.2f} s)"]
    if "rows_per_s" in run.result:
        parts.append(f"{run.result['rows_per_s']:,.0f} rows/s")
    parts.append(f"peak RSS {run.peak_rss_mib:.0f} MiB")
    if run.result.get("traced_peak_mib") is not None:
        parts.append(f"traced {run.result['traced_peak_mib']:.0f} MiB")
    return ", ".join(parts)


def _measure(
    label: str, job: Callable[..., dict[str, Any]], args: tuple[Any, ...], timeout: float
) -> dict[str, Any]:
    run = run_isolated(job, *args, timeout=timeout)
    _log(f"  {label:<28} {_describe(run)}")
    return run.as_dict()


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median seconds and rate over the successful timed runs, max peak memory over all of them."""
    good = [r for r in runs if r["ok"]]
    summary: dict[str, Any] = {"runs": runs, "ok": bool(good) and len(good) == len(runs)}
    if not good:
        summary["error"] = runs[-1]["error"] if runs else "not run"
        return summary
    summary["median_s"] = median([r["result"]["seconds"] for r in good])
    summary["median_cpu_s"] = median([r["result"]["cpu_s"] for r in good])
    if "rows_per_s" in good[0]["result"]:
        summary["median_rows_per_s"] = median([r["result"]["rows_per_s"] for r in good])
        summary["median_rows_per_cpu_s"] = median([r["result"]["rows"] / r["result"]["cpu_s"] for r in good])
    if "file_mib" in good[0]["result"]:
        summary["file_mib"] = good[0]["result"]["file_mib"]
    summary["peak_rss_mib"] = max(r["peak_rss_mib"] for r in good)
    hwm = [r["vm_hwm_mib"] for r in good if r["vm_hwm_mib"] is not None]
    summary["vm_hwm_mib"] = max(hwm) if hwm else None
    return summary


def _metric(
    systems: dict[str, dict[str, Any]], system: str, metric: str, *, cpu: bool = False
) -> float | None:
    """A summary figure of ``system``; with ``cpu`` the same figure from CPU seconds (None for memory)."""
    phases = systems.get(system)
    if phases is None:
        return None
    if metric in ("fit_s", "rows_per_s"):
        phase = "fit" if metric == "fit_s" else "sample"
        key = {
            ("fit_s", False): "median_s",
            ("fit_s", True): "median_cpu_s",
            ("rows_per_s", False): "median_rows_per_s",
            ("rows_per_s", True): "median_rows_per_cpu_s",
        }[metric, cpu]
        value = phases.get(phase, {}).get(key)
        return None if value is None else float(value)
    if metric in ("fit_vs_sdv", "rows_vs_sdv"):
        base = "fit_s" if metric == "fit_vs_sdv" else "rows_per_s"
        mine, theirs = _metric(systems, system, base, cpu=cpu), _metric(systems, SDV, base, cpu=cpu)
        return mine / theirs if mine is not None and theirs else None
    if metric == "peak_rss_mib":
        if cpu:
            return None
        peaks = [p["peak_rss_mib"] for p in phases.values() if p.get("peak_rss_mib") is not None]
        return max(peaks) if peaks else None
    raise ValueError(f"unknown metric {metric!r}")


def evaluate_targets(systems: dict[str, dict[str, Any]], engines: Sequence[str]) -> list[dict[str, Any]]:
    targets = [t for t in TARGETS if t.system in engines]
    targets += [
        Target(name, "peak_rss_mib", "<", GIB_MIB, f"{name} peak memory < 1 GiB (fit, sample, stream)")
        for name in engines
    ]
    checks = []
    for target in targets:
        value = _metric(systems, target.system, target.metric)
        cpu_value = _metric(systems, target.system, target.metric, cpu=True)
        passed = (
            None
            if value is None
            else (value < target.threshold if target.op == "<" else value >= target.threshold)
        )
        checks.append({**vars(target), "value": value, "passed": passed, "cpu_value": cpu_value})
    return checks


# --- printing ------------------------------------------------------------------------------------
def _num(value: float | None, spec: str, suffix: str = "") -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:{spec}}{suffix}"
    )


def _figure(value: float | None) -> str:
    return "-" if value is None else (f"{value:.3f}" if value < 10 else f"{value:,.0f}")


def _marks() -> tuple[str, str, str]:
    encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower()
    return ("✓", "✗", "?") if "utf" in encoding else ("ok", "FAIL", "n/a")


def render(payload: dict[str, Any]) -> str:
    systems: dict[str, dict[str, Any]] = payload["systems"]
    args = payload["args"]
    data = payload["dataset"]
    title = (
        f"Mirage single-table core benchmark: {Path(data['path']).name} "
        f"({_num(data.get('rows'), ',')} rows x {_num(data.get('columns'), 'd')} cols), "
        f"sample {args['rows_sample']:,} rows, median of {args['repeat']}; "
        "peak = ru_maxrss of a fresh process"
    )
    if args.get("blas_threads") is not None:
        title += f"; BLAS threads {args['blas_threads']}"
    headers = [
        "system",
        "base MiB",
        "fit s",
        "fit cpu s",
        "fit peak MiB",
        "rows/s",
        "sample cpu s",
        "sample peak MiB",
        "traced fit/sample MiB",
        "fit time / SDV",
        "rows/s / SDV",
    ]
    rows = []
    for name, phases in systems.items():
        fit, sample = phases["fit"], phases.get("sample", {})
        traced = phases.get("traced", {})
        traced_text = (
            f"{_num(traced.get('fit'), '.0f')}/{_num(traced.get('sample'), '.0f')}" if traced else "-"
        )
        is_sdv = name == SDV
        rows.append(
            [
                "sdv GaussianCopula" if is_sdv else name,
                _num(phases.get("baseline", {}).get("peak_rss_mib"), ".0f"),
                _num(fit.get("median_s"), ".2f") if fit.get("ok") else "error",
                _num(fit.get("median_cpu_s"), ".2f"),
                _num(fit.get("peak_rss_mib"), ".0f"),
                _num(sample.get("median_rows_per_s"), ",.0f") if sample.get("ok") else "error",
                _num(sample.get("median_cpu_s"), ".2f"),
                _num(sample.get("peak_rss_mib"), ".0f"),
                traced_text,
                "1" if is_sdv and SDV in systems else _num(_metric(systems, name, "fit_vs_sdv"), ".3f"),
                "1" if is_sdv and SDV in systems else _num(_metric(systems, name, "rows_vs_sdv"), ".2f"),
            ]
        )
    blocks = [title, "", format_table(headers, rows)]
    if SDV not in systems:
        blocks.append(f"(SDV not measured: {payload.get('sdv_note', 'bench extra not installed')})")
    streams = [(name, phases["stream"]) for name, phases in systems.items() if "stream" in phases]
    if streams:
        stream_rows = []
        for name, stream in streams:
            good = [r for r in stream["runs"] if r["ok"]]
            stream_rows.append(
                [
                    name,
                    _num(good[0]["result"]["rows"], ",") if good else "error",
                    _num(stream.get("median_s"), ".1f"),
                    _num(stream.get("median_cpu_s"), ".1f"),
                    _num(stream.get("median_rows_per_s"), ",.0f"),
                    _num(stream.get("peak_rss_mib"), ".0f"),
                    _num(stream.get("file_mib"), ".1f"),
                ]
            )
        blocks += [
            "",
            "Streaming to Parquet: write_chunks(model.sample_chunks(n, seed=1), path)",
            format_table(
                ["engine", "rows", "seconds", "cpu s", "rows/s", "peak MiB", "file MiB"], stream_rows
            ),
        ]
    yes, no, unknown = _marks()
    lines = ["", "Targets"]
    for check in payload["targets"]:
        mark = unknown if check["passed"] is None else (yes if check["passed"] else no)
        text = f"  {mark} {check['label']:<52} measured {_figure(check['value'])}"
        if check.get("cpu_value") is not None:
            text += f"   (from CPU seconds: {_figure(check['cpu_value'])})"
        lines.append(text)
    load = payload["environment"].get("loadavg")
    if load:
        lines.append(f"\nload average at start {load[0]:.2f}, at end {payload['loadavg_end'][0]:.2f}")
    return "\n".join([*blocks, *lines])


# --- main ----------------------------------------------------------------------------------------
def _default_data() -> Path:
    return DEFAULT_DATA_DIR / "adult.csv"


def summarise_systems(
    runs: dict[str, dict[str, list[dict[str, Any]]]], traced: dict[str, dict[str, float | None]]
) -> dict[str, dict[str, Any]]:
    systems: dict[str, dict[str, Any]] = {}
    for system, by_phase in runs.items():
        phases = {phase: _summarise(found) for phase, found in by_phase.items() if found}
        if traced.get(system):
            phases["traced"] = traced[system]
        systems[system] = phases
    return systems


def conclude(payload: dict[str, Any]) -> None:
    """Add the target checks and the ratios to SDV to ``payload``."""
    systems, engines = payload["systems"], payload["engines"]
    payload["targets"] = evaluate_targets(systems, engines)
    payload["ratios"] = {
        name: {
            "fit_time_over_sdv": _metric(systems, name, "fit_vs_sdv"),
            "rows_per_s_over_sdv": _metric(systems, name, "rows_vs_sdv"),
            "fit_cpu_time_over_sdv": _metric(systems, name, "fit_vs_sdv", cpu=True),
            "rows_per_cpu_s_over_sdv": _metric(systems, name, "rows_vs_sdv", cpu=True),
        }
        for name in engines
    }


def rerender(path: Path) -> int:
    """Print the table of an earlier run's JSON again, summarised by this version of the script."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    runs = {
        system: {phase: found["runs"] for phase, found in phases.items() if phase != "traced"}
        for system, phases in payload["systems"].items()
    }
    traced = {system: phases.get("traced", {}) for system, phases in payload["systems"].items()}
    payload["systems"] = summarise_systems(runs, traced)
    conclude(payload)
    print(render(payload))
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=_default_data(), help="CSV or Parquet table (adult.csv)")
    parser.add_argument("--rows-sample", type=int, default=1_000_000, help="rows to sample per timing (1M)")
    parser.add_argument("--stream", action="store_true", help="also stream --stream-rows rows to Parquet")
    parser.add_argument("--stream-rows", type=int, default=10_000_000, help="rows for --stream (10M)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per measurement; the median is shown")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON results here")
    parser.add_argument("--engines", default=None, help="comma-separated subset of mirage engines")
    parser.add_argument("--no-sdv", action="store_true", help="skip SDV even when it is installed")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the extra tracemalloc runs")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per measurement")
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="set OPENBLAS/OMP/MKL_NUM_THREADS in the measurements"
    )
    parser.add_argument("--show", type=Path, default=None, help="only print the table of an earlier JSON")
    args = parser.parse_args(argv)
    if args.show is not None:
        return args
    if args.repeat < 1 or args.rows_sample < 1 or args.stream_rows < 1:
        parser.error("--repeat, --rows-sample and --stream-rows must be >= 1")
    if not args.data.is_file():
        parser.error(f"no data file at {args.data} (pass --data)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.show is not None:
        return rerender(args.show)
    started = time.time()
    if args.blas_threads is not None:  # inherited by the spawned measurement processes
        for variable in BLAS_VARIABLES:
            os.environ[variable] = str(args.blas_threads)
    environment = environment_info()
    listing = run_isolated(job_engines, timeout=args.timeout)
    if not listing.ok:
        _log(f"cannot import mirage: {listing.error}")
        return 2
    engines: list[str] = listing.result["engines"]
    if args.engines:
        wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
        unknown = sorted(set(wanted) - set(engines))
        if unknown:
            _log(f"unknown engines {unknown}; known: {engines}")
            return 2
        engines = wanted
    with_sdv = not args.no_sdv and has_module("sdv")
    sdv_note = "skipped (--no-sdv)" if args.no_sdv else "bench extra not installed (import sdv failed)"
    systems_order = [*engines, *([SDV] if with_sdv else [])]
    data = str(args.data.resolve())
    timeout = args.timeout

    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        s: {"baseline": [], "fit": [], "sample": [], "stream": []} for s in systems_order
    }
    traced: dict[str, dict[str, float | None]] = {s: {} for s in systems_order}
    with tempfile.TemporaryDirectory(prefix="mirage-bench-") as workdir:
        models = {s: str(Path(workdir) / (f"{s}.pkl" if s == SDV else f"{s}.mirage")) for s in systems_order}
        _log("baseline (import + load the table, no work)")
        for system in systems_order:
            runs[system]["baseline"] = [_measure(f"baseline {system}", job_baseline, (system, data), timeout)]
        # Repeats are interleaved across systems so that background load hits all of them alike.
        _log(f"fit ({args.repeat} runs each, fresh process per run)")
        for index in range(args.repeat):
            for system in systems_order:
                save = models[system] if index == 0 else None
                label = f"fit {system} #{index + 1}"
                runs[system]["fit"].append(_measure(label, job_fit, (system, data, save, False), timeout))
        fitted = [s for s in systems_order if runs[s]["fit"][0]["ok"]]
        _log(f"sample {args.rows_sample:,} rows ({args.repeat} runs each)")
        for index in range(args.repeat):
            for system in fitted:
                label = f"sample {system} #{index + 1}"
                job_args = (system, models[system], args.rows_sample, False)
                runs[system]["sample"].append(_measure(label, job_sample, job_args, timeout))
        if not args.no_tracemalloc:
            _log("tracemalloc peaks (extra untimed runs)")
            for system in systems_order:
                fit_run = _measure(f"traced fit {system}", job_fit, (system, data, None, True), timeout)
                traced[system]["fit"] = fit_run["result"].get("traced_peak_mib")
                if system in fitted:
                    job_args = (system, models[system], args.rows_sample, True)
                    sample_run = _measure(f"traced sample {system}", job_sample, job_args, timeout)
                    traced[system]["sample"] = sample_run["result"].get("traced_peak_mib")
        if args.stream:
            _log(f"stream {args.stream_rows:,} rows to Parquet ({args.repeat} runs each)")
            for index in range(args.repeat):
                for system in [s for s in fitted if s != SDV]:
                    stream_args = (system, models[system], args.stream_rows, workdir)
                    label = f"stream {system} #{index + 1}"
                    runs[system]["stream"].append(_measure(label, job_stream, stream_args, timeout))

    systems = summarise_systems(runs, traced)
    first_fit = next((r for s in systems_order for r in runs[s]["fit"] if r["ok"]), None)
    finished = time.time()
    payload: dict[str, Any] = {
        "benchmark": "bench_core",
        "started_unix": started,
        "duration_s": finished - started,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": environment,
        "loadavg_end": environment_info()["loadavg"],
        "launcher_peak_rss_mib": peak_rss_mib(),
        "versions": package_versions(VERSIONED),
        "dataset": {
            "path": data,
            "rows": first_fit["result"]["rows"] if first_fit else None,
            "columns": first_fit["result"]["columns"] if first_fit else None,
        },
        "engines": engines,
        "sdv_note": None if with_sdv else sdv_note,
        "systems": systems,
    }
    conclude(payload)
    print(render(payload))
    written = write_results("bench_core", payload, args.json)
    print("\nresults: " + ", ".join(str(p) for p in written))
    failed = any(not run["ok"] for system in runs.values() for found in system.values() for run in found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
