"""Related tables: a whole database learned with the single-table engines, every key kept valid."""

from mirage.relational._holdout import split_database
from mirage.relational._synthesizer import RELATIONAL, RelationalSynthesizer

__all__ = ["RELATIONAL", "RelationalSynthesizer", "split_database"]
