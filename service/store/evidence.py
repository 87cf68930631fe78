"""The outcome evidence as the engine's network reads it (models.evidence): every event's
participants, suggestions and `no` wishes with its meeting outcomes and follow-ups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.evidence import EventFacts, Evidence, grade_events
from service.store.outcomes import follow_ups_for, outcomes_for
from service.store.tables import EventRow


def evidence(session: Session) -> list[Evidence]:
    """The graded evidence of every stored event (models.evidence.grade_events). Every
    event is read, not only those with outcome records: a `no` wish on a suggested
    counterpart is evidence before anyone records an outcome."""
    events = [
        EventFacts.of_document(event_id, data or {})
        for event_id, data in session.execute(select(EventRow.id, EventRow.data)).tuples()
    ]
    if not events:
        return []
    return grade_events(events, outcomes_for(session), follow_ups_for(session))
