"""argn's sequential fit from two or more source trees side by side (and mostlyai-engine's beside them):
fit CPU seconds and the quality the fit buys, on the same training entities, in one run.

Each seed splits the entities (a seeded share held out whole); every tree's ``ArgnSequenceSynthesizer``
and, with ``--mostly``, mostlyai-engine's sequential TabularARGN and, with ``--par``, SDV's PAR
(``--par-epochs``) learn the same training entities, each in its own process (a tree's fit imports
PyTorch as a user's would; the peers' imports are outside their timing, as ``sequential_peers.py``
measures them).  This process scores every synthetic table with the same code: lag-1 autocorrelation
against the real one, length KS complement (as many histories as the training table, and
``--entities`` timed ones), entity-level detection AUC, and the DCR share on entity rows against the
held-out entities.  Sampling is timed on ``--entities`` histories: events per second of wall time and
per CPU second.  Each row is printed as one JSON line as soon as it is scored.

Run (base: a source tree of another commit, e.g. ``git archive BASE | tar -x -C /tmp/base``)::

    MIRAGE_SHARED_DATA=/work/shared/data nice -n 10 python benchmarks/bench_sequential_fit.py \
        --tree base=/tmp/base --tree new=. --seeds 0 1 2 [--mostly /tmp/benchvenv/bin/python] \
        [--par /tmp/sdvvenv/bin/python --par-epochs 16]

fMRI's peer is handed subject, event and region as its context table (as its documentation asks for
per-sequence attributes); the transactions' context (age, segment) goes to every model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_DATA_DIR, REPO_ROOT, environment_info, format_table, write_results

PEERS = Path(__file__).resolve().parent / "sequential_peers.py"
TABLES = {
    "fmri": ("seq_id", "timepoint"),
    "transactions": ("customer_id", "timestamp"),
    "gapminder": ("country", "year"),
}
# the peer's context table: the columns constant within each history (Mirage finds them by itself)
PEER_CONTEXT = {"fmri": ["subject", "event", "region"], "gapminder": ["continent"]}


def _table(name: str, customers: int) -> tuple[Any, Any]:
    """``(events, context)`` of a table (``context`` None for fMRI)."""
    import pandas as pd

    if name == "fmri":
        return pd.read_csv(DEFAULT_DATA_DIR / "fmri_sequences.csv"), None
    if name == "gapminder":  # plotly's panel, the 63 countries of Asia and Europe: few histories, as fMRI
        import plotly.data

        panel = plotly.data.gapminder()[["country", "continent", "year", "lifeExp", "pop", "gdpPercap"]]
        return panel[panel["continent"].isin(["Asia", "Europe"])].reset_index(drop=True), None
    from mirage.sequential import make_transactions

    return make_transactions(customers, seed=0)


def _split(name: str, seed: int, args: argparse.Namespace, folder: Path) -> dict[str, Path]:
    """The seed's training events (and context), holdout events, written as CSV in ``folder``."""
    from mirage.evaluation._sequential import split_entities

    events, context = _table(name, args.customers)
    entity = TABLES[name][0]
    train, holdout = split_entities(events, entity, args.holdout, seed)
    paths = {"train": folder / "train.csv", "holdout": folder / "holdout.csv"}
    train.to_csv(paths["train"], index=False)
    holdout.to_csv(paths["holdout"], index=False)
    if context is not None:
        paths["context"] = folder / "context.csv"
        context[context[entity].isin(train[entity])].to_csv(paths["context"], index=False)
    return paths


