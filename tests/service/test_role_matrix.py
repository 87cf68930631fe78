"""Other people's data: every route of the API and of the console, for every role,
against resources that do and do not belong to it, on SQLite and on PostgreSQL.

The roles: `admin`; `org_a`, the organizer who owns the world of tests/support/matrix.py
(office "default"); `org_c`, another organizer of the same office (its own API key and
console user: it shares A's events and profiles, not A's shortlists); `org_b`, the
organizer of another office ("north"); `member`, the firm jp-1 (participant "gear" of A's
event); `other`, the firm jp-2, in no event; `anon`, no credentials (console: signed
out). The profile kr-1 ("bio" in A's event) belongs to the office north: A's event is a
cross-office one, and listing kr-1 gives A no right to write it.

Each row of API / CONSOLE names a route (method and path template) and the roles it
admits, as letters: a admin, o org_a, c org_c, b org_b, m member, n other, x anon (`-`
none; `~` the path names nothing real, so admitted roles may get 404 too; `name=value`
another resource than the default, e.g. another firm's profile; `query=...` a query
string, also sent as the form of a console POST). An admitted
role must get past authorization (no 401/403/404, no 5xx); every other role is refused
(API: 401 without a key, else 403 or 404; console: a redirect to sign-in when signed out,
else 403 or 404). Writes by admitted roles run on a fresh copy of A's world, so they
never disturb the rest; refused writes run on the shared world, which must come out
unchanged. Whatever the status, no body holds a string that its reader may not see
(another side's outcome note, another firm's contact, A's event name for B...).

The table is checked against the app: the OpenAPI paths and methods, and the console's
router, walked through its included routers. A route without a row fails the test, by
name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.encoders import HashingEncoder
from service.accounts import service as accounts
from service.auth import Principal, authenticate, create_key
from service.console import routes as console_routes
from service.store.db import transaction
from tests.support import matrix
from tests.support.app import Api, make_settings, start_api
from tests.support.console import Console, User, csrf_of
from tests.support.db import postgres_schema
from tests.support.outcomes import EVENT

ROLES = ("admin", "org_a", "org_c", "org_b", "member", "other", "anon")
LETTER = dict(zip("aocbmnx", ROLES, strict=True))
NORTH = "north"
"""org_b's office, and kr-1's."""


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    allow: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def loose(self) -> bool:
        """`~`: the row's path or query names nothing real (a schedule job, a meeting), so
        admitted roles may get 404 too; the others must still be refused."""
        return "~" in self.allow

    def admits(self, role: str) -> bool:
        return any(LETTER.get(c) == role for c in self.allow)


def _rows(spec: str) -> list[Row]:
    """Rows from lines `METHOD path letters [name=value ...]` (`-`: no role admitted;
    name=value: a path parameter other than the default, for a row that targets another
    resource of the same route)."""
    out = []
    for line in spec.strip().splitlines():
        method, path, letters, *given = line.split()
        params = dict(g.split("=", 1) for g in given)
        out.append(Row(method, path, letters.strip("-"), params))
    return out


API = _rows(
    """
