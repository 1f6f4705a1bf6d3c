"""The web app's pages: Jinja templates rendered on the server; htmx (vendored, no CDN) streams a job's
progress from server-sent events.  Forms post and redirect, so every flow works from the keyboard
and without scripts but the live progress."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from mirage.errors import MirageError
from mirage.schema import PII_TYPES, Kind
from mirage.server._service import ENGINE_CHOICES, Service

__all__ = ["add_pages"]

_HERE = Path(__file__).parent


def add_pages(app: FastAPI, service: Service, token: str) -> None:
    from mirage.server._access import COOKIE, token_matches, watch_job
    from mirage.server._jobs import error_message

    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def home(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
        return page(
            request,
            "index.html",
            status,
            datasets=service.store.datasets(),
            models=service.store.models(),
            jobs=service.store.jobs()[:20],
            error=error,
        )

    @app.get("/login", include_in_schema=False)
    def login(request: Request, token: str | None = None) -> Response:
        if token is None:
            return page(request, "login.html")
        if not token_matches(token, app.state.token):
            return page(request, "login.html", 401, error="that token is not this server's")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    @app.post("/login", include_in_schema=False)
    def login_form(request: Request, token: Annotated[str, Form()]) -> Response:
        return login(request, token)

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> HTMLResponse:
        return home(request)

    @app.post("/datasets", include_in_schema=False)
    def upload(
        request: Request, file: Annotated[UploadFile, File()], skip_bad_lines: Annotated[str, Form()] = ""
    ) -> Response:
        try:
            skip = "skip" if skip_bad_lines else "error"
            dataset = service.add_upload(file.filename or "upload.csv", file.file, on_bad_lines=skip)
        except MirageError as exc:
            return home(request, error_message(exc), 400)
        return RedirectResponse(f"/datasets/{dataset['id']}", status_code=303)

    @app.post("/datasets/database", include_in_schema=False)
    def add_database(
        request: Request, url: Annotated[str, Form()], table: Annotated[str, Form()] = ""
    ) -> Response:
        try:
            dataset = service.add_database(url, table or None)
        except MirageError as exc:
            return home(request, error_message(exc), 400)
        return RedirectResponse(f"/datasets/{dataset['id']}", status_code=303)

    def dataset_page(request: Request, dataset_id: str, status: int = 200, **extra: Any) -> HTMLResponse:
        import json

        schema = service.schema(dataset_id)
        return page(
            request,
            "dataset.html",
            status,
            dataset=service.dataset(dataset_id),
            schema=schema,
            schema_json=json.dumps(schema, indent=2, ensure_ascii=False),
            kinds=[k.value for k in Kind],
            pii_types=PII_TYPES,
            engines=ENGINE_CHOICES,
            **extra,
        )

    @app.get("/datasets/{dataset_id}", include_in_schema=False)
    def dataset(request: Request, dataset_id: str) -> HTMLResponse:
        return dataset_page(request, dataset_id)

    @app.post("/datasets/{dataset_id}/schema", include_in_schema=False)
    async def edit_kinds(request: Request, dataset_id: str) -> HTMLResponse:
        form = await request.form()
        kinds = {str(k)[5:]: str(v) for k, v in form.items() if str(k).startswith("kind:")}
        pii = {str(k)[4:]: str(v) for k, v in form.items() if str(k).startswith("pii:") and v}
        try:
            await run_in_threadpool(service.set_kinds, dataset_id, kinds, pii)
        except MirageError as exc:
            return await run_in_threadpool(dataset_page, request, dataset_id, 400, error=error_message(exc))
        return await run_in_threadpool(dataset_page, request, dataset_id, saved="schema saved")

    @app.post("/datasets/{dataset_id}/schema-json", include_in_schema=False)
    def edit_json(request: Request, dataset_id: str, schema_json: Annotated[str, Form()]) -> HTMLResponse:
        from mirage.schema._schema import parse_json

        try:
            service.set_schema(dataset_id, parse_json(schema_json, "schema"))
        except MirageError as exc:
            return dataset_page(request, dataset_id, 400, error=error_message(exc))
        return dataset_page(request, dataset_id, saved="schema saved")

    @app.post("/datasets/{dataset_id}/fit", include_in_schema=False)
    def fit(
        request: Request,
        dataset_id: str,
        engine: Annotated[str, Form()] = "auto",
        time_budget: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            budget = _number(time_budget, "time budget")
            job = service.submit("fit", {"dataset_id": dataset_id, "engine": engine, "time_budget": budget})
        except MirageError as exc:
            return dataset_page(request, dataset_id, 400, error=error_message(exc))
        return RedirectResponse(f"/jobs/{job['id']}", status_code=303)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    def job(request: Request, job_id: str) -> HTMLResponse:
        job = service.job(job_id)
        return page(request, "job.html", job=job, model=_job_model(service, job))

    @app.post("/jobs/{job_id}/cancel", include_in_schema=False)
    def cancel(job_id: str) -> Response:
        with contextlib.suppress(MirageError):  # finished meanwhile: the page shows how
            service.cancel(job_id)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/jobs/{job_id}/stream", include_in_schema=False)
    async def stream(request: Request, job_id: str) -> StreamingResponse:
        """Server-sent events for htmx: the progress panel as HTML whenever it changes, then ``done``."""
        await run_in_threadpool(service.job, job_id)
        fragment = templates.get_template("_progress.html")

        async def events() -> AsyncIterator[str]:
            async for job in watch_job(service, job_id, request):
                html = fragment.render(job=job, model=_job_model(service, job))
                yield "event: progress\n" + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"
            yield "event: done\ndata: done\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-store"}
        )

    @app.get("/models/{model_id}", include_in_schema=False)
    def model(request: Request, model_id: str) -> HTMLResponse:
        model = service.model(model_id)
        samples = [j for j in service.store.jobs() if j["model_id"] == model_id and j["kind"] == "sample"]
        dataset = service.store.dataset(model["dataset_id"]) if model["dataset_id"] else None
        return page(
            request,
            "model.html",
            model=model,
            samples=samples,
            columns=dataset["columns"] if dataset else [],
            error=request.query_params.get("error"),
        )

    @app.post("/models/{model_id}/report", include_in_schema=False)
    def report(model_id: str, target: Annotated[str, Form()] = "") -> Response:
        job = service.submit("report", {"model_id": model_id, "target": target.strip() or None})
        return RedirectResponse(f"/jobs/{job['id']}", status_code=303)

    @app.post("/models/{model_id}/sample", include_in_schema=False)
    def sample(
        model_id: str,
        rows: Annotated[str, Form()],
        conditions: Annotated[str, Form()] = "",
        seed: Annotated[str, Form()] = "0",
    ) -> Response:
        try:
            n = _number(rows, "rows", integer=True)
            params = {"model_id": model_id, "rows": n, "seed": _number(seed, "seed", integer=True) or 0}
            if conditions.strip():
                params["conditions"] = _conditions(conditions)
            job = service.submit("sample", params)
        except MirageError as exc:
            return RedirectResponse(f"/models/{model_id}?error={quote(error_message(exc))}", status_code=303)
        return RedirectResponse(f"/jobs/{job['id']}", status_code=303)


def _job_model(service: Service, job: dict[str, Any]) -> dict[str, Any] | None:
    model_id = job.get("model_id") or (job.get("result") or {}).get("model_id")
    return None if model_id is None else service.store.model(model_id)


def _number(text: str, what: str, *, integer: bool = False) -> Any:
    from mirage.errors import OptionError

    text = text.strip()
    if not text:
        return None
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise OptionError(f"{what} {text!r} is not a {'whole ' if integer else ''}number") from None
    if value < 0 or value != value:
        raise OptionError(f"{what} must not be negative, got {text}")
    return value


def _conditions(text: str) -> dict[str, Any]:
    """``column=value`` or ``column=a|b`` per line (a list of allowed values), as sample's conditions."""
    from mirage.errors import OptionError

    found: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise OptionError(f"condition {line.strip()!r}: expected COLUMN=VALUE or COLUMN=A|B")
        values = [_scalar(v.strip()) for v in value.split("|")]
        found[name.strip()] = values if len(values) > 1 else values[0]
    return found


def _scalar(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
