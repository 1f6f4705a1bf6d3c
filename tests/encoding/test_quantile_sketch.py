"""Numbers and datetimes with more distinct values than ``EncodingOptions.exact_values_limit``: their stats
keep a KLL sketch (k = ``KLL_K`` = 200) instead of every value.  Counts, nulls and bounds stay exact; a
quantile of the merge lies within ``RANK_TOLERANCE`` (twice DataSketches' 99%-confidence normalized rank
error for k = 200, 1.33%, since KLL compacts at random and takes no seed) of its exact rank.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions, TableEncoder, codec_for
from mirage.encoding._continuous import SKETCH_ARRAY, ContinuousCodec, ContinuousStats
from mirage.encoding._sketch import EXACT_VALUES_LIMIT, INSTALL, KLL_K, KLL_RANK_ERROR, ValueSketch
from mirage.encoding._stats import ValueCounts
from mirage.encoding.numeric import NumericCodec
from mirage.errors import MissingDependencyError, ModelFileError, OptionError
from mirage.schema import Column, infer_schema

try:
    import datasketches
except ImportError:  # the optional "scale" extra
    datasketches = None

needs_kll = pytest.mark.skipif(datasketches is None, reason="needs datasketches (mirage-synth[scale])")

N = 20_000
LIMIT = 100
RANK_TOLERANCE = 2 * KLL_RANK_ERROR
RANKS = np.linspace(0.01, 0.99, 99)


def _series() -> dict[str, pd.Series]:
    rng = np.random.default_rng(7)
    amount = pd.Series(np.round(rng.lognormal(3, 1, N), 3), name="amount")
    amount[rng.random(N) < 0.05] = np.nan
    count = pd.Series(rng.integers(0, 10**6, N), name="count")
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**8, N), unit="s")
    seen = pd.Series(stamps, name="seen").mask(pd.Series(rng.random(N) < 0.05))
    return {"amount": amount, "count": count, "seen": seen}


SERIES = _series()


def _column(values: pd.Series) -> Column:
    return infer_schema(pd.DataFrame({values.name: values})).columns[0]


def _codec(values: pd.Series, limit: int = LIMIT) -> ContinuousCodec:
    codec = codec_for(_column(values), EncodingOptions(exact_values_limit=limit))
    assert isinstance(codec, ContinuousCodec)
    return codec


def _partitions(values: pd.Series) -> list[pd.Series]:
    return [values.iloc[i * N // 4 : (i + 1) * N // 4] for i in range(4)]


def _exact(codec: ContinuousCodec, values: pd.Series) -> np.ndarray:
    x = codec.to_floats(values)
    return np.sort(x[~np.isnan(x)])


def _rank_error(exact: np.ndarray, value: float, rank: float) -> float:
    """How far ``rank`` is from the exact normalized ranks ``value`` spans (0 inside them)."""
    low = np.searchsorted(exact, value, side="left") / exact.size
    high = np.searchsorted(exact, value, side="right") / exact.size
    return max(0.0, low - rank, rank - high)


def test_rank_error_is_datasketches_for_k() -> None:
    if datasketches is None:
        pytest.skip("needs datasketches")
    documented = datasketches.kll_doubles_sketch.get_normalized_rank_error(KLL_K, False)
    assert documented <= KLL_RANK_ERROR < documented + 1e-4


@pytest.mark.parametrize("name", list(SERIES))
def test_below_the_limit_stats_stay_exact_and_the_state_has_no_sketch(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values, EXACT_VALUES_LIMIT)
    merged = codec.reduce([codec.analyze(part) for part in _partitions(values)])
    assert isinstance(merged.observed, ValueCounts)
    assert SKETCH_ARRAY not in codec.get_state()[1]
    at_limit = _codec(values, merged.observed.values.size)
    assert isinstance(at_limit.reduce([at_limit.analyze(values)]).observed, ValueCounts)


@needs_kll
@pytest.mark.parametrize("name", list(SERIES))
def test_reduced_sketch_has_exact_counts_and_bounds_and_quantiles_within_tolerance(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values)
    parts = [codec.analyze(part) for part in _partitions(values)]
    assert all(isinstance(p.observed, ValueSketch) for p in parts)
    merged = codec.reduce(parts)
    exact = _exact(codec, values)
    sketch = merged.observed
    assert isinstance(sketch, ValueSketch)
    assert sketch.size == exact.size == values.notna().sum()
    assert (sketch.minimum, sketch.maximum) == (exact[0], exact[-1])
    assert (codec.minimum, codec.maximum) == (exact[0], exact[-1])
    whole = _codec(values, EXACT_VALUES_LIMIT)
    assert merged.missing == whole.reduce([whole.analyze(values)]).missing
    worst = max(_rank_error(exact, q, r) for q, r in zip(sketch.quantiles(RANKS), RANKS, strict=True))
    assert worst <= RANK_TOLERANCE
    assert _rank_error(exact, codec.fill, 0.5) <= RANK_TOLERANCE


@needs_kll
@pytest.mark.parametrize("name", list(SERIES))
def test_fit_on_partitions_agrees_with_fit_on_the_whole(name: str) -> None:
    values = SERIES[name]
    exact_codec = _codec(values, EXACT_VALUES_LIMIT)
    exact_codec.fit(values)
    whole, parted = _codec(values), _codec(values)
    whole.fit(values)
    parted.reduce([parted.analyze(part) for part in _partitions(values)])
    exact = _exact(exact_codec, values)
    for codec in (whole, parted):
        assert (codec.minimum, codec.maximum) == (exact_codec.minimum, exact_codec.maximum)
        assert _rank_error(exact, codec.fill, 0.5) <= RANK_TOLERANCE
        assert codec.subcolumns == exact_codec.subcolumns
    for a, b in ((whole, exact_codec), (parted, exact_codec)):
        state_a, state_b = a.get_state()[0], b.get_state()[0]
        assert {k: v for k, v in state_a.items() if k != "fill"} == {
            k: v for k, v in state_b.items() if k != "fill"
        }


@needs_kll
def test_mixed_partitions_merge_counts_into_the_sketch() -> None:
    values = SERIES["count"]
    codec = _codec(values)
    small = values.iloc[:50]  # 50 distinct values: counted exactly
    parts = [codec.analyze(small), *(codec.analyze(p) for p in _partitions(values.iloc[50:]))]
    assert isinstance(parts[0].observed, ValueCounts)
    assert isinstance(parts[1].observed, ValueSketch)
    merged = codec.reduce(parts)
    assert isinstance(merged.observed, ValueSketch)
    exact = _exact(codec, values)
    assert merged.observed.size == N
    assert (merged.observed.minimum, merged.observed.maximum) == (exact[0], exact[-1])
    worst = max(
        _rank_error(exact, q, r) for q, r in zip(merged.observed.quantiles(RANKS), RANKS, strict=True)
    )
    assert worst <= RANK_TOLERANCE


@needs_kll
def test_exact_partitions_whose_merge_passes_the_limit_become_a_sketch() -> None:
    values = SERIES["count"]
    codec = _codec(values, limit=N // 2)
    parts = [codec.analyze(p) for p in _partitions(values)]
    assert all(isinstance(p.observed, ValueCounts) for p in parts)
    merged = codec.reduce(parts)
    assert isinstance(merged.observed, ValueSketch)
    assert merged.observed.size == N


@needs_kll
@pytest.mark.parametrize("name", ["count", "seen"])
def test_encode_decode_round_trips_with_a_sketch(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values)
    codec.reduce([codec.analyze(part) for part in _partitions(values)])
    assert codec.sketch is not None
    decoded = codec.decode(codec.encode(values), N, np.random.default_rng(0), 0)
    assert decoded.dtype == values.dtype
    pd.testing.assert_series_equal(decoded, values.reset_index(drop=True), check_names=False)


@needs_kll
def test_decoded_numbers_keep_their_bounds_and_mix_of_precisions() -> None:
    """Rounding is learnt from values read off the sketch: the decoded mix of grids (whole, .5, ..., .001)
    stays within 2 points of the column's, and nearly every training value comes back as it is."""
    values = SERIES["amount"]
    exact_codec = _codec(values, EXACT_VALUES_LIMIT)
    exact_codec.fit(values)
    assert isinstance(exact_codec, NumericCodec) and exact_codec.rounding is not None
    pattern = exact_codec.rounding

    def shares(s: pd.Series) -> np.ndarray:
        on = pattern.grid_of(s.dropna().to_numpy(dtype="float64")) + 1
        return np.bincount(on, minlength=pattern.steps.size + 1) / on.size

    codec = _codec(values)
    codec.reduce([codec.analyze(part) for part in _partitions(values)])
    decoded = codec.decode(codec.encode(values), N, np.random.default_rng(0), 0)
    assert decoded.isna().tolist() == values.isna().tolist()
    assert decoded.min() >= codec.minimum and decoded.max() <= codec.maximum
    assert np.abs(shares(decoded) - shares(values)).max() <= 0.02
    assert (decoded == values).sum() / values.notna().sum() > 0.95


