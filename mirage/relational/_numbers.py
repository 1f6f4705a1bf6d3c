"""Number columns held as categories of which no value is frequent: learned as numbers.

A column of a few whole numbers (a product's reorder level: 0, 5, ..., 30) is inferred categorical,
and rare-value protection emits a category verbatim only when at least ``rare_min_count`` rows hold
it, folding the others into their nearest kept neighbour.  Where no value reaches that count (a small
table, or many levels of a few rows each), nothing is kept, and the whole column collapses onto its
most common value: every generated row takes one real value that a handful of rows hold.  Such a
column is learned as a number instead, drawn from its smoothed distribution, whose rare extremes the
engines already withhold.  Declared categories are a public domain, never folded, and stay categories.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from mirage.schema import Column, Kind, Schema
from mirage.schema._inference import _measured

__all__ = ["as_numbers"]


def as_numbers(schema: Schema, data: pd.DataFrame, rare_min_count: int) -> Schema:
    """``schema``, with each number category column of ``data`` whose every value fewer than
    ``rare_min_count`` rows hold turned into a numeric column (its range and decimals read from
    ``data``); ``schema`` itself when there is none."""
    if rare_min_count <= 1:  # protection off: every category is kept
        return schema
    turned = {
        spec.name: _numeric(spec, data[spec.name])
        for spec in schema
        if _all_rare_numbers(spec, data[spec.name], rare_min_count)
    }
    if not turned:
        return schema
    return replace(schema, columns=[turned.get(spec.name, spec) for spec in schema])


def _all_rare_numbers(spec: Column, values: pd.Series, rare_min_count: int) -> bool:
    if spec.kind is not Kind.CATEGORICAL or spec.categories is not None:
        return False
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return False
    present = values.dropna()
    return bool(len(present)) and int(present.value_counts().max()) < rare_min_count


def _numeric(spec: Column, values: pd.Series) -> Column:
    x = values.dropna().to_numpy(dtype="float64")
    whole = bool(np.all(np.isfinite(x)) and np.all(np.mod(x, 1.0) == 0.0))
    return _measured(x, whole, {"name": spec.name, "dtype": spec.dtype, "nullable": spec.nullable})
