"""An event with a known schedule for the outcome tests: four participants, meetings set
straight in the database (no solver run, so the meetings are exactly these), keys for a
second organizer and for each member firm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from service.auth import create_key
from service.store import events as event_rows
from service.store.db import transaction
from tests.support.app import Api

# gear (jp-1) meets veneto (it-1) and uni (uni-1); bio (kr-1) meets uni: 200 days ago, so
# the first follow-up round (3 months) is reached and the second (12) is not; veneto and
# bio meet a year from now (not started yet).
PAST = dt.date.today() - dt.timedelta(days=200)
FUTURE = dt.date.today() + dt.timedelta(days=365)
EVENT: dict[str, Any] = {
    "name": "多摩商談会",
    "slots": 4,
    "tables": [{"id": "T1", "name": "ブース 1"}, {"id": "T2"}],
    "timezone": "Asia/Tokyo",
    "slot_times": [
        f"{PAST}T13:00",
        f"{PAST}T13:20",
        f"{PAST}T13:40",
        f"{FUTURE}T14:00",
    ],
    "follow_up_months": [3, 12],
    "participants": [
        {"id": "gear", "group": "supplier", "profile_id": "jp-1", "name": "精密歯車"},
        {"id": "veneto", "group": "buyer", "profile_id": "it-1", "name": "=Veneto"},
        {"id": "uni", "group": "researcher", "profile_id": "uni-1"},
        {"id": "bio", "group": "supplier", "profile_id": "kr-1"},
    ],
}
MEETINGS: list[dict[str, Any]] = [
    {"a": "gear", "b": "veneto", "slot": 0, "table": "T1"},
    {"a": "gear", "b": "uni", "slot": 1, "table": "T2"},
    {"a": "bio", "b": "uni", "slot": 2, "table": "T1"},
    {"a": "veneto", "b": "bio", "slot": 3, "table": "T1"},
]


@dataclass
class World:
    api: Api
    event_id: str
    keys: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


def set_schedule(api: Api, event_id: str, schedule: dict[str, Any]) -> None:
    """Store `schedule` as the event's current schedule (what a solve would leave)."""
    with transaction(api.client.app.state.sessions) as s:  # type: ignore[attr-defined]
        row = event_rows.get(s, event_id)
        assert row is not None
        row.schedule = schedule


def world(api: Api, **changes: Any) -> World:
    """The event above, created by the `organizer` key and scheduled. Keys: admin,
    organizer, other_org (an organizer of nothing here), gear (member jp-1), veneto (it-1),
    uni (uni-1), bio (kr-1)."""
    r = api.post("/v1/events", json={**EVENT, **changes}, headers=api.h("organizer"))
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    set_schedule(api, event_id, {"meetings": MEETINGS, "status": "optimal"})
    keys = {"admin": api.keys["admin"], "organizer": api.keys["organizer"]}
    with transaction(api.client.app.state.sessions) as s:  # type: ignore[attr-defined]
        _, keys["other_org"] = create_key(s, "organizer", name="another office", office="north")
        for who, profile in (("gear", "jp-1"), ("veneto", "it-1"), ("uni", "uni-1")):
            _, keys[who] = create_key(s, "member", name=who, profile_id=profile)
        _, keys["bio"] = create_key(s, "member", name="bio", profile_id="kr-1")
    return World(api, event_id, keys)


def owned_event(
    sessions: Any,
    email: str,
    doc: dict[str, Any] | None = None,
    meetings: list[dict[str, Any]] | None = None,
) -> str:
    """The event `doc` (default EVENT) owned by the console user `email` (an organizer),
    with `meetings` (default MEETINGS) as its schedule; its id."""
    from service.accounts import service as accounts
    from service.events import service as events

    with transaction(sessions) as s:
        user = accounts.find_user(s, email)
        assert user is not None
        row = events.create(s, accounts.principal_for_user(user), doc or EVENT)
        row.schedule = {"meetings": MEETINGS if meetings is None else meetings}
        return row.id
