"""Event sequences per entity: a schema with an entity key and an order, and a model of histories."""

from mirage.sequential._argn import SEQUENTIAL_ARGN, ArgnSequenceSynthesizer
from mirage.sequential._model import ENTITY_BLOCK, SEQUENTIAL, SequenceSynthesizer
from mirage.sequential._schema import (
    SEQUENCE_SCHEMA,
    SequenceSchema,
    history_columns,
    infer_sequence_schema,
    is_sequence_schema,
)
from mirage.sequential._transactions import PAYDAYS, make_transactions

__all__ = [
    "SEQUENTIAL_ARGN",
    "ArgnSequenceSynthesizer",
    "ENTITY_BLOCK",
    "PAYDAYS",
    "SEQUENCE_SCHEMA",
    "SEQUENTIAL",
    "SequenceSchema",
    "SequenceSynthesizer",
    "history_columns",
    "infer_sequence_schema",
    "is_sequence_schema",
    "make_transactions",
]
