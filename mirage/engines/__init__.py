"""One file per engine, one small base class, and the registry used by model files.

Names are imported on first use (``import mirage`` stays fast and never imports PyTorch); an engine
class is looked up through the registry, so ``ArgnSynthesizer`` without PyTorch installed raises
``MissingDependencyError`` naming the install command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mirage.engines._registry import ENGINES, get_engine, register_engine
from mirage.errors import NotFittedError

if TYPE_CHECKING:
    from mirage.engines._auto import AutoChoice, choose_engine, fit_auto
    from mirage.engines._base import BLOCK_ROWS, Synthesizer, clone, engines_with
    from mirage.engines._conditions import Between, Condition, IsNull, NotNull, OneOf
    from mirage.engines._context import ContextParts
    from mirage.engines._tags import EngineTags
    from mirage.engines.argn import ArgnSynthesizer
    from mirage.engines.bayesnet import BayesNetSynthesizer
    from mirage.engines.cart import CartSynthesizer
    from mirage.engines.copula import CopulaSynthesizer
    from mirage.engines.gmm import GmmSynthesizer
    from mirage.engines.kde import KdeSynthesizer

__all__ = [
    "BLOCK_ROWS",
    "ArgnSynthesizer",
    "AutoChoice",
    "BayesNetSynthesizer",
    "Between",
    "Condition",
    "ContextParts",
    "IsNull",
    "NotNull",
    "OneOf",
    "ENGINES",
    "EngineTags",
    "CartSynthesizer",
    "CopulaSynthesizer",
    "GmmSynthesizer",
    "KdeSynthesizer",
    "NotFittedError",
    "Synthesizer",
    "choose_engine",
    "clone",
    "engines_with",
    "fit_auto",
    "get_engine",
    "register_engine",
]

_ENGINE_CLASSES = {
    "ArgnSynthesizer": "argn",
    "BayesNetSynthesizer": "bayesnet",
    "CartSynthesizer": "cart",
    "CopulaSynthesizer": "copula",
    "GmmSynthesizer": "gmm",
    "KdeSynthesizer": "kde",
}
_MODULES = {
    "AutoChoice": "mirage.engines._auto",
    "choose_engine": "mirage.engines._auto",
    "fit_auto": "mirage.engines._auto",
    "BLOCK_ROWS": "mirage.engines._base",
    "Between": "mirage.engines._conditions",
    "Condition": "mirage.engines._conditions",
    "ContextParts": "mirage.engines._context",
    "IsNull": "mirage.engines._conditions",
    "NotNull": "mirage.engines._conditions",
    "OneOf": "mirage.engines._conditions",
    "EngineTags": "mirage.engines._tags",
    "Synthesizer": "mirage.engines._base",
    "clone": "mirage.engines._base",
    "engines_with": "mirage.engines._base",
}


def __getattr__(name: str) -> Any:
    if name in _ENGINE_CLASSES:
        return get_engine(_ENGINE_CLASSES[name])
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
