"""The databases the relational tests learn: Northwind (four tables) and a deeper one built here
(depth 4, a table with two parents, a self-reference, dates that follow their parent's)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema
from tests.conftest import FIXTURES

NORTHWIND_KEYS = {
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "order_details": ("order_id", "product_id"),
    "products": ("product_id",),
}


def northwind_frames() -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(FIXTURES / "northwind" / f"{name}.csv") for name in NORTHWIND_KEYS}


def northwind_database(frames: dict[str, pd.DataFrame]) -> DatabaseSchema:
    """customers <- orders <- order_details -> products; employee_id and ship_via stay plain columns."""
    return DatabaseSchema(
        tables={
            name: Table(name, infer_schema(frames[name]), primary_key=key)
            for name, key in NORTHWIND_KEYS.items()
        },
        foreign_keys=[
            ForeignKey("orders", ("customer_id",), "customers", ("customer_id",)),
            ForeignKey("order_details", ("order_id",), "orders", ("order_id",)),
            ForeignKey("order_details", ("product_id",), "products", ("product_id",)),
        ],
    )


def deep_frames(scale: int = 1, seed: int = 0) -> dict[str, pd.DataFrame]:
    """regions <- stores <- visits <- purchases -> items; employees (manager: a self-reference) work
    in stores and serve visits (a nullable second parent).  Dates: a store opens, visits follow the
    opening, purchases are delivered after their visit."""
    rng = np.random.default_rng(seed)
    n_regions = 60 * scale
    regions = pd.DataFrame(
        {
            "region_code": [f"R-{i:03d}" for i in range(n_regions)],
            "climate": rng.choice(["cold", "mild", "hot"], n_regions),
            "population": rng.lognormal(12, 1, n_regions).round(),
        }
    )
    stores_per_region = rng.poisson(3 + 4 * (regions["climate"] == "hot").to_numpy())
    store_region = np.repeat(regions["region_code"].to_numpy(), stores_per_region)
    n_stores = len(store_region)
    opened = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, n_stores), unit="D")
    stores = pd.DataFrame(
        {
            "store_id": np.arange(100, 100 + n_stores),
            "region_code": store_region,
            "size": rng.choice(["small", "large"], n_stores, p=[0.6, 0.4]),
            "opened": opened.strftime("%Y-%m-%d"),
        }
    )
    n_employees = 3 * n_stores
    employees = pd.DataFrame(
        {
            "employee_id": np.arange(1, n_employees + 1),
            "store_id": rng.choice(stores["store_id"].to_numpy(), n_employees),
            "title": rng.choice(["clerk", "manager", "director"], n_employees, p=[0.65, 0.25, 0.1]),
            "salary": rng.normal(40_000, 8_000, n_employees).round(),
        }
    )
    managers = employees["employee_id"].to_numpy()[employees["title"].to_numpy() != "clerk"]
    reports_to = rng.choice(managers, n_employees).astype(float)
    reports_to[employees["title"].to_numpy() == "director"] = np.nan
    employees["reports_to"] = reports_to
    visits_per_store = rng.poisson(np.where(stores["size"] == "large", 12, 4))
    visit_store = np.repeat(np.arange(n_stores), visits_per_store)
    n_visits = len(visit_store)
    visit_day = opened[visit_store] + pd.to_timedelta(rng.integers(1, 400, n_visits), unit="D")
    served = rng.choice(employees["employee_id"].to_numpy(), n_visits).astype(float)
    served[rng.random(n_visits) < 0.3] = np.nan
    visits = pd.DataFrame(
        {
            "visit_id": [f"V{i:06d}" for i in range(n_visits)],
            "store_id": stores["store_id"].to_numpy()[visit_store],
            "served_by": served,
            "visited": visit_day.strftime("%Y-%m-%d"),
            "channel": rng.choice(["walk-in", "online"], n_visits),
        }
    )
    n_items = 40
    items = pd.DataFrame(
        {
            "sku": [f"SKU{i:04d}" for i in range(n_items)],
            "category": rng.choice(["food", "tools", "toys"], n_items),
            "price": rng.lognormal(2, 0.7, n_items).round(2),
        }
    )
    popularity = rng.dirichlet(np.full(n_items, 0.5))
    lines_per_visit = 1 + rng.poisson(np.where(visits["channel"] == "online", 3, 1))
    line_visit = np.repeat(np.arange(n_visits), lines_per_visit)
    n_lines = len(line_visit)
    delivered = visit_day[line_visit] + pd.to_timedelta(rng.integers(0, 10, n_lines), unit="D")
    purchases = pd.DataFrame(
        {
            "purchase_id": np.arange(n_lines),
            "visit_id": visits["visit_id"].to_numpy()[line_visit],
            "sku": items["sku"].to_numpy()[rng.choice(n_items, n_lines, p=popularity)],
            "quantity": 1 + rng.poisson(1, n_lines),
            "delivered": delivered.strftime("%Y-%m-%d"),
        }
    )
    return {
        "regions": regions,
        "stores": stores,
        "employees": employees,
        "visits": visits,
        "items": items,
        "purchases": purchases,
    }


def deep_database(frames: dict[str, pd.DataFrame]) -> DatabaseSchema:
    keys = {
        "regions": ("region_code",),
        "stores": ("store_id",),
        "employees": ("employee_id",),
        "visits": ("visit_id",),
        "items": ("sku",),
        "purchases": ("purchase_id",),
    }
    return DatabaseSchema(
        tables={name: Table(name, infer_schema(frames[name]), primary_key=key) for name, key in keys.items()},
        foreign_keys=[
            ForeignKey("stores", ("region_code",), "regions", ("region_code",)),
            ForeignKey("employees", ("store_id",), "stores", ("store_id",)),
            ForeignKey("employees", ("reports_to",), "employees", ("employee_id",), nullable=True),
            ForeignKey("visits", ("store_id",), "stores", ("store_id",)),
            ForeignKey("visits", ("served_by",), "employees", ("employee_id",), nullable=True),
            ForeignKey("purchases", ("visit_id",), "visits", ("visit_id",)),
            ForeignKey("purchases", ("sku",), "items", ("sku",)),
        ],
    )


def children_per_parent(
    frames: dict[str, pd.DataFrame], parent: str, key: str, child: str, by: str
) -> pd.Series:
    """The mean number of ``child`` rows per ``parent`` row (joined on ``key``), per value of the
    parent's column ``by``; parents without children count as 0."""
    counts = frames[child][key].value_counts().reindex(frames[parent][key], fill_value=0)
    return counts.groupby(frames[parent][by].to_numpy()).mean()
