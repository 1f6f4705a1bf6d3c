"""Child columns that follow a parent column (an order ships to its customer's address, a line's price
is its product's price in most rows): copied from the generated parent row, or learned as a ratio to
it; every test checks integrity."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from mirage.relational import RelationalSynthesizer
from mirage.relational._derived import Derived
from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema
from tests.relational.schemas import northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SHIP_COLUMNS = {
    "ship_name": "company_name",
    "ship_address": "address",
    "ship_city": "city",
    "ship_region": "region",
    "ship_postal_code": "postal_code",
    "ship_country": "country",
}


@pytest.fixture(scope="module")
def northwind() -> tuple[dict[str, pd.DataFrame], DatabaseSchema, RelationalSynthesizer]:
    frames = northwind_frames()
    database = northwind_database(frames)
    return frames, database, RelationalSynthesizer(database, seed=0).fit(frames)


def test_ship_columns_are_copied_from_the_customer_and_not_learned(northwind) -> None:
    _, database, model = northwind
    derived = model.plans_["orders"].derived
    assert {c: d.parent_column for c, d in derived.items()} == SHIP_COLUMNS
    assert {d.how for d in derived.values()} == {"copy"}
    learned = set(model.engines_["orders"].schema_.names)
    assert not learned & set(SHIP_COLUMNS)  # never learned as categories of their own
    synthetic = model.sample(seed=3)
    assert database.integrity_problems(synthetic) == []
    joined = synthetic["orders"].merge(synthetic["customers"], on="customer_id", validate="many_to_one")
    for ship, column in SHIP_COLUMNS.items():
        same = joined[ship].fillna("<null>").astype(str) == joined[column].fillna("<null>").astype(str)
        assert same.all(), ship


def test_ship_names_of_learned_customers_are_not_copied_into_orders(northwind) -> None:
    frames, database, model = northwind
    synthetic = model.sample(seed=3)
    assert database.integrity_problems(synthetic) == []
    # company names are text (replaced, never copied) in customers; before, orders drew them verbatim
    assert not set(synthetic["orders"]["ship_name"]) & set(frames["orders"]["ship_name"])


def test_line_price_is_learned_as_a_ratio_to_the_product_price(northwind) -> None:
    frames, database, model = northwind
    assert model.plans_["order_details"].derived == {
        "unit_price": Derived("order_details(product_id) -> products(product_id)", "unit_price", "ratio")
    }
    synthetic = model.sample(seed=3)
    assert database.integrity_problems(synthetic) == []
    lines = synthetic["order_details"].merge(
        synthetic["products"], on="product_id", suffixes=("", "_product"), validate="many_to_one"
    )
    real = frames["order_details"].merge(frames["products"], on="product_id", suffixes=("", "_product"))
    assert real["unit_price"].corr(real["unit_price_product"]) > 0.98
    assert lines["unit_price"].corr(lines["unit_price_product"]) > 0.9  # 0.45 when learned alone
    equal = np.isclose(lines["unit_price"], lines["unit_price_product"]).mean()
    assert 0.5 < equal < 0.9  # most lines at the product's price, some below it, as in the real data
    assert (lines["unit_price"].round(2) == lines["unit_price"]).all()  # the source's two decimals


def test_columns_that_agree_by_chance_are_learned_as_they_are() -> None:
    rng = np.random.default_rng(0)
    parents = pd.DataFrame({"pid": np.arange(60), "flag": rng.random(60) < 0.05, "x": rng.normal(size=60)})
    children = pd.DataFrame(
        {
            "cid": np.arange(600),
            "pid": rng.integers(0, 60, 600),
            "flag": rng.random(600) < 0.05,  # equal to the parent's flag in ~90% of the rows, by chance
            "y": rng.normal(size=600),
        }
    )
    frames = {"parents": parents, "children": children}
    database = DatabaseSchema(
        tables={
            "parents": Table("parents", infer_schema(parents), primary_key=("pid",)),
            "children": Table("children", infer_schema(children), primary_key=("cid",)),
        },
        foreign_keys=[ForeignKey("children", ("pid",), "parents", ("pid",))],
    )
    model = RelationalSynthesizer(database, seed=0).fit(frames)
    assert model.plans_["children"].derived == {}
    assert database.integrity_problems(model.sample(seed=0)) == []


def test_derived_columns_survive_the_model_file(northwind) -> None:
    _, database, model = northwind
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = RelationalSynthesizer.load(buffer.getvalue())
    assert loaded.plans_["orders"].derived == model.plans_["orders"].derived
    assert loaded.plans_["order_details"].derived == model.plans_["order_details"].derived
    again, before = loaded.sample(seed=5), model.sample(seed=5)
    assert database.integrity_problems(again) == []
    for name in before:
        pd.testing.assert_frame_equal(again[name], before[name])


def test_rules_on_a_related_table_are_refused_with_one_line_that_says_what_to_do() -> None:
    from mirage.control import AllowedCombinations, Inequality
    from mirage.errors import OptionError

    frames = northwind_frames()
    data = northwind_database(frames).to_dict()
    database = DatabaseSchema.from_dict(data)
    database["orders"].schema.rules = [
        Inequality("shipped_date", ">=", "order_date"),
        Inequality("required_date", ">=", "order_date"),
    ]
    assert database.integrity_problems(frames) == []
    with pytest.raises(OptionError) as caught:
        RelationalSynthesizer(database).fit(frames)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "table 'orders': business rules (2 rules) are not applied to related tables yet; move them to"
    )
    assert '"suggested_rules"' in message and "mirage.fit" in message
    database["customers"].schema.rules = [AllowedCombinations(["city", "country"])]
    with pytest.raises(
        OptionError, match=r"^table 'customers': .* related tables yet \(nor those of 'orders'\);"
    ):
        RelationalSynthesizer(database).fit(frames)
    database["customers"].schema.rules = []
    database["orders"].schema.suggested_rules = database["orders"].schema.rules
    database["orders"].schema.rules = []
    model = RelationalSynthesizer(database, seed=0).fit(frames)  # suggested rules are kept, not enforced
    assert database.integrity_problems(model.sample(seed=0)) == []
