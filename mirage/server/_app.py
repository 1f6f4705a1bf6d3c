"""The FastAPI application: the REST service under ``/api``, the pages, the token guard.

Every path but ``/login`` needs the token (``Authorization: Bearer TOKEN``, or the cookie the login
page sets), compared in constant time.  No CORS headers are sent, so other sites' pages cannot read
any answer; the cookie is ``SameSite=Strict``, so they cannot post with it either.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mirage._version import __version__
from mirage.errors import MirageError
from mirage.server._access import token_matches, token_of, watch_job
from mirage.server._jobs import error_message
from mirage.server._service import Limits, Service, UploadTooLarge

__all__ = ["create_app"]

ID = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="A record's id (16 hex digits).")]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_OPEN_PATHS = ("/login",)


class _Guard:
    """Refuses requests without the token (401) and bodies over the upload limit (413), before the
    application reads a byte of them."""

    def __init__(self, app: ASGIApp, token: str, limit: int) -> None:
        self.app, self.token, self.limit = app, token, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"] not in _OPEN_PATHS and not token_matches(token_of(headers), self.token):
            await _refuse(scope, receive, send, 401, "this server needs its token: open the login link")
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _refuse(
                scope, receive, send, 413, f"the upload is over the server's limit of {self.limit:,} bytes"
            )
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise UploadTooLarge(f"the upload is over the server's limit of {self.limit:,} bytes")
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except UploadTooLarge as exc:
            if started:
                raise
            await _refuse(scope, receive, send, 413, str(exc))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    headers = {"www-authenticate": "Bearer"} if status == 401 else {}
    if status == 401 and not scope["path"].startswith("/api") and _wants_html(scope):
        from starlette.responses import HTMLResponse

        page = (
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>Mirage: log in</title>'
            f'<main><h1>Log in</h1><p>{message}, or <a href="/login">enter the token</a>.</p></main></html>'
        )
        await HTMLResponse(page, status_code=status, headers=headers)(scope, receive, send)
        return
    await JSONResponse({"error": message}, status_code=status, headers=headers)(scope, receive, send)


def _wants_html(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key.lower() == b"accept":
            return b"text/html" in value
    return False


# --- request and response bodies ------------------------------------------------------------------
class DatasetOut(BaseModel):
    id: str
    name: str
    rows: int
    columns: list[str]
    created: float


class DatabaseIn(BaseModel):
    url: str = Field(description="sqlite:///FILE (a file inside the data directory) or postgresql://...")
    table: str | None = Field(default=None, description="The table to take; optional with one table.")


Scalar = str | int | float | bool | None


class JobIn(BaseModel):
    kind: Literal["fit", "sample", "report"]
    dataset_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$", description="fit: the dataset")
    model_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{16}$", description="sample, report: the model"
    )
    engine: Literal["auto", "cart", "copula", "argn"] = "auto"
    time_budget: float | None = Field(default=None, gt=0, le=7 * 24 * 3600, description="fit: seconds (argn)")
    holdout: float = Field(
        default=0.2, gt=0, lt=1, description="fit: share of rows kept aside for the report"
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    rows: int | None = Field(default=None, ge=0, description="sample: how many rows")
    target: str | None = Field(
        default=None, max_length=500, description="report: the column to predict for the utility scores"
    )
    conditions: dict[str, Scalar | list[Scalar]] | None = Field(
        default=None, description="sample: column -> a value or a list of allowed values"
    )


class JobOut(BaseModel):
    id: str
    kind: str
    dataset_id: str | None
    model_id: str | None
    params: dict[str, Any]
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    task: str
    done: int
    total: int
    detail: str
    progress: float
    error: str | None
    result: dict[str, Any] | None
    created: float
    started: float | None
    finished: float | None


class ModelOut(BaseModel):
    id: str
    name: str
    engine: str
    dataset_id: str | None
    job_id: str | None
    report: bool
    created: float


class ErrorOut(BaseModel):
    error: str


def _dataset_out(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("id", "name", "rows", "columns", "created")}


def _model_out(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: record[k] for k in ("id", "name", "engine", "dataset_id", "job_id", "created")},
        "report": bool(record["report"]),
    }


_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 404, 413, 422)}


def _api(service: Service) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(HTTPBearer(auto_error=False))], responses=_ERRORS)

    @router.get("/datasets", response_model=list[DatasetOut], tags=["datasets"])
    def list_datasets() -> list[dict[str, Any]]:
        return [_dataset_out(d) for d in service.store.datasets()]

    @router.post("/datasets", response_model=DatasetOut, status_code=201, tags=["datasets"])
    def upload_dataset(
        file: Annotated[UploadFile, File(description="CSV, TSV, Parquet, JSONL or Excel")],
        on_bad_lines: Annotated[
            Literal["error", "skip"], Query(description="skip: leave out malformed lines of delimited text")
        ] = "error",
    ) -> dict[str, Any]:
        name = file.filename or "upload.csv"
        return _dataset_out(service.add_upload(name, file.file, on_bad_lines=on_bad_lines))

    @router.post("/datasets/database", response_model=DatasetOut, status_code=201, tags=["datasets"])
    def add_database(body: DatabaseIn) -> dict[str, Any]:
        return _dataset_out(service.add_database(body.url, body.table))

    @router.get("/datasets/{dataset_id}", response_model=DatasetOut, tags=["datasets"])
    def get_dataset(dataset_id: ID) -> dict[str, Any]:
        return _dataset_out(service.dataset(dataset_id))

    @router.delete("/datasets/{dataset_id}", status_code=204, tags=["datasets"])
    def delete_dataset(dataset_id: ID) -> None:
        service.delete_dataset(dataset_id)

    @router.get("/datasets/{dataset_id}/schema", tags=["schemas"])
    def get_schema(dataset_id: ID) -> dict[str, Any]:
        return service.schema(dataset_id)

    @router.put("/datasets/{dataset_id}/schema", tags=["schemas"])
    def put_schema(dataset_id: ID, body: dict[str, Any]) -> dict[str, Any]:
        return service.set_schema(dataset_id, body)

    @router.get("/jobs", response_model=list[JobOut], tags=["jobs"])
    def list_jobs() -> list[dict[str, Any]]:
        return service.store.jobs()

    @router.post("/jobs", response_model=JobOut, status_code=202, tags=["jobs"])
    def submit_job(body: JobIn) -> dict[str, Any]:
        return service.submit(body.kind, body.model_dump())

    @router.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
    def get_job(job_id: ID) -> dict[str, Any]:
        return service.job(job_id)

    @router.post("/jobs/{job_id}/cancel", response_model=JobOut, tags=["jobs"])
    def cancel_job(job_id: ID) -> dict[str, Any]:
        return service.cancel(job_id)

    @router.get(
        "/jobs/{job_id}/events",
        tags=["jobs"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "progress events"}},
    )
    async def job_events(job_id: ID, request: Request) -> StreamingResponse:
        """Server-sent events: ``progress`` (the job as JSON) whenever it changes, then ``end``."""
        await run_in_threadpool(service.job, job_id)

        async def events() -> AsyncIterator[str]:
            async for job in watch_job(service, job_id, request):
                yield f"event: progress\ndata: {json.dumps(job)}\n\n"
            yield "event: end\ndata: {}\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-store"}
        )

    @router.get(
        "/jobs/{job_id}/files/{fmt}",
        tags=["jobs"],
        response_class=FileResponse,
        responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
    )
    def sample_file(job_id: ID, fmt: Literal["csv", "parquet"]) -> FileResponse:
        path = service.sample_file(job_id, fmt)
        media = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
        return FileResponse(path, media_type=media, filename=f"sample-{job_id}.{fmt}")

    @router.get("/models", response_model=list[ModelOut], tags=["models"])
    def list_models() -> list[dict[str, Any]]:
        return [_model_out(m) for m in service.store.models()]

    @router.post("/models", response_model=ModelOut, status_code=201, tags=["models"])
    def upload_model(file: Annotated[UploadFile, File(description="A .mirage model file")]) -> dict[str, Any]:
        return _model_out(service.add_model_file(file.filename or "model.mirage", file.file))

    @router.get("/models/{model_id}", response_model=ModelOut, tags=["models"])
    def get_model(model_id: ID) -> dict[str, Any]:
        return _model_out(service.model(model_id))

    @router.get(
        "/models/{model_id}/file",
        tags=["models"],
        response_class=FileResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def model_file(model_id: ID) -> FileResponse:
        model = service.model(model_id)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(model["name"]).stem) or "model"
        return FileResponse(
            service.path(model["file"]), media_type="application/octet-stream", filename=f"{name}.mirage"
        )

    @router.get(
        "/models/{model_id}/report",
        tags=["models"],
        response_class=FileResponse,
        responses={200: {"content": {"text/html": {}}}},
    )
    def model_report(model_id: ID) -> FileResponse:
        return FileResponse(service.report_file(model_id), media_type="text/html")

    return router


def create_app(
    data_dir: str | Path,
    token: str,
    *,
    workers: int = 1,
    limits: Limits | None = None,
) -> FastAPI:
    """The Mirage web app and REST service over ``data_dir`` (created if missing), guarded by ``token``.

    ``workers``: how many jobs run at once, each in its own process.  Jobs a previous server left
    running are marked failed, and half-written files removed, before the app serves.
    """
    from mirage.errors import OptionError

    if len(token) < 16:
        raise OptionError("the token must be at least 16 characters")
    if workers < 1:
        raise OptionError(f"workers must be at least 1, got {workers}")
    limits = limits or Limits()
    service = Service(Path(data_dir), workers, limits)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="Mirage",
        version=__version__,
        description="Synthetic data on this machine: datasets, schemas, jobs (fit, sample, report) and "
        "models. Send the token as `Authorization: Bearer TOKEN`.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.token = token
    app.include_router(_api(service))
    from mirage.server._pages import add_pages

    add_pages(app, service, token)

    @app.exception_handler(MirageError)
    async def mirage_error(request: Request, exc: MirageError) -> JSONResponse:
        status = 413 if isinstance(exc, UploadTooLarge) else 400
        return JSONResponse({"error": error_message(exc)}, status_code=status)

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse({"error": str(exc.args[0]) if exc.args else "not found"}, status_code=404)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, UploadTooLarge):  # FastAPI's "error parsing the body" over our limit
            return JSONResponse({"error": str(exc.__cause__)}, status_code=413)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid request')}"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": error_message(exc)}, status_code=500)

    app.add_middleware(_Guard, token=token, limit=limits.upload_bytes)
    return app
