"""Reference tables: public lookup data (Northwind's shippers and categories, 3 and 8 rows) marked
``"reference": true`` in the database schema is copied as is, keys too, and the tables that point to it
keep pointing to its rows; unmarked, a table too small to learn is refused with a pointer to the flag."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mirage.errors import DataError, SchemaError
from mirage.relational import RelationalSynthesizer, split_database
from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema
from tests.relational.schemas import NORTHWIND_KEYS, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SHIPPERS = pd.DataFrame(
    {
        "shipper_id": [1, 2, 3],
        "company_name": ["Speedy Express", "United Package", "Federal Shipping"],
        "phone": ["(503) 555-9831", "(503) 555-3199", "(503) 555-9931"],
    }
)
CATEGORIES = pd.DataFrame(
    {
        "category_id": range(1, 9),
        "category_name": [
            "Beverages",
            "Condiments",
            "Confections",
            "Dairy",
            "Grains",
            "Meat",
            "Produce",
            "Sea",
        ],
    }
)


def _frames() -> dict[str, pd.DataFrame]:
    return {**northwind_frames(), "shippers": SHIPPERS.copy(), "categories": CATEGORIES.copy()}


def _database(frames: dict[str, pd.DataFrame], reference: bool = True) -> DatabaseSchema:
    keys = {**NORTHWIND_KEYS, "shippers": ("shipper_id",), "categories": ("category_id",)}
    return DatabaseSchema(
        tables={
            name: Table(
                name,
                infer_schema(frames[name]),
                primary_key=key,
                reference=reference and name in ("shippers", "categories"),
            )
            for name, key in keys.items()
        },
        foreign_keys=[
            ForeignKey("orders", ("customer_id",), "customers", ("customer_id",)),
            ForeignKey("orders", ("ship_via",), "shippers", ("shipper_id",)),
            ForeignKey("order_details", ("order_id",), "orders", ("order_id",)),
            ForeignKey("order_details", ("product_id",), "products", ("product_id",)),
            ForeignKey("products", ("category_id",), "categories", ("category_id",)),
        ],
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[DatabaseSchema, RelationalSynthesizer]:
    frames = _frames()
    database = _database(frames)
    return database, RelationalSynthesizer(database, seed=0).fit(frames)


def test_reference_tables_are_copied_as_is_and_still_pointed_to(fitted) -> None:
    database, model = fitted
    synthetic = model.sample(scale=2.0, seed=1)
    assert database.integrity_problems(synthetic) == []
    pd.testing.assert_frame_equal(synthetic["shippers"], SHIPPERS)
    pd.testing.assert_frame_equal(synthetic["categories"], CATEGORIES)
    assert set(synthetic["orders"]["ship_via"]) == {1, 2, 3}  # every shipper still ships
    assert len(synthetic["products"]) > 77  # products hang off categories: twice as many


def test_reference_tables_survive_the_model_file(fitted, tmp_path: Path) -> None:
    database, model = fitted
    loaded = RelationalSynthesizer.load(model.save(tmp_path / "shop.mirage"))
    assert loaded.database.to_dict() == database.to_dict()
    assert loaded.database["shippers"].reference and not loaded.database["orders"].reference
    first, second = model.sample(seed=4), loaded.sample(seed=4)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_the_flag_round_trips_through_the_schema_json() -> None:
    database = _database(_frames())
    again = DatabaseSchema.from_json(database.to_json())
    assert again["categories"].reference and not again["customers"].reference
    assert "reference" not in database["customers"].to_dict()
    data = database.to_dict()
    data["tables"]["shippers"]["reference"] = "yes"
    with pytest.raises(SchemaError, match="table 'shippers': reference must be true or false"):
        DatabaseSchema.from_dict(data)


def test_a_small_table_not_marked_is_refused_with_a_pointer_to_the_flag() -> None:
    frames = _frames()
    with pytest.raises(
        DataError, match=r"table 'shippers' has 3 rows, too few to learn .*\"reference\": true"
    ):
        RelationalSynthesizer(_database(frames, reference=False)).fit(frames)


def test_a_reference_table_pointing_to_a_learned_one_is_refused() -> None:
    frames = _frames()
    frames["shippers"]["home_customer"] = frames["customers"]["customer_id"].iloc[:3].to_numpy()
    database = _database(frames)
    database.foreign_keys.append(ForeignKey("shippers", ("home_customer",), "customers", ("customer_id",)))
    with pytest.raises(SchemaError, match="'shippers' is reference data, copied as is"):
        RelationalSynthesizer(database).fit(frames)


def test_reference_tables_are_never_held_out() -> None:
    frames = _frames()
    database = _database(frames)
    train, held = split_database(database, frames, 0.3, seed=0)
    assert len(held["shippers"]) == len(held["categories"]) == 0
    assert database.integrity_problems(train) == []
