"""read_folder / write_folder and infer_database_schema: a folder of table files as related tables,
keys and foreign keys guessed from values and names, written back atomically."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage._warnings import MirageWarning
from mirage.errors import DataError, OptionError, OutputExistsError
from mirage.io import infer_database_schema, read_folder, write_folder
from mirage.schema import DatabaseSchema, Kind
from tests.databases import FOREIGN_KEYS, NORTHWIND, PRIMARY_KEYS


def _infer(frames: dict[str, pd.DataFrame]) -> DatabaseSchema:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return infer_database_schema(frames)


def _keys(database: DatabaseSchema) -> set[tuple[str, tuple[str, ...], str, tuple[str, ...]]]:
    return {(fk.child, fk.columns, fk.parent, fk.parent_columns) for fk in database.foreign_keys}


@pytest.fixture()
def northwind_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "northwind"
    shutil.copytree(NORTHWIND, folder)
    (folder / "README.txt").write_text("not a table", encoding="utf-8")
    return folder


def test_northwind_folder_gives_its_keys_and_foreign_keys(northwind_folder: Path) -> None:
    frames = read_folder(northwind_folder)
    assert list(frames) == ["customers", "order_details", "orders", "products"]
    assert len(frames["order_details"]) == 2155
    database = _infer(frames)
    assert {name: table.primary_key for name, table in database.tables.items()} == PRIMARY_KEYS
    assert _keys(database) == FOREIGN_KEYS
    assert database.order().index("orders") < database.order().index("order_details")
    for name in database.tables:
        for column in database.key_columns(name):
            assert database[name].schema[column].kind is Kind.IDENTIFIER
    # products.supplier_id names a table that is not there: not a key, learned as a value
    assert database["products"].schema["supplier_id"].kind is not Kind.IDENTIFIER
    assert DatabaseSchema.from_json(database.to_json()).to_dict() == database.to_dict()
    assert database.integrity_problems(frames) == []


def test_keys_by_name_singular_and_code_and_nullable_references() -> None:
    frames = {
        "categories": pd.DataFrame({"id": [1, 2, 3], "label": ["a", "b", "c"]}),
        "countries": pd.DataFrame({"name": ["France", "Spain"], "code": ["FR", "ES"]}),
        "items": pd.DataFrame(
            {
                "item_id": ["I1", "I2", "I3", "I4"],
                "category_id": [1, 1, np.nan, 3],
                "country_code": ["FR", "ES", "ES", "FR"],
                "price": [1.5, 2.0, 3.25, 4.0],
            }
        ),
    }
    database = _infer(frames)
    assert database["categories"].primary_key == ("id",)
    assert database["countries"].primary_key == ("code",)
    assert database["items"].primary_key == ("item_id",)
    by_column = {fk.columns: fk for fk in database.foreign_keys}
    assert by_column[("category_id",)].parent == "categories" and by_column[("category_id",)].nullable
    assert by_column[("country_code",)].parent == "countries"
    assert not by_column[("country_code",)].nullable
    assert len(database.foreign_keys) == 2


def test_a_column_with_values_outside_the_parent_key_is_no_foreign_key() -> None:
    frames = {
        "customers": pd.DataFrame({"customer_id": [1, 2, 3]}),
        "orders": pd.DataFrame({"order_id": [10, 11, 12], "customer_id": [1, 2, 4]}),
    }
    database = _infer(frames)
    assert database.foreign_keys == []
    assert database["orders"].primary_key == ("order_id",)
    frames["orders"].loc[2, "customer_id"] = 3
    assert _keys(_infer(frames)) == {("orders", ("customer_id",), "customers", ("customer_id",))}


def test_no_unique_column_gives_no_primary_key() -> None:
    frames = {"events": pd.DataFrame({"event_id": [1, 1, 2], "value": [0.1, 0.2, 0.3]})}
    assert _infer(frames)["events"].primary_key == ()


def test_european_csv_files_are_read_and_written_in_their_dialect(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "shops.csv").write_text("shop_id;city\n1;Lyon\n2;Metz\n", encoding="utf-8")
    (source / "sales.csv").write_text(
        "sale_id;shop_id;amount\n1;1;12,50\n2;1;3,25\n3;2;7,00\n", encoding="utf-8"
    )
    frames = read_folder(source)
    assert frames["sales"]["amount"].tolist() == [12.5, 3.25, 7.0]
    database = _infer(frames)
    assert _keys(database) == {("sales", ("shop_id",), "shops", ("shop_id",))}
    out = write_folder(tmp_path / "out", database, frames)
    assert (out / "sales.csv").read_text(encoding="utf-8").splitlines()[1] == "1;1;12,50"
    again = read_folder(out)
    pd.testing.assert_frame_equal(again["sales"], frames["sales"])


@pytest.mark.parametrize("format", ["csv", "parquet"])
def test_write_folder_round_trip(northwind_folder: Path, tmp_path: Path, format: str) -> None:
    frames = read_folder(northwind_folder)
    database = _infer(frames)
    out = write_folder(tmp_path / "synthetic", database, frames, format=format)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{name}.{format}" for name in frames)
    again = read_folder(out)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(again[name], frame, check_dtype=format == "parquet")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_write_folder_refuses_existing_and_source_folders(northwind_folder: Path, tmp_path: Path) -> None:
    frames = read_folder(northwind_folder)
    database = _infer(frames)
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="already exists") as caught:
        write_folder(target, database, frames)
    assert str(target) in str(caught.value)
    write_folder(target, database, frames, force=True)
    assert not (target / "old.csv").exists() and (target / "orders.csv").exists()
    before = sorted(p.name for p in northwind_folder.iterdir())
    for force in (False, True):
        with pytest.raises(OutputExistsError, match="read from"):
            write_folder(northwind_folder, database, frames, force=force)
    plain = {name: frame.copy() for name, frame in frames.items()}
    for frame in plain.values():
        frame.attrs.clear()
    with pytest.raises(OutputExistsError, match="is the source folder"):
        write_folder(northwind_folder / ".", database, plain, force=True, sources=[northwind_folder])
    assert sorted(p.name for p in northwind_folder.iterdir()) == before
    with pytest.raises(OptionError, match="format"):
        write_folder(tmp_path / "x", database, frames, format="xlsx")


def test_a_failed_folder_write_leaves_nothing(tmp_path: Path) -> None:
    frames = {
        "parents": pd.DataFrame({"parent_id": [1, 2]}),
        "children": pd.DataFrame({"child_id": [1, 2], "parent_id": [1, 2], "mixed": [1, "text"]}),
    }
    database = _infer(frames)
    with pytest.raises(DataError, match="Parquet"):
        write_folder(tmp_path / "out", database, frames, format="parquet")
    assert list(tmp_path.iterdir()) == []


def test_read_folder_errors_name_the_folder_or_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="holds no table files"):
        read_folder(tmp_path)
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "a.parquet").write_bytes(b"")
    with pytest.raises(DataError, match=r"'a\.csv' and 'a\.parquet' would both be table 'a'"):
        read_folder(tmp_path)
    with pytest.raises(DataError, match="is not a folder"):
        read_folder(tmp_path / "a.csv")


def test_inference_warnings_name_the_table(northwind_folder: Path) -> None:
    frames = read_folder(northwind_folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infer_database_schema(frames)
    messages = [str(w.message) for w in caught if issubclass(w.category, MirageWarning)]
    assert any(m.startswith("table 'customers': column 'company_name'") for m in messages)
    assert all(m.startswith(("table 'customers'", "table 'products'", "table 'orders'")) for m in messages)


def test_self_references_roles_and_composite_keys_are_inferred() -> None:
    frames = {
        "employees": pd.DataFrame(
            {"employee_id": [1, 2, 3, 4], "manager_id": [np.nan, 1, 1, 2], "pay": [9.0, 5.0, 4.0, 3.0]}
        ),
        "shifts": pd.DataFrame(
            {"store_id": ["A", "A", "B"], "shift_id": [1, 2, 1], "lead_employee_id": [2, 3, 2]}
        ),
        "hours": pd.DataFrame({"hour_id": [1, 2, 3], "store_id": ["A", "B", "A"], "shift_id": [1, 1, 2]}),
    }
    database = _infer(frames)
    assert database["shifts"].primary_key == ("store_id", "shift_id")
    assert _keys(database) == {
        ("employees", ("manager_id",), "employees", ("employee_id",)),
        ("shifts", ("lead_employee_id",), "employees", ("employee_id",)),
        ("hours", ("store_id", "shift_id"), "shifts", ("store_id", "shift_id")),
    }
    manager = next(fk for fk in database.foreign_keys if fk.self_reference)
    assert manager.nullable and database.deferred() == [manager]
    frames["hours"].loc[2, "shift_id"] = 9  # (A, 9) is no shift
    assert ("hours", ("store_id", "shift_id"), "shifts", ("store_id", "shift_id")) not in _keys(
        _infer(frames)
    )


def test_text_options_apply_to_the_text_files_of_a_mixed_folder(tmp_path: Path) -> None:
    pd.DataFrame({"shop_id": [1, 2]}).to_parquet(tmp_path / "shops.parquet")
    (tmp_path / "sales.csv").write_text("sale_id,shop_id\n1,1\n2,2,extra\n3,2\n", encoding="latin-1")
    with pytest.warns(MirageWarning, match="line 3"):
        frames = read_folder(tmp_path, on_bad_lines="skip", encoding="latin-1")
    assert frames["sales"]["sale_id"].tolist() == [1, 3]
    assert frames["shops"]["shop_id"].tolist() == [1, 2]


def test_compressed_table_files_are_tables_named_without_their_extensions(tmp_path: Path) -> None:
    import gzip

    pd.DataFrame({"id": [1, 2], "name": ["a", "b"]}).to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "orders.csv.gz").write_bytes(gzip.compress(b"id,customer_id\n10,1\n11,2\n12,2\n"))
    (tmp_path / "notes.md.gz").write_bytes(gzip.compress(b"# not a table\n"))
    frames = read_folder(tmp_path)
    assert sorted(frames) == ["customers", "orders"] and frames["orders"]["customer_id"].tolist() == [1, 2, 2]
    (tmp_path / "orders.csv").write_text("id,customer_id\n10,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"'orders.csv' and 'orders.csv.gz' would both be table 'orders'"):
        read_folder(tmp_path)


def test_a_folder_of_parquet_tables_is_written_with_their_decimal_and_date_types(tmp_path: Path) -> None:
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "source"
    source.mkdir()
    pq.write_table(
        pa.table({"shop_id": [1, 2, 3], "city": ["Lyon", "Metz", "Nice"]}), source / "shops.parquet"
    )
    sales = {
        "sale_id": pa.array([1, 2, 3, 4]),
        "shop_id": pa.array([1, 1, 2, 3]),
        "amount": pa.array(
            [decimal.Decimal(v) for v in ("12.50", "3.25", "7.00", "1.10")], pa.decimal128(9, 2)
        ),
        "day": pa.array([datetime.date(2024, 1, d) for d in (2, 3, 5, 8)], pa.date32()),
    }
    pq.write_table(pa.table(sales), source / "sales.parquet")
    frames = read_folder(source)
    database = _infer(frames)
    out = write_folder(tmp_path / "out", database, frames, format="parquet")
    written = pq.read_schema(out / "sales.parquet")
    assert written.field("amount").type == pa.decimal128(9, 2) and written.field("day").type == pa.date32()
