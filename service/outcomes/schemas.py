"""What the outcome routes read and answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from models.outcomes import (
    MAX_AMOUNT_YEN,
    MAX_NOTE,
    Attendance,
    FollowUp,
    Interest,
    MeetingOutcome,
    NextStep,
    Stage,
)
from service.outcomes.access import MeetingRef
from service.outcomes.service import (
    MAX_ID,
    FollowUpInput,
    FollowUpStatus,
    MeetingView,
    OutcomeInput,
    SideFollowUps,
)
from service.store.outcomes import Recorder
from service.store.tables import iso_utc


class OutcomeBody(BaseModel):
    """One side's outcome of one meeting. `side` defaults to the member's own participant
    (organizers and admins name it)."""

    model_config = ConfigDict(extra="forbid")

    a: str = Field(min_length=1, max_length=MAX_ID, description="a participant of the meeting")
    b: str = Field(min_length=1, max_length=MAX_ID, description="the other participant")
    side: str | None = Field(
        default=None, max_length=MAX_ID, description="whose record this is (a or b)"
    )
    attendance: Attendance
    no_show: list[Annotated[str, Field(max_length=MAX_ID)]] = Field(
        default_factory=list, max_length=2, description="who did not come (no_show only)"
    )
    interest: Interest | None = Field(default=None, description="held meetings only")
    next_step: NextStep = "none"
    note: str = Field(default="", max_length=MAX_NOTE, description="private to this side")

    def input(self) -> OutcomeInput:
        return OutcomeInput(
            a=self.a,
            b=self.b,
            side=self.side,
            attendance=self.attendance,
            no_show=tuple(self.no_show),
            interest=self.interest,
            next_step=self.next_step,
            note=self.note,
        )


class FollowUpBody(BaseModel):
    """One side's answer at one follow-up round."""

    model_config = ConfigDict(extra="forbid")

    a: str = Field(min_length=1, max_length=MAX_ID)
    b: str = Field(min_length=1, max_length=MAX_ID)
    side: str | None = Field(default=None, max_length=MAX_ID)
    months: int = Field(ge=0, le=600, description="the round: months after the event")
    stage: Stage
    amount_yen: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_YEN)
    note: str = Field(default="", max_length=MAX_NOTE)

    def input(self) -> FollowUpInput:
        return FollowUpInput(
            a=self.a,
            b=self.b,
            side=self.side,
            months=self.months,
            stage=self.stage,
            amount_yen=self.amount_yen,
            note=self.note,
        )


def _who(tag: str, names: Mapping[str, Recorder]) -> dict[str, Any]:
    found = names.get(tag)
    if found is None:
        return {"tag": tag, "kind": tag.partition(":")[0] or None, "name": None, "role": None}
    return {"tag": tag, "kind": found.kind, "name": found.name, "role": found.role}


def outcome_out(r: MeetingOutcome, names: Mapping[str, Recorder] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "a": r.a,
        "b": r.b,
        "side": r.side,
        "attendance": r.attendance,
        "no_show": list(r.no_show),
        "interest": r.interest,
        "next_step": r.next_step,
        "note": r.note,
        "recorded_at": iso_utc(r.recorded_at),
        "recorded_by": r.recorded_by,
        "source": r.source,
    }
    if names is not None:
        out["recorder"] = _who(r.recorded_by, names)
    return out


def follow_up_out(r: FollowUp, names: Mapping[str, Recorder] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "a": r.a,
        "b": r.b,
        "side": r.side,
        "months": r.months,
        "stage": r.stage,
        "amount_yen": r.amount_yen,
        "note": r.note,
        "recorded_at": iso_utc(r.recorded_at),
        "recorded_by": r.recorded_by,
        "source": r.source,
    }
    if names is not None:
        out["recorder"] = _who(r.recorded_by, names)
    return out


def meeting_out(ref: MeetingRef) -> dict[str, Any]:
    return {
        "a": ref.a,
        "b": ref.b,
        "slot": ref.slot,
        "table": ref.table,
        "status": ref.status,
        "start": ref.start.isoformat() if ref.start else None,
    }


def view_out(view: MeetingView) -> dict[str, Any]:
    return {
        **meeting_out(view.ref),
        "held": view.held,
        "sides": {
            side: (outcome_out(rec) if rec is not None else None)
            for side, rec in view.sides.items()
        },
        "versions": view.versions,
    }


def _side_out(item: SideFollowUps) -> dict[str, Any]:
    return {
        **meeting_out(item.ref),
        "side": item.side,
        "partner": item.partner,
        "attendance": item.outcome.attendance if item.outcome else None,
        "answers": {
            str(m): (follow_up_out(f) if f is not None else None) for m, f in item.answers.items()
        },
        "due": item.due,
    }


def status_out(status: FollowUpStatus) -> dict[str, Any]:
    return {
        "event_day": status.event_day.isoformat(),
        "day_from": status.day_from,
        "rounds": [
            {
                "months": r.months,
                "due_on": r.due_on.isoformat(),
                "reached": r.reached,
                "asked": r.asked,
                "answered": r.answered,
                "due": r.due,
            }
            for r in status.rounds
        ],
        "items": [_side_out(i) for i in status.items],
    }
