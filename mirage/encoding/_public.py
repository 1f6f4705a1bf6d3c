"""What ``Codec.reduce`` may be told besides the partitions' stats: public knowledge and a privacy budget.

``PublicBounds`` is what is known without looking at the data (declared in the schema or by whoever
runs the fit): bounds and a category domain that ``reduce`` uses instead of the data's own extremes and
categories.  ``PrivacyBudget`` is the share of a differential-privacy budget one codec's ``reduce`` may
spend on noisy counts, private bounds and private quantile edges.  Only the public path is implemented;
a budget is refused until the DP mechanisms land, so a DP engine and the plain one share this path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mirage.errors import OptionError
from mirage.schema import Column, Kind

__all__ = ["PrivacyBudget", "PublicBounds"]


@dataclass(frozen=True)
class PrivacyBudget:
    """An (epsilon, delta) share of a differential-privacy budget for one ``reduce``."""

    epsilon: float
    delta: float = 0.0

    def __post_init__(self) -> None:
        if not (_is_number(self.epsilon) and math.isfinite(self.epsilon) and self.epsilon > 0):
            raise OptionError(f"budget.epsilon: expected a finite number > 0, got {self.epsilon!r}")
        if not (_is_number(self.delta) and 0.0 <= self.delta < 1.0):
            raise OptionError(f"budget.delta: expected a number in [0, 1), got {self.delta!r}")


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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
