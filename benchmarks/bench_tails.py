"""Tails: how much of a numeric column's outlier mass each engine draws, and how far it reaches.

For each table, split seed and engine: ``split_holdout(table, --holdout, seed)``, fit on the training
rows (model seed = split seed), sample as many rows, and per column read

* ``p99``, ``p995``: the share of the synthetic values above the training 99th / 99.5th percentile
  (the training data's own shares are about 0.01 / 0.005; ``held`` rows give the holdout's);
* ``max``: the synthetic maximum, against the training maximum (``train max``) and value protection's
  bound, the ``rare_min_count``-th largest training value (``bound``);
* ``top hits``: synthetic values equal to one of the ten largest training values;
* ``tail cov``: the report's tail coverage of the numeric columns (``coverage_scores``, training rows
  as the real ones; ``holdout`` reads the holdout against them the same way).

Run it once per source tree (``PYTHONPATH`` pointing at each) for a before/after:

    PYTHONPATH=$PWD python benchmarks/bench_tails.py --data /work/shared/data \\
        --tables titanic,insurance,adult --engines cart,copula,gmm,kde,argn,bayesnet --out tails.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from _common import DEFAULT_DATA_DIR

COLUMNS = {
    "titanic": ["age", "fare"],
    "insurance": ["charges", "bmi"],
    "adult": ["fnlwgt", "capital_gain"],
    "diabetes": [],
    "breast_cancer": [],
}
RARE_MIN_COUNT = 10


def run(
    table: str, engine: str, seed: int, data: Path, max_rows: int, holdout: float
) -> list[dict[str, Any]]:
    import mirage
    from mirage.evaluation import split_holdout
    from mirage.evaluation._coverage import coverage_scores
    from mirage.io import read_table

    frame = read_table(data / f"{table}.csv")
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0).reset_index(drop=True)
    train, held = split_holdout(frame, holdout, seed)
    model = mirage.fit(train, engine=engine, seed=seed)
    synthetic = model.sample(len(train), seed=seed)
    numeric = [c for c in train.columns if c in synthetic and np.issubdtype(train[c].dtype, np.number)]
    _, synthetic_cov = coverage_scores(train[numeric], synthetic[numeric])
    _, held_cov = coverage_scores(train[numeric], held[numeric])
    rows = []
    for column in COLUMNS[table] or numeric:
        real = train[column].dropna().to_numpy(dtype="float64")
        fake = synthetic[column].dropna().to_numpy(dtype="float64")
        other = held[column].dropna().to_numpy(dtype="float64")
        ordered = np.sort(real)
        p99, p995 = np.quantile(real, [0.99, 0.995])
        rows.append(
            {
                "table": table,
                "engine": engine,
                "seed": seed,
                "column": column,
                "p99": float(np.mean(fake > p99)),
                "p995": float(np.mean(fake > p995)),
                "held p99": float(np.mean(other > p99)),
                "max": float(fake.max()),
                "bound": float(ordered[-RARE_MIN_COUNT]),
                "train max": float(ordered[-1]),
                "top hits": int(np.isin(fake, ordered[-10:]).sum()),
                "tail cov": synthetic_cov["tail_coverage"],
                "holdout tail cov": held_cov["tail_coverage"],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default="titanic,insurance,adult")
    parser.add_argument("--engines", default="cart,copula,gmm,kde,argn,bayesnet")
    parser.add_argument("--seeds", type=int, default=1, help="split seeds 0..N-1")
    parser.add_argument("--max-rows", type=int, default=10_000, help="subsample larger tables (seeded)")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for table in args.tables.split(","):
        for engine in args.engines.split(","):
            for seed in range(args.seeds):
                found = run(table, engine, seed, args.data, args.max_rows, args.holdout)
                rows.extend(found)
                for r in found:
                    print(
                        f"{table:10s} {engine:9s} s{seed} {r['column']:13s} >p99 {r['p99']:.4f} "
                        f"(held {r['held p99']:.4f}) >p99.5 {r['p995']:.4f} max {r['max']:.6g} "
                        f"bound {r['bound']:.6g} train max {r['train max']:.6g} top hits {r['top hits']} "
                        f"tail cov {r['tail cov']:.3f} (holdout {r['holdout tail cov']:.3f})",
                        flush=True,
                    )
                args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
