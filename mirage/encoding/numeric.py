"""Numbers: a continuous value sub-column, decoded within bounds at the learned precision.

Decoding is the exact inverse on the learned support: values are clipped to the column's bounds,
rounded to its decimal precision, and integers come back as integers.  Missing values are encoded
as the median plus a ``missing`` flag sub-column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding._base import Codec, SubColumn, as_dtype
from mirage.encoding._missing import MissingPart
from mirage.errors import DataError

__all__ = ["NumericCodec", "to_float"]

VALUE_PART = "value"


def to_float(values: pd.Series, column: str) -> np.ndarray:
    """Values as float64 with NaN for missing; a clear error names the first non-numeric row."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() & values.notna()
    if bad.any():
        row = bad.to_numpy().nonzero()[0][0]
        raise DataError(f"column {column!r}: value {values.iloc[row]!r} in row {row} is not a number")
    return numeric.astype("float64").to_numpy()


class NumericCodec(Codec):
    missing: MissingPart
    minimum: float
    maximum: float
    integer: bool
    decimals: int | None
    fill: float

    def fit(self, values: pd.Series) -> None:
        col = self.column
        self.missing = MissingPart(col.name)
        self.missing.fit(values)
        x = to_float(values, col.name)
        observed = x[~np.isnan(x)]
        if np.isinf(observed).any():
            raise DataError(f"column {col.name!r}: infinite values cannot be learned")
        if observed.size == 0:
            observed = np.array([col.minimum if col.minimum is not None else 0.0])
        self.minimum = float(col.minimum) if col.minimum is not None else float(observed.min())
        self.maximum = float(col.maximum) if col.maximum is not None else float(observed.max())
        self.integer = bool(col.integer)
        self.decimals = 0 if self.integer else col.decimals
        self.fill = float(np.median(observed))

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [*self.missing.subcolumns, self.sub(VALUE_PART, discrete=False)]

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        x = to_float(values, self.column.name)
        parts = self.missing.encode(values)
        parts[f"{self.column.name}::{VALUE_PART}"] = np.where(np.isnan(x), self.fill, x)
        return parts

    def finish(self, x: np.ndarray) -> np.ndarray:
        """Clip to the bounds and round to the learned precision."""
        x = np.clip(x, self.minimum, self.maximum)
        if self.decimals is not None:
            x = np.round(x, self.decimals)
        return x

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        x = self.finish(np.asarray(parts[f"{self.column.name}::{VALUE_PART}"], dtype="float64"))
        mask = self.missing.mask(parts, n)
        dtype = self.column.dtype
        if mask.any():
            x = np.where(mask, np.nan, x)
            if dtype.startswith(("int", "uint")):
                dtype = "float64" if not self.integer else "Int64"
        return as_dtype(pd.Series(x, name=self.column.name), dtype)

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "integer": self.integer,
            "decimals": self.decimals,
            "fill": self.fill,
            "missing": self.missing.get_state(),
        }
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.minimum = float(state["minimum"])
        self.maximum = float(state["maximum"])
        self.integer = bool(state["integer"])
        self.decimals = state["decimals"]
        self.fill = float(state["fill"])
        self.missing = MissingPart(self.column.name)
        self.missing.set_state(state["missing"])
