"""The model file: a zip of ``manifest.json`` and ``arrays.safetensors``; nothing in it can run code.

The manifest holds the format version, the Mirage version, the engine name, the schema, the
hyperparameters, the learned JSON state, and the SHA-256 of every other member.  Loading checks the
format version, the engine and every hash before it touches the state.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from mirage._version import __version__
from mirage.engines._base import Synthesizer
from mirage.engines._registry import ENGINES
from mirage.errors import ModelFileError
from mirage.io import atomic_path
from mirage.schema import Schema

__all__ = ["MODEL_FORMAT_VERSION", "load_model", "read_manifest", "save_model"]

MODEL_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.safetensors"


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
    target = Path(path)
    with atomic_path(target, force=force) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, default=_json_default))
        zf.writestr(ARRAYS, payload)
    return target


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a model file, checked for format and version but without loading arrays."""
    manifest, _ = _open(Path(path), arrays=False)
    return manifest


def load_model(path: str | Path) -> Synthesizer:
    path = Path(path)
    manifest, payload = _open(path, arrays=True)
    cls = ENGINES.get(manifest["engine"])
    if cls is None:
        known = ", ".join(sorted(ENGINES))
        raise ModelFileError(f"{path}: unknown engine {manifest['engine']!r} (this Mirage knows: {known})")
    try:
        arrays = load_arrays(payload) if payload else {}
        schema = Schema.from_dict(manifest["schema"])
        model = cls(**manifest["hyperparameters"])
        model.set_state(schema, manifest["state"], arrays)
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{path}: the model state is inconsistent ({type(exc).__name__}: {exc})"
        ) from None
    return model


def _open(path: Path, *, arrays: bool) -> tuple[dict[str, Any], bytes]:
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if MANIFEST not in names:
                raise ModelFileError(f"{path}: not a Mirage model file (no {MANIFEST})")
            manifest = json.loads(zf.read(MANIFEST))
            _check_manifest(path, manifest)
            unexpected = names - {MANIFEST} - set(manifest["members"])
            if unexpected:
                raise ModelFileError(f"{path}: unexpected member {sorted(unexpected)[0]!r}")
            payload = b""
            if arrays:
                for member, digest in manifest["members"].items():
                    data = zf.read(member)
                    if hashlib.sha256(data).hexdigest() != digest:
                        raise ModelFileError(f"{path}: member {member!r} fails its SHA-256 check")
                    if member == ARRAYS:
                        payload = data
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path}: not a Mirage model file (not a zip archive)") from None
    except KeyError as exc:
        raise ModelFileError(f"{path}: member {exc.args[0]!r} is missing") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: {MANIFEST} is not valid JSON ({exc.msg})") from None
    return manifest, payload


def _check_manifest(path: Path, manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != "mirage-model":
        raise ModelFileError(f"{path}: not a Mirage model file")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{path}: manifest has no format_version")
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version} is newer than this Mirage reads "
            f"({MODEL_FORMAT_VERSION}; written by mirage {manifest.get('mirage_version')}); "
            "upgrade mirage-synth"
        )
    for key in ("engine", "hyperparameters", "schema", "state", "members"):
        if key not in manifest:
            raise ModelFileError(f"{path}: manifest lacks {key!r}")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")