GET /healthz aocbmnx
GET /readyz aocbmnx
GET /metrics aocbmnx
POST /v1/profiles aocb
GET /v1/profiles aocbmn
PUT /v1/profiles/{profile_id} aocm
PATCH /v1/profiles/{profile_id} aocm
GET /v1/profiles/{profile_id} aocbmn
DELETE /v1/profiles/{profile_id} aoc
POST /v1/profiles/import aocb
POST /v1/profiles/import/{source} aocb
GET /v1/exports/profiles.{fmt} aocb
GET /v1/profiles/{profile_id}/matches aocbm
POST /v1/search aocbmn
POST /v1/interactions aocbmn
POST /v1/interactions/import aocb
GET /v1/profiles/{profile_id}/interactions aocbm
GET /v1/ranker aocbmn
POST /v1/ranker/train a
GET /v1/events aocb
POST /v1/events aocb
GET /v1/events/{event_id} aoc
PUT /v1/events/{event_id} aoc
DELETE /v1/events/{event_id} aoc
POST /v1/events/{event_id}/suggestions aoc
POST /v1/events/{event_id}/schedule aoc
GET /v1/events/{event_id}/schedule aoc
POST /v1/events/{event_id}/replan aoc
POST /v1/events/{event_id}/retime aoc
GET /v1/events/{event_id}/exports/schedule.csv aoc
GET /v1/events/{event_id}/exports/participants/{participant_id}.ics aoc
GET /v1/events/{event_id}/exports/agendas.html aoc
POST /v1/events/{event_id}/outcomes aocm
GET /v1/events/{event_id}/outcomes aocm
GET /v1/events/{event_id}/outcomes/history aocm
POST /v1/events/{event_id}/follow-ups aocm
GET /v1/events/{event_id}/follow-ups aocm
GET /v1/events/{event_id}/follow-ups/history aocm
GET /v1/events/{event_id}/exports/follow-ups.csv aoc
GET /v1/events/{event_id}/exports/follow-ups.xlsx aoc
POST /v1/events/{event_id}/follow-ups/import aoc
GET /v1/jobs/{job_id} aoc
GET /v1/shortlists aocb
POST /v1/shortlists aocb
GET /v1/shortlists/{shortlist_id} ao
PATCH /v1/shortlists/{shortlist_id} ao
DELETE /v1/shortlists/{shortlist_id} ao
POST /v1/shortlists/{shortlist_id}/entries ao
PATCH /v1/shortlists/{shortlist_id}/entries/{entry_id} ao
DELETE /v1/shortlists/{shortlist_id}/entries/{entry_id} ao
GET /v1/shortlists/{shortlist_id}/export ao
POST /v1/shortlists/{shortlist_id}/send ao
GET /v1/programs aocb
POST /v1/programs aocb
GET /v1/programs/{program_id} aoc
PUT /v1/programs/{program_id} aoc
DELETE /v1/programs/{program_id} aoc
GET /v1/reports aocb
GET /v1/reports/export aocb
GET /v1/reports/chart aocb
GET /v1/reports/organizations/{profile_id} am
GET /v1/reports/organizations/{profile_id}/export am
GET /v1/audit a
PUT /v1/profiles/{profile_id} aoc profile_id=it-1
PUT /v1/profiles/{profile_id} ab profile_id=kr-1
GET /v1/reports/organizations/{profile_id} a profile_id=it-1
GET /v1/events/{event_id}/exports/participants/{participant_id}.ics aoc participant_id=bio
PUT /v1/profiles/{profile_id}/office a
PUT /v1/events/{event_id}/office a
PUT /v1/programs/{program_id}/office a
"""
)

CONSOLE = _rows(
    """
