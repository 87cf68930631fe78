"""The world of the role matrix (tests/service/test_role_matrix.py): the sample profiles
with contact details, and for each owner (organizer A's API key, organizer A's console
user) an event with a schedule, outcomes with notes on both sides, follow-ups, a
programme, a shortlist and a job, each marked with strings that must never reach a caller
who may not see them."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from models.outcomes import FollowUp, MeetingOutcome
from service.auth import Principal
from service.events import service as events
from service.reports import service as reports
from service.shortlists import service as shortlists
from service.store import jobs as job_rows
from service.store import outcomes
from service.store import shortlists as shortlist_rows
from service.store.db import SessionFactory, transaction
from tests.support.outcomes import EVENT, MEETINGS
from tests.support.samples import SAMPLE

# Contact details: jp-1's own (the member in the event), the others' secret to it.
CONTACT = {
    "jp-1": "sales@gear.example.jp",
    "it-1": "veneto-secret@contact.example",
    "kr-1": "bio-secret@contact.example",
}
GEAR_NOTE = "GEAR-OWN-NOTE"
"""jp-1's (gear's) own note on its meeting with veneto: gear may read it."""
VENETO_NOTE = "VENETO-SIDE-SECRET-NOTE"
"""veneto's note on the same meeting: never to gear."""
BIO_NOTE = "BIO-SIDE-SECRET-NOTE"
"""bio's note on its meeting with uni: never to gear."""
EVENT_NAME = "A-SECRET-EVENT"
"""The name of organizer A's event (every event of the world carries it)."""
PROGRAM_NAME = "A-SECRET-PROGRAM"
LIST_NAME = "A-SECRET-SHORTLIST"

_serial = itertools.count(1)


def profiles() -> list[dict[str, Any]]:
    """The sample profiles, three of them with contact details."""
    return [{**p, "contact": CONTACT[p["id"]]} if p["id"] in CONTACT else p for p in SAMPLE]


@dataclass
class Owned:
    """What one owner holds: the ids that fill a route's path."""

    event_id: str
    program_id: int
    shortlist_id: int
    entry_id: int
    job_id: str
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        return {
            "event_id": self.event_id,
            "program_id": str(self.program_id),
            "shortlist_id": str(self.shortlist_id),
            "entry_id": str(self.entry_id),
            "job_id": self.job_id,
            **self.extra,
        }


def seed(sessions: SessionFactory, owner: Principal, *, suffix: str = "") -> Owned:
    """An event (tests.support.outcomes' EVENT: gear jp-1, veneto it-1, uni uni-1, bio
    kr-1) scheduled, with outcomes and follow-ups of both sides, a programme, a shortlist
    with one entry and a finished job, all owned by `owner`. `suffix` keeps names unique
    when one owner gets several worlds (a programme's name is unique in its year)."""
    n = next(_serial)
    with transaction(sessions) as s:
        doc = {**EVENT, "name": f"{EVENT_NAME}{suffix}", "program": f"{PROGRAM_NAME}{n}"}
        doc["wishes"] = [
            {"from": "gear", "to": "veneto", "level": "must"},
            {"from": "bio", "to": "uni", "level": "want"},
        ]
        row = events.create(s, owner, doc)
        row.schedule = {"meetings": MEETINGS}
        e = row.id
        for record in (
            MeetingOutcome(e, "gear", "veneto", side="gear", attendance="held", note=GEAR_NOTE),
            MeetingOutcome(e, "gear", "veneto", side="veneto", attendance="held", note=VENETO_NOTE),
            MeetingOutcome(e, "bio", "uni", side="bio", attendance="held", note=BIO_NOTE),
        ):
            outcomes.add_outcome(s, record)
        outcomes.add_follow_up(
            s, FollowUp(e, "bio", "uni", side="bio", months=3, stage="negotiation", note=BIO_NOTE)
        )
        program = reports.create_program(s, owner, f"{PROGRAM_NAME}{n}", 2026, {"meetings_held": 4})
        shortlist = shortlists.create(s, owner, f"{LIST_NAME}{n}")
        shortlists.add(s, owner, shortlist.pk, ["kr-1"], note=LIST_NAME)
        entry = shortlist_rows.entries(s, shortlist.pk)[0]
        job_id = str(uuid.uuid4())
        job_rows.add(s, job_id, "import", 0, owner.key_pk)
        return Owned(e, program.pk, shortlist.pk, entry.pk, job_id)
