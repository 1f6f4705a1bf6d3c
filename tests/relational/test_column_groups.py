"""Columns that describe one hidden entity (an order's ship name, city and country) are learned as one
column: a drawn entity is a real combination, and a rare one keeps only its coarser, common members."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.encoding.categorical import RARE_TOKEN
from mirage.relational import RelationalSynthesizer
from mirage.relational._groups import ColumnGroup, find_column_group
from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema


def _orders(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Orders of 45 customers (not given: a hidden entity) and their lines; 30 frequent customers,
    15 with two orders each, all of those in Germany (a frequent one clears rare_min_count and
    its full margin, each being one of many entities near the cut: 20 rows or more)."""
    rng = np.random.default_rng(seed)
    countries = ["Germany", "France", "Spain", "Italy", "Brazil"]
    names = [f"Shop {i}" for i in range(45)]
    city = {n: f"City {i}" for i, n in enumerate(names)}
    country = {n: countries[i % 5] if i < 30 else "Germany" for i, n in enumerate(names)}
    per = np.r_[rng.integers(20, 30, 30), np.full(15, 2)]
    ship = np.repeat(names, per)
    n = ship.size
    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, n + 1),
            "freight": rng.gamma(2, 10, n).round(2),
            "ship_name": ship,
            "ship_city": [city[s] for s in ship],
            "ship_country": [country[s] for s in ship],
            "channel": rng.choice(["web", "phone"], n),
        }
    )
    m = 2 * n
    lines = pd.DataFrame(
        {"line_id": np.arange(m), "order_id": rng.integers(1, n + 1, m), "qty": rng.integers(1, 9, m)}
    )
    return {"orders": orders, "lines": lines}


def _database(frames: dict[str, pd.DataFrame]) -> DatabaseSchema:
    return DatabaseSchema(
        tables={
            "orders": Table("orders", infer_schema(frames["orders"]), primary_key=("order_id",)),
            "lines": Table("lines", infer_schema(frames["lines"]), primary_key=("line_id",)),
        },
        foreign_keys=[ForeignKey("lines", ("order_id",), "orders", ("order_id",))],
    )


def test_a_name_that_decides_other_columns_makes_a_group() -> None:
    frames = _orders()
    orders = frames["orders"]
    orders["status"] = np.where(np.arange(len(orders)) % 40 == 0, "open", "done")  # decided by anything
    schema = infer_schema(orders)
    candidates = ["freight", "ship_name", "ship_city", "ship_country", "channel", "status"]
    group = find_column_group(schema, orders, candidates)
    assert group == ColumnGroup(("ship_name", "ship_city", "ship_country"))
    # the channel is not decided by the name; a name of its own per row decides nothing
    assert find_column_group(schema, orders, ["ship_name", "channel"]) is None
    unique = orders.assign(ship_name=[f"n{i}" for i in range(len(orders))])
    found = find_column_group(schema, unique, ["ship_name", "ship_city", "ship_country"])
    assert found == ColumnGroup(("ship_city", "ship_country"))  # the city still decides the country


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_drawn_entities_are_real_combinations_and_rare_ones_keep_their_country() -> None:
    frames = _orders()
    database = _database(frames)
    model = RelationalSynthesizer(database, seed=3).fit(frames)
    assert model.plans_["orders"].group == ColumnGroup(("ship_name", "ship_city", "ship_country"))
    synthetic = model.sample(seed=4)
    assert database.integrity_problems(synthetic) == []
    real = frames["orders"]
    orders = synthetic["orders"]
    combos = set(zip(real["ship_name"], real["ship_city"], real["ship_country"], strict=True))
    named = orders[orders["ship_name"] != RARE_TOKEN]
    assert len(named) > len(orders) / 2
    assert set(zip(named["ship_name"], named["ship_city"], named["ship_country"], strict=True)) <= combos
    rare = orders[orders["ship_name"] == RARE_TOKEN]
    assert (rare["ship_city"] == RARE_TOKEN).all()  # a withheld name withholds the city it decides
    assert (rare["ship_country"] == "Germany").all()  # ... but not a country enough rows share
    assert not rare.empty
    assert "ship_name+ship_city+ship_country" not in orders.columns


def test_the_group_fallback_withholds_the_finest_members_first() -> None:
    group = ColumnGroup(("name", "city", "country"))
    frame = pd.DataFrame(
        {
            "name": ["a"] * 12 + ["b", "c"] * 6 + ["d"],
            "city": ["x"] * 12 + ["y", "z"] * 6 + [None],
            "country": ["P"] * 12 + ["Q"] * 12 + ["R"],
        }
    )
    joined = group.join(frame, rare_min_count=5)
    parts = group.split(joined)
    assert parts["name"].tolist() == ["a"] * 12 + [RARE_TOKEN] * 13
    assert parts["city"].tolist() == ["x"] * 12 + [RARE_TOKEN] * 13
    assert parts["country"].tolist() == ["P"] * 12 + ["Q"] * 12 + [RARE_TOKEN]
