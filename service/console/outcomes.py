"""The outcome pages (see service/console/__init__.py, "Adding a page"): a member firm
records what came of each of its meetings, and the organizer sees them all.

    GET  /console/me/events/{id}/meetings/{partner}            a member's meeting: the
                                                               outcome form, its history,
                                                               the follow-up rounds
    POST /console/me/events/{id}/meetings/{partner}            record (or correct) the outcome
    POST /console/me/events/{id}/meetings/{partner}/follow-up  answer a follow-up round
    GET  /console/events/{id}/outcomes                         the organizer's page: every
                                                               meeting, both sides, who is due
    GET  /console/events/{id}/outcomes/sheet.csv|.xlsx?sheet=ja|en  the follow-up sheet
                                                               (商談シート; `lang` is the page's)
    POST /console/events/{id}/outcomes/import                  the filled sheet back

Everything goes through service.outcomes, with the API's rules: a member sees and
records its own side of its own meetings only (another meeting is a 404 page here), the
organizer its own events (admins: all). A record made here says `source` console and
`recorded_by` user:<pk>.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.outcomes import (
    ATTENDANCES,
    INTERESTS,
    MAX_NOTE,
    NEXT_STEPS,
    STAGES,
    FollowUp,
    MeetingOutcome,
)
from service.console import i18n
from service.console.deps import Viewer, require_role
from service.console.organizer_profiles import upload_limit
from service.console.pages import ConsoleRoute, render
from service.deps import SessionDep
from service.errors import NotFound, ValidationFailed
from service.io import followups, spreadsheets
from service.outcomes import service as outcomes
from service.outcomes import sheets
from service.outcomes.access import MeetingRef, Scope, scope
from service.outcomes.service import FollowUpInput, FollowUpStatus, OutcomeInput
from service.store.db import Session
from service.store.participation import profile_cards
from service.store.tables import utcnow

router = APIRouter(route_class=ConsoleRoute)
Member = Annotated[Viewer, require_role("member")]
Organizer = Annotated[Viewer, require_role("admin", "organizer")]
FormText = Annotated[str, Form()]
MAX_SHOWN_ERRORS = 500


def _lang(request: Request) -> str:
    return i18n.negotiate(request)


def recorded_by(viewer: Viewer) -> str:
    return f"user:{viewer.user_pk}"


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    profile_id: str | None


def _parties(session: Session, found: Scope) -> dict[str, Party]:
    event = found.event
    cards = profile_cards(session, [p.profile_id for p in event.participants if p.profile_id])
    out = {}
    for p in event.participants:
        card = cards.get(p.profile_id or "")
        out[p.id] = Party(p.id, p.name or (card.name if card else p.id), card.id if card else None)
    return out


def _when(found: Scope, ref: MeetingRef, lang: str) -> str:
    if ref.start is None:
        return i18n.translate(lang, "outcomes.slot", n=ref.slot + 1) if ref.slot is not None else ""
    local = ref.start.astimezone(ZoneInfo(found.event.timezone))
    return f"{local:%Y-%m-%d %H:%M}"


def _table(found: Scope, ref: MeetingRef) -> str:
    for t in found.event.tables:
        if t.id == ref.table:
            return t.name or t.id
    return ref.table or ""


# ---------------------------------------------------------------------------- member


def _my_meeting(session: Session, found: Scope, partner: str) -> tuple[MeetingRef, str]:
    """The member's meeting with `partner` and its own side; 404 for any other."""
    for own in sorted(found.mine):
        if own == partner:
            continue
        pair = (own, partner) if own < partner else (partner, own)
        ref = outcomes.event_meetings(session, found, pair).get(pair)
        if ref is not None:
            return ref, own
    raise NotFound(f"no meeting with '{partner[:128]}' in your agenda")


@dataclass(frozen=True)
class RoundRow:
    months: int
    due_on: str
    reached: bool
    answer: FollowUp | None
    due: bool


def _rounds(status: FollowUpStatus, ref: MeetingRef, side: str) -> list[RoundRow]:
    item = next((i for i in status.items if i.ref.pair == ref.pair and i.side == side), None)
    rows = []
    for r in status.rounds:
        answer = item.answers.get(r.months) if item else None
        rows.append(
            RoundRow(
                r.months,
                r.due_on.isoformat(),
                r.reached,
                answer,
                bool(item and r.months in item.due),
            )
        )
    return rows


def _outcome_form(record: MeetingOutcome | None, side: str) -> dict[str, str]:
    if record is None:
        return {"attendance": "", "no_show": "", "interest": "", "next_step": "none", "note": ""}
    who = set(record.no_show)
    no_show = "both" if len(who) == 2 else "self" if side in who else "partner" if who else ""
    return {
        "attendance": record.attendance,
        "no_show": no_show,
        "interest": record.interest or "",
        "next_step": record.next_step,
        "note": record.note,
    }


