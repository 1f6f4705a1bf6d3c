"""Rows/s under a condition that about 1% of the rows meet, per engine: drawn natively vs by the
rejection every engine used before (unconditioned rows drawn and filtered), best of three.

Adult (the shared copy, else the 3,000-row demo sample) with two conditions of about 1% prevalence:
a category (``race == "Amer-Indian-Eskimo"``) and a range with a category (``age >= 67`` and
``sex == "Female"``).  Also the share of the real rows that meet each condition, and the gap between the
conditioned sample's mean ``hours_per_week`` natively and by rejection (the same distribution, so
within sampling error).  Run: ``python benchmarks/bench_conditions.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from _common import environment_info, format_table, write_results

from mirage.demo import load_demo
from mirage.engines import ENGINES, Between, Synthesizer
from mirage.engines._conditions import resolve_conditions

PARAMS: dict[str, dict[str, object]] = {"argn": {"max_epochs": 5}}
CONDITIONS: dict[str, dict[str, Any]] = {
    "race = Amer-Indian-Eskimo": {"race": "Amer-Indian-Eskimo"},
    "age >= 67, sex = Female": {"age": Between(67, None), "sex": "Female"},
}


def adult() -> pd.DataFrame:
    path = Path(os.environ.get("MIRAGE_SHARED_DATA", "/work/shared/data")) / "adult.csv"
    return pd.read_csv(path) if path.exists() else load_demo()


def best(work: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def by_rejection(model: Synthesizer, n: int, conditions: dict[str, Any]) -> pd.DataFrame:
    """The old path: unconditioned rows drawn and filtered (the base class's bounded rejection)."""
    model._sample_matching = lambda size, rng, accept: model._sample(size, rng)  # type: ignore[method-assign,assignment]
    try:
        return model.sample(n, seed=1, conditions=conditions)
    finally:
        del model._sample_matching


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000, help="rows drawn per conditioned sample")
    args = parser.parse_args()
    data = adult()
    rows = []
    for name in sorted(ENGINES):
        model = ENGINES[name](**PARAMS.get(name, {})).fit(data)
        for label, conditions in CONDITIONS.items():
            mask = pd.Series(True, index=data.index)
            for column, condition in resolve_conditions(conditions, model.schema_).items():
                mask &= condition.mask(data[column])
            native = model.sample(args.rows, seed=1, conditions=conditions)
            rejected = by_rejection(model, args.rows, conditions)
            fast = best(lambda: model.sample(args.rows, seed=1, conditions=conditions))  # noqa: B023
            slow = best(lambda: by_rejection(model, args.rows, conditions), repeat=1)  # noqa: B023
            gap = native["hours_per_week"].mean() - rejected["hours_per_week"].mean()
            rows.append(
                [
                    name,
                    label,
                    f"{mask.mean():.2%}",
                    f"{args.rows / fast:,.0f}",
                    f"{args.rows / slow:,.0f}",
                    f"{slow / fast:.1f}x",
                    f"{gap:+.2f}",
                ]
            )
    print(f"Adult, {len(data):,} rows; {args.rows:,} rows drawn per conditioned sample")
    header = [
        "engine",
        "condition",
        "real share",
        "native rows/s",
        "rejection rows/s",
        "speed-up",
        "hours gap",
    ]
    print(format_table(header, rows))
    records = [dict(zip(header, row, strict=True)) for row in rows]
    write_results(
        "bench_conditions", {"rows": args.rows, "results": records, "environment": environment_info()}
    )


if __name__ == "__main__":
    main()
