"""The shape numbers and datetimes share: a missing flag plus one continuous value sub-column.

Missing values are encoded as the median of the observed values, with the flag telling them apart.
Subclasses say how values become floats, what else they learn, and how floats decode.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import require_bounds, require_float
from mirage.encoding._base import Codec, SubColumn
from mirage.encoding._missing import MissingPart

__all__ = ["VALUE_PART", "ContinuousCodec", "reflect"]

VALUE_PART = "value"


def reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``x`` folded back into ``[lo, hi]`` at the bounds, as a kernel density is corrected at its edges.

    Clipping instead would pile every value drawn past a bound onto the bound itself.
    """
    x = np.asarray(x, dtype="float64")
    span = hi - lo
    if not span > 0.0:
        return np.full(x.shape, lo)
    outside = (x < lo) | (x > hi)
    if not outside.any():
        return x
    t = np.mod(x - lo, 2.0 * span)
    folded = np.clip(lo + np.where(t > span, 2.0 * span - t, t), lo, hi)
    return np.where(outside, folded, x)


class ContinuousCodec(Codec):
    missing: MissingPart
    minimum: float
    maximum: float
    fill: float

    @abstractmethod
    def to_floats(self, values: pd.Series) -> np.ndarray:
        """Values as float64, NaN where missing; a clear error names the first bad row."""

    @abstractmethod
    def learn(self, values: pd.Series, observed: np.ndarray) -> None:
        """Set ``minimum``, ``maximum``, ``fill`` and anything else from the non-missing floats."""

    def fit(self, values: pd.Series) -> None:
        self.missing = MissingPart(self.column.name)
        self.missing.fit(values)
        x = self.to_floats(values)
        self.learn(values, x[~np.isnan(x)])

    @property
    def value_name(self) -> str:
        return f"{self.column.name}::{VALUE_PART}"

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [*self.missing.subcolumns, self.sub(VALUE_PART, discrete=False)]

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        x = self.to_floats(values)
        parts = self.missing.encode(values)
        parts[self.value_name] = np.where(np.isnan(x), self.fill, x)
        return parts

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "fill": self.fill,
            "missing": self.missing.get_state(),
        }
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.minimum, self.maximum = require_bounds(state, "minimum", "maximum")
        self.fill = require_float(state, "fill")
        self.missing = MissingPart.from_state(self.column.name, state)
