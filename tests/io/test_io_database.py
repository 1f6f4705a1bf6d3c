"""read_database / write_database against real SQLite files and a real PostgreSQL server (no mocks):
Northwind in both, keys reflected, constraints enforced by the written database, sources untouched."""

from __future__ import annotations

import hashlib
import sqlite3
import warnings
from pathlib import Path

import pandas as pd
import pytest

from mirage.errors import DataError, OptionError, OutputExistsError
from mirage.io import read_database, write_database
from mirage.schema import DatabaseSchema, Kind
from tests.databases import FOREIGN_KEYS, PRIMARY_KEYS, northwind, northwind_schema


def _read(url: str, **options: int) -> tuple[DatabaseSchema, dict[str, pd.DataFrame]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inference's notes on Northwind's many rare values
        return read_database(url, **options)


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _assert_northwind(database: DatabaseSchema, frames: dict[str, pd.DataFrame]) -> None:
    source = northwind()
    assert set(database.tables) == set(source)
    assert {name: table.primary_key for name, table in database.tables.items()} == PRIMARY_KEYS
    found = {(fk.child, fk.columns, fk.parent, fk.parent_columns) for fk in database.foreign_keys}
    assert found == FOREIGN_KEYS
    assert not any(fk.nullable for fk in database.foreign_keys)
    for name, frame in source.items():
        assert list(frames[name].columns) == list(frame.columns)
        pd.testing.assert_frame_equal(_sorted(frames[name]), _sorted(frame), check_dtype=False)
        for column in database.key_columns(name):
            assert database[name].schema[column].kind is Kind.IDENTIFIER, (name, column)
        assert set(database[name].sql_types) == set(frame.columns)
    assert database.integrity_problems(frames) == []


# SQLite ------------------------------------------------------------------------------------------


@pytest.fixture()
def northwind_db(tmp_path: Path) -> Path:
    path = tmp_path / "northwind.db"
    write_database(_sqlite(path), northwind_schema(), northwind())
    return path


def test_sqlite_round_trip_keeps_keys_types_and_rows(northwind_db: Path) -> None:
    database, frames = _read(_sqlite(northwind_db))
    _assert_northwind(database, frames)
    assert database["orders"].sql_types["freight"] in ("DOUBLE", "FLOAT", "REAL")
    assert database["customers"].sql_types["customer_id"] == "TEXT"


def test_reading_in_small_chunks_gives_the_same_tables(northwind_db: Path) -> None:
    _, whole = _read(_sqlite(northwind_db))
    _, chunked = _read(_sqlite(northwind_db), chunk_size=100)
    for name, frame in whole.items():
        pd.testing.assert_frame_equal(chunked[name], frame)


def test_written_sqlite_rejects_a_dangling_foreign_key(northwind_db: Path, tmp_path: Path) -> None:
    database, frames = _read(_sqlite(northwind_db))
    copy = tmp_path / "copy.db"
    write_database(_sqlite(copy), database, frames, chunk_size=97)
    with sqlite3.connect(copy) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            connection.execute(
                "INSERT INTO order_details (order_id, product_id, unit_price, quantity, discount) "
                "VALUES (1, 1, 1.0, 1, 0.0)"
            )
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            connection.execute("INSERT INTO products (product_id, product_name) VALUES (1, 'again')")
        tables = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table'")
        schema_sql = " ".join(r[0] for r in tables)
    assert "REFERENCES orders (order_id)" in schema_sql and "PRIMARY KEY (order_id, product_id)" in schema_sql
    _assert_northwind(*_read(_sqlite(copy)))


def test_source_is_untouched_and_never_written_into(northwind_db: Path, tmp_path: Path) -> None:
    before = _digest(northwind_db)
    database, frames = _read(_sqlite(northwind_db))
    write_database(_sqlite(tmp_path / "other.db"), database, frames)
    for force in (False, True):
        with pytest.raises(OutputExistsError, match="read from") as caught:
            write_database(_sqlite(tmp_path / "." / northwind_db.name), database, frames, force=force)
        assert str(northwind_db.name) in str(caught.value)
    plain = {name: frame.copy() for name, frame in frames.items()}
    for frame in plain.values():
        frame.attrs.clear()  # data that does not say where it came from, as a model's samples
    with pytest.raises(OutputExistsError, match="is the source database"):
        write_database(_sqlite(northwind_db), database, plain, force=True, sources=[_sqlite(northwind_db)])
    assert _digest(northwind_db) == before


def test_a_target_with_tables_is_refused_unless_forced(northwind_db: Path, tmp_path: Path) -> None:
    database, frames = _read(_sqlite(northwind_db))
    target = tmp_path / "target.db"
    with sqlite3.connect(target) as connection:
        connection.execute("CREATE TABLE orders (x INTEGER)")
    with pytest.raises(OutputExistsError) as caught:
        write_database(_sqlite(target), database, frames)
    assert str(target) in str(caught.value) and "'orders'" in str(caught.value)
    write_database(_sqlite(target), database, frames, force=True)
    _assert_northwind(*_read(_sqlite(target)))


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    database, frames = northwind_schema(), northwind()
    frames["order_details"].loc[5, "product_id"] = 999_999  # refers to no product
    new = tmp_path / "new.db"
    with pytest.raises(DataError, match="FOREIGN KEY") as caught:
        write_database(_sqlite(new), database, frames)
    assert str(new) in str(caught.value)
    assert not new.exists()

    kept = tmp_path / "kept.db"
    with sqlite3.connect(kept) as connection:
        connection.execute("CREATE TABLE customers (note TEXT)")
        connection.execute("INSERT INTO customers VALUES ('old')")
    with pytest.raises(DataError):
        write_database(_sqlite(kept), database, frames, force=True)
    with sqlite3.connect(kept) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables == ["customers"]
        assert connection.execute("SELECT note FROM customers").fetchall() == [("old",)]


def test_composite_unique_nullable_and_self_referencing_keys_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "keys.db"
    with sqlite3.connect(source) as connection:
        connection.executescript(
            """
            CREATE TABLE stores (region TEXT, number INTEGER, name VARCHAR(30) NOT NULL UNIQUE,
                                 PRIMARY KEY (region, number));
            CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, region TEXT NOT NULL, number INTEGER NOT NULL,
                                manager_id INTEGER REFERENCES staff (staff_id), pay NUMERIC(8, 2),
                                FOREIGN KEY (region, number) REFERENCES stores (region, number));
            INSERT INTO stores VALUES ('north', 1, 'Alpha'), ('north', 2, 'Beta'), ('south', 1, 'Gamma');
            INSERT INTO staff VALUES (1, 'north', 1, NULL, 10.5), (2, 'north', 1, 1, 8.25),
                                     (3, 'south', 1, 1, 9.0), (4, 'north', 2, 3, 7.75);
            """
        )
    database, frames = _read(_sqlite(source))
    assert database["stores"].primary_key == ("region", "number")
    assert database["stores"].unique == [("name",)]
    assert database["stores"].sql_types["name"] == "VARCHAR(30)"
    assert database["staff"].sql_types["pay"] == "NUMERIC(8, 2)"
    keys = {fk.columns: fk for fk in database.foreign_keys}
    assert keys[("region", "number")].parent_columns == ("region", "number")
    assert not keys[("region", "number")].nullable
    assert keys[("manager_id",)].self_reference and keys[("manager_id",)].nullable
    assert database["staff"].schema["manager_id"].kind is Kind.IDENTIFIER

    copy = tmp_path / "copy.db"
    frames["staff"] = frames["staff"].iloc[::-1]  # a manager row after its staff: checked at commit
    write_database(_sqlite(copy), database, frames)
    again, copied = _read(_sqlite(copy))
    assert again.to_dict() == database.to_dict()
    assert len(copied["staff"]) == 4
    with sqlite3.connect(copy) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute("INSERT INTO staff VALUES (5, 'east', 9, NULL, 1.0)")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://someone@localhost/shop", "only sqlite:// and postgresql://"),
        ("sqlite:///{tmp}/missing.db", "does not exist"),
        ("postgresql://nobody@127.0.0.1:1/shop", "cannot connect to postgresql://nobody@127.0.0.1:1/shop"),
    ],
)
def test_bad_sources_give_one_line_naming_the_url(url: str, expected: str, tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path)
    with pytest.raises(DataError) as caught:
        read_database(url)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert url.split("///")[-1] in message or url in message
    assert not (tmp_path / "missing.db").exists()


