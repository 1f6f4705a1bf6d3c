"""Typed conditions for ``sample(conditions=...)``: what a column's values must be in every row drawn.

``conditions`` maps a learned column to a value (equality), a list, tuple or set of values (any of
them), or one of the objects here: ``OneOf(values)``, ``Between(low, high)`` (numbers or dates, both
ends included, either end open with None), ``IsNull()`` and ``NotNull()``.  Engines tagged
``native_conditions`` draw matching rows directly where they can; every other condition is met by
bounded rejection of drawn rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mirage.errors import OptionError
from mirage.schema import Column, Kind, Schema

__all__ = ["Between", "Condition", "IsNull", "NotNull", "OneOf", "resolve_conditions"]


class Condition:
    """What the values of one column must satisfy."""

    def mask(self, values: pd.Series) -> np.ndarray:
        """True where ``values`` satisfy the condition."""
        raise NotImplementedError

    def resolved(self, column: Column) -> Condition:
        """This condition checked against ``column`` (``OptionError`` naming it), its bounds typed."""
        return self


class OneOf(tuple, Condition):
    """Any of ``values`` (one value: equality).  A tuple, so engines that condition natively on sets of
    values read it as one."""

    def __new__(cls, values: Iterable[Any]) -> OneOf:
        return super().__new__(cls, tuple(values))

    def __repr__(self) -> str:
        return f"OneOf({list(self)!r})"

    def mask(self, values: pd.Series) -> np.ndarray:
        return values.isin(list(self)).to_numpy()

    def resolved(self, column: Column) -> Condition:
        if not self:
            raise OptionError(f"condition on column {column.name!r} allows no value")
        return self


@dataclass(frozen=True)
class Between(Condition):
    """Values from ``low`` to ``high``, both included (None: no bound); numbers or dates."""

    low: Any = None
    high: Any = None

    def mask(self, values: pd.Series) -> np.ndarray:
        keep = values.notna().to_numpy(copy=True)
        if self.low is not None:
            keep &= (values >= self.low).fillna(False).to_numpy(dtype=bool)
        if self.high is not None:
            keep &= (values <= self.high).fillna(False).to_numpy(dtype=bool)
        return keep

    def resolved(self, column: Column) -> Condition:
        where = f"condition on column {column.name!r}"
        if column.kind not in (Kind.NUMERIC, Kind.DATETIME):
            raise OptionError(f"{where}: a range needs a numeric or datetime column, not {column.kind.value}")
        if self.low is None and self.high is None:
            raise OptionError(f"{where}: a range needs a low or a high bound")
        bounds = [self._bound(value, column, where) for value in (self.low, self.high)]
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            raise OptionError(f"{where}: the range's low bound {self.low!r} is above its high {self.high!r}")
        return Between(*bounds)

    @staticmethod
    def _bound(value: Any, column: Column, where: str) -> Any:
        if value is None:
            return None
        try:
            if column.kind is Kind.DATETIME:
                return pd.Timestamp(value)
            if isinstance(value, (bool, np.bool_)):
                raise TypeError
            return float(value)
        except (TypeError, ValueError):
            expected = "a date" if column.kind is Kind.DATETIME else "a number"
            raise OptionError(f"{where}: a range bound must be {expected}, got {value!r}") from None


@dataclass(frozen=True)
class IsNull(Condition):
    """The value is missing."""

    def mask(self, values: pd.Series) -> np.ndarray:
        return values.isna().to_numpy()


@dataclass(frozen=True)
class NotNull(Condition):
    """The value is present."""

    def mask(self, values: pd.Series) -> np.ndarray:
        return values.notna().to_numpy()


def as_condition(value: Any) -> Condition:
    """A condition object for a value given in ``conditions``."""
    if isinstance(value, Condition):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return OneOf(value)
    return OneOf((value,))


def resolve_conditions(conditions: Mapping[str, Any], schema: Schema) -> dict[str, Condition]:
    """``conditions`` as condition objects, each checked against its column (``OptionError`` naming it)."""
    if not isinstance(conditions, Mapping):
        raise OptionError(f"conditions must map column names to conditions, got {type(conditions).__name__}")
    names = set(schema.names)
    resolved: dict[str, Condition] = {}
    for column, value in conditions.items():
        if column not in names:
            raise OptionError(f"condition on unknown column {column!r}")
        if not schema[column].kind.learned:
            kind = schema[column].kind.value
            raise OptionError(f"condition on column {column!r}: {kind} columns are generated, not learned")
        resolved[column] = as_condition(value).resolved(schema[column])
    return resolved
