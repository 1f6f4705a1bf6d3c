"""The model file's container: a zip of ``manifest.json`` and ``arrays.safetensors``.

This layer knows the format (version, members, hashes) but nothing of engines: an engine's ``save``
writes through it, and :mod:`mirage.model_file`, which sits above the engines, reads through it and
turns a manifest back into a model.  A model file is a path (written atomically), bytes, or a binary
stream; only JSON and safetensors are ever parsed: no pickle, no code.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from mirage._manifest import DIGEST_KEY, content_digests
from mirage._version import __version__
from mirage.errors import ModelFileError
from mirage.io._atomic import atomic_path

__all__ = [
    "ARRAYS",
    "MANIFEST",
    "MODEL_FORMAT_VERSION",
    "ModelSource",
    "ModelTarget",
    "read_archive",
    "write_archive",
]

MODEL_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.safetensors"
ZIP = zipfile.ZIP_DEFLATED
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry holds: no date, as reproducible builds do

ModelTarget = str | Path | IO[bytes]
ModelSource = str | Path | bytes | bytearray | memoryview | IO[bytes]


def write_archive(
    body: Mapping[str, Any], arrays: Mapping[str, np.ndarray], target: ModelTarget, *, force: bool = False
) -> None:
    """Write a model file holding ``body`` (engine, hyperparameters, schema, state) and ``arrays``.

    A path is written atomically (``force``: overwrite an existing file); a binary stream gets the
    whole file in one write, at its current position.
    """
    from safetensors.numpy import save as save_arrays

    payload = save_arrays({k: np.ascontiguousarray(v) for k, v in arrays.items()}) if arrays else b""
    manifest = {
        "format": "mirage-model",
        "format_version": MODEL_FORMAT_VERSION,
        "mirage_version": __version__,
        **body,
        "members": {ARRAYS: hashlib.sha256(payload).hexdigest()},
    }
    manifest = json.loads(json.dumps(manifest, ensure_ascii=False, default=_json_default))  # as read back
    manifest[DIGEST_KEY] = content_digests(manifest)
    if isinstance(target, (str, Path)):
        with (
            atomic_path(Path(target), force=force) as tmp,
            zipfile.ZipFile(tmp, "w", ZIP) as zf,
        ):
            _write_members(zf, manifest, payload)
        return
    if not hasattr(target, "write"):
        raise ModelFileError(
            f"a model file is written to a path or a binary stream, not {type(target).__name__}"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", ZIP) as zf:
        _write_members(zf, manifest, payload)
    target.write(buffer.getvalue())


def _write_members(zf: zipfile.ZipFile, manifest: Mapping[str, Any], payload: bytes) -> None:
    zf.writestr(_member(MANIFEST), json.dumps(manifest, ensure_ascii=False))
    zf.writestr(_member(ARRAYS), payload)


def _member(name: str) -> zipfile.ZipInfo:
    """A member stamped with a fixed date and mode rather than the clock's (``writestr`` with a name
    takes the time of saving), so the same model saves to the same bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = ZIP
    info.external_attr = 0o644 << 16
    return info


def describe(source: ModelSource) -> str:
    """How errors name ``source``: ``model file m.mirage``, ``model file (bytes)``, ..."""
    if isinstance(source, (str, Path)):
        return f"model file {source}"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "model file (bytes)"
    name = getattr(source, "name", None)
    return f"model file {name}" if isinstance(name, str) else "model file (stream)"


def read_archive(source: ModelSource, *, arrays: bool) -> tuple[dict[str, Any], bytes]:
    """The checked manifest of a model file and, with ``arrays``, its arrays member (hash checked)."""
    where = describe(source)
    if isinstance(source, (str, Path)):
        if not Path(source).is_file():
            raise ModelFileError(f"model file {str(source)!r} does not exist")
        opened: Any = Path(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        opened = io.BytesIO(bytes(source))
    elif hasattr(source, "read"):
        opened = io.BytesIO(source.read())  # zip needs to seek; a socket or pipe cannot
    else:
        raise ModelFileError(
            f"a model file is read from a path, bytes or a binary stream, not {type(source).__name__}"
        )
    try:
        with zipfile.ZipFile(opened) as zf:
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
