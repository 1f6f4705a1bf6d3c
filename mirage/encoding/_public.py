"""What ``Codec.reduce`` may be told besides the partitions' stats: public knowledge and a privacy budget.

``PublicBounds`` is what is known without looking at the data (declared in the schema or by whoever
runs the fit): bounds and a category domain that ``reduce`` uses instead of the data's own extremes and
categories.  ``PrivacyBudget`` is the share of a differential-privacy budget one codec's ``reduce`` may
spend on the column's domain (noisy counts of its categories, a noisy histogram of its range over a
public grid, :mod:`mirage.privacy._domains`), charged on the fit's ledger; with a budget the codec learns
only from what it released, never from the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from mirage.errors import OptionError
from mirage.schema import Column, Kind

if TYPE_CHECKING:
    from mirage.privacy._ledger import Ledger

__all__ = ["PrivacyBudget", "PublicBounds", "public_series"]


@dataclass(frozen=True)
class PrivacyBudget:
    """A (rho-zCDP, delta) share of a differential-privacy budget for one ``reduce``, charged on ``ledger``
    (which refuses a charge past the fit's whole budget).  ``delta`` is spent only by the threshold that
    releases categories.  ``rows``: a noisy count of the rows, paid for already, that picks the grid of a
    private range (the fine one when None)."""

    rho: float
    ledger: Ledger
    delta: float = 0.0
    rows: float | None = None

    def __post_init__(self) -> None:
        if not (_is_number(self.rho) and math.isfinite(self.rho) and self.rho > 0):
            raise OptionError(f"budget.rho: expected a finite number > 0, got {self.rho!r}")
        if not (_is_number(self.delta) and 0.0 <= self.delta < 1.0):
            raise OptionError(f"budget.delta: expected a number in [0, 1), got {self.delta!r}")
        # a Ledger, by what it does: importing it here would close an import cycle through mirage._validate
        if not callable(getattr(self.ledger, "spend", None)):
            raise OptionError(f"budget.ledger: expected a Ledger, got {type(self.ledger).__name__}")


@dataclass(frozen=True)
class PublicBounds:
    """Bounds (numbers; datetimes as anything ``pandas.Timestamp`` reads) and a category domain that are
    public: ``reduce`` uses them instead of what the data shows.  None: not known, learned from the data.
    """

    minimum: Any = None
    maximum: Any = None
    categories: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        low, high = self.minimum, self.maximum
        if _is_number(low) and _is_number(high) and float(low) > float(high):
            raise OptionError(f"public.minimum {low!r} is greater than public.maximum {high!r}")
        if self.categories is not None and not isinstance(self.categories, tuple):
            object.__setattr__(self, "categories", tuple(self.categories))

    @classmethod
    def from_column(cls, column: Column) -> PublicBounds:
        """What the schema declares for ``column``: a number's bounds, a categorical's categories."""
        if column.kind is Kind.NUMERIC:
            return cls(column.minimum, column.maximum)
        if column.kind is Kind.CATEGORICAL and column.categories is not None:
            return cls(categories=tuple(column.categories))
        return cls()

    def given(self) -> list[str]:
        """The fields that are set."""
        return [name for name in ("minimum", "maximum", "categories") if getattr(self, name) is not None]


def public_series(cells: list[Any], missing: bool, dtype: str) -> pd.Series:
    """The public values a codec learns from under a budget, in the column's ``dtype`` where it can hold
    them, with one missing cell if ``missing`` and the dtype (public, in the schema) can hold one."""
    kind = pd.api.types.pandas_dtype(dtype)
    can_be_missing = not (pd.api.types.is_integer_dtype(kind) or pd.api.types.is_bool_dtype(kind))
    series = pd.Series([*cells, *([None] if missing and can_be_missing else [])], dtype=object)
    if not cells and pd.api.types.is_numeric_dtype(kind):
        return series.astype("float64")  # nothing released: only the dtype says it holds numbers
    try:
        return series.astype(kind) if series.notna().all() else series.infer_objects()
    except (TypeError, ValueError):
        return series.infer_objects()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
