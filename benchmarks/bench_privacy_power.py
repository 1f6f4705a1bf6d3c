"""Power of the privacy checks: do the DCR share and the membership attack see copied rows?

A real table is the population.  It is shuffled (seeded) and cut into three disjoint parts: the
training rows, the holdout rows (``--train-fractions`` sets their ratio) and a set of fresh rows
as large as the training set, i.e. what a perfect generator would emit.  Each scenario is scored
with ``mirage.evaluation._privacy.dcr`` and ``mirage.evaluation._attacks.membership_inference``:

* ``copy``: the training rows themselves, shuffled (a verbatim copy);
* ``copies f``: a fraction ``f`` of the rows copied from training (without replacement), the rest
  fresh rows (``--copy-fractions``);
* ``fresh``: fresh rows only (no copying at all).

With ``--base ENGINE`` (``copula``, ``cart``, ``argn``) the rows that are not copies come from that
engine, fitted on the training rows, instead of fresh rows; ``fresh`` then names the engine's
output alone (0.5 is then the ideal, not a certainty).

The expected DCR share is ``0.5 + f / 2`` (1 for a copy, 0.5 for fresh rows), whatever the split.

    python benchmarks/bench_privacy_power.py [--data adult] [--train-fractions 0.8,0.5]
                                             [--copy-fractions 0.2] [--seeds 0,1] [--rows N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, format_table, write_results


def population_parts(frame: Any, train_fraction: float, seed: int) -> tuple[Any, Any, Any]:
    """Disjoint ``(train, holdout, fresh)`` with ``len(fresh) == len(train)``."""
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    # train + holdout + fresh = n with holdout = train * (1 - t) / t and fresh = train
    n_train = int(len(shuffled) / (2.0 + (1.0 - train_fraction) / train_fraction))
    n_holdout = round(n_train * (1.0 - train_fraction) / train_fraction)
    train = shuffled.iloc[:n_train].reset_index(drop=True)
    holdout = shuffled.iloc[n_train : n_train + n_holdout].reset_index(drop=True)
    fresh = shuffled.iloc[n_train + n_holdout : 2 * n_train + n_holdout].reset_index(drop=True)
    return train, holdout, fresh


def engine_rows(engine: str, train: Any, seed: int) -> Any:
    import mirage

    return mirage.fit(train, engine=engine, seed=seed).sample(len(train), seed=seed)


def with_copies(train: Any, fresh: Any, fraction: float, seed: int) -> Any:
    import pandas as pd

    n_copy = round(fraction * len(train))
    copied = train.sample(n=n_copy, random_state=seed + 1)
    rest = fresh.iloc[: len(train) - n_copy]
    return pd.concat([copied, rest], ignore_index=True).sample(frac=1.0, random_state=seed + 2)


def measure(train: Any, holdout: Any, synthetic: Any, schema: Any, seed: int) -> dict[str, Any]:
    from mirage.evaluation._attacks import membership_inference
    from mirage.evaluation._privacy import dcr

    start = time.perf_counter()
    share = dcr(train, holdout, synthetic, schema, seed=seed, return_distances=False)
    dcr_s = time.perf_counter() - start
    start = time.perf_counter()
    mia = membership_inference(train, holdout, synthetic, schema, seed=seed)
    return {
        "dcr_share": share["dcr_share"],
        "dcr_share_ci": share["dcr_share_ci"],
        "exact_copy_rate": share["exact_copy_rate"],
        "dcr_s": dcr_s,
        "mia_auc": mia["auc"],
        "mia_auc_ci": mia["auc_ci"],
        "mia_advantage": mia["advantage"],
        "mia_s": time.perf_counter() - start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="adult", help="a shared table's name or a CSV path")
    parser.add_argument("--train-fractions", default="0.8,0.5")
    parser.add_argument("--copy-fractions", default="0.2")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--base", default="fresh", help="fresh rows, or an engine's rows, as non-copies")
    parser.add_argument("--rows", type=int, default=None, help="use only this many rows of the table")
    args = parser.parse_args(argv)

    from mirage.io import read_table
    from mirage.schema import infer_schema

    path = Path(args.data) if args.data.endswith(".csv") else DEFAULT_DATA_DIR / f"{args.data}.csv"
    frame = read_table(path)
    if args.rows is not None:
        frame = frame.sample(n=min(args.rows, len(frame)), random_state=0).reset_index(drop=True)
    fractions = [float(x) for x in args.train_fractions.split(",")]
    copies = [float(x) for x in args.copy_fractions.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    results, rows = [], []
    for fraction in fractions:
        for seed in seeds:
            train, holdout, fresh = population_parts(frame, fraction, seed)
            if args.base != "fresh":
                fresh = engine_rows(args.base, train, seed)
            schema = infer_schema(train)
            scenarios = {"copy": train.sample(frac=1.0, random_state=seed + 3)}
            scenarios.update({f"copies {f:g}": with_copies(train, fresh, f, seed) for f in copies})
            scenarios["fresh"] = fresh
            for name, synthetic in scenarios.items():
                record = {"train_fraction": fraction, "seed": seed, "scenario": name}
                record.update(measure(train, holdout, synthetic, schema, seed))
                record.update(n_train=len(train), n_holdout=len(holdout))
                results.append(record)
                lo, hi = record["dcr_share_ci"]
                rows.append(
                    [
                        f"{fraction:g}",
                        str(seed),
                        name,
                        f"{record['dcr_share']:.3f} [{lo:.3f}, {hi:.3f}]",
                        f"{record['mia_auc']:.3f}",
                        f"{record['mia_advantage']:.3f}",
                        f"{record['dcr_s']:.1f} / {record['mia_s']:.1f}",
                    ]
                )
                print(rows[-1], flush=True)
    headers = ["train fraction", "seed", "synthetic", "DCR share [95%]", "MIA AUC", "MIA adv.", "s dcr/mia"]
    print(f"\n{path.name}: {len(frame):,} rows; rows that are not copies: {args.base}\n")
    print(format_table(headers, rows, left=3))
    write_results("privacy_power", {"data": str(path), "base": args.base, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