GET /console/sign-in aocbmnx
POST /console/sign-in aocbmn
POST /console/sign-out aocbmnx
POST /console/sign-out-everywhere aocbmn
GET /console/set-password/{token} aocbmnx
POST /console/set-password/{token} aocbmn
GET /console aocbmn
GET /console/me/profile mn
POST /console/me/profile mn
GET /console/me/matches mn
GET /console/me/search mn
GET /console/me/events mn
GET /console/me/events/{event_id} m
POST /console/me/events/{event_id}/wishes m
POST /console/me/events/{event_id}/wishes/remove m
GET /console/profiles aocb
GET /console/profiles/import aocb
POST /console/profiles/import aocb
GET /console/profiles/import/done aocb
GET /console/profiles/import/{token} aocb
POST /console/profiles/import/{token} aocb
GET /console/profiles/import/jobs/{job_id} aoc
GET /console/profiles/import/jobs/{job_id}/status aoc
GET /console/events aocb
GET /console/events/new aocb
POST /console/events/new aocb
GET /console/events/{event_id}/edit aoc
POST /console/events/{event_id}/edit aoc
GET /console/events/{event_id} aoc
POST /console/events/{event_id}/delete aoc
GET /console/events/{event_id}/participants aoc
POST /console/events/{event_id}/participants/add aoc
POST /console/events/{event_id}/participants/upload aoc
GET /console/events/{event_id}/participants/{participant_id}/edit aoc
POST /console/events/{event_id}/participants/{participant_id}/edit aoc
POST /console/events/{event_id}/participants/{participant_id}/remove aoc
GET /console/events/{event_id}/suggestions aoc
POST /console/events/{event_id}/suggestions/generate aoc
POST /console/events/{event_id}/suggestions/decide aoc
POST /console/events/{event_id}/suggestions/pin aoc
GET /console/events/{event_id}/wishes aoc
POST /console/events/{event_id}/wishes/add aoc
POST /console/events/{event_id}/wishes/remove aoc
POST /console/events/{event_id}/overrides/remove aoc
GET /console/events/{event_id}/schedule/jobs/{job_id} aoc~
GET /console/events/{event_id}/schedule aoc
POST /console/events/{event_id}/schedule/run aoc
GET /console/events/{event_id}/schedule/grid aoc
GET /console/events/{event_id}/schedule/participants/{participant_id:path} aoc
GET /console/events/{event_id}/schedule/meeting aoc query=a=gear&b=veneto
POST /console/events/{event_id}/schedule/lock aoc query=a=gear&b=veneto
POST /console/events/{event_id}/schedule/unlock aoc query=a=gear&b=veneto
POST /console/events/{event_id}/schedule/move aoc query=a=gear&b=veneto&slot=2&table=T2
GET /console/events/{event_id}/schedule/replan aoc
POST /console/events/{event_id}/schedule/replan aoc
GET /console/events/{event_id}/schedule/changes aoc
GET /console/events/{event_id}/schedule/retime aoc
POST /console/events/{event_id}/schedule/retime aoc
GET /console/events/{event_id}/schedule/export/schedule.csv aoc
GET /console/events/{event_id}/schedule/export/calendar aoc query=participant=gear
GET /console/events/{event_id}/schedule/export/agendas.html aoc
GET /console/exchange/search aocb
POST /console/exchange/shortlists/add aocb
GET /console/exchange/shortlists aocb
POST /console/exchange/shortlists aocb
GET /console/exchange/shortlists/{shortlist_id} ao
POST /console/exchange/shortlists/{shortlist_id}/rename ao
GET /console/exchange/shortlists/{shortlist_id}/delete ao
POST /console/exchange/shortlists/{shortlist_id}/delete ao
POST /console/exchange/shortlists/{shortlist_id}/entries/{entry_id}/note ao
POST /console/exchange/shortlists/{shortlist_id}/entries/{entry_id}/remove ao
GET /console/exchange/shortlists/{shortlist_id}/export.csv ao
GET /console/exchange/shortlists/{shortlist_id}/export.xlsx ao
POST /console/exchange/shortlists/{shortlist_id}/send ao
GET /console/admin/users a
POST /console/admin/users a
POST /console/admin/users/{user_id}/role a
POST /console/admin/users/{user_id}/disable a
POST /console/admin/users/{user_id}/enable a
POST /console/admin/users/{user_id}/link a
GET /console/admin/keys a
POST /console/admin/keys a
GET /console/admin/keys/{key_id}/revoke a
POST /console/admin/keys/{key_id}/revoke a
GET /console/admin/ranker a
POST /console/admin/ranker/train a
GET /console/admin/ranker/jobs/{job_id} a~
GET /console/admin/ranker/jobs/{job_id}/progress a~
GET /console/admin/audit a
GET /console/reports aocb
GET /console/reports/export.csv aocb
GET /console/reports/export.xlsx aocb
GET /console/reports/chart.png aocb
GET /console/reports/chart.svg aocb
GET /console/reports/mine mn
GET /console/reports/programs aocb
POST /console/reports/programs aocb
GET /console/reports/programs/{program_id} aoc
POST /console/reports/programs/{program_id} aoc
POST /console/reports/programs/{program_id}/delete aoc
GET /console/me/events/{event_id}/meetings/{partner} m
POST /console/me/events/{event_id}/meetings/{partner} m
POST /console/me/events/{event_id}/meetings/{partner}/follow-up m
GET /console/events/{event_id}/outcomes aoc
GET /console/events/{event_id}/outcomes/sheet.csv aoc
GET /console/events/{event_id}/outcomes/sheet.xlsx aoc
POST /console/events/{event_id}/outcomes/import aoc
GET /console/profiles/{profile_id} aocbmn
GET /console/{rest:path} aocbmnx~
GET /console/me/events/{event_id}/meetings/{partner} - partner=bio
POST /console/me/events/{event_id}/meetings/{partner} - partner=bio
GET /console/profiles/{profile_id} aocbmn profile_id=it-1
POST /console/{rest:path} aocbmn~
PUT /console/{rest:path} aocbmn~
PATCH /console/{rest:path} aocbmn~
DELETE /console/{rest:path} aocbmn~
"""
)


_EVENT_DOC = {**EVENT, "name": "written event"}
"""An event that lists profiles of both offices: listing them grants nothing."""
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/profiles"): {"id": "matrix-new", "name": "New", "kind": "firm", "country": "JP"},
    ("PUT", "/v1/profiles/{profile_id}"): "the stored profile",
    ("PATCH", "/v1/profiles/{profile_id}"): {"description": "精密歯車とベアリングの製造"},
    ("POST", "/v1/events"): _EVENT_DOC,
    ("PUT", "/v1/events/{event_id}"): _EVENT_DOC,
    ("POST", "/v1/events/{event_id}/replan"): {},
    ("POST", "/v1/events/{event_id}/outcomes"): {
        "a": "gear", "b": "veneto", "side": "gear", "attendance": "held", "note": "written"
    },
    ("POST", "/v1/events/{event_id}/follow-ups"): {
        "a": "gear", "b": "veneto", "side": "gear", "months": 3, "stage": "negotiation"
    },
    ("POST", "/v1/shortlists"): {"name": "written list"},
    ("PATCH", "/v1/shortlists/{shortlist_id}"): {"name": "renamed list"},
    ("POST", "/v1/shortlists/{shortlist_id}/entries"): {"profile_ids": ["it-1"]},
    ("PATCH", "/v1/shortlists/{shortlist_id}/entries/{entry_id}"): {"note": "written"},
    ("POST", "/v1/shortlists/{shortlist_id}/send"): {"event_id": "{event_id}"},
    ("POST", "/v1/programs"): {"name": "WRITTEN", "fiscal_year": 2026},
    ("PUT", "/v1/programs/{program_id}"): {"name": "RENAMED", "fiscal_year": 2026},
    # an admin's moves, to where the thing is already: nothing changes for the others
    ("PUT", "/v1/profiles/{profile_id}/office"): {"office": "default"},
    ("PUT", "/v1/events/{event_id}/office"): {"office": "default"},
    ("PUT", "/v1/programs/{program_id}/office"): {"office": "default"},
}  # fmt: skip
"""Valid bodies of the API's writes, so a refused role meets the role check and not the
body's validation (FastAPI validates a body before the route runs); `{event_id}` is
filled in. A write without one here may answer 422 to a refused role: nothing was read."""
API = [Row(r.method, r.path, r.allow, r.params, BODIES.get((r.method, r.path))) for r in API]


# ---------------------------------------------------------------------------- the app's routes


def api_routes(app: Any) -> set[tuple[str, str]]:
    spec = app.openapi()
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}


def console_route_list(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """The console's (method, path) pairs: FastAPI includes routers lazily, so the
    router's routes hold `_IncludedRouter`s whose own router is walked, with its prefix."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found |= console_route_list(inner.routes, prefix + getattr(context, "prefix", ""))
        elif getattr(route, "methods", None):
            for method in route.methods - {"HEAD"} or {"HEAD"}:
                found.add((method, prefix + route.path))
    return found


