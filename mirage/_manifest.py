"""What a model file's manifest must hold, what was edited in it by hand, and how edits are settled.

The manifest is plain JSON a user may open and edit, so loading trusts none of it.  This module
checks its schema part field by field (the learned state is checked by each codec's and engine's
``set_state``), and settles hand edits:

* ``content_sha256`` (written by ``save_model``) holds a short SHA-256 of each part of the manifest
  (each hyperparameter, each schema column, each codec's state, the engine's state, ...), so loading
  knows which parts were edited since saving.  The digests detect edits; they protect nothing, as
  anyone can rewrite them.
* Some facts sit both in the schema and in a codec's state (a numeric column's bounds, an identifier's
  format, a PII column's type and locale, declared categories).  When the two disagree, the side that
  was edited wins and the other is updated (a bound widened in the schema is the bound sampling
  clips to); when both or neither side was edited (or the file predates the digests) loading refuses
  and names both fields.
* Edits that cannot take effect are refused: a fit-time hyperparameter (it shaped the learned state;
  refit instead) and the holdout record (``mirage report`` must rebuild the split the model was fitted
  on).  Every other edit passes the same checks as a saved state and is used.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mirage._validate import show
from mirage.errors import ModelFileError

__all__ = ["DIGEST_KEY", "check_schema", "content_digests", "edited_parts", "refuse_edits", "settle"]

DIGEST_KEY = "content_sha256"
_DIGEST_CHARS = 16  # detecting edits needs no more than 64 bits
SCHEMA_COLUMNS = "schema.columns."
CODECS = "state.encoder.codecs."
TRAINING = "state.training"

# (schema column field, codec state field) pairs that must agree, by column kind
_SHARED = {
    "numeric": (("minimum", "minimum"), ("maximum", "maximum")),
    "identifier": (("id_format", "id_format"),),
    "pii": (("pii_type", "pii_type"), ("locale", "locale")),
    "text": (("locale", "locale"),),
}

_OPTIONAL_STR = ("datetime_format", "id_format", "pii_type", "locale")
_BOOL = ("nullable", "integer", "ordered")


# --- the schema part ---------------------------------------------------------------------------------


def check_schema(schema: Any) -> None:
    """Raise ``ModelFileError`` naming ``schema.columns.<name>.<field>`` for a field of the wrong type.

    ``Schema.from_dict`` checks the rest (kinds, unknown fields, bounds in order, ...).
    """
    if not isinstance(schema, dict) or not isinstance(schema.get("columns"), list):
        raise ModelFileError("schema: expected an object with a 'columns' list")
    for i, column in enumerate(schema["columns"]):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            raise ModelFileError(f"schema.columns.{i}: expected an object with a 'name' string")
        where = f"schema.columns.{column['name']}"
        for key in _BOOL:
            if key in column and not isinstance(column[key], bool):
                raise ModelFileError(f"{where}.{key}: expected true or false, got {column[key]!r}")
        for key in ("minimum", "maximum"):
            value = column.get(key)
            if value is not None and not (_is_number(value) and math.isfinite(value)):
                raise ModelFileError(f"{where}.{key}: expected a finite number or null, got {value!r}")
        decimals = column.get("decimals")
        if decimals is not None and not (isinstance(decimals, int) and not isinstance(decimals, bool)):
            raise ModelFileError(f"{where}.decimals: expected an integer or null, got {decimals!r}")
        for key in _OPTIONAL_STR:
            if column.get(key) is not None and not isinstance(column[key], str):
                raise ModelFileError(f"{where}.{key}: expected a string or null, got {column[key]!r}")
        if column.get("categories") is not None and not isinstance(column["categories"], list):
            raise ModelFileError(f"{where}.categories: expected a list or null, got {column['categories']!r}")
        dtype = column.get("dtype", "object")
        try:
            pd.api.types.pandas_dtype(dtype)
        except (TypeError, ValueError):
            raise ModelFileError(f"{where}.dtype: not a pandas dtype: {dtype!r}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- what was edited ---------------------------------------------------------------------------------


def _parts(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's content cut into the parts an edit is reported by."""
    parts: dict[str, Any] = {}
    for name, value in manifest["hyperparameters"].items():
        parts[f"hyperparameters.{name}"] = value
    schema = dict(manifest["schema"])
    for column in schema.pop("columns", []):
        parts[SCHEMA_COLUMNS + str(column.get("name") if isinstance(column, dict) else column)] = column
    parts["schema"] = schema
    state = dict(manifest["state"])
    encoder = dict(state.pop("encoder", {})) if isinstance(state.get("encoder"), dict) else {}
    codecs = encoder.pop("codecs", {})
    for name, codec in codecs.items() if isinstance(codecs, dict) else []:
        parts[CODECS + name] = codec
    parts["state.encoder"] = encoder
    for key, value in state.items():
        parts[f"state.{key}"] = value
    return parts


