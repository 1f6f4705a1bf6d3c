"""Related tables: fit and sample seconds, peak memory, children-per-parent similarity and integrity.

    python benchmarks/bench_relational.py [--datasets northwind,deep,generated] [--rows 1000000]
                                          [--engine cart] [--scale 1.0] [--seed 0] [--timeout 3600]

* ``northwind``: customers <- orders <- order_details -> products (tests/fixtures/northwind).
* ``deep``: the depth-4 database of the tests (regions <- stores <- visits <- purchases -> items;
  employees with a self-reference; a nullable second parent), at ``--deep-scale`` times its size.
* ``generated``: customers <- orders <- lines -> products, about ``--rows`` rows in all over three
  levels (customers 4%, orders 20%, lines 76%, plus 2,000 products), with children that depend on their
  parent's columns and dates that follow their parent's.

Each dataset is fitted and sampled in its own spawned process, so its peak memory (``ru_maxrss``) is
its own.  ``card min`` is the smallest cardinality similarity over the foreign keys (1 - the KS
distance between the children-per-parent distributions); ``problems`` the number of integrity
problems of the sample (0: full referential integrity).  Writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _common import REPO_ROOT, environment_info, format_table, run_isolated, write_results

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the test databases live in tests/relational/schemas.py


def generated_frames(rows: int, seed: int = 0) -> dict[str, Any]:
    """customers <- orders <- lines -> products, about ``rows`` rows over the three levels."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_customers = max(50, round(rows / 23))  # 1 customer, 4.6 orders, 17.4 lines: 23 rows
    segment = rng.choice(["retail", "business", "vip"], n_customers, p=[0.7, 0.25, 0.05])
    signup = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 1500, n_customers), unit="D")
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1),
            "segment": segment,
            "age": rng.integers(18, 90, n_customers),
            "signup": signup,
        }
    )
    rate = np.select([segment == "vip", segment == "business"], [15.0, 7.0], 3.0)
    orders_per = rng.poisson(rate)
    owner = np.repeat(np.arange(n_customers), orders_per)
    n_orders = owner.size
    ordered = signup[owner] + pd.to_timedelta(rng.integers(0, 700, n_orders), unit="D")
    channel = rng.choice(["web", "store", "phone"], n_orders, p=[0.6, 0.3, 0.1])
    orders = pd.DataFrame(
        {
            "order_id": [f"O-{i:08d}" for i in range(n_orders)],
            "customer_id": customers["customer_id"].to_numpy()[owner],
            "channel": channel,
            "ordered": ordered,
            "shipped": ordered + pd.to_timedelta(rng.integers(0, 8, n_orders), unit="D"),
        }
    )
    n_products = 2000
    products = pd.DataFrame(
        {
            "product_id": np.arange(n_products),
            "category": rng.choice(["food", "home", "toys", "tools", "books"], n_products),
            "list_price": rng.lognormal(3, 0.8, n_products).round(2),
        }
    )
    lines_per = 1 + rng.poisson(np.where(channel == "web", 3.3, 2.0))
    parent = np.repeat(np.arange(n_orders), lines_per)
    n_lines = parent.size
    popularity = rng.dirichlet(np.full(n_products, 0.3))
    product = rng.choice(n_products, n_lines, p=popularity)
    lines = pd.DataFrame(
        {
            "line_id": np.arange(n_lines),
            "order_id": orders["order_id"].to_numpy()[parent],
            "product_id": product,
            "quantity": 1 + rng.poisson(1.5, n_lines),
            "price": (products["list_price"].to_numpy()[product] * rng.uniform(0.8, 1.0, n_lines)).round(2),
        }
    )
    return {"customers": customers, "orders": orders, "products": products, "lines": lines}


def generated_database(frames: dict[str, Any]) -> Any:
    from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema

    keys = {"customers": "customer_id", "orders": "order_id", "products": "product_id", "lines": "line_id"}
    return DatabaseSchema(
        tables={n: Table(n, infer_schema(frames[n]), primary_key=(k,)) for n, k in keys.items()},
        foreign_keys=[
            ForeignKey("orders", ("customer_id",), "customers", ("customer_id",)),
            ForeignKey("lines", ("order_id",), "orders", ("order_id",)),
            ForeignKey("lines", ("product_id",), "products", ("product_id",)),
        ],
    )


def measure(dataset: str, rows: int, deep_scale: int, engine: str, scale: float, seed: int) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore")
    from mirage.relational import RelationalSynthesizer
    from mirage.relational._cardinality import cardinality_similarity
    from tests.relational.schemas import deep_database, deep_frames, northwind_database, northwind_frames

    if dataset == "northwind":
        frames = northwind_frames()
        database = northwind_database(frames)
    elif dataset == "deep":
        frames = deep_frames(scale=deep_scale)
        database = deep_database(frames)
    else:
        frames = generated_frames(rows, seed)
        database = generated_database(frames)
    start = time.perf_counter()
    model = RelationalSynthesizer(database, engine=engine, seed=seed).fit(frames)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    synthetic = model.sample(scale=scale, seed=seed)
    sample_s = time.perf_counter() - start
    sampled = sum(len(f) for f in synthetic.values())
    cardinality = {fk.name: cardinality_similarity(frames, synthetic, fk) for fk in database.foreign_keys}
    return {
        "tables": len(frames),
        "real_rows": sum(len(f) for f in frames.values()),
        "sampled_rows": sampled,
        "fit_s": fit_s,
        "sample_s": sample_s,
        "rows_per_s": sampled / sample_s if sample_s > 0 else float("inf"),
        "cardinality": cardinality,
        "integrity_problems": database.integrity_problems(synthetic),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="northwind,deep,generated")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated database")
    parser.add_argument("--deep-scale", type=int, default=1, help="size of the deep database (x 11k rows)")
    parser.add_argument("--engine", default="cart")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    table: list[list[str]] = []
    for dataset in args.datasets.split(","):
        run = run_isolated(
            measure,
            dataset,
            args.rows,
            args.deep_scale,
            args.engine,
            args.scale,
            args.seed,
            timeout=args.timeout,
        )
        results[dataset] = run.as_dict()
        if not run.ok:
            table.append([dataset, "failed", "", "", "", "", "", "", str(run.error).splitlines()[-1]])
            continue
        r = run.result
        table.append(
            [
                dataset,
                f"{r['real_rows']:,}",
                f"{r['fit_s']:.1f}",
                f"{r['sample_s']:.1f}",
                f"{r['rows_per_s']:,.0f}",
                f"{(run.peak_rss_mib or 0) / 1024:.2f}",
                f"{min(r['cardinality'].values()):.3f}",
                " ".join(f"{v:.2f}" for v in r["cardinality"].values()),
                str(len(r["integrity_problems"])),
            ]
        )
    headers = [
        "dataset",
        "rows",
        "fit s",
        "sample s",
        "rows/s",
        "peak GiB",
        "card min",
        "card per key",
        "problems",
    ]
    print(format_table(headers, table))
    payload = {"args": vars(args), "environment": environment_info(), "results": results}
    for path in write_results("relational", payload):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
