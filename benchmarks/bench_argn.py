"""The ``argn`` engine on four shared tables: fit time, sampling speed, shape score and DCR share.

Each table is split 80/20 with a fixed seed; argn is fitted on the 80%, samples as many rows, and
is scored against the training rows (per-column KS/TV complement, ``column_shape_scores``) and for
privacy with a quick distance to closest record: the share of synthetic rows closer to a training
row than to a holdout row (ties count half), training rows subsampled to the holdout's size, with
categoricals one-hot and numbers min-max scaled.  The project's bar is a share <= 0.53.

    python benchmarks/bench_argn.py [--data DIR] [--tables adult,titanic] [--json OUT]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, environment_info, format_table, load_table, write_results

TABLES = ["adult", "bank_marketing", "titanic", "insurance"]
SEED = 7
DCR_LIMIT = 0.53
MAX_QUERY_ROWS = 5_000


def dcr_share(train: Any, holdout: Any, synthetic: Any, seed: int = SEED) -> float:
    """Share of synthetic rows nearer a training row than a holdout row (same-size sets, ties half)."""
    import numpy as np
    import pandas as pd
    from sklearn.neighbors import NearestNeighbors

    numeric = [
        c
        for c in train.columns
        if pd.api.types.is_numeric_dtype(train[c]) and not pd.api.types.is_bool_dtype(train[c])
    ]
    categorical = [c for c in train.columns if c not in numeric]

    def encode(frame: Any) -> Any:
        blocks = []
        for c in numeric:
            lo, hi = float(train[c].min()), float(train[c].max())
            scaled = (frame[c].astype("float64") - lo) / (hi - lo if hi > lo else 1.0)
            blocks.append(scaled.fillna(-1.0).to_numpy()[:, None])
        for c in categorical:
            levels = np.asarray(train[c].astype(str).unique(), dtype=object)
            values = frame[c].astype(str).to_numpy(dtype=object)
            blocks.append((values[:, None] == levels[None, :]).astype("float64"))
        return np.hstack(blocks)

    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout))
    reference_train = train.iloc[rng.choice(len(train), size, replace=False)]
    reference_holdout = holdout.iloc[rng.choice(len(holdout), size, replace=False)]
    query = synthetic.iloc[rng.choice(len(synthetic), min(len(synthetic), MAX_QUERY_ROWS), replace=False)]
    q = encode(query)
    to_train = NearestNeighbors(n_neighbors=1).fit(encode(reference_train)).kneighbors(q)[0][:, 0]
    to_holdout = NearestNeighbors(n_neighbors=1).fit(encode(reference_holdout)).kneighbors(q)[0][:, 0]
    tie = np.isclose(to_train, to_holdout, rtol=0.0, atol=1e-9)
    return float(np.mean((to_train < to_holdout) & ~tie) + 0.5 * np.mean(tie))


def run_table(path: Path) -> dict[str, Any]:
    import numpy as np

    import mirage.engines.argn as argn
    from mirage.evaluation import column_shape_scores

    frame = load_table(path)
    order = np.random.default_rng(SEED).permutation(len(frame))
    cut = round(0.8 * len(frame))
    train = frame.iloc[order[:cut]].reset_index(drop=True)
    holdout = frame.iloc[order[cut:]].reset_index(drop=True)
    start = time.perf_counter()
    model = argn.ArgnSynthesizer(seed=SEED)
    model.fit(train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(len(train), seed=SEED)
    sample_s = time.perf_counter() - start
    shapes = column_shape_scores(train, synthetic, model.schema_)
    return {
        "table": path.stem,
        "rows": len(train),
        "columns": train.shape[1],
        "tokens": len(model.discretiser_.tokens),
        "hidden": model.hidden_,
        "epochs": len(model.history_),
        "stopped": model.training_.get("stopped"),
        "fit_s": fit_s,
        "sample_rows_per_s": len(train) / sample_s,
        "shape_score": float(shapes["score"].mean()),
        "dcr_share": dcr_share(train, holdout, synthetic),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="folder of the shared CSVs")
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated table names")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for name in args.tables.split(","):
        path = args.data / f"{name}.csv"
        if not path.exists():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        results.append(run_table(path))
        print(f"done: {name}", file=sys.stderr)
    rows = [
        [
            r["table"],
            f"{r['rows']:,}",
            str(r["tokens"]),
            f"{r['epochs']} ({r['stopped']})",
            f"{r['fit_s']:.1f}",
            f"{r['sample_rows_per_s']:,.0f}",
            f"{r['shape_score']:.4f}",
            f"{r['dcr_share']:.3f}" + ("" if r["dcr_share"] <= DCR_LIMIT else " FAIL"),
        ]
        for r in results
    ]
    headers = ["table", "train rows", "tokens", "epochs", "fit s", "rows/s", "shape", "DCR share"]
    print(format_table(headers, rows))
    write_results("bench_argn", {"environment": environment_info(), "results": results}, args.json)
    return 0 if all(r["dcr_share"] <= DCR_LIMIT for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
