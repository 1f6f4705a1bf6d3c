"""The optional ``<column>::missing`` sub-column, shared by every codec.

A column that had nulls at fit time gets a discrete sub-column with codes 0 (present) and 1 (missing),
so engines learn *where* values are missing jointly with the other columns; ``decode`` blanks those
rows.  A column without nulls at fit time has no such sub-column and never decodes to null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import require, require_bool, require_mapping, within
from mirage.encoding._base import SubColumn, missing_subcolumn

__all__ = ["MissingPart", "MissingStats", "apply_missing", "missing_mask"]


def missing_mask(values: pd.Series) -> np.ndarray:
    """A boolean array, True where ``values`` is null (None, NaN, NaT, pd.NA)."""
    return np.asarray(pd.isna(values), dtype=bool).reshape(-1)


def apply_missing(values: pd.Series, mask: np.ndarray) -> pd.Series:
    """``values`` with nulls where ``mask`` is True.

    Object columns get NaN, integer columns become float64 with NaN (nullable ``Int64`` stays nullable
    with ``<NA>``), datetimes get NaT.  Returns ``values`` itself when nothing is masked.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    return values.mask(pd.Series(mask, index=values.index))


@dataclass(frozen=True)
class MissingStats:
    """Whether a partition had nulls."""

    has_nulls: bool

    @classmethod
    def of(cls, values: pd.Series) -> MissingStats:
        return cls(bool(missing_mask(values).any()))

    @classmethod
    def merge(cls, parts: Iterable[MissingStats]) -> MissingStats:
        return cls(any(p.has_nulls for p in parts))


class MissingPart:
    """Learns whether a column has nulls and, if so, encodes and applies the missing flag."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.present = False  # whether the column had nulls at fit time (and so a sub-column)

    @property
    def name(self) -> str:
        return missing_subcolumn(self.column).name

    def fit(self, values: pd.Series) -> None:
        self.learn(MissingStats.of(values))

    def learn(self, stats: MissingStats) -> None:
        self.present = stats.has_nulls

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [missing_subcolumn(self.column)] if self.present else []

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        """``{"<column>::missing": int64 0/1}`` when present, else an empty dict."""
        if not self.present:
            return {}
        return {self.name: missing_mask(values).astype(np.int64)}

    def mask(self, parts: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """Rows to blank at decode: code 1 of the sub-column, all False when there is none."""
        if not self.present or self.name not in parts:
            return np.zeros(n, dtype=bool)
        codes = np.asarray(parts[self.name]).reshape(-1)[:n]
        out = np.zeros(n, dtype=bool)
        out[: codes.size] = codes.astype(np.int64) == 1
        return out

    def apply(self, values: pd.Series, parts: Mapping[str, np.ndarray]) -> pd.Series:
        """``values`` with nulls where the sub-column says missing."""
        return apply_missing(values, self.mask(parts, len(values)))

    def get_state(self) -> dict[str, Any]:
        return {"present": self.present}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.present = require_bool(state, "present")

    @classmethod
    def from_state(cls, column: str, codec_state: Mapping[str, Any]) -> MissingPart:
        """The part saved under ``codec_state["missing"]`` (errors name ``missing.present``)."""
        part = cls(column)
        with within("missing"):
            part.set_state(require_mapping(require(codec_state, "missing")))
        return part
