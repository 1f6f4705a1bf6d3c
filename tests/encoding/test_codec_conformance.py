"""Every codec keeps the codec contract: round trip on the learned support, state through the model file's
JSON and arrays, dtypes restored, and fitting on partitions then reducing equals fitting on the whole.

Cases cover each kind with nulls, rare categories, spikes, mixed precisions, datetimes with offsets and
time zones, and partitions that hold no value at all.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import Codec, EncodingOptions, codec_for
from mirage.encoding.categorical import RARE_TOKEN
from mirage.schema import Column, Kind, infer_schema

N = 600


@dataclass(frozen=True)
class Case:
    values: pd.Series
    column: Column
    # how decode(encode(x)) must compare with x on what the codec learns
    support: Callable[[pd.Series, pd.Series, Codec], None]


def _inferred(values: pd.Series) -> Column:
    return infer_schema(pd.DataFrame({values.name: values})).columns[0]


def _nulls(rng: np.random.Generator, values: pd.Series, share: float = 0.1) -> pd.Series:
    return values.mask(pd.Series(rng.random(len(values)) < share, index=values.index))


def _same_nulls(x: pd.Series, y: pd.Series) -> None:
    np.testing.assert_array_equal(x.isna().to_numpy(), y.isna().to_numpy())


def _equal(x: pd.Series, y: pd.Series, codec: Codec) -> None:
    _same_nulls(x, y)
    assert x.dropna().tolist() == y.dropna().tolist()


def _categories(x: pd.Series, y: pd.Series, codec: Codec) -> None:
    """Frequent categories come back as themselves, rare ones as the rare token or a frequent neighbour."""
    _same_nulls(x, y)
    learned = set(codec.categories)
    for a, b in zip(x.dropna().tolist(), y.dropna().tolist(), strict=True):
        if a in learned:
            assert b == a
        else:
            assert b == RARE_TOKEN or b in learned


def _instants(x: pd.Series, y: pd.Series, codec: Codec) -> None:
    """The same instants (text with offsets is written at the column's most common offset)."""
    _same_nulls(x, y)
    if pd.api.types.is_datetime64_any_dtype(x.dtype):
        a, b = x, y
    else:
        a, b = pd.to_datetime(x, utc=True, format="mixed"), pd.to_datetime(y, utc=True, format="mixed")
    np.testing.assert_array_equal(a.dropna().to_numpy(), b.dropna().to_numpy())


def _regenerated(x: pd.Series, y: pd.Series, codec: Codec) -> None:
    """Never learned: only where values are missing comes back, and keys stay unique."""
    _same_nulls(x, y)
    if codec.column.kind is Kind.IDENTIFIER:
        assert y.dropna().is_unique


def _lengths(x: pd.Series, y: pd.Series, codec: Codec) -> None:
    _same_nulls(x, y)
    assert x.dropna().str.len().tolist() == y.dropna().str.len().tolist()


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
        "numeric-spikes-nulls": Case(amount, _inferred(amount), _equal),
        "numeric-integers": Case(count, _inferred(count), _equal),
        "categorical-rare-nulls": Case(colour, _inferred(colour), _categories),
        "categorical-numbers-rare": Case(
            grade, Column("grade", Kind.CATEGORICAL, dtype="int64"), _categories
        ),
        "categorical-ordered-dtype": Case(level, _inferred(level), _categories),
        "boolean-nulls": Case(flag, Column("flag", Kind.BOOLEAN, dtype="object"), _equal),
        "datetime-text-offsets": Case(text_times, _inferred(text_times), _instants),
        "datetime-native-zone": Case(zoned, _inferred(zoned), _instants),
        "identifier-template": Case(keys, Column("key", Kind.IDENTIFIER, dtype="object"), _regenerated),
        "identifier-integers": Case(numbers, Column("number", Kind.IDENTIFIER, dtype="int64"), _regenerated),
        "pii-phone-numbers": Case(phones, pii(phones, "phone_number"), _regenerated),
        "pii-email": Case(emails, pii(emails, "email"), _regenerated),
        "text": Case(notes, Column("note", Kind.TEXT, dtype="object"), _lengths),
    }


CASES = _cases()
KINDS_COVERED = {case.column.kind for case in CASES.values()}


def _codec(case: Case) -> Codec:
    return codec_for(copy.deepcopy(case.column), EncodingOptions())


