"""``reduce(stats, *, budget=None, public=None)``: public bounds and domains replace what the data shows;
a privacy budget is refused by the codecs of generated columns (``test_private_reduce.py``: the others)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions, PrivacyBudget, PublicBounds, TableEncoder, codec_for
from mirage.errors import OptionError
from mirage.privacy import Ledger
from mirage.schema import Column, Kind, Schema


def _codec(column: Column) -> Any:
    return codec_for(column, EncodingOptions())


LEDGER = Ledger(1.0, 1e-9)
AGES = pd.Series([23.0, 35.0, 41.0, None, 58.0, 62.0] * 20, name="age")


def test_public_bounds_replace_the_datas_extremes() -> None:
    codec = _codec(Column("age", Kind.NUMERIC, dtype="float64"))
    codec.reduce([codec.analyze(AGES)], public=PublicBounds(0, 120))
    assert (codec.minimum, codec.maximum) == (0.0, 120.0)
    parts = codec.encode(AGES)
    parts["age::value"] = np.linspace(-50.0, 200.0, len(AGES))
    decoded = codec.decode(parts, len(AGES), np.random.default_rng(0), 0).dropna()
    assert decoded.between(0.0, 120.0).all()
    assert decoded.min() < 23.0 and decoded.max() > 62.0  # the public range, not the data's


def test_without_public_bounds_the_columns_declared_ones_are_used() -> None:
    column = Column("age", Kind.NUMERIC, dtype="float64", minimum=18.0, maximum=99.0)
    default, explicit = _codec(column), _codec(column)
    default.reduce([default.analyze(AGES)])
    explicit.reduce([explicit.analyze(AGES)], public=PublicBounds.from_column(column))
    assert default.get_state()[0] == explicit.get_state()[0]
    assert (default.minimum, default.maximum) == (18.0, 99.0)


def test_one_public_bound_leaves_the_other_to_the_data() -> None:
    codec = _codec(Column("age", Kind.NUMERIC, dtype="float64"))
    codec.reduce([codec.analyze(AGES)], public=PublicBounds(minimum=0))
    assert (codec.minimum, codec.maximum) == (0.0, 62.0)


def test_public_bounds_merge_like_the_whole() -> None:
    column = Column("age", Kind.NUMERIC, dtype="float64")
    whole, merged = _codec(column), _codec(column)
    public = PublicBounds(0, 120)
    whole.reduce([whole.analyze(AGES)], public=public)
    merged.reduce([merged.analyze(AGES.iloc[:50]), merged.analyze(AGES.iloc[50:])], public=public)
    assert whole.get_state()[0] == merged.get_state()[0]


def test_public_datetime_bounds() -> None:
    stamps = pd.Series(pd.date_range("2024-03-01", periods=30, freq="D"), name="day")
    codec = _codec(Column("day", Kind.DATETIME, dtype="datetime64[ns]"))
    public = PublicBounds("2024-01-01", pd.Timestamp("2024-12-31T00:00:00+00:00"))
    codec.reduce([codec.analyze(stamps)], public=public)
    parts = codec.encode(stamps)
    parts["day::value"] = np.linspace(0.0, 2e9, len(stamps))
    decoded = codec.decode(parts, len(stamps), np.random.default_rng(0), 0)
    low, high = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31")
    assert codec.minimum == low.timestamp() and codec.maximum == high.timestamp()
    assert decoded.between(low, high).all()
    assert decoded.min() < stamps.min() and decoded.max() > stamps.max()
    with pytest.raises(OptionError, match=r"'day'.*'soon' is not a datetime"):
        codec.reduce([codec.analyze(stamps)], public=PublicBounds(maximum="soon"))


def test_a_public_domain_is_the_categories_with_none_rare() -> None:
    colours = pd.Series(["red"] * 50 + ["green"] * 3 + [None] * 2, name="colour", dtype=object)
    codec = _codec(Column("colour", Kind.CATEGORICAL))
    codec.reduce([codec.analyze(colours)], public=PublicBounds(categories=("red", "green", "blue")))
    assert codec.categories == ["red", "green", "blue"]
    assert codec.counts == [50, 3, 0]
    plain = _codec(Column("colour", Kind.CATEGORICAL))
    plain.fit(colours)
    assert plain.categories == ["red", "_RARE_"]


@pytest.mark.parametrize("kind", [Kind.IDENTIFIER, Kind.TEXT])
def test_a_generated_column_refuses_a_budget(kind: Kind) -> None:
    codec = _codec(Column("key", kind))
    with pytest.raises(
        OptionError, match=rf"column 'key': budget: a {kind.value} column is generated, never"
    ):
        codec.reduce([codec.analyze(pd.Series(["a", "b"]))], budget=PrivacyBudget(1.0, Ledger(1.0, 1e-9)))


@pytest.mark.parametrize(
    ("column", "public", "field"),
    [
        (Column("age", Kind.NUMERIC), PublicBounds(categories=("a",)), "categories"),
        (Column("flag", Kind.BOOLEAN), PublicBounds(categories=(True,)), "categories"),
        (Column("key", Kind.IDENTIFIER), PublicBounds(minimum=1), "minimum"),
        (Column("note", Kind.TEXT), PublicBounds(maximum=10), "maximum"),
        (Column("colour", Kind.CATEGORICAL), PublicBounds(0, 1), "minimum"),
    ],
)
def test_public_knowledge_that_does_not_apply_is_a_clear_error(
    column: Column, public: PublicBounds, field: str
) -> None:
    codec = _codec(column)
    stats = codec.analyze(pd.Series([1, 0, 1], name=column.name))
    with pytest.raises(OptionError, match=rf"column {column.name!r}: public\.{field} does not apply"):
        codec.reduce([stats], public=public)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PrivacyBudget(0.0, LEDGER), r"budget\.rho: expected a finite number > 0, got 0\.0"),
        (lambda: PrivacyBudget(float("inf"), LEDGER), r"budget\.rho"),
        (lambda: PrivacyBudget(1.0, LEDGER, delta=1.0), r"budget\.delta: expected a number in \[0, 1\)"),
        (lambda: PrivacyBudget(1.0, "ledger"), r"budget\.ledger: expected a Ledger, got str"),  # type: ignore[arg-type]
        (lambda: PublicBounds(5, 1), r"public\.minimum 5 is greater than public\.maximum 1"),
    ],
)
def test_bad_privacy_options_are_clear_errors(make: Callable[[], object], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        make()


def test_numeric_public_bounds_must_be_numbers() -> None:
    codec = _codec(Column("age", Kind.NUMERIC, dtype="float64"))
    with pytest.raises(OptionError, match=r"column 'age': public bounds of a number must be finite"):
        codec.reduce([codec.analyze(AGES)], public=PublicBounds(minimum="zero"))


def test_the_table_encoder_passes_public_bounds_by_column_and_names_unknown_ones() -> None:
    frame = pd.DataFrame({"age": AGES, "colour": ["red", "blue"] * 60})
    schema = Schema([Column("age", Kind.NUMERIC, dtype="float64"), Column("colour", Kind.CATEGORICAL)])
    encoder = TableEncoder(schema)
    encoder.reduce([encoder.analyze(frame)], public={"age": PublicBounds(0, 120)})
    assert encoder.codecs[0].get_state()[0]["maximum"] == 120.0
    with pytest.raises(OptionError, match=r"public: the schema has no column 'height'"):
        encoder.reduce([encoder.analyze(frame)], public={"height": PublicBounds(0, 3)})
    with pytest.raises(OptionError, match=r"budgets: the schema has no column 'x'"):
        encoder.reduce([encoder.analyze(frame)], budgets={"x": PrivacyBudget(1.0, LEDGER)})
