"""Related tables in a spec: primary keys, foreign keys, children per parent row, root rows, scale."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mirage.errors import OptionError, SchemaError
from mirage.spec import generate, spec_from_dict

SHOP: dict[str, Any] = {
    "tables": {
        "customers": {
            "rows": 2000,
            "primary_key": "customer_id",
            "columns": {
                "customer_id": {"pattern": "C-{:06d}"},
                "age": {"distribution": {"type": "uniform", "low": 18, "high": 80}, "integer": True},
            },
        },
        "products": {
            "rows": 50,
            "primary_key": "sku",
            "columns": {
                "sku": {"pattern": "AAA-999"},
                "price": {"distribution": {"type": "lognormal", "mu": 3, "sigma": 0.6}, "decimals": 2},
            },
        },
        "orders": {
            "per_parent": {"table": "customers", "distribution": {"type": "poisson", "lam": 2}},
            "primary_key": "order_id",
            "foreign_keys": {"customer_id": "customers"},
            "columns": {
                "order_id": {},
                "channel": {"distribution": {"type": "categorical", "weights": {"web": 3, "shop": 1}}},
            },
        },
        "order_lines": {
            "per_parent": {"table": "orders", "distribution": {"type": "uniform", "low": 1, "high": 4}},
            "primary_key": "line_id",
            "foreign_keys": {"order_id": "orders", "sku": "products.sku"},
            "columns": {"quantity": {"distribution": {"type": "poisson", "lam": 1.5}, "min": 1}},
        },
    }
}


def shop(**options: Any) -> dict[str, pd.DataFrame]:
    out = generate(spec_from_dict(SHOP), seed=11, **options)
    assert isinstance(out, dict)
    return out


def test_every_table_is_generated_parents_first_with_valid_keys() -> None:
    spec = spec_from_dict(SHOP)
    frames = shop()
    assert list(frames) == spec.order()
    assert spec.order().index("customers") < spec.order().index("orders") < spec.order().index("order_lines")
    assert spec.database.integrity_problems(frames) == []
    assert frames["customers"]["customer_id"].iloc[0] == "C-000001"
    assert frames["orders"]["order_id"].dtype == "int64" and frames["orders"]["order_id"].is_unique
    assert len(frames["customers"]) == 2000 and len(frames["products"]) == 50
    assert list(frames["order_lines"].columns) == ["line_id", "order_id", "sku", "quantity"]


def test_children_per_parent_follow_their_distribution() -> None:
    frames = shop()
    per_customer = (
        frames["orders"]
        .groupby("customer_id")
        .size()
        .reindex(frames["customers"]["customer_id"], fill_value=0)
    )
    k = np.arange(per_customer.max() + 1)
    observed = np.bincount(per_customer.to_numpy(), minlength=k.size)
    expected = stats.poisson(2).pmf(k)
    expected[-1] += stats.poisson(2).sf(k[-1])
    assert stats.chisquare(observed, expected * len(per_customer)).pvalue > 0.001
    per_order = frames["order_lines"].groupby("order_id").size()
    assert set(per_order.unique()) == {1, 2, 3, 4}  # uniform 1..4: every whole number alike
    assert per_order.value_counts(normalize=True).between(0.22, 0.28).all()
    assert frames["order_lines"]["sku"].isin(frames["products"]["sku"]).all()
    assert frames["order_lines"]["sku"].nunique() > 40  # references spread over the products


def test_scale_multiplies_the_root_tables() -> None:
    small, large = shop(), shop(scale=3)
    assert len(large["customers"]) == 3 * len(small["customers"])
    assert len(large["orders"]) / len(large["customers"]) == pytest.approx(2, abs=0.1)
    assert spec_from_dict(SHOP).database.integrity_problems(large) == []


def test_same_seed_same_database() -> None:
    a, b = shop(), shop()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_rows_applies_to_a_single_table_spec_only() -> None:
    with pytest.raises(OptionError, match="scale"):
        generate(spec_from_dict(SHOP), seed=1, rows=10)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s["tables"]["orders"]["foreign_keys"].update(customer_id="clients"),
            r"tables.orders.foreign_keys.customer_id: no table 'clients'",
        ),
        (
            lambda s: s["tables"]["orders"]["per_parent"].update(table="products"),
            r"tables.orders.per_parent.table: 'products' is not the parent",
        ),
        (lambda s: s["tables"]["orders"].pop("per_parent"), r"tables.orders: give rows"),
        (
            lambda s: s["tables"]["order_lines"]["foreign_keys"].update(sku="products.colour"),
            r"tables.order_lines.foreign_keys.sku: table 'products' has no column 'colour'",
        ),
        (
            lambda s: s["tables"]["orders"]["foreign_keys"].update(order_id="orders"),
            r"tables.orders.foreign_keys.order_id: a table referring to itself",
        ),
        (
            lambda s: s["tables"]["orders"]["columns"].update(
                customer_id={"distribution": {"type": "poisson", "lam": 1}}
            ),
            r"tables.orders.foreign_keys.customer_id: a foreign key column is filled",
        ),
    ],
)
def test_key_mistakes_name_the_spec_path(edit: Any, message: str) -> None:
    spec = copy.deepcopy(SHOP)
    edit(spec)
    with pytest.raises(SchemaError, match=message):
        spec_from_dict(spec)
