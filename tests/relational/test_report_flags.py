"""The database report says what a user would otherwise miss: a column that came out all ``_RARE_``
(value protection withheld every value), and reference tables copied on purpose, named and kept out of
the no-copy gates explicitly; every test checks integrity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage._warnings import MirageWarning
from mirage.evaluation._relational_report import (
    DatabaseReport,
    all_rare_columns,
    all_rare_notes,
    evaluate_database,
)
from mirage.relational import RelationalSynthesizer, small_table_message
from mirage.schema import DatabaseSchema, ForeignKey, Table, infer_schema
from tests.relational.test_reference import _database, _frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def fitted() -> RelationalSynthesizer:
    frames = _frames()
    return RelationalSynthesizer(_database(frames), seed=0).fit(frames, holdout=0.2, split_seed=0)


def test_the_sampled_city_and_ship_city_are_all_rare_and_flagged(fitted: RelationalSynthesizer) -> None:
    synthetic = fitted.sample(seed=0)
    assert fitted.database.integrity_problems(synthetic) == []
    # 73 learned customers: no title or country clears rare_min_count and its small-table margin
    # (cities are mostly rare names: replaced by Faker's, as personal data)
    assert all_rare_columns(fitted.database, synthetic) == {
        "customers": ["contact_title", "region", "country"],
        "orders": ["ship_region", "ship_country"],
    }
    assert all_rare_notes(fitted.database, synthetic)[1] == (
        "table 'customers': column 'region' came out all _RARE_ (every value is rarer than rare_min_count in "
        "the learned rows, or on a small table than rare_min_count and a margin, so value protection "
        "withheld them all); a lower rare_min_count keeps more values, at a cost in privacy"
    )


@pytest.fixture(scope="module")
def report() -> DatabaseReport:
    frames = _frames()
    database = _database(frames)
    model = RelationalSynthesizer(database, seed=0).fit(frames, holdout=0.2, split_seed=0)
    assert database.integrity_problems(model.sample(seed=0)) == []
    return evaluate_database(model, frames, seed=0, detection=False)


@pytest.mark.slow
def test_a_column_that_came_out_all_rare_is_flagged(report: DatabaseReport) -> None:
    assert report.summary()["referential_integrity"] == 1.0
    # 18 regions in 91 customers: each rarer than rare_min_count (10); no title or country clears it
    # with the small-table margin; the ship columns follow (cities are Faker's, as personal data)
    assert report.meta["all_rare_columns"] == {
        "customers": ["contact_title", "region", "country"],
        "orders": ["ship_region", "ship_country"],
    }
    lines = [n for n in report.notes if "came out all _RARE_" in n]
    assert any("table 'customers': column 'region'" in n and "lower rare_min_count" in n for n in lines)
    assert report.to_dict()["meta"]["all_rare_columns"]["customers"] == ["contact_title", "region", "country"]
    assert "came out all _RARE_" in report.to_html()


def test_all_rare_columns_sees_only_columns_with_nothing_but_the_token() -> None:
    frames = _frames()
    database = _database(frames)
    assert all_rare_columns(database, frames) == {}
    some = {**frames, "customers": frames["customers"].assign(country="_RARE_")}
    some["customers"].loc[0, "country"] = None  # a null is no value withheld
    assert all_rare_columns(database, some) == {"customers": ["country"]}
    some["customers"].loc[1, "country"] = "Germany"
    assert all_rare_columns(database, some) == {}
    assert database.integrity_problems(some) == []


@pytest.mark.slow
def test_reference_tables_are_named_and_kept_out_of_the_no_copy_gates(report: DatabaseReport) -> None:
    assert report.summary()["referential_integrity"] == 1.0
    assert report.meta["reference_tables"] == ["shippers", "categories"]
    for table in ("shippers", "categories"):
        assert any(
            n.startswith(f"table {table!r}: reference data") and "excluded from the privacy gates" in n
            for n in report.notes
        )
        assert table not in report.tables
    worst = max(
        r.scores["dcr_share"] for r in report.tables.values() if r.scores.get("dcr_share") is not None
    )
    assert report.value("dcr_share", "over") == worst  # over the learned tables only
    failures = report.check(fail_over={"shippers.dcr_share": 0.53})
    assert failures == [
        "shippers.dcr_share: table 'shippers' is reference data, copied as is on purpose, and has no scores; "
        "remove the gate, or unmark the table to learn it"
    ]
    assert isinstance(pd.DataFrame(report.summary(), index=[0]), pd.DataFrame)


def test_a_learned_table_under_a_hundred_rows_is_recorded_and_named_in_the_report(
    fitted: RelationalSynthesizer, report: DatabaseReport
) -> None:
    # 91 customers (73 learned) and 77 products (none held: the holdout takes customers' families);
    # the reference tables are copied, not learned
    assert fitted.training_["small_tables"] == {"customers": 73, "products": 77}
    assert small_table_message("customers", 73) in report.notes
    assert small_table_message("products", 77) in report.notes
    assert not any("'shippers'" in note and "rows learned" in note for note in report.notes)


def test_fitting_a_small_table_warns_naming_it_and_its_rows() -> None:
    rng = np.random.default_rng(0)
    frames = {
        "root": pd.DataFrame({"root_id": range(40), "size": rng.normal(size=40)}),
        "child": pd.DataFrame(
            {"child_id": range(400), "root_id": rng.integers(0, 40, 400), "value": rng.normal(size=400)}
        ),
    }
    database = DatabaseSchema(
        tables={
            "root": Table("root", infer_schema(frames["root"]), primary_key=("root_id",)),
            "child": Table("child", infer_schema(frames["child"]), primary_key=("child_id",)),
        },
        foreign_keys=[ForeignKey("child", ("root_id",), "root", ("root_id",))],
    )
    with pytest.warns(MirageWarning, match=r"table 'root': 40 rows learned; a table under 100 rows"):
        model = RelationalSynthesizer(database, engine="cart", seed=0).fit(frames)
    assert model.training_["small_tables"] == {"root": 40}
    assert database.integrity_problems(model.sample(seed=0)) == []
