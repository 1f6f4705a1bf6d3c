"""Typed reads of a saved state (a model file's JSON and arrays) that name the field at fault.

Everything a model file holds is untrusted input: ``set_state`` methods read their fields through
these accessors, which raise :class:`StateError` with the field's path relative to the state being
read.  :func:`within` prefixes the paths as the error travels up (codec, encoder, engine), so loading
reports ``state.encoder.codecs.age.minimum: expected a finite number, got 'abc'`` or
``array 'engine.marginal.3': expected 1-D, got shape (2, 5)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from mirage.errors import ModelFileError

if TYPE_CHECKING:
    from mirage.encoding._base import SubColumn

__all__ = [
    "StateError",
    "require",
    "require_array",
    "require_bool",
    "require_bounds",
    "require_categories",
    "require_counts",
    "require_float",
    "require_int",
    "require_list",
    "require_locale",
    "require_mapping",
    "require_optional_int",
    "require_optional_str",
    "require_str",
    "require_subcolumns",
    "require_time_zone",
    "show",
    "within",
]

_SHOW_LIMIT = 60
_KINDS = {"f": "floating-point", "i": "integer", "b": "boolean"}


class StateError(ModelFileError):
    """A saved field that cannot be used: ``path`` names it (a JSON path, or an array's name).

    ``rooted`` paths start at the state's root already (an engine blaming a codec's field).
    """

    def __init__(self, path: str, reason: str, *, array: bool = False, rooted: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.array = array
        self.rooted = rooted
        super().__init__(f"{self.where}: {reason}")

    @property
    def where(self) -> str:
        return f"array {self.path!r}" if self.array else self.path

    def under(self, prefix: str, array_prefix: str) -> StateError:
        if self.rooted:
            return self
        if self.array:
            return StateError(array_prefix + self.path, self.reason, array=True)
        return StateError(_join(prefix, self.path), self.reason)


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return f"{prefix}.{path}" if path else prefix


@contextmanager
def within(prefix: str, array_prefix: str = "") -> Iterator[None]:
    """Prefix the path of a :class:`StateError` raised inside (arrays get ``array_prefix``)."""
    try:
        yield
    except StateError as exc:
        raise exc.under(prefix, array_prefix) from None


def show(value: Any) -> str:
    """A value as an error message quotes it, shortened."""
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


# --- JSON fields ------------------------------------------------------------------------------------


def require_mapping(value: Any, path: str = "") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StateError(path, f"expected an object, got {show(value)}")
    return value


def require(state: Mapping[str, Any], key: str) -> Any:
    """``state[key]``; a clear error when it is missing (or ``state`` is not an object)."""
    require_mapping(state)
    if key not in state:
        raise StateError(key, "missing")
    return state[key]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def require_float(state: Mapping[str, Any], key: str, *, low: float | None = None) -> float:
    """A finite number (an int or a float in JSON) as a float, ``>= low`` when given."""
    value = require(state, key)
    if not _is_number(value) or not math.isfinite(float(value)):
        raise StateError(key, f"expected a finite number, got {show(value)}")
    if low is not None and float(value) < low:
        raise StateError(key, f"must be >= {low:g}, got {show(value)}")
    return float(value)


def require_int(
    state: Mapping[str, Any], key: str, *, low: int | None = None, high: int | None = None
) -> int:
    """An integer in ``[low, high]`` (either bound optional)."""
    value = require(state, key)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise StateError(key, f"expected an integer, got {show(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f">= {low}" if high is None else f"<= {high}" if low is None else f"in [{low}, {high}]"
        raise StateError(key, f"must be {span}, got {show(value)}")
    return int(value)


def require_optional_int(state: Mapping[str, Any], key: str, *, low: int | None = None) -> int | None:
    """None, or an integer ``>= low``."""
    return None if require(state, key) is None else require_int(state, key, low=low)


def require_bool(state: Mapping[str, Any], key: str) -> bool:
    value = require(state, key)
    if not isinstance(value, (bool, np.bool_)):
        raise StateError(key, f"expected true or false, got {show(value)}")
    return bool(value)


def require_str(state: Mapping[str, Any], key: str, *, choices: Sequence[str] | None = None) -> str:
    value = require(state, key)
    if not isinstance(value, str):
        raise StateError(key, f"expected a string, got {show(value)}")
    if choices is not None and value not in choices:
        raise StateError(key, f"must be one of {', '.join(map(repr, choices))}, got {show(value)}")
    return value


def require_optional_str(state: Mapping[str, Any], key: str) -> str | None:
    value = require(state, key)
    if value is not None and not isinstance(value, str):
        raise StateError(key, f"expected a string or null, got {show(value)}")
    return value


def require_list(state: Mapping[str, Any], key: str, *, length: int | None = None) -> list[Any]:
    value = require(state, key)
    if not isinstance(value, list):
        raise StateError(key, f"expected a list, got {show(value)}")
    if length is not None and len(value) != length:
        raise StateError(key, f"expected {length} entries, got {len(value)}")
    return value


def require_bounds(
    state: Mapping[str, Any], low_key: str, high_key: str, *, integer: bool = False
) -> tuple[Any, Any]:
    """Two finite numbers (integers >= 0 when ``integer``) with ``state[low_key] <= state[high_key]``."""
    if integer:
        low: float = require_int(state, low_key, low=0)
        high: float = require_int(state, high_key, low=0)
    else:
        low, high = require_float(state, low_key), require_float(state, high_key)
    if low > high:
        raise StateError(low_key, f"{low:g} is greater than {high_key} {high:g}")
    return low, high


def require_categories(state: Mapping[str, Any], key: str, *, numeric: bool) -> list[Any]:
    """Distinct categories: strings, numbers or booleans (numbers only when ``numeric``)."""
    values = require_list(state, key)
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if numeric and not _is_number(value):
            raise StateError(
                f"{key}.{i}", f"expected a number (the column's categories are numbers), got {show(value)}"
            )
        if not isinstance(value, (str, bool)) and not _is_number(value):
            raise StateError(f"{key}.{i}", f"expected a string, a number or a boolean, got {show(value)}")
        if _is_number(value) and math.isnan(float(value)):  # an infinite value is a category like any
            raise StateError(f"{key}.{i}", "expected a number, got NaN")
        if value in seen:
            raise StateError(
                key,
                f"{show(value)} appears twice (a category list edited by hand must keep each category once)",
            )
        seen.add(value)
    return list(values)


def require_counts(state: Mapping[str, Any], key: str, length: int) -> list[int]:
    """``length`` non-negative integers."""
    values = require_list(state, key, length=length)
    with within(key):
        return [require_int({str(i): v}, str(i), low=0) for i, v in enumerate(values)]


def require_time_zone(state: Mapping[str, Any], key: str) -> str | None:
    """None, or the name of a time zone pandas knows."""
    import pandas as pd

    value = require_optional_str(state, key)
    if value is not None:
        try:
            pd.Timestamp(0, tz="UTC").tz_convert(value)
        except Exception:
            raise StateError(key, f"unknown time zone {show(value)}") from None
    return value


def require_locale(state: Mapping[str, Any], key: str) -> str:
    """A locale Faker has, spelled as Faker accepts it (``en-US``, ``de_de``, ...)."""
    import locale as pylocale

    from faker.config import AVAILABLE_LOCALES

    value = require_str(state, key)
    if pylocale.normalize(value.replace("-", "_")).split(".")[0] not in AVAILABLE_LOCALES:
        raise StateError(key, f"unknown Faker locale {show(value)}")
    return value


def require_subcolumns(state: Mapping[str, Any], key: str) -> list[SubColumn]:
    """A list of saved :class:`SubColumn` entries."""
    from mirage.encoding._base import SubColumn  # the encoding package reads states through this module

    out = []
    for i, entry in enumerate(require_list(state, key)):
        with within(f"{key}.{i}"):
            item = require_mapping(entry)
            unknown = set(item) - {"name", "column", "part", "discrete", "cardinality"}
            if unknown:
                raise StateError(sorted(unknown)[0], "unknown field")
            sub = SubColumn(
                require_str(item, "name"),
                require_str(item, "column"),
                require_str(item, "part"),
                require_bool(item, "discrete"),
                require_int(item, "cardinality", low=0),
            )
            if sub.name != f"{sub.column}::{sub.part}":
                raise StateError("name", f"expected {sub.column + '::' + sub.part!r}, got {sub.name!r}")
            out.append(sub)
    return out


# --- arrays -----------------------------------------------------------------------------------------


def require_array(
    arrays: Mapping[str, np.ndarray],
    key: str,
    *,
    kind: str,
    shape: Sequence[int | None],
    finite: bool = True,
) -> np.ndarray:
    """``arrays[key]`` of dtype ``kind`` ("f", "i" or "b"; a "b" array may be stored as 0/1 integers)
    and of ``shape`` (None: any length on that axis), converted to float64, int64 or bool."""
    if key not in arrays:
        raise StateError(key, "missing", array=True)
    value = np.asarray(arrays[key])
    if value.ndim != len(shape) or any(
        s is not None and s != d for s, d in zip(shape, value.shape, strict=True)
    ):
        wanted = (
            "("
            + ", ".join("any" if s is None else str(s) for s in shape)
            + ("," if len(shape) == 1 else "")
            + ")"
        )
        raise StateError(key, f"expected shape {wanted}, got {value.shape}", array=True)
    dtype_kind = value.dtype.kind
    if kind == "f":
        if dtype_kind != "f":
            raise StateError(key, f"expected {_KINDS[kind]} values, got dtype {value.dtype}", array=True)
        if finite and not np.all(np.isfinite(value)):
            raise StateError(key, "holds a value that is not finite (NaN or infinity)", array=True)
        return value.astype("float64", copy=False)
    if kind == "i":
        if dtype_kind not in "iu":
            raise StateError(key, f"expected {_KINDS[kind]} values, got dtype {value.dtype}", array=True)
        if dtype_kind == "u" and value.size and int(value.max()) > np.iinfo(np.int64).max:
            raise StateError(key, "holds a value too large for an index", array=True)
        return value.astype("int64", copy=False)
    if dtype_kind == "b":
        return value.astype(bool, copy=False)
    if dtype_kind not in "iu" or (value.size and not np.all((value == 0) | (value == 1))):
        raise StateError(key, f"expected {_KINDS['b']} values (0 or 1), got dtype {value.dtype}", array=True)
    return value.astype(bool)
