"""NumericCodec: values come back within bounds with the training values' mix of precisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage.encoding._base import EncodingOptions
from mirage.encoding.numeric import NumericCodec
from mirage.errors import ModelFileError
from mirage.schema import infer_schema

ROWS = 4000


def _codec(values: pd.Series) -> NumericCodec:
    column = infer_schema(values.to_frame())[str(values.name)]
    codec = NumericCodec(column, EncodingOptions())
    codec.fit(values)
    return codec


def _decode(codec: NumericCodec, x: np.ndarray, seed: int = 0) -> np.ndarray:
    parts = {codec.value_name: np.asarray(x, dtype="float64")}
    return codec.decode(parts, len(x), np.random.default_rng(seed), 0).to_numpy(dtype="float64")


def _decimals(x: np.ndarray) -> np.ndarray:
    """How many decimals each value needs (0 for whole numbers)."""
    out = np.full(x.size, 99)
    for d in range(10, -1, -1):
        out[np.abs(np.round(x, d) - x) <= 1e-9 * np.maximum(1.0, np.abs(x))] = d
    return out


@pytest.fixture(scope="module")
def ages() -> pd.Series:
    """Whole years, a few estimated halves, and infants' ages in two decimals (all below 1)."""
    rng = np.random.default_rng(0)
    years = np.clip(np.round(rng.normal(35, 14, ROWS)), 1, 80)
    halves = rng.random(ROWS) < 0.03
    years[halves] += 0.5
    infants = rng.random(ROWS) < 0.015
    years[infants] = np.round(rng.uniform(0.1, 0.95, int(infants.sum())), 2)
    return pd.Series(years, name="age")


def _smoothed(values: pd.Series, seed: int) -> np.ndarray:
    """What a smoothing engine gives the codec: training values plus a little noise."""
    rng = np.random.default_rng(seed)
    x = values.to_numpy(dtype="float64")
    return x + rng.normal(0.0, 0.8, x.size) * np.where(x < 1, 0.05, 1.0)


def test_the_mix_of_precisions_comes_back(ages: pd.Series) -> None:
    codec = _codec(ages)
    assert codec.decimals == 2  # the schema's one precision for the column, from the infants
    fake = _decode(codec, _smoothed(ages, 1))
    real = ages.to_numpy()
    real_whole, fake_whole = np.mean(_decimals(real) == 0), np.mean(_decimals(fake) == 0)
    assert abs(fake_whole - real_whole) < 0.015, (real_whole, fake_whole)
    real_halves = np.mean(np.mod(real, 1.0) == 0.5)
    fake_halves = np.mean(np.mod(fake, 1.0) == 0.5)
    assert abs(fake_halves - real_halves) < 0.01, (real_halves, fake_halves)
    # Two decimals where the training values had them: among the smallest values, not at age 40.
    assert np.all(fake[_decimals(fake) == 2] < 2.0)


def test_values_on_a_coarser_grid_by_chance_are_not_counted_twice() -> None:
    # Four-decimal measurements end in a zero one time in ten; rounding smoothed values to four
    # decimals would keep that, and adding the learned "three decimals" share on top would double it.
    rng = np.random.default_rng(2)
    values = pd.Series(np.round(rng.uniform(0.05, 0.2, ROWS), 4), name="smoothness")
    codec = _codec(values)
    fake = _decode(codec, rng.uniform(0.05, 0.2, ROWS))
    real_share = np.mean(_decimals(values.to_numpy()) < 4)
    fake_share = np.mean(_decimals(fake) < 4)
    assert abs(fake_share - real_share) < 0.025, (real_share, fake_share)


def test_training_values_given_back_exactly_stay_as_they_are(ages: pd.Series) -> None:
    codec = _codec(ages)
    x = codec.encode(ages)[codec.value_name]
    np.testing.assert_array_equal(_decode(codec, x), ages.to_numpy())


def test_values_past_a_bound_are_reflected_not_piled_on_it() -> None:
    rng = np.random.default_rng(3)
    values = pd.Series(np.round(0.42 + rng.exponential(5.0, ROWS), 2), name="wait")
    codec = _codec(values)
    lowest = float(values.min())
    x = values.to_numpy() + rng.normal(0.0, 1.0, ROWS)  # a kernel around each value
    fake = _decode(codec, x)
    assert fake.min() >= lowest and fake.max() <= values.max()
    assert np.mean(fake == lowest) < 0.005, np.mean(fake == lowest)
    assert np.mean(x < lowest) > 0.05  # the check is not empty: many draws fell past the bound


def test_whole_number_columns_round_as_before() -> None:
    rng = np.random.default_rng(4)
    values = pd.Series(rng.integers(18, 65, ROWS), name="years")
    codec = _codec(values)
    x = rng.uniform(10, 70, 500)
    fake = _decode(codec, x)
    expected = np.clip(np.round(x), 18, 64)
    inside = (x > 18) & (x < 64)
    np.testing.assert_array_equal(fake[inside], expected[inside])


def test_same_generator_same_values_and_state_round_trip(ages: pd.Series) -> None:
    codec = _codec(ages)
    x = _smoothed(ages, 5)
    state, arrays = codec.get_state()
    again = NumericCodec(codec.column, EncodingOptions())
    again.set_state(state, arrays)
    np.testing.assert_array_equal(_decode(again, x, seed=9), _decode(codec, x, seed=9))
    assert not np.array_equal(_decode(codec, x, seed=9), _decode(codec, x, seed=10))


def test_inconsistent_rounding_arrays_name_the_column(ages: pd.Series) -> None:
    codec = _codec(ages)
    state, arrays = codec.get_state()
    broken = dict(arrays)
    broken["rounding.mix"] = arrays["rounding.mix"][:, :1]
    with pytest.raises(ModelFileError, match="'age'.*mix"):
        NumericCodec(codec.column, EncodingOptions()).set_state(state, broken)
    del broken["rounding.mix"]
    with pytest.raises(ModelFileError, match="'age'.*lacks mix"):
        NumericCodec(codec.column, EncodingOptions()).set_state(state, broken)
