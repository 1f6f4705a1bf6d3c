"""IdentifierCodec (format inference, unique chunk-invariant keys, state) and the shared MissingPart."""

from __future__ import annotations

import json
import re
import uuid

import numpy as np
import pandas as pd
import pytest

from mirage.encoding._base import EncodingOptions, missing_subcolumn
from mirage.encoding._missing import MissingPart, apply_missing, missing_mask
from mirage.encoding.identifier import (
    IdentifierCodec,
    infer_id_format,
    parse_id_format,
    permute_index,
)
from mirage.errors import MirageError
from mirage.schema._column import Column, Kind


def _rng() -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([7, 0]))


def _codec(values: pd.Series, name: str = "key", id_format: str | None = None) -> IdentifierCodec:
    column = Column(name, Kind.IDENTIFIER, dtype=str(values.dtype), id_format=id_format)
    codec = IdentifierCodec(column, EncodingOptions())
    codec.fit(values)
    return codec


CUSTOMER_IDS = pd.Series(
    ["ALFKI", "ANATR", "ANTON", "AROUT", "BERGS", "BLAUS", "BLONP", "BOLID", "BONAP", "BOTTM"]
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([10248, 10249, 10251], dtype="int64"), "{:d}"),
        (pd.Series([1.0, 2.0, np.nan]), "{:d}"),
        (pd.Series([f"C-{i:06d}" for i in range(100, 130)]), "C-{:06d}"),
        (pd.Series(["INV7", "INV12", "INV100"]), "INV{:d}"),
        (pd.Series([str(uuid.UUID(int=i * 7919 + 1, version=4)) for i in range(20)]), "uuid"),
        (CUSTOMER_IDS, "AAAAA"),
        (pd.Series(["ab-12X", "cd-34Y", "ef-56Z"]), "aa-99A"),
        (pd.Series([f"A{c}{d}" for c in "QWERTYUIOP" for d in range(3)]), "\\AA9"),
    ],
)
def test_infer_id_format(values: pd.Series, expected: str) -> None:
    assert infer_id_format(values) == expected


def test_parse_id_format() -> None:
    template = parse_id_format("C-{:06d}")
    assert (template.kind, template.prefix, template.width, template.space()) == ("template", "C-", 6, None)
    pattern = parse_id_format("\\AA-9")
    assert pattern.kind == "pattern"
    assert [lit for alphabet, lit in pattern.positions if alphabet is None] == ["A", "-"]
    assert pattern.space() == 26 * 10
    assert parse_id_format("uuid").kind == "uuid"


def test_permute_index_is_a_bijection() -> None:
    for size in (1, 2, 10, 26**3, 1000):
        out = permute_index(np.arange(size, dtype=np.uint64), size, salt=12345)
        assert sorted(out.tolist()) == list(range(size))


def test_integer_keys_keep_dtype_and_count_up() -> None:
    values = pd.Series([10248, 10250, 10249, 10300], dtype="int64")
    codec = _codec(values)
    assert codec.id_format == "{:d}"
    assert codec.subcolumns == []
    assert codec.encode(values) == {}
    out = codec.decode({}, 5, _rng(), 0)
    assert out.dtype == np.dtype("int64")
    assert out.tolist() == [10248, 10249, 10250, 10251, 10252]
    assert codec.decode({}, 2, _rng(), 10).tolist() == [10258, 10259]


@pytest.mark.parametrize("dtype", ["int64", "Int64", "uint64"])
def test_nineteen_digit_keys_start_exactly_where_the_source_does(dtype: str) -> None:
    """Read through float64, 1234567890123456789 was 1234567890123456768: keys drawn began 21 early."""
    first = 1_234_567_890_123_456_789
    codec = _codec(pd.Series([first + 7 * i for i in range(50)], dtype=dtype))
    assert codec.id_start == first
    assert codec.decode({}, 3, _rng(), 0).tolist() == [first, first + 1, first + 2]


def test_unsigned_keys_past_two_to_the_63_are_drawn_exactly() -> None:
    first = 2**63 + 5
    codec = _codec(pd.Series([first + i for i in range(30)], dtype="uint64"))
    out = codec.decode({}, 2, _rng(), 0)
    assert out.dtype == np.dtype("uint64") and out.tolist() == [first, first + 1]


