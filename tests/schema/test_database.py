"""The database schema: foreign keys checked against their tables, the learning order, JSON round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from mirage.errors import SchemaError
from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind, Schema, Table


def _table(name: str, *columns: str, key: str = "id") -> Table:
    cols = [Column(key, Kind.IDENTIFIER, dtype="int64")]
    cols += [Column(c, Kind.NUMERIC, dtype="float64", nullable=True) for c in columns]
    return Table(name, Schema(cols), primary_key=(key,))


def _shop() -> DatabaseSchema:
    return DatabaseSchema(
        tables={
            "lines": _table("lines", "order_id", "product_id", "qty"),
            "orders": _table("orders", "customer_id", "total"),
            "customers": _table("customers", "age"),
            "products": _table("products", "price"),
        },
        foreign_keys=[
            ForeignKey("lines", ("order_id",), "orders", ("id",)),
            ForeignKey("lines", ("product_id",), "products", ("id",)),
            ForeignKey("orders", ("customer_id",), "customers", ("id",)),
        ],
    )


def test_order_puts_every_parent_first() -> None:
    db = _shop()
    order = db.order()
    assert sorted(order) == sorted(db.tables)
    for fk in db.foreign_keys:
        assert order.index(fk.parent) < order.index(fk.child), fk.name
    assert db.deferred() == []


def test_parents_children_and_key_columns() -> None:
    db = _shop()
    assert [fk.parent for fk in db.parents("lines")] == ["orders", "products"]
    assert [fk.child for fk in db.children("orders")] == ["lines"]
    assert db.key_columns("lines") == ["id", "order_id", "product_id"]


def test_self_reference_is_deferred() -> None:
    db = DatabaseSchema(
        tables={"employees": _table("employees", "manager_id", "salary")},
        foreign_keys=[ForeignKey("employees", ("manager_id",), "employees", ("id",), nullable=True)],
    )
    assert db.order() == ["employees"]
    assert [fk.columns for fk in db.deferred()] == [("manager_id",)]


def test_cycle_broken_on_its_nullable_key_only() -> None:
    tables = {
        "a": _table("a", "b_id"),
        "b": _table("b", "a_id"),
        "c": _table("c", "a_id"),
    }
    cycle = [
        ForeignKey("a", ("b_id",), "b", ("id",), nullable=True),
        ForeignKey("b", ("a_id",), "a", ("id",)),
        ForeignKey("c", ("a_id",), "a", ("id",), nullable=True),  # downstream of the cycle, not in it
    ]
    db = DatabaseSchema(tables=tables, foreign_keys=cycle)
    assert db.deferred() == [cycle[0]]
    assert db.order() == ["a", "b", "c"]
    strict = [ForeignKey("a", ("b_id",), "b", ("id",)), cycle[1], cycle[2]]
    with pytest.raises(SchemaError, match="cycle and none of their foreign keys is nullable"):
        DatabaseSchema(tables=tables, foreign_keys=strict)


@pytest.mark.parametrize(
    ("fk", "message"),
    [
        (ForeignKey("orders", ("customer_id",), "clients", ("id",)), "no table 'clients'"),
        (
            ForeignKey("orders", ("client_id",), "customers", ("id",)),
            "table 'orders' has no column 'client_id'",
        ),
        (
            ForeignKey("orders", ("customer_id",), "customers", ("age",)),
            "neither the primary key nor a unique",
        ),
    ],
)
def test_bad_foreign_keys_are_named(fk: ForeignKey, message: str) -> None:
    db = _shop()
    with pytest.raises(SchemaError, match=message):
        DatabaseSchema(tables=db.tables, foreign_keys=[fk])


def test_composite_key_needs_matching_lengths() -> None:
    with pytest.raises(SchemaError, match="as many columns"):
        ForeignKey("a", ("x", "y"), "b", ("id",))


def test_json_round_trip(tmp_path) -> None:
    db = _shop()
    db.tables["orders"].sql_types["total"] = "NUMERIC(10, 2)"
    path = tmp_path / "shop.schema.json"
    path.write_text(db.to_json(), encoding="utf-8")
    back = DatabaseSchema.load(path)
    assert back.to_dict() == db.to_dict()
    assert back.foreign_keys == db.foreign_keys


def test_newer_format_and_bad_json_are_refused(tmp_path) -> None:
    data = _shop().to_dict()
    data["format_version"] = 99
    with pytest.raises(SchemaError, match="newer than this Mirage reads"):
        DatabaseSchema.from_dict(data)
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(SchemaError, match="bad.json: database schema is not valid JSON"):
        DatabaseSchema.load(path)


def test_validate_names_missing_tables_and_columns() -> None:
    db = _shop()
    frames = {name: pd.DataFrame({c: [1] for c in t.schema.names}) for name, t in db.tables.items()}
    db.validate(frames)
    with pytest.raises(SchemaError, match="table 'products' is in the schema but not in the data"):
        db.validate({k: v for k, v in frames.items() if k != "products"})
    frames["orders"] = frames["orders"].drop(columns="total")
    with pytest.raises(SchemaError, match="table 'orders': column 'total'"):
        db.validate(frames)


def test_integrity_problems_names_each_broken_key() -> None:
    db = _shop()
    frames = {
        "customers": pd.DataFrame({"id": [1, 2], "age": [30.0, 40.0]}),
        "orders": pd.DataFrame({"id": [10, 11], "customer_id": [1, 2], "total": [5.0, 6.0]}),
        "products": pd.DataFrame({"id": [7], "price": [1.0]}),
        "lines": pd.DataFrame({"id": [1, 2], "order_id": [10, 11], "product_id": [7, 7], "qty": [1.0, 2.0]}),
    }
    assert db.integrity_problems(frames) == []
    frames["orders"] = pd.DataFrame({"id": [10, 10], "customer_id": [1, 3], "total": [5.0, 6.0]})
    problems = db.integrity_problems(frames)
    assert problems == [
        "orders(id): 1 repeated key value(s)",
        "lines(order_id) -> orders(id): 1 reference(s) to no parent row",
        "orders(customer_id) -> customers(id): 1 reference(s) to no parent row",
    ]
