"""Numbers and datetimes with more distinct values than ``EncodingOptions.exact_values_limit``: their stats
keep a deterministic compactor sketch (``mirage.encoding._sketch``) instead of every value.  Counts, nulls
and bounds stay exact; a quantile of 4 analyzed partitions reduced once lies within ``SKETCH_RANK_ERROR``
(4 / 4,036, about 0.1%) of its exact rank, and within the sketch's own certified ``rank_error``; the same
partitioning gives the same sketch, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mirage.encoding import EncodingOptions, TableEncoder, codec_for
from mirage.encoding._base import EXACT_VALUES_LIMIT
from mirage.encoding._continuous import ContinuousCodec, ContinuousStats
from mirage.encoding._sketch import (
    PASS_RANK_ERROR,
    SKETCH_ARRAY,
    SKETCH_ITEMS,
    SKETCH_RANK_ERROR,
    ValueSketch,
)
from mirage.encoding._stats import ValueCounts
from mirage.encoding.numeric import NumericCodec
from mirage.errors import ModelFileError, OptionError
from mirage.schema import Column, infer_schema

N = 20_000
LIMIT = 100
RANK_TOLERANCE = SKETCH_RANK_ERROR
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


@pytest.mark.parametrize("name", list(SERIES))
def test_below_the_limit_stats_stay_exact_and_the_state_has_no_sketch(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values, EXACT_VALUES_LIMIT)
    merged = codec.reduce([codec.analyze(part) for part in _partitions(values)])
    assert isinstance(merged.observed, ValueCounts)
    assert SKETCH_ARRAY not in codec.get_state()[1]
    at_limit = _codec(values, merged.observed.values.size)
    assert isinstance(at_limit.reduce([at_limit.analyze(values)]).observed, ValueCounts)


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
    assert all(isinstance(p.observed, ValueSketch) and p.observed.error_rows > 0 for p in parts)  # compacted
    assert 0 < sketch.rank_error <= RANK_TOLERANCE
    ranks = np.linspace(0, 1, 1001)
    worst = max(_rank_error(exact, q, r) for q, r in zip(sketch.quantiles(ranks), ranks, strict=True))
    assert worst <= sketch.rank_error
    assert _rank_error(exact, codec.fill, 0.5) <= RANK_TOLERANCE


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
        # the same learned fields; only the fill (a median) and the sketch itself may differ
        assert {k: v for k, v in state_a.items() if k not in ("fill", "sketch")} == {
            k: v for k, v in state_b.items() if k != "fill"
        }


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


def test_exact_partitions_whose_merge_passes_the_limit_become_a_sketch() -> None:
    values = SERIES["count"]
    codec = _codec(values, limit=N // 2)
    parts = [codec.analyze(p) for p in _partitions(values)]
    assert all(isinstance(p.observed, ValueCounts) for p in parts)
    merged = codec.reduce(parts)
    assert isinstance(merged.observed, ValueSketch)
    assert merged.observed.size == N


@pytest.mark.parametrize("name", ["count", "seen"])
def test_encode_decode_round_trips_with_a_sketch(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values)
    codec.reduce([codec.analyze(part) for part in _partitions(values)])
    assert codec.sketch is not None
    decoded = codec.decode(codec.encode(values), N, np.random.default_rng(0), 0)
    assert decoded.dtype == values.dtype
    pd.testing.assert_series_equal(decoded, values.reset_index(drop=True), check_names=False)


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


@pytest.mark.parametrize("name", list(SERIES))
def test_sketched_state_round_trips_through_json_and_arrays(name: str) -> None:
    values = SERIES[name]
    codec = _codec(values)
    codec.reduce([codec.analyze(part) for part in _partitions(values)])
    state, arrays = codec.get_state()
    assert arrays[SKETCH_ARRAY].dtype == np.float64 and arrays[SKETCH_ARRAY].size <= SKETCH_ITEMS
    assert "sketch" in state
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


def _state(codec: ContinuousCodec) -> tuple[str, bytes]:
    state, arrays = codec.get_state()
    return json.dumps(state, sort_keys=True), b"".join(arrays[k].tobytes() for k in sorted(arrays))


def state_digest(name: str) -> str:
    """The sketched state of ``SERIES[name]`` analyzed in 4 partitions and reduced (a subprocess's too)."""
    codec = _codec(SERIES[name])
    codec.reduce([codec.analyze(part) for part in _partitions(SERIES[name])])
    text, data = _state(codec)
    return hashlib.sha256(text.encode() + data).hexdigest()


@pytest.mark.parametrize("name", list(SERIES))
def test_the_same_partitioning_gives_the_same_state_whatever_the_order(name: str) -> None:
    """No randomness: the same partitions give the same sketch, bit for bit, even with their rows shuffled
    and the partitions reduced in another order."""
    values = SERIES[name]
    first, second, shuffled = _codec(values), _codec(values), _codec(values)
    first.reduce([first.analyze(part) for part in _partitions(values)])
    second.reduce([second.analyze(part) for part in _partitions(values)])
    rng = np.random.default_rng(5)
    parts = [part.iloc[rng.permutation(part.size)] for part in _partitions(values)]
    shuffled.reduce([shuffled.analyze(part) for part in reversed(parts)])
    assert first.sketch is not None
    assert _state(first) == _state(second) == _state(shuffled)


def test_the_same_partitioning_gives_the_same_state_in_another_process() -> None:
    root = Path(__file__).parents[2]
    code = (
        "from tests.encoding.test_quantile_sketch import SERIES, state_digest\n"
        "print(' '.join(state_digest(name) for name in SERIES))"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [state_digest(name) for name in SERIES]


def _worst(sketch: ValueSketch, exact: np.ndarray) -> float:
    ranks = np.linspace(0, 1, 2001)
    return max(_rank_error(exact, q, r) for q, r in zip(sketch.quantiles(ranks), ranks, strict=True))


def test_the_rank_error_stays_within_its_certified_and_stated_bounds_on_harder_merges() -> None:
    """Sorted partitions (each holds one stretch of the values), 16 of them, and a reduce of reduces:
    the error stays within the sketch's certified bound, itself within one ``PASS_RANK_ERROR`` per pass."""
    rng = np.random.default_rng(11)
    x = np.sort(np.round(rng.lognormal(3, 1, 200_000), 2))
    parts = [ValueSketch.of(ValueCounts.of(p)) for p in np.array_split(x, 16)]
    once = ValueSketch.merge(parts)
    twice = ValueSketch.merge([ValueSketch.merge(parts[:8]), ValueSketch.merge(parts[8:])])
    for sketch, passes in ((once, 2), (twice, 3)):
        assert sketch.size == x.size and (sketch.minimum, sketch.maximum) == (x[0], x[-1])
        assert sketch.retained <= SKETCH_ITEMS
        assert _worst(sketch, x) <= sketch.rank_error <= passes * PASS_RANK_ERROR
    whole = ValueSketch.of(ValueCounts.of(x[::-1]))
    assert _worst(whole, x) <= whole.rank_error <= PASS_RANK_ERROR


def test_few_values_are_kept_exactly_by_a_sketch() -> None:
    x = np.arange(SKETCH_ITEMS, dtype="float64")
    sketch = ValueSketch.of(ValueCounts.of(x))
    assert sketch.error_rows == 0 and len(sketch.levels) == 1
    np.testing.assert_array_equal(sketch.levels[0], x)


def test_negative_zero_sorts_as_zero() -> None:
    """``-0.0 == 0.0``: read alike, so the parts' order cannot change the sketch."""
    a = ValueCounts.of(np.concatenate([np.full(3000, -0.0), np.arange(3000.0)]))
    b = ValueCounts.of(np.concatenate([np.full(3000, 0.0), -np.arange(3000.0)]))
    merged, swapped = ValueSketch.merge([a, b]), ValueSketch.merge([b, a])
    assert np.concatenate(merged.levels).tobytes() == np.concatenate(swapped.levels).tobytes()
    items = np.concatenate(merged.levels)
    zeros = items[items == 0]
    assert merged.error_rows > 0 and zeros.size > 0 and not np.signbit(zeros).any()


def _sketched() -> tuple[ContinuousCodec, dict[str, object], dict[str, np.ndarray]]:
    values = SERIES["count"]
    codec = _codec(values)
    codec.fit(values)
    state, arrays = codec.get_state()
    return codec, json.loads(json.dumps(state)), arrays


def _with(state: dict[str, object], **changes: object) -> dict[str, object]:
    sketch = dict(state["sketch"])  # type: ignore[call-overload]
    sketch.update(changes)
    return {**state, "sketch": sketch}


def _items(arrays: dict[str, np.ndarray], items: np.ndarray) -> dict[str, np.ndarray]:
    return {**arrays, SKETCH_ARRAY: items}


def test_a_saved_sketch_that_cannot_be_used_is_a_model_file_error_naming_the_field() -> None:
    codec, state, arrays = _sketched()
    items = arrays[SKETCH_ARRAY]
    sizes = state["sketch"]["level_sizes"]  # type: ignore[index]
    top = len(sizes) - 1
    unsorted = items.copy()
    unsorted[-2:] = unsorted[-2:][::-1]
    outside = items.copy()
    outside[-1] = 1e12
    nan = items.copy()
    nan[0] = np.nan
    cases: list[tuple[dict[str, object], dict[str, np.ndarray], str]] = [
        (_with(state, rows=state["sketch"]["rows"] + 1), arrays, r"sketch\.rows: .* not the rows"),  # type: ignore[index]
        (_with(state, error_rows=-1), arrays, r"sketch\.error_rows: must be >= 0"),
        (_with(state, level_sizes=[*sizes[:-1], -1]), arrays, r"sketch\.level_sizes: expected"),
        (_with(state, level_sizes="many"), arrays, r"sketch\.level_sizes"),
        (_with(state, minimum=2e6, maximum=1e6), arrays, r"sketch\.minimum: .* above maximum"),
        (_with(state, maximum="high"), arrays, r"sketch\.maximum: expected a finite number"),
        ({**state, "sketch": [1, 2]}, arrays, r"sketch: expected an object"),
        (state, _items(arrays, items[:-1]), r"array 'sketch\.items': holds .* items where level_sizes"),
        (state, _items(arrays, items.astype(np.int64)), r"array 'sketch\.items': expected floating-point"),
        (state, _items(arrays, nan), r"array 'sketch\.items': holds a value that is not finite"),
        (state, _items(arrays, unsorted), r"array 'sketch\.items': a level's items are not sorted"),
        (state, _items(arrays, outside), r"array 'sketch\.items': holds a value outside"),
        (state, {k: v for k, v in arrays.items() if k != SKETCH_ARRAY}, r"array 'sketch\.items': missing"),
        ({k: v for k, v in state.items() if k != "sketch"}, arrays, r"without the state's sketch field"),
    ]
    assert top >= 1 and sizes[top] >= 2
    for bad_state, bad_arrays, message in cases:
        with pytest.raises(ModelFileError, match=message):
            _codec(SERIES["count"]).set_state(bad_state, bad_arrays)
    restored = _codec(SERIES["count"])
    restored.set_state(state, arrays)
    assert restored.sketch == codec.sketch


def test_a_bad_sketch_in_a_table_state_names_the_column_and_array() -> None:
    frame = pd.DataFrame(SERIES)
    encoder = TableEncoder(infer_schema(frame), EncodingOptions(exact_values_limit=LIMIT))
    encoder.fit(frame)
    state, arrays = encoder.get_state()
    key = f"encoder.1.{SKETCH_ARRAY}"
    assert encoder.codecs[1].column.name == "count" and key in arrays
    with pytest.raises(ModelFileError, match=rf"array '{key}': holds .* items"):
        TableEncoder.from_state(encoder.schema, state, {**arrays, key: arrays[key][:5]})
    changed = json.loads(json.dumps(state))
    changed["codecs"]["count"]["sketch"]["rows"] += 1
    with pytest.raises(ModelFileError, match=r"codecs\.count\.sketch\.rows"):
        TableEncoder.from_state(encoder.schema, changed, arrays)


@pytest.mark.parametrize("limit", [0, -5, 2.5, True])
def test_a_bad_limit_is_an_option_error(limit: object) -> None:
    with pytest.raises(OptionError, match="exact_values_limit"):
        EncodingOptions(exact_values_limit=limit)  # type: ignore[arg-type]


def test_stats_types_are_what_the_codec_returns() -> None:
    codec = _codec(SERIES["count"], EXACT_VALUES_LIMIT)
    assert isinstance(codec.analyze(SERIES["count"]), ContinuousStats)


def test_datasketches_is_no_longer_a_dependency() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [*project["project"]["dependencies"]]
    for extra in project["project"]["optional-dependencies"].values():
        requirements += extra
    assert not any(req.startswith("datasketches") for req in requirements)


def _engine_table() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 6000
    return pd.DataFrame(
        {
            "amount": np.round(rng.lognormal(3, 1, n), 2),
            "count": rng.integers(0, 10**6, n),
            "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
            "kind": rng.choice(["a", "b", "c"], n),
        }
    )


@pytest.mark.parametrize("name", ["cart", "copula"])
def test_an_engine_fitted_past_the_limit_is_deterministic(name: str) -> None:
    """Past ``exact_values_limit`` (here 50) the sketch takes no seed and needs none: the same seed gives
    the same model and the same rows, also after a save and load."""
    from mirage.engines import ENGINES
    from mirage.model_file import load_model, model_bytes

    frame = _engine_table()
    options = EncodingOptions(exact_values_limit=50)
    first = ENGINES[name](seed=4).fit(frame, encoding_options=options)
    second = ENGINES[name](seed=4).fit(frame, encoding_options=options)
    sketched = [c.column.name for c in first.encoder_.codecs if getattr(c, "sketch", None) is not None]
    assert sketched == ["amount", "count", "seen"]
    assert first.encoder_.get_state()[0] == second.encoder_.get_state()[0]
    rows = first.sample(2000, seed=9)
    pd.testing.assert_frame_equal(rows, second.sample(2000, seed=9))
    pd.testing.assert_frame_equal(rows, load_model(model_bytes(first)).sample(2000, seed=9))
