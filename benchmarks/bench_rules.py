"""Business rules on Northwind orders: what each engine keeps of the date gaps with and without rules.

    python benchmarks/bench_rules.py [--rows 5000]

Prints, for the real table and for each engine with and without the rules ``shipped_date >=
order_date`` and ``required_date >= order_date``: the share of orders required exactly 28 days after
they were placed (85% of the real ones), the share shipped before they were placed (none of the real
ones) and the median days to shipping, plus fit and sample seconds; the figures go to
``benchmarks/results/bench_rules-<time>.json``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd
from _common import environment_info, format_table, write_results

import mirage
from mirage.control import Inequality
from mirage.schema import infer_schema

ORDERS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "northwind" / "orders.csv"


def gaps(frame: pd.DataFrame) -> dict[str, float]:
    placed = pd.to_datetime(frame["order_date"])
    required = (pd.to_datetime(frame["required_date"]) - placed).dt.days
    shipped = (pd.to_datetime(frame["shipped_date"]) - placed).dt.days
    return {
        "required_28_days": round(float((required == 28).mean()), 3),
        "shipped_before_placed": round(float((shipped < 0).mean()), 3),
        "median_days_to_ship": float(shipped.median()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    orders = pd.read_csv(ORDERS)
    results = [{"model": "real", **gaps(orders)}]
    rules = [Inequality("shipped_date", ">=", "order_date"), Inequality("required_date", ">=", "order_date")]
    for engine, params in (("cart", {}), ("copula", {}), ("argn", {"max_epochs": 20})):
        for ruled in (False, True):
            schema = infer_schema(orders)
            schema.rules = list(rules) if ruled else []
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = mirage.fit(orders, schema=schema, engine=engine, seed=0, **params)
            fitted = time.perf_counter()
            rows = model.sample(args.rows, seed=1)
            done = time.perf_counter()
            label = f"{engine} {'rules' if ruled else 'no rules'}"
            results.append({"model": label, **gaps(rows), "fit_s": fitted - start, "sample_s": done - fitted})
    headers = ["model", "required 28 days", "shipped before", "median days to ship", "fit s", "sample s"]
    table = [
        [
            r["model"],
            f"{r['required_28_days']:.3f}",
            f"{r['shipped_before_placed']:.3f}",
            f"{r['median_days_to_ship']:g}",
            f"{r.get('fit_s', 0):.1f}",
            f"{r.get('sample_s', 0):.2f}",
        ]
        for r in results
    ]
    print(format_table(headers, table))
    write_results("bench_rules", {"rows": args.rows, "results": results, "environment": environment_info()})


if __name__ == "__main__":
    main()