# --- the worker: one tree's fit and sample, in that tree's interpreter path ---------------------------
def _worker(args: argparse.Namespace) -> None:
    import warnings

    import numpy as np
    import pandas as pd

    warnings.simplefilter("ignore")
    entity, order = TABLES[args.table]
    events = pd.read_csv(args.train)
    context = pd.read_csv(args.context) if args.context else None
    from mirage.sequential import ArgnSequenceSynthesizer, infer_sequence_schema

    schema = infer_sequence_schema(events, entity, order)
    events = _typed(events, schema)
    import_cpu = 0.0
    if args.warm_imports:  # as the peer's timing starts after ``from mostlyai.engine import TabularARGN``
        cpu = time.process_time()
        import torch  # noqa: F401

        import mirage.engines.argn._training
        import mirage.sequential._argn_network  # noqa: F401

        import_cpu = time.process_time() - cpu
    params = json.loads(args.params or "{}")
    model = ArgnSequenceSynthesizer(**{"seed": args.seed, "max_training_time": args.budget, **params})
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(events, schema, context=context)
    fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
    synthetic = model.sample(
        None if context is not None else events[entity].nunique(), seed=args.seed + 1, context=context
    )
    many = None
    if context is not None:
        rng = np.random.default_rng(0)
        many = context.iloc[rng.integers(0, len(context), args.entities)].reset_index(drop=True)
        many[entity] = np.arange(args.entities)
    lengths = []
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in model.sample_chunks(None if many is not None else args.entities, seed=2, context=many):
        keys = chunk[entity].to_numpy()
        lengths.append(np.diff(np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])))
    sample_wall, sample_cpu = time.perf_counter() - wall, time.process_time() - cpu
    drawn = int(sum(int(x.sum()) for x in lengths))
    synthetic.to_csv(args.out, index=False)
    entity_training = getattr(model.entity_engine_, "training_", {})
    summary = {
        "fit_wall_seconds": fit_wall,
        "fit_cpu_seconds": fit_cpu,
        "import_cpu_seconds": import_cpu,
        "epochs": model.training_.get("epochs"),
        "best_epoch": model.training_.get("best_epoch"),
        "stopped": model.training_.get("stopped"),
        "batch_size": model.training_.get("batch_size"),
        "entity_epochs": entity_training.get("epochs"),
        "events_per_second": drawn / sample_wall,
        "events_per_cpu_second": drawn / sample_cpu,
        "many_lengths": np.concatenate(lengths).tolist(),
        "torch_threads": _torch_threads(),
    }
    Path(args.out + ".json").write_text(json.dumps(summary), encoding="utf-8")


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _typed(events: Any, schema: Any) -> Any:
    """Order values read back from CSV as the schema has them (timestamps as datetimes)."""
    import pandas as pd

    if schema.timestamped and not pd.api.types.is_datetime64_any_dtype(events[schema.order]):
        events = events.copy()
        events[schema.order] = pd.to_datetime(events[schema.order])
    return events


# --- the launcher -------------------------------------------------------------------------------------
def _run_tree(
    root: Path, params: str, name: str, seed: int, paths: dict[str, Path], out: Path, args: Any
) -> dict:
    command = [sys.executable, __file__, "--worker", "--table", name, "--seed", str(seed), "--params", params]
    command += ["--train", str(paths["train"]), "--out", str(out), "--budget", str(args.budget)]
    command += ["--entities", str(args.entities)] + (["--warm-imports"] if args.warm_imports else [])
    if "context" in paths:
        command += ["--context", str(paths["context"])]
    env = {**os.environ, "PYTHONPATH": str(root.resolve())}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(root), check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    summary: dict[str, Any] = json.loads(Path(str(out) + ".json").read_text(encoding="utf-8"))
    return summary


def _peer_inputs(name: str, paths: dict[str, Path], folder: Path) -> tuple[Any, Path | None]:
    """The peer's events (written to ``folder/events.csv``) and its context table's path, if any."""
    import pandas as pd

    entity = TABLES[name][0]
    events = pd.read_csv(paths["train"])
    given = paths.get("context")
    if name in PEER_CONTEXT:  # the per-sequence attributes as the peer's context table
        constants = PEER_CONTEXT[name]
        events.groupby(entity, sort=False)[constants].first().reset_index().to_csv(
            folder / "ctx.csv", index=False
        )
        events.drop(columns=constants).to_csv(folder / "events.csv", index=False)
        given = folder / "ctx.csv"
    else:
        events.to_csv(folder / "events.csv", index=False)
    return events, given


