"""Typed dependencies: what a route may ask for. The app's lifespan puts what
`service.resources` built on `app.state`; this module is the one place that reads it.

    SessionDep       one session per request: committed when the route returns, rolled
                     back if it raises (before the response is sent)
    EngineDep        the matching engine, loaded or not
    ReadyEngineDep   the engine once its index is loaded; 503 meanwhile (checked, like
                     every dependency, before the query and body are validated)
    SettingsDep      the settings
    JobsDep          the background job runner
    MetricsDep       the app's Prometheus metrics
    CallerDep        the principal of the request's API key, which the guard checked
                     (service.ops.guard: 401 without a valid one, before the body)
    known_query      (a router dependency of every /v1 route) 422 for a query parameter
                     the route does not take, naming the nearest one it does

Routes that read the index only (matches, search) take no session: they do no SQL.
The dependencies other than SessionDep are `async`, so that they run on the event loop
instead of a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from models.names import unknown
from service.auth import Principal
from service.engine import Engine
from service.errors import Unauthorized, ValidationFailed
from service.jobs.service import Jobs
from service.matching.service import require_ready
from service.ops.guard import CALLER
from service.ops.metrics import Metrics
from service.settings import Settings
from service.store.db import Session, SessionFactory, transaction


def get_session(request: Request) -> Iterator[Session]:
    sessions: SessionFactory = request.app.state.sessions
    with transaction(sessions) as session:
        yield session


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_ready_engine(engine: Annotated[Engine, Depends(get_engine)]) -> Engine:
    return require_ready(engine)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


# Declares the scheme in the OpenAPI document (/docs: "Authorize", then "Try it out");
# get_caller reads the header itself, for its own 401 reasons.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key: `clustermatch keys create --role admin` prints one.",
)


async def get_caller(
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    """The caller: the guard (service.ops.guard) checked the bearer key of every /v1
    request before its body was read, and left the principal in the scope."""
    found: Principal | None = request.scope.get(CALLER)
    if found is None:  # a route outside /v1, which the guard does not check: none does
        raise Unauthorized("this route takes no API key")
    return found


# scope="function": the session is committed before the response goes out, so a client
# that reads right after a write sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a numeric id")]
"""A numeric id in a path (programmes, shortlists and their entries): within the
databases' 64-bit integer, so a larger one is refused (422) rather than failing the
query."""
EngineDep = Annotated[Engine, Depends(get_engine)]
ReadyEngineDep = Annotated[Engine, Depends(get_ready_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
CallerDep = Annotated[Principal, Depends(get_caller)]


def _route_params(dependant: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(the query parameters, the JSON body's fields) a route takes, its dependencies'
    included."""
    query: set[str] = set()
    body: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        query.update(f.alias for f in current.query_params)
        for f in current.body_params:
            model = getattr(f.field_info, "annotation", None)
            if isinstance(model, type) and issubclass(model, BaseModel):
                body.update(model.model_fields)
        todo.extend(current.dependencies)
    return frozenset(query), frozenset(body)


_PARAMS: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


async def known_query(request: Request, caller: CallerDep) -> None:
    """Refuse query parameters the route does not take (a typo such as `?contry=IT` must
    not be ignored without a word), after the caller is known (401 comes first)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    key = id(route)
    if key not in _PARAMS:
        _PARAMS[key] = _route_params(dependant)
    query, body = _PARAMS[key]
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name in query:
            continue
        if name in body:
            reason = f"'{name}' belongs in the JSON body, not in the query"
        else:
            reason = unknown("query parameter", name, query)
        errors.append({"field": name, "reason": reason})
    if errors:
        raise ValidationFailed(
            "unknown query parameter" + ("s" if len(errors) > 1 else ""), errors=errors
        )