def test_keys_past_the_largest_integer_are_refused_by_name() -> None:
    codec = _codec(pd.Series([2**63 - 3, 2**63 - 2], dtype="int64"), name="order_id")
    assert codec.decode({}, 2, _rng(), 0).tolist() == [2**63 - 3, 2**63 - 2]
    with pytest.raises(
        MirageError, match="column 'order_id': key 9223372036854775808 is past the largest int64"
    ):
        codec.decode({}, 4, _rng(), 0)


@pytest.mark.parametrize(
    ("values", "regex"),
    [
        (pd.Series(np.arange(1, 51), dtype="int64"), None),
        (pd.Series([f"C-{i:06d}" for i in range(100, 130)]), r"C-\d{6}"),
        (CUSTOMER_IDS, r"[A-Z]{5}"),
        (pd.Series(["ab-12X", "cd-34Y", "ef-56Z"]), r"[a-z]{2}-\d{2}[A-Z]"),
        (pd.Series([str(uuid.UUID(int=i * 7919 + 1, version=4)) for i in range(20)]), None),
    ],
)
def test_chunks_are_unique_and_match_one_decode(values: pd.Series, regex: str | None) -> None:
    codec = _codec(values)
    n = 700
    first = codec.decode({}, n, _rng(), 0)
    second = codec.decode({}, n, np.random.default_rng(99), n)
    whole = codec.decode({}, 2 * n, _rng(), 0)
    joined = pd.concat([first, second], ignore_index=True)
    assert joined.tolist() == whole.tolist()
    assert joined.is_unique
    assert len(joined) == 2 * n
    if regex is not None:
        assert all(re.fullmatch(regex, v) for v in joined)
    if codec.id_format == "uuid":
        assert all(uuid.UUID(v).version == 4 for v in joined)
    if codec.numeric:
        assert joined.dtype == np.dtype("int64")
    else:
        assert joined.dtype == object


def test_pattern_keys_do_not_depend_on_the_rng() -> None:
    codec = _codec(CUSTOMER_IDS)
    a = codec.decode({}, 50, _rng(), 0)
    b = codec.decode({}, 50, np.random.default_rng(123), 0)
    assert a.tolist() == b.tolist()
    assert a.tolist() == codec.decode({}, 50, _rng(), 0).tolist()


def test_large_decode_is_unique() -> None:
    codec = _codec(CUSTOMER_IDS)
    out = codec.decode({}, 200_000, _rng(), 0)
    assert out.is_unique


def test_pattern_space_exhausted_names_the_column() -> None:
    codec = _codec(pd.Series(["A1", "B2", "C3"]), name="short_code")
    assert codec.id_format == "A9"
    assert codec.decode({}, 260, _rng(), 0).is_unique
    with pytest.raises(MirageError, match="short_code"):
        codec.decode({}, 261, _rng(), 0)
    with pytest.raises(MirageError, match="short_code"):
        codec.decode({}, 10, _rng(), 255)


def test_user_format_is_respected() -> None:
    codec = _codec(pd.Series(["x", "y"]), id_format="ORD-{:04d}")
    out = codec.decode({}, 3, _rng(), 0)
    assert out.tolist() == ["ORD-0001", "ORD-0002", "ORD-0003"]
    codec = _codec(pd.Series(["x", "y"]), id_format="\\A99a")
    assert all(re.fullmatch(r"A\d\d[a-z]", v) for v in codec.decode({}, 100, _rng(), 0))


def test_missing_part() -> None:
    values = pd.Series([1.0, 2.0, np.nan, 4.0, np.nan])
    codec = _codec(values)
    assert codec.subcolumns == [missing_subcolumn("key")]
    parts = codec.encode(values)
    assert list(parts) == ["key::missing"]
    assert parts["key::missing"].dtype == np.int64
    assert parts["key::missing"].tolist() == [0, 0, 1, 0, 1]
    rng = np.random.default_rng(0)
    codes = (rng.random(4000) < 0.3).astype(np.int64)
    out = codec.decode({"key::missing": codes}, 4000, _rng(), 0)
    assert out.isna().to_numpy().tolist() == (codes == 1).tolist()
    assert out.dropna().is_unique


