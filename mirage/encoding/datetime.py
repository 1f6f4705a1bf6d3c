"""Datetimes: seconds since the epoch as a continuous sub-column, decoded at the learned resolution.

Text datetimes keep their strftime format so written output looks like the input; native datetime
columns come back as ``datetime64``.  Time zones are converted to UTC for learning and restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import require_str, require_time_zone
from mirage.encoding._base import as_dtype
from mirage.encoding._continuous import ContinuousCodec
from mirage.errors import DataError

__all__ = ["DatetimeCodec", "parse_datetimes"]

_UNITS = {"D": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6}


def parse_datetimes(values: pd.Series, column: str, fmt: str | None) -> pd.Series:
    """Parse to naive UTC ``datetime64[ns]``; a clear error names the first unparseable row."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=False)
        bad = parsed.isna() & values.notna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            expected = f" (expected format {fmt!r})" if fmt else ""
            raise DataError(
                f"column {column!r}: value {values.iloc[row]!r} in row {row} is not a datetime{expected}"
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _seconds(parsed: pd.Series) -> np.ndarray:
    ns = parsed.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    return np.where(parsed.isna().to_numpy(), np.nan, ns / 1e9)


class DatetimeCodec(ContinuousCodec):
    unit: str
    tz: str | None

    def to_floats(self, values: pd.Series) -> np.ndarray:
        return _seconds(parse_datetimes(values, self.column.name, self.column.datetime_format))

    def learn(self, values: pd.Series, observed: np.ndarray) -> None:
        tz = getattr(getattr(values, "dt", None), "tz", None) if hasattr(values, "dt") else None
        self.tz = str(tz) if tz is not None else None
        if observed.size == 0:
            observed = np.array([0.0])
        self.minimum, self.maximum = float(observed.min()), float(observed.max())
        self.unit = next(
            (u for u, step in _UNITS.items() if np.allclose(np.mod(observed, step), 0.0, atol=1e-7)),
            "us",
        )
        self.fill = float(np.median(observed))

    def finish(self, seconds: np.ndarray) -> np.ndarray:
        step = _UNITS[self.unit]
        return np.clip(np.round(seconds / step) * step, self.minimum, self.maximum)

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        seconds = self.finish(np.asarray(parts[self.value_name], dtype="float64"))
        stamps = pd.Series(
            pd.to_datetime(np.round(seconds * 1e6).astype("int64"), unit="us"), name=self.column.name
        ).astype("datetime64[ns]")
        mask = self.missing.mask(parts, n)
        if mask.any():
            stamps = stamps.where(~mask)
        if self.tz is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.tz)
        if self.column.datetime_format is not None:
            text = stamps.dt.strftime(self.column.datetime_format)
            return as_dtype(text.where(~mask, None), self.column.dtype)
        return stamps

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, arrays = super().get_state()
        state.update(unit=self.unit, tz=self.tz)
        return state, arrays

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        super().set_state(state, arrays)
        self.unit = require_str(state, "unit", choices=list(_UNITS))
        self.tz = require_time_zone(state, "tz")
