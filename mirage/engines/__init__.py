"""One file per engine, one small base class, and the registry used by model files."""

from mirage.engines._auto import choose_engine
from mirage.engines._base import BLOCK_ROWS, NotFittedError, Synthesizer
from mirage.engines._registry import ENGINES, get_engine, register_engine
from mirage.engines.argn import ArgnSynthesizer
from mirage.engines.cart import CartSynthesizer
from mirage.engines.copula import CopulaSynthesizer

__all__ = [
    "BLOCK_ROWS",
    "ArgnSynthesizer",
    "ENGINES",
    "CartSynthesizer",
    "CopulaSynthesizer",
    "NotFittedError",
    "Synthesizer",
    "choose_engine",
    "get_engine",
    "register_engine",
]
