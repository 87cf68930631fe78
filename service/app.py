"""The FastAPI application: `create_app()` wires the resources (`service.resources`), the
routes of each domain, error handling and the offline documentation page. The lifespan
opens the resources and puts them on `app.state`, where `service.deps` hands them out."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.encoders import Encoder
from service import sync
from service.auth import ensure_key
from service.console import routes as console  # console
from service.engine import Engine
from service.errors import (
    PROBLEM_JSON,
    TYPE_BASE,
    ClusterMatchError,
    field_path,
    problem_response,
)
from service.events import routes as events
from service.interactions import routes as interactions
from service.jobs import routes as jobs
from service.matching import routes as matching
from service.ops import routes as ops
from service.ops.logs import configure_logging
from service.ops.middleware import RequestMiddleware
from service.profiles import routes as profiles
from service.ranker import routes as ranker
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
        errors = [
            {"field": field_path(e.get("loc", ())), "reason": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
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


def install_docs(app: FastAPI) -> None:
    """Swagger UI served from the package's own assets: the docs work with no internet."""
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
        resources.jobs.fail_interrupted()
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
            if engine.dirty:
                await asyncio.to_thread(engine.save)
            resources.close()

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
    app.include_router(profiles.router)
    app.include_router(matching.router)
    app.include_router(interactions.router)
    app.include_router(ranker.router)
    app.include_router(events.router)
    app.include_router(jobs.router)
    app.include_router(shortlists.router)  # console: shortlists
    # console: static files before the router, whose catch-all 404 would shadow them
    app.mount("/console/static", StaticFiles(directory=console.STATIC_DIR), name="console-static")
    app.include_router(console.router)  # console
    app.add_middleware(
        RequestMiddleware,
        metrics=resources.metrics,
        max_body=settings.max_body_bytes,
    )
    return app


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
