"""The follow-up sheet of an event (service.io.followups has its format): written with
the answers given so far, and read back filled in.

Writing: one row per meeting side to ask (service.outcomes.service.follow_up_status), so
the same sides the organizer's page lists as due; the answers in force are filled in, so
that a sheet sent out twice, or re-imported unchanged, changes nothing.

Reading: every row is checked by the rules the API applies (check_outcome /
check_follow_up), and every problem is reported with its row and column. A row's cells
are written only if they differ from the record in force (a re-import adds no history);
a row with any problem writes nothing. With problems, nothing at all is written unless
`allow_partial` is asked for: then the good rows are written and the bad ones reported.
Only the event's organizer and admins send sheets out and take them back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from models.outcomes import FollowUp, MeetingOutcome, current
from service.errors import Forbidden, ValidationFailed
from service.io import followups as sheet
from service.io.followups import ReadRow, ReadSheet, SheetError, SheetLang, SheetRow
from service.io.imports import ImportFormatError
from service.outcomes.access import MeetingRef, Scope, follow_up_months
from service.outcomes.service import (
    FollowUpInput,
    OutcomeInput,
    Problem,
    check_follow_up,
    check_outcome,
    event_meetings,
    follow_up_status,
)
from service.store import outcomes as store
from service.store.changes import HISTORY, record_changes
from service.store.db import Session
from service.store.participation import profile_cards


def require_organizer(scope: Scope) -> None:
    if not scope.organizer:
        raise Forbidden("only the event's organizer and admins send and read follow-up sheets")


def _names(session: Session, scope: Scope) -> dict[str, str]:
    event = scope.event
    cards = profile_cards(session, [p.profile_id for p in event.participants if p.profile_id])
    out = {}
    for p in event.participants:
        card = cards.get(p.profile_id or "")
        out[p.id] = p.name or (card.name if card else p.id)
    return out


def _no_show_cell(record: MeetingOutcome | None, side: str, lang: SheetLang) -> str:
    if record is None or not record.no_show:
        return ""
    who = set(record.no_show)
    code = "both" if len(who) == 2 else "self" if side in who else "partner"
    return sheet.label("no_show", code, lang)


def _when(scope: Scope, ref: MeetingRef) -> str | None:
    if ref.start is None:
        return None
    return ref.start.astimezone(ZoneInfo(scope.event.timezone)).strftime("%Y-%m-%d %H:%M")


def _table_name(scope: Scope, table: str | None) -> str | None:
    for t in scope.event.tables:
        if t.id == table:
            return t.name or t.id
    return table


def sheet_rows(
    session: Session, scope: Scope, lang: SheetLang, now: dt.datetime | None = None
) -> tuple[list[SheetRow], tuple[int, ...]]:
    """The sheet's rows and its rounds."""
    require_organizer(scope)
    status = follow_up_status(session, scope, now)
    names = _names(session, scope)
    rows = []
    for item in status.items:
        ref, o = item.ref, item.outcome
        rounds: dict[tuple[str, int], Any] = {}
        for months, answer in item.answers.items():
            if answer is not None:
                rounds[("stage", months)] = sheet.label("stage", answer.stage, lang)
                rounds[("amount_yen", months)] = answer.amount_yen
                rounds[("note", months)] = answer.note or None
        rows.append(
            SheetRow(
                cells={
                    "slot": ref.slot + 1 if ref.slot is not None else None,
                    "time": _when(scope, ref),
                    "table": _table_name(scope, ref.table),
                    "side": item.side,
                    "side_name": names.get(item.side, item.side),
                    "partner": item.partner,
                    "partner_name": names.get(item.partner, item.partner),
                    "attendance": sheet.label("attendance", o.attendance if o else None, lang),
                    "no_show": _no_show_cell(o, item.side, lang),
                    "interest": sheet.label("interest", o.interest if o else None, lang),
                    "next_step": sheet.label("next_step", o.next_step if o else None, lang),
                    "note": (o.note or None) if o else None,
                    "due": sheet.due_text(item.due, lang) or None,
                },
                rounds=rounds,
            )
        )
    return rows, follow_up_months(scope)