def _fitted(case: Case) -> Codec:
    codec = _codec(case)
    codec.fit(case.values)
    return codec


def _state(codec: Codec) -> tuple[str, dict[str, np.ndarray]]:
    state, arrays = codec.get_state()
    return json.dumps(state, sort_keys=True), arrays


def _assert_same_state(a: Codec, b: Codec) -> None:
    (state_a, arrays_a), (state_b, arrays_b) = _state(a), _state(b)
    assert state_a == state_b
    assert sorted(arrays_a) == sorted(arrays_b)
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)


def _decode(codec: Codec, values: pd.Series, seed: int = 0) -> pd.Series:
    parts = codec.encode(values)
    return codec.decode(parts, len(values), np.random.default_rng(seed), 0)


def test_every_kind_has_a_case() -> None:
    assert set(Kind) == KINDS_COVERED


@pytest.mark.parametrize("name", sorted(CASES))
def test_decode_inverts_encode_on_the_learned_support(name: str) -> None:
    case = CASES[name]
    codec = _fitted(case)
    decoded = _decode(codec, case.values)
    assert len(decoded) == len(case.values)
    case.support(case.values.reset_index(drop=True), decoded, codec)


@pytest.mark.parametrize("name", sorted(CASES))
def test_decode_restores_the_dtype(name: str) -> None:
    case = CASES[name]
    decoded = _decode(_fitted(case), case.values)
    assert decoded.dtype == case.values.dtype


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_round_trips_through_json_and_arrays(name: str) -> None:
    case = CASES[name]
    codec = _fitted(case)
    state, arrays = codec.get_state()
    restored = _codec(case)
    restored.set_state(json.loads(json.dumps(state)), {k: np.array(v) for k, v in arrays.items()})
    _assert_same_state(codec, restored)
    assert restored.subcolumns == codec.subcolumns
    pd.testing.assert_series_equal(_decode(restored, case.values, 5), _decode(codec, case.values, 5))


@pytest.mark.parametrize("name", sorted(CASES))
def test_fitting_and_restoring_leave_the_column_untouched(name: str) -> None:
    """Codecs never write into the schema: what fitting learns stays in the codec's state."""
    case = CASES[name]
    column = copy.deepcopy(case.column)
    before = column.to_dict()
    codec = codec_for(column, EncodingOptions())
    codec.fit(case.values)
    assert column.to_dict() == before
    state, arrays = codec.get_state()
    codec_for(column, EncodingOptions()).set_state(json.loads(json.dumps(state)), arrays)
    assert column.to_dict() == before


def test_an_identifier_format_learned_in_fitting_stays_in_the_codec() -> None:
    case = CASES["identifier-template"]
    assert case.column.id_format is None
    codec = _fitted(case)
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


def _partitions(values: pd.Series) -> list[pd.Series]:
    """Four uneven partitions; the first holds only nulls where the column has any."""
    n = len(values)
    if not values.isna().any():
        cut = [0, n // 10, n // 3, (2 * n) // 3, n]
        return [values.iloc[a:b] for a, b in itertools.pairwise(cut)]
    nulls = values[values.isna()].iloc[:5]
    rest = values.drop(nulls.index)
    cut = [0, len(rest) // 10, len(rest) // 2, len(rest)]
    return [nulls, *(rest.iloc[a:b] for a, b in itertools.pairwise(cut))]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fitting_on_partitions_then_reducing_equals_fitting_on_the_whole(name: str) -> None:
    case = CASES[name]
    whole = _fitted(case)
    merged = _codec(case)
    parts = _partitions(case.values)
    merged.reduce([merged.analyze(part) for part in parts])
    _assert_same_state(whole, merged)
    for key, array in whole.encode(case.values).items():
        np.testing.assert_array_equal(merged.encode(case.values)[key], array, err_msg=key)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stats_are_frozen_and_compare_by_value(name: str) -> None:
    case = CASES[name]
    stats = _codec(case).analyze(case.values)
    assert stats == _codec(case).analyze(case.values)
    for field in vars(stats):
        with pytest.raises(AttributeError):
            setattr(stats, field, None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_reducing_nothing_is_a_clear_error(name: str) -> None:
    from mirage.errors import MirageError

    with pytest.raises(MirageError, match="no partition"):
        _codec(CASES[name]).reduce([])


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
