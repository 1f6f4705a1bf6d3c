"""The differentially private engine (``engine="dp"``)."""

from mirage.engines.dp._engine import DPSynthesizer

__all__ = ["DPSynthesizer"]