def test_a_self_reference_to_no_row_fails_at_commit_and_leaves_nothing(tmp_path: Path) -> None:
    frames = {"staff": pd.DataFrame({"staff_id": [1, 2, 3], "manager_id": [None, 1, 7]})}
    database = DatabaseSchema.from_dict(
        {
            "tables": {
                "staff": {
                    "primary_key": ["staff_id"],
                    "schema": {
                        "columns": [
                            {"name": "staff_id", "kind": "identifier", "dtype": "int64"},
                            {
                                "name": "manager_id",
                                "kind": "identifier",
                                "dtype": "float64",
                                "nullable": True,
                            },
                        ]
                    },
                }
            },
            "foreign_keys": [
                {
                    "child": "staff",
                    "columns": ["manager_id"],
                    "parent": "staff",
                    "parent_columns": ["staff_id"],
                    "nullable": True,
                }
            ],
        }
    )
    target = tmp_path / "staff.db"
    with pytest.raises(DataError, match="FOREIGN KEY"):
        write_database(_sqlite(target), database, frames)
    assert not target.exists()
    frames["staff"].loc[2, "manager_id"] = 2
    write_database(_sqlite(target), database, frames)
    assert _read(_sqlite(target))[1]["staff"]["manager_id"].tolist()[1:] == [1, 2]


