"""Columns that refer to a table the database lacks: references to a hidden parent, never learned.

A products table's ``category_id`` and ``supplier_id`` point to categories and suppliers that were not
given.  Learned as a category (or a number), such a column is a small-table privacy leak: on a table
of a few dozen rows each id holds a handful of rows, rare-value protection keeps only the ids the
training rows happen to over-represent, and the synthetic rows then sit closer to the training rows
than to unseen ones (a DCR share of 0.7 on Northwind's 62 learned products).  It is also what the
relational model does not do with keys: keys are regenerated, never copied or learned as categories.

So a column is a *hidden reference* when its name says it is a key (``..._id``, ``...Id``,
``..._key``), it is no key of the database (primary, foreign or unique), its values repeat (a key of
its own table would be unique) and it has no nulls, and it is not declared with ``categories`` (a
column whose values the user declared public stays a category).  It is not learned: the model
records how many distinct values it had per row and the shape of its rows per value (runs of
``rare_min_count`` values, as the children per parent, :func:`mirage.relational.count_shape`), and a
sample gives its rows to that many new values, regenerated in the source's format (integers counted
up from the smallest real one, text in its template), with sizes drawn from that shape.  Which
synthetic rows share a value is drawn at random: the hidden parent has no columns the model could
condition on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import require_mapping
from mirage.relational._keys import KeyGenerator
from mirage.relational._shape import count_shape
from mirage.schema import DatabaseSchema, Kind

__all__ = ["HiddenReference", "find_hidden_references"]

#: a column named as a key: ``category_id``, ``supplierId``, ``SUPPLIER_ID``, ``account_key``
KEY_NAME = re.compile(r"(?i:(^|[_\W])(id|key))$|[a-z](Id|ID|Key)$")


@dataclass
class HiddenReference:
    """A column referring to a table the database lacks: ``values`` distinct values over ``rows`` rows,
    rows per value in ``shape`` (``[[quantile, mean], ...]``; empty: all values alike), new values
    from ``keys``."""

    keys: KeyGenerator
    values: int
    rows: int
    shape: list[list[float]] = field(default_factory=list)

    @classmethod
    def fit(cls, values: pd.Series, min_count: int) -> HiddenReference:
        sizes = values.value_counts(sort=False).to_numpy()
        distinct = pd.Series(pd.unique(values), name=values.name)
        shape = count_shape(sizes, min_count)
        return cls(KeyGenerator.fit(distinct), int(sizes.size), int(values.size), shape)

    def draw(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` rows' values: ``n * values / rows`` new values (at least one), their sizes read off
        the shape at evenly spaced quantiles and rescaled to ``n`` in all, given to the rows at random."""
        if n == 0:
            return self.keys.generate(0)
        count = max(1, min(n, round(n * self.values / max(self.rows, 1))))
        if self.shape:
            points = np.asarray(self.shape, dtype=float)
            quantiles = (np.arange(count) + 0.5) / count
            wanted = np.clip(np.interp(quantiles, points[:, 0], points[:, 1]), 1e-9, None)
        else:
            wanted = np.ones(count)
        share = wanted * (n / wanted.sum())
        sizes = np.floor(share).astype(np.int64)
        short = n - int(sizes.sum())
        if short > 0:
            sizes[np.argsort(sizes - share, kind="stable")[:short]] += 1
        labels = self.keys.generate(count)
        return labels.iloc[rng.permutation(np.repeat(np.arange(count), sizes))].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "keys": self.keys.get_state(),
            "values": self.values,
            "rows": self.rows,
            "shape": [list(p) for p in self.shape],
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> HiddenReference:
        data = require_mapping(data)
        return cls(
            KeyGenerator.from_state(name, require_mapping(data["keys"], "keys")),
            int(data["values"]),
            int(data["rows"]),
            [[float(q), float(m)] for q, m in data.get("shape", [])],
        )


def find_hidden_references(
    database: DatabaseSchema, frame: pd.DataFrame, name: str, own: list[str], min_count: int
) -> dict[str, HiddenReference]:
    """The own columns of table ``name`` that refer to a table the database lacks (module docstring)."""
    table = database[name]
    unique = {c for key in table.unique for c in key}
    out: dict[str, HiddenReference] = {}
    for column in own:
        spec = table.schema[column]
        if spec.kind not in (Kind.CATEGORICAL, Kind.NUMERIC) or spec.categories is not None:
            continue
        if column in unique or not KEY_NAME.search(column):
            continue
        values = frame[column]
        if len(values) < 2 or values.isna().any():
            continue
        if spec.kind is Kind.NUMERIC and not (
            pd.api.types.is_integer_dtype(values.dtype) or bool((values == values.round()).all())
        ):
            continue  # a measurement named like a key (``weight_id`` holding 1.5) stays a number
        distinct = values.nunique()
        if distinct < 2 or distinct == len(values):
            continue
        out[column] = HiddenReference.fit(values, min_count)
    return out
