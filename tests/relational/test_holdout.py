"""A database's holdout: whole families kept aside, the learned part with full integrity, the same split
whatever order the rows were read in."""

from __future__ import annotations

import pandas as pd
import pytest

from mirage.errors import OptionError
from mirage.relational import split_database
from tests.relational.schemas import deep_database, deep_frames, northwind_database, northwind_frames

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_northwind_holds_customers_with_their_orders_and_lines_and_keeps_products_whole() -> None:
    frames = northwind_frames()
    database = northwind_database(frames)
    train, held = split_database(database, frames, 0.2, seed=1)
    assert database.integrity_problems(train) == []
    assert len(held["customers"]) == round(0.2 * len(frames["customers"]))
    assert len(held["products"]) == 0 and len(train["products"]) == len(frames["products"])
    held_customers = set(held["customers"]["customer_id"])
    assert set(held["orders"]["customer_id"]) <= held_customers
    assert not set(train["orders"]["customer_id"]) & held_customers
    assert set(held["order_details"]["order_id"]) == set(held["orders"]["order_id"])
    for name, frame in frames.items():
        assert len(train[name]) + len(held[name]) == len(frame)


def test_the_split_depends_on_the_keys_not_on_the_row_order() -> None:
    frames = northwind_frames()
    database = northwind_database(frames)
    shuffled = {name: frame.sample(frac=1.0, random_state=3) for name, frame in frames.items()}
    _, held = split_database(database, frames, 0.25, seed=7)
    _, again = split_database(database, shuffled, 0.25, seed=7)
    for name in frames:
        key = list(database[name].primary_key)
        a = held[name].sort_values(key).reset_index(drop=True)
        b = again[name].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_a_deep_database_keeps_integrity_through_self_references_and_second_parents() -> None:
    frames = deep_frames()
    database = deep_database(frames)
    train, held = split_database(database, frames, 0.3, seed=0)
    assert database.integrity_problems(train) == []
    assert all(len(held[name]) > 0 for name in ("visits", "purchases"))


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, True, "0.2"])
def test_a_fraction_outside_zero_and_one_is_refused(fraction) -> None:
    frames = northwind_frames()
    with pytest.raises(OptionError, match="holdout must be a fraction"):
        split_database(northwind_database(frames), frames, fraction)
