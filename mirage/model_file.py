"""The model file: a zip of ``manifest.json`` and ``arrays.safetensors``; nothing in it can run code.

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

import hashlib
import json
import logging
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from mirage._manifest import DIGEST_KEY, check_schema, content_digests, edited_parts, refuse_edits, settle
from mirage._validate import StateError
from mirage._version import __version__
from mirage.engines._base import Synthesizer
from mirage.engines._params import FIT
from mirage.engines._registry import ENGINES
from mirage.errors import MissingDependencyError, ModelFileError, SchemaError
from mirage.io import atomic_path
from mirage.schema import Schema

__all__ = ["MODEL_FORMAT_VERSION", "load_model", "read_manifest", "save_model"]

MODEL_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.safetensors"
_SHOWN_EDITS = 5

logger = logging.getLogger("mirage")


def save_model(model: Synthesizer, path: str | Path, *, force: bool = False) -> Path:
    state, arrays = model.get_state()
    payload = save_arrays({k: np.ascontiguousarray(v) for k, v in arrays.items()}) if arrays else b""
    manifest = {
        "format": "mirage-model",
        "format_version": MODEL_FORMAT_VERSION,
        "mirage_version": __version__,
        "engine": model.name,
        "hyperparameters": model.get_params(),
        "schema": model.schema_.to_dict(),
        "state": state,
        "members": {ARRAYS: hashlib.sha256(payload).hexdigest()},
    }
    manifest = json.loads(json.dumps(manifest, ensure_ascii=False, default=_json_default))  # as read back
    manifest[DIGEST_KEY] = content_digests(manifest)
    target = Path(path)
    with atomic_path(target, force=force) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False))
        zf.writestr(ARRAYS, payload)
    return target


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a model file, checked for format and version but without loading arrays."""
    manifest, _ = _open(Path(path), arrays=False)
    return manifest


def load_model(path: str | Path) -> Synthesizer:
    """The model in ``path``; every field is checked and an error names the one that cannot be used."""
    path = Path(path)
    manifest, payload = _open(path, arrays=True)
    where = f"model file {path}"
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
    hyperparameters = manifest["hyperparameters"]
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
    if edited:
        refuse_edits(edited, {name for name, spec in cls.params.items() if spec.stage == FIT})
    return model, edited


def _open(path: Path, *, arrays: bool) -> tuple[dict[str, Any], bytes]:
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    where = f"model file {path}"
    try:
        with zipfile.ZipFile(path) as zf:
            listed = zf.namelist()
            names = set(listed)
            if len(names) != len(listed):
                twice = next(n for n in listed if listed.count(n) > 1)
                raise ModelFileError(f"{where}: member {twice!r} appears twice")
            if MANIFEST not in names:
                raise ModelFileError(f"{where}: not a Mirage model file (no {MANIFEST})")
            manifest = json.loads(zf.read(MANIFEST))
            _check_manifest(where, manifest)
            unexpected = names - {MANIFEST, ARRAYS}
            if unexpected:
                raise ModelFileError(f"{where}: unexpected member {sorted(unexpected)[0]!r}")
            if ARRAYS not in names:
                raise ModelFileError(f"{where}: arrays member {ARRAYS!r} is missing")
            payload = b""
            if arrays:
                payload = zf.read(ARRAYS)
                if hashlib.sha256(payload).hexdigest() != manifest["members"][ARRAYS]:
                    raise ModelFileError(f"{where}: member {ARRAYS!r} fails its SHA-256 check")
    except zipfile.BadZipFile:
        raise ModelFileError(f"{where}: not a Mirage model file (not a zip archive)") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{where}: {MANIFEST} is not valid JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{where}: {MANIFEST} is not UTF-8 text") from None
    return manifest, payload


def _check_manifest(where: str, manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != "mirage-model":
        raise ModelFileError(f"{where}: not a Mirage model file")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{where}: manifest has no format_version")
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: model format version {version} is newer than this Mirage reads "
            f"({MODEL_FORMAT_VERSION}; written by mirage {manifest.get('mirage_version')}); "
            "upgrade mirage-synth"
        )
    for key, kind in (("engine", str), ("hyperparameters", dict), ("schema", dict), ("state", dict)):
        if key not in manifest:
            raise ModelFileError(f"{where}: manifest lacks {key!r}")
        if not isinstance(manifest[key], kind):
            expected = "a string" if kind is str else "an object"
            raise ModelFileError(f"{where}: {key}: expected {expected}, got {type(manifest[key]).__name__}")
    members = manifest.get("members")
    if not isinstance(members, dict) or set(members) != {ARRAYS}:
        raise ModelFileError(f"{where}: members: expected the SHA-256 of {ARRAYS!r} only, got {members!r}")
    if not (isinstance(members[ARRAYS], str) and re.fullmatch(r"[0-9a-f]{64}", members[ARRAYS])):
        raise ModelFileError(f"{where}: members.{ARRAYS}: expected a SHA-256 (64 hex digits)")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")
