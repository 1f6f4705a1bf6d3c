"""Columns that name a table the database lacks (a product's ``category_id``) are references to a hidden
parent: never learned, their values regenerated in the source's format, rows per value from the
learned shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.relational._hidden import KEY_NAME, HiddenReference
from mirage.schema import DatabaseSchema, ForeignKey, Schema, Table, infer_schema


def _shop(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 60
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, n + 1),
            "category_id": rng.integers(1, 7, n),  # categories: a table the database lacks
            "supplier_id": rng.integers(1, 21, n),
            "price": rng.lognormal(2, 0.5, n).round(2),
            "grade": rng.choice(["a", "b"], n),
        }
    )
    lines = pd.DataFrame(
        {
            "line_id": np.arange(400),
            "product_id": rng.integers(1, n + 1, 400),
            "quantity": rng.integers(1, 5, 400),
        }
    )
    return {"products": products, "lines": lines}


def _database(frames: dict[str, pd.DataFrame], **columns: dict[str, object]) -> DatabaseSchema:
    tables = {}
    for name, key in (("products", ("product_id",)), ("lines", ("line_id",))):
        schema = infer_schema(frames[name]).to_dict()
        for column in schema["columns"]:
            column.update(columns.get(column["name"], {}))
        tables[name] = Table(name, Schema.from_dict(schema), primary_key=key)
    return DatabaseSchema(
        tables=tables, foreign_keys=[ForeignKey("lines", ("product_id",), "products", ("product_id",))]
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_column_naming_a_missing_table_is_drawn_not_learned() -> None:
    frames = _shop()
    database = _database(frames)
    model = RelationalSynthesizer(database, seed=1).fit(frames)
    plan = model.plans_["products"]
    assert set(plan.hidden) == {"category_id", "supplier_id"}
    engine = model.engines_["products"]
    assert engine is not None
    learned = {c.name for c in engine.schema_}
    assert not learned & {"category_id", "supplier_id"}  # the engine never sees them
    assert {"price", "grade"} <= learned
    synthetic = model.sample(seed=2)
    assert database.integrity_problems(synthetic) == []
    products = synthetic["products"]
    assert products["category_id"].dtype == frames["products"]["category_id"].dtype
    # as many values per row as the source had, numbered from its smallest one, every row given one
    assert products["category_id"].notna().all()
    assert products["category_id"].nunique() == frames["products"]["category_id"].nunique()
    assert products["category_id"].min() == frames["products"]["category_id"].min()
    assert abs(products["supplier_id"].nunique() - frames["products"]["supplier_id"].nunique()) <= 1
    twice = model.sample(scale=2.0, seed=2)["products"]
    assert twice["category_id"].nunique() == 2 * frames["products"]["category_id"].nunique()
    assert model.sample(seed=2)["products"].equals(products)  # same seed, same values


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_declared_categories_unique_values_nulls_and_other_names_stay_learned() -> None:
    frames = _shop()
    frames["products"]["category_id"] = frames["products"]["category_id"].astype("int64")
    frames["products"]["price_key"] = np.arange(len(frames["products"]))  # unique: no repeated value
    supplier = frames["products"]["supplier_id"].astype("float64")
    supplier[::7] = np.nan
    frames["products"]["supplier_id"] = supplier  # nulls: a nullable reference is not handled yet
    frames["products"]["shelf"] = frames["products"]["category_id"]  # not named as a key
    database = _database(frames, category_id={"categories": [1, 2, 3, 4, 5, 6]})
    model = RelationalSynthesizer(database, seed=1).fit(frames)
    assert model.plans_["products"].hidden == {}
    assert database.integrity_problems(model.sample(seed=0)) == []


def test_key_names() -> None:
    named = ["category_id", "supplierId", "SUPPLIER_ID", "account_key", "id"]
    others = ["valid", "paid", "monkey", "grid", "ship_via", "idle"]
    assert all(KEY_NAME.search(n) for n in named)
    assert not any(KEY_NAME.search(n) for n in others)


def test_rows_per_value_follow_the_learned_shape_and_keep_the_source_format() -> None:
    sizes = np.r_[np.full(20, 2), np.full(20, 8)]  # 40 values: 20 small, 20 large
    values = pd.Series(np.repeat([f"S-{i:03d}" for i in range(40)], sizes), name="supplier_key")
    reference = HiddenReference.fit(values, min_count=10)
    assert reference.values == 40 and reference.rows == 200 and len(reference.shape) == 4
    drawn = reference.draw(400, np.random.default_rng(0))
    assert len(drawn) == 400 and drawn.str.fullmatch(r"S-\d{3}").all()
    counts = drawn.value_counts().to_numpy()
    assert counts.size == 80
    assert counts.min() <= 3 and counts.max() >= 7  # small and large values both survive
    again = HiddenReference.from_dict("supplier_key", reference.to_dict())
    assert again.draw(400, np.random.default_rng(0)).equals(drawn)
    assert reference.draw(0, np.random.default_rng(0)).empty
