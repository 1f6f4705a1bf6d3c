"""Child columns that follow a parent column: taken from the generated parent row, not learned alone.

An order's ship address is its customer's address in most rows; an order line's price is its
product's price in most rows (a discount or an old price list in the others).  Learned as a column of
its own, such a column loses the link: the ship city is drawn from the cities of learned customers
(so synthetic orders sit closer to the learned families than to held ones, and ship to a city their
customer is not in), and the line price is drawn apart from the product it is matched to.

* **copy**: a child column equal to a parent column in at least ``COPY_SHARE`` of the rows that have
  a parent (nulls equal to nulls) is not learned: each generated child row takes its generated
  parent row's value (so it is as protected as the parent's column: a PII address replaced, a rare
  city withheld).
* **ratio** / **difference**: a numeric child column equal to a numeric parent column in at least
  ``DERIVE_SHARE`` of the rows is learned as its ratio to the parent's value (where every parent
  value is positive and every child value non-negative) or as the difference, and turned back with
  the generated parent row's value.

Either way the equality must be far more frequent than chance (two columns of mostly ``False``
agree without following each other): the share expected of independent columns must stay under
``CHANCE_SHARE``.  Key columns never take part, nor datetime columns (learned as offsets instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind

__all__ = ["COPY_SHARE", "DERIVE_SHARE", "Derived", "find_derived", "from_parent", "to_learned"]

COPY_SHARE = 0.9
DERIVE_SHARE = 0.5
CHANCE_SHARE = 0.5


@dataclass(frozen=True)
class Derived:
    """Child column from ``fk``'s parent column ``parent_column``: ``how`` is copy, ratio or difference."""

    fk: str
    parent_column: str
    how: str

    def to_dict(self) -> dict[str, Any]:
        return {"fk": self.fk, "parent_column": self.parent_column, "how": self.how}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Derived:
        how = str(data["how"])
        if how not in ("copy", "ratio", "difference"):
            raise ValueError(f"unknown derivation {how!r}")
        return cls(str(data["fk"]), str(data["parent_column"]), how)


def _canonical(values: pd.Series) -> np.ndarray:
    """Values as comparable text: whole floats as integers, nulls as one marker."""
    if pd.api.types.is_float_dtype(values.dtype):
        present = values.dropna()
        if len(present) and (present == present.round()).all():
            values = values.astype("Int64")
    text = values.astype(str).to_numpy(dtype=object)
    text[values.isna().to_numpy()] = "\x00null"
    return text


def _chance(child: np.ndarray, parent: np.ndarray) -> float:
    """The share of equal pairs two independent columns with these frequencies would have."""
    a = pd.Series(child).value_counts(normalize=True)
    b = pd.Series(parent).value_counts(normalize=True)
    common = a.index.intersection(b.index)
    return float((a[common] * b[common]).sum())


def _is_numeric(spec: Column) -> bool:
    return spec.kind is Kind.NUMERIC


def find_derived(
    database: DatabaseSchema,
    frames: Mapping[str, pd.DataFrame],
    name: str,
    own: list[str],
    parents: list[tuple[ForeignKey, np.ndarray]],
) -> dict[str, Derived]:
    """Per own column of table ``name`` that follows a column of one of its ``parents`` (each foreign
    key with every row's parent row position, -1 for none), how it is derived (module docstring)."""
    schema = database[name].schema
    frame = frames[name]
    out: dict[str, Derived] = {}
    for column in own:
        spec = schema[column]
        if spec.kind is Kind.DATETIME:
            continue
        best: tuple[float, Derived] | None = None
        for fk, positions in parents:
            present = positions >= 0
            if present.sum() < 2:
                continue
            parent_frame = frames[fk.parent]
            parent_schema = database[fk.parent].schema
            parent_keys = set(database.key_columns(fk.parent))
            child_values = frame[column][present].reset_index(drop=True)
            child_text = _canonical(child_values)
            for parent_column in parent_schema.names:
                parent_spec = parent_schema[parent_column]
                if parent_column in parent_keys or parent_spec.kind is Kind.DATETIME:
                    continue
                parent_values = parent_frame[parent_column].iloc[positions[present]].reset_index(drop=True)
                if parent_values.isna().any() and not child_values.isna().any():
                    continue  # taken from the parent, a column that never had a null would get some
                parent_text = _canonical(parent_values)
                share = float((child_text == parent_text).mean())
                if _chance(child_text, parent_text) >= CHANCE_SHARE:
                    continue
                how = None
                if share >= COPY_SHARE:
                    how = "copy"
                elif share >= DERIVE_SHARE and _is_numeric(spec) and _is_numeric(parent_spec):
                    how = _numeric_how(child_values, parent_values)
                if how is not None and (best is None or share > best[0]):
                    best = (share, Derived(fk.name, parent_column, how))
        if best is not None:
            out[column] = best[1]
    return out


def _numeric_how(child: pd.Series, parent: pd.Series) -> str | None:
    c = pd.to_numeric(child, errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(parent, errors="coerce").to_numpy(dtype=float)
    if np.isnan(p[~np.isnan(c)]).any():
        return None  # a child value without a parent value to derive it from
    present = ~np.isnan(c)
    if (p[present] > 0).all() and (c[present] >= 0).all():
        return "ratio"
    return "difference"


def to_learned(values: pd.Series, parent_values: pd.Series, how: str) -> pd.Series:
    """What the engine learns of a ratio or difference column."""
    c = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(parent_values, errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        learned = c / p if how == "ratio" else c - p
    return pd.Series(np.where(np.isfinite(learned), learned, np.nan), dtype="float64")


def from_parent(learned: pd.Series | None, parent_values: pd.Series, how: str, spec: Column) -> pd.Series:
    """The child column back from its generated parent's values (and the learned ratio or difference)."""
    parent_values = parent_values.reset_index(drop=True)
    if how == "copy" or learned is None:
        return parent_values
    r = pd.to_numeric(learned, errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(parent_values, errors="coerce").to_numpy(dtype=float)
    values = r * p if how == "ratio" else r + p
    if spec.integer:
        values = np.round(values)
    elif spec.decimals is not None:
        values = np.round(values, spec.decimals)
    return pd.Series(values, dtype="float64")
