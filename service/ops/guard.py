"""What a request passes before any route reads it (an ASGI middleware inside the request
middleware, so that refusals are logged and counted like any answer):

1. the rate limit of its client address (service.ops.limits);
2. on /v1, the API key, checked here, before a byte of the body is read: a client
   without a valid key cannot make the server read, let alone parse, a body. An unknown
   key counts against the address (service.auth.check_key: 429 past
   `key_max_failures_per_ip` in `key_failure_window_s`, for every worker alike); then the
   rate limit of the key. The principal goes into the scope, where
   `service.deps.get_caller` takes it;
3. the body limit of the route: `max_bulk_import_bytes` for the profile import, which
   streams its file to disk (`STREAMED`), `max_body_bytes` for the other import routes
   (`UPLOADS`, API and console), `max_json_body_bytes` for every other one. A declared
   Content-Length over it is refused at once (413); a body streamed without one, when it
   passes the limit.

Refusals are problem documents (the console's too: it has no page to show before the
route runs). /healthz, /readyz, /metrics, the documentation and static files pass
untouched: load balancers and scrapers call them from one address, often.

`JsonRoute`, the route class of the /v1 routers, parses a JSON body larger than
`OFF_LOOP_JSON_BYTES` in a worker thread instead of on the event loop, which serves
every other request meanwhile (a 4 MiB array of numbers takes about 0.3 s to parse).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import KeyCache, KeyThrottle, Principal, check_key, key_digest
from service.errors import (
    BodyTooLarge,
    ClusterMatchError,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    problem_response,
)
from service.ops.limits import Rate, RateLimiter
from service.settings import Settings

log = logging.getLogger("clustermatch.guard")

CALLER = "clustermatch.caller"
"""The scope key under which the guard leaves the request's `Principal`."""
OFF_LOOP_JSON_BYTES = 64 * 1024

UPLOADS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        ("POST", r"/v1/profiles/import"),
        ("POST", r"/v1/profiles/import/[a-z]+"),  # a published list (service.connectors)
        ("POST", r"/v1/interactions/import"),
        ("POST", r"/console/profiles/import"),
        ("POST", r"/console/events/[^/]+/participants/upload"),
        ("POST", r"/v1/events/[^/]+/follow-ups/import"),  # outcomes: the follow-up sheet
        ("POST", r"/console/events/[^/]+/outcomes/import"),
    )
)
"""The routes that take a file (the large body limit); every other takes the small one."""

_UNLIMITED = re.compile(r"/(healthz|readyz|metrics|docs|redoc|openapi\.json)$|/(console/)?static/")


STREAMED: tuple[tuple[str, re.Pattern[str]], ...] = (("POST", re.compile(r"/v1/profiles/import")),)
"""The upload routes that stream their file to the data directory instead of holding it
(service.io.uploads.spool_upload): they take `max_bulk_import_bytes`."""


def is_upload(method: str, path: str) -> bool:
    return any(method == m and pattern.fullmatch(path) for m, pattern in UPLOADS)


def body_limit(settings: Settings, method: str, path: str) -> int:
    """The largest body a route takes (see the module docstring)."""
    if any(method == m and pattern.fullmatch(path) for m, pattern in STREAMED):
        return settings.max_bulk_import_bytes
    return settings.max_body_bytes if is_upload(method, path) else settings.max_json_body_bytes


def rate_limiter(settings: Settings) -> RateLimiter:
    """The limits of `settings`: scope "key" (an API key or a console user, by key number)
    and "ip" (a client address)."""
    return RateLimiter(
        {
            "key": Rate(settings.rate_limit_per_key, settings.rate_limit_key_burst),
            "ip": Rate(settings.rate_limit_per_ip, settings.rate_limit_ip_burst),
        }
    )


def client_of(scope: Scope) -> str:
    """The client address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def limit(limiter: RateLimiter, scope: str, subject: str, what: str) -> None:
    """429 when `subject` has used up its requests for now."""
    wait = limiter.take(scope, subject)
    if wait:
        raise TooManyRequests(f"too many requests from this {what}; try again in {wait} s", wait)


class Guard:
    """The middleware (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        limiter: RateLimiter,
        key_cache: KeyCache,
    ) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter
        self.key_cache = key_cache
        self.throttle = KeyThrottle(settings.key_max_failures_per_ip, settings.key_failure_window_s)
        self._blocked: dict[str, float] = {}
        """Addresses refused for unknown keys, until when (monotonic): no look-up meanwhile."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _UNLIMITED.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            limit(self.limiter, "ip", client_of(scope), "address")
            if scope["path"].startswith("/v1/"):
                principal = await self._caller(scope)
                scope[CALLER] = principal
                scope.setdefault("state", {})["principal"] = principal  # whom the audit names
                limit(self.limiter, "key", str(principal.key_pk), "key")
            most = self._body_limit(scope)
        except ClusterMatchError as exc:
            await problem_response(exc, scope["path"])(scope, receive, send)
            return
        except Exception:  # (the key's look-up: the database) a problem document, logged
            log.exception("the guard failed on %s", scope["path"])
            failed = ClusterMatchError("an unexpected error occurred; it was logged")
            await problem_response(failed, scope["path"])(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > most:
                    raise BodyTooLarge(most)
            return message

        await self.app(scope, limited_receive, send)

    def _body_limit(self, scope: Scope) -> int:
        """The route's body limit; 413 at once for a declared length over it."""
        most = body_limit(self.settings, scope["method"], scope["path"])
        for name, value in scope.get("headers") or ():
            if name == b"content-length" and value.isdigit() and int(value) > most:
                raise PayloadTooLarge(f"the body is larger than {most} bytes")
        return most

    async def _caller(self, scope: Scope) -> Principal:
        """The principal of the request's bearer key (see the module's docstring)."""
        header = ""
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                header = value.decode("latin-1")
        kind, _, token = header.partition(" ")
        token = token.strip()
        if kind.lower() != "bearer" or not token:
            raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
        digest = key_digest(token)
        found = self.key_cache.get(digest)
        if found is not None:
            return found
        client = client_of(scope)
        until = self._blocked.get(client)
        now = time.monotonic()
        if until is not None and until > now:
            wait = int(until - now) + 1
            raise TooManyRequests(
                f"too many unknown API keys from this address; try again in {wait} s", wait
            )
        sessions = scope["app"].state.sessions
        try:
            found = await run_in_threadpool(check_key, sessions, token, client, self.throttle)
        except TooManyRequests as exc:
            if len(self._blocked) >= 10_000:
                self._blocked.clear()
            self._blocked[client] = now + exc.retry_after_s
            raise
        self.key_cache.put(digest, found)
        return found


# ---------------------------------------------------------------------------- JSON off the loop


class _OffLoopJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                if len(body) > OFF_LOOP_JSON_BYTES:
                    self._json = await run_in_threadpool(json.loads, body)
                else:
                    self._json = json.loads(body)
            except RecursionError:  # a 422 naming the body, as for any JSON error
                doc = body.decode("utf-8", "replace")
                raise json.JSONDecodeError("arrays or objects nested too deeply", doc, 0) from None
        return self._json


class JsonRoute(APIRoute):
    """A route whose JSON body, when large, is parsed off the event loop."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            return await handler(_OffLoopJsonRequest(request.scope, request.receive))

        return run
