"""DCR share of fresh rows near repeated values: does it read 0.5 on average?

Each split (80/20, seeded) cuts a shared table into disjoint training, holdout and fresh rows (as in
``bench_privacy_power.py``) and scores the fresh rows with ``mirage.evaluation._privacy.dcr``.
With ``--column`` only that numeric column is kept and the fresh rows get a relative jitter
(``--jitter``), so that each one's nearest real rows are a group of equal values: the case where
ties at a non-zero distance decide the share.  Prints the mean share and its standard error.

    python benchmarks/bench_dcr_ties.py [--data titanic] [--column fare] [--splits 12]
"""

from __future__ import annotations

import argparse
import sys

from _common import DEFAULT_DATA_DIR
from bench_privacy_power import population_parts


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    import pandas as pd

    from mirage.evaluation._privacy import dcr
    from mirage.schema import infer_schema

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="titanic", help="a shared table's name")
    parser.add_argument("--column", default=None, help="keep only this numeric column, jittered")
    parser.add_argument("--jitter", type=float, default=0.002, help="relative jitter of --column")
    parser.add_argument("--splits", type=int, default=12)
    args = parser.parse_args(argv)
    frame = pd.read_csv(DEFAULT_DATA_DIR / f"{args.data}.csv")
    if args.column is not None:
        frame = frame[[args.column]]
    schema = infer_schema(frame)
    shares = []
    for seed in range(args.splits):
        train, holdout, fresh = population_parts(frame, 0.8, seed)
        if args.column is not None:
            rng = np.random.default_rng(seed)
            fresh = fresh.copy()
            fresh[args.column] = fresh[args.column] * (1.0 + rng.normal(0.0, args.jitter, len(fresh)))
        result = dcr(train, holdout, fresh, schema, seed=seed, return_distances=False)
        shares.append(result["dcr_share"])
    error = float(np.std(shares, ddof=1) / np.sqrt(len(shares))) if len(shares) > 1 else float("nan")
    print(
        f"{args.data} {args.column or 'all columns'}: DCR share of fresh rows {np.mean(shares):.3f} "
        f"+- {error:.3f} over {len(shares)} splits"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
