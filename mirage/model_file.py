"""The model file: a zip of ``manifest.json`` and ``arrays.safetensors``; nothing in it can run code.

Persistence sits above the engines: an engine's ``save`` writes through :mod:`mirage._model_archive`
(the container, which knows no engine), and loading here looks the engine up in the registry.  A
model file is a path, bytes or a binary stream (a service keeps models in memory or a database).
The manifest holds the format version, the Mirage version, the engine name, the schema, the
hyperparameters, the learned JSON state, the SHA-256 of the arrays member, and a short SHA-256 of
each part of its own content (see :mod:`mirage._manifest`: it tells loading what was edited by hand).
Loading trusts none of it: it checks the format version, the engine and the arrays' hash, then every
hyperparameter against the engine's declared types and ranges and every field of the learned state
(types, ranges, array shapes and dtypes, and that the schema, the codecs, the engine and the arrays
agree), and an error names the field: ``model file m.mirage: state.encoder.codecs.age.minimum:
expected a finite number, got 'abc'``.  Only JSON and safetensors are parsed: no pickle, no code.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import IO, Any, overload

from safetensors.numpy import load as load_arrays

from mirage._manifest import check_schema, edited_parts, refuse_edits, settle
from mirage._model_archive import (
    ARRAYS,
    MODEL_FORMAT_VERSION,
    ModelSource,
    ModelTarget,
    describe,
    read_archive,
)
from mirage._validate import StateError
from mirage.engines._base import ENCODING_OPTIONS, Synthesizer
from mirage.engines._params import FIT
from mirage.engines._registry import ENGINES
from mirage.errors import MissingDependencyError, ModelFileError, SchemaError
from mirage.schema import Schema

__all__ = [
    "MODEL_FORMAT_VERSION",
    "ModelSource",
    "ModelTarget",
    "load_model",
    "model_bytes",
    "read_manifest",
    "save_model",
]

_SHOWN_EDITS = 5

logger = logging.getLogger("mirage")


@overload
def save_model(model: Synthesizer, target: str | Path, *, force: bool = False) -> Path: ...
@overload
def save_model(model: Synthesizer, target: IO[bytes], *, force: bool = False) -> IO[bytes]: ...
def save_model(model: Synthesizer, target: ModelTarget, *, force: bool = False) -> Path | IO[bytes]:
    """Write ``model`` to a path (atomically; ``force``: overwrite) or to a binary stream."""
    return model.save(target, force=force)


def model_bytes(model: Synthesizer) -> bytes:
    """The model file of ``model`` as bytes (what ``save_model`` writes to a path)."""
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def read_manifest(source: ModelSource) -> dict[str, Any]:
    """The manifest of a model file, checked for format and version but without loading arrays."""
    manifest, _ = read_archive(source, arrays=False)
    return manifest


def load_model(source: ModelSource) -> Synthesizer:
    """The model in ``source`` (a path, bytes or a binary stream); every field is checked and an
    error names the one that cannot be used."""
    manifest, payload = read_archive(source, arrays=True)
    where = describe(source)
    try:
        model, edited = _restore(manifest, payload)
    except StateError as exc:
        field = f"{ARRAYS}: {exc.where}" if exc.array else f"state.{exc.path}"
        raise ModelFileError(f"{where}: {field}: {exc.reason}") from None
    except SchemaError as exc:
        raise ModelFileError(f"{where}: schema: {exc}") from None
    except ModelFileError as exc:
        raise ModelFileError(f"{where}: {exc}") from None
    except MissingDependencyError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{where}: the model state is inconsistent ({type(exc).__name__}: {exc})"
        ) from None
    if edited:
        shown = sorted(edited)
        more = f" and {len(shown) - _SHOWN_EDITS} more" if len(shown) > _SHOWN_EDITS else ""
        logger.warning(
            "%s: edited by hand since it was saved (%s%s); the edits passed the checks and are used",
            where,
            ", ".join(shown[:_SHOWN_EDITS]),
            more,
        )
    return model


def _restore(manifest: dict[str, Any], payload: bytes) -> tuple[Synthesizer, set[str] | None]:
    """The model a checked manifest describes, and the parts edited since saving (None: unknown)."""
    cls = ENGINES.get(manifest["engine"])
    if cls is None:
        known = ", ".join(sorted(ENGINES))
        raise ModelFileError(f"unknown engine {manifest['engine']!r} (this Mirage knows: {known})")
    hyperparameters = {**cls.defaults_before, **manifest["hyperparameters"]}
    # files written while rare_min_count was a hyperparameter: the value is in state.encoder.options
    legacy = {
        name: hyperparameters.pop(name)
        for name in ENCODING_OPTIONS
        if name in hyperparameters and name not in cls.params
    }
    for name, value in hyperparameters.items():
        if name not in cls.params:
            valid = ", ".join(cls.params)
            raise ModelFileError(
                f"hyperparameters.{name}: engine {cls.name!r} has no such hyperparameter ({valid})"
            )
        problem = cls.params[name].problem(value)
        if problem is not None:
            raise ModelFileError(f"hyperparameters.{name}: {problem}")
    check_schema(manifest["schema"])
    edited = edited_parts(manifest)
    settle(manifest, edited)
    schema = Schema.from_dict(manifest["schema"])
    try:
        arrays = load_arrays(payload) if payload else {}
    except Exception as exc:
        raise ModelFileError(f"{ARRAYS}: not a valid safetensors file ({exc})") from None
    model = cls(**hyperparameters)
    model.set_state(schema, manifest["state"], arrays)
    for name, value in legacy.items():
        learned = getattr(model.encoding_, name)
        if value != learned:
            raise ModelFileError(
                f"hyperparameters.{name}: is {value!r} but the model was fitted with {learned!r} "
                "(state.encoder.options); an encoding option cannot be changed in a model file: "
                "refit the model"
            )
    if edited:
        refuse_edits(edited, {name for name, spec in cls.params.items() if spec.stage == FIT})
    return model, edited
