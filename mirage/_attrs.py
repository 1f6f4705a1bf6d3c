"""Keys of ``DataFrame.attrs`` that readers set and schema inference reads (no import between them)."""

from __future__ import annotations

from typing import Any

__all__ = ["CSV_DIALECT", "JSON_LAYOUT", "PARQUET_TYPES", "PLAIN_CSV", "source_extra"]

# How a CSV file wrote its fields and numbers ({"delimiter": ";", "decimal": ","}): kept in the schema
# so that synthetic CSV output is written the way the source was.
CSV_DIALECT = "mirage.csv"
# The dialect written when none is recorded: comma-separated, decimal point.
PLAIN_CSV = {"delimiter": ",", "decimal": "."}
# How a JSON file nested its objects and held lists ({"nested": true, "lists": ["tags"]}): kept in the
# schema so that synthetic JSON output is nested the way the source was.
JSON_LAYOUT = "mirage.json"
# The Parquet types of a Parquet file's columns that pandas does not keep ({"amount": "decimal128(12,2)",
# "day": "date32"}): kept in the schema so that synthetic Parquet output has the source's column types.
PARQUET_TYPES = "mirage.parquet"


def source_extra(attrs: dict[Any, Any], columns: Any) -> dict[str, Any]:
    """How the file a frame was read from was written, from its ``attrs`` (what a schema's ``extra``
    keeps): ``csv`` (unless plain), ``json`` and the ``parquet`` types of the frame's ``columns``."""
    extra: dict[str, Any] = {}
    dialect = attrs.get(CSV_DIALECT)
    if isinstance(dialect, dict) and dialect != PLAIN_CSV:
        extra["csv"] = dict(dialect)
    layout = attrs.get(JSON_LAYOUT)
    if isinstance(layout, dict):
        extra["json"] = dict(layout)
    types = attrs.get(PARQUET_TYPES)
    if isinstance(types, dict):
        extra["parquet"] = {"types": {name: kind for name, kind in types.items() if name in columns}}
    return extra
