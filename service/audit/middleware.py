"""Records every write request (any method but GET, HEAD and OPTIONS, on the API and the
console; a few POST routes that only read are left out) in the audit log once its
response has started: the actor the request authenticated as, the route template, the
ids in the path (secrets such as one-time tokens redacted), the status answered, the
client address and the request id.

Recording from the edge, not from each service function, means a new write route is
audited without anyone remembering to: the role-matrix and audit tests list the routes.
Attempts that were refused (401, 403, 404, 409, 422 ...) are recorded too, with their
status. The entry is written in its own transaction after the response: a failure to
write it is logged and never turns a done write into an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.ops.logs import redacted_path
from service.store import audit as audit_store
from service.store.db import SessionFactory, transaction

log = logging.getLogger("clustermatch.audit")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY = frozenset({"/v1/search"})
"""POST routes that change nothing (a query too large for a URL)."""
def actor_of(state: dict[str, Any]) -> tuple[str, str | None]:
    """("key:<pk>" | "user:<pk>" | "anonymous", role) from what authentication left in
    the request's state."""
    viewer = state.get("console_viewer")
    if viewer is not None:
        return f"user:{viewer.user_pk}", str(viewer.role)
    principal = state.get("principal")
    if principal is not None:
        return f"key:{principal.key_pk}", str(principal.role)
    return "anonymous", None


class AuditMiddleware:
    """`sessions` is asked for the session factory when an entry is written (the app's
    resources open in its lifespan, after the middleware is built)."""

    def __init__(self, app: ASGIApp, sessions: Callable[[], SessionFactory]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500
        request_id: str | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"x-request-id":
                        request_id = value.decode("latin-1")[:32]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route not in READ_ONLY:
                await run_in_threadpool(self._record, scope, route, status, request_id)

    def _record(
        self, scope: Scope, route: str | None, status: int, request_id: str | None
    ) -> None:
        actor, role = actor_of(scope.get("state") or {})
        path, params = redacted_path(scope)
        client = scope.get("client")
        try:
            with transaction(self.sessions()) as session:
                audit_store.add(
                    session,
                    actor=actor,
                    role=role,
                    method=scope["method"][:8],
                    route=(route or "unmatched")[:200],
                    path=path[:500],
                    target=params,
                    status=status,
                    ip=(client[0] if client else None),
                    request_id=request_id,
                )
        except Exception:  # the write it describes is done; never fail it afterwards
            log.exception("could not write an audit entry")

