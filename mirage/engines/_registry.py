"""The engine registry used by ``fit(engine=...)`` and by model files."""

from __future__ import annotations

from typing import TypeVar

from mirage.engines._base import Synthesizer
from mirage.errors import OptionError

__all__ = ["ENGINES", "get_engine", "register_engine"]

ENGINES: dict[str, type[Synthesizer]] = {}
S = TypeVar("S", bound=type[Synthesizer])


def register_engine(cls: S) -> S:
    if not cls.name:
        raise TypeError(f"{cls.__name__} needs a class attribute 'name'")
    ENGINES[cls.name] = cls
    return cls


def get_engine(name: str) -> type[Synthesizer]:
    try:
        return ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise OptionError(f"unknown engine {name!r} (known engines: {known}, or 'auto')") from None
