"""Reversible per-column codecs shared by every engine."""

from mirage.encoding._base import Codec, EncodingOptions, SubColumn
from mirage.encoding._domain import Domain, Token
from mirage.encoding._public import PrivacyBudget, PublicBounds
from mirage.encoding._table import TableEncoder, codec_for

__all__ = [
    "Codec",
    "Domain",
    "EncodingOptions",
    "PrivacyBudget",
    "PublicBounds",
    "SubColumn",
    "TableEncoder",
    "Token",
    "codec_for",
]
