"""RoundingPattern: a column whose every value sits on a coarser step comes back on that step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mirage
from mirage.encoding._rounding import RoundingPattern

ROWS = 300


def _pattern(values: np.ndarray, decimals: int | None = 0) -> RoundingPattern:
    return RoundingPattern.learn(np.asarray(values, dtype="float64"), decimals=decimals, min_count=10)


def _apply(pattern: RoundingPattern, x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return pattern.apply(np.asarray(x, dtype="float64"), np.random.default_rng(0), lo, hi)


@pytest.mark.parametrize(
    ("values", "step"),
    [
        ([0, 5, 10, 15, 20, 25, 30], 5.0),  # Northwind's reorder levels
        ([10, 20, 30, 50, 70, 100, 120, 150], 10.0),
        ([-2000, 31000, 45000, 52000, 60000, 88000], 1000.0),  # below zero too
        ([12, 24, 36, 48, 60, 144], 12.0),  # dozens: the greatest common divisor, not only 5s and 10s
    ],
)
def test_values_all_on_a_coarser_step_come_back_on_it(values: list[float], step: float) -> None:
    rows = np.repeat(np.asarray(values, dtype="float64"), 20)
    pattern = _pattern(rows)
    lo, hi = float(rows.min()), float(rows.max())
    x = np.random.default_rng(1).uniform(lo, hi, 2000)
    out = _apply(pattern, x, lo, hi)
    multiples = out / step
    np.testing.assert_allclose(multiples, np.round(multiples), atol=1e-9)
    assert out.min() >= lo and out.max() <= hi
    assert np.all(np.abs(out - x) <= step / 2 + 1e-9)  # the nearest multiple
    assert np.unique(out).size > len(values) // 2  # snapped, not collapsed onto a few values


def test_too_few_distinct_values_to_exclude_chance_stay_whole_numbers() -> None:
    # Three distinct multiples of ten share the step by chance one time in a hundred: not a rule.
    rows = np.repeat([10.0, 20.0, 40.0], 50)
    out = _apply(_pattern(rows), np.linspace(10, 40, 301), 10.0, 40.0)
    assert np.unique(out).size == 31


def test_a_value_off_the_step_keeps_the_whole_numbers() -> None:
    rows = np.concatenate([np.repeat([0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0], 20), [13.0]])
    out = _apply(_pattern(rows), np.linspace(0, 30, 301), 0.0, 30.0)
    assert np.unique(out).size == 31


def test_values_with_decimals_keep_their_mix_of_grids() -> None:
    # Whole numbers and halves that all sit on quarters: drawn whole or half as they were, not as
    # any multiple of 0.25.
    rows = np.repeat([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 20)
    out = _apply(_pattern(rows, decimals=None), np.linspace(0.5, 8.0, 2000), 0.5, 8.0)
    assert set(np.unique(np.mod(out, 1.0))) == {0.0, 0.5}


def test_the_learned_step_survives_its_arrays() -> None:
    pattern = _pattern(np.repeat([0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0], 20))
    again = RoundingPattern.from_arrays(pattern.get_arrays())
    assert again is not None
    x = np.random.default_rng(2).uniform(0, 30, 500)
    np.testing.assert_array_equal(_apply(again, x, 0.0, 30.0), _apply(pattern, x, 0.0, 30.0))


@pytest.fixture(scope="module")
def stock() -> pd.DataFrame:
    """Reorder levels in fives, prices in whole tens (as floats), salaries in thousands, and a column
    of plain whole numbers that follows the levels."""
    rng = np.random.default_rng(3)
    level = rng.choice(np.arange(0, 35, 5), ROWS)
    return pd.DataFrame(
        {
            "reorder_level": level,
            "price": rng.choice(np.arange(10.0, 210.0, 10.0), ROWS),
            "salary": rng.integers(30, 90, ROWS) * 1000,
            "units": level * 3 + rng.integers(0, 7, ROWS),
        }
    )


@pytest.mark.parametrize("engine", ["cart", "copula"])
def test_stepped_columns_come_back_on_their_steps_through_a_model_file(
    stock: pd.DataFrame, engine: str, tmp_path: Path
) -> None:
    model = mirage.load(mirage.fit(stock, engine=engine).save(tmp_path / "stock.mirage"))
    synthetic = model.sample(1000, seed=0)
    for column, step in {"reorder_level": 5, "price": 10, "salary": 1000}.items():
        values = synthetic[column].to_numpy(dtype="float64")
        off = values[np.mod(values, step) != 0]
        assert off.size == 0, (column, off[:10])
        assert np.unique(values).size >= 4, column
    units = synthetic["units"].to_numpy(dtype="float64")
    assert np.all(units == np.round(units)) and np.mod(units, 5).min() == 0 and np.mod(units, 5).max() > 0