@pytest.mark.parametrize("chunk_size", [0, -5, 2.5])
def test_chunk_size_must_be_a_positive_row_count(chunk_size: int, tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="chunk_size"):
        write_database(_sqlite(tmp_path / "x.db"), northwind_schema(), northwind(), chunk_size=chunk_size)
    with pytest.raises(OptionError, match="chunk_size"):
        read_database(_sqlite(tmp_path / "x.db"), chunk_size=chunk_size)


def test_write_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        write_database(_sqlite(tmp_path / "no" / "x.db"), northwind_schema(), northwind())


# PostgreSQL --------------------------------------------------------------------------------------


def _row_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as connection:
        return {
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # type: ignore[index]
            for name in PRIMARY_KEYS
        }


def test_postgres_round_trip_both_ways(postgres_url: str, tmp_path: Path) -> None:
    write_database(postgres_url, northwind_schema(), northwind(), chunk_size=500)
    database, frames = _read(postgres_url, chunk_size=300)
    _assert_northwind(database, frames)
    assert database["orders"].sql_types["freight"] == "DOUBLE PRECISION"
    before = _row_counts(postgres_url)

    copy = tmp_path / "from_postgres.db"
    write_database(_sqlite(copy), database, frames)
    lite, lite_frames = _read(_sqlite(copy))
    _assert_northwind(lite, lite_frames)
    for force in (False, True):
        with pytest.raises(OutputExistsError, match="read from"):
            write_database(postgres_url, database, frames, force=force)
    assert _row_counts(postgres_url) == before


def test_postgres_constraints_reject_a_dangling_foreign_key(postgres_url: str, tmp_path: Path) -> None:
    import psycopg

    source = tmp_path / "northwind.db"
    write_database(_sqlite(source), northwind_schema(), northwind())
    database, frames = _read(_sqlite(source))
    write_database(postgres_url, database, frames)
    _assert_northwind(*_read(postgres_url))
    with psycopg.connect(postgres_url) as connection, pytest.raises(psycopg.errors.ForeignKeyViolation):
        connection.execute("INSERT INTO orders (order_id, customer_id) VALUES (1, 'NOBODY')")
    with psycopg.connect(postgres_url) as connection, pytest.raises(psycopg.errors.UniqueViolation):
        connection.execute("INSERT INTO customers (customer_id) VALUES ('ALFKI')")


