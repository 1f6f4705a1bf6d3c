"""The sequence model (``mirage.sequential.SequenceSynthesizer``) on the shared fMRI table and on the
generated transactions: fit seconds, the sequence metrics against the real histories, and sampled
events per second (histories streamed in blocks, peak memory reported).

Run: ``python benchmarks/bench_sequential.py [--customers 1000] [--entities 50000] [--repeat 2]``.
Targets (issue 17): lag-1 autocorrelation within 0.1 of real, length KS complement >= 0.95, at least
200,000 events/s sampled.  fMRI is read from ``$MIRAGE_SHARED_DATA/fmri_sequences.csv`` (the test
fixture's half when that is missing).  SDV's PAR and mostlyai-engine are not run here (not installed).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd
from _common import DEFAULT_DATA_DIR, REPO_ROOT, environment_info, format_table, peak_rss_mib, write_results


def _fmri() -> pd.DataFrame:
    shared = DEFAULT_DATA_DIR / "fmri_sequences.csv"
    return pd.read_csv(
        shared if shared.exists() else REPO_ROOT / "tests" / "fixtures" / "fmri_sequences_small.csv"
    )


def _case(
    name: str, events: pd.DataFrame, entity: str, order: str, context: pd.DataFrame | None, args: Any
) -> dict[str, Any]:
    from mirage.evaluation._sequential import evaluate_sequences
    from mirage.sequential import SequenceSynthesizer, infer_sequence_schema

    schema = infer_sequence_schema(events, entity, order)
    start = time.perf_counter()
    model = SequenceSynthesizer(seed=0).fit(events, schema, context=context)
    fit_seconds = time.perf_counter() - start
    same = model.sample(
        None if context is not None else int(model.training_["entities"]), seed=1, context=context
    )
    scores = evaluate_sequences(events, same, schema, seed=0)
    many_context = None
    if context is not None:
        rng = np.random.default_rng(0)
        many_context = context.iloc[rng.integers(0, len(context), args.entities)].reset_index(drop=True)
        many_context[entity] = np.arange(args.entities)
    best = float("inf")
    events_drawn = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        events_drawn = sum(
            len(chunk)
            for chunk in model.sample_chunks(
                None if many_context is not None else args.entities, seed=2, context=many_context
            )
        )
        best = min(best, time.perf_counter() - start)
    autocorr = {
        column: {"real": lags[1][0], "synthetic": lags[1][1]}
        for column, lags in scores["autocorrelation"].items()
    }
    return {
        "data": name,
        "entities": int(model.training_["entities"]),
        "events": int(model.training_["events"]),
        "fit_seconds": fit_seconds,
        "length_ks_complement": scores["length_ks_complement"],
        "gap_ks_complement": scores["gap_ks_complement"],
        "lag1_autocorrelation": autocorr,
        "detection_auc": scores["detection_auc"],
        "dcr_copied_share": scores["dcr"]["copied_share"],
        "sampled_entities": args.entities,
        "sampled_events": events_drawn,
        "sample_seconds": best,
        "events_per_second": events_drawn / best,
        "entities_per_second": args.entities / best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from mirage.sequential import make_transactions

    events, customers = make_transactions(args.customers, seed=0)
    figures = [
        _case("fmri", _fmri(), "seq_id", "timepoint", None, args),
        _case("transactions", events, "customer_id", "timestamp", customers, args),
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
                f"{f['fit_seconds']:.1f}",
                f"{f['length_ks_complement']:.3f}",
                f"{f['gap_ks_complement']:.3f}",
                lag1,
                f"{f['detection_auc']:.3f}",
                f"{f['events_per_second']:,.0f}",
                f"{f['entities_per_second']:,.0f}",
            ]
        )
    print(
        format_table(
            [
                "data",
                "entities/events",
                "fit s",
                "length KS",
                "gap KS",
                "lag-1 autocorr",
                "detection AUC",
                "events/s",
                "entities/s",
            ],
            rows,
        )
    )
    print(f"peak RSS {peak_rss_mib():,.0f} MiB; load average at the end: {environment_info().get('loadavg')}")
    write_results("bench_sequential", {"environment": environment_info(), "figures": figures})


if __name__ == "__main__":
    main()
