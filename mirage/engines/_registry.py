"""The engine registry used by ``fit(engine=...)`` and by model files.

The built-in engines are listed by name and module and imported on first use, so naming them (help
texts, ``sorted(ENGINES)``) costs nothing.  An engine whose optional dependency is missing stays
listed, and looking it up raises ``MissingDependencyError`` with the command that installs it: fitting
it, loading its model file and sampling it all stop there with that one line.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from mirage.errors import MissingDependencyError, OptionError

if TYPE_CHECKING:
    from mirage.engines._base import Synthesizer

__all__ = ["ENGINES", "Requirement", "engine_class", "get_engine", "register_engine", "require"]


@dataclass(frozen=True)
class Requirement:
    """An optional package an engine imports, and the extra of mirage-synth that installs it."""

    module: str
    package: str
    extra: str

    @property
    def install(self) -> str:
        return f'pip install "mirage-synth[{self.extra}]"'


NEURAL = Requirement(module="torch", package="PyTorch", extra="neural")

# name -> module that registers it when imported (the built-in engines, imported on first use)
_BUILT_IN = {
    "argn": "mirage.engines.argn",
    "bayesnet": "mirage.engines.bayesnet",
    "cart": "mirage.engines.cart",
    "copula": "mirage.engines.copula",
    "dp": "mirage.engines.dp",
    "gan": "mirage.engines.gan",
    "gmm": "mirage.engines.gmm",
    "kde": "mirage.engines.kde",
    "vae": "mirage.engines.vae",
}
DIFFERENTIAL_PRIVACY = Requirement(module="opendp", package="OpenDP", extra="dp")
_REQUIREMENTS = {"argn": NEURAL, "dp": DIFFERENTIAL_PRIVACY, "gan": NEURAL, "vae": NEURAL}


class _Registry(Mapping[str, "type[Synthesizer]"]):
    """Engine name -> class; ``registry[name]`` checks the engine's optional dependency first."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Synthesizer]] = {}
        self._modules: dict[str, str] = dict(_BUILT_IN)

    def add(self, cls: type[Synthesizer]) -> None:
        self._classes[cls.name] = cls

    def __getitem__(self, name: str) -> type[Synthesizer]:
        if name not in self:
            raise KeyError(name)
        require(name)
        return self.unchecked(name)

    def unchecked(self, name: str) -> type[Synthesizer]:
        """The class, imported without checking its optional dependency (for its name and signature)."""
        if name not in self._classes:
            importlib.import_module(self._modules[name])
        return self._classes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._classes or name in self._modules

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._modules), **dict.fromkeys(self._classes)})

    def __len__(self) -> int:
        return len(set(self._modules) | set(self._classes))


ENGINES = _Registry()
S = TypeVar("S", bound="type[Synthesizer]")


def register_engine(cls: S) -> S:
    if not cls.name:
        raise TypeError(f"{cls.__name__} needs a class attribute 'name'")
    ENGINES.add(cls)
    return cls


def require(name: str) -> None:
    """Raise ``MissingDependencyError`` naming the install command if engine ``name`` cannot run here."""
    needed = _REQUIREMENTS.get(name)
    if needed is None:
        return
    try:
        importlib.import_module(needed.module)
    except ImportError:
        raise MissingDependencyError(
            f"the {name} engine needs {needed.package}, which is not installed: {needed.install}"
        ) from None


def engine_class(name: str) -> type[Synthesizer]:
    """The class of engine ``name`` without the dependency check (``OptionError`` for unknown names)."""
    if name not in ENGINES:
        raise _unknown(name)
    return ENGINES.unchecked(name)


def get_engine(name: str) -> type[Synthesizer]:
    """The class of engine ``name``, ready to fit: ``OptionError`` if unknown, ``MissingDependencyError``
    if its optional dependency is not installed."""
    if name not in ENGINES:
        raise _unknown(name)
    return ENGINES[name]


def _unknown(name: str) -> OptionError:
    known = ", ".join(sorted(ENGINES))
    return OptionError(f"unknown engine {name!r} (known engines: {known}, or 'auto')")
