"""Reversible per-column codecs shared by every engine."""

from mirage.encoding._base import Codec, EncodingOptions, SubColumn
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.encoding._table import TableEncoder, codec_for

__all__ = [
    "Codec",
    "EncodingOptions",
    "PrivacyBudget",
    "PublicBounds",
    "SubColumn",
    "TableEncoder",
    "codec_for",
]
