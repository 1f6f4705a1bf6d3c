"""Every built-in codec passes the public codec conformance checks (``mirage.testing.codec_checks``):
round trip on the learned support, state through the model file's JSON and arrays, dtypes restored,
fitting on partitions then reducing equals fitting on the whole, the column never written to.

Cases cover each kind with nulls, rare categories, spikes, mixed precisions, datetimes with offsets and
time zones, and partitions that hold no value at all.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import Codec, EncodingOptions, codec_for
from mirage.schema import Column, Kind, infer_schema
from mirage.testing import CODEC_CHECKS, codec_checks

N = 600


@dataclass(frozen=True)
class Case:
    values: pd.Series
    column: Column


def _inferred(values: pd.Series) -> Column:
    return infer_schema(pd.DataFrame({values.name: values})).columns[0]


def _nulls(rng: np.random.Generator, values: pd.Series, share: float = 0.1) -> pd.Series:
    return values.mask(pd.Series(rng.random(len(values)) < share, index=values.index))


def _cases() -> dict[str, Case]:
    rng = np.random.default_rng(13)
    spiky = np.where(rng.random(N) < 0.4, 0.0, np.round(rng.lognormal(3, 1, N), 2))
    spiky[rng.random(N) < 0.05] = 0.5  # a second, smaller precision
    amount = _nulls(rng, pd.Series(spiky, name="amount"))
    count = pd.Series(rng.poisson(4, N), name="count")
    words = rng.choice(["red", "green", "blue"], N, p=[0.5, 0.3, 0.2]).astype(object)
    words[rng.random(N) < 0.01] = "scarce"  # seen in fewer rows than rare_min_count
    words[::97] = [f"once{i}" for i in range(len(words[::97]))]
    colour = _nulls(rng, pd.Series(words, name="colour"))
    grades = np.where(rng.random(N) < 0.02, rng.integers(90, 99, N), rng.integers(1, 6, N))
    grade = pd.Series(grades, name="grade")
    levels = ["low", "medium", "high", "extreme"]
    level = pd.Series(
        pd.Categorical(rng.choice(levels[:3], N), categories=levels, ordered=True), name="level"
    )
    flag = _nulls(rng, pd.Series(rng.random(N) < 0.3, name="flag").astype(object))
    offsets = rng.choice(["+01:00", "+02:00", "-05:00"], N, p=[0.6, 0.3, 0.1])
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, N) * 60, unit="s")
    text_times = pd.Series(
        [f"{s:%Y-%m-%d %H:%M:%S}{o}" for s, o in zip(stamps, offsets, strict=True)], name="seen"
    )
    text_times = _nulls(rng, text_times.astype(object)).astype("str")
    zoned = pd.Series(stamps, name="zoned").dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    keys = _nulls(rng, pd.Series([f"C-{i:06d}" for i in range(5, 5 + N)], name="key", dtype=object))
    numbers = pd.Series(np.arange(100, 100 + N), name="number")
    phones = pd.Series(31_600_000_000 + rng.integers(0, 10**8, N), name="phone")
    emails = _nulls(rng, pd.Series([f"u{i}@mail.test" for i in range(N)], name="email", dtype=object))
    notes = _nulls(
        rng, pd.Series(["word " * int(k) for k in rng.integers(1, 30, N)], name="note", dtype=object)
    ).str.strip()

    def pii(values: pd.Series, pii_type: str) -> Column:
        return Column(str(values.name), Kind.PII, dtype=str(values.dtype), pii_type=pii_type)

    return {
        "numeric-spikes-nulls": Case(amount, _inferred(amount)),
        "numeric-integers": Case(count, _inferred(count)),
        "categorical-rare-nulls": Case(colour, _inferred(colour)),
        "categorical-numbers-rare": Case(grade, Column("grade", Kind.CATEGORICAL, dtype="int64")),
        "categorical-ordered-dtype": Case(level, _inferred(level)),
        "boolean-nulls": Case(flag, Column("flag", Kind.BOOLEAN, dtype="object")),
        "datetime-text-offsets": Case(text_times, _inferred(text_times)),
        "datetime-native-zone": Case(zoned, _inferred(zoned)),
        "identifier-template": Case(keys, Column("key", Kind.IDENTIFIER, dtype="object")),
        "identifier-integers": Case(numbers, Column("number", Kind.IDENTIFIER, dtype="int64")),
        "pii-phone-numbers": Case(phones, pii(phones, "phone_number")),
        "pii-email": Case(emails, pii(emails, "email")),
        "text": Case(notes, Column("note", Kind.TEXT, dtype="object")),
    }


CASES = _cases()
KINDS_COVERED = {case.column.kind for case in CASES.values()}


def _codec(case: Case) -> Codec:
    return codec_for(copy.deepcopy(case.column), EncodingOptions())


@cache
def _checks(name: str) -> dict[str, Callable[[], None]]:
    """The public conformance checks of the case's codec, sharing one fit."""
    case = CASES[name]
    return codec_checks(lambda: _codec(case), case.values)


def test_every_kind_has_a_case() -> None:
    assert set(Kind) == KINDS_COVERED


@pytest.mark.parametrize("check", CODEC_CHECKS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_codec_passes_the_conformance_checks(name: str, check: str) -> None:
    _checks(name)[check]()


def test_an_identifier_format_learned_in_fitting_stays_in_the_codec() -> None:
    case = CASES["identifier-template"]
    assert case.column.id_format is None
    codec = _codec(case)
    codec.fit(case.values)
    assert codec.column.id_format is None
    assert codec.id_format == "C-{:06d}"


def test_fit_leaves_a_schema_without_identifier_formats_untouched(titanic: pd.DataFrame) -> None:
    """The schema object given to ``fit`` is used as is (no defensive copy) and never written to."""
    from mirage.engines import ENGINES

    frame = titanic.assign(key=[f"K-{i:04d}" for i in range(len(titanic))])
    schema = infer_schema(frame)
    schema["key"].id_format = None  # a schema written by hand names no format
    before = schema.to_json()
    model = ENGINES["copula"]().fit(frame, schema)
    assert schema.to_json() == before
    assert model.sample(5, seed=1)["key"].str.fullmatch(r"K-\d{4}").all()


def test_a_table_encoder_fitted_on_partitions_equals_one_fitted_on_the_whole(titanic: pd.DataFrame) -> None:
    from mirage.encoding import TableEncoder

    schema = infer_schema(titanic)
    whole = TableEncoder(copy.deepcopy(schema)).fit(titanic)
    merged = TableEncoder(copy.deepcopy(schema))
    cut = np.linspace(0, len(titanic), 5).astype(int)
    merged.reduce([merged.analyze(titanic.iloc[a:b]) for a, b in itertools.pairwise(cut)])
    (state_a, arrays_a), (state_b, arrays_b) = whole.get_state(), merged.get_state()
    assert json.dumps(state_a, sort_keys=True) == json.dumps(state_b, sort_keys=True)
    assert sorted(arrays_a) == sorted(arrays_b)
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)


def test_value_counts_merge_and_stay_read_only() -> None:
    from mirage.encoding._stats import ValueCounts

    merged = ValueCounts.merge(
        [ValueCounts.of(np.array([3.0, 1.0, 3.0])), ValueCounts.of(np.array([2.0, 3.0]))]
    )
    assert merged == ValueCounts.of(np.array([1.0, 2.0, 3.0, 3.0, 3.0]))
    assert merged.expand().tolist() == [1.0, 2.0, 3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="read-only"):
        merged.counts[0] = 7
