"""The console checks the sign-in and the origin before it reads a body (issue 21, "check
the key before reading a body", for the console's cookie): FastAPI reads and parses a
route's form before any dependency runs, so an upload without a session made the server
take and parse the whole multipart body (up to CLUSTERMATCH_MAX_BODY_BYTES) before its
sign-in redirect. service.console.security.before_body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.console import deps
from service.console import routes as console_routes
from service.console.pages import ConsoleRoute, _depends_on
from tests.support.asgi import asgi_call
from tests.support.console import Console, csrf_of

BOUNDARY = "cm-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
UPLOADS = (
    "/console/profiles/import",
    "/console/events/e-1/participants/upload",
    "/console/events/e-1/outcomes/import",
)
FORMS = ("/console/events/new", "/console/admin/users", "/console/me/profile")
"""Routes with ordinary forms: the same rule."""


def _body(token: str, data: bytes = b"id,name,kind\nb4-1,Before Body,firm\n") -> list[bytes]:
    """A multipart upload in three chunks: the token, the file, the end."""
    head = f"--{BOUNDARY}\r\n".encode()
    return [
        head + b'Content-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode(),
        b"\r\n" + head + b'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + data,
        f"\r\n--{BOUNDARY}--\r\n".encode(),
    ]


def _post(
    console: Console, path: str, headers: dict[str, str], token: str = "x"
) -> tuple[int, int]:
    return asgi_call(console.app, "POST", path, headers, _body(token), content_type=MULTIPART)


def test_an_upload_without_a_session_is_refused_before_its_body_is_read(
    console: Console,
) -> None:
    for path in (*UPLOADS, *FORMS):
        for headers in ({}, {"cookie": f"{deps.SESSION_COOKIE}=not-a-session"}):
            status, taken = _post(console, path, headers)
            assert (status, taken) == (403, 0), (path, headers)  # "the form has expired"


def test_a_cross_origin_post_is_refused_before_its_body_is_read(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    cookie = {"cookie": f"{deps.SESSION_COOKIE}={client.cookies[deps.SESSION_COOKIE]}"}
    token = csrf_of(client.get("/console/profiles/import").text)
    for foreign in (
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},  # a sibling subdomain is another origin
        {"origin": "https://evil.example"},
        {"origin": "null"},  # a sandboxed frame or a redirect
    ):
        status, taken = _post(console, UPLOADS[0], {**cookie, **foreign}, token)
        assert (status, taken) == (403, 0), foreign
    # a wrong token in the header (htmx) is refused before the body too
    status, taken = _post(console, UPLOADS[0], {**cookie, "x-csrf-token": "0" * 64}, token)
    assert (status, taken) == (403, 0)
    # the browser's own same-origin post reads the body and checks the form's token
    same = {"sec-fetch-site": "same-origin", "origin": "http://testserver"}
    assert _post(console, UPLOADS[0], {**cookie, **same}, "wrong") == (403, 3)
    status, taken = _post(console, UPLOADS[0], {**cookie, **same}, token)
    assert (status, taken) == (303, 3)  # to the import's preview
    # a browser without Sec-Fetch-Site, from this host; a client that is no browser
    for headers in ({"origin": "http://testserver"}, {}):
        assert _post(console, UPLOADS[0], {**cookie, **headers}, token) == (303, 3)


def _console_routes(routes: list[Any]) -> list[ConsoleRoute]:
    found: list[ConsoleRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += _console_routes(inner.routes)
        elif isinstance(route, ConsoleRoute):
            found.append(route)
    return found


def test_only_the_sign_in_forms_are_read_without_a_session(console: Console) -> None:
    """A new route that takes a body without needing a signed-in user fails here: its
    body would be read for anyone. (These few take the guard's small limit,
    CLUSTERMATCH_MAX_JSON_BODY_BYTES: only the upload routes take the large one.)"""
    assert isinstance(console.app, FastAPI)
    unsafe = [
        route
        for route in _console_routes(console_routes.router.routes)
        if (route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
    ]
    assert len(unsafe) > 40
    open_ = {r.path for r in unsafe if not _depends_on(r.dependant, deps.signed_in)}
    assert open_ == {
        "/console/sign-in",
        "/console/sign-out",
        "/console/set-password/{token}",
        "/console/{rest:path}",  # the console's 404 page
    }
