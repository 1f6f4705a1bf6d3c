"""Reversible per-column codecs shared by every engine."""

from mirage.encoding._base import Codec, EncodingOptions, SubColumn

__all__ = ["Codec", "EncodingOptions", "SubColumn"]