@needs_kll
@pytest.mark.parametrize("name", list(SERIES))
def test_sketched_state_round_trips_through_json_and_arrays(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values)
    codec.reduce([codec.analyze(part) for part in _partitions(values)])
    state, arrays = codec.get_state()
    assert arrays[SKETCH_ARRAY].dtype == np.uint8
    restored = _codec(values)
    restored.set_state(json.loads(json.dumps(state)), {k: np.array(v) for k, v in arrays.items()})
    assert restored.sketch == codec.sketch
    assert restored.get_state()[0] == state
    encoded, again = codec.encode(values), restored.encode(values)
    for key in encoded:
        np.testing.assert_array_equal(encoded[key], again[key])
    a = codec.decode(encoded, N, np.random.default_rng(3), 0)
    b = restored.decode(encoded, N, np.random.default_rng(3), 0)
    pd.testing.assert_series_equal(a, b)


@needs_kll
def test_table_state_keeps_the_sketch_but_not_the_limit() -> None:
    frame = pd.DataFrame(SERIES)
    encoder = TableEncoder(infer_schema(frame), EncodingOptions(exact_values_limit=LIMIT))
    encoder.reduce([encoder.analyze(frame.iloc[i::4]) for i in range(4)])
    state, arrays = encoder.get_state()
    assert set(state["options"]) == {"rare_min_count", "locale"}
    restored = TableEncoder.from_state(encoder.schema, json.loads(json.dumps(state)), arrays)
    assert [getattr(c, "sketch", None) for c in restored.codecs] == [
        getattr(c, "sketch", None) for c in encoder.codecs
    ]


