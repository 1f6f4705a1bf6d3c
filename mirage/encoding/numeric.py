"""Numbers: a continuous value sub-column, decoded within bounds with the learned mix of precisions.

Decoding is the exact inverse on the learned support: values past the column's bounds are reflected
back inside (a smoothed draw near the minimum stays near it rather than piling onto it), then moved
onto grids drawn from the column's learned rounding pattern (:mod:`mirage.encoding._rounding`: whole
numbers stay whole, the few values with decimals keep theirs), and integers come back as integers.
Missing values are encoded as the median plus a ``missing`` flag sub-column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import require_bool, require_optional_int
from mirage.encoding._base import as_dtype
from mirage.encoding._continuous import (
    ContinuousCodec,
    ContinuousStats,
    counted_values,
    observed_values,
    reflect,
)
from mirage.encoding._public import PrivacyBudget, PublicBounds, public_series
from mirage.encoding._rounding import RoundingPattern
from mirage.encoding._sketch import ValueSketch
from mirage.errors import DataError, ModelFileError, OptionError

__all__ = ["NumericCodec", "to_float"]


def to_float(values: pd.Series, column: str) -> np.ndarray:
    """Values as float64 with NaN for missing; a clear error names the first non-numeric row."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy()
    if pd.api.types.is_timedelta64_dtype(values.dtype):  # durations are learned in seconds
        return values.dt.total_seconds().to_numpy(dtype="float64")
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() & values.notna()
    if bad.any():
        row = bad.to_numpy().nonzero()[0][0]
        raise DataError(f"column {column!r}: value {values.iloc[row]!r} in row {row} is not a number")
    return numeric.astype("float64").to_numpy()


def _public_number(value: Any, column: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise OptionError(
            f"column {column!r}: public bounds of a number must be finite numbers, got {value!r}"
        )
    return float(value)


class NumericCodec(ContinuousCodec):
    public_fields = ("minimum", "maximum")
    takes_budget = True
    integer: bool
    decimals: int | None
    rounding: RoundingPattern | None  # None in models saved before patterns were learned

    def to_floats(self, values: pd.Series) -> np.ndarray:
        return to_float(values, self.column.name)

    def learn(self, stats: ContinuousStats, public: PublicBounds) -> None:
        col = self.column
        observed = observed_values(stats.observed)
        if np.isinf(observed).any():
            raise DataError(f"column {col.name!r}: infinite values cannot be learned")
        low, high = _public_number(public.minimum, col.name), _public_number(public.maximum, col.name)
        if observed.size == 0:
            observed = np.array([low if low is not None else 0.0])
        self.minimum = low if low is not None else float(observed.min())
        self.maximum = high if high is not None else float(observed.max())

        self.integer = bool(col.integer)
        self.decimals = 0 if self.integer else col.decimals
        self.fill = float(np.median(observed))
        min_count = self.options.rare_min_count
        if isinstance(stats.observed, ValueSketch):
            min_count = max(min_count, stats.observed.piece_rows(observed.size))
        self.rounding = RoundingPattern.learn(observed, decimals=self.decimals, min_count=min_count)

    def released(self, stats: ContinuousStats, budget: PrivacyBudget, public: PublicBounds) -> pd.Series:
        from mirage.encoding.categorical import clearing_count
        from mirage.privacy._domains import GRID_POINTS, private_number_range

        col = self.column
        low, high = _public_number(public.minimum, col.name), _public_number(public.maximum, col.name)
        missing = col.nullable
        if low is None or high is None:
            values, counts = counted_values(stats, col.name)
            (found_low, found_high), missing = private_number_range(
                values, counts, stats.missing_rows, bool(col.integer), budget.ledger, budget.rho, budget.rows,
                col.name,
            )  # fmt: skip
            low = found_low if low is None else low
            high = found_high if high is None else high
        grid = np.linspace(low, high, GRID_POINTS)
        points = np.unique(np.round(grid)) if col.integer else grid
        # each point in enough cells to count as a value the column rounds to (as a kept category)
        cells = [float(v) for v in points for _ in range(clearing_count(self.options.rare_min_count))]
        return public_series(cells, missing, col.dtype)

    def finish(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Reflect into the bounds and round as the training values were rounded."""
        x = reflect(x, self.minimum, self.maximum)
        if self.rounding is not None:
            x = self.rounding.apply(x, rng, self.minimum, self.maximum)
        if self.decimals is not None:
            x = np.clip(np.round(x, self.decimals), self.minimum, self.maximum)
        return x

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        x = self.finish(np.asarray(parts[self.value_name], dtype="float64"), rng)
        mask = self.missing.mask(parts, n)
        dtype = self.column.dtype
        if mask.any():
            x = np.where(mask, np.nan, x)
            if dtype.startswith(("int", "uint")):
                dtype = "float64" if not self.integer else "Int64"
        if dtype.startswith("timedelta"):
            return as_dtype(pd.Series(pd.to_timedelta(x, unit="s"), name=self.column.name), dtype)
        return as_dtype(pd.Series(x, name=self.column.name), dtype)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super().get_state()
        state.update(integer=self.integer, decimals=self.decimals)
        if self.rounding is not None:
            arrays.update(self.rounding.get_arrays())
        return state, arrays

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        super().set_state(state, arrays)
        self.integer = require_bool(state, "integer")
        self.decimals = require_optional_int(state, "decimals", low=0)
        try:
            self.rounding = RoundingPattern.from_arrays(arrays)
        except ValueError as exc:
            raise ModelFileError(f"column {self.column.name!r}: {exc}") from None
