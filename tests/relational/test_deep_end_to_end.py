"""``mirage fit / sample / report`` end to end on the deeper database (depth 4, a table with two parents,
a self-reference, a nullable second parent): from SQLite into PostgreSQL, from PostgreSQL into SQLite,
and from a folder of CSV files with its schema into a folder.  Northwind's paths are in
tests/cli/test_database_commands.py.  Every database is a real one (PostgreSQL: tests/databases.py);
everything written is read back and must have full referential integrity, with the source's foreign
keys declared in the written DDL.  Slow (about a minute each on 2 loaded cores): the second CI step."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mirage.io import read_database, read_folder, write_database
from mirage.relational import RelationalSynthesizer
from mirage.schema import DatabaseSchema
from tests.cli.helpers import invoke
from tests.databases import postgres_server, postgres_url  # noqa: F401
from tests.relational.schemas import deep_database, deep_frames

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]


def _keys(database: DatabaseSchema) -> set[tuple[str, tuple[str, ...], str, tuple[str, ...]]]:
    return {(fk.child, fk.columns, fk.parent, fk.parent_columns) for fk in database.foreign_keys}


def _read_back(url: str, source: DatabaseSchema) -> dict[str, pd.DataFrame]:
    """The written database, with full integrity and the source's keys declared in its DDL."""
    written, frames = read_database(url)
    assert _keys(written) == _keys(source)
    assert {name: written[name].primary_key for name in written.tables} == {
        name: source[name].primary_key for name in source.tables
    }
    assert written.integrity_problems(frames) == []
    assert source.integrity_problems(frames) == []
    return frames


def _learned_rows(model: Path) -> dict[str, int]:
    """How many rows of each table the model learned (the source's less its holdout)."""
    training = RelationalSynthesizer.load(model).training_
    held = training.get("holdout_rows", {})
    return {name: rows - held.get(name, 0) for name, rows in training["source_rows"].items()}


def _shape_kept(frames: dict[str, pd.DataFrame], learned: dict[str, int]) -> None:
    """Every table drawn, at depth 4 too, about as large as learned (the roots' children vary with
    the roots drawn); directors (no manager) and unserved visits kept."""
    for name, rows in learned.items():
        assert 0.5 * rows < len(frames[name]) < 1.5 * rows, name
    assert frames["employees"]["reports_to"].isna().any()
    assert frames["employees"]["reports_to"].notna().any()
    assert frames["visits"]["served_by"].isna().any()


def _report(model: Path, out: Path, *extra: str) -> dict[str, object]:
    result = invoke("report", model, "-o", out, "--fail-under", "referential_integrity=1.0", *extra)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["summary"]
    assert summary["referential_integrity"] == 1.0
    assert 0.5 <= summary["joined_detection_auc"] <= 1.0
    assert summary["cardinality_min"] >= 0.8
    return dict(summary)


@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    return deep_frames()


def test_deep_database_from_sqlite_into_postgresql(real, tmp_path: Path, postgres_url: str) -> None:  # noqa: F811
    database = deep_database(real)
    source = f"sqlite:///{tmp_path / 'deep.db'}"
    write_database(source, database, real)
    model = tmp_path / "deep.mirage"
    result = invoke("fit", source, "-o", model)
    assert result.exit_code == 0, result.output
    result = invoke("sample", model, "-o", postgres_url, "--seed", "2")
    assert result.exit_code == 0, result.output
    _shape_kept(_read_back(postgres_url, database), {n: len(f) for n, f in real.items()})
    _report(model, tmp_path / "report.html")


def test_deep_database_from_postgresql_into_sqlite(real, tmp_path: Path, postgres_url: str) -> None:  # noqa: F811
    database = deep_database(real)
    write_database(postgres_url, database, real)
    model = tmp_path / "deep.mirage"
    result = invoke("fit", postgres_url, "-o", model, "--holdout", "0.2")
    assert result.exit_code == 0, result.output
    target = f"sqlite:///{tmp_path / 'synthetic.db'}"
    result = invoke("sample", model, "-o", target, "--seed", "0")
    assert result.exit_code == 0, result.output
    _shape_kept(_read_back(target, database), _learned_rows(model))
    summary = _report(model, tmp_path / "report.html")
    assert summary["visits.dcr_share"] is not None and summary["joined_dcr_share"] is not None


def test_deep_database_from_a_folder_into_a_folder(real, tmp_path: Path) -> None:
    database = deep_database(real)
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in real.items():
        frame.to_csv(data / f"{name}.csv", index=False)
    schema = tmp_path / "deep.schema.json"
    schema.write_text(database.to_json(), encoding="utf-8")
    model = tmp_path / "deep.mirage"
    result = invoke("fit", data, "--schema", schema, "-o", model)
    assert result.exit_code == 0, result.output
    out = tmp_path / "synthetic"
    result = invoke("sample", model, "-o", out, "--seed", "1")
    assert result.exit_code == 0, result.output
    frames = read_folder(out)
    assert set(frames) == set(real)
    assert database.integrity_problems(frames) == []
    _shape_kept(frames, {n: len(f) for n, f in real.items()})
    _report(model, tmp_path / "report.html")
