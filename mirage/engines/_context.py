"""Context conditioning: each data row drawn given a row of other columns that are never generated.

A child table's rows are learned and drawn given their parent row (the parent's columns, its number of
children); later an event given its entity.  ``fit(data, context=frame)`` pairs row ``i`` of ``frame``
with data row ``i``; ``sample(context=frame)`` gives one row per context row, in its order.  The
context has its own schema and encoder; engines tagged ``context`` see it encoded, as
:class:`ContextParts`, through their ``_fit_given`` and ``_sample_given`` hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mirage.encoding import SubColumn
from mirage.errors import DataError, OptionError, SchemaError
from mirage.schema import Schema, infer_schema

__all__ = ["ContextParts", "prepare_fit_context", "prepare_sample_context"]


@dataclass(frozen=True)
class ContextParts:
    """Encoded context rows as an engine sees them: the context encoder's sub-columns in its order,
    one array of ``n`` values each (continuous ones float64, discrete ones int64 codes)."""

    parts: Mapping[str, np.ndarray]
    subcolumns: tuple[SubColumn, ...]
    n: int

    def matrix(self) -> np.ndarray:
        """The sub-columns side by side as float64, shape ``(n, len(subcolumns))``."""
        if not self.subcolumns:
            return np.zeros((self.n, 0))
        return np.column_stack([np.asarray(self.parts[s.name], dtype="float64") for s in self.subcolumns])


def prepare_fit_context(
    context: object, context_schema: Schema | None, data: pd.DataFrame
) -> tuple[pd.DataFrame, Schema]:
    """The context of ``fit`` checked against ``data`` (one row per data row, no shared column name,
    learned kinds only), with its schema (inferred when None)."""
    if not isinstance(context, pd.DataFrame):
        raise DataError(f"context must be a pandas DataFrame, got {type(context).__name__}")
    if context.shape[1] == 0:
        raise DataError("the context has no columns")
    if len(context) != len(data):
        raise DataError(
            f"the context has {len(context):,} rows but the data has {len(data):,}: row i of the context "
            "is the context of data row i"
        )
    context = context.reset_index(drop=True)
    context.columns = [str(c) for c in context.columns]
    shared = [c for c in context.columns if c in set(data.columns)]
    if shared:
        raise SchemaError(
            f"context column {shared[0]!r} is also a column of the data; rename it in the context"
        )
    schema = infer_schema(context) if context_schema is None else context_schema
    if not isinstance(schema, Schema):
        raise OptionError(f"context_schema must be a Schema, got {type(schema).__name__}")
    schema.validate(context)
    for column in schema:
        if not column.kind.learned:
            raise SchemaError(
                f"context column {column.name!r} is {column.kind.value}: a context column is conditioned "
                "on, so it must be numeric, categorical, boolean or datetime (drop it or declare its kind)"
            )
    return context, schema


def prepare_sample_context(context: object, n: object, schema: Schema) -> pd.DataFrame:
    """The context of ``sample``: its columns of ``schema`` (others are ignored), one row drawn per row."""
    if not isinstance(context, pd.DataFrame):
        raise OptionError(f"context must be a pandas DataFrame, got {type(context).__name__}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n != len(context)):
        raise OptionError(
            f"n is {n!r} but the context has {len(context):,} rows: with context, sample draws one row per "
            "context row (leave n out)"
        )
    frame = context.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    missing = [name for name in schema.names if name not in frame.columns]
    if missing:
        raise DataError(
            f"the context lacks column {missing[0]!r}, which the model was fitted with "
            f"(context columns: {', '.join(schema.names)})"
        )
    return frame[schema.names]
