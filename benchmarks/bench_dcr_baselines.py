"""What DCR share a model that cannot copy rows reads on a table: the floor a 0.53 gate meets.

For each 80/20 split (``split_holdout``, seeded) the training rows are fitted by each baseline and
``--factor`` times as many rows are sampled, then scored with ``mirage.evaluation._privacy.dcr``:

* ``columns``: every column drawn independently from the training rows (no joint structure at all);
* ``copula``, ``cart``: Mirage's engines, at their defaults or with ``--param NAME=VALUE`` settings
  (for instance ``cart:min_samples_leaf=200``) to see how far an engine's own knob moves the share.

Prints, per table and baseline, the mean share, its range and a 95% t-interval of the mean.

    python benchmarks/bench_dcr_baselines.py --tables titanic,insurance,diabetes,breast_cancer
    python benchmarks/bench_dcr_baselines.py --tables titanic --param cart:min_samples_leaf=100
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from _common import DEFAULT_DATA_DIR, format_table
from bench_engines import mean_interval


def _columns_bootstrap(train: Any, rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), rows)] for c in train.columns})


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    import mirage
    from mirage.evaluation._holdout import split_holdout
    from mirage.evaluation._privacy import dcr
    from mirage.schema import infer_schema

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="titanic,insurance,diabetes,breast_cancer")
    parser.add_argument("--baselines", default="columns,copula,cart")
    parser.add_argument("--param", action="append", default=[], help="ENGINE:NAME=VALUE (value as JSON)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--factor", type=int, default=3)
    args = parser.parse_args(argv)
    params: dict[str, dict[str, Any]] = {}
    for item in args.param:
        engine, _, setting = item.partition(":")
        name, _, value = setting.partition("=")
        params.setdefault(engine, {})[name] = json.loads(value)
    rows = []
    for table in [t for t in args.tables.split(",") if t]:
        frame = pd.read_csv(DEFAULT_DATA_DIR / f"{table}.csv")
        schema = infer_schema(frame)
        for baseline in [b for b in args.baselines.split(",") if b]:
            shares = []
            for seed in range(args.seeds):
                train, holdout = split_holdout(frame, 0.2, seed)
                n = args.factor * len(train)
                if baseline == "columns":
                    synthetic = _columns_bootstrap(train, n, seed)
                else:
                    model = mirage.fit(train, engine=baseline, seed=seed, **params.get(baseline, {}))
                    synthetic = model.sample(n, seed=seed)
                scores = dcr(train, holdout, synthetic, schema, return_distances=False)
                shares.append(float(scores["dcr_share"]))
            low, high = mean_interval(shares)
            label = baseline + "".join(f" {k}={v}" for k, v in params.get(baseline, {}).items())
            mean = sum(shares) / len(shares)
            spread = f"{min(shares):.3f}-{max(shares):.3f}"
            rows.append([table, label, f"{mean:.3f}", spread, f"{low:.3f}-{high:.3f}"])
    print(format_table(["table", "baseline", "dcr_share", "range", "95% CI of mean"], rows, left=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
