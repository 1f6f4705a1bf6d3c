"""Parquet column types that pandas does not keep: a ``decimal128(12,2)`` column comes back as floats
and a ``date32`` column as datetimes, which a Parquet writer would write as ``double`` and
``timestamp``.  The reader records such types (as text a schema can hold), the writer casts back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

__all__ = ["arrow_type", "check_parquet_types", "kept_types"]

_DECIMAL = re.compile(r"(decimal128|decimal256)\((\d+),(\d+)\)")
_DATES = {"date32": pa.date32(), "date64": pa.date64()}


def _spelt(kind: pa.DataType) -> str | None:
    if pa.types.is_decimal(kind):
        width = "decimal256" if pa.types.is_decimal256(kind) else "decimal128"
        return f"{width}({kind.precision},{kind.scale})"
    if pa.types.is_date32(kind):
        return "date32"
    if pa.types.is_date64(kind):
        return "date64"
    return None


def kept_types(schema: pa.Schema, names: set[str]) -> dict[str, str]:
    """The columns in ``names`` whose Parquet type pandas loses, each with the type as text."""
    return {f.name: spelt for f in schema if f.name in names and (spelt := _spelt(f.type)) is not None}


def arrow_type(text: str) -> pa.DataType:
    """The Arrow type that :func:`kept_types` spelt as ``text``; ValueError for other text."""
    if text in _DATES:
        return _DATES[text]
    found = _DECIMAL.fullmatch(text)
    if found is None:
        known = "decimal128(P,S), decimal256(P,S), date32, date64"
        raise ValueError(f"unknown Parquet type {text!r} (known: {known})")
    make = pa.decimal128 if found[1] == "decimal128" else pa.decimal256
    try:
        return make(int(found[2]), int(found[3]))
    except (ValueError, pa.ArrowException) as exc:
        raise ValueError(f"Parquet type {text!r}: {exc}") from None


def check_parquet_types(value: Any) -> dict[str, pa.DataType]:
    """``{"amount": "decimal128(12,2)"}`` as Arrow types; ValueError naming the column at fault."""
    if not isinstance(value, Mapping):
        raise ValueError("parquet types must map column names to types")
    out: dict[str, pa.DataType] = {}
    for column, text in value.items():
        if not isinstance(text, str):
            raise ValueError(f"parquet type of column {column!r} must be text, got {text!r}")
        try:
            out[str(column)] = arrow_type(text)
        except ValueError as exc:
            raise ValueError(f"column {column!r}: {exc}") from None
    return out