def unlisted(app: Any, console_router: Any) -> tuple[list[Any], list[Any]]:
    """The app's routes without a row, and the rows without a route."""
    declared_api = {(r.method, r.path) for r in API}
    declared_console = {(r.method, r.path) for r in CONSOLE}
    actual_console = console_route_list(console_router.routes)
    missing = sorted(api_routes(app) - declared_api) + sorted(actual_console - declared_console)
    stale = sorted(declared_api - api_routes(app)) + sorted(declared_console - actual_console)
    return missing, stale


def _bare_app() -> Any:
    from service.app import create_app

    return create_app(make_settings(Path("/nonexistent-matrix")), encoder=HashingEncoder(dim=8))


def test_every_route_has_a_row() -> None:
    """A new route without a row in the table fails here, by name (and a row whose route
    is gone, too)."""
    missing, stale = unlisted(_bare_app(), console_routes.router)
    assert not missing, f"routes without a row in the role matrix: {missing}"
    assert not stale, f"rows of the role matrix without a route: {stale}"


def test_a_new_route_is_named() -> None:
    """The check above sees a route added to the API, and one added to a console router
    that the console includes (lazily, through FastAPI's `_IncludedRouter`)."""
    from fastapi import APIRouter

    app = _bare_app()

    @app.get("/v1/secrets")
    def secrets() -> dict[str, str]:
        return {}

    inner = APIRouter()

    @inner.post("/events/{event_id}/leak")
    def leak(event_id: str) -> dict[str, str]:
        return {}

    console_router = APIRouter()
    console_router.include_router(console_routes.router)
    console_router.include_router(inner, prefix="/console")
    missing, _ = unlisted(app, console_router)
    assert ("GET", "/v1/secrets") in missing
    assert ("POST", "/console/events/{event_id}/leak") in missing


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    api: Api
    console: Console
    keys: dict[str, str]
    browsers: dict[str, TestClient]
    tokens: dict[str, str]
    users: dict[str, User]
    a_api: Principal
    a_console: Principal
    shared_api: matrix.Owned
    shared_console: matrix.Owned


