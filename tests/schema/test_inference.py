from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.errors import SchemaError
from mirage.schema import Column, Kind, Schema, infer_schema


def test_adult_kinds(adult: pd.DataFrame) -> None:
    schema = infer_schema(adult)
    kinds = {c.name: c.kind for c in schema}
    assert kinds["age"] is Kind.NUMERIC and schema["age"].integer and schema["age"].decimals == 0
    assert kinds["workclass"] is Kind.CATEGORICAL and schema["workclass"].nullable
    assert kinds["income"] is Kind.CATEGORICAL
    assert schema["fnlwgt"].minimum == adult["fnlwgt"].min()
    assert schema["fnlwgt"].maximum == adult["fnlwgt"].max()


def test_titanic_kinds(titanic: pd.DataFrame) -> None:
    schema = infer_schema(titanic)
    assert schema["adult_male"].kind is Kind.BOOLEAN
    assert schema["pclass"].kind is Kind.CATEGORICAL and schema["pclass"].ordered
    assert schema["fare"].kind is Kind.NUMERIC and schema["fare"].decimals == 4
    assert schema["age"].kind is Kind.NUMERIC and not schema["age"].integer


def test_keys_pii_text_and_datetimes() -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "customer_id": [f"C-{i:06d}" for i in range(n)],
            "row": np.arange(n),
            "email": [f"person{i}@mail{i % 7}.com" for i in range(n)],
            "signup": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%d/%m/%Y"),
            "stamp": pd.date_range("2021-03-01 10:00", periods=n, freq="h"),
            "review": [
                f"This product number {i} was really quite good and arrived on time" for i in range(n)
            ],
            "card": ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"] * 20,
        }
    )
    schema = infer_schema(frame)
    assert schema["customer_id"].kind is Kind.IDENTIFIER
    assert schema["row"].kind is Kind.IDENTIFIER
    assert schema["email"].kind is Kind.PII and schema["email"].pii_type == "email"
    assert schema["signup"].kind is Kind.DATETIME and schema["signup"].datetime_format == "%d/%m/%Y"
    assert schema["stamp"].kind is Kind.DATETIME and schema["stamp"].datetime_format is None
    assert schema["review"].kind is Kind.TEXT
    assert schema["card"].kind is Kind.PII and schema["card"].pii_type == "credit_card"


def test_json_round_trip_and_user_edit(adult: pd.DataFrame, tmp_path) -> None:
    schema = infer_schema(adult)
    again = Schema.from_json(schema.to_json())
    assert again == schema
    data = json.loads(schema.to_json())
    entry = next(c for c in data["columns"] if c["name"] == "education_num")
    entry["kind"] = "categorical"
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(data))
    edited = Schema.load(path)
    assert edited["education_num"].kind is Kind.CATEGORICAL
    model = mirage.fit(adult, engine="cart", schema=path)
    synth = model.sample(2000, seed=1)
    seen = set(adult["education_num"])
    assert set(synth["education_num"]) <= seen
    assert synth["education_num"].dtype == adult["education_num"].dtype


def test_schema_errors_name_the_column(adult: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="'nope'"):
        Column(name="nope", kind="strange")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="'x'"):
        Column(name="x", kind=Kind.NUMERIC, minimum=3, maximum=1)
    with pytest.raises(SchemaError, match="'age'.*twice"):
        Schema([Column("age", Kind.NUMERIC), Column("age", Kind.NUMERIC)])
    schema = infer_schema(adult)
    with pytest.raises(SchemaError, match="'income'"):
        schema.validate(adult.drop(columns="income"))
    with pytest.raises(SchemaError, match="'extra'"):
        schema.validate(adult.assign(extra=1))
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.from_json("{nope")
    with pytest.raises(SchemaError, match="unknown field"):
        Schema.from_dict({"columns": [{"name": "a", "kind": "numeric", "colour": "red"}]})


def test_newer_schema_format_is_refused() -> None:
    with pytest.raises(SchemaError, match="newer"):
        Schema.from_dict({"format_version": 99, "columns": []})


def test_a_binary_schema_file_is_a_schema_error(tmp_path) -> None:
    path = tmp_path / "schema.json"
    path.write_bytes(b"PK\x03\x04\xee\xff")
    with pytest.raises(SchemaError, match="not UTF-8"):
        Schema.load(path)


def test_nineteen_digit_ids_are_identifiers_not_a_few_categories() -> None:
    """Through float64, ids 7 apart past 2**60 merge into a handful of values: they read as an ordered
    category of those few, and every synthetic row got one of them."""
    ids = pd.Series([1_234_567_890_123_456_789 + 7 * i for i in range(200)], dtype="int64")
    column = infer_schema(pd.DataFrame({"order_id": ids, "n": range(200)}))["order_id"]
    assert column.kind is Kind.IDENTIFIER
