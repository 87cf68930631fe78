"""The demo: the bundled corpus (fictional organizations in ja/en/it/ko) and their past
interactions, two console sign-ins (an organizer and a member firm) and a business-matching
event that is already scheduled, so that a newcomer sees a grid, reasons and agendas at
once. Loading it again changes nothing but the two demo passwords."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.progress import Progress
from service.accounts import service as accounts
from service.auth import Principal
from service.events import service as events
from service.interactions.service import save_interactions
from service.io.imports import parse_interactions
from service.profiles.service import import_file
from service.resources import Resources
from service.store import jobs as job_store
from service.store.db import transaction

DEMO_DIR = Path(__file__).resolve().parent
ORGANIZATIONS = DEMO_DIR / "organizations.jsonl"
HISTORY = DEMO_DIR / "history.jsonl"

ORGANIZER_EMAIL = "organizer@demo.example"
MEMBER_EMAIL = "member@demo.example"
MEMBER_PROFILE = "jp-tama-001"
EVENT_NAME = "多摩・海外バイヤー商談会 2026（デモ）"
SUPPLIERS = 14  # Japanese firms, the first of them the demo member
BUYERS = 10  # trading companies, in Japan and abroad


@dataclass(frozen=True)
class SignIn:
    role: str
    email: str
    password: str


@dataclass(frozen=True)
class DemoReport:
    created: int
    updated: int
    unchanged: int
    interactions: int
    sign_ins: tuple[SignIn, ...]
    event_id: str
    meetings: int


def load(resources: Resources, progress: Progress | None = None) -> DemoReport:
    engine, sessions = resources.engine, resources.sessions
    report = import_file(
        engine, sessions, ORGANIZATIONS.read_bytes(), format="jsonl", progress=progress
    )
    history = parse_interactions(HISTORY.read_bytes(), format="jsonl")
    saved = save_interactions(engine, sessions, history)
    sign_ins = (
        _user(resources, "organizer", ORGANIZER_EMAIL, "デモ主催者（多摩クラスター事務局）", None),
        _user(resources, "member", MEMBER_EMAIL, "多摩精密ギア 営業部", MEMBER_PROFILE),
    )
    with resources.sessions() as s:
        user = accounts.find_user(s, ORGANIZER_EMAIL)
        assert user is not None
        organizer = accounts.principal_for_user(user)
    event_id, meetings = _event(resources, organizer)
    return DemoReport(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        interactions=saved.created,
        sign_ins=sign_ins,
        event_id=event_id,
        meetings=meetings,
    )


def _user(resources: Resources, role: str, email: str, name: str, profile_id: str | None) -> SignIn:
    """The demo user, created once; its password is new on every load (printed once)."""
    password = "demo-" + secrets.token_urlsafe(12)
    with transaction(resources.sessions) as s:
        user = accounts.find_user(s, email)
        if user is None:
            user = accounts.create_user(
                s, email=email, role=role, display_name=name, profile_id=profile_id
            )
        token = accounts.issue_password_link(s, user)
        accounts.set_password(s, token, password)
    return SignIn(role, email, password)


def _participants() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in ORGANIZATIONS.read_text(encoding="utf-8").splitlines()]
    firms = [r for r in rows if r["kind"] == "firm" and r["country"] == "JP"]
    firms.sort(key=lambda r: (r["id"] != MEMBER_PROFILE, r["id"]))
    buyers = [r for r in rows if r["kind"] == "trading_company"][:BUYERS]
    return [
        {"id": r["id"], "profile_id": r["id"], "name": r["name"], "group": group, "max": 6}
        for group, chosen in (("supplier", firms[:SUPPLIERS]), ("buyer", buyers))
        for r in chosen
    ]


def _event(resources: Resources, organizer: Principal) -> tuple[str, int]:
    """The demo event (made once): two weeks ahead, eight 20-minute slots from 13:00 in
    Tokyo, six tables, buyers meet suppliers; suggestions from matching; scheduled."""
    with resources.sessions() as s:
        for row in events.listing(s, organizer):
            if row.name == EVENT_NAME and row.schedule is not None:
                return row.id, len(row.schedule.get("meetings", []))
    day = dt.date.today() + dt.timedelta(days=14)
    start = dt.datetime.combine(day, dt.time(13, 0))
    doc = {
        "name": EVENT_NAME,
        "venue": "立川市 多摩産業交流センター 3F",
        "timezone": "Asia/Tokyo",
        "slots": 8,
        "slot_minutes": 20,
        "slot_times": [(start + dt.timedelta(minutes=25 * i)).isoformat() for i in range(8)],
        "tables": 6,
        "participants": _participants(),
        "allow": [["buyer", "supplier"]],
        "wish_deadline": dt.datetime.combine(
            day - dt.timedelta(days=3), dt.time(17, 0)
        ).isoformat(),
    }
    engine = resources.engine
    with transaction(resources.sessions) as s:
        event_id = events.create(s, organizer, doc).id
        events.suggest(s, engine, organizer, event_id, per_participant=5)
    with transaction(resources.sessions) as s:
        job_id = events.schedule(s, resources.jobs, organizer, event_id, time_limit=10)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with resources.sessions() as s:
            job = job_store.get(s, job_id)
            if job is not None and job.status in ("succeeded", "failed"):
                if job.status == "failed":
                    raise RuntimeError(f"the demo event could not be scheduled: {job.error}")
                return event_id, int((job.report or {}).get("meetings", 0))
        time.sleep(0.2)
    raise RuntimeError("the demo event was not scheduled within 2 minutes")
