"""Private domains from counts: ranges on public grids, thresholded categories, each charge on the ledger."""

from __future__ import annotations

import numpy as np
import pytest

from mirage.errors import DataError
from mirage.privacy import Ledger
from mirage.privacy._domains import (
    coarse_numeric_grid,
    coarse_range,
    datetime_grid,
    numeric_grid,
    private_categories,
    private_number_range,
    private_range,
)

pytest.importorskip("opendp")


def counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Distinct values, their counts and the missing cells, as a codec's stats hold them."""
    present = values[~np.isnan(values)]
    distinct, counts = np.unique(present, return_counts=True)
    return distinct, counts, int(np.isnan(values).sum())


def test_the_coarse_range_is_the_outer_powers_of_two_widened_by_a_strong_neighbour() -> None:
    values = np.concatenate([np.full(500, 3.0), np.full(400, 100.0), np.full(5, np.nan)])
    # sigma 0.04: the counts as they are
    (low, high), missing = coarse_range(
        *counted(values), coarse_numeric_grid(False), Ledger(1000.0, 1e-9), 300, "x"
    )
    assert (low, high) == (2.0, 128.0) and missing
    whole = np.concatenate([np.zeros(300), np.ones(200), np.full(5, 6.0)])
    (low, high), missing = coarse_range(
        *counted(whole), coarse_numeric_grid(True), Ledger(1000.0, 1e-9), 300, "x"
    )
    assert (low, high) == (0.0, 8.0) and not missing  # whole numbers: zero and one are neighbours
    # sigma 2: 300 rows pass (the cut is ~13), 12 rows next to them widen the range (over 2 sigma),
    # 4 rows two empty buckets away do not
    spread = np.concatenate([np.full(300, 10.0), np.full(12, 20.0), np.full(4, 200.0)])
    (low, high), _ = coarse_range(
        *counted(spread), coarse_numeric_grid(False), Ledger(10.0, 1e-9), 0.125, "x"
    )
    # an empty neighbour passes 2 sigma + 1 with probability 0.006: a range one power of two wider
    assert low in (8.0, 4.0) and high in (32.0, 64.0)


def test_the_fine_range_lies_inside_the_data_and_is_charged_once() -> None:
    rng = np.random.default_rng(0)
    values = np.round(rng.uniform(20.0, 80.0, 20_000), 1)
    ledger = Ledger(1000.0, 1e-9)
    (low, high), missing = private_range(*counted(values), numeric_grid(), ledger, 300.0, "age")
    assert values.min() <= low < high <= values.max() and not missing
    assert [e.what for e in ledger.entries] == ["range of age"] and ledger.entries[0].rho == 300.0


def test_the_noisy_row_count_picks_the_grid() -> None:
    """Few noisy rows per deviation: powers of two (a range reaching past the data's); many: the fine
    grid (inside it)."""
    values = np.concatenate([np.full(400, 3.0), np.full(400, 90.0)])
    (low, high), _ = private_number_range(*counted(values), False, Ledger(1000.0, 1e-9), 300.0, 10.0, "x")
    assert (low, high) == (2.0, 128.0)
    (low, high), _ = private_number_range(*counted(values), False, Ledger(1000.0, 1e-9), 300.0, 1e9, "x")
    assert 3.0 <= low < high <= 90.0


def test_no_range_is_a_clear_error_naming_the_column() -> None:
    values = np.array([1.0, 2.0])
    with pytest.raises(DataError, match=r"column 'thin': too few rows to estimate its range privately"):
        private_range(*counted(values), numeric_grid(), Ledger(0.1, 1e-9), 1e-4, "thin")


def test_datetime_grids_are_in_seconds() -> None:
    grid = datetime_grid()
    assert grid[0] == -5364662400.0 and np.all(np.diff(grid) > 27 * 86_400)  # 1800-01-01, months


def test_categories_of_fewer_than_the_rare_count_are_not_released() -> None:
    ledger = Ledger(1000.0, 1e-9)
    kept, missing = private_categories({"a": 500, "b": 300, "c": 3}, 40, ledger, 300.0, 5e-10, 10, "city")
    assert kept == ["a", "b"] and missing
    (entry,) = ledger.entries
    assert entry.what == "categories of city" and entry.rho == 300.0 and entry.delta == 5e-10


def test_a_thin_spread_is_widened_past_a_thin_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates over 40 years, 77 rows a year, 130 in one, 20 in another: the one year passes its cut (the
    noise is none here, its scale 20); widening the range year by year stopped at the thin year and
    clipped the ten years past it, runs of years past it carry the range to the data's ends."""
    from mirage.privacy import _mechanisms
    from mirage.privacy._domains import coarse_datetime_grid

    monkeypatch.setattr(_mechanisms, "secure_discrete_gaussian", lambda counts, sigma: np.asarray(counts))
    grid = coarse_datetime_grid()
    start = int(np.searchsorted(grid, 0.0))  # 1970
    per_year = np.full(40, 77)
    per_year[10], per_year[30] = 130, 20
    values = np.concatenate(
        [np.linspace(grid[start + y] + 1, grid[start + y + 1] - 1, n) for y, n in enumerate(per_year)]
    )
    rho = 1 / (2 * 20.0**2)
    assert _mechanisms.GaussianMechanism(rho=rho).sigma == pytest.approx(20.0)
    (low, high), _ = coarse_range(
        *counted(values), grid, Ledger(1000.0, 1e-9), rho, "joined", (1, 2, 4, 8, 16)
    )
    assert low <= values.min() and high >= values.max()
    assert high - low <= grid[start + 41] - grid[start - 1]  # a year past either end at most
