"""Declared hyperparameters: each engine's types and ranges, checked by ``fit`` and on load alike.

An engine lists its keyword-only ``__init__`` arguments in ``params`` with a :class:`Param` each.
``fit`` raises ``OptionError("smoothing must be a number >= 0, got -1")``; loading a model file raises
``ModelFileError("... hyperparameters.smoothing: must be a number >= 0, got -1")`` from the same
check.  ``stage`` says when a value acts: ``"fit"`` values shaped the learned state (a model file
records them; editing one there cannot take effect), ``"sample"`` values act on every draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage.errors import OptionError

__all__ = ["Param", "check_params", "integer", "number", "param_problem", "text"]

FIT = "fit"
SAMPLE = "sample"


@dataclass(frozen=True)
class Param:
    kind: str  # "int", "float" or "str"
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: the value must be > low (else >= low)
    high_open: bool = False  # True: the value must be < high (else <= high)
    optional: bool = False  # None is allowed (it means "automatic")
    allow_inf: bool = False
    accept: Callable[[str], bool] | None = None  # for strings
    expected: str = ""  # how a string value is described, e.g. "'auto', 'cpu' or 'cuda[:index]'"
    note: str = ""  # appended to the message, e.g. "(0 turns it off)"
    stage: str = FIT

    def describe(self) -> str:
        if self.kind == "str":
            what = self.expected or "a string"
        else:
            what = "an integer" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
                what += f" in {left}{self.low:g}, {self.high:g}{right}"
            elif self.low is not None:
                what += f" {'>' if self.low_open else '>='} {self.low:g}"
            elif self.high is not None:
                what += f" {'<' if self.high_open else '<='} {self.high:g}"
        return f"None or {what}" if self.optional else what

    def problem(self, value: Any) -> str | None:
        """None when ``value`` is allowed, else ``"must be ..., got ..."``."""
        if value is None and self.optional:
            return None
        if not self._ok(value):
            note = f" {self.note}" if self.note else ""
            return f"must be {self.describe()}{note}, got {value!r}"
        return None

    def _ok(self, value: Any) -> bool:
        if self.kind == "str":
            return isinstance(value, str) and (self.accept is None or self.accept(value))
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind == "int" and not isinstance(value, (int, np.integer)):
            return False
        if not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        x = float(value)
        if math.isnan(x) or (math.isinf(x) and not self.allow_inf):
            return False
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return self.high is None or (x < self.high if self.high_open else x <= self.high)


def integer(low: int | None = None, high: int | None = None, **kw: Any) -> Param:
    return Param("int", low, high, **kw)


def number(low: float | None = None, high: float | None = None, **kw: Any) -> Param:
    return Param("float", low, high, **kw)


def text(accept: Callable[[str], bool], expected: str, **kw: Any) -> Param:
    return Param("str", accept=accept, expected=expected, **kw)


# shared by every engine (RARE_MIN_COUNT checks the encoding option of fit, once a hyperparameter)
RARE_MIN_COUNT = integer(1)
SEED = integer(0)
QUANTILES = integer(2)


def param_problem(params: Mapping[str, Param], name: str, value: Any) -> str | None:
    spec = params.get(name)
    return None if spec is None else spec.problem(value)


def check_params(params: Mapping[str, Param], values: Mapping[str, Any]) -> None:
    """Raise ``OptionError`` naming the first hyperparameter whose value is not allowed."""
    for name, spec in params.items():
        problem = spec.problem(values.get(name))
        if problem is not None:
            raise OptionError(f"{name} {problem}")