def _member_page(
    request: Request,
    session: Session,
    found: Scope,
    ref: MeetingRef,
    side: str,
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    round_form: Mapping[str, str] | None = None,
    round_errors: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    lang = _lang(request)
    parties = _parties(session, found)
    history = outcomes.outcome_history(session, found, ref.pair)
    mine = [r for r in history if r.side == side]
    current = mine[-1] if mine else None
    follow = outcomes.follow_up_status(session, found)
    names = outcomes.recorder_names(session, mine)
    partner = ref.other(side)
    return render(
        request,
        "outcomes_member.html",
        status,
        event_id=found.row.id,
        event_name=found.row.name,
        partner=parties.get(partner) or Party(partner, partner, None),
        me=parties.get(side) or Party(side, side, None),
        when=_when(found, ref, lang),
        table=_table(found, ref),
        started=ref.start is None or ref.start <= utcnow(),
        current=current,
        current_no_show=_outcome_form(current, side)["no_show"],
        history=list(reversed(mine)),
        recorders={tag: r.name for tag, r in names.items()},
        rounds=_rounds(follow, ref, side),
        form=form or _outcome_form(current, side),
        errors=errors or {},
        round_form=round_form or {},
        round_errors=round_errors or {},
        attendances=ATTENDANCES,
        interests=INTERESTS,
        next_steps=NEXT_STEPS,
        stages=STAGES,
        max_note=MAX_NOTE,
        notice=notice,
        base=f"/console/me/events/{found.row.id}/meetings/{partner}",
    )


_NOTICES = {"saved": "outcomes.saved", "answered": "outcomes.round.saved"}


@router.get("/me/events/{event_id}/meetings/{partner}", response_class=HTMLResponse)
def member_meeting(
    request: Request,
    event_id: str,
    partner: str,
    viewer: Member,
    session: SessionDep,
    done: str = "",
) -> Response:
    found = scope(session, viewer.principal, event_id)
    ref, side = _my_meeting(session, found, partner)
    return _member_page(request, session, found, ref, side, notice=_NOTICES.get(done))


_FIELD_ERRORS = {"attendance", "no_show", "interest", "next_step", "note"}


def _field_errors(
    exc: ValidationFailed, lang: str, fields: set[str], default: str, prefix: str
) -> dict[str, str]:
    """The domain's errors by form field, in the page's language (a field the form does
    not have, such as the meeting's ids, is shown on `default`)."""
    out: dict[str, str] = {}
    for error in exc.extra.get("errors", []):
        field = str(error.get("field", "")).split("[", 1)[0]
        reason = str(error.get("reason", ""))
        if field not in fields:
            field = default
        key = f"{prefix}.{field}"
        if "before then only" in reason:
            key = "outcomes.error.not_started"
        elif "needs a stage other than" in reason:
            key = "outcomes.round.error.amount_no_progress"
        out.setdefault(field, i18n.translate(lang, key))
    return out


@router.post("/me/events/{event_id}/meetings/{partner}", response_class=HTMLResponse)
def member_record(
    request: Request,
    event_id: str,
    partner: str,
    viewer: Member,
    session: SessionDep,
    attendance: FormText = "",
    no_show: FormText = "",
    interest: FormText = "",
    next_step: FormText = "",
    note: FormText = "",
) -> Response:
    lang = _lang(request)
    found = scope(session, viewer.principal, event_id)
    ref, side = _my_meeting(session, found, partner)
    form = {
        "attendance": attendance[:20],
        "no_show": no_show[:20],
        "interest": interest[:20],
        "next_step": next_step[:30],
        "note": note[: MAX_NOTE + 100],
    }
    who = {"self": [side], "partner": [partner], "both": [side, partner]}.get(no_show, [])
    if attendance != "no_show":
        who = []  # (the select keeps its value when another attendance is chosen)
    data = OutcomeInput(
        a=side,
        b=partner,
        side=side,
        attendance=attendance,
        no_show=who,
        interest=interest if attendance == "held" and interest else None,
        next_step=next_step if attendance == "held" and next_step else "none",
        note=note.replace("\r\n", "\n"),
    )
    try:
        outcomes.record_outcome(
            session, found, data, recorded_by=recorded_by(viewer), source="console"
        )
    except ValidationFailed as exc:
        errors = _field_errors(exc, lang, _FIELD_ERRORS, "attendance", "outcomes.error")
        return _member_page(
            request, session, found, ref, side, status=400, form=form, errors=errors
        )
    return RedirectResponse(
        f"/console/me/events/{event_id}/meetings/{partner}?done=saved", status_code=303
    )


@router.post("/me/events/{event_id}/meetings/{partner}/follow-up", response_class=HTMLResponse)
def member_follow_up(
    request: Request,
    event_id: str,
    partner: str,
    viewer: Member,
    session: SessionDep,
    months: FormText = "",
    stage: FormText = "",
    amount: FormText = "",
    note: FormText = "",
) -> Response:
    lang = _lang(request)
    found = scope(session, viewer.principal, event_id)
    ref, side = _my_meeting(session, found, partner)
    form = {
        "months": months[:4],
        "stage": stage[:30],
        "amount": amount[:40],
        "note": note[: MAX_NOTE + 100],
    }
    errors: dict[str, str] = {}
    value = None
    if amount.strip():
        value = followups.read_amount(amount)
        if value is None:
            errors["amount"] = i18n.translate(lang, "outcomes.round.error.amount")
    number = int(months) if months.isdigit() and len(months) < 4 else -1
    if not errors:
        data = FollowUpInput(
            a=side,
            b=partner,
            side=side,
            months=number,
            stage=stage,
            amount_yen=value,
            note=note.replace("\r\n", "\n"),
        )
        try:
            outcomes.record_follow_up(
                session, found, data, recorded_by=recorded_by(viewer), source="console"
            )
        except ValidationFailed as exc:
            fields = {"stage", "amount_yen", "note"}
            errors = _field_errors(exc, lang, fields, "stage", "outcomes.round.error")
            if "amount_yen" in errors:
                errors["amount"] = errors.pop("amount_yen")
    if errors:
        return _member_page(
            request, session, found, ref, side, status=400, round_form=form, round_errors=errors
        )
    return RedirectResponse(
        f"/console/me/events/{event_id}/meetings/{partner}?done=answered#rounds", status_code=303
    )


# ---------------------------------------------------------------------------- organizer


@dataclass(frozen=True)
class SideCell:
    party: Party
    record: MeetingOutcome | None
    answers: list[tuple[int, FollowUp | None, bool]]  # (months, answer, due)


@dataclass(frozen=True)
class MeetingRow:
    ref: MeetingRef
    when: str
    table: str
    held: bool | None
    sides: list[SideCell]


def _organizer_scope(session: Session, viewer: Viewer, event_id: str) -> Scope:
    found = scope(session, viewer.principal, event_id)
    sheets.require_organizer(found)
    return found


def _organizer_page(
    request: Request,
    session: Session,
    found: Scope,
    *,
    status: int = 200,
    report: dict[str, Any] | None = None,
    upload_error: str | None = None,
    file_detail: str | None = None,
    allow_partial: bool = False,
) -> HTMLResponse:
    lang = _lang(request)
    parties = _parties(session, found)
    views = outcomes.outcome_views(session, found)
    follow = outcomes.follow_up_status(session, found)
    asked = {(i.ref.pair, i.side): i for i in follow.items}
    rows = []
    counts: Counter[str] = Counter()
    for view in views:
        ref = view.ref
        cells = []
        for side in ref.pair:
            item = asked.get((ref.pair, side))
            answers = [
                (
                    r.months,
                    item.answers.get(r.months) if item else None,
                    bool(item and r.months in item.due),
                )
                for r in follow.rounds
            ]
            record = view.sides.get(side)
            cells.append(SideCell(parties.get(side) or Party(side, side, None), record, answers))
            if record is not None:
                counts["recorded"] += 1
                if record.interest == "strong":
                    counts["strong"] += 1
        counts["meetings"] += 1
        counts["held" if view.held else "not_held" if view.held is False else "unknown"] += 1
        rows.append(MeetingRow(ref, _when(found, ref, lang), _table(found, ref), view.held, cells))
    return render(
        request,
        "outcomes_organizer.html",
        status,
        event=found.row,
        rows=rows,
        counts=counts,
        sides_total=2 * len(rows),
        follow=follow,
        report=report,
        upload_error=upload_error,
        file_detail=file_detail,
        allow_partial=allow_partial,
        limit_mb=min(upload_limit(request), followups.MAX_SHEET_BYTES) // (1024 * 1024),
        max_shown=MAX_SHOWN_ERRORS,
        base=f"/console/events/{found.row.id}/outcomes",
    )


@router.get("/events/{event_id}/outcomes", response_class=HTMLResponse)
def organizer_outcomes(
    request: Request, event_id: str, viewer: Organizer, session: SessionDep
) -> Response:
    found = _organizer_scope(session, viewer, event_id)
    return _organizer_page(request, session, found)


def _sheet(session: Session, viewer: Viewer, event_id: str, fmt: str, lang: str) -> Response:
    found = _organizer_scope(session, viewer, event_id)
    sheet_lang: followups.SheetLang = "en" if lang == "en" else "ja"
    body = sheets.sheet_file(session, found, fmt, sheet_lang)
    name = f"{found.row.name} {'商談シート' if sheet_lang == 'ja' else 'follow-ups'}"
    media = spreadsheets.XLSX_MEDIA_TYPE if fmt == "xlsx" else spreadsheets.CSV_MEDIA_TYPE
    disposition = spreadsheets.content_disposition(name, f"follow-ups.{fmt}")
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/events/{event_id}/outcomes/sheet.csv")
def organizer_sheet_csv(
    event_id: str, viewer: Organizer, session: SessionDep, sheet: str = "ja"
) -> Response:
    return _sheet(session, viewer, event_id, "csv", sheet)


@router.get("/events/{event_id}/outcomes/sheet.xlsx")
def organizer_sheet_xlsx(
    event_id: str, viewer: Organizer, session: SessionDep, sheet: str = "ja"
) -> Response:
    return _sheet(session, viewer, event_id, "xlsx", sheet)


# The sheet's and the rules' reasons in the page's language: (pattern, message key); the
# named groups fill the message. Reasons not listed are shown as written.
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^required$"), "outcomes.reason.required"),
    (re.compile(r"^one of (?P<choices>.*)$"), "outcomes.reason.one_of"),
    (re.compile(r"^not an amount in yen: (?P<value>.*?) \(e\.g\."), "outcomes.reason.amount"),
    (re.compile(r"^a value in a column without header$"), "outcomes.reason.no_header"),
    (re.compile(r"^at most (?P<n>[\d,]+) characters"), "outcomes.reason.too_long"),
    (re.compile(r"^required when the row says"), "outcomes.reason.attendance_needed"),
    (re.compile(r"^required when the round's"), "outcomes.reason.stage_needed"),
    (re.compile(r"^自社 / 相手 / 双方"), "outcomes.reason.no_show_who"),
    (re.compile(r"^the same meeting and side as row (?P<row>\d+)$"), "outcomes.reason.repeated"),
    (re.compile(r"^no participant '(?P<id>.*)' in this event$"), "outcomes.reason.participant"),
    (re.compile(r"^a meeting needs two different"), "outcomes.reason.same_participant"),
    (re.compile(r"^'(?P<a>.*)' and '(?P<b>.*)' have no meeting"), "outcomes.reason.no_meeting"),
    (re.compile(r"^name who did not come"), "outcomes.reason.no_show_missing"),
    (re.compile(r"^only for attendance no_show$"), "outcomes.reason.no_show_only"),
    (re.compile(r"^only for a meeting that was held$"), "outcomes.reason.held_only"),
    (
        re.compile(r"^the meeting starts at (?P<when>.*): before then"),
        "outcomes.reason.not_started",
    ),
    (re.compile(r"^must be from 0 to (?P<max>[\d,]+) yen$"), "outcomes.reason.amount_range"),
    (re.compile(r"^an amount needs a stage"), "outcomes.reason.amount_no_progress"),
]


