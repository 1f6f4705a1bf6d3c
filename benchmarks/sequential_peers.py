"""A peer's sequential model on one event table, run in the peer's own environment (no Mirage import).

Run by ``bench_sequential_argn.py`` and ``bench_sequential_fit.py`` as ``PYTHON sequential_peers.py PEER
EVENTS.csv ENTITY ORDER OUT.csv [--context CONTEXT.csv] [--entities N] [--minutes M] [--epochs E]``;
PEER is ``mostly`` (mostlyai-engine's TabularARGN in sequential mode, /tmp/benchvenv) or ``par`` (SDV's
PARSynthesizer, /tmp/sdvvenv).  Writes the synthetic events to OUT.csv and ``{"fit_seconds",
"sample_seconds", "fit_cpu_seconds"}`` to OUT.csv.json.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import pandas as pd

_CPU: dict[str, float] = {}  # the fit's CPU seconds (all threads), less swayed by a loaded machine


def _mostly(events: pd.DataFrame, context: pd.DataFrame | None, args: argparse.Namespace) -> tuple:
    from mostlyai.engine import TabularARGN

    options = {"tgt_context_key": args.entity, "max_training_time": args.minutes, "random_state": args.seed}
    if context is not None:
        options |= {"ctx_data": context, "ctx_primary_key": args.entity}
    model = TabularARGN(**options)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(events)
    fit = time.perf_counter() - start
    _CPU["fit_cpu_seconds"] = time.process_time() - cpu
    start = time.perf_counter()
    if context is not None:
        synthetic = model.sample(ctx_data=context)
    else:
        synthetic = model.sample(n_samples=args.entities)
    return synthetic, fit, time.perf_counter() - start


def _par(events: pd.DataFrame, context: pd.DataFrame | None, args: argparse.Namespace) -> tuple:
    from sdv.metadata import Metadata
    from sdv.sequential import PARSynthesizer

    table = events if context is None else events.merge(context, on=args.entity, how="left")
    metadata = Metadata.detect_from_dataframes({"events": table})
    metadata.update_column(column_name=args.entity, sdtype="id", table_name="events")
    metadata.set_sequence_key(column_name=args.entity, table_name="events")
    metadata.set_sequence_index(column_name=args.order, table_name="events")
    columns = [] if context is None else [c for c in context.columns if c != args.entity]
    import numpy as np
    import torch

    np.random.seed(args.seed)  # PAR takes no seed: its draws come from NumPy's and torch's global state
    torch.manual_seed(args.seed)
    model = PARSynthesizer(metadata, context_columns=columns, epochs=args.epochs, verbose=False)
    start, cpu = time.perf_counter(), time.process_time()
    model.fit({"events": table})  # SDV 2.0 takes a {table name: DataFrame}
    fit = time.perf_counter() - start
    _CPU["fit_cpu_seconds"] = time.process_time() - cpu
    start = time.perf_counter()
    if context is not None:
        synthetic = model.sample_sequential_columns(context_columns=context)
    else:
        synthetic = model.sample_sequences(num_sequences=args.entities)
    return synthetic, fit, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["mostly", "par"])
    parser.add_argument("events")
    parser.add_argument("entity")
    parser.add_argument("order")
    parser.add_argument("out")
    parser.add_argument("--context")
    parser.add_argument("--entities", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--epochs", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    events = pd.read_csv(args.events)
    context = pd.read_csv(args.context) if args.context else None
    if pd.api.types.is_string_dtype(events[args.order]) or events[args.order].dtype == object:
        events[args.order] = pd.to_datetime(events[args.order])
    run = _mostly if args.peer == "mostly" else _par
    synthetic, fit, sample = run(events, context, args)
    if isinstance(synthetic, dict):  # SDV 2.0 returns {table name: DataFrame}
        synthetic = next(iter(synthetic.values()))
    synthetic.to_csv(args.out, index=False)
    with open(args.out + ".json", "w", encoding="utf-8") as handle:
        json.dump({"fit_seconds": fit, "sample_seconds": sample, **_CPU}, handle)


if __name__ == "__main__":
    main()
