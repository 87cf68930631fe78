"""Offices over HTTP (admins): move a profile, an event or a programme to another office."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.auth import OFFICE_MAX, OFFICE_PATTERN
from service.deps import CallerDep, RowId, SessionDep
from service.events.schemas import event_summary
from service.offices import service
from service.ops.guard import JsonRoute
from service.profiles.schemas import profile_out
from service.reports.schemas import program_out

router = APIRouter(prefix="/v1", tags=["offices"], route_class=JsonRoute)

OfficeName = Field(
    min_length=1,
    max_length=OFFICE_MAX,
    pattern=OFFICE_PATTERN,
    description="a cluster office: a-z, 0-9, '_', '.', '-', starting with a letter or digit",
)


class OfficeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office: str = OfficeName


class ProfileOfficeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office: str | None = Field(
        min_length=1,
        max_length=OFFICE_MAX,
        pattern=OFFICE_PATTERN,
        description="a cluster office (as for events), or null: the shared directory, "
        "which only admins write",
    )


@router.put("/profiles/{profile_id}/office", summary="Move a profile to an office (admins)")
def move_profile(
    profile_id: str, body: ProfileOfficeBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    return profile_out(service.move_profile(session, caller, profile_id, body.office), caller)


@router.put("/events/{event_id}/office", summary="Move an event to an office (admins)")
def move_event(
    event_id: str, body: OfficeBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    return event_summary(service.move_event(session, caller, event_id, body.office))


@router.put("/programs/{program_id}/office", summary="Move a programme to an office (admins)")
def move_program(
    program_id: RowId, body: OfficeBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    return program_out(service.move_program(session, caller, program_id, body.office))
