"""TextCodec: a learned length sub-column, Faker text of that length, never the training text."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mirage.encoding._base import EncodingOptions, missing_subcolumn
from mirage.encoding.text import TextCodec
from mirage.errors import MirageError
from mirage.schema._column import Column, Kind

REVIEWS = pd.Series(
    [
        "Great product, arrived on time and works as described.",
        "ok",
        None,
        "Terrible. Broke after two days and support never answered my emails.",
        "Would buy again",
        "meh",
        None,
        "The colour is slightly different from the photos but I am happy with it overall.",
    ],
    dtype=object,
)


def _rng() -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([7, 0]))


def _codec(values: pd.Series = REVIEWS) -> TextCodec:
    codec = TextCodec(Column("review", Kind.TEXT), EncodingOptions())
    codec.fit(values)
    return codec


def test_subcolumns_and_encode() -> None:
    codec = _codec()
    subs = codec.subcolumns
    assert subs[0] == missing_subcolumn("review")
    assert subs[1].name == "review::length"
    assert not subs[1].discrete
    parts = codec.encode(REVIEWS)
    assert set(parts) == {"review::missing", "review::length"}
    lengths = parts["review::length"]
    assert lengths.dtype == np.float64
    assert lengths.shape == (len(REVIEWS),)
    assert not np.isnan(lengths).any()
    present = REVIEWS.notna().to_numpy()
    assert lengths[present].tolist() == [float(len(v)) for v in REVIEWS[present]]
    assert parts["review::missing"].tolist() == REVIEWS.isna().astype(int).tolist()


def test_no_missing_part_without_nulls() -> None:
    values = pd.Series(["abc", "defgh"])
    codec = _codec(values)
    assert [s.part for s in codec.subcolumns] == ["length"]
    assert list(codec.encode(values)) == ["review::length"]


def test_decoded_lengths_follow_the_length_part() -> None:
    codec = _codec()
    wanted = np.array([2.0, 3.4, 4.6, 5.0, 17.2, 40.0, 80.0, 0.0, 500.0, -3.0, np.nan])
    out = codec.decode({"review::length": wanted}, wanted.size, _rng(), 0)
    assert out.dtype == object
    lo, hi = codec.min_length, codec.max_length
    present = [len(v) for v in REVIEWS.dropna()]
    assert (lo, hi) == (min(present), max(present))
    expected = np.clip(np.round(np.where(np.isnan(wanted), codec.fill, wanted)), lo, hi).astype(int)
    assert [len(v) for v in out] == expected.tolist()
    assert all(isinstance(v, str) for v in out)
    assert out[6][0].isupper()  # long values start at a Faker sentence


def test_never_copies_training_text_and_is_deterministic() -> None:
    codec = _codec()
    parts = codec.encode(REVIEWS.dropna().reset_index(drop=True))
    lengths = np.tile(parts["review::length"], 200)
    out = codec.decode({"review::length": lengths}, lengths.size, _rng(), 0)
    assert not set(out) & set(REVIEWS.dropna())
    again = codec.decode({"review::length": lengths}, lengths.size, _rng(), 0)
    assert out.tolist() == again.tolist()


def test_missing_rate_is_reproduced() -> None:
    codec = _codec()
    n = 4000
    codes = (np.random.default_rng(5).random(n) < 0.2).astype(np.int64)
    lengths = np.random.default_rng(6).uniform(0, 100, n)
    out = codec.decode({"review::missing": codes, "review::length": lengths}, n, _rng(), 0)
    assert out.isna().to_numpy().tolist() == (codes == 1).tolist()


def test_large_decode() -> None:
    codec = _codec()
    n = 100_000
    lengths = np.random.default_rng(0).uniform(0, 90, n)
    out = codec.decode({"review::length": lengths}, n, _rng(), 0)
    assert len(out) == n
    assert out.str.len().between(codec.min_length, codec.max_length).all()


def test_state_round_trip() -> None:
    codec = _codec()
    state, arrays = codec.get_state()
    fresh = TextCodec(Column("review", Kind.TEXT), EncodingOptions())
    fresh.set_state(json.loads(json.dumps(state)), arrays)
    assert fresh.subcolumns == codec.subcolumns
    parts = {"review::missing": np.array([0, 1, 0, 0]), "review::length": np.array([3.0, 9.0, 30.0, 60.0])}
    pd.testing.assert_series_equal(fresh.decode(parts, 4, _rng(), 0), codec.decode(parts, 4, _rng(), 0))


def test_unfitted_codec_raises() -> None:
    codec = TextCodec(Column("review", Kind.TEXT), EncodingOptions())
    with pytest.raises(MirageError, match="review"):
        codec.decode({}, 1, _rng(), 0)
