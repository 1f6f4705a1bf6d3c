"""The cost of kde's fit-time memorisation check: the ladder searched step by step (as before issue 22's
bisection) against by bisection (now), side by side in one run, on the small tables the conformance
suite fits kde on.  Per table: fit seconds, readings and the bandwidth kept (fallback: independent
columns).  Figures on a shared machine are noisy: read the ratio of the two totals.

    python benchmarks/bench_kde_check.py [--repeat 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from typing import Any

from _common import DEFAULT_DATA_DIR

TABLES = [
    "breast_cancer.csv",
    "insurance.csv",
    "titanic.csv",
    "northwind/orders.csv",
    "fmri_sequences.csv",
    "northwind/order_details.csv",
]


def step_by_step(check: Any, settings: Any, draw_with: Any, describe: Any, readings: Any, rng: Any) -> Any:
    """The search before the bisection: every step read in turn until one passes."""
    for setting in settings:
        share, passes, folds = check.read(draw_with(setting), rng)
        readings.append({**describe(setting), "dcr_share": round(share, 4), "folds": folds})
        if passes:
            return setting
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import mirage
    import mirage.engines.kde as kde
    from mirage.io import read_table

    frames = {t: read_table(DEFAULT_DATA_DIR / t) for t in TABLES}
    totals: dict[str, list[float]] = {}
    for rep in range(args.repeat):
        for name, search in (("step by step", step_by_step), ("bisection", kde.first_passing)):
            original, kde.first_passing = kde.first_passing, search
            try:
                for table, frame in frames.items():
                    start = time.perf_counter()
                    model = mirage.fit(frame, engine="kde", seed=args.seed + rep)
                    seconds = time.perf_counter() - start
                    record = model.training_["kde"]
                    totals.setdefault(name, [0.0, 0.0])
                    totals[name][0] += seconds
                    totals[name][1] += len(record["readings"])
                    print(
                        f"{rep} {name:12s} {table:28s} {seconds:6.1f} s  readings {len(record['readings'])}  "
                        f"bandwidth {record['bandwidth']:.3g} {record.get('fallback', '')}",
                        flush=True,
                    )
            finally:
                kde.first_passing = original
    for name, (seconds, readings) in totals.items():
        print(f"{name:12s} total {seconds:6.1f} s, {int(readings)} readings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
