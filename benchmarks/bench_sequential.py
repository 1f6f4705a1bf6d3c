"""The sequence model (``mirage.sequential.SequenceSynthesizer``) on the shared fMRI table and on the
generated transactions: fit seconds, the sequence metrics against the real histories, and sampled
events per second of wall time and per CPU second of this process (histories streamed in blocks, peak
memory reported; on a shared machine the CPU-second rate is the one that says what the code does).

Run: ``python benchmarks/bench_sequential.py [--customers 1000] [--entities 50000] [--repeat 2]
[--baseline] [--events 100000 1000000 10000000]``.
``--baseline`` also times, in the same run, the per-step path through ``engine.sample(context=frame)``
that the encoded draws replaced (a ratio robust to a loaded machine).  ``--events`` streams that many
generated-transaction events to a Parquet file with ``SequenceSynthesizer.sample_to``, each size in a
fresh process, and reports its peak memory (flat: one block of entities is held at a time).
Targets (issue 17): lag-1 autocorrelation within 0.1 of real, length KS complement >= 0.95, at least
200,000 events/s sampled, 10M events streamed with flat memory.  fMRI is read from
``$MIRAGE_SHARED_DATA/fmri_sequences.csv`` (the test fixture's half when that is missing); the public
panel is plotly's gapminder (``plotly.data.gapminder``, shipped with plotly).  The peers run in
``bench_sequential_argn.py`` and ``bench_sequential_fit.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DEFAULT_DATA_DIR,
    REPO_ROOT,
    environment_info,
    format_table,
    peak_rss_mib,
    run_isolated,
    write_results,
)

if TYPE_CHECKING:
    import pandas as pd


def _fit_streaming_model(path: str, customers: int) -> dict[str, Any]:
    """Fit the transactions model (no context) and save it at ``path`` (in its own process, so the
    launcher's memory high-water mark stays small)."""
    warnings.simplefilter("ignore")
    from mirage.sequential import SequenceSynthesizer, infer_sequence_schema, make_transactions

    events, _ = make_transactions(customers, seed=0)
    schema = infer_sequence_schema(events, "customer_id", "timestamp")
    model = SequenceSynthesizer(seed=0).fit(events, schema)
    model.save(path)
    return {"events_per_entity": len(events) / events["customer_id"].nunique()}


def _stream(model_path: str, entities: int, target: str) -> dict[str, Any]:
    """Stream ``entities`` histories to ``target`` with ``sample_to``."""
    warnings.simplefilter("ignore")
    from mirage.sequential import SequenceSynthesizer

    model = SequenceSynthesizer.load(model_path)
    start, cpu = time.perf_counter(), time.process_time()
    written = model.sample_to(target, entities, seed=3)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    size = Path(target).stat().st_size
    Path(target).unlink()
    return {"events": written, "seconds": seconds, "cpu_seconds": cpu_seconds, "file_mib": size / 2**20}


def _streaming(sizes: list[int], customers: int) -> list[dict[str, Any]]:
    import math

    out = []
    with tempfile.TemporaryDirectory() as folder:
        model_path = str(Path(folder) / "transactions.mirage")
        fitted = run_isolated(_fit_streaming_model, model_path, customers)
        if not fitted.ok:
            raise SystemExit(f"fitting the streaming model failed: {fitted.error}")
        per_entity = float(fitted.result["events_per_entity"])
        for events in sizes:
            entities = max(1, math.ceil(events / per_entity))
            run = run_isolated(_stream, model_path, entities, str(Path(folder) / f"out{events}.parquet"))
            if not run.ok:
                raise SystemExit(f"streaming {events:,} events failed: {run.error}")
            out.append(
                {
                    "asked_events": events,
                    "entities": entities,
                    **run.result,
                    "events_per_second": run.result["events"] / run.result["seconds"],
                    "events_per_cpu_second": run.result["events"] / run.result["cpu_seconds"],
                    "peak_rss_mib": run.peak_rss_mib,
                    "vm_hwm_mib": run.vm_hwm_mib,
                }
            )
    return out


def _fmri() -> pd.DataFrame:
    import pandas as pd

    shared = DEFAULT_DATA_DIR / "fmri_sequences.csv"
    return pd.read_csv(
        shared if shared.exists() else REPO_ROOT / "tests" / "fixtures" / "fmri_sequences_small.csv"
    )


def _gapminder() -> pd.DataFrame:
    """A public panel that plotly ships: 142 countries, every 5 years from 1952 to 2007."""
    import plotly.data

    return plotly.data.gapminder()[["country", "continent", "year", "lifeExp", "pop", "gdpPercap"]]


def _case(
    name: str,
    events: pd.DataFrame,
    entity: str,
    order: str,
    context: pd.DataFrame | None,
    args: Any,
    **options: Any,
) -> dict[str, Any]:
    import numpy as np

    import mirage.sequential._model as sequential_model
    from mirage.evaluation._sequential import evaluate_sequences
    from mirage.sequential import SequenceSynthesizer, infer_sequence_schema

    schema = infer_sequence_schema(events, entity, order)
    start, cpu = time.perf_counter(), time.process_time()
    model = SequenceSynthesizer(seed=0, **options).fit(events, schema, context=context)
    fit_seconds, fit_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    same = model.sample(
        None if context is not None else int(model.training_["entities"]), seed=1, context=context
    )
    scores = evaluate_sequences(events, same, schema, seed=0)
    many_context = None
    if context is not None:
        rng = np.random.default_rng(0)
        many_context = context.iloc[rng.integers(0, len(context), args.entities)].reset_index(drop=True)
        many_context[entity] = np.arange(args.entities)
    encoded_draws = sequential_model.usable

    def timed_sampling() -> tuple[int, float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        drawn = sum(
            len(chunk)
            for chunk in model.sample_chunks(
                None if many_context is not None else args.entities, seed=2, context=many_context
            )
        )
        return drawn, time.perf_counter() - start, time.process_time() - cpu

    best = best_cpu = baseline = float("inf")
    events_drawn = 0
    for _ in range(args.repeat):  # alternately, so that both see the same load
        events_drawn, seconds, cpu_seconds = timed_sampling()
        best, best_cpu = min(best, seconds), min(best_cpu, cpu_seconds)
        if args.baseline:
            sequential_model.usable = lambda engine, rows: False  # type: ignore[assignment]
            try:
                baseline = min(baseline, timed_sampling()[1])
            finally:
                sequential_model.usable = encoded_draws
    autocorr = {
        column: {"real": lags[1][0], "synthetic": lags[1][1]}
        for column, lags in scores["autocorrelation"].items()
    }
    return {
        "data": name,
        "entities": int(model.training_["entities"]),
        "events": int(model.training_["events"]),
        "fit_seconds": fit_seconds,
        "fit_cpu_seconds": fit_cpu_seconds,
        "length_ks_complement": scores["length_ks_complement"],
        "gap_ks_complement": scores["gap_ks_complement"],
        "lag1_autocorrelation": autocorr,
        "detection_auc": scores["detection_auc"],
        "dcr_copied_share": scores["dcr"]["copied_share"],
        "sampled_entities": args.entities,
        "sampled_events": events_drawn,
        "sample_seconds": best,
        "events_per_second": events_drawn / best,
        "events_per_cpu_second": events_drawn / best_cpu,
        "entities_per_second": args.entities / best,
        "baseline_events_per_second": events_drawn / baseline if args.baseline else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--baseline", action="store_true", help="time the per-step engine path too")
    parser.add_argument("--events", type=int, nargs="*", default=[], help="event counts to stream")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    streamed = _streaming(args.events, args.customers) if args.events else []

    from mirage.sequential import make_transactions

    events, customers = make_transactions(args.customers, seed=0)
    figures = [
        _case("fmri", _fmri(), "seq_id", "timepoint", None, args),
        _case("transactions", events, "customer_id", "timestamp", customers, args),
        _case("gapminder", _gapminder(), "country", "year", None, args, rare_min_count=2),
    ]
    rows = []
    for f in figures:
        lag1 = "; ".join(
            f"{c} {v['synthetic']:.2f} (real {v['real']:.2f})" for c, v in f["lag1_autocorrelation"].items()
        )
        rows.append(
            [
                f["data"],
                f"{f['entities']:,}/{f['events']:,}",
                f"{f['fit_seconds']:.1f} ({f['fit_cpu_seconds']:.1f})",
                f"{f['length_ks_complement']:.3f}",
                f"{f['gap_ks_complement']:.3f}",
                lag1,
                f"{f['detection_auc']:.3f}",
                f"{f['events_per_second']:,.0f} ({f['events_per_cpu_second']:,.0f})",
                f"{f['entities_per_second']:,.0f}",
            ]
        )
    print(
        format_table(
            [
                "data",
                "entities/events",
                "fit s (CPU s)",
                "length KS",
                "gap KS",
                "lag-1 autocorr",
                "detection AUC",
                "events/s (per CPU s)",
                "entities/s",
            ],
            rows,
        )
    )
    for f in figures:
        if f["baseline_events_per_second"]:
            ratio = f["events_per_second"] / f["baseline_events_per_second"]
            print(
                f"{f['data']}: per-step engine path {f['baseline_events_per_second']:,.0f} events/s; "
                f"encoded draws {ratio:.2f}x that"
            )
    if streamed:
        print("\nstreamed to Parquet with sample_to (generated transactions, no context), a process each:")
        print(
            format_table(
                [
                    "events",
                    "entities",
                    "seconds (CPU)",
                    "events/s (per CPU s)",
                    "file MiB",
                    "peak RSS MiB",
                    "VmHWM MiB",
                ],
                [
                    [
                        f"{r['events']:,}",
                        f"{r['entities']:,}",
                        f"{r['seconds']:.1f} ({r['cpu_seconds']:.1f})",
                        f"{r['events_per_second']:,.0f} ({r['events_per_cpu_second']:,.0f})",
                        f"{r['file_mib']:.0f}",
                        f"{r['peak_rss_mib']:,.0f}",
                        f"{r['vm_hwm_mib']:,.0f}" if r["vm_hwm_mib"] is not None else "-",
                    ]
                    for r in streamed
                ],
            )
        )
    print(f"peak RSS {peak_rss_mib():,.0f} MiB; load average at the end: {environment_info().get('loadavg')}")
    write_results(
        "bench_sequential", {"environment": environment_info(), "figures": figures, "streamed": streamed}
    )


if __name__ == "__main__":
    main()
