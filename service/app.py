"""The FastAPI application: `create_app()` wires the resources (`service.resources`), the
routes of each domain, error handling and the offline documentation page. The lifespan
opens the resources and puts them on `app.state`, where `service.deps` hands them out."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.encoders import Encoder
from models.names import unknown
from service import sync
from service.audit import routes as audit_routes
from service.audit.middleware import AuditMiddleware
from service.auth import ensure_key
from service.connectors import routes as connectors
from service.console import routes as console  # console
from service.deps import known_query
from service.engine import Engine
from service.errors import (
    PROBLEM_JSON,
    PROBLEM_RESPONSES,
    TYPE_BASE,
    BodyTooLarge,
    ClusterMatchError,
    PayloadTooLarge,
    field_path,
    json_error_reason,
    problem_response,
)
from service.events import routes as events
from service.interactions import routes as interactions
from service.jobs import routes as jobs
from service.matching import routes as matching
from service.offices import routes as offices
from service.ops import routes as ops
from service.ops.guard import Guard, body_limit, is_upload, rate_limiter
from service.ops.logs import configure_logging
from service.ops.middleware import RequestMiddleware
from service.outcomes import routes as outcomes
from service.profiles import routes as profiles
from service.ranker import routes as ranker
from service.reports import routes as reports  # reports
from service.resources import Resources
from service.runtime import configure_process
from service.settings import Settings
from service.shortlists import routes as shortlists  # console: shortlists
from service.store.db import transaction

log = logging.getLogger("clustermatch.app")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClusterMatchError)
    async def _domain(request: Request, exc: ClusterMatchError) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(request, exc, e) for e in exc.errors()]
        body = {
            "type": TYPE_BASE + "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5]),
            "instance": request.url.path,
            "errors": errors,
        }
        return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, BodyTooLarge):
            return problem_response(PayloadTooLarge(str(exc.detail)), request.url.path)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        body = {
            "type": "about:blank",
            "title": title,
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return JSONResponse(
            body,
            status_code=exc.status_code,
            media_type=PROBLEM_JSON,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(
            ClusterMatchError("an unexpected error occurred; it was logged"), request.url.path
        )


def _body_fields(request: Request) -> list[str]:
    """The fields of the JSON body model of the request's route (none for other bodies)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    names: list[str] = []
    for f in getattr(dependant, "body_params", ()):
        model = getattr(f.field_info, "annotation", None)
        names += list(getattr(model, "model_fields", {}))
    return names


def _field_error(
    request: Request, exc: RequestValidationError, e: dict[str, Any]
) -> dict[str, str]:
    """One entry of a 422's `errors`: a body that is not JSON says where (line, column)
    instead of a character offset; an unknown body field names the nearest known one."""
    loc: tuple[Any, ...] = tuple(e.get("loc", ()))
    kind = e.get("type")
    if kind == "json_invalid":
        ctx = e.get("ctx") or {}
        pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
        doc = exc.body if isinstance(exc.body, str) else ""
        msg = str(ctx.get("error", "invalid JSON")) if isinstance(ctx, dict) else "invalid JSON"
        return {"field": "body", "reason": json_error_reason(doc, pos, msg)}
    reason = str(e.get("msg", "invalid"))
    if kind == "extra_forbidden" and len(loc) == 2 and loc[0] == "body":
        reason = unknown("field", str(loc[1]), _body_fields(request))
    return {"field": field_path(loc), "reason": reason}


