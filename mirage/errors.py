"""The one family of errors Mirage raises for bad input, bad files and bad options.

Every message names the column, row, file or option at fault; the CLI maps them to exit code 2.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "MirageError",
    "MissingDependencyError",
    "ModelFileError",
    "NotFittedError",
    "OptionError",
    "OutputExistsError",
    "SchemaError",
]


class MirageError(Exception):
    """Base class of every error Mirage raises on purpose."""


class SchemaError(MirageError):
    """A schema is invalid or does not match the data (names the column)."""


class DataError(MirageError):
    """The input data cannot be read or used (names the file, line, row or column)."""


class ModelFileError(MirageError):
    """A model file is corrupt, tampered with, or from an unknown engine or newer format."""


class OptionError(MirageError):
    """An option or hyperparameter has an invalid value (names the option)."""


class NotFittedError(MirageError):
    """A model was used (sampled, saved, asked to impute) before ``fit``."""


class OutputExistsError(MirageError):
    """The output path exists and overwriting was not asked for (``force=True`` / ``--force``)."""


class MissingDependencyError(MirageError, ImportError):
    """An optional package a feature needs is not installed (names the ``pip install`` command)."""
