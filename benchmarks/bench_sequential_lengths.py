"""Where the generated transactions' history lengths differ from the real ones: the metric's floor and
the model's part, split by split seed.

The floor: the length KS complement of one real table's training entities (a seeded share held out, as
``bench_sequential_fit.py`` splits) against as many entities of another real table (``make_transactions``
with another seed) and against the held-out entities, per ``--customers`` size.  What a model that drew
from the true distribution would score.

The model (each ``--tree``, argn fitted in that tree's interpreter path on the same training entities):
the KS complement of the lengths drawn given the training context with the benchmark's sample seed
(``seed + 1``) and the mean over ``--samples`` further sample seeds; the largest gap between the training
lengths' CDF and the synthetic lengths' mean CDF (a bias no sample seed averages away) and where it
lies; the share of histories shorter than the 10th shortest and longer than the 10th longest training
one; quantiles.  One JSON line per row.

Run::

    MIRAGE_SHARED_DATA=/work/shared/data nice -n 10 python benchmarks/bench_sequential_lengths.py \
        --customers 500 2000 --seeds 0 1 2 3 4 [--tree base=/tmp/base --tree new=. --samples 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_info, format_table, write_results

ENTITY = "customer_id"
QUANTILES = [0.0, 0.01, 0.025, 0.05, 0.5, 0.95, 0.975, 0.99, 1.0]
PROTECTED = 10  # the encoding's rare_min_count: the token layer's outermost edges are these order statistics


def _lengths(events: Any) -> Any:
    return events.groupby(ENTITY, sort=False).size().to_numpy()


def _split(customers: int, seed: int, holdout: float) -> tuple[Any, Any, Any]:
    from mirage.evaluation._sequential import split_entities
    from mirage.sequential import make_transactions

    events, context = make_transactions(customers, seed=0)
    train, held = split_entities(events, ENTITY, holdout, seed)
    return train, held, context[context[ENTITY].isin(train[ENTITY])].reset_index(drop=True)


def _floor(customers: int, seed: int, holdout: float) -> dict[str, Any]:
    from mirage.evaluation._sequential import ks_complement
    from mirage.sequential import make_transactions

    train, held, _ = _split(customers, seed, holdout)
    real = _lengths(train)
    other = _lengths(make_transactions(customers, seed=1000 + seed)[0])[: len(real)]
    return {
        "model": "real",
        "length_ks": ks_complement(real, other),
        "length_ks_holdout": ks_complement(real, _lengths(held)),
    }


def _worker(args: argparse.Namespace) -> None:
    import warnings

    warnings.simplefilter("ignore")
    from mirage.sequential import ArgnSequenceSynthesizer, infer_sequence_schema

    train, _, context = _split(args.customer_count, args.seed, args.holdout)
    schema = infer_sequence_schema(train, ENTITY, "timestamp")
    model = ArgnSequenceSynthesizer(seed=args.seed, max_training_time=args.budget).fit(
        train, schema, context=context
    )
    drawn = [
        _lengths(model.sample(None, seed=seed, context=context)).tolist()
        for seed in [args.seed + 1, *range(100, 100 + args.samples)]
    ]
    Path(args.out).write_text(json.dumps(drawn), encoding="utf-8")


def _model(root: Path, customers: int, seed: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    import numpy as np

    from mirage.evaluation._sequential import ks_complement

    out = folder / "lengths.json"
    command = [sys.executable, __file__, "--worker", "--seed", str(seed), "--out", str(out)]
    command += ["--customer-count", str(customers), "--samples", str(args.samples)]
    command += ["--holdout", str(args.holdout), "--budget", str(args.budget)]
    env = {**os.environ, "PYTHONPATH": str(root.resolve())}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(root), check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    first, *more = [np.asarray(x) for x in json.loads(out.read_text(encoding="utf-8"))]
    real = np.sort(_lengths(_split(customers, seed, args.holdout)[0]))
    grid = np.arange(real.min() - 20, real.max() + 21)

    def cdf(values: Any) -> Any:
        return np.searchsorted(np.sort(values), grid, side="right") / len(values)

    bias = cdf(real) - np.mean([cdf(x) for x in more], axis=0)
    worst = int(np.argmax(np.abs(bias)))
    shortest, longest = real[PROTECTED - 1], real[-PROTECTED]
    return {
        "length_ks": ks_complement(real, first),
        "length_ks_samples": float(np.mean([ks_complement(real, x) for x in more])),
        "cdf_bias": float(bias[worst]),
        "cdf_bias_at": int(grid[worst]),
        "below_10th_shortest": float(np.mean(np.concatenate(more) < shortest)),
        "below_10th_shortest_real": float(np.mean(real < shortest)),
        "above_10th_longest": float(np.mean(np.concatenate(more) > longest)),
        "above_10th_longest_real": float(np.mean(real > longest)),
        "quantiles": np.quantile(np.concatenate(more), QUANTILES).round(1).tolist(),
        "quantiles_real": np.quantile(real, QUANTILES).round(1).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--tree", action="append", default=[], help="LABEL=PATH of a source tree to fit")
    parser.add_argument("--samples", type=int, default=20, help="sample seeds the mean CDF is taken over")
    parser.add_argument("--holdout", type=float, default=0.2, help="share of the entities held out whole")
    parser.add_argument("--budget", type=float, default=3600.0, help="argn's training seconds")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--customer-count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    import warnings

    warnings.simplefilter("ignore")
    trees = [(label, Path(root)) for label, root in (t.split("=", 1) for t in args.tree)]
    figures: list[dict[str, Any]] = []
    for customers in args.customers:
        for seed in args.seeds:
            rows = [_floor(customers, seed, args.holdout)]
            for label, root in trees:
                with tempfile.TemporaryDirectory() as folder:
                    rows.append({"model": label, **_model(root, customers, seed, args, Path(folder))})
            for row in rows:
                row = {"customers": customers, "seed": seed, **row}
                print(json.dumps(row), flush=True)
                figures.append(row)
    _print(figures)
    results = {"args": vars(args), "figures": figures, "environment": environment_info()}
    for path in write_results("sequential_lengths", results):
        print(f"wrote {path}")


def _print(figures: list[dict[str, Any]]) -> None:
    import pandas as pd

    done = pd.DataFrame([f for f in figures if "error" not in f])
    numbers = ["length_ks", "length_ks_holdout", "length_ks_samples", "cdf_bias"]
    numbers += ["below_10th_shortest", "above_10th_longest"]
    numbers = [c for c in numbers if c in done.columns]
    rows = []
    for (customers, model), group in done.groupby(["customers", "model"], sort=False):
        cells = [str(customers), str(model), str(len(group))]
        for column in numbers:
            values = group[column].dropna()
            spread = f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})"
            cells.append("" if values.empty else spread)
        rows.append(cells)
    print(format_table(["customers", "model", "seeds", *numbers], rows, left=2))


if __name__ == "__main__":
    main()
