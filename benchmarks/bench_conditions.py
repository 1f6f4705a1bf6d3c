"""Rows/s under a condition that about 1% of the rows meet, per engine: drawn natively vs by the
rejection every engine used before (unconditioned rows drawn and filtered), best of three.

Adult (the shared copy, else the 3,000-row demo sample) with two conditions of about 1% prevalence:
a category (``race == "Amer-Indian-Eskimo"``) and a range with a category (``age >= 67`` and
``sex == "Female"``).  Also the share of the real rows that meet each condition, and the gap between the
conditioned sample's mean ``hours_per_week`` natively and by rejection (the same distribution, so
within sampling error), and a rarer condition on two categories (``race == "Amer-Indian-Eskimo"`` and
``income == ">50K"``, about 0.1%).

``--sdv`` runs SDV's conditional sampling (``sample_from_conditions``) on the same table and conditions
beside ours, in SDV's own environment (``--sdv-python``, default ``/tmp/sdvvenv/bin/python``, through
``benchmarks/sdv_conditions.py``): its rows/s, the mean hours of its sample and whether it fails ("Unable
to sample any rows for the given conditions"); SDV conditions on equal values only, so the range is
reported as not supported.  Run: ``python benchmarks/bench_conditions.py [--rows N] [--engines
copula,cart,argn] [--sdv] [--sdv-models gaussian_copula,tvae]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from _common import environment_info, format_table, write_results

from mirage.demo import load_demo
from mirage.engines import ENGINES, Between, Synthesizer
from mirage.engines._conditions import resolve_conditions
from mirage.errors import MirageError

PARAMS: dict[str, dict[str, object]] = {"argn": {"max_epochs": 5}}
CONDITIONS: dict[str, dict[str, Any]] = {
    "race = Amer-Indian-Eskimo": {"race": "Amer-Indian-Eskimo"},
    "age >= 67, sex = Female": {"age": Between(67, None), "sex": "Female"},
    "race = Amer-Indian-Eskimo, income = >50K": {"race": "Amer-Indian-Eskimo", "income": ">50K"},
}
SDV_TIMEOUT_S = 3_600
REJECTION_MIN_SHARE = 0.005  # rarer conditions are not timed by rejection


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


def sdv_rows(data: pd.DataFrame, n: int, python: str, models: str) -> list[list[str]]:
    """SDV's conditional sampling on ``data`` (see ``sdv_conditions.py``), as rows of the table."""
    as_json = {
        label: {c: [v.low, v.high] if isinstance(v, Between) else v for c, v in conditions.items()}
        for label, conditions in CONDITIONS.items()
    }
    with tempfile.TemporaryDirectory() as folder:
        csv, spec = Path(folder) / "data.csv", Path(folder) / "conditions.json"
        data.to_csv(csv, index=False)
        spec.write_text(json.dumps(as_json), encoding="utf-8")
        script = Path(__file__).with_name("sdv_conditions.py")
        done = subprocess.run(
            [python, str(script), str(csv), str(n), "1", models, str(spec)],
            capture_output=True,
            text=True,
            timeout=SDV_TIMEOUT_S,
            check=False,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"sdv_conditions.py failed: {done.stderr[-2000:]}")
    out = []
    for line in lines:
        result = json.loads(line)
        for label, entry in result["conditions"].items():
            rate = entry.get("rows_per_s")
            out.append(
                [
                    f"sdv {result['model']}",
                    label,
                    share(data, label),
                    "-" if rate is None else f"{rate:,.0f}",
                    "-",
                    "-",
                    "-" if entry.get("hours") is None else f"{entry['hours']:.2f}",
                    entry.get("error", f"no ({entry.get('rows', 0):,} rows)"),
                ]
            )
    return out


def share(data: pd.DataFrame, label: str) -> str:
    mask = pd.Series(True, index=data.index)
    for column, condition in CONDITIONS[label].items():
        mask &= condition.mask(data[column]) if isinstance(condition, Between) else data[column].eq(condition)
    return f"{mask.mean():.2%}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000, help="rows drawn per conditioned sample")
    parser.add_argument("--engines", default="copula,cart,argn", help="comma-separated engines")
    parser.add_argument("--sdv", action="store_true", help="also run SDV's conditional sampling")
    parser.add_argument("--sdv-python", default="/tmp/sdvvenv/bin/python", help="the interpreter with SDV")
    parser.add_argument("--sdv-models", default="gaussian_copula", help="gaussian_copula and/or tvae")
    args = parser.parse_args()
    data = adult()
    rows = []
    for name in args.engines.split(","):
        model = ENGINES[name](**PARAMS.get(name, {})).fit(data)
        for label, conditions in CONDITIONS.items():
            mask = pd.Series(True, index=data.index)
            for column, condition in resolve_conditions(conditions, model.schema_).items():
                mask &= condition.mask(data[column])
            native = model.sample(args.rows, seed=1, conditions=conditions)
            fast = best(lambda: model.sample(args.rows, seed=1, conditions=conditions))  # noqa: B023
            if mask.mean() < REJECTION_MIN_SHARE:  # the rejection baseline would take minutes
                hours = f"{native['hours_per_week'].mean():.2f}"
                speed = f"{args.rows / fast:,.0f}"
                rows.append([name, label, f"{mask.mean():.2%}", speed, "skipped", "-", hours, "no"])
                continue
            try:
                rejected = by_rejection(model, args.rows, conditions)
                slow = best(lambda: by_rejection(model, args.rows, conditions), repeat=1)  # noqa: B023
            except MirageError as exc:  # too rare for the bounded rejection
                hours = f"{native['hours_per_week'].mean():.2f}"
                speed = f"{args.rows / fast:,.0f}"
                failed = f"no (rejection fails: {str(exc)[:50]})"
                rows.append([name, label, f"{mask.mean():.2%}", speed, "fails", "-", hours, failed])
                continue
            gap = native["hours_per_week"].mean() - rejected["hours_per_week"].mean()
            rows.append(
                [
                    name,
                    label,
                    f"{mask.mean():.2%}",
                    f"{args.rows / fast:,.0f}",
                    f"{args.rows / slow:,.0f}",
                    f"{slow / fast:.1f}x",
                    f"{native['hours_per_week'].mean():.2f} ({gap:+.2f})",
                    "no",
                ]
            )
    if args.sdv:
        rows.extend(sdv_rows(data, args.rows, args.sdv_python, args.sdv_models))
    print(f"Adult, {len(data):,} rows; {args.rows:,} rows drawn per conditioned sample")
    header = [
        "engine",
        "condition",
        "real share",
        "native rows/s",
        "rejection rows/s",
        "speed-up",
        "mean hours (native - rejection)",
        "fails",
    ]
    print(format_table(header, rows))
    records = [dict(zip(header, row, strict=True)) for row in rows]
    write_results(
        "bench_conditions", {"rows": args.rows, "results": records, "environment": environment_info()}
    )


if __name__ == "__main__":
    main()