def sheet_file(
    session: Session, scope: Scope, fmt: str, lang: SheetLang, now: dt.datetime | None = None
) -> bytes:
    rows, months = sheet_rows(session, scope, lang, now)
    if fmt == "xlsx":
        title = "商談シート" if lang == "ja" else "Follow-ups"
        return sheet.sheet_xlsx(rows, months, lang, title)
    return sheet.sheet_csv(rows, months, lang)


# ---------------------------------------------------------------------------- import


@dataclass
class ImportReport:
    rows: int = 0
    outcomes_written: int = 0
    follow_ups_written: int = 0
    unchanged: int = 0
    rejected_rows: list[int] = field(default_factory=list)
    errors: list[SheetError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    format: str = "csv"
    encoding: str = ""
    written: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "outcomes_written": self.outcomes_written,
            "follow_ups_written": self.follow_ups_written,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected_rows),
            "rejected_rows": self.rejected_rows,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": self.warnings,
            "format": self.format,
            "encoding": self.encoding or None,
            "written": self.written,
        }


def _same_outcome(a: MeetingOutcome, b: MeetingOutcome | None) -> bool:
    return b is not None and (a.attendance, a.no_show, a.interest, a.next_step, a.note) == (
        b.attendance,
        b.no_show,
        b.interest,
        b.next_step,
        b.note,
    )


def _same_follow_up(a: FollowUp, b: FollowUp | None) -> bool:
    return b is not None and (a.stage, a.amount_yen, a.note) == (b.stage, b.amount_yen, b.note)


@dataclass
class _Reader:
    """Checks the rows of one sheet against the event and what is in force."""

    scope: Scope
    refs: dict[tuple[str, str], MeetingRef]
    read: ReadSheet
    outcomes: dict[tuple[tuple[str, str], str], MeetingOutcome]
    answers: dict[tuple[tuple[str, str], str, int], FollowUp]
    recorded_by: str
    now: dt.datetime | None

    def _column(self, name: str, months: int | None = None) -> str:
        if name in ("a", "side"):
            return self.read.column("side")
        if name == "b":
            return self.read.column("partner")
        base = name.split("[", 1)[0]
        if months is not None:
            return self.read.column("stage" if base == "months" else base, months)
        return self.read.column(base)

    def _errors(self, row: int, problems: list[Problem], months: int | None) -> list[SheetError]:
        return [SheetError(row, self._column(f, months), reason) for f, reason in problems]

    def row(self, r: ReadRow) -> tuple[list[MeetingOutcome | FollowUp], int, list[SheetError]]:
        """What the row writes, how many of its records are unchanged, its problems."""
        out: list[MeetingOutcome | FollowUp] = []
        same = 0
        errors: list[SheetError] = []
        if r.outcome:
            cells = r.outcome
            if "attendance" not in cells:
                errors.append(
                    SheetError(
                        r.row,
                        self.read.column("attendance"),
                        "required when the row says something of the meeting",
                    )
                )
            else:
                no_show: list[str] = []
                if "no_show" in cells:
                    found = sheet.no_show_ids(cells["no_show"], r.side, r.partner)
                    if found is None:
                        errors.append(
                            SheetError(
                                r.row,
                                self.read.column("no_show"),
                                "自社 / 相手 / 双方 (self, partner, both), or the ids of "
                                "who did not come",
                            )
                        )
                    no_show = found or []
                data = OutcomeInput(
                    a=r.side,
                    b=r.partner,
                    side=r.side,
                    attendance=cells["attendance"],
                    no_show=no_show,
                    interest=cells.get("interest"),
                    next_step=cells.get("next_step"),
                    note=cells.get("note", ""),
                )
                record, problems = check_outcome(
                    self.scope,
                    self.refs,
                    data,
                    recorded_by=self.recorded_by,
                    source="import",
                    now=self.now,
                )
                errors += self._errors(r.row, problems, None)
                if record is not None and not errors:
                    if _same_outcome(record, self.outcomes.get((record.pair, record.side))):
                        same += 1
                    else:
                        out.append(record)
        for months, cells in sorted(r.rounds.items()):
            if "stage" not in cells:
                errors.append(
                    SheetError(
                        r.row,
                        self.read.column("stage", months),
                        "required when the round's amount or note is filled",
                    )
                )
                continue
            amount = cells.get("amount_yen")
            follow, problems = check_follow_up(
                self.scope,
                self.refs,
                FollowUpInput(
                    a=r.side,
                    b=r.partner,
                    side=r.side,
                    months=months,
                    stage=cells["stage"],
                    amount_yen=int(amount) if amount is not None else None,
                    note=cells.get("note", ""),
                ),
                recorded_by=self.recorded_by,
                source="import",
            )
            errors += self._errors(r.row, problems, months)
            if follow is not None:
                key = (follow.pair, follow.side, months)
                if _same_follow_up(follow, self.answers.get(key)):
                    same += 1
                else:
                    out.append(follow)
        return out, same, _unique(errors)