@needs_kll
@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.zeros(3, dtype=np.float64), "not a 1-d uint8 array"),
        (np.frombuffer(b"not a sketch at all", dtype=np.uint8), "cannot be read"),
    ],
)
def test_a_bad_sketch_array_is_a_model_file_error(array: np.ndarray, reason: str) -> None:
    values = SERIES["count"]
    codec = _codec(values)
    codec.fit(values)
    state, arrays = codec.get_state()
    with pytest.raises(ModelFileError, match=f"'count'.*{reason}"):
        _codec(values).set_state(state, {**arrays, SKETCH_ARRAY: array})


@needs_kll
def test_an_empty_sketch_is_a_model_file_error() -> None:
    values = SERIES["count"]
    codec = _codec(values)
    codec.fit(values)
    state, arrays = codec.get_state()
    empty = np.frombuffer(datasketches.kll_doubles_sketch(KLL_K).serialize(), dtype=np.uint8)
    with pytest.raises(ModelFileError, match="empty"):
        _codec(values).set_state(state, {**arrays, SKETCH_ARRAY: empty})


def test_past_the_limit_without_datasketches_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mirage.encoding._sketch._kll", lambda: None)
    values = SERIES["count"]
    codec = _codec(values)
    with pytest.raises(MissingDependencyError, match=r"'count'.*exact_values_limit.*mirage-synth\[scale\]"):
        codec.analyze(values)
    codec.fit(values.iloc[:LIMIT])  # within the limit: no sketch, nothing needed
    assert codec.sketch is None


def test_exact_partitions_merged_past_the_limit_without_datasketches_name_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mirage.encoding._sketch._kll", lambda: None)
    values = SERIES["count"]
    codec = _codec(values)
    parts = [codec.analyze(values.iloc[i * 60 : (i + 1) * 60]) for i in range(2)]
    assert all(isinstance(p.observed, ValueCounts) for p in parts)
    with pytest.raises(MissingDependencyError, match=r"mirage-synth\[scale\]"):
        codec.reduce(parts)


@pytest.mark.parametrize("limit", [0, -5, 2.5, True])
def test_a_bad_limit_is_an_option_error(limit: object) -> None:
    with pytest.raises(OptionError, match="exact_values_limit"):
        EncodingOptions(exact_values_limit=limit)  # type: ignore[arg-type]


def test_stats_types_are_what_the_codec_returns() -> None:
    codec = _codec(SERIES["count"], EXACT_VALUES_LIMIT)
    assert isinstance(codec.analyze(SERIES["count"]), ContinuousStats)


def test_datasketches_is_in_the_scale_and_dev_extras() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    for extra in ("scale", "dev"):
        assert any(req.startswith("datasketches") for req in extras[extra])
    assert INSTALL == 'pip install "mirage-synth[scale]"'


@needs_kll
@pytest.mark.parametrize("cut", [8, 20, 21, 100, -1])
def test_a_truncated_sketch_is_refused_before_datasketches_reads_it(cut: int) -> None:
    """DataSketches reads past the end of a buffer whose header promises more (the process crashes)."""
    values = SERIES["count"]
    codec = _codec(values)
    codec.fit(values)
    state, arrays = codec.get_state()
    with pytest.raises(ModelFileError, match="'count'.*cannot be read"):
        _codec(values).set_state(state, {**arrays, SKETCH_ARRAY: arrays[SKETCH_ARRAY][:cut]})


@needs_kll
def test_a_sketch_whose_row_count_was_changed_is_refused() -> None:
    values = SERIES["count"]
    codec = _codec(values)
    codec.fit(values)
    state, arrays = codec.get_state()
    changed = arrays[SKETCH_ARRAY].copy()
    changed[15] = 0xD0  # the top byte of n: rows the items no longer add up to
    with pytest.raises(ModelFileError, match="row count"):
        _codec(values).set_state(state, {**arrays, SKETCH_ARRAY: changed})