def test_postgres_failed_write_rolls_back_and_existing_tables_are_refused(postgres_url: str) -> None:
    database, frames = northwind_schema(), northwind()
    broken = {name: frame.copy() for name, frame in frames.items()}
    broken["orders"].loc[3, "customer_id"] = "NOBODY"
    with pytest.raises(DataError, match="foreign key") as caught:
        write_database(postgres_url, database, broken)
    assert postgres_url.rsplit("/", 1)[-1] in str(caught.value)
    write_database(postgres_url, database, frames)  # nothing was left behind by the failure
    with pytest.raises(OutputExistsError, match="already has tables"):
        write_database(postgres_url, database, frames)
    with pytest.raises(DataError):
        write_database(postgres_url, database, broken, force=True)
    assert _row_counts(postgres_url) == {name: len(frame) for name, frame in frames.items()}


def test_postgres_types_survive_a_trip_through_sqlite_and_back(postgres_url: str, tmp_path: Path) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            """
            CREATE TABLE "Order" ("select" INTEGER PRIMARY KEY, ok BOOLEAN, day DATE, at TIMESTAMP,
                                  amount NUMERIC(8, 2), token UUID, note VARCHAR(20));
            CREATE TABLE line (id SERIAL PRIMARY KEY, "select" INTEGER REFERENCES "Order" ("select"),
                               q SMALLINT);
            INSERT INTO "Order" VALUES
                (1, TRUE, '2020-01-02', '2020-01-02 03:04:05', 12.50,
                 'd72d0dcc-4ed5-4842-8788-a66e766328df', 'x'),
                (2, NULL, NULL, NULL, NULL, NULL, NULL), (3, FALSE, '2021-05-06', NULL, 1.25, NULL, 'y');
            INSERT INTO line ("select", q) VALUES (1, 3), (1, 4), (2, 5), (NULL, 1);
            """
        )
    database, frames = _read(postgres_url)
    order = frames["Order"]
    assert database["Order"].sql_types["amount"] == "NUMERIC(8, 2)"
    assert order["amount"].tolist()[0] == 12.5 and order["ok"].tolist()[::2] == [True, False]
    assert order["day"].dtype.kind == "M" and order["token"][0] == "d72d0dcc-4ed5-4842-8788-a66e766328df"
    line_key = database.foreign_keys[0]
    assert (line_key.child, line_key.columns, line_key.nullable) == ("line", ("select",), True)

    lite = tmp_path / "copy.db"
    write_database(_sqlite(lite), database, frames)
    with sqlite3.connect(lite) as connection:
        assert connection.execute('SELECT day FROM "Order" WHERE "select" = 1').fetchone() == ("2020-01-02",)
    middle, middle_frames = _read(_sqlite(lite))
    assert middle_frames["Order"]["ok"].tolist()[::2] == [True, False]

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute('DROP TABLE line; DROP TABLE "Order"')  # the source emptied, then filled again
    write_database(postgres_url, middle, middle_frames)
    again, back = _read(postgres_url)
    assert again["Order"].sql_types == database["Order"].sql_types | {"token": "VARCHAR(36)"}
    for name in ("Order", "line"):
        pd.testing.assert_frame_equal(back[name], frames[name], check_dtype=False)


def test_sqlalchemy_is_imported_only_when_a_database_is_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mirage, mirage.io, mirage.cli; "
        "print('sqlalchemy' in sys.modules, 'psycopg' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_timestamps_with_colon_offsets_go_to_a_database_as_instants() -> None:
    from mirage.io import database_values, sql_types_of
    from mirage.schema import infer_schema

    frame = pd.DataFrame({"ts": ["2024-01-01T08:00:00+01:00", "2024-06-01T09:30:00+02:00"], "x": [1.0, 2.0]})
    schema = infer_schema(frame)
    assert sql_types_of(schema)["ts"] == "TIMESTAMP WITH TIME ZONE"  # was DATETIME: '%:z' holds no '%z'
    stored = database_values(frame, schema)["ts"]  # was: ':' is a bad directive in format
    assert stored.tolist() == [
        pd.Timestamp("2024-01-01 07:00", tz="UTC"),
        pd.Timestamp("2024-06-01 07:30", tz="UTC"),
    ]
