"""``mirage fit / sample / info / report`` on a whole database, end to end on Northwind: from SQLite,
from PostgreSQL (a real server, tests/databases.py) and from a folder of CSV files; everything written
is read back and must have full referential integrity."""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

import pandas as pd
import pytest

from mirage._warnings import MirageWarning
from mirage.io import read_database, read_folder, write_database
from mirage.relational import RelationalSynthesizer
from tests.cli.helpers import error_line, invoke
from tests.databases import northwind, northwind_schema, postgres_server, postgres_url  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ROOTS = ("customers", "products")


def _sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    write_database(url, northwind_schema(), northwind())
    return url


def _integrity(url_or_folder: str) -> dict[str, pd.DataFrame]:
    if "://" in url_or_folder:
        database, frames = read_database(url_or_folder)
    else:
        frames = read_folder(url_or_folder)
        database = northwind_schema()
    assert database.integrity_problems(frames) == []
    return frames


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("shop")
    url = _sqlite(folder / "shop.db")
    model = folder / "shop.mirage"
    result = invoke("fit", url, "-o", model)
    assert result.exit_code == 0, result.output
    return url, model


def test_fit_a_sqlite_database_prints_a_summary_per_table_and_records_its_source(shop) -> None:
    url, model = shop
    loaded = RelationalSynthesizer.load(model)
    assert loaded.training_["source"] == url  # an absolute path already
    assert set(loaded.engines_) == {"customers", "orders", "order_details", "products"}
    # auto: every table with gmm, its marginals' knots chosen on held-out rows
    assert {engine.name for engine in loaded.engines_.values()} == {"gmm"}
    assert all(engine.quantiles is None for engine in loaded.engines_.values())
    # the summary, from a second fit with a seed and a parameter for every table
    second = model.with_name("second.mirage")
    with warnings.catch_warnings():  # this module ignores UserWarning; these warnings are the point
        warnings.simplefilter("always", MirageWarning)
        result = invoke("fit", url, "-o", second, "--seed", "3", "-p", "max_components=4")
    assert result.exit_code == 0, result.output
    for table in ("customers", "orders", "order_details", "products"):
        assert table in result.stdout
    assert "given" in result.stdout and "matched to" in result.stdout
    # customers (91) and products (77): under 100 learned rows, named with the way out
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any(
        line.startswith("warning: table 'products': 77 rows learned; a table under 100") for line in warned
    ), result.stderr
    again = RelationalSynthesizer.load(second)
    assert again.seed == 3 and again.params == {"max_components": 4}
    assert all(engine.quantiles is None for engine in again.engines_.values())  # the database's default
    assert invoke("fit", url, "-o", second).exit_code != 0  # no overwrite without --force
    assert "--force" in error_line(invoke("fit", url, "-o", second))
    assert invoke("fit", url, "-o", second, "--force").exit_code == 0


def test_fit_names_the_choice_an_engine_makes_on_held_out_rows_in_a_database(shop, tmp_path: Path) -> None:
    url, _ = shop
    for engine, note in (
        ("gmm", "knots chosen on held-out rows"),
        ("bayesnet", "bins chosen on held-out rows"),
    ):
        result = invoke("fit", url, "-o", tmp_path / f"{engine}.mirage", "--engine", engine)
        assert result.exit_code == 0, result.output
        assert f"{engine} ({note})" in result.stdout
    result = invoke("fit", url, "-o", tmp_path / "pinned.mirage", "--engine", "bayesnet", "-p", "sub_bins=4")
    assert result.exit_code == 0, result.output
    assert "bins chosen" not in result.stdout
    assert all(
        e.sub_bins == 4 for e in RelationalSynthesizer.load(tmp_path / "pinned.mirage").engines_.values()
    )


