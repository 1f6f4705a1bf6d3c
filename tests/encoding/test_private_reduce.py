"""``reduce(stats, budget=PrivacyBudget(...))``: the codec releases its domain from noisy counts, charges
each measurement on the budget's ledger, and learns only from what it released."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions, PrivacyBudget, PublicBounds, TableEncoder, codec_for
from mirage.encoding.categorical import RARE_TOKEN
from mirage.errors import DataError, OptionError
from mirage.privacy import Ledger
from mirage.schema import Column, Kind, Schema

pytest.importorskip("opendp")

RNG = np.random.default_rng(0)
AMOUNTS = pd.Series(np.round(RNG.gamma(2.0, 40.0, 5000), 2), name="amount")
AMOUNTS[7], AMOUNTS[8] = 987_654.321, -3.14159  # one row each, far from the rest


def _codec(column: Column, **options: Any) -> Any:
    return codec_for(column, EncodingOptions(**options))


def _budget(epsilon: float = 1000.0, rho: float = 100.0, rows: float | None = None) -> PrivacyBudget:
    return PrivacyBudget(rho, Ledger(epsilon, 1e-9), delta=1e-10, rows=rows)


def test_a_numbers_range_is_released_inside_the_data_and_charged() -> None:
    codec = _codec(Column("amount", Kind.NUMERIC, dtype="float64"))
    budget = _budget()
    codec.reduce([codec.analyze(AMOUNTS)], budget=budget)
    state = json.dumps(codec.get_state()[0])
    assert AMOUNTS.min() < codec.minimum < codec.maximum < AMOUNTS.max()
    assert "987654" not in state and "3.14159" not in state
    assert codec.maximum < 1000.0  # one far row cannot pass the threshold
    assert [e.what for e in budget.ledger.entries] == ["range of amount"]
    assert budget.ledger.entries[0].rho == 100.0 and not codec.missing.present


def test_partitions_reduce_to_the_release_of_the_whole_column() -> None:
    """Same released domain from the merged stats of partitions as from the whole column (the ledger
    charges once): at this budget the noise cannot move a bucket across the threshold."""
    whole, parts = (_codec(Column("amount", Kind.NUMERIC, dtype="float64")) for _ in range(2))
    whole.reduce([whole.analyze(AMOUNTS)], budget=_budget(rho=700.0))
    budget = _budget(rho=700.0)
    parts.reduce([parts.analyze(AMOUNTS[:2000]), parts.analyze(AMOUNTS[2000:])], budget=budget)
    assert (parts.minimum, parts.maximum) == (whole.minimum, whole.maximum)
    assert len(budget.ledger.entries) == 1


def test_declared_bounds_cost_nothing_and_the_codec_still_reads_no_value() -> None:
    codec = _codec(Column("amount", Kind.NUMERIC, dtype="float64", nullable=True))
    budget = _budget()
    codec.reduce([codec.analyze(AMOUNTS)], budget=budget, public=PublicBounds(0.0, 500.0))
    assert (codec.minimum, codec.maximum) == (0.0, 500.0) and budget.ledger.entries == []
    assert codec.missing.present  # nullable (public) says it may be missing
    assert codec.fill == pytest.approx(250.0, abs=10.0)  # the grid's middle, not the data's median


def test_a_small_noisy_row_count_takes_ranges_on_powers_of_two() -> None:
    codec = _codec(Column("amount", Kind.NUMERIC, dtype="float64"))
    codec.reduce([codec.analyze(AMOUNTS)], budget=_budget(rows=10.0))  # under 1,000 per deviation
    assert np.log2(codec.maximum) == np.round(np.log2(codec.maximum))  # an edge of the coarse grid


def test_categories_below_the_rare_count_are_never_released() -> None:
    cities = pd.Series(["Lyon"] * 300 + ["Paris"] * 200 + ["Zanzibar"] * 5 + [None] * 40, name="city")
    codec = _codec(Column("city", Kind.CATEGORICAL))
    budget = _budget()
    codec.reduce([codec.analyze(cities)], budget=budget)
    assert codec.categories[:2] == ["Lyon", "Paris"] and "Zanzibar" not in codec.categories
    # sigma 0.07: 5 rows fall short of the rare count's cut (10), and pass the one-row cut of rare rows
    assert RARE_TOKEN in codec.categories and codec.missing.present
    assert [e.what for e in budget.ledger.entries] == ["categories of city", "rare rows of city"]
    assert [e.rho for e in budget.ledger.entries] == [75.0, 25.0]


def test_categories_that_cannot_be_rare_spend_the_whole_share_on_their_release() -> None:
    """A column of numbers (or booleans) has no rare token, so nothing counts the rows outside its
    categories: its whole rho measures them (half of it was left unspent)."""
    codes = pd.Series([1] * 300 + [2] * 200 + [3] * 5, name="grade", dtype="int64")
    codec = _codec(Column("grade", Kind.CATEGORICAL, dtype="int64"))
    budget = _budget()
    codec.reduce([codec.analyze(codes)], budget=budget)
    assert codec.categories == [1, 2]
    assert [(e.what, e.rho) for e in budget.ledger.entries] == [("categories of grade", 100.0)]
    assert budget.ledger.delta_spent == pytest.approx(1e-10)
    assert codec.counts[0] == codec.counts[1]  # public cells: the data's counts stay out


def test_no_category_released_from_a_number_column_is_a_clear_error() -> None:
    codes = pd.Series(np.arange(50) % 25, name="code", dtype="int64")  # 2 rows each
    codec = _codec(Column("code", Kind.CATEGORICAL, dtype="int64"))
    with pytest.raises(DataError, match=r"column 'code': no category is frequent enough to be released"):
        codec.reduce([codec.analyze(codes)], budget=_budget())


def test_booleans_are_public_and_free() -> None:
    codec = _codec(Column("member", Kind.BOOLEAN, dtype="bool"))
    budget = _budget()
    codec.reduce([codec.analyze(pd.Series([True] * 90 + [False] * 10, name="member"))], budget=budget)
    assert codec.categories == [False, True] and codec.counts[0] == codec.counts[1]
    assert budget.ledger.entries == []


def test_whole_days_are_measured_not_read() -> None:
    days = pd.Series(pd.date_range("2020-01-01", periods=3000, freq="D"), name="day")
    codec = _codec(Column("day", Kind.DATETIME, dtype="datetime64[ns]"))
    budget = _budget()
    codec.reduce([codec.analyze(days)], budget=budget)
    assert codec.unit == "D" and codec.time_of_day is None
    assert [e.what for e in budget.ledger.entries] == ["range of day", "times of day of day"]
    assert pd.Timestamp("2020-01-01") <= pd.Timestamp(codec.minimum, unit="s")


def test_a_sketch_cannot_give_a_private_range() -> None:
    codec = _codec(Column("amount", Kind.NUMERIC, dtype="float64"), exact_values_limit=100)
    with pytest.raises(OptionError, match=r"column 'amount': budget: its values were summarised by a sketch"):
        codec.reduce([codec.analyze(AMOUNTS)], budget=_budget())


def test_the_table_encoder_passes_each_column_its_budget() -> None:
    frame = pd.DataFrame({"amount": AMOUNTS, "member": AMOUNTS > 50})
    schema = Schema([Column("amount", Kind.NUMERIC, dtype="float64"), Column("member", Kind.BOOLEAN)])
    budget = _budget()
    encoder = TableEncoder(schema)
    encoder.reduce([encoder.analyze(frame)], budgets={"amount": budget, "member": budget})
    assert [e.what for e in budget.ledger.entries] == ["range of amount"]
    assert encoder.codecs[0].maximum < AMOUNTS.max()
