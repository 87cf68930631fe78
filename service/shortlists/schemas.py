"""What the API reads and answers about shortlists."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from models.profile import MAX_ID
from service.io.media import NOTE_TEXT, ONE_LINE_TEXT
from service.shortlists.service import (
    MAX_ENTRIES,
    MAX_GROUP,
    MAX_NAME,
    MAX_NOTE,
    Added,
    EntryView,
    SendOutcome,
    Summary,
)
from service.store.tables import ShortlistRow


class NameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=MAX_NAME, json_schema_extra={"pattern": ONE_LINE_TEXT}
    )


class EntriesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_ids: list[Annotated[str, Field(max_length=MAX_ID)]] = Field(
        min_length=1, max_length=MAX_ENTRIES
    )
    note: str = Field(default="", max_length=MAX_NOTE, json_schema_extra={"pattern": NOTE_TEXT})


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(max_length=MAX_NOTE, json_schema_extra={"pattern": NOTE_TEXT})


class SendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=100)
    group: str = Field(default="participant", max_length=MAX_GROUP)


def summary_out(item: Summary) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "owner": item.owner,
        "entries": item.entries,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def entry_out(entry: EntryView, added_by: dict[int, str]) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "profile_id": entry.profile_id,
        "name": entry.name,  # None: the profile was deleted since
        "name_en": entry.name_en,
        "kind": entry.kind,
        "country": entry.country,
        "note": entry.note,
        "added_at": entry.added_at.isoformat(),
        "added_by": added_by.get(entry.added_by) if entry.added_by is not None else None,
    }


def shortlist_out(
    row: ShortlistRow, entries: list[EntryView], added_by: dict[int, str]
) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "entries": [entry_out(e, added_by) for e in entries],
    }


def added_out(added: Added) -> dict[str, Any]:
    return {"added": added.added, "already": added.already}


def sent_out(outcome: SendOutcome) -> dict[str, Any]:
    return {
        "event_id": outcome.event_id,
        "event_name": outcome.event_name,
        "added": outcome.added,
        "skipped": outcome.skipped,
        "missing": outcome.missing,
        "participants": outcome.participants,
        "group_meets_no_one": outcome.group_meets_no_one,
    }
