"""``mirage generate``: data from a spec to a file, a folder or a database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from mirage.spec import generate, load_spec
from tests.cli.helpers import error_line, invoke
from tests.databases import postgres_server, postgres_url  # noqa: F401

ONE: dict[str, Any] = {
    "tables": {
        "people": {
            "rows": 300,
            "primary_key": "id",
            "columns": {
                "age": {"distribution": {"type": "normal", "mean": 40, "std": 10}, "integer": True},
                "plan": {"distribution": {"type": "categorical", "weights": {"free": 3, "pro": 1}}},
            },
        }
    }
}
TWO: dict[str, Any] = {
    "tables": {
        "customers": {
            "rows": 40,
            "primary_key": "customer_id",
            "columns": {"score": {"distribution": {"type": "uniform", "low": 0, "high": 1}}},
        },
        "orders": {
            "per_parent": {"table": "customers", "distribution": {"type": "poisson", "lam": 2}},
            "primary_key": "order_id",
            "foreign_keys": {"customer_id": "customers"},
            "columns": {
                "total": {"distribution": {"type": "lognormal", "mu": 3, "sigma": 0.5}, "decimals": 2}
            },
        },
    }
}


@pytest.fixture
def one(tmp_path: Path) -> Path:
    path = tmp_path / "people.spec.yaml"
    path.write_text(yaml.safe_dump(ONE, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def two(tmp_path: Path) -> Path:
    path = tmp_path / "shop.spec.yaml"
    path.write_text(yaml.safe_dump(TWO, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_one_table_spec_to_a_file_with_rows(one: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"people{suffix}"
    result = invoke("generate", one, "-o", out, "-n", 1234, "--seed", 7)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 1234 and list(frame.columns) == ["id", "age", "plan"]
    expected = generate(load_spec(one), seed=7, rows=1234)
    assert isinstance(expected, pd.DataFrame)
    assert frame["age"].tolist() == expected["age"].tolist()
    assert "1,234 rows" in result.stdout and "rows/s" in result.stdout


def test_same_seed_same_file_and_refuses_to_overwrite(one: Path, tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        assert invoke("generate", one, "-o", tmp_path / name, "--seed", 3).exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    result = invoke("generate", one, "-o", tmp_path / "a.csv", "--seed", 4)
    assert result.exit_code == 2 and "pass --force" in error_line(result)
    assert invoke("generate", one, "-o", tmp_path / "a.csv", "--seed", 4, "--force").exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()


def test_one_table_spec_to_standard_output(
    one: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("generate", one, "-o", "-", "-n", 40, "--seed", 7)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "-").exists()  # was written as a folder named "-"
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "id,age,plan" and len(lines) == 41
    assert invoke("generate", one, "-o", tmp_path / "p.csv", "-n", 40, "--seed", 7).exit_code == 0
    assert (tmp_path / "p.csv").read_text().strip().splitlines() == lines


def test_one_table_spec_preview_without_output(one: Path) -> None:
    result = invoke("generate", one, "-n", 5, "--seed", 1)
    assert result.exit_code == 0, result.output
    assert "5 rows of people" in result.stdout
    assert "pass -o FILE" in error_line(invoke("generate", one, "-n", 5000))  # too many to show


def test_related_tables_to_a_folder_and_to_sqlite_with_scale(two: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    result = invoke("generate", two, "-o", folder, "--seed", 7)
    assert result.exit_code == 0, result.output
    customers, orders = pd.read_csv(folder / "customers.csv"), pd.read_csv(folder / "orders.csv")
    assert len(customers) == 40 and orders["customer_id"].isin(customers["customer_id"]).all()
    assert "pass --force" in error_line(invoke("generate", two, "-o", folder, "--seed", 7))
    db = tmp_path / "shop.db"
    result = invoke("generate", two, "-o", f"sqlite:///{db}", "--scale", 10, "--seed", 7)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as connection:
        assert connection.execute("select count(*) from customers").fetchone() == (400,)
        dangling = (
            "select count(*) from orders o left join customers c using (customer_id) "
            "where c.customer_id is null"
        )
        assert connection.execute(dangling).fetchone() == (0,)


def test_database_ddl_keeps_dates_not_null_and_unicode_names(tmp_path: Path) -> None:
    spec = {
        "locale": "de_DE",
        "tables": {
            "kunden": {
                "rows": 30,
                "primary_key": "nr",
                "columns": {
                    "größe_cm": {"distribution": {"type": "normal", "mean": 170, "std": 10}, "decimals": 1},
                    "straße": {"provider": "street_address"},
                    "Geburts Datum": {
                        "kind": "datetime",
                        "distribution": {"type": "uniform", "low": "1950-01-01", "high": "2000-12-31"},
                        "format": "date",
                    },
                    "telefon": {"provider": "phone_number", "nulls": 0.3},
                },
            }
        },
    }
    path = tmp_path / "kunden.spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "kunden.db"
    result = invoke("generate", path, "-o", f"sqlite:///{db}", "--seed", 1)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as connection:
        declared = {row[1]: (row[2], row[3]) for row in connection.execute("pragma table_info(kunden)")}
        assert declared["Geburts Datum"] == ("DATE", 1)
        assert declared["größe_cm"][1] == 1 and declared["straße"][1] == 1
        assert declared["telefon"][1] == 0
        dates = [row[0] for row in connection.execute('select "Geburts Datum" from kunden')]
    assert len(dates) == 30 and all(len(d) == 10 and d[4] == "-" for d in dates)


def test_related_tables_to_postgresql(two: Path, postgres_url: str) -> None:  # noqa: F811
    result = invoke("generate", two, "-o", postgres_url, "--seed", 2)
    assert result.exit_code == 0, result.output
    from mirage.io import read_database

    database, frames = read_database(postgres_url)
    assert [(fk.child, fk.parent) for fk in database.foreign_keys] == [("orders", "customers")]
    assert (
        len(frames["customers"]) == 40
        and frames["orders"]["customer_id"].isin(frames["customers"]["customer_id"]).all()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", 10, "-o", "x"], "--rows applies to a spec with one table"),
        ([], "pass -o FOLDER"),
        (["-o", "x.csv"], "written to a folder or a database"),
        (["-o", "x", "--scale", 0], "--scale must be a number above 0"),
        (["-o", "x", "--format", "xlsx"], "--format must be csv or parquet"),
        (["-o", "-"], "standard output takes one table's CSV"),
    ],
)
def test_option_mistakes_are_one_line(
    two: Path, tmp_path: Path, args: list[Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("generate", two, *args)
    assert result.exit_code == 2
    assert message in error_line(result)


def test_spec_mistake_names_file_and_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.spec.yaml"
    path.write_text(
        "tables:\n  t:\n    rows: 5\n    columns:\n      total: {formula: 'price ^ 2'}\n", encoding="utf-8"
    )
    line = error_line(invoke("generate", path))
    assert "bad.spec.yaml: tables.t.columns.total.formula" in line
    assert "does not exist" in error_line(invoke("generate", tmp_path / "missing.yaml"))
