"""Mirage: privacy-safe synthetic data.  Learn a table, generate any amount, prove how good it is."""

from mirage._api import fit, load
from mirage._version import __version__
from mirage.engines import ArgnSynthesizer, CartSynthesizer, CopulaSynthesizer, Synthesizer, choose_engine
from mirage.errors import (
    DataError,
    MirageError,
    ModelFileError,
    OptionError,
    OutputExistsError,
    SchemaError,
)
from mirage.schema import Column, Kind, Schema, infer_schema

_LAZY = {"evaluate": "mirage.evaluation", "Report": "mirage.evaluation"}


def __getattr__(name: str) -> object:
    # The evaluation stack imports scikit-learn and plotly: load it on first use only.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mirage' has no attribute {name!r}")


__all__ = [
    "ArgnSynthesizer",
    "CartSynthesizer",
    "Column",
    "CopulaSynthesizer",
    "DataError",
    "Kind",
    "MirageError",
    "ModelFileError",
    "OptionError",
    "OutputExistsError",
    "Report",
    "Schema",
    "SchemaError",
    "Synthesizer",
    "__version__",
    "choose_engine",
    "evaluate",
    "fit",
    "infer_schema",
    "load",
]
