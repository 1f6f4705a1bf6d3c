"""Keys of ``DataFrame.attrs`` that readers set and schema inference reads (no import between them)."""

from __future__ import annotations

__all__ = ["CSV_DIALECT", "JSON_LAYOUT", "PARQUET_TYPES", "PLAIN_CSV"]

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
