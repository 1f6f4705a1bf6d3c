"""``mirage sample -o sqlite:///out.db``: a table's model written to a new database table, streamed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.helpers import error_line, invoke
from tests.databases import postgres_server, postgres_url  # noqa: F401


@pytest.fixture(scope="module")
def european_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("european")
    lines = ["kunde;größe;betrag €;datum"]
    lines += [
        f"K{i:04d};1,{50 + i % 40:02d};{i * 37 % 900},{i % 100:02d};{i % 28 + 1:02d}.0{i % 9 + 1}.2024"
        for i in range(300)
    ]
    data = folder / "kunden.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = folder / "kunden.mirage"
    result = invoke("fit", data, "-o", model, "--seed", 1)
    assert result.exit_code == 0, result.output
    return model


def test_a_tables_model_to_sqlite_with_declared_types(european_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    result = invoke("sample", european_model, "-n", 250, "-o", f"sqlite:///{db}", "--seed", 3)
    assert result.exit_code == 0, result.output
    assert "250 rows to table 'kunden'" in result.stdout
    with sqlite3.connect(db) as connection:
        declared = {row[1]: row[2] for row in connection.execute("pragma table_info(kunden)")}
        frame = pd.read_sql("select * from kunden", connection)
    assert declared == {"kunde": "TEXT", "größe": "DOUBLE", "betrag €": "DOUBLE", "datum": "DATE"}
    assert len(frame) == 250
    dates = pd.to_datetime(frame["datum"], format="%Y-%m-%d")
    assert dates.between("2024-01-01", "2024-09-30").all()
    assert frame["größe"].between(1.4, 2.0).all()


def test_same_seed_same_rows_as_a_file(european_model: Path, tmp_path: Path) -> None:
    db, csv = tmp_path / "out.db", tmp_path / "out.csv"
    assert invoke("sample", european_model, "-n", 80, "-o", f"sqlite:///{db}", "--seed", 5).exit_code == 0
    assert invoke("sample", european_model, "-n", 80, "-o", csv, "--seed", 5).exit_code == 0
    with sqlite3.connect(db) as connection:
        stored = pd.read_sql("select * from kunden", connection)
    written = pd.read_csv(csv, sep=";", decimal=",")
    assert stored["kunde"].tolist() == written["kunde"].tolist()
    assert stored["betrag €"].round(2).tolist() == written["betrag €"].round(2).tolist()


def test_refusals_name_the_option(european_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    assert invoke("sample", european_model, "-n", 10, "-o", f"sqlite:///{db}").exit_code == 0
    again = invoke("sample", european_model, "-n", 10, "-o", f"sqlite:///{db}")
    assert again.exit_code != 0 and "pass --force" in error_line(again)
    named = invoke("sample", european_model, "-n", 10, "-o", f"sqlite:///{db}", "--table", "zwei", "--force")
    assert named.exit_code == 0, named.output
    with sqlite3.connect(db) as connection:
        tables = sorted(row[0] for row in connection.execute("select name from sqlite_master"))
    assert tables == ["kunden", "zwei"]
    missing = invoke("sample", european_model, "-n", 10, "-o", f"sqlite:///{tmp_path}/none/out.db")
    assert "folder" in error_line(missing) and "does not exist" in error_line(missing)
    assert "--table" in error_line(invoke("sample", european_model, "-n", 10, "--table", "x"))


def test_a_failed_draw_leaves_no_database(european_model: Path, tmp_path: Path) -> None:
    db = tmp_path / "out.db"
    result = invoke("sample", european_model, "-n", 100, "-o", f"sqlite:///{db}", "--where", "größe > 5")
    assert result.exit_code != 0 and "größe" in error_line(result)
    assert not db.exists()


def test_a_stream_that_fails_midway_changes_nothing(tmp_path: Path) -> None:
    from mirage.io import write_table_chunks
    from mirage.schema import Column, Kind, Schema, Table

    table = Table(name="t", schema=Schema([Column("x", Kind.NUMERIC, dtype="float64")]))

    def chunks(fail: bool) -> Iterator[pd.DataFrame]:
        yield pd.DataFrame({"x": [1.0, 2.0]})
        if fail:
            raise RuntimeError("the draw failed")
        yield pd.DataFrame({"x": [3.0]})

    db = tmp_path / "out.db"
    with pytest.raises(RuntimeError):
        write_table_chunks(f"sqlite:///{db}", table, chunks(fail=True))
    assert not db.exists()
    assert write_table_chunks(f"sqlite:///{db}", table, chunks(fail=False)) == 3
    with pytest.raises(RuntimeError):
        write_table_chunks(f"sqlite:///{db}", table, chunks(fail=True), force=True)
    with sqlite3.connect(db) as connection:
        assert connection.execute("select x from t").fetchall() == [(1.0,), (2.0,), (3.0,)]


def test_a_tables_model_to_postgresql(european_model: Path, postgres_url: str) -> None:  # noqa: F811
    result = invoke("sample", european_model, "-n", 120, "-o", postgres_url, "--seed", 2)
    assert result.exit_code == 0, result.output
    from mirage.io import read_database

    database, frames = read_database(postgres_url)
    frame = frames["kunden"]
    assert len(frame) == 120 and database["kunden"].sql_types["datum"].upper() == "DATE"
    assert pd.api.types.is_datetime64_any_dtype(frame["datum"])
