"""A synthetic database declares the source's ``NOT NULL`` columns too (SQLite and PostgreSQL): the
constraint is reflected into ``Table.not_null``, kept in the schema JSON and the model file, and the
sampled rows meet it (the database itself checks them on insert); every test checks integrity."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from mirage.io import read_database, write_database
from mirage.relational import RelationalSynthesizer
from mirage.schema import DatabaseSchema
from tests.databases import postgres_server, postgres_url  # noqa: F401
from tests.relational.schemas import NORTHWIND_KEYS, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PARENTS = {
    "orders": [("customer_id", "customers")],
    "order_details": [("order_id", "orders"), ("product_id", "products")],
}


def _ddl(name: str, frame: pd.DataFrame) -> str:
    """Every column without a null in the data is NOT NULL; keys and foreign keys declared."""
    columns = []
    for column in frame.columns:
        sql = "INTEGER" if pd.api.types.is_integer_dtype(frame[column]) else "TEXT"
        sql = "REAL" if pd.api.types.is_float_dtype(frame[column]) else sql
        columns.append(f"{column} {sql}" + ("" if frame[column].isna().any() else " NOT NULL"))
    columns.append(f"PRIMARY KEY ({', '.join(NORTHWIND_KEYS[name])})")
    columns += [f"FOREIGN KEY ({c}) REFERENCES {p} ({c})" for c, p in PARENTS.get(name, [])]
    return f"CREATE TABLE {name} ({', '.join(columns)});"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, DatabaseSchema, dict[str, pd.DataFrame]]:
    frames = northwind_frames()
    path = tmp_path_factory.mktemp("not_null") / "shop.db"
    with sqlite3.connect(path) as connection:
        for name in ("customers", "products", "orders", "order_details"):
            connection.execute(_ddl(name, frames[name]))
            frames[name].to_sql(name, connection, if_exists="append", index=False)
    url = f"sqlite:///{path}"
    database, read = read_database(url)
    return url, database, read


def _nullable(url: str) -> dict[tuple[str, str], bool]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            (table, str(c["name"])): bool(c["nullable"])
            for table in inspector.get_table_names()
            for c in inspector.get_columns(table)
        }
    finally:
        engine.dispose()


def _synthetic(database: DatabaseSchema, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    model = RelationalSynthesizer(database, seed=0).fit(frames)
    again = DatabaseSchema.from_dict(database.to_dict())  # through the JSON, as a model file keeps it
    assert again["orders"].not_null == database["orders"].not_null
    synthetic = model.sample(seed=2)
    assert database.integrity_problems(synthetic) == []
    return synthetic


def test_not_null_columns_are_reflected(source) -> None:
    _, database, frames = source
    assert database.integrity_problems(frames) == []
    assert "order_date" in database["orders"].not_null
    assert "shipped_date" not in database["orders"].not_null  # it has nulls: declared nullable
    assert set(database["customers"].not_null) == {  # the primary key is NOT NULL anyway
        c for c in frames["customers"].columns if not frames["customers"][c].isna().any()
    } - {"customer_id"}


def test_a_synthetic_sqlite_database_has_the_source_not_null_columns(source, tmp_path: Path) -> None:
    url, database, frames = source
    target = f"sqlite:///{tmp_path / 'synthetic.db'}"
    write_database(target, database, _synthetic(database, frames))
    assert _nullable(target) == _nullable(url)
    _, written = read_database(target)
    assert database.integrity_problems(written) == []


def test_a_synthetic_postgresql_database_has_the_source_not_null_columns(source, postgres_url: str) -> None:  # noqa: F811
    url, database, frames = source
    write_database(postgres_url, database, _synthetic(database, frames))
    assert _nullable(postgres_url) == _nullable(url)
    _, written = read_database(postgres_url)
    assert database.integrity_problems(written) == []
