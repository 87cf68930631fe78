"""Recording and reading meeting outcomes and follow-ups (the API, the console and the
sheet import all come through here, so each checks the same rules and says the same).

Recording: `check_outcome` / `check_follow_up` turn what a caller sent into a record of
models.outcomes, or into the problems found, each with its field ("attendance", "no_show[0]")
and reason; `record_outcome` / `record_follow_up` raise them as one 422 and append the
record. Nothing is updated in place: a correction is a newer record for the same meeting
and side (and round), and the records in force are the latest (`models.outcomes.current`).

The rules of an outcome: the meeting is one that may have outcomes (service.outcomes.access);
`side` is a or b (a member's own participant by default, and never another's: 403);
`attendance` held / no_show / cancelled; `no_show` names who did not come (a, b or both)
exactly when attendance is no_show; `interest` (none / some / strong) and a `next_step`
other than none only for a meeting that was held; a note of at most MAX_NOTE characters;
and before the meeting's start (when the event has clock times) only `cancelled`.

A follow-up: the same meeting and side rules; `months` one of the event's follow-up
rounds; a `stage`; an `amount_yen` from 0 to MAX_AMOUNT_YEN, never with no_progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo

from models.outcomes import (
    ATTENDANCES,
    INTERESTS,
    MAX_AMOUNT_YEN,
    MAX_NOTE,
    NEXT_STEPS,
    STAGES,
    Attendance,
    FollowUp,
    Interest,
    MeetingOutcome,
    NextStep,
    Source,
    Stage,
    add_months,
    current,
    held,
)
from service.errors import Forbidden, ValidationFailed
from service.outcomes.access import (
    MeetingRef,
    Scope,
    event_day,
    follow_up_months,
    meeting,
    meetings,
    sides,
    visible,
)
from service.store import outcomes as store
from service.store.changes import HISTORY, record_changes
from service.store.db import Session
from service.store.tables import utcnow

Problem = tuple[str, str]
"""(field, reason)."""

MAX_ID = 128


@dataclass(frozen=True)
class OutcomeInput:
    """An outcome as a caller sent it (strings as typed; checked by `check_outcome`)."""

    a: str
    b: str
    side: str | None
    attendance: str
    no_show: Sequence[str] = ()
    interest: str | None = None
    next_step: str | None = None
    note: str = ""


@dataclass(frozen=True)
class FollowUpInput:
    a: str
    b: str
    side: str | None
    months: int
    stage: str
    amount_yen: int | None = None
    note: str = ""


def _one_of(value: str, allowed: Sequence[str]) -> str:
    return f"must be one of {', '.join(allowed)} (got {value[:40]!r})"


def _meeting(
    scope: Scope, refs: dict[tuple[str, str], MeetingRef], a: str, b: str, side: str | None
) -> tuple[MeetingRef | None, str | None, list[Problem]]:
    """The meeting of a and b and the side a record is for, or the problems. A member
    naming a meeting that is not its own is refused (403) before anything is said about
    that meeting."""
    if not scope.organizer and a not in scope.mine and b not in scope.mine:
        raise Forbidden("a member records and reads only its own meetings")
    problems: list[Problem] = []
    for name, pid in (("a", a), ("b", b)):
        if not pid or len(pid) > MAX_ID or not scope.event.has_participant(pid):
            problems.append((name, f"no participant '{pid[:MAX_ID]}' in this event"))
    if problems:
        return None, None, problems
    if a == b:
        return None, None, [("b", "a meeting needs two different participants")]
    pair = (a, b) if a < b else (b, a)
    ref = refs.get(pair)
    if ref is None:
        return None, None, [("b", f"'{a}' and '{b}' have no meeting in this event's schedule")]
    if side is None or side == "":
        own = [s for s in (a, b) if s in scope.mine]
        if scope.organizer or len(own) != 1:
            return ref, None, [("side", "required: the participant (a or b) this record is for")]
        side = own[0]
    if side not in (a, b):
        return ref, None, [("side", f"must be '{a}' or '{b}', a participant of this meeting")]
    scope.require_side(side)
    return ref, side, []


def _local(scope: Scope, moment: dt.datetime) -> str:
    return moment.astimezone(ZoneInfo(scope.event.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def check_outcome(
    scope: Scope,
    refs: dict[tuple[str, str], MeetingRef],
    data: OutcomeInput,
    *,
    recorded_by: str,
    source: Source,
    now: dt.datetime | None = None,
) -> tuple[MeetingOutcome | None, list[Problem]]:
    """The record `data` makes, or None and every problem found."""
    ref, side, problems = _meeting(scope, refs, data.a, data.b, data.side)
    if data.attendance not in ATTENDANCES:
        problems.append(("attendance", _one_of(data.attendance, ATTENDANCES)))
    was_held = data.attendance == "held"
    no_show: list[str] = []
    for i, pid in enumerate(data.no_show):
        if pid not in (data.a, data.b):
            problems.append((f"no_show[{i}]", "must be a or b of this meeting"))
        elif pid not in no_show:
            no_show.append(pid)
    if data.attendance == "no_show" and not data.no_show:
        problems.append(("no_show", "name who did not come: a, b or both"))
    if data.attendance in ("held", "cancelled") and data.no_show:
        problems.append(("no_show", "only for attendance no_show"))
    if data.interest is not None and data.interest not in INTERESTS:
        problems.append(("interest", _one_of(data.interest, INTERESTS)))
    elif data.interest is not None and not was_held:
        problems.append(("interest", "only for a meeting that was held"))
    next_step = data.next_step or "none"
    if next_step not in NEXT_STEPS:
        problems.append(("next_step", _one_of(next_step, NEXT_STEPS)))
    elif next_step != "none" and not was_held:
        problems.append(("next_step", "only for a meeting that was held"))
    if len(data.note) > MAX_NOTE:
        problems.append(("note", f"at most {MAX_NOTE} characters (got {len(data.note)})"))
    moment = now or utcnow()
    if (
        ref is not None
        and ref.start is not None
        and data.attendance in ("held", "no_show")
        and ref.start > moment
    ):
        problems.append(
            (
                "attendance",
                f"the meeting starts at {_local(scope, ref.start)}: before then only "
                "'cancelled' can be recorded",
            )
        )
    if problems or ref is None or side is None:
        return None, problems
    return (
        MeetingOutcome(
            event_id=scope.row.id,
            a=ref.a,
            b=ref.b,
            side=side,
            attendance=cast(Attendance, data.attendance),
            no_show=tuple(sorted(no_show)),
            interest=cast(Interest | None, data.interest),
            next_step=cast(NextStep, next_step),
            note=data.note,
            recorded_by=recorded_by,
            source=source,
        ),
        [],
    )


def check_follow_up(
    scope: Scope,
    refs: dict[tuple[str, str], MeetingRef],
    data: FollowUpInput,
    *,
    recorded_by: str,
    source: Source,
) -> tuple[FollowUp | None, list[Problem]]:
    """The record `data` makes, or None and every problem found."""
    ref, side, problems = _meeting(scope, refs, data.a, data.b, data.side)
    rounds = follow_up_months(scope)
    if data.months not in rounds:
        problems.append(
            (
                "months",
                f"must be one of the event's follow-up rounds: {', '.join(map(str, rounds))}",
            )
        )
    if data.stage not in STAGES:
        problems.append(("stage", _one_of(data.stage, STAGES)))
    if data.amount_yen is not None:
        if not 0 <= data.amount_yen <= MAX_AMOUNT_YEN:
            problems.append(("amount_yen", f"must be from 0 to {MAX_AMOUNT_YEN:,} yen"))
        elif data.stage == "no_progress":
            problems.append(("amount_yen", "an amount needs a stage other than no_progress"))
    if len(data.note) > MAX_NOTE:
        problems.append(("note", f"at most {MAX_NOTE} characters (got {len(data.note)})"))
    if problems or ref is None or side is None:
        return None, problems
    return (
        FollowUp(
            event_id=scope.row.id,
            a=ref.a,
            b=ref.b,
            side=side,
            months=data.months,
            stage=cast(Stage, data.stage),
            amount_yen=data.amount_yen,
            note=data.note,
            recorded_by=recorded_by,
            source=source,
        ),
        [],
    )


def _refused(what: str, problems: list[Problem]) -> ValidationFailed:
    return ValidationFailed(
        f"the {what} is invalid", errors=[{"field": f, "reason": r} for f, r in problems]
    )


def event_meetings(
    session: Session, scope: Scope, pair: tuple[str, str] | None = None
) -> dict[tuple[str, str], MeetingRef]:
    """The event's meetings that may have outcomes (every one; callers filter). With
    `pair` (canonical), only whether that pair had records is asked of the database, not
    every recorded pair of the event: what one record needs."""
    if pair is None:
        return meetings(scope, sorted(store.recorded_pairs(session, scope.row.id)))
    ref = meeting(scope, pair, recorded=False) or meeting(
        scope, pair, recorded=store.pair_recorded(session, scope.row.id, pair)
    )
    return {pair: ref} if ref is not None else {}


def _canonical(a: str, b: str) -> tuple[str, str] | None:
    return None if a == b else ((a, b) if a < b else (b, a))


def record_outcome(
    session: Session,
    scope: Scope,
    data: OutcomeInput,
    *,
    recorded_by: str,
    source: Source,
    now: dt.datetime | None = None,
) -> MeetingOutcome:
    """Append one side's outcome of a meeting (a first record or a correction)."""
    refs = event_meetings(session, scope, _canonical(data.a, data.b))
    record, problems = check_outcome(
        scope, refs, data, recorded_by=recorded_by, source=source, now=now
    )
    if record is None:
        raise _refused("outcome", problems)
    written = store.outcome_of(store.add_outcome(session, record))
    record_changes(session, HISTORY)  # every server reloads its evidence (service.sync)
    return written