def install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc served from the package's own assets: the docs work with no
    internet."""
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/static/docs", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="ClusterMatch API",
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="ClusterMatch API",
            redoc_js_url="/static/docs/redoc.standalone.js",
            redoc_favicon_url="/static/docs/favicon.png",
            with_google_fonts=False,
        )


def create_app(settings: Settings | None = None, encoder: Encoder | None = None) -> FastAPI:
    """Build the app. `encoder` replaces the configured model (tests use a fast stand-in)."""
    # `clustermatch serve` ran this before anything loaded numpy; an app made another way
    # gets the settings for whatever loads from here on.
    configure_process()
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    resources = Resources(settings, encoder=encoder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(resources.open)
        engine = resources.engine
        app.state.sessions = resources.sessions
        app.state.engine = engine
        app.state.jobs = resources.jobs
        resources.jobs.fail_abandoned()  # jobs of processes that are gone (service.jobs)
        if settings.bootstrap_admin_key:
            with transaction(resources.sessions) as s:
                ensure_key(s, "admin", settings.bootstrap_admin_key, "bootstrap")
        # Reconcile in the background: /healthz answers at once, /readyz when done.
        loader = threading.Thread(target=engine.reconcile, name="reconcile", daemon=True)
        loader.start()
        if settings.serve_when_ready:  # (several workers: the ready ones serve meanwhile)
            await asyncio.to_thread(loader.join)
        stop = asyncio.Event()
        saver = asyncio.create_task(_autosave(engine, settings.index_save_interval_s, stop))
        follower = asyncio.create_task(sync.Follower(engine).follow(settings.sync_interval_s, stop))
        resources.jobs.start()  # this process's heartbeat, until the shutdown below
        try:
            yield
        finally:
            stop.set()
            saver.cancel()
            follower.cancel()
            with suppress(asyncio.CancelledError):
                await follower
            with suppress(asyncio.CancelledError):
                await saver
            resources.jobs.shutdown()
            await asyncio.to_thread(loader.join)
            saved = engine.dirty
            if saved:
                await asyncio.to_thread(engine.save)
            resources.close()
            log.info("shut down", extra={"event": "shutdown", "index_saved": saved})

    app = FastAPI(
        title="ClusterMatch",
        version="0.1.0",
        summary="Explained partner, buyer and overseas matches for industrial clusters.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.key_cache = resources.key_cache
    app.state.metrics = resources.metrics
    install_error_handlers(app)
    install_docs(app)
    app.include_router(ops.router)
    # every /v1 route: a key, no unknown query parameter, errors as problem+json
    v1 = {"dependencies": [Depends(known_query)], "responses": PROBLEM_RESPONSES}
    app.include_router(profiles.router, **v1)  # type: ignore[arg-type]
    app.include_router(connectors.router, **v1)  # type: ignore[arg-type]
    app.include_router(matching.router, **v1)  # type: ignore[arg-type]
    app.include_router(interactions.router, **v1)  # type: ignore[arg-type]
    app.include_router(ranker.router, **v1)  # type: ignore[arg-type]
    app.include_router(events.router, **v1)  # type: ignore[arg-type]
    app.include_router(outcomes.router, **v1)  # type: ignore[arg-type]  # outcomes
    app.include_router(jobs.router, **v1)  # type: ignore[arg-type]
    app.include_router(shortlists.router, **v1)  # type: ignore[arg-type]  # console: shortlists
    app.include_router(reports.programs, **v1)  # type: ignore[arg-type]  # reports
    app.include_router(reports.reports, **v1)  # type: ignore[arg-type]  # reports
    app.include_router(audit_routes.router, **v1)  # type: ignore[arg-type]  # audit
    app.include_router(offices.router, **v1)  # type: ignore[arg-type]  # offices
    # console: static files before the router, whose catch-all 404 would shadow them
    app.mount("/console/static", StaticFiles(directory=console.STATIC_DIR), name="console-static")
    app.include_router(console.router)  # console
    install_openapi(app, settings)
    # inside the request middleware: what the guard refuses is logged and counted too
    app.state.limiter = rate_limiter(settings)
    app.add_middleware(
        Guard, settings=settings, limiter=app.state.limiter, key_cache=resources.key_cache
    )
    app.add_middleware(RequestMiddleware, metrics=resources.metrics)
    # outermost: it sees the final status and the request id (audit)
    app.add_middleware(AuditMiddleware, sessions=lambda: resources.sessions)
    return app


UPLOAD_CONTENT: dict[str, Any] = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    },
    "text/csv": {"schema": {"type": "string"}},
    "application/x-ndjson": {"schema": {"type": "string"}},
}
"""What an import route reads (the file, raw or as the form field `file`): it reads the
request itself, so FastAPI declares no body for it."""


BODY_400: dict[str, Any] = {
    "description": "the body is not JSON, or not the form the route reads",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _only_declared_files(responses: dict[str, Any]) -> None:
    """A route that answers a file (CSV, XLSX, PNG ...) declares its media types; FastAPI
    adds an `application/json` with an empty schema beside them, which it never answers."""
    for response in responses.values():
        content = response.get("content", {})
        if len(content) > 1 and content.get("application/json") == {"schema": {}}:
            del content["application/json"]


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document as the API answers: error responses are problem+json (RFC
    9457) documents, not FastAPI's default validation shape; a request body says its
    limit in bytes (service.ops.guard), and a 429 its `Retry-After` header."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for route, path in schema.get("paths", {}).items():
            for method, operation in path.items():
                body = operation.get("requestBody")
                # (a path template's parameter stands for a segment: /import/{source})
                concrete = re.sub(r"\{[^/}]+\}", "x", route)
                if body is not None or is_upload(method.upper(), concrete):
                    most = body_limit(settings, method.upper(), concrete)
                    body = operation.setdefault("requestBody", {"content": UPLOAD_CONTENT})
                    body["description"] = f"At most {most} bytes (larger: 413)."
                    # a body that is not JSON (or not the upload's form) is answered 400
                    operation["responses"].setdefault("400", BODY_400)
                _only_declared_files(operation.get("responses", {}))
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "k":  # the limit is a setting
                        parameter["schema"]["maximum"] = settings.max_k
                if "429" in operation.get("responses", {}):
                    operation["responses"]["429"]["headers"] = {
                        "Retry-After": {
                            "description": "seconds to wait before trying again",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    }
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[:1] in ("4", "5") and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        search = schema.get("components", {}).get("schemas", {}).get("SearchBody", {})
        if "k" in search.get("properties", {}):
            search["properties"]["k"]["maximum"] = settings.max_k
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _autosave(engine: Engine, interval: float, stop: asyncio.Event) -> None:
    if interval <= 0:
        return
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if engine.dirty and engine.ready:
            try:
                await asyncio.to_thread(engine.save)
            except OSError:
                log.exception("saving the index failed; it will be retried")