def content_digests(manifest: Mapping[str, Any]) -> dict[str, str]:
    """A short SHA-256 of each part of the manifest's content (see the module docstring)."""
    return {path: _digest(value) for path, value in _parts(manifest).items()}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:_DIGEST_CHARS]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def edited_parts(manifest: Mapping[str, Any]) -> set[str] | None:
    """The parts edited since saving; None when the file holds no digests (written before them)."""
    saved = manifest.get(DIGEST_KEY)
    if not isinstance(saved, dict):
        return None
    now = content_digests(manifest)
    return {path for path in set(saved) | set(now) if saved.get(path) != now.get(path)}


def refuse_edits(edited: set[str], fit_time: set[str]) -> None:
    """Refuse the edits that cannot take effect: fit-time hyperparameters and the holdout record."""
    for path in sorted(edited):
        name = path.removeprefix("hyperparameters.")
        if name in fit_time:
            raise ModelFileError(
                f"{path}: edited after the model was fitted; it shapes what fit learns, so the edit "
                f"cannot take effect: refit the model (mirage.fit(..., {name}=VALUE))"
            )
        if path == TRAINING:
            raise ModelFileError(
                f"{path}: edited after the model was fitted; it records how the model was fitted (the "
                "holdout split mirage report rebuilds, the training history): refit the model instead"
            )


# --- facts stated twice ------------------------------------------------------------------------------


def settle(manifest: dict[str, Any], edited: set[str] | None) -> None:
    """Make the schema and the codec states agree where they state the same fact (in place)."""
    encoder = manifest["state"].get("encoder")
    codecs = encoder.get("codecs") if isinstance(encoder, dict) else None
    if not isinstance(codecs, dict):
        return  # set_state names what is missing
    for column in manifest["schema"]["columns"]:
        name = column["name"]
        codec = codecs.get(name)
        if not isinstance(codec, dict):
            continue  # set_state names what is missing
        for key, codec_key in _SHARED.get(column.get("kind", ""), ()):
            declared = column.get(key)
            if declared is None or codec_key not in codec or codec[codec_key] == declared:
                continue
            schema_path, state_path = f"{SCHEMA_COLUMNS}{name}.{key}", f"{CODECS}{name}.{codec_key}"
            problem = _problem(key, codec[codec_key])
            if problem is not None:
                raise ModelFileError(f"{state_path}: {problem}")
            schema_edited = edited is not None and SCHEMA_COLUMNS + name in edited
            state_edited = edited is not None and CODECS + name in edited
            if schema_edited and not state_edited:
                codec[codec_key] = declared
            elif state_edited and not schema_edited:
                column[key] = codec[codec_key]
            else:
                raise ModelFileError(
                    f"{schema_path} is {declared!r} but {state_path} is {codec[codec_key]!r}; "
                    "edit one of them (or both alike)"
                )
        if column.get("kind") == "numeric":
            _bounds_in_order(f"{CODECS}{name}", codec)
            _bounds_in_order(f"{SCHEMA_COLUMNS}{name}", column)
        if column.get("kind") == "categorical" and isinstance(column.get("categories"), list):
            _same_categories(name, column["categories"], codec.get("categories"))


def _problem(key: str, value: Any) -> str | None:
    """Why a codec's copy of a schema field cannot be used (its own checks come later, in set_state)."""
    if key in ("minimum", "maximum"):
        ok = _is_number(value) and math.isfinite(value)
        return None if ok else f"expected a finite number, got {show(value)}"
    return None if isinstance(value, str) else f"expected a string, got {show(value)}"


def _bounds_in_order(where: str, fields: Mapping[str, Any]) -> None:
    low: Any = fields.get("minimum")
    high: Any = fields.get("maximum")
    if _is_number(low) and _is_number(high) and low > high:
        raise ModelFileError(f"{where}.minimum: {low!r} is greater than maximum {high!r}")


def _same_categories(name: str, declared: list[Any], learned: Any) -> None:
    from mirage.encoding.categorical import RARE_TOKEN

    if not isinstance(learned, list):
        return  # set_state names the problem
    try:
        same = set(declared) == {c for c in learned if c != RARE_TOKEN}
    except TypeError:  # an unhashable category
        same = False
    if not same:
        raise ModelFileError(
            f"{SCHEMA_COLUMNS}{name}.categories lists {declared!r} but the model's categories are "
            f"{learned!r} ({CODECS}{name}.categories); rename a category in both places"
        )