def record_follow_up(
    session: Session, scope: Scope, data: FollowUpInput, *, recorded_by: str, source: Source
) -> FollowUp:
    """Append one side's answer at a follow-up round (a first answer or a correction)."""
    refs = event_meetings(session, scope, _canonical(data.a, data.b))
    record, problems = check_follow_up(scope, refs, data, recorded_by=recorded_by, source=source)
    if record is None:
        raise _refused("follow-up", problems)
    written = store.follow_up_of(store.add_follow_up(session, record))
    record_changes(session, HISTORY)
    return written


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class MeetingView:
    """A meeting with the sides' outcomes in force that the caller may see (a side not
    recorded yet: None). `held` is from both sides (organizers only; None for members)."""

    ref: MeetingRef
    sides: dict[str, MeetingOutcome | None]
    held: bool | None
    versions: dict[str, int]


def outcome_views(session: Session, scope: Scope) -> list[MeetingView]:
    """Every meeting the caller may see, in slot order, with its sides' outcomes in force."""
    records = store.outcomes_of_event(session, scope.row.id)
    refs = meetings(scope, sorted(store.recorded_pairs(session, scope.row.id)))
    in_force = {(r.pair, r.side): r for r in current(records)}
    versions: dict[tuple[tuple[str, str], str], int] = {}
    for r in records:
        versions[(r.pair, r.side)] = versions.get((r.pair, r.side), 0) + 1
    out = []
    for ref in visible(scope, refs.values()):
        shown = {s: in_force.get((ref.pair, s)) for s in sides(scope, ref)}
        both = [o for s in ref.pair if (o := in_force.get((ref.pair, s))) is not None]
        out.append(
            MeetingView(
                ref=ref,
                sides=shown,
                held=held(both) if scope.organizer else None,
                versions={s: versions.get((ref.pair, s), 0) for s in shown},
            )
        )
    return out


