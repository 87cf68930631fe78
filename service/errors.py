"""Errors as RFC 9457 problem details (`application/problem+json`).

Hierarchy (one base class carrying the status code; one handler turns any of them into a
problem response):

    ClusterMatchError            500  base; never raised directly
    ├── BadRequest               400  a well-formed request that cannot be served as asked
    ├── Unauthorized             401  missing or unknown API key
    ├── Forbidden                403  the key's role may not do this
    ├── NotFound                 404
    ├── Conflict                 409
    ├── PayloadTooLarge          413
    ├── ValidationFailed         422  payload validation (fields, or rows of an import file)
    ├── TooManyRequests          429  a rate limit or the failed-key throttle; `Retry-After`
    └── ServiceUnavailable       503  not ready yet (index loading)

422 is used only for payload validation; everything else gets its own status.
`problem_response` is the one place an error becomes an HTTP response (the app's handlers
and the request middleware use it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from models.names import unknown

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://clustermatch.example/problems/"


class ClusterMatchError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body

    def response_headers(self) -> dict[str, str]:
        """The headers the response carries (the class's; some errors add their own)."""
        return dict(self.headers)


class BadRequest(ClusterMatchError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ClusterMatchError):
    status, slug, title = 401, "unauthorized", "Unauthorized"
    # RFC 9110 11.6.1: a 401 names the scheme the client should use
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="clustermatch"'}


class Forbidden(ClusterMatchError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ClusterMatchError):
    status, slug, title = 404, "not-found", "Not found"

    @classmethod
    def for_id(cls, kind: str, ident: str, max_len: int) -> NotFound:
        """No `kind` with this id; the id is shown cut to `max_len`, the longest id of
        that kind that can exist."""
        return cls(f"no {kind} with id '{ident[:max_len]}'")


class Conflict(ClusterMatchError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(ClusterMatchError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class ValidationFailed(ClusterMatchError):
    """`errors` is a list of {"field", "reason"} (plus "row" for import files)."""

    status, slug, title = 422, "validation-failed", "Validation failed"

    def __init__(self, detail: str, errors: list[dict[str, Any]], **extra: Any) -> None:
        super().__init__(detail, errors=errors, **extra)

    @classmethod
    def from_pydantic(
        cls, detail: str, exc: PydanticValidationError, known: Iterable[str] = ()
    ) -> ValidationFailed:
        """One {"field", "reason"} per pydantic error, with field paths like `offers[2]`;
        an unknown top-level field is named with the nearest of the `known` ones."""
        names = list(known)
        errors = []
        for e in exc.errors():
            reason = e["msg"]
            if e["type"] == "extra_forbidden" and names and len(e["loc"]) == 1:
                reason = unknown("field", str(e["loc"][0]), names)
            errors.append({"field": field_path(e["loc"]), "reason": reason})
        return cls(detail, errors=errors)

    @classmethod
    def rows(
        cls, rejected: int, total: int, errors: list[dict[str, Any]], report: dict[str, Any]
    ) -> ValidationFailed:
        """An import file with invalid rows: nothing was stored."""
        return cls(
            f"{rejected} of {total} rows are invalid; nothing was imported "
            "(fix them, or import the valid rows with allow_partial=true)",
            errors=errors,
            report=report,
        )


class TooManyRequests(ClusterMatchError):
    """Refused for now; `Retry-After` (and `retry_after_s` in the body) says when to
    try again."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.retry_after_s = retry_after_s

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class BodyTooLarge(StarletteHTTPException):
    """A body that outgrew its limit while it streamed in (no Content-Length). Raised
    from inside the route's body read, where FastAPI passes on only HTTP exceptions (any
    other becomes a 400); the app's handler answers it as `PayloadTooLarge`."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


class ServiceUnavailable(ClusterMatchError):
    status, slug, title = 503, "unavailable", "Service unavailable"


class FieldError(BaseModel):
    field: str | None = Field(
        description="the field, parameter or `file` at fault (`offers[2]`); null where an "
        "import row is not an object at all"
    )
    reason: str
    row: int | None = Field(default=None, description="import files: the row (header = 1)")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="422: every field at fault and why"
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in (
        (401, "no valid API key (`Authorization: Bearer <key>`)"),
        (403, "the key's role may not do this"),
        (404, "not found"),
        (413, "the body is larger than this route takes (see the request body's description)"),
        (422, "the request is invalid: `errors` lists each field and why"),
        (
            429,
            "a rate limit (per key, user and address) or too many unknown keys from this "
            "address: `Retry-After` says in how many seconds to try again",
        ),
    )
}
"""The error answers every /v1 route documents in the OpenAPI schema (413 too: the guard
measures any request's body, even a GET's; 400 where the operation takes a body:
service.app.install_openapi)."""

_MORE_PROBLEMS = {
    400: "the body is not JSON (or not the form the route reads), or a request that "
    "cannot be served as asked: `detail` says why",
    409: "the resource's state refuses this: a duplicate, or a schedule that must be "
    "solved or re-planned first",
    503: "the index is still loading: retry shortly (see /readyz)",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The problem answers beyond PROBLEM_RESPONSES that one route can give, for its
    decorator's `responses=` (so the schema lists what the operation really answers)."""
    return {code: {"model": Problem, "description": _MORE_PROBLEMS[code]} for code in codes}


def field_path(loc: Sequence[Any]) -> str:
    """pydantic's location as a field path: ("query", "kind", 0) -> "kind[0]"."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(loc[0] if loc else "")


def json_error_reason(doc: str, pos: int, msg: str) -> str:
    """Where a JSON text stops being JSON, as line and column, with a hint."""
    pos = max(0, min(pos, len(doc)))
    line = doc.count("\n", 0, pos) + 1
    column = pos - (doc.rfind("\n", 0, pos) + 1) + 1
    return (
        f"not valid JSON at line {line}, column {column}: {msg}. Hint: keys and strings take "
        "double quotes, and a comma may not follow the last item of an object or a list"
    )


def problem_response(exc: ClusterMatchError, instance: str | None = None) -> JSONResponse:
    """The problem document of `exc`, with its status, media type and headers."""
    return JSONResponse(
        exc.problem(instance),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
        headers=exc.response_headers() or None,
    )
