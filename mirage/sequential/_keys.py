"""The keys and order values of drawn entities written the way the source wrote them: keys in the
entity column's id format (``C0001``), timestamps in the order column's text format."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pandas as pd

from mirage.encoding import EncodingOptions
from mirage.encoding.datetime import as_written
from mirage.encoding.identifier import IdentifierCodec, parse_id_format
from mirage.schema import Column, Kind

__all__ = ["entity_keys", "order_values"]


def entity_keys(column: Column, start: int, count: int) -> np.ndarray:
    """Keys of entities ``start`` to ``start + count - 1``: numbers for a numeric key column, else text
    in its ``id_format`` (a prefix and digits numbered from 1), else ``e<n>``."""
    if column.kind is Kind.NUMERIC or pd.api.types.is_integer_dtype(_dtype(column.dtype)):
        return np.arange(start, start + count, dtype="int64")
    if not column.id_format:
        return np.asarray([f"e{start + i}" for i in range(count)], dtype=object)
    text = _numbered(column.id_format)
    codec = IdentifierCodec(
        Column(column.name, Kind.IDENTIFIER, dtype="object", id_format=text), EncodingOptions()
    )
    codec.reduce([codec.analyze(pd.Series([], dtype=object))])
    return codec.decode({}, count, np.random.default_rng(0), start).to_numpy(dtype=object)


def _numbered(text: str) -> str:
    """A pattern of a literal prefix and digits (``C0999``: ``C0`` then three digits) as a template
    numbering the keys (``C{:04d}``), which has room for any number of entities, in every block alike."""
    fmt = parse_id_format(text)
    if fmt.kind != "pattern":
        return text
    lead = 0
    while (
        lead < len(fmt.positions) and fmt.positions[lead][0] is None and not fmt.positions[lead][1].isdigit()
    ):
        lead += 1
    rest = fmt.positions[lead:]
    digits = all((a is None and c.isdigit()) or a == string.digits for a, c in rest)
    if not rest or not digits or all(a is None for a, _ in rest):
        return text
    prefix = "".join(c for _, c in fmt.positions[:lead]).replace("{", "{{").replace("}", "}}")
    return f"{prefix}{{:0{len(rest)}d}}"


def order_values(order: np.ndarray, column: Column) -> Any:
    """Order numbers (seconds since the epoch for timestamps) as the order column holds them."""
    if column.kind is Kind.DATETIME:
        stamps = pd.DatetimeIndex(pd.to_datetime(np.rint(order * 1e6).astype("int64"), unit="us"))
        if column.datetime_format and not pd.api.types.is_datetime64_any_dtype(_dtype(column.dtype)):
            return np.asarray(as_written(stamps, column), dtype=object)
        return stamps
    if column.integer:
        return np.rint(order).astype("int64")
    return order


def _dtype(dtype: str) -> Any:
    try:
        return pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return np.dtype(object)
