"""The database report says what a user would otherwise miss: a column that came out all ``_RARE_``
(value protection withheld every value), and reference tables copied on purpose, named and kept out of
the no-copy gates explicitly; every test checks integrity."""

from __future__ import annotations

import pandas as pd
import pytest

from mirage.evaluation._relational_report import (
    DatabaseReport,
    all_rare_columns,
    all_rare_notes,
    evaluate_database,
)
from mirage.relational import RelationalSynthesizer
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
