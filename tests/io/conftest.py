from __future__ import annotations

from tests.databases import postgres_url

__all__ = ["postgres_url"]
