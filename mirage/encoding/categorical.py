"""Categories and booleans: one discrete sub-column of codes, missing as a code of its own.

Rare-category protection: a category seen in fewer than ``options.rare_min_count`` training rows is
never emitted verbatim.  Text categories fold into the token ``RARE_TOKEN``; numeric categories fold
into the nearest frequent value (top/bottom coding), so the column keeps its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding._base import Codec, SubColumn
from mirage.errors import DataError

__all__ = ["RARE_TOKEN", "BooleanCodec", "CategoricalCodec"]

RARE_TOKEN = "_RARE_"
CODE_PART = "code"


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class CategoricalCodec(Codec):
    categories: list[Any]  # decoded value of each code; the missing code (if any) comes last
    has_missing: bool
    numeric: bool
    counts: list[int]

    def fit(self, values: pd.Series) -> None:
        col = self.column
        present = values.dropna()
        self.has_missing = bool(values.isna().any())
        self.numeric = bool(present.size) and all(
            isinstance(_python(v), (int, float)) and not isinstance(_python(v), bool)
            for v in present.unique()
        )
        counts = present.value_counts(sort=False)
        if col.categories is not None:
            declared = [_python(c) for c in col.categories]
            counts = counts.reindex(declared, fill_value=0)
            frequent = list(declared)
        else:
            frequent = [_python(v) for v, c in counts.items() if c >= self.options.rare_min_count]
        rare = [_python(v) for v in counts.index if _python(v) not in set(frequent)]
        if self.numeric or col.ordered:
            frequent = sorted(frequent)
        else:
            order = {v: -int(c) for v, c in counts.items()}
            frequent = sorted(frequent, key=lambda v: (order.get(v, 0), str(v)))
        self.categories = list(frequent)
        self._fold: dict[Any, Any] = {}
        if rare:
            if self.numeric and frequent:
                grid = np.asarray(frequent, dtype="float64")
                for v in rare:
                    self._fold[v] = frequent[int(np.abs(grid - float(v)).argmin())]
            elif self.numeric:
                # Nothing is frequent: the whole column collapses to its most common value.
                top = counts.sort_values(ascending=False, kind="stable").index[0]
                self.categories = [_python(top)]
                self._fold = {v: self.categories[0] for v in rare}
            else:
                self.categories.append(RARE_TOKEN)
                self._fold = {v: RARE_TOKEN for v in rare}
        self.counts = [int(counts.get(c, 0)) for c in self.categories]

    @property
    def cardinality(self) -> int:
        return len(self.categories) + int(self.has_missing)

    @property
    def subcolumns(self) -> list[SubColumn]:
        return [self.sub(CODE_PART, discrete=True, cardinality=max(1, self.cardinality))]

    def _lookup(self) -> dict[Any, int]:
        lookup = {c: i for i, c in enumerate(self.categories)}
        for value, target in getattr(self, "_fold", {}).items():
            lookup[value] = lookup[target]
        return lookup

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        lookup = self._lookup()
        missing_code = len(self.categories)
        fallback = lookup.get(RARE_TOKEN)
        codes = np.empty(len(values), dtype="int64")
        for i, value in enumerate(values.to_numpy(dtype=object)):
            if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
                if not self.has_missing:
                    raise DataError(
                        f"column {self.column.name!r}: missing value in row {i}, "
                        "but the column had none when it was learned"
                    )
                codes[i] = missing_code
                continue
            code = lookup.get(_python(value))
            if code is None:
                code = self._nearest(_python(value)) if fallback is None else fallback
            codes[i] = code
        return {f"{self.column.name}::{CODE_PART}": codes}

    def _nearest(self, value: Any) -> int:
        if self.numeric and isinstance(value, (int, float)) and self.categories:
            grid = np.asarray(self.categories, dtype="float64")
            return int(np.abs(grid - float(value)).argmin())
        if not self.categories:
            raise DataError(f"column {self.column.name!r}: value {value!r} was never seen in training")
        return int(np.argmax(self.counts))

    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        codes = np.asarray(parts[f"{self.column.name}::{CODE_PART}"], dtype="int64")
        table = np.empty(self.cardinality, dtype=object)
        table[: len(self.categories)] = self.categories
        if self.has_missing:
            table[len(self.categories)] = None
        values = table[np.clip(codes, 0, max(0, self.cardinality - 1))] if table.size else table
        if not table.size:
            values = np.full(n, None, dtype=object)
        return self._restore_dtype(pd.Series(values, name=self.column.name))

    def _restore_dtype(self, series: pd.Series) -> pd.Series:
        dtype = self.column.dtype
        has_null = bool(series.isna().any())
        if dtype.startswith(("int", "uint")) and has_null:
            dtype = "Int64" if self.numeric else "object"
        if dtype == "bool" and has_null:
            dtype = "boolean"
        try:
            return series.astype(dtype)
        except (TypeError, ValueError):
            return series

    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "categories": self.categories,
            "has_missing": self.has_missing,
            "numeric": self.numeric,
            "counts": self.counts,
        }
        return state, {}

    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.categories = list(state["categories"])
        self.has_missing = bool(state["has_missing"])
        self.numeric = bool(state["numeric"])
        self.counts = [int(c) for c in state["counts"]]
        self._fold = {}


class BooleanCodec(CategoricalCodec):
    """Booleans are two categories; neither is ever rare-folded (both values are public)."""

    def fit(self, values: pd.Series) -> None:
        present = values.dropna()
        self.has_missing = bool(values.isna().any())
        self.numeric = False
        as_bool = present.map(_to_bool)
        bad = as_bool.isna()
        if bad.any():
            raise DataError(
                f"column {self.column.name!r}: value {present[bad].iloc[0]!r} is not a boolean"
            )
        self.categories = [False, True]
        self.counts = [int((~as_bool.astype(bool)).sum()), int(as_bool.astype(bool).sum())]
        self._fold = {}

    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        mapped = values.map(_to_bool, na_action="ignore")
        bad = mapped.isna() & values.notna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            raise DataError(
                f"column {self.column.name!r}: value {values.iloc[row]!r} in row {row} is not a boolean"
            )
        if mapped.isna().any() and not self.has_missing:
            row = mapped.isna().to_numpy().nonzero()[0][0]
            raise DataError(
                f"column {self.column.name!r}: missing value in row {row}, "
                "but the column had none when it was learned"
            )
        codes = np.where(mapped.isna(), 2, mapped.fillna(False).astype(bool).astype("int64"))
        return {f"{self.column.name}::{CODE_PART}": codes.astype("int64")}


_TRUE = {True, 1, "true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y", "1"}
_FALSE = {False, 0, "false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N", "0"}


def _to_bool(value: Any) -> bool | None:
    value = _python(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return bool(value)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None