def test_state_round_trip() -> None:
    values = pd.Series([*CUSTOMER_IDS.tolist(), None], dtype=object)
    codec = _codec(values)
    state, arrays = codec.get_state()
    restored_state = json.loads(json.dumps(state))
    fresh = IdentifierCodec(Column("key", Kind.IDENTIFIER), EncodingOptions())
    fresh.set_state(restored_state, {k: np.asarray(v) for k, v in arrays.items()})
    assert fresh.id_format == codec.id_format
    parts = {"key::missing": np.array([0, 1, 0, 0, 1, 0])}
    assert fresh.subcolumns == codec.subcolumns
    pd.testing.assert_series_equal(fresh.decode(parts, 6, _rng(), 3), codec.decode(parts, 6, _rng(), 3))


def test_integer_state_round_trip_keeps_dtype() -> None:
    values = pd.Series([5, 6, 7], dtype="int64")
    codec = _codec(values)
    state, arrays = codec.get_state()
    fresh = IdentifierCodec(Column("key", Kind.IDENTIFIER, dtype="int64"), EncodingOptions())
    fresh.set_state(json.loads(json.dumps(state)), arrays)
    out = fresh.decode({}, 4, _rng(), 0)
    assert out.dtype == np.dtype("int64")
    assert out.tolist() == [5, 6, 7, 8]


def test_unfitted_codec_raises() -> None:
    codec = IdentifierCodec(Column("key", Kind.IDENTIFIER), EncodingOptions())
    with pytest.raises(MirageError, match="key"):
        codec.decode({}, 1, _rng(), 0)


# MissingPart, shared by every codec --------------------------------------------------------------


def test_missing_mask_and_apply() -> None:
    values = pd.Series(["a", None, np.nan, "d"], dtype=object)
    assert missing_mask(values).tolist() == [False, True, True, False]
    ints = pd.Series([1, 2, 3], dtype="int64")
    masked = apply_missing(ints, np.array([False, True, False]))
    assert masked.dtype == np.dtype("float64")
    assert masked.isna().tolist() == [False, True, False]
    assert apply_missing(ints, np.zeros(3, dtype=bool)) is ints


def test_missing_part_absent_without_nulls() -> None:
    part = MissingPart("c")
    part.fit(pd.Series([1, 2, 3]))
    assert not part.present
    assert part.subcolumns == []
    assert part.encode(pd.Series([1, None])) == {}
    assert part.mask({"c::missing": np.array([1, 1])}, 2).tolist() == [False, False]


def test_missing_part_present() -> None:
    part = MissingPart("c")
    part.fit(pd.Series([1.0, None]))
    assert part.present
    assert part.subcolumns == [missing_subcolumn("c")]
    encoded = part.encode(pd.Series([None, 2.0, None]))
    assert encoded["c::missing"].dtype == np.int64
    assert encoded["c::missing"].tolist() == [1, 0, 1]
    assert part.mask({"c::missing": np.array([0, 1, 1])}, 3).tolist() == [False, True, True]
    assert part.mask({}, 2).tolist() == [False, False]
    restored = MissingPart("c")
    restored.set_state(json.loads(json.dumps(part.get_state())))
    assert restored.present
    applied = restored.apply(pd.Series(["x", "y", "z"], dtype=object), {"c::missing": np.array([0, 1, 0])})
    assert applied.isna().tolist() == [False, True, False]


def test_partitions_that_infer_different_formats_agree_on_the_whole_tables_one() -> None:
    """Read alone, plain keys look like ``K-{:d}`` and padded ones like ``K-{:04d}``: reduce infers the
    format from the partitions' first keys, as a fit on the whole column does."""
    plain = pd.Series([f"K-{i}" for i in range(1, 40)])
    padded = pd.Series([f"K-{i:04d}" for i in range(1000, 1040)])
    whole = _codec(pd.concat([plain, padded], ignore_index=True))
    merged = IdentifierCodec(Column("key", Kind.IDENTIFIER, dtype="object"), EncodingOptions())
    stats = [merged.analyze(plain), merged.analyze(padded)]
    assert stats[0].format != stats[1].format
    merged.reduce(stats)
    assert merged.get_state() == whole.get_state()
