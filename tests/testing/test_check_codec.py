"""The public codec conformance suite (``mirage.testing.check_codec``): built-in codecs pass it on any
column, and each check catches a codec that breaks what it checks."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import Codec, EncodingOptions, codec_for
from mirage.encoding._continuous import ContinuousStats
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.encoding.numeric import NumericCodec
from mirage.errors import DataError, OptionError
from mirage.schema import Column, infer_schema
from mirage.testing import CODEC_CHECKS, check_codec, codec_checks


def amounts(n: int = 300) -> pd.Series:
    rng = np.random.default_rng(4)
    values = pd.Series(np.round(rng.gamma(2.0, 40.0, n), 2), name="amount")
    return values.mask(rng.random(n) < 0.1)


AMOUNT = infer_schema(amounts().to_frame()).columns[0]


def factory(cls: type[Codec[Any]], column: Column = AMOUNT) -> Callable[[], Codec[Any]]:
    return lambda: cls(copy.deepcopy(column), EncodingOptions())


def test_checks_are_named_and_given_one_by_one() -> None:
    checks = codec_checks(factory(NumericCodec), amounts())
    assert tuple(checks) == CODEC_CHECKS
    assert all(name.startswith("check_") for name in CODEC_CHECKS)
    for check in checks.values():
        check()


def test_every_column_of_a_table_passes(titanic: pd.DataFrame) -> None:
    schema = infer_schema(titanic)
    for column in schema:
        check_codec(
            lambda column=column: codec_for(copy.deepcopy(column), EncodingOptions()), titanic[column.name]
        )


class WritesIntoTheColumn(NumericCodec):
    def learn(self, stats: ContinuousStats, public: PublicBounds) -> None:
        super().learn(stats, public)
        self.column.extra = {"fitted": True}


class LosesTheDtype(NumericCodec):
    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        return super().decode(parts, n, rng, start).astype(object)


class Shifts(NumericCodec):
    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        return super().decode(parts, n, rng, start) + 0.5


class UnseededOrder(NumericCodec):
    """Decodes the learned values in an order that no seed fixes."""

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        out = super().decode(parts, n, rng, start)
        return out.iloc[np.random.default_rng().permutation(n)].reset_index(drop=True)


class ForgetsItsArrays(NumericCodec):
    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        super().set_state(state, {})


class LastPartitionOnly(NumericCodec):
    def reduce(
        self,
        stats: Sequence[ContinuousStats],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> ContinuousStats:
        return super().reduce(list(stats)[-1:], budget=budget, public=public)


class Loose:
    """Stats that can be changed after analyze."""

    def __init__(self, stats: ContinuousStats) -> None:
        self.stats = stats

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loose) and other.stats == self.stats

    __hash__ = None  # type: ignore[assignment]


class MutableStats(NumericCodec):
    def analyze(self, values: pd.Series) -> Any:
        return Loose(super().analyze(values))

    def reduce(self, stats: Sequence[Any], **options: Any) -> Any:
        return super().reduce([s.stats for s in stats], **options)


class SilentOnNothing(NumericCodec):
    def reduce(self, stats: Sequence[ContinuousStats], **options: Any) -> ContinuousStats:
        if not stats:
            return None  # type: ignore[return-value]
        return super().reduce(stats, **options)


class LeavesNaN(NumericCodec):
    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        parts = super().encode(values)
        parts[self.value_name] = self.to_floats(values)
        return parts


BROKEN: dict[str, tuple[type[Codec[Any]], str]] = {
    "writes into the column": (
        WritesIntoTheColumn,
        "codecs_never_write_into_the_schema: fit wrote into the column",
    ),
    "loses the dtype": (LosesTheDtype, "decode_restores_the_dtype: decode gives dtype object"),
    "shifts values": (Shifts, "decode_inverts_encode_on_the_learned_support: the 0-th present value"),
    "forgets its arrays": (ForgetsItsArrays, "state_round_trips_through_the_model_file: .* other arrays"),
    "last partition only": (
        LastPartitionOnly,
        "fitting_on_partitions_then_reducing_equals_fitting_on_the_whole",
    ),
    "mutable stats": (MutableStats, "stats_are_frozen_and_compare_by_value: stats.stats can be set"),
    "silent on nothing": (SilentOnNothing, "reducing_nothing_is_a_clear_error: reduce\\(\\[\\]\\) raised no"),
    "leaves NaN": (LeavesNaN, "encode_gives_the_declared_subcolumns: amount::value: .* NaN"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_check_catches_the_codec_that_breaks_it(name: str) -> None:
    cls, message = BROKEN[name]
    with pytest.raises(AssertionError, match=f"codec of column 'amount': {message}"):
        check_codec(factory(cls), amounts())


def test_a_codec_whose_decoding_no_seed_fixes_fails() -> None:
    checks = codec_checks(factory(UnseededOrder), amounts(), support=lambda x, y, codec: None)
    with pytest.raises(AssertionError):
        checks["check_same_seed_same_values"]()


def test_a_custom_support_replaces_the_kind_default() -> None:
    def never(x: pd.Series, y: pd.Series, codec: Codec[Any]) -> None:
        raise AssertionError("not on my support")

    with pytest.raises(
        AssertionError, match="decode_inverts_encode_on_the_learned_support: not on my support"
    ):
        check_codec(factory(NumericCodec), amounts(), support=never)


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(DataError, match="at least 20 values"):
        check_codec(factory(NumericCodec), amounts(5))
    with pytest.raises(DataError, match="pandas Series"):
        check_codec(factory(NumericCodec), amounts().to_numpy())  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="codec_factory"):
        check_codec(NumericCodec(AMOUNT, EncodingOptions()), amounts())  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="must give a mirage.encoding.Codec"):
        check_codec(lambda: "codec", amounts())  # type: ignore[arg-type, return-value]
