"""The probabilistic engines' memorisation defaults (issue 22): engine settings side by side in one run,
on the shared tables over split seeds, scored as ``bench_engines.py`` scores (``run_one``): DCR share,
quality, detection AUC, TSTR ratio and fit seconds, as the mean and range over the seeds.

Settings of one engine run side by side on the same splits (``gmm,gmm@n_components=1``).  To compare
code before and after a change, run the script from a copy of the earlier commit at the same time
(same splits, same load; the fit seconds of two concurrent runs compare as a ratio only):

    git archive BASE | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before python benchmarks/bench_classic_dcr.py --engines kde --out /tmp/kde_before.json &
    PYTHONPATH=$PWD python benchmarks/bench_classic_dcr.py --engines kde --out /tmp/kde_after.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any

from _common import DEFAULT_DATA_DIR
from bench_engines import THREAD_VARIABLES, load_table, run_one

FIGURES = [
    ("dcr_share", "DCR share"),
    ("quality", "quality"),
    ("detection_auc", "detection AUC"),
    ("utility_ratio", "TSTR ratio"),
    ("fit_s", "fit s"),
]


def cell(values: list[float], key: str) -> str:
    if not values:
        return "-"
    digits = 1 if key == "fit_s" else 3
    mean = sum(values) / len(values)
    return f"{mean:.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default="insurance,titanic,diabetes,breast_cancer")
    parser.add_argument("--engines", default="gmm,bayesnet,kde", help="comma-separated engine specs")
    parser.add_argument("--seeds", type=int, default=5, help="split seeds for tables under --small-rows")
    parser.add_argument("--big-seeds", type=int, default=2)
    parser.add_argument("--small-rows", type=int, default=2000)
    parser.add_argument("--max-rows", type=int, default=8000, help="subsample larger tables to this")
    parser.add_argument("--out", default="", help="write every run's scores here (JSON)")
    args = parser.parse_args(argv)
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    warnings.filterwarnings("ignore")
    results: list[dict[str, Any]] = []
    engines = [e for e in args.engines.split(",") if e]
    for table in [t for t in args.tables.split(",") if t]:
        frame, rows = load_table(table, DEFAULT_DATA_DIR, args.max_rows)
        for seed in range(args.seeds if rows < args.small_rows else args.big_seeds):
            for spec in engines:  # every setting on the same split, in turn
                result = run_one(spec, table, frame, seed, 0.2, 1, 1)
                results.append(result)
                print(
                    f"{table} {spec} seed {seed}: DCR {result['dcr_share']:.3f} quality "
                    f"{result['quality']:.3f} fit {result['fit_s']:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    print("| table | engine | seeds | " + " | ".join(label for _, label in FIGURES) + " |")
    print("|---|---|---|" + "---|" * len(FIGURES))
    for table, spec in dict.fromkeys((r["table"], r["engine"]) for r in results):
        runs = [r for r in results if (r["table"], r["engine"]) == (table, spec)]
        cells = [cell([float(r[k]) for r in runs if r.get(k) is not None], k) for k, _ in FIGURES]
        print(f"| {table} | {spec} | {len(runs)} | " + " | ".join(cells) + " |")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