FORBIDDEN: dict[str, tuple[str, ...]] = {
    "admin": (),
    "org_a": tuple(matrix.CONTACT.values()),
    "org_c": (matrix.LIST_NAME, *matrix.CONTACT.values()),
    "org_b": (matrix.EVENT_NAME, matrix.PROGRAM_NAME, matrix.LIST_NAME, matrix.GEAR_NOTE,
              matrix.VENETO_NOTE, matrix.BIO_NOTE, *matrix.CONTACT.values()),
    "member": (matrix.VENETO_NOTE, matrix.BIO_NOTE, matrix.CONTACT["it-1"],
               matrix.CONTACT["kr-1"], matrix.LIST_NAME, matrix.PROGRAM_NAME),
    "other": (matrix.EVENT_NAME, matrix.PROGRAM_NAME, matrix.LIST_NAME, matrix.GEAR_NOTE,
              matrix.VENETO_NOTE, matrix.BIO_NOTE, *matrix.CONTACT.values()),
    "anon": (matrix.EVENT_NAME, matrix.PROGRAM_NAME, matrix.LIST_NAME, matrix.GEAR_NOTE,
             matrix.VENETO_NOTE, matrix.BIO_NOTE, *matrix.CONTACT.values()),
}  # fmt: skip
"""What each role must never read, whatever the route and status."""


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One app for the module on each database (SQLite, then PostgreSQL in a schema of its
    own: tests/support/db.py), the HashingEncoder, with the rate limits and the key
    throttle off (the matrix sends hundreds of requests, many refused, from one address)
    and the key cache at 0, the world seeded for A's API key and A's console user, kr-1
    moved to the office north, and a signed-in browser per role."""
    with ExitStack() as stack:
        url = stack.enter_context(postgres_schema()) if request.param == "postgres" else None
        yield from _world(tmp_path_factory, url)


def _world(tmp_path_factory: pytest.TempPathFactory, url: str | None) -> Iterator[World]:
    settings = make_settings(
        tmp_path_factory.mktemp("matrix"),
        url,
        key_cache_s=0,
        rate_limit_per_key=0,
        rate_limit_per_ip=0,
        key_max_failures_per_ip=100_000,
        signin_max_failures_per_ip=100_000,
    )
    runner = start_api(settings, HashingEncoder(dim=64))
    api = next(runner)
    for profile in matrix.profiles():
        r = api.post("/v1/profiles", json=profile, headers=api.h("admin"))
        assert r.status_code in (200, 201), r.text
    console = Console(api)
    sessions = console.sessions
    keys = {
        "admin": api.keys["admin"],
        "org_a": api.keys["organizer"],
        "member": api.keys["member"],
    }
    with transaction(sessions) as s:
        _, keys["org_c"] = create_key(s, "organizer", name="organizer C, A's office")
        _, keys["org_b"] = create_key(s, "organizer", name="organizer B", office=NORTH)
        _, keys["other"] = create_key(s, "member", name="jp-2", profile_id="jp-2")
    r = api.put("/v1/profiles/kr-1/office", json={"office": NORTH}, headers=api.h("admin"))
    assert r.status_code == 200 and r.json()["office"] == NORTH, r.text
    with transaction(sessions) as s:
        a_api = authenticate(s, keys["org_a"])
        assert a_api is not None
    users = {
        role: console.user(kind, profile_id=profile, office=NORTH if role == "org_b" else None)
        for role, (kind, profile) in ACCOUNT.items()
    }
    with transaction(sessions) as s:
        found = accounts.find_user(s, users["org_a"].email)
        assert found is not None
        a_console = accounts.principal_for_user(found)
    shared_api = matrix.seed(sessions, a_api)
    shared_console = matrix.seed(sessions, a_console)
    victim = console.user("member", profile_id="kr-1")
    with transaction(sessions) as s:
        key_row, _ = create_key(s, "member", name="victim", profile_id="kr-1")
        VICTIMS.update(user_id=str(victim.pk), key_id=str(key_row.pk))
    browsers = {role: console.signed_in(u) for role, u in users.items()}
    browsers["anon"] = console.client()
    tokens = {
        role: csrf_of(b.get("/console").text) for role, b in browsers.items() if role != "anon"
    }
    yield World(api, console, keys, browsers, tokens, users, a_api, a_console, shared_api,
                shared_console)  # fmt: skip
    next(runner, None)  # the generator leaves its TestClient: the app shuts down


# ---------------------------------------------------------------------------- the run

DEFAULTS = {
    "profile_id": "jp-1",
    "participant_id": "gear",
    "participant_id:path": "gear",
    "partner": "veneto",
    "fmt": "csv",
    "source": "edinet",
    "token": "0" * 43,
    "rest": "nowhere",
    "rest:path": "nowhere",
}
SIGN_OUT = ("/console/sign-out", "/console/sign-out-everywhere")
ACCOUNT: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "org_a": ("organizer", None),
    "org_c": ("organizer", None),
    "org_b": ("organizer", None),
    "member": ("member", "jp-1"),
    "other": ("member", "jp-2"),
}
"""Each signed-in role's kind of console user, and its profile (org_b's office: north)."""
VICTIMS: dict[str, str] = {}
"""user_id and key_id: a user and an API key of nobody else's use, for the admin pages."""


