"""Synthetic (and holdout) values written another way than the real ones, read as the real ones.

A synthetic file from another tool, or one saved through another format, may write the same category
another way: ``True``/``False`` for a column of ``0``/``1``, ``"1"`` or ``1.0`` for ``1``.  Scored as
they are, every such value is a category the real data never had, and the column's shapes, pairs,
detection and utility read as a broken generator.  Each categorical column's values that are not
values of the real column are mapped to the one real value they write the same way (a number, a
truth value, the same text), and a column most of whose values still are not real values is named in
a warning: its scores compare different things.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mirage._warnings import warn
from mirage.schema import Kind, Schema

__all__ = ["FOREIGN_SHARE", "align_to_real"]

FOREIGN_SHARE = 0.5  # a column with more of its values outside the real ones than this is named

_TRUTH = {"true": 1.0, "false": 0.0}


def _written(value: Any) -> Any:
    """What ``value`` says, the same for ``True``, ``1``, ``1.0``, ``"1"`` and ``"true"``."""
    if isinstance(value, (bool, np.bool_)):
        return float(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else str(value)
    text = str(value).strip()
    if text.lower() in _TRUTH:
        return _TRUTH[text.lower()]
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _as_real(values: pd.Series, dtype: Any) -> pd.Series:
    """``values`` in the real column's dtype where they fit it (a null in an integer column does not)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


def _typed(value: Any) -> tuple[str, Any]:
    """``value`` with its type's family: ``True`` and ``1`` are equal in pandas, not in a report."""
    if isinstance(value, (bool, np.bool_)):
        return ("truth", bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ("number", float(value))
    return ("text", str(value))


def align_to_real(real: pd.DataFrame, other: pd.DataFrame, schema: Schema, name: str) -> pd.DataFrame:
    """``other`` (the ``name`` data: synthetic or holdout) with its categorical values written as the
    real data writes them, where that is unambiguous; a warning names each column whose values are
    still mostly not values of the real column."""
    changed: dict[str, pd.Series] = {}
    for column in schema:
        if column.kind not in (Kind.CATEGORICAL, Kind.BOOLEAN) or column.name not in other.columns:
            continue
        if column.name not in real.columns:
            continue
        known = pd.unique(real[column.name].dropna()).tolist()
        values = other[column.name]
        present = values.notna().to_numpy()
        if not present.any() or not known:
            continue
        typed = {_typed(value): value for value in known}
        by_writing: dict[Any, list[Any]] = {}
        for value in known:
            by_writing.setdefault(_written(value), []).append(value)
        mapping: dict[Any, Any] = {}
        foreign: list[Any] = []
        for value in pd.unique(values[present]).tolist():
            if _typed(value) in typed:
                continue
            same = by_writing.get(_written(value), [])
            if len(same) == 1:
                mapping[value] = same[0]
            else:
                foreign.append(value)
        if mapping:
            mapped = values.astype(object).copy()
            rows = present & values.isin(list(mapping)).to_numpy()
            mapped[rows] = [mapping[value] for value in values[rows].tolist()]
            changed[column.name] = mapped if foreign else _as_real(mapped, real[column.name].dtype)
        share = 0.0
        if foreign:
            outside = {_typed(value) for value in foreign}
            share = float(np.mean([_typed(value) in outside for value in values[present].tolist()]))
        if share > FOREIGN_SHARE:
            examples = ", ".join(repr(value) for value in foreign[:3])
            warn(
                f"column {column.name!r}: {share:.0%} of the {name} values ({examples}) are not values of "
                "the real data, nor written as one; its scores compare different things (check how the "
                f"{name} file writes it)",
                stacklevel=4,
            )
    return other.assign(**changed) if changed else other