def _run_peer(peer: str, name: str, seed: int, paths: dict[str, Path], out: Path, args: Any) -> dict:
    """mostlyai-engine (``peer="mostly"``, stopped by its own early stopping or ``--peer-budget``) or
    SDV's PAR (``"par"``, ``--par-epochs`` epochs: it has no early stopping) on the seed's training
    entities, one history per training entity (given its context row where there is one)."""
    import pandas as pd

    entity, order = TABLES[name]
    folder = out.parent
    events, given = _peer_inputs(name, paths, folder)
    python = args.mostly if peer == "mostly" else args.par
    command = [python, str(PEERS), peer, str(folder / "events.csv"), entity, order, str(out)]
    minutes = (args.peer_budget or args.budget) / 60
    command += ["--entities", str(events[entity].nunique()), "--minutes", str(minutes), "--seed", str(seed)]
    command += ["--epochs", str(args.par_epochs)]
    if given is not None:
        command += ["--context", str(given)]
    threads = str(args.peer_threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    timing = json.loads(Path(str(out) + ".json").read_text(encoding="utf-8"))
    synthetic = pd.read_csv(out)
    if name in PEER_CONTEXT:
        attributes = events.groupby(entity, sort=False)[PEER_CONTEXT[name]].first()
        absent = [c for c in PEER_CONTEXT[name] if c not in synthetic.columns]
        synthetic = synthetic.merge(attributes[absent].reset_index(), on=entity, how="left")
    elif given is not None:
        context = pd.read_csv(given)
        absent = [c for c in context.columns if c not in synthetic.columns]
        synthetic = synthetic.merge(context[[entity, *absent]], on=entity, how="left")
    synthetic.to_csv(out, index=False)
    summary = {
        "fit_wall_seconds": timing["fit_seconds"],
        "fit_cpu_seconds": timing.get("fit_cpu_seconds", float("nan")),
        "events_per_second": len(synthetic) / max(timing["sample_seconds"], 1e-9),
    }
    if peer == "mostly":  # it checks its time limit between epochs: a fit this long was stopped by it
        summary["budget_bound"] = timing["fit_seconds"] >= 0.95 * (args.peer_budget or args.budget)
    else:
        summary["epochs"] = args.par_epochs
    return summary


def _score(name: str, paths: dict[str, Path], out: Path, summary: dict[str, Any], seed: int) -> dict:
    import numpy as np
    import pandas as pd

    from mirage.evaluation._sequential import (
        evaluate_sequences,
        ks_complement,
        sequence_lengths,
    )
    from mirage.sequential import infer_sequence_schema

    entity, order = TABLES[name]
    train = pd.read_csv(paths["train"])
    schema = infer_sequence_schema(train, entity, order)
    train, holdout = _typed(train, schema), _typed(pd.read_csv(paths["holdout"]), schema)
    synthetic = _typed(pd.read_csv(out), schema)
    if "context" in paths:
        context = pd.read_csv(paths["context"])
        absent = [c for c in context.columns if c in train.columns and c not in synthetic.columns]
        if absent:
            synthetic = synthetic.merge(context[[entity, *absent]], on=entity, how="left")
    synthetic = synthetic[[c for c in train.columns if c in synthetic.columns]]
    result = evaluate_sequences(train, synthetic, schema, holdout=holdout, seed=seed)
    column = next(iter(result["autocorrelation"]))
    real_lag1, synthetic_lag1 = result["autocorrelation"][column][1]
    scores = {
        "lag1": synthetic_lag1,
        "lag1_real": real_lag1,
        "length_ks": result["length_ks_complement"],
        "gap_ks": result["gap_ks_complement"],
        "detection_auc": result["detection_auc"],
        "dcr_share": result["dcr"]["holdout"]["dcr_share"],
    }
    if "many_lengths" in summary:
        many = np.asarray(summary.pop("many_lengths"))
        scores["length_ks_many"] = ks_complement(sequence_lengths(train, schema), many)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tree",
        action="append",
        help="LABEL=PATH[@JSON] of a source tree, with the model's settings (default: this tree)",
    )
    parser.add_argument("--tables", default="fmri,transactions")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--holdout", type=float, default=0.2, help="share of the entities held out whole")
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds (argn and the peer)")
    parser.add_argument("--entities", type=int, default=2000, help="histories sampled for the events/s")
    parser.add_argument("--mostly", help="python of an environment with mostlyai-engine")
    parser.add_argument("--par", help="python of an environment with SDV (its PARSynthesizer)")
    parser.add_argument("--par-epochs", type=int, default=16, help="PAR's epochs (it has no early stopping)")
    parser.add_argument(
        "--warm-imports",
        action="store_true",
        help="import PyTorch and argn's modules before a fit's clock starts (as the peer's does)",
    )
    parser.add_argument(
        "--peer-budget",
        type=float,
        help="the peer's training seconds (default --budget); one that stops the peer before it converges "
        "makes its CPU seconds a floor, and the ratio to it a ceiling",
    )
    parser.add_argument(
        "--peer-threads", type=int, default=1, help="the peer's torch threads (argn trains on 1 by default)"
    )
    # the worker's own options
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    parser.add_argument("--context", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    import warnings

    warnings.simplefilter("ignore")
    trees = [t.split("=", 1) for t in (args.tree or [f"this={REPO_ROOT}"])]
    figures: list[dict[str, Any]] = []
    for seed in args.seeds:
        for name in args.tables.split(","):
            with tempfile.TemporaryDirectory() as folder:
                place = Path(folder)
                paths = _split(name, seed, args, place)
                runs: list[tuple[str, Path | None, str]] = [
                    (label, Path(root.split("@", 1)[0]), [*root.split("@", 1), "{}"][1])
                    for label, root in trees
                ]
                runs += [("mostlyai-engine", None, "mostly")] if args.mostly else []
                runs += [("SDV PAR", None, "par")] if args.par else []
                for label, root, params in runs:
                    out = place / f"{label.replace(' ', '_')}.csv"
                    load = os.getloadavg()[0]
                    if root is None:
                        summary = _run_peer(params, name, seed, paths, out, args)
                    else:
                        summary = _run_tree(root, params, name, seed, paths, out, args)
                    row = {"table": name, "seed": seed, "model": label, "load": load, **summary}
                    if "error" not in summary:
                        row |= _score(name, paths, out, row, seed)
                    row.pop("many_lengths", None)
                    print(json.dumps(row), flush=True)
                    figures.append(row)
    _print(figures)
    results = {"args": vars(args), "figures": figures, "environment": environment_info()}
    for path in write_results("sequential_fit", results):
        print(f"wrote {path}")


def _print(figures: list[dict[str, Any]]) -> None:
    import pandas as pd

    done = pd.DataFrame([f for f in figures if "error" not in f])
    if done.empty:
        return
    numbers = ["fit_cpu_seconds", "fit_wall_seconds", "epochs", "lag1", "length_ks", "length_ks_many"]
    numbers += ["detection_auc", "dcr_share", "events_per_second", "events_per_cpu_second", "load"]
    numbers = [c for c in numbers if c in done.columns]
    rows = []
    for (table, model), group in done.groupby(["table", "model"], sort=False):
        cells = [table, model, str(len(group))]
        for column in numbers:
            values = group[column].dropna()
            cells.append(
                "" if values.empty else f"{values.mean():.3g} ({values.min():.3g}-{values.max():.3g})"
            )
        rows.append([str(c) for c in cells])
    print(format_table(["table", "model", "seeds", *numbers], rows, left=2))
    cpu = done.pivot_table(index=["table", "seed"], columns="model", values="fit_cpu_seconds")
    models = list(dict.fromkeys(done["model"]))  # in the order they ran: the first tree first
    for reference in [models[0], "mostlyai-engine"]:
        if reference not in cpu.columns:
            continue
        for column in models:
            if column != reference:
                ratio = (cpu[column] / cpu[reference]).groupby(level=0).mean().round(3).to_dict()
                print(f"fit CPU {column} / {reference}, mean of the seeds' ratios: {ratio}")


if __name__ == "__main__":
    main()
