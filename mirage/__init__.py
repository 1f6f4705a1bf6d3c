"""Mirage: privacy-safe synthetic data.  Learn a table, generate any amount, prove how good it is.

Everything but the version and the errors is imported on first use: ``import mirage`` (and so the
``mirage`` command's start-up) loads neither pandas nor scikit-learn nor PyTorch until needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mirage._version import __version__
from mirage.errors import (
    DataError,
    MirageError,
    MissingDependencyError,
    ModelFileError,
    NotFittedError,
    OptionError,
    OutputExistsError,
    SchemaError,
)

if TYPE_CHECKING:
    from mirage._api import fit, load
    from mirage.control import augment
    from mirage.engines import (
        ArgnSynthesizer,
        CartSynthesizer,
        CopulaSynthesizer,
        Synthesizer,
        choose_engine,
    )
    from mirage.evaluation import Report, evaluate
    from mirage.schema import Column, DatabaseSchema, ForeignKey, Kind, Schema, Table, infer_schema

_LAZY = {
    "fit": "mirage._api",
    "load": "mirage._api",
    "augment": "mirage.control",
    "ArgnSynthesizer": "mirage.engines",
    "CartSynthesizer": "mirage.engines",
    "CopulaSynthesizer": "mirage.engines",
    "Synthesizer": "mirage.engines",
    "choose_engine": "mirage.engines",
    "evaluate": "mirage.evaluation",
    "Report": "mirage.evaluation",
    "Column": "mirage.schema",
    "DatabaseSchema": "mirage.schema",
    "ForeignKey": "mirage.schema",
    "Table": "mirage.schema",
    "Kind": "mirage.schema",
    "Schema": "mirage.schema",
    "infer_schema": "mirage.schema",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mirage' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ArgnSynthesizer",
    "CartSynthesizer",
    "Column",
    "CopulaSynthesizer",
    "DataError",
    "DatabaseSchema",
    "ForeignKey",
    "Kind",
    "MirageError",
    "MissingDependencyError",
    "ModelFileError",
    "NotFittedError",
    "OptionError",
    "OutputExistsError",
    "Report",
    "Schema",
    "SchemaError",
    "Synthesizer",
    "Table",
    "__version__",
    "augment",
    "choose_engine",
    "evaluate",
    "fit",
    "infer_schema",
    "load",
]