def _wanted(scope: Scope, record: MeetingOutcome | FollowUp, pair: tuple[str, str] | None) -> bool:
    return scope.may_see(record.side) and (pair is None or record.pair == pair)


def outcome_history(
    session: Session, scope: Scope, pair: tuple[str, str] | None = None
) -> list[MeetingOutcome]:
    """Every outcome record the caller may see (its own side's for a member), oldest
    first, of one meeting or of all."""
    return [r for r in store.outcomes_of_event(session, scope.row.id) if _wanted(scope, r, pair)]


def follow_up_history(
    session: Session, scope: Scope, pair: tuple[str, str] | None = None
) -> list[FollowUp]:
    return [r for r in store.follow_ups_of_event(session, scope.row.id) if _wanted(scope, r, pair)]


@dataclass(frozen=True)
class Round:
    """A follow-up round: `months` after the event, due on `due_on`; `reached` once that
    day has come. `asked` meeting sides, `answered` of them, `due` = reached and not yet
    answered (0 before the round is reached)."""

    months: int
    due_on: dt.date
    reached: bool
    asked: int = 0
    answered: int = 0
    due: int = 0


@dataclass(frozen=True)
class SideFollowUps:
    """One meeting side to ask: its answers in force per round (None: none yet), the
    reached rounds it has not answered (`due`), and what it said right after the meeting."""

    ref: MeetingRef
    side: str
    partner: str
    outcome: MeetingOutcome | None
    answers: dict[int, FollowUp | None]
    due: list[int]


