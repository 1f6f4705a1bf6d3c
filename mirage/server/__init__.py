"""A local web app over a REST service: upload a table, review its schema, train with live progress,
read the report, sample and download (``mirage serve``).  Needs the ``web`` extra (FastAPI, uvicorn).

``create_app`` is imported on first use, so that a job's worker process (which imports
``mirage.server._jobs``) does not load FastAPI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mirage.server._app import create_app
    from mirage.server._service import Limits

__all__ = ["Limits", "create_app"]

_LAZY = {"create_app": "mirage.server._app", "Limits": "mirage.server._service"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mirage.server' has no attribute {name!r}")