def test_sample_twice_as_many_root_rows_into_a_new_sqlite_database(shop, tmp_path: Path) -> None:
    url, model = shop
    target = f"sqlite:///{tmp_path / 'synthetic_shop.db'}"
    result = invoke("sample", model, "--scale", "2.0", "-o", target, "--seed", "1")
    assert result.exit_code == 0, result.output
    frames = _integrity(target)
    real = northwind()
    for table in ROOTS:
        assert len(frames[table]) == 2 * len(real[table])
    # the database itself enforces the keys: same DDL, foreign keys declared
    with sqlite3.connect(tmp_path / "synthetic_shop.db") as connection:
        declared = connection.execute("PRAGMA foreign_key_list(order_details)").fetchall()
    assert {row[2] for row in declared} == {"orders", "products"}
    # a target with tables is refused unless --force; the source always
    line = error_line(invoke("sample", model, "-o", target, "--seed", "1"))
    assert "already has tables" in line and "--force" in line
    assert invoke("sample", model, "-o", target, "--seed", "2", "--force").exit_code == 0
    _integrity(target)
    line = error_line(invoke("sample", model, "-o", url, "--force"))
    assert "is the database the model learned" in line


def test_same_seed_same_database(shop, tmp_path: Path) -> None:
    _, model = shop
    first, second = tmp_path / "a", tmp_path / "b"
    assert invoke("sample", model, "-o", first, "--seed", "5").exit_code == 0
    assert invoke("sample", model, "-o", second, "--seed", "5").exit_code == 0
    for name in ("customers", "orders", "order_details", "products"):
        assert (first / f"{name}.csv").read_bytes() == (second / f"{name}.csv").read_bytes()


def test_sample_a_database_model_into_folders_of_csv_and_parquet(shop, tmp_path: Path) -> None:
    _, model = shop
    csv_folder = tmp_path / "synthetic_shop"
    result = invoke("sample", model, "-o", csv_folder, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in csv_folder.iterdir()) == [
        "customers.csv",
        "order_details.csv",
        "orders.csv",
        "products.csv",
    ]
    _integrity(str(csv_folder))
    parquet_folder = tmp_path / "parquet"
    assert invoke("sample", model, "-o", parquet_folder, "--format", "parquet").exit_code == 0
    assert len(list(parquet_folder.glob("*.parquet"))) == 4
    _integrity(str(parquet_folder))
    line = error_line(invoke("sample", model, "-o", csv_folder))
    assert "already exists" in line and "--force" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "10", "-o", "x"], "--rows does not apply; pass --scale"),
        ([], "pass -o sqlite:///synthetic.db"),
        (["-o", "sqlite:///x.db", "--format", "csv"], "--format applies to a folder output"),
        (["-o", "out", "--format", "xlsx"], "--format must be csv or parquet"),
        (["-o", "out", "--scale", "0"], "--scale must be a positive number"),
    ],
)
def test_sample_options_that_do_not_fit_a_database_model(shop, tmp_path: Path, args, message) -> None:
    _, model = shop
    result = invoke("sample", model, *args)
    assert result.exit_code != 0
    assert message in error_line(result)


def test_scale_and_format_are_refused_for_a_table_model(model_path: Path, tmp_path: Path) -> None:
    line = error_line(invoke("sample", model_path, "-n", "5", "--scale", "2"))
    assert "--scale applies to a database's model" in line
    assert "give --rows N" in error_line(invoke("sample", model_path, "-o", tmp_path / "x.csv"))


def test_info_shows_the_tables_and_exits_zero(shop) -> None:
    url, model = shop
    result = invoke("info", model)
    assert result.exit_code == 0, result.output
    assert "relational (4 tables, 3 foreign keys)" in result.stdout
    assert url in result.stdout
    assert "gmm given each customers row" in result.stdout
    assert "none (fitted on all rows)" in result.stdout
    assert "customers (91 rows learned), products (77 rows learned): under 100 rows" in " ".join(
        result.stdout.split()
    )


