"""Shortlists over HTTP (organizers their own, admins all; the console's exchange pages
call the same service): lists, their candidates and notes, spreadsheet exports, and
sending a list to an event as its participants."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response

from service.deps import CallerDep, RowId, SessionDep
from service.io import spreadsheets
from service.io.media import CSV, XLSX, file_responses
from service.ops.guard import JsonRoute
from service.shortlists import service
from service.shortlists.schemas import (
    EntriesBody,
    NameBody,
    NoteBody,
    SendBody,
    added_out,
    sent_out,
    shortlist_out,
    summary_out,
)

router = APIRouter(prefix="/v1/shortlists", tags=["shortlists"], route_class=JsonRoute)


def _out(session: SessionDep, caller: CallerDep, pk: int) -> dict[str, Any]:
    row = service.get(session, caller, pk)
    entries = service.entries(session, caller, pk)
    return shortlist_out(row, entries, service.added_by_names(session, entries))


@router.get("", summary="Shortlists of this key (all shortlists for admins)")
def list_shortlists(caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return {"items": [summary_out(s) for s in service.listing(session, caller)]}


@router.post("", status_code=201, summary="A new, empty shortlist")
def create_shortlist(body: NameBody, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    row = service.create(session, caller, body.name)
    return _out(session, caller, row.pk)


@router.get("/{shortlist_id}", summary="A shortlist and its candidates")
def get_shortlist(shortlist_id: RowId, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return _out(session, caller, shortlist_id)


@router.patch("/{shortlist_id}", summary="Rename a shortlist")
def rename_shortlist(
    shortlist_id: RowId, body: NameBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    service.rename(session, caller, shortlist_id, body.name)
    return _out(session, caller, shortlist_id)


@router.delete("/{shortlist_id}", status_code=204, summary="Delete a shortlist")
def delete_shortlist(shortlist_id: RowId, caller: CallerDep, session: SessionDep) -> Response:
    service.delete(session, caller, shortlist_id)
    return Response(status_code=204)


@router.post("/{shortlist_id}/entries", summary="Add profiles (each once) with a note")
def add_entries(
    shortlist_id: RowId, body: EntriesBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    return added_out(service.add(session, caller, shortlist_id, body.profile_ids, body.note))


@router.patch("/{shortlist_id}/entries/{entry_id}", summary="Change a candidate's note")
def set_note(
    shortlist_id: RowId, entry_id: RowId, body: NoteBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    service.set_note(session, caller, shortlist_id, entry_id, body.note)
    return _out(session, caller, shortlist_id)


@router.delete(
    "/{shortlist_id}/entries/{entry_id}", status_code=204, summary="Take a candidate off"
)
def remove_entry(
    shortlist_id: RowId, entry_id: RowId, caller: CallerDep, session: SessionDep
) -> Response:
    service.remove(session, caller, shortlist_id, entry_id)
    return Response(status_code=204)


@router.get(
    "/{shortlist_id}/export",
    summary="The shortlist for Excel: CSV or XLSX",
    responses=file_responses(CSV, XLSX),
)
def export(
    shortlist_id: RowId,
    caller: CallerDep,
    session: SessionDep,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    row, rows = service.export_rows(session, caller, shortlist_id)
    if format == "xlsx":
        data = spreadsheets.xlsx_bytes(service.EXPORT_HEADER, rows, title=row.name)
        media = spreadsheets.XLSX_MEDIA_TYPE
    else:
        data = spreadsheets.csv_bytes(service.EXPORT_HEADER, rows)
        media = spreadsheets.CSV_MEDIA_TYPE
    disposition = spreadsheets.content_disposition(row.name, f"shortlist-{row.pk}.{format}")
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})


@router.post("/{shortlist_id}/send", summary="Add the candidates to an event as participants")
def send(
    shortlist_id: RowId, body: SendBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    outcome = service.send_to_event(session, caller, shortlist_id, body.event_id, body.group)
    return sent_out(outcome)
