"""Columns that describe one hidden entity, learned together as one column so they stay consistent.

An orders table without its customers still holds them: ``ship_name`` decides ``ship_city``,
``ship_postal_code``, ``ship_region`` and ``ship_country`` (a shipping address repeated for every
order of a customer).  Learned one by one, the engine draws a name, then a city and a country that
need not go with it, and rare-value protection withholds each column's rare values in other rows,
so that almost every synthetic order carries a withheld value or an address that exists nowhere: a
detector tells the joined view apart at an AUC of 0.99 (Northwind without customers).

A *column group* is a text category column (the *determinant*: values repeat, at most one row in two
has a value of its own) and the other text category columns it decides in at least ``FD_SHARE`` of
the rows (nulls equal to nulls), each with no value in more than ``MOST_COMMON_SHARE`` of the rows
(a column that is nearly constant is decided by any other).  The engine learns the group as one
categorical column whose values are the members' values together, so a frequent entity is drawn
whole (its name with its own city and country) and rare-value protection decides per entity,
counting the entity's rows, each entity held to the full margin of ``frequent_categories``
(``by_share=False``): a customer is a small part of the orders, but the customers near the cut are
together most of them, and keeping those the training rows over-represent put Northwind-without-
customers' orders at a DCR share of 0.551 (0.531 with the full margin, 15 held-out folds).  The
rows of an entity too rare to keep fall back to the coarser members: the members with the most
distinct values are withheld first (``RARE_TOKEN``) until what is left is kept (a rare customer
keeps its country where enough rows share it).  At most one group per table, the one with the most
members.  Child tables are not learned given the group (they see
the table's other columns).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding.categorical import RARE_TOKEN, frequent_categories
from mirage.schema import Column, Kind, Schema

__all__ = ["FD_SHARE", "ColumnGroup", "find_column_group"]

FD_SHARE = 0.95
#: a column whose most common value holds more of the rows is decided by anything: it joins no group
MOST_COMMON_SHARE = 0.8


@dataclass(frozen=True)
class ColumnGroup:
    """``members`` (the determinant first, then the others from the most distinct values to the
    fewest) learned as one column ``name``; a fallback withholds the first ones."""

    members: tuple[str, ...]

    @property
    def name(self) -> str:
        return "+".join(self.members)

    def to_dict(self) -> dict[str, Any]:
        return {"members": list(self.members)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnGroup:
        return cls(tuple(str(m) for m in data["members"]))

    def spec(self, schema: Schema) -> Column:
        nullable = any(schema[m].nullable for m in self.members)
        return Column(name=self.name, kind=Kind.CATEGORICAL, dtype="object", nullable=nullable)

    def join(self, frame: pd.DataFrame, rare_min_count: int) -> pd.Series:
        """One value per row: the members' values as JSON, members withheld where the entity is rare
        (module docstring)."""
        values = [[_plain(v) for v in row] for row in frame[list(self.members)].itertuples(index=False)]
        out = np.empty(len(values), dtype=object)
        pending = np.arange(len(values))
        for withheld in range(len(self.members)):
            keys = [json.dumps(values[i][withheld:]) for i in pending]
            counts = pd.Series(keys).value_counts(sort=False)
            kept = set(frequent_categories(counts.to_dict(), rare_min_count, len(frame), by_share=False))
            done = np.array([k in kept for k in keys], dtype=bool)
            for i, key in zip(pending[done], np.asarray(keys, dtype=object)[done], strict=True):
                out[i] = key
            pending = pending[~done]
            if not pending.size:
                break
        for i in pending:
            out[i] = json.dumps([])
        return pd.Series(out, index=frame.index, dtype=object)

    def split(self, joined: pd.Series) -> dict[str, pd.Series]:
        """The members back from the drawn values: withheld ones (and a withheld whole) as
        ``RARE_TOKEN``."""
        rows: list[list[Any]] = []
        for value in joined.tolist():
            parts = json.loads(value) if isinstance(value, str) and value.startswith("[") else []
            rows.append([*[RARE_TOKEN] * (len(self.members) - len(parts)), *parts])
        matrix = np.empty((len(rows), len(self.members)), dtype=object)
        for i, row in enumerate(rows):
            matrix[i, :] = row
        return {m: pd.Series(matrix[:, j], dtype=object) for j, m in enumerate(self.members)}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _is_text_category(spec: Column, values: pd.Series) -> bool:
    if spec.kind is not Kind.CATEGORICAL or spec.categories is not None or spec.id_format is not None:
        return False
    present = values.dropna()
    return bool(len(present)) and bool(present.map(lambda v: isinstance(v, str)).all())


def _decided_share(determinant: pd.Series, other: pd.Series) -> float:
    """The share of rows whose ``other`` value is the most common one among the rows with their
    ``determinant`` value (nulls as a value)."""
    frame = pd.DataFrame({"d": determinant.fillna("\x00null"), "o": other.fillna("\x00null")})
    counts = frame.groupby(["d", "o"], sort=False).size()
    return float(counts.groupby(level=0).max().sum() / len(frame))


def find_column_group(schema: Schema, frame: pd.DataFrame, candidates: Sequence[str]) -> ColumnGroup | None:
    """The table's column group among ``candidates`` (its learned own columns), if it has one."""
    text = [c for c in candidates if _is_text_category(schema[c], frame[c])]
    distinct = {c: int(frame[c].nunique(dropna=False)) for c in text}
    common = {c: float(frame[c].value_counts(dropna=False, normalize=True).max()) for c in text}
    best: tuple[int, int, ColumnGroup] | None = None
    for determinant in text:
        if not 2 <= distinct[determinant] <= len(frame) // 2:
            continue
        members = [
            c
            for c in text
            if c != determinant
            and distinct[c] >= 2
            and common[c] <= MOST_COMMON_SHARE
            and _decided_share(frame[determinant], frame[c]) >= FD_SHARE
        ]
        if not members:
            continue
        members.sort(key=lambda c: -distinct[c])
        group = ColumnGroup((determinant, *members))
        score = (len(members), distinct[determinant])
        if best is None or score > best[:2]:
            best = (*score, group)
    return None if best is None else best[2]