def _path(row: Row, params: dict[str, str]) -> str:
    values = {**DEFAULTS, **VICTIMS, **params, **row.params}
    path = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], row.path)
    return f"{path}?{row.params['query']}" if "query" in row.params else path


def _fresh(world: World, row: Row, console: bool) -> dict[str, str]:
    """A new copy of A's world for a write by an admitted role, and a profile of its own."""
    owned = matrix.seed(world.console.sessions, world.a_console if console else world.a_api,
                        suffix="-fresh")  # fmt: skip
    params = owned.params()
    if row.method == "DELETE" and "{profile_id}" in row.path:
        params["profile_id"] = f"fresh-{owned.event_id}"
        profile = {"id": params["profile_id"], "name": "Fresh", "kind": "firm", "country": "JP"}
        r = world.api.post("/v1/profiles", json=profile, headers=world.api.h("admin"))
        assert r.status_code == 201, r.text
    return params


def _call(world: World, row: Row, role: str, console: bool) -> tuple[int, str, str]:
    fresh = row.method != "GET" and row.admits(role) and role != "anon"
    shared = world.shared_console if console else world.shared_api
    params = _fresh(world, row, console) if fresh else shared.params()
    path = _path(row, params)
    if console and row.path in SIGN_OUT and role != "anon":
        # a user of its own (signing out everywhere ends every session of the user)
        kind, profile = ACCOUNT[role]
        client = world.console.signed_in(world.console.user(kind, profile_id=profile))
        data = {"csrf_token": csrf_of(client.get("/console").text)}
        r = client.post(path, data=data)
        after = client.get("/console")
        assert after.status_code == 303, f"{path}: {role} still signed in"
        return r.status_code, r.headers.get("location", ""), r.text
    if console:
        client = world.browsers[role]
        data = {"csrf_token": world.tokens.get(role, "")}
        query = row.params.get("query", "")
        data.update(dict(pair.partition("=")[::2] for pair in query.split("&") if pair))
        r = client.request(row.method, path, data=data if row.method != "GET" else None)
    else:
        headers = {} if role == "anon" else {"Authorization": f"Bearer {world.keys[role]}"}
        body = row.body
        if body == "the stored profile":  # a PUT that changes nothing
            body = next(p for p in matrix.profiles() if path.endswith(f"/{p['id']}"))
        elif isinstance(body, dict):
            body = {k: v.format(**params) if isinstance(v, str) else v for k, v in body.items()}
        r = world.api.client.request(row.method, path, headers=headers, json=body)
    return (
        r.status_code,
        r.headers.get("location", ""),
        r.text
        if r.headers.get("content-type", "").startswith(
            ("text", "application/json", "application/problem")
        )
        else r.content.decode("latin-1"),
    )


