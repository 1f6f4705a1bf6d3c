"""Column kinds, inference and the editable JSON schema."""

from mirage.schema._column import PII_TYPES, Column, Kind
from mirage.schema._inference import infer_schema
from mirage.schema._schema import Schema

__all__ = ["PII_TYPES", "Column", "Kind", "Schema", "infer_schema"]
