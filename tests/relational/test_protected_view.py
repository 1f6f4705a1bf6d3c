"""Joined-view detection seen through value protection: real values the synthetic data withholds on
purpose (behind ``_RARE_``, or replaced outright) are hidden on both sides in the second figure
(``protected_view_auc``), so that it judges what the model learned; the first figure stays as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from mirage.encoding.categorical import RARE_TOKEN
from mirage.evaluation import protected_view, relational_detection
from mirage.schema import DatabaseSchema
from tests.relational.schemas import northwind_database, northwind_frames

Frames = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def real() -> Frames:
    return northwind_frames()


@pytest.fixture(scope="module")
def database(real: Frames) -> DatabaseSchema:
    return northwind_database(real)


def _protected_copy(real: Frames) -> Frames:
    """The real rows with customers' contact titles all withheld, countries shown only when frequent
    and the orders' ship countries replaced by made-up names: what value protection does, on otherwise
    real rows.  (Cities are replaced by Faker's, as personal data: not learned, not in the view.)"""
    synthetic = {name: frame.copy() for name, frame in real.items()}
    customers = synthetic["customers"]
    customers["contact_title"] = RARE_TOKEN
    counts = customers["country"].value_counts()
    customers["country"] = customers["country"].where(customers["country"].map(counts) >= 10, RARE_TOKEN)
    orders = synthetic["orders"]
    orders["ship_country"] = [f"Land {i % 7}" for i in range(len(orders))]
    return synthetic


def test_the_view_hides_withheld_and_replaced_values_on_both_sides(
    database: DatabaseSchema, real: Frames
) -> None:
    synthetic = _protected_copy(real)
    real_view, synthetic_view = protected_view(database, real, synthetic)
    customers = real_view["customers"]
    assert set(customers["contact_title"]) == {RARE_TOKEN}  # withheld entirely: hidden on both sides
    frequent = set(synthetic["customers"]["country"]) - {RARE_TOKEN}
    assert frequent and set(customers["country"]) == frequent | {RARE_TOKEN}
    shown = customers["country"] != RARE_TOKEN
    assert customers["country"][shown].tolist() == real["customers"]["country"][shown].tolist()
    ship = set(real_view["orders"]["ship_country"])
    assert ship == set(synthetic_view["orders"]["ship_country"]) == {RARE_TOKEN}
    region = real["customers"]["region"]  # untouched where nothing is withheld; missing stays missing
    assert customers["region"].isna().equals(region.isna())
    assert real_view["order_details"] is real["order_details"]
    assert real["customers"]["contact_title"].ne(RARE_TOKEN).all()  # the inputs are not written to


def test_protected_view_detection_judges_what_was_learned(database: DatabaseSchema, real: Frames) -> None:
    result = relational_detection(database, real, _protected_copy(real), n_threads=1, folds=3)
    customers = result["per_table"]["customers"]
    assert customers["detection_auc"] > 0.8  # the withheld cities and countries tell the rows apart
    assert customers["protected_view_auc"] < 0.6  # the rest is the real data itself
    assert result["protected_view_auc"] == max(t["protected_view_auc"] for t in result["per_table"].values())
    assert "protected_view_auc" not in relational_detection(
        database, real, real, n_threads=1, folds=3, protected=False
    )


def test_replaced_values_that_meet_a_real_one_by_chance_are_still_hidden(
    database: DatabaseSchema, real: Frames
) -> None:
    # a fake postcode can be a real one: one row of 830 must not show the whole replaced column raw
    synthetic = _protected_copy(real)
    orders = synthetic["orders"]
    orders.loc[orders.index[0], "ship_country"] = real["orders"]["ship_country"].iloc[5]
    real_view, synthetic_view = protected_view(database, real, synthetic)
    assert set(real_view["orders"]["ship_country"]) == {RARE_TOKEN}
    assert set(synthetic_view["orders"]["ship_country"]) == {RARE_TOKEN}