def test_report_without_holdout_scores_every_table_and_the_relations(shop, tmp_path: Path) -> None:
    _, model = shop
    html = tmp_path / "shop_report.html"
    result = invoke("report", model, "-o", html, "--fail-under", "referential_integrity=1.0")
    assert result.exit_code == 0, result.output
    data = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["summary"]["referential_integrity"] == 1.0
    assert 0.5 <= data["summary"]["joined_detection_auc"] <= 1.0
    assert set(data["tables"]) == {"customers", "orders", "order_details", "products"}
    assert data["summary"]["joined_dcr_share"] is None
    assert any("without a holdout" in note for note in data["notes"])
    assert "Children per parent" in html.read_text(encoding="utf-8")
    failed = invoke(
        "report", model, "-o", tmp_path / "r2.html", "--fail-under", "cardinality_similarity=1.01"
    )
    assert failed.exit_code == 1
    assert "gate failed: cardinality_similarity" in failed.stderr
    line = error_line(invoke("report", model, "-o", tmp_path / "r3.html", "--fail-over", "nonsense=1"))
    assert "unknown score 'nonsense'" in line


def test_report_reads_the_data_from_where_it_moved(shop, tmp_path: Path) -> None:
    url, model = shop
    moved = tmp_path / "moved.db"
    moved.write_bytes(Path(url.removeprefix("sqlite:///")).read_bytes())
    copy = tmp_path / "copy.mirage"
    copy.write_bytes(model.read_bytes())
    result = invoke("report", copy, "-o", tmp_path / "r.html", "--data", f"sqlite:///{moved}")
    assert result.exit_code == 0, result.output


def test_fit_sample_report_from_a_folder_with_an_edited_schema(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in northwind().items():
        frame.to_csv(data / f"{name}.csv", index=False)
    schema = tmp_path / "shop.schema.json"
    assert invoke("schema", data, "-o", schema).exit_code == 0
    model = tmp_path / "shop.mirage"
    result = invoke("fit", data, "--schema", schema, "-o", model, "--holdout", "0.2")
    assert result.exit_code == 0, result.output
    assert "held out" in result.stdout
    out = tmp_path / "synthetic_shop"
    assert invoke("sample", model, "-o", out, "--seed", "0").exit_code == 0
    _integrity(str(out))
    line = error_line(invoke("sample", model, "-o", data, "--force"))
    assert "is the folder the model learned" in line
    report = tmp_path / "report.html"
    result = invoke("report", model, "-o", report)
    assert result.exit_code == 0, result.output
    summary = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))["summary"]
    assert summary["referential_integrity"] == 1.0
    assert summary["orders.dcr_share"] is not None and summary["joined_dcr_share"] is not None


def test_fit_from_postgresql_and_sample_into_sqlite(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    write_database(postgres_url, northwind_schema(), northwind())
    model = tmp_path / "shop.mirage"
    result = invoke("fit", postgres_url, "-o", model)
    assert result.exit_code == 0, result.output
    target = f"sqlite:///{tmp_path / 'synthetic.db'}"
    assert invoke("sample", model, "-o", target, "--seed", "0").exit_code == 0
    _integrity(target)
    assert "is the database the model learned" in error_line(invoke("sample", model, "-o", postgres_url))
    html = tmp_path / "report.html"
    result = invoke("report", model, "-o", html, "--fail-under", "referential_integrity=1.0")
    assert result.exit_code == 0, result.output
    summary = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))["summary"]
    assert summary["referential_integrity"] == 1.0


def test_sample_from_sqlite_into_postgresql(shop, postgres_url: str) -> None:  # noqa: F811
    _, model = shop
    result = invoke("sample", model, "--scale", "2.0", "-o", postgres_url, "--seed", "4")
    assert result.exit_code == 0, result.output
    frames = _integrity(postgres_url)
    assert len(frames["customers"]) == 2 * len(northwind()["customers"])
    assert "already has tables" in error_line(invoke("sample", model, "-o", postgres_url))
