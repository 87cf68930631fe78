"""The member's side of events on SQLite and PostgreSQL: which events name the member's
profile (the text narrowing escapes LIKE's wildcards and is confirmed on the parsed
participants), the row lock of a wish change, the deadline, and the other rules."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from service.auth import Principal
from service.errors import Forbidden, NotFound, ValidationFailed
from service.events import agenda, wishes
from service.store import events
from service.store.db import transaction
from service.store.tables import EventRow
from tests.support.db import sessions_for

TOKYO = dt.timezone(dt.timedelta(hours=9))


def _event(name: str, participants: list[dict[str, Any]], **extra: Any) -> EventRow:
    doc = {"slots": 2, "tables": 1, "participants": participants, **extra}
    return EventRow(id=str(uuid.uuid4()), name=name, owner_key=1, data=doc)


def test_member_events_and_wishes(db_url: str) -> None:
    sessions = sessions_for(db_url)
    me = Principal(10, "member", "a_b")  # "_" is a LIKE wildcard: "axb" must not match
    with transaction(sessions) as s:
        mine = _event(
            "mine",
            [
                {"id": "p1", "profile_id": "a_b"},
                {"id": "p2", "profile_id": "axb"},
                {"id": "p3", "name": "a_b"},
            ],
            wish_deadline="2030-06-01T17:00",
            timezone="Asia/Tokyo",
        )
        lookalike = _event("lookalike", [{"id": "q1", "profile_id": "axb"}, {"id": "q2"}])
        named_only = _event("named only", [{"id": "r1", "name": "a_b"}, {"id": "r2"}])
        for row in (mine, lookalike, named_only):
            events.add(s, row)
    with transaction(sessions) as s:
        found = agenda.my_events(s, me)
        assert [m.row.name for m in found] == ["mine"]
        assert found[0].me.id == "p1" and found[0].mine == frozenset({"p1"})
        assert agenda.agenda(found[0]) is None  # not scheduled
        with pytest.raises(NotFound):
            agenda.membership(s, me, lookalike.id)
        with pytest.raises(NotFound):
            agenda.membership(s, me, "x" * 400)

    before = dt.datetime(2030, 6, 1, 16, 59, tzinfo=TOKYO)
    after = dt.datetime(2030, 6, 1, 17, 0, tzinfo=TOKYO)
    with transaction(sessions) as s:
        wishes.set_wish(s, me, mine.id, "p2", "must", 1, now=before)
        wishes.set_wish(s, me, mine.id, "p3", "no", now=before)
    with transaction(sessions) as s:
        stored = events.get(s, mine.id)
        assert stored is not None
        assert stored.data["wishes"] == [
            {"from": "p1", "to": "p2", "level": "must", "priority": 1},
            {"from": "p1", "to": "p3", "level": "no", "priority": 3},
        ]
        m = agenda.membership(s, me, mine.id)
        assert [(w.target, w.level) for w in wishes.my_wishes(m)] == [
            ("p2", "must"),
            ("p3", "no"),
        ]
        assert wishes.is_open(m, before) and not wishes.is_open(m, after)
    with transaction(sessions) as s, pytest.raises(wishes.WishRefused) as refused:
        wishes.set_wish(s, me, mine.id, "p2", "want", now=after)
    assert refused.value.code == "deadline" and refused.value.status == 409
    with transaction(sessions) as s:
        assert wishes.remove_wish(s, me, mine.id, "p3", now=before)
        assert not wishes.remove_wish(s, me, mine.id, "p3", now=before)
    with transaction(sessions) as s, pytest.raises(ValidationFailed) as invalid:
        wishes.set_wish(s, me, mine.id, "p1", "want", 7, now=before)
    fields = {e["field"] for e in invalid.value.extra["errors"]}
    assert fields == {"target", "priority"}
    with transaction(sessions) as s:
        stored = events.get(s, mine.id)
        assert stored is not None and len(stored.data["wishes"]) == 1

    # Another member, and an organizer, have no member's view of it.
    with transaction(sessions) as s:
        with pytest.raises(NotFound):
            wishes.set_wish(s, Principal(11, "member", "zzz"), mine.id, "p2", "want")
        assert agenda.my_events(s, Principal(11, "member", "zzz")) == []
        with pytest.raises(Forbidden):
            agenda.my_events(s, Principal(1, "organizer"))