def reason_text(lang: str, reason: str) -> str:
    for pattern, key in _REASONS:
        match = pattern.match(reason)
        if match:
            return i18n.translate(lang, key, **{k: (v or "") for k, v in match.groupdict().items()})
    return reason


def _translated(report: dict[str, Any], lang: str) -> dict[str, Any]:
    errors = [{**e, "reason": reason_text(lang, str(e["reason"]))} for e in report["errors"]]
    return {**report, "errors": errors}


@router.post("/events/{event_id}/outcomes/import", response_class=HTMLResponse)
def organizer_import(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    allow_partial: FormText = "",
) -> Response:
    found = _organizer_scope(session, viewer, event_id)
    partial = bool(allow_partial)

    def again(status: int, code: str, detail: str | None = None, report: Any = None) -> Response:
        return _organizer_page(
            request,
            session,
            found,
            status=status,
            upload_error=code,
            file_detail=detail,
            report=report,
            allow_partial=partial,
        )

    limit = min(upload_limit(request), followups.MAX_SHEET_BYTES)
    if file is None or not file.filename:
        return again(400, "outcomes.import.error.no_file")
    data = file.file.read(limit + 1)
    if len(data) > limit:
        return again(413, "outcomes.import.error.too_large")
    try:
        report = sheets.import_sheet(
            session,
            found,
            data,
            filename=file.filename[-200:],
            encoding=None,
            allow_partial=partial,
            recorded_by=recorded_by(viewer),
        )
    except ValidationFailed as exc:
        if "report" in exc.extra:
            report_out = _translated(exc.extra["report"], _lang(request))
            return again(400, "outcomes.import.error.rows", report=report_out)
        reasons = [str(e.get("reason", "")) for e in exc.extra.get("errors", [])]
        return again(400, "outcomes.import.error.unreadable", detail="; ".join(reasons))
    return again(200, "", report=_translated(report.to_dict(), _lang(request)))