def _unique(errors: list[SheetError]) -> list[SheetError]:
    return list(dict.fromkeys(errors))


def import_sheet(
    session: Session,
    scope: Scope,
    data: bytes,
    *,
    filename: str | None,
    encoding: str | None,
    allow_partial: bool,
    recorded_by: str,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Read a filled sheet and write what it says (see the module docstring). Raises
    ValidationFailed: for a file that cannot be read (field `file`), and for bad rows
    unless `allow_partial` (then nothing is written; the report is in the problem)."""
    require_organizer(scope)
    if not data:
        raise ValidationFailed("the sheet is empty", errors=[{"field": "file", "reason": "empty"}])
    try:
        read = sheet.read_sheet(
            data, months=follow_up_months(scope), filename=filename, encoding=encoding
        )
    except ImportFormatError as exc:
        raise ValidationFailed(
            f"the sheet cannot be read: {exc}", errors=[{"field": "file", "reason": str(exc)}]
        ) from exc
    refs = event_meetings(session, scope)
    outcomes = {
        (o.pair, o.side): o for o in current(store.outcomes_of_event(session, scope.row.id))
    }
    answers = {
        (f.pair, f.side, f.months): f
        for f in current(store.follow_ups_of_event(session, scope.row.id))
    }
    reader = _Reader(scope, refs, read, outcomes, answers, recorded_by, now)
    report = ImportReport(
        rows=read.total_rows,
        errors=list(read.errors),
        warnings=list(read.warnings),
        format=read.format,
        encoding=read.encoding,
    )
    rejected = {e.row for e in read.errors}
    first_row: dict[tuple[str, str], int] = {}
    staged: list[MeetingOutcome | FollowUp] = []
    for r in read.rows:
        key = (r.side, r.partner)
        if key in first_row:
            report.errors.append(
                SheetError(
                    r.row,
                    read.column("side"),
                    f"the same meeting and side as row {first_row[key]}",
                )
            )
            rejected.add(r.row)
            continue
        first_row[key] = r.row
        records, same, errors = reader.row(r)
        if errors:
            report.errors += errors
            rejected.add(r.row)
            continue
        staged += records
        report.unchanged += same
    report.errors.sort(key=lambda e: e.row)
    report.rejected_rows = sorted(rejected)
    if report.errors and not allow_partial:
        raise ValidationFailed.rows(
            len(rejected),
            report.rows,
            [e.to_dict() for e in report.errors],
            report.to_dict(),
        )
    said = [r for r in staged if isinstance(r, MeetingOutcome)]
    answered = [r for r in staged if isinstance(r, FollowUp)]
    store.add_many(session, said, answered)
    if said or answered:
        record_changes(session, HISTORY)  # every server reloads its evidence (service.sync)
    report.outcomes_written, report.follow_ups_written = len(said), len(answered)
    report.written = True
    return report
