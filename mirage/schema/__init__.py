"""Column kinds, inference and the editable JSON schema."""

from mirage.schema._column import KEEP_RESOLUTION, PII_TYPES, Column, Kind, kept_at_resolution
from mirage.schema._database import DatabaseSchema, ForeignKey, Table
from mirage.schema._inference import infer_schema
from mirage.schema._number_text import NumberText, PerRowCurrency, split_affixes, split_currencies
from mirage.schema._schema import Schema

__all__ = [
    "KEEP_RESOLUTION",
    "PII_TYPES",
    "Column",
    "DatabaseSchema",
    "ForeignKey",
    "Kind",
    "NumberText",
    "PerRowCurrency",
    "Schema",
    "Table",
    "infer_schema",
    "kept_at_resolution",
    "split_affixes",
    "split_currencies",
]