@dataclass(frozen=True)
class FollowUpStatus:
    event_day: dt.date
    day_from: str
    rounds: list[Round]
    items: list[SideFollowUps] = field(default_factory=list)


def follow_up_status(
    session: Session, scope: Scope, now: dt.datetime | None = None
) -> FollowUpStatus:
    """Who is asked at each round, who answered, and who is due.

    The sides asked: both sides of every meeting the caller may see (a member: its own)
    that has started (by its slot's clock time, where the event has them), unless the
    meeting is known not to have taken place (by both sides' outcomes for an organizer,
    by the member's own for a member): a meeting no one recorded yet is asked too, since
    most sheets come back without an outcome recorded first."""
    day, day_from = event_day(scope)
    moment = now or utcnow()
    today = moment.astimezone(ZoneInfo(scope.event.timezone)).date()
    months = follow_up_months(scope)
    records = store.outcomes_of_event(session, scope.row.id)
    answers = current(store.follow_ups_of_event(session, scope.row.id))
    refs = meetings(scope, sorted(store.recorded_pairs(session, scope.row.id)))
    in_force = {(r.pair, r.side): r for r in current(records)}
    by_slot = {(f.pair, f.side, f.months): f for f in answers}
    rounds = {m: Round(m, add_months(day, m), add_months(day, m) <= today) for m in months}
    counts = {m: [0, 0, 0] for m in months}
    items: list[SideFollowUps] = []
    for ref in visible(scope, refs.values()):
        if ref.start is not None and ref.start > moment:
            continue  # not held yet: nothing to follow up
        for side in sides(scope, ref):
            own = in_force.get((ref.pair, side))
            basis = [o for s in ref.pair if (o := in_force.get((ref.pair, s))) is not None]
            if not scope.organizer:
                basis = [own] if own is not None else []
            if held(basis) is False:
                continue
            given = {m: by_slot.get((ref.pair, side, m)) for m in months}
            due = [m for m in months if rounds[m].reached and given[m] is None]
            for m in months:
                counts[m][0] += 1
                counts[m][1] += given[m] is not None
                counts[m][2] += m in due
            items.append(SideFollowUps(ref, side, ref.other(side), own, given, due))
    summary = [Round(r.months, r.due_on, r.reached, *counts[r.months]) for r in rounds.values()]
    return FollowUpStatus(day, day_from, summary, items)


def recorder_names(
    session: Session, records: Iterable[MeetingOutcome | FollowUp]
) -> dict[str, store.Recorder]:
    """recorded_by tag -> who (service.store.outcomes.Recorder)."""
    return dict(store.recorders(session, (r.recorded_by for r in records)))


def own_outcomes(
    session: Session, event_id: str, mine: frozenset[str]
) -> dict[str, MeetingOutcome]:
    """A member's outcomes in force by partner id (the member's agenda shows them): the
    records of its own participants `mine`, never the other side's."""
    out: dict[str, MeetingOutcome] = {}
    for r in current(store.outcomes_of_event(session, event_id)):
        if r.side in mine:
            out[r.b if r.side == r.a else r.a] = r
    return out
