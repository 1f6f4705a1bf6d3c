"""The dp engine against cart (not private) on Adult and bank marketing, at several epsilons.

Runs ``bench_engines.py`` (same splits, same scores: quality, detection AUC, TSTR/TRTR utility ratio,
mean 1-, 2- and 3-way marginal accuracy, DCR share, fit seconds) with the engines
``cart`` and ``dp@epsilon=E`` for each ``--epsilons`` value; results go to ``--out``.

    python benchmarks/bench_dp.py                                    # adult, epsilon 1 and 10
    python benchmarks/bench_dp.py --tables adult,bank_marketing --epsilons 0.3,1,3,10
    python benchmarks/bench_dp.py --show benchmarks/results/dp.json

Peers (smartnoise-synth MST/AIM, OpenDP's AIM) are not run yet.
"""

from __future__ import annotations

import argparse
import sys

import bench_engines
from _common import RESULTS_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", default="adult")
    parser.add_argument("--epsilons", default="1,10", help="comma-separated epsilons of the dp engine")
    parser.add_argument("--seeds", type=int, default=1, help="split seeds per table")
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--out", default=str(RESULTS_DIR / "dp.json"))
    parser.add_argument("--show", default=None, help="print the table of an earlier run; measure nothing")
    args = parser.parse_args(argv)
    if args.show:
        return bench_engines.main(["--show", args.show])
    if "dp" not in bench_engines.ENGINES:
        bench_engines.ENGINES.append("dp")
    engines = ["cart"] + [f"dp@epsilon={float(e)}" for e in args.epsilons.split(",")]
    return bench_engines.main(
        [
            "--tables", args.tables,
            "--engines", ",".join(engines),
            "--seeds", str(args.seeds),
            "--big-seeds", str(args.seeds),
            "--max-rows", str(args.max_rows),
            "--out", args.out,
        ]
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
