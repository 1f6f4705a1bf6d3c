"""The dp engine against cart (not private) on Adult and bank marketing, at several epsilons.

Runs ``bench_engines.py`` (same splits, same scores: quality, detection AUC, TSTR/TRTR utility ratio,
mean 1-, 2- and 3-way marginal accuracy, DCR share, fit seconds) with the engines
``cart`` and ``dp@epsilon=E`` for each ``--epsilons`` value; results go to ``--out``.

    python benchmarks/bench_dp.py                                    # adult, epsilon 1 and 10
    python benchmarks/bench_dp.py --tables adult,bank_marketing --epsilons 0.3,1,3,10
    python benchmarks/bench_dp.py --show benchmarks/results/dp.json

``--declared`` adds ``dp@...@domains=declared`` runs: the schema inferred from the training rows is
passed to the fit, so bounds and categories are public and free (what MST and AIM assume), and the
whole budget goes to the marginals.  Without it every domain is estimated privately from the budget.

Peers (smartnoise-synth MST/AIM, OpenDP's MST/AIM) run in ``bench_dp_peers.py``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

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
    parser.add_argument("--declared", action="store_true", help="also run dp with declared domains")
    parser.add_argument("--show", default=None, help="print the table of an earlier run; measure nothing")
    args = parser.parse_args(argv)
    if args.show:
        return bench_engines.main(["--show", args.show])
    if "dp" not in bench_engines.ENGINES:
        bench_engines.ENGINES.append("dp")
    engines = ["cart"] + [f"dp@epsilon={float(e)}" for e in args.epsilons.split(",")]
    if args.declared:
        engines += [f'dp@epsilon={float(e)}@domains="declared"' for e in args.epsilons.split(",")]
        _declare_domains()
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


def _declare_domains() -> None:
    """``mirage.fit(..., domains="declared")`` passes the training rows' inferred schema (public domains)."""
    import mirage

    fit = mirage.fit

    def fit_declared(data: Any, **options: Any) -> Any:
        if options.pop("domains", None) == "declared":
            options["schema"] = mirage.infer_schema(data)
        return fit(data, **options)

    mirage.fit = fit_declared  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main())
