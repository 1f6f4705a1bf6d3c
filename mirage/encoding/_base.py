"""The codec contract: one reversible codec per column, shared by every engine.

Fitting is split so that it can run over partitions: ``analyze`` reads one partition of the column and
returns a small frozen stats object, ``reduce`` merges the stats of every partition and learns from the
merge; ``fit(values)`` is ``reduce([analyze(values)])``.  Fitting on partitions and reducing equals
fitting on the whole column.  ``reduce`` also takes what is public (bounds and category domains, by
default those the schema declares) and, for a DP engine, a privacy budget (the codec then learns only
from the domain it releases with it, see ``PrivacyBudget``).  Codecs never write
into their ``Column``: what fitting learns stays in the codec's state.

A codec turns one column into named *sub-columns* that engines model jointly: continuous ones
(float64, no NaN) and discrete ones (int64 codes in ``[0, cardinality)``).  ``decode`` is the exact
inverse on everything the codec learned; columns that are never learned (identifiers, PII, free text)
are generated at decode time from the codec's own state, the sub-columns and a seeded generator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.errors import OptionError
from mirage.schema import Column

__all__ = ["EXACT_VALUES_LIMIT", "Codec", "EncodingOptions", "SubColumn", "as_dtype", "missing_subcolumn"]

StatsT = TypeVar("StatsT")

MISSING_PART = "missing"
EXACT_VALUES_LIMIT = 1_000_000  # distinct values a column's stats count exactly before sketching


def as_dtype(values: pd.Series, dtype: str) -> pd.Series:
    """``values.astype(dtype)`` for a dtype given by its name, as schemas store it."""
    return values.astype(pd.api.types.pandas_dtype(dtype))


@dataclass(frozen=True)
class EncodingOptions:
    """Settings shared by every codec of a table."""

    rare_min_count: int = 10  # a category seen in fewer rows is never emitted verbatim
    locale: str = "en_US"  # Faker locale for PII and text when the column names none
    #: distinct values a number or datetime column counts exactly; past it a deterministic quantile sketch
    #: summarises them (``mirage.encoding._sketch``).  A fit-time setting: model files do not store it.
    exact_values_limit: int = EXACT_VALUES_LIMIT

    def __post_init__(self) -> None:
        limit = self.exact_values_limit
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise OptionError(f"exact_values_limit: expected an integer >= 1, got {limit!r}")


@dataclass(frozen=True)
class SubColumn:
    name: str  # "<column>::<part>"
    column: str
    part: str
    discrete: bool
    cardinality: int = 0  # number of codes for a discrete sub-column, 0 for a continuous one


def missing_subcolumn(column: str) -> SubColumn:
    return SubColumn(f"{column}::{MISSING_PART}", column, MISSING_PART, discrete=True, cardinality=2)


class Codec(ABC, Generic[StatsT]):
    """Encodes and decodes one column.  ``analyze``/``reduce`` (or ``fit``) learn, ``get_state``/``set_state``
    persist."""

    #: the ``PublicBounds`` fields ``reduce`` can use for this kind of column
    public_fields: tuple[str, ...] = ()
    #: whether ``reduce`` takes a privacy budget (columns that are generated, never learned, do not)
    takes_budget: bool = False

    def __init__(self, column: Column, options: EncodingOptions) -> None:
        self.column = column
        self.options = options

    def sub(self, part: str, *, discrete: bool, cardinality: int = 0) -> SubColumn:
        return SubColumn(f"{self.column.name}::{part}", self.column.name, part, discrete, cardinality)

    def fit(self, values: pd.Series) -> None:
        """Learn what decoding needs from the training values of this column."""
        self.reduce([self.analyze(values)])

    @abstractmethod
    def analyze(self, values: pd.Series) -> StatsT:
        """What one partition of the training values contributes (frozen; reads no other partition)."""

    @abstractmethod
    def reduce(
        self,
        stats: Sequence[StatsT],
        *,
        budget: PrivacyBudget | None = None,
        public: PublicBounds | None = None,
    ) -> StatsT:
        """Merge the partitions' stats, learn from the merge and return it; a clear error when empty.

        ``public``: bounds and categories to use instead of the data's (default: what the column declares).
        ``budget``: the privacy budget for the domain the public bounds leave open; with it the codec
        learns only from the released domain (an ``OptionError`` for a codec that takes none).
        """

    def public_bounds(self, budget: PrivacyBudget | None, public: PublicBounds | None) -> PublicBounds:
        """What ``reduce`` takes as public: ``public``, else what the column declares; refuses a budget
        where the codec takes none."""
        name = self.column.name
        if budget is not None and not self.takes_budget:
            raise OptionError(
                f"column {name!r}: budget: a {self.column.kind.value} column is generated, never measured "
                "with a privacy budget (fit it without one)"
            )
        if public is None:
            return PublicBounds.from_column(self.column)
        extra = [field for field in public.given() if field not in self.public_fields]
        if extra:
            kind = self.column.kind.value
            raise OptionError(f"column {name!r}: public.{extra[0]} does not apply to a {kind} column")
        return public

    @property
    @abstractmethod
    def subcolumns(self) -> list[SubColumn]:
        """The sub-columns ``encode`` returns, in order (may be empty)."""

    @abstractmethod
    def encode(self, values: pd.Series) -> dict[str, np.ndarray]:
        """Map values to one array per sub-column name (float64 continuous, int64 discrete)."""

    @abstractmethod
    def decode(
        self, parts: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, start: int
    ) -> pd.Series:
        """Rebuild ``n`` values with the column's dtype; ``start`` is the global index of row 0."""

    @abstractmethod
    def get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-serialisable state and numeric arrays; no pickled objects."""

    @abstractmethod
    def set_state(self, state: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Restore what ``get_state`` returned."""
