"""Related tables: a whole database learned with the single-table engines, every key kept valid."""

from mirage.relational._holdout import split_database
from mirage.relational._synthesizer import (
    RELATIONAL,
    SMALL_TABLE_ROWS,
    RelationalSynthesizer,
    small_table_message,
)

__all__ = [
    "RELATIONAL",
    "SMALL_TABLE_ROWS",
    "RelationalSynthesizer",
    "small_table_message",
    "split_database",
]
