"""Who may call the server (the token, from a header or the login cookie) and the job watch both the
REST events and the pages stream."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from mirage.server._store import FINISHED

if TYPE_CHECKING:
    from starlette.requests import Request

    from mirage.server._service import Service

__all__ = ["COOKIE", "token_matches", "token_of", "watch_job"]

COOKIE = "mirage_token"


def token_of(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


async def watch_job(service: Service, job_id: str, request: Request) -> AsyncIterator[dict[str, Any]]:
    """The job each time it changes, until it finishes (or the client goes)."""
    last: tuple[Any, ...] | None = None
    while True:
        job = await run_in_threadpool(service.job, job_id)
        key = (job["state"], job["task"], job["done"], job["total"], job["detail"])
        if key != last:
            last = key
            yield job
        if job["state"] in FINISHED or await request.is_disconnected():
            return
        await asyncio.sleep(0.25)