def _verdict(row: Row, role: str, console: bool, status: int, location: str) -> str | None:
    if status >= 500:
        return f"server error {status}"
    if row.admits(role):
        if row.loose and status == 404:
            return None
        if status in (401, 403, 404) or (
            console and "/console/sign-in" in location and row.path not in SIGN_OUT
        ):
            return f"refused ({status} {location}) but the role is admitted"
        return None
    if role == "anon":
        if console and row.method != "GET" and status == 403:
            return None  # no CSRF token without a session: refused before anything else
        ok = (303,) if console else (401,)
        if status not in ok or (console and "/console/sign-in" not in location):
            return f"signed out: expected {ok} to sign-in, got {status} {location}"
        return None
    if status not in (403, 404):
        return f"expected 403 or 404, got {status} {location}"
    return None


def _snapshot(world: World, owned: matrix.Owned) -> list[Any]:
    """A's shared world as the admin reads it: event, schedule, outcomes, follow-ups,
    programme, shortlist."""
    h = world.api.h("admin")
    e = f"/v1/events/{owned.event_id}"
    paths = [e, f"{e}/schedule", f"{e}/outcomes", f"{e}/follow-ups"]
    paths += [f"/v1/programs/{owned.program_id}", f"/v1/shortlists/{owned.shortlist_id}"]
    out = []
    for path in paths:
        r = world.api.get(path, headers=h)
        assert r.status_code == 200, (path, r.text)
        out.append(r.json())
    return out


@pytest.mark.parametrize("surface", ["api", "console"])
def test_role_matrix(world: World, surface: str) -> None:
    console = surface == "console"
    rows = CONSOLE if console else API
    failures: list[str] = []
    shared = world.shared_console if console else world.shared_api
    before = _snapshot(world, shared)
    for row in rows:
        for role in ROLES:
            status, location, body = _call(world, row, role, console)
            problem = _verdict(row, role, console, status, location)
            leaked = [m for m in FORBIDDEN[role] if m in body]
            if leaked:
                problem = (problem + "; " if problem else "") + f"body holds {leaked}"
            if problem:
                failures.append(f"{row.method} {row.path} as {role}: {problem}")
    assert _snapshot(world, shared) == before, "a refused write changed A's world"
    print(f"{surface}: {len(rows)} routes x {len(ROLES)} roles = {len(rows) * len(ROLES)} cases")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------- revocation


class _Clock:
    """service.auth's view of `time`: the key cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def _revoke(api: Api, secret: str) -> None:
    """Revoke the key as `clustermatch keys revoke` does: in the database, behind the
    serving process's back."""
    from service.auth import authenticate, revoke_key

    with transaction(api.client.app.state.sessions) as s:  # type: ignore[attr-defined]
        found = authenticate(s, secret)
        assert found is not None
        assert revoke_key(s, found.key_pk)


@pytest.mark.parametrize("cache_s", [0.0, 30.0])
def test_a_revoked_key_stops_within_the_key_cache_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_s: float
) -> None:
    """CLUSTERMATCH_KEY_CACHE_S=0: the next request is refused. 30: the process may trust
    the key it checked for up to 30 s (documented), and refuses it after that."""
    import service.auth as auth

    clock = _Clock()
    monkeypatch.setattr(auth, "time", clock)
    settings = make_settings(tmp_path, key_cache_s=cache_s, rate_limit_per_key=0,
                             rate_limit_per_ip=0)  # fmt: skip
    runner = start_api(settings, HashingEncoder(dim=64))
    api = next(runner)
    try:
        for role in ("organizer", "member"):
            headers = api.h(role)
            path = "/v1/events" if role == "organizer" else "/v1/ranker"
            assert api.get(path, headers=headers).status_code == 200
            _revoke(api, api.keys[role])
            if cache_s:
                clock.now += cache_s - 1
                assert api.get(path, headers=headers).status_code == 200, "trusted until then"
                clock.now += 2
            r = api.get(path, headers=headers)
            assert r.status_code == 401, r.text
            clock.now += 1
    finally:
        next(runner, None)  # the generator leaves its TestClient: the app shuts down


