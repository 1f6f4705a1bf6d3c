"""Mirage: privacy-safe synthetic data.  Learn a table, generate any amount, prove how good it is."""

from mirage._api import fit, load
from mirage._version import __version__
from mirage.engines import CartSynthesizer, CopulaSynthesizer, Synthesizer, choose_engine
from mirage.errors import (
    DataError,
    MirageError,
    ModelFileError,
    OptionError,
    OutputExistsError,
    SchemaError,
)
from mirage.schema import Column, Kind, Schema, infer_schema

__all__ = [
    "CartSynthesizer",
    "Column",
    "CopulaSynthesizer",
    "DataError",
    "Kind",
    "MirageError",
    "ModelFileError",
    "OptionError",
    "OutputExistsError",
    "Schema",
    "SchemaError",
    "Synthesizer",
    "__version__",
    "choose_engine",
    "fit",
    "infer_schema",
    "load",
]
