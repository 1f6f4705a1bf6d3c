"""Warnings Mirage gives about data it can use, but not as well as the user may expect."""

from __future__ import annotations

import warnings

__all__ = ["MirageWarning", "warn"]


class MirageWarning(UserWarning):
    """Something in the data is handled in a way worth knowing (names the column, file or line)."""


def warn(message: str, *, stacklevel: int = 3) -> None:
    """Emit ``message`` as a ``MirageWarning`` (attributed to the caller's caller by default)."""
    warnings.warn(message, MirageWarning, stacklevel=stacklevel)
