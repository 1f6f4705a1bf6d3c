"""``mirage schema`` on a database URL (SQLite, PostgreSQL) and on a folder of table files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mirage.io import write_database
from mirage.schema import DatabaseSchema
from tests.cli.helpers import error_line, invoke
from tests.databases import (
    FOREIGN_KEYS,
    NORTHWIND,
    PRIMARY_KEYS,
    northwind,
    northwind_schema,
    postgres_server,
    postgres_url,
)

__all__ = ["postgres_server", "postgres_url"]


def _keys(database: DatabaseSchema) -> tuple[dict[str, tuple[str, ...]], set[object]]:
    primary = {name: table.primary_key for name, table in database.tables.items()}
    return primary, {(fk.child, fk.columns, fk.parent, fk.parent_columns) for fk in database.foreign_keys}


@pytest.fixture()
def shop_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    write_database(f"sqlite:///{path}", northwind_schema(), northwind())
    return path


def test_sqlite_url_writes_the_database_schema_and_prints_a_summary(shop_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "shop.schema.json"
    result = invoke("schema", f"sqlite:///{shop_db}", "-o", out)
    assert result.exit_code == 0, result.output
    database = DatabaseSchema.load(out)
    assert _keys(database) == (PRIMARY_KEYS, FOREIGN_KEYS)
    assert database["orders"].sql_types["order_id"] == "BIGINT"
    summary = result.stdout
    assert "order_details" in summary and "2155" in summary and "order_id, product_id" in summary
    assert "customer_id -> customers" in summary and str(out) in summary

    again = invoke("schema", f"sqlite:///{shop_db}", "-o", out)
    assert again.exit_code == 2 and "--force" in error_line(again)


def test_folder_prints_json_to_stdout_and_the_summary_to_stderr(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(NORTHWIND, folder)
    result = invoke("schema", folder)
    assert result.exit_code == 0, result.output
    database = DatabaseSchema.from_json(result.stdout)
    assert _keys(database) == (PRIMARY_KEYS, FOREIGN_KEYS)
    assert "order_id -> orders" in result.stderr and "830" in result.stderr


def test_a_single_file_still_gives_a_table_schema(tmp_path: Path) -> None:
    result = invoke("schema", NORTHWIND / "orders.csv")
    assert result.exit_code == 0, result.output
    assert '"columns"' in result.stdout and '"tables"' not in result.stdout


def test_postgres_url(postgres_url: str, tmp_path: Path) -> None:
    write_database(postgres_url, northwind_schema(), northwind())
    out = tmp_path / "shop.schema.json"
    result = invoke("schema", postgres_url, "-o", out)
    assert result.exit_code == 0, result.output
    assert _keys(DatabaseSchema.load(out)) == (PRIMARY_KEYS, FOREIGN_KEYS)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("sqlite:///{tmp}/missing.db", "missing.db"),
        ("postgresql://nobody@127.0.0.1:1/shop", "postgresql://nobody@127.0.0.1:1/shop"),
        ("oracle://someone@host/db", "oracle://someone@host/db"),
        ("{tmp}", "holds no table files"),
    ],
)
def test_bad_sources_give_one_error_line(source: str, expected: str, tmp_path: Path) -> None:
    result = invoke("schema", source.format(tmp=tmp_path))
    assert result.exit_code == 2
    assert expected in error_line(result)


def test_file_reading_options_are_refused_for_a_database(shop_db: Path) -> None:
    result = invoke("schema", f"sqlite:///{shop_db}", "--encoding", "latin-1")
    assert result.exit_code == 2
    assert "--encoding applies to files" in error_line(result)
