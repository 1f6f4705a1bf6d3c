"""Related tables: a whole database learned with the single-table engines, every key kept valid."""

from mirage.relational._holdout import split_database
from mirage.relational._synthesizer import (
    DATABASE_PARAMS,
    DEFAULT_ENGINE,
    RELATIONAL,
    SMALL_TABLE_ROWS,
    RelationalSynthesizer,
    small_table_message,
)

__all__ = [
    "DATABASE_PARAMS",
    "DEFAULT_ENGINE",
    "RELATIONAL",
    "SMALL_TABLE_ROWS",
    "RelationalSynthesizer",
    "small_table_message",
    "split_database",
]