def test_a_disabled_user_is_signed_out_at_once(world: World) -> None:
    """Disabling a console user (an admin's page) ends its open sessions on their next
    request, whatever the key cache holds; enabling it again does not revive them."""
    console = world.console
    victim = console.user("organizer")
    browser = console.signed_in(victim)
    assert browser.get("/console/events").status_code == 200
    admin = world.browsers["admin"]
    r = admin.post(f"/console/admin/users/{victim.pk}/disable",
                   data={"csrf_token": world.tokens["admin"]})  # fmt: skip
    assert r.status_code == 303, r.text
    r = browser.get("/console/events")
    assert r.status_code == 303 and "/console/sign-in" in r.headers["location"]
    r = admin.post(f"/console/admin/users/{victim.pk}/enable",
                   data={"csrf_token": world.tokens["admin"]})  # fmt: skip
    assert r.status_code == 303, r.text
    r = browser.get("/console/events")
    assert r.status_code == 303 and "/console/sign-in" in r.headers["location"]
    assert console.sign_in(console.client(), victim).status_code == 303


def test_the_markers_reach_those_who_may_read_them(world: World) -> None:
    """The body checks of the matrix are not vacuous: the member reads its own note and
    contact where the matrix finds the other side's absent, and the admin reads all."""
    api, e = world.api, world.shared_api.event_id
    member = {"Authorization": f"Bearer {world.keys['member']}"}
    own = api.get(f"/v1/events/{e}/outcomes", headers=member)
    assert own.status_code == 200 and matrix.GEAR_NOTE in own.text, own.text
    assert matrix.VENETO_NOTE not in own.text and matrix.BIO_NOTE not in own.text
    assert matrix.CONTACT["jp-1"] in api.get("/v1/profiles/jp-1", headers=member).text
    other = api.get("/v1/profiles/it-1", headers=member)
    assert other.status_code == 200 and matrix.CONTACT["it-1"] not in other.text
    every = api.get(f"/v1/events/{e}/outcomes", headers=api.h("admin")).text
    assert matrix.VENETO_NOTE in every and matrix.BIO_NOTE in every
    assert matrix.CONTACT["it-1"] in api.get("/v1/profiles/it-1", headers=api.h("admin")).text
    page = world.browsers["member"].get(
        f"/console/me/events/{world.shared_console.event_id}/meetings/veneto"
    )
    assert page.status_code == 200 and matrix.GEAR_NOTE in page.text
    assert matrix.VENETO_NOTE not in page.text


def test_listing_a_profile_grants_no_right_to_write_it(world: World) -> None:
    """Organizer B (office north) cannot change uni-1 (of A's office, a participant of A's
    event), and still cannot once B lists uni-1 in an event of its own: a profile is its
    office's to write, whichever events list it. (Before offices, B's own event gave B
    the right: the loophole of issue 21.9.) Likewise A lists kr-1, of B's office, and
    may not write it."""
    api = world.api
    b = {"Authorization": f"Bearer {world.keys['org_b']}"}
    profile = {**next(p for p in matrix.profiles() if p["id"] == "uni-1"), "name": "B's now"}
    assert api.put("/v1/profiles/uni-1", json=profile, headers=b).status_code == 403
    doc = {**EVENT, "name": "B lists uni-1", "participants": [{"id": "u", "profile_id": "uni-1"}]}
    assert api.post("/v1/events", json=doc, headers=b).status_code == 201
    assert api.put("/v1/profiles/uni-1", json=profile, headers=b).status_code == 403
    bio = next(p for p in matrix.profiles() if p["id"] == "kr-1")
    a = {"Authorization": f"Bearer {world.keys['org_a']}"}
    assert api.put("/v1/profiles/kr-1", json=bio, headers=a).status_code == 403
    assert api.put("/v1/profiles/kr-1", json=bio, headers=b).status_code == 200


def _wish_table(page: str) -> str:
    found = re.search(r'<table class="data member-wishes">.*?</table>', page, flags=re.S)
    assert found, "no wish table on the page"
    return found.group(0)


def test_a_member_sees_its_own_wishes_only(world: World) -> None:
    """In A's event gear wishes to meet veneto and bio wishes to meet uni: each member's
    page lists its own wish, never the other's (the mark: the target of each row's remove
    button)."""
    console, e = world.console, world.shared_console.event_id
    bio = console.signed_in(console.user("member", profile_id="kr-1"))
    gear_table = _wish_table(world.browsers["member"].get(f"/console/me/events/{e}").text)
    bio_table = _wish_table(bio.get(f"/console/me/events/{e}").text)
    target = 'name="target" value="{}"'.format
    assert target("veneto") in gear_table and target("uni") not in gear_table
    assert target("uni") in bio_table and target("veneto") not in bio_table
