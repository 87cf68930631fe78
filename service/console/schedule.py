"""The organizer's schedule pages (issue 17, Organizer → Schedule and Exports), under
/console/events/{event_id}/schedule:

    GET  ""                      overview: run the solver, the solve's figures, what was left out
    POST /run                    queue a solve (the API's schedule job) → the overview, polling
    GET  /jobs/{job_id}          the progress fragment htmx polls every second
    GET  /grid                   slots × tables
    GET  /participants/{pid}     one participant's meetings, with reasons and what was left out
    GET  /meeting?a=&b=          one meeting: lock, unlock, move (with the free places)
    POST /lock, /unlock, /move   (a move that breaks a rule is refused with the rule)
    GET  /replan, POST /replan   no-shows and late arrivals → the API's replan job
    GET  /changes                what the last re-plan moved
    GET  /retime, POST /retime   fewest idle breaks (the API's retime job), before and after
    GET  /export/...             the API's CSV, ICS and printable agendas, as downloads

Access is the API's: organizers see their own events, admins all (service.events.service.get
decides; others get the 404 the API gives), members get 403. The work is the events
domain's: the same jobs as the API, `service.events.{grid,moves,locks}` for the views and
the hand edits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.console import i18n
from service.console.deps import Viewer, require_role
from service.console.errors import ConsoleProblem
from service.console.pages import ConsoleRoute, render
from service.deps import JobsDep, SessionDep
from service.errors import ValidationFailed
from service.events import grid as views
from service.events import locks, moves
from service.events import service as events
from service.events.service import MAX_TIME_LIMIT
from service.events.staleness import StaleMeeting, StaleSchedule, stale_of
from service.jobs import service as jobs
from service.store.tables import JobRow

router = APIRouter(route_class=ConsoleRoute)

Organizer = Annotated[Viewer, require_role("admin", "organizer")]
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]
Translator = Callable[..., str]

JOB_KINDS = ("schedule", "replan", "retime")
NOTICES = ("solved", "replanned", "retimed", "locked", "unlocked", "moved")
DEFAULT_TIME_LIMIT = 30.0
DEFAULT_RETIME_LIMIT = 60.0
MAX_FAIRNESS = 100
POLL = "every 1s"


def base_url(event_id: str) -> str:
    return f"/console/events/{quote(event_id, safe='')}/schedule"


def _translator(request: Request) -> Translator:
    return i18n.translator(i18n.negotiate(request))


# ---------------------------------------------------------------------------- page context


class Labels:
    """Names of participants, slots and tables for a page and its messages."""

    def __init__(
        self, v: views.ScheduleView, t: Translator, base: str, *, relative: bool = False
    ) -> None:
        self.v = v
        self.t = t
        self.base = base
        # Links relative to a page directly under `base` (the grid: thousands of links,
        # half the page's size in repeated prefixes otherwise).
        self._prefix = "" if relative else base + "/"
        self.slots = v.slots
        self.tables = {tb.id: tb for tb in v.tables}
        self._ids: dict[str, str] = {}

    def name(self, pid: str) -> str:
        return self.v.name(pid)

    def _quoted(self, pid: str) -> str:
        found = self._ids.get(pid)
        if found is None:
            found = self._ids[pid] = quote(pid, safe="")
        return found

    def href(self, pid: str) -> str:
        """The per-participant view (ids quoted once: the grid asks for each name)."""
        return f"{self._prefix}participants/{self._quoted(pid)}"

    def slot(self, index: int) -> str:
        if 0 <= index < len(self.slots):
            s = self.slots[index]
            number = self.t("schedule.slot_number", n=s.number)
            return f"{number} {s.label}" if s.label else number
        return self.t("schedule.slot_number", n=index + 1)

    def slot_time(self, index: int) -> str:
        """The clock time alone where the event has times, else the slot number."""
        if 0 <= index < len(self.slots) and self.slots[index].label:
            return self.slots[index].label
        return self.t("schedule.slot_number", n=index + 1)

    def table(self, tid: str | None) -> str:
        if tid is None:
            return self.t("schedule.no_table")
        tb = self.tables.get(tid)
        return tb.name if tb else tid

    def meeting_href(self, a: str, b: str) -> str:
        return f"{self._prefix}meeting?a={self._quoted(a)}&b={self._quoted(b)}"

    def _known(self, key: str, fallback: str) -> str:
        text = self.t(key)
        return fallback if text == key else text

    def level(self, level: str) -> str:
        """How a meeting was asked for ("mutual must", "organizer want", ...)."""
        return self._known("schedule.level." + level.replace(" ", "_"), level)

    def status(self, status: str) -> str:
        """A solve's status (OPTIMAL, FEASIBLE, ...)."""
        return self._known("schedule.status." + status.lower(), status)

    def unplaced(self, code: str) -> str:
        """Why a requested meeting is not in the schedule (models.events.result.UnplacedCode)."""
        return self._known("schedule.unplaced." + code, code)

    def dropped(self, reason: str) -> str:
        """Why a re-plan dropped a meeting, from the solver's sentence."""
        if reason.startswith("no-show"):
            return self.t("schedule.dropped.no_show")
        if reason.startswith("replaced by"):
            return self.t("schedule.dropped.replaced")
        return self.t("schedule.dropped.other")

    def day(self, s: views.SlotView) -> str:
        if s.start is None:
            return ""
        return self.t(
            "schedule.day",
            month=self.t(f"schedule.month.{s.start.month}"),
            day=s.start.day,
            weekday=self.t(f"schedule.weekday.{s.start.weekday()}"),
        )

    def reason(self, r: views.Reason) -> str:
        t = self.t
        if r.kind == "wish":
            return t(
                "schedule.reason.wish",
                name=self.name(r.by),
                level=self.level(r.level),
                priority=r.priority,
            )
        if r.kind == "organizer":
            return t("schedule.reason.organizer", level=self.level(r.level), priority=r.priority)
        if r.kind == "suggested":
            return t("schedule.reason.suggested", score=f"{r.score:.2f}")
        if r.kind == "locked":
            return t("schedule.reason.locked")
        return t("schedule.reason.previous")

    def refusal(self, r: moves.Refusal) -> str:
        params: dict[str, Any] = {}
        for key, value in r.params.items():
            if key in ("participant", "partner", "a", "b", "by"):
                params[key] = self.name(str(value))
            elif key == "slot":
                params[key] = self.slot(int(value))
            elif key == "table":
                params[key] = self.table(str(value))
            else:
                params[key] = value
        return self.t(f"schedule.rule.{r.rule}", **params)


def _view(session: SessionDep, viewer: Viewer, event_id: str) -> views.ScheduleView:
    # The API's rule: 404 for an event the viewer may not see, as for one that is not there.
    return views.view(events.get(session, viewer.principal, event_id))


def _page(
    request: Request,
    template: str,
    v: views.ScheduleView,
    tab: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    relative: bool = False,
    **values: Any,
) -> HTMLResponse:
    base = base_url(v.row.id)
    t = _translator(request)
    labels = Labels(v, t, base, relative=relative)
    notice = request.query_params.get("notice")
    # An edit since the solve may have broken meetings: every page says so, with why
    # (service.events.staleness), as the exports and re-timing refuse meanwhile.
    stale = stale_of(v.event, v.schedule)
    return render(
        request,
        template,
        status,
        headers,
        event_id=v.row.id,
        event_name=v.row.name,
        event_href=f"/console/events/{quote(v.row.id, safe='')}",
        base=base,
        tab=tab,
        v=v,
        labels=labels,
        scheduled=v.schedule is not None,
        notice=notice if notice in NOTICES else None,
        stale_count=len(stale),
        stale_meetings=len({s.index for s in stale}),
        stale=[stale_text(t, labels, s) for s in stale[:STALE_LISTED]],
        **values,
    )


STALE_LISTED = 10


def stale_text(t: Translator, labels: Labels, s: StaleMeeting) -> str:
    """One reason the schedule is stale, in the page's language, with the names."""
    m = s.meeting
    meeting = t(
        "schedule.stale.meeting", slot=labels.slot(m.slot), a=labels.name(m.a), b=labels.name(m.b)
    )
    subject = labels.name(s.subject) if s.code.startswith("participant") else s.subject
    return t(f"schedule.stale.{s.code}", meeting=meeting, subject=subject)


def _refused_while_stale(exc: StaleSchedule) -> ConsoleProblem:
    return ConsoleProblem(409, "schedule.stale.refused", n=exc.extra.get("meetings", 0))


def _redirect(url: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(url + ("?" + query if query else ""), status_code=303)


# ---------------------------------------------------------------------------- jobs


def _event_job(session: SessionDep, viewer: Viewer, event_id: str, job_id: str) -> JobRow:
    """A schedule job of this event that the viewer may see (the API's rule), else 404."""
    row = jobs.get_job(session, viewer.principal, job_id)
    report = row.report or {}
    if row.kind not in JOB_KINDS or (row.status == "succeeded" and report.get("event") != event_id):
        raise ConsoleProblem(404, "error.404")
    return row


def _result_url(base: str, kind: str) -> str:
    return {
        "schedule": f"{base}?notice=solved",
        "replan": f"{base}/changes?notice=replanned",
        "retime": f"{base}/retime?notice=retimed",
    }[kind]


def _page_url(base: str, kind: str, job_id: str) -> str:
    page = {"schedule": base, "replan": f"{base}/replan", "retime": f"{base}/retime"}[kind]
    return f"{page}?" + urlencode({"job": job_id})


def job_state(row: JobRow, base: str) -> dict[str, Any]:
    """What the progress fragment shows of a job."""
    running = row.status in ("queued", "running")
    fraction = None  # (indeterminate until the work reports)
    if row.status == "running" and row.total > 0 and row.phase not in ("", "starting"):
        fraction = min(1.0, row.done / row.total)
    if row.status == "succeeded":
        fraction = 1.0
    phase = row.phase or row.status
    if row.status == "queued":
        phase = "queued"
    phase_key = "schedule.phase." + re.sub(r"[^a-z_]", "_", phase)
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "running": running,
        "phase_key": phase_key,
        "fraction": fraction,
        "percent": None if fraction is None else math.floor(fraction * 100),
        "elapsed_s": row.done // 1000 if row.total > 1 else None,
        "limit_s": row.total // 1000 if row.total > 1 else None,
        "error": row.error,
        "poll_url": f"{base}/jobs/{quote(row.id, safe='')}",
        "result_url": _result_url(base, row.kind),
        "page_url": _page_url(base, row.kind, row.id),
    }


def _known_phase(t: Translator, key: str) -> str:
    text = t(key)
    return t("schedule.phase.working") if text == key else text


@router.get("/events/{event_id}/schedule/jobs/{job_id}", response_class=HTMLResponse)
def job_progress(
    request: Request, event_id: str, job_id: str, viewer: Organizer, session: SessionDep
) -> Response:
    """The content of the job box, for htmx: when the job has succeeded, HX-Redirect to
    the result; when it has failed, status 286 (htmx stops polling). A browser without
    htmx is sent to the job's page or its result."""
    events.get(session, viewer.principal, event_id)
    job = job_state(_event_job(session, viewer, event_id, job_id), base_url(event_id))
    if request.headers.get("hx-request") != "true":
        target = job["result_url"] if job["status"] == "succeeded" else job["page_url"]
        return RedirectResponse(target, status_code=303)
    status, headers = 200, {}
    if job["status"] == "succeeded":
        headers["HX-Redirect"] = job["result_url"]
    elif job["status"] == "failed":
        status = 286
    return render(
        request,
        "schedule_job.html",
        status,
        headers,
        job=job,
        phase=_known_phase(_translator(request), job["phase_key"]),
    )


class JobDone(Exception):
    """A page asked to show a job that has already succeeded: go to its result."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _job_for_page(
    request: Request, session: SessionDep, viewer: Viewer, event_id: str, job_id: str | None
) -> tuple[dict[str, Any] | None, str]:
    """The job box of a page (None without `?job=`). A job that has already succeeded
    raises JobDone: a fast job can end before its page is first shown, and the page would
    then have nothing to poll."""
    if not job_id:
        return None, ""
    job = job_state(_event_job(session, viewer, event_id, job_id), base_url(event_id))
    if job["status"] == "succeeded":
        raise JobDone(job["result_url"])
    return job, _known_phase(_translator(request), job["phase_key"])


# ---------------------------------------------------------------------------- form values


def _time_limit(raw: str, default: float) -> tuple[float, str | None]:
    """Seconds from a form field: (value, None) or (default, the message key of the error)."""
    text = raw.strip()
    if not text:
        return default, None
    try:
        value = float(text)
    except ValueError:
        return default, "schedule.error.time_limit"
    if not math.isfinite(value) or not 1 <= value <= MAX_TIME_LIMIT:
        return default, "schedule.error.time_limit"
    return value, None


def _int_field(raw: str, low: int, high: int) -> int | None:
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


# ---------------------------------------------------------------------------- overview


def _overview(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    v: views.ScheduleView,
    *,
    status: int = 200,
    job_id: str | None = None,
    time_limit: str = "",
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    job, phase = _job_for_page(request, session, viewer, v.row.id, job_id)
    return _page(
        request,
        "schedule_overview.html",
        v,
        "overview",
        status,
        job=job,
        phase=phase,
        figures=views.solve_figures(v),
        unplaced=views.unplaced(v),
        time_limit=time_limit or f"{DEFAULT_TIME_LIMIT:g}",
        max_time_limit=f"{MAX_TIME_LIMIT:g}",
        errors=errors or {},
        participants=[(p.id, v.name(p.id)) for p in v.event.participants],
    )


@router.get("/events/{event_id}/schedule", response_class=HTMLResponse)
def overview(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    job: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    try:
        return _overview(request, session, viewer, _view(session, viewer, event_id), job_id=job)
    except JobDone as done:
        return RedirectResponse(done.url, status_code=303)


@router.post("/events/{event_id}/schedule/run", response_class=HTMLResponse)
def run(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    jobs_: JobsDep,
    time_limit: FormText = "",
) -> Response:
    v = _view(session, viewer, event_id)
    seconds, error = _time_limit(time_limit[:50], DEFAULT_TIME_LIMIT)
    if error:
        return _overview(
            request,
            session,
            viewer,
            v,
            status=400,
            time_limit=time_limit[:50],
            errors={"time_limit": error},
        )
    job_id = events.schedule(session, jobs_, viewer.principal, event_id, seconds)
    return _redirect(base_url(event_id), job=job_id)


# ---------------------------------------------------------------------------- grid and people


@router.get("/events/{event_id}/schedule/grid", response_class=HTMLResponse)
def grid_page(request: Request, event_id: str, viewer: Organizer, session: SessionDep) -> Response:
    v = _view(session, viewer, event_id)
    t = _translator(request)
    return _page(
        request,
        "schedule_grid.html",
        v,
        "grid",
        relative=True,
        grid=views.grid(v) if v.schedule is not None else None,
        figures=views.solve_figures(v),
        # (words of every cell, looked up once: the grid has thousands of cells)
        free_text=t("schedule.grid.free"),
        closed_text=t("schedule.grid.closed"),
        locked_text=t("schedule.locked_badge"),
        edit_text=t("schedule.edit"),
    )


@router.get("/events/{event_id}/schedule/participants/{participant_id:path}")
def participant_page(
    request: Request, event_id: str, participant_id: str, viewer: Organizer, session: SessionDep
) -> Response:
    v = _view(session, viewer, event_id)
    if not v.event.has_participant(participant_id):
        raise ConsoleProblem(404, "error.404")
    p = v.event.participant(participant_id)
    return _page(
        request,
        "schedule_participant.html",
        v,
        "grid",
        pid=participant_id,
        participant=p,
        items=views.agenda(v, participant_id),
        figures=views.figures(v, participant_id),
        unplaced=views.unplaced(v, participant_id),
    )


# ---------------------------------------------------------------------------- one meeting


def _meeting_page(
    request: Request,
    v: views.ScheduleView,
    a: str,
    b: str,
    *,
    status: int = 200,
    refusals: list[str] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    m = v.meeting(a, b)
    if m is None:
        raise ConsoleProblem(404, "error.404")
    return _page(
        request,
        "schedule_meeting.html",
        v,
        "grid",
        status,
        meeting=m,
        locked=v.is_locked(m) or m.pair in v.locked,
        reasons=views.reasons(v.event, m.a, m.b),
        places=moves.free_places(v.event, v.meetings, m),
        refusals=refusals or [],
        errors=errors or {},
        form=form or {"slot": str(m.slot), "table": m.table or "", "lock": "on"},
    )


@router.get("/events/{event_id}/schedule/meeting", response_class=HTMLResponse)
def meeting_page(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    a: Annotated[str, Query(max_length=200)] = "",
    b: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return _meeting_page(request, _view(session, viewer, event_id), a, b)


def _back(event_id: str, a: str, b: str, next_: str, notice: str) -> RedirectResponse:
    """After a lock or unlock: back to the grid, or to the meeting's page."""
    base = base_url(event_id)
    if next_ == "grid":
        return _redirect(f"{base}/grid", notice=notice)
    return _redirect(f"{base}/meeting", a=a, b=b, notice=notice)


@router.post("/events/{event_id}/schedule/lock", response_class=HTMLResponse)
def lock_meeting(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    a: FormText = "",
    b: FormText = "",
    next: FormText = "",
) -> Response:
    try:
        locks.lock(session, viewer.principal, event_id, a[:200], b[:200])
    except ValidationFailed as exc:
        # (the document's validation: a lock that contradicts the event's rules)
        v = _view(session, viewer, event_id)
        reasons = [str(e.get("reason", "")) for e in exc.extra.get("errors", [])]
        text = _translator(request)("schedule.error.lock_invalid", reason="; ".join(reasons))
        return _meeting_page(request, v, a, b, status=409, refusals=[text])
    return _back(event_id, a, b, next, "locked")


@router.post("/events/{event_id}/schedule/unlock", response_class=HTMLResponse)
def unlock_meeting(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    a: FormText = "",
    b: FormText = "",
    next: FormText = "",
) -> Response:
    v = _view(session, viewer, event_id)
    if v.meeting(a, b) is None and frozenset((a, b)) not in v.locked:
        raise ConsoleProblem(404, "error.404")
    locks.unlock(session, viewer.principal, event_id, a[:200], b[:200])
    return _back(event_id, a, b, next, "unlocked")


@router.post("/events/{event_id}/schedule/move", response_class=HTMLResponse)
def move_meeting(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    a: FormText = "",
    b: FormText = "",
    slot: FormText = "",
    table: FormText = "",
    lock: FormText = "",
) -> Response:
    v = _view(session, viewer, event_id)
    a, b = a[:200], b[:200]
    if v.meeting(a, b) is None:
        raise ConsoleProblem(404, "error.404")
    form = {"slot": slot[:20], "table": table[:200], "lock": lock[:5]}
    errors: dict[str, str] = {}
    slot_index = _int_field(slot[:20], 0, v.event.slots - 1)
    if slot_index is None:
        errors["slot"] = "schedule.error.slot"
    if table not in {t.id for t in v.event.tables}:
        errors["table"] = "schedule.error.table"
    if errors or slot_index is None:
        return _meeting_page(request, v, a, b, status=400, errors=errors, form=form)
    try:
        moves.move(session, viewer.principal, event_id, a, b, slot_index, table, lock=bool(lock))
    except moves.MoveRefused as exc:
        labels = Labels(v, _translator(request), base_url(event_id))
        return _meeting_page(
            request,
            v,
            a,
            b,
            status=409,
            refusals=[labels.refusal(r) for r in exc.refusals],
            form=form,
        )
    return _redirect(f"{base_url(event_id)}/meeting", a=a, b=b, notice="moved")


# ---------------------------------------------------------------------------- re-plan


def _replan_page(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    v: views.ScheduleView,
    *,
    status: int = 200,
    job_id: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> HTMLResponse:
    job, phase = _job_for_page(request, session, viewer, v.row.id, job_id)
    # Meetings per participant, so the organizer sees whom a no-show affects.
    count: dict[str, int] = {}
    for m in v.meetings:
        count[m.a] = count.get(m.a, 0) + 1
        count[m.b] = count.get(m.b, 0) + 1
    return _page(
        request,
        "schedule_replan.html",
        v,
        "replan",
        status,
        job=job,
        phase=phase,
        count=count,
        form=form
        or {
            "no_show": set(),
            "late": {},
            "time_limit": f"{DEFAULT_TIME_LIMIT:g}",
            "announced": True,
        },
        errors=errors or {},
        problems=problems or [],
        max_time_limit=f"{MAX_TIME_LIMIT:g}",
        on_time_text=_translator(request)("schedule.replan.on_time"),
        no_show_text=_translator(request)("schedule.replan.no_show_label"),
    )


@router.get("/events/{event_id}/schedule/replan", response_class=HTMLResponse)
def replan_page(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    job: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    try:
        return _replan_page(request, session, viewer, _view(session, viewer, event_id), job_id=job)
    except JobDone as done:
        return RedirectResponse(done.url, status_code=303)


def replan_changes(
    v: views.ScheduleView, no_show: list[str], late: list[str], t: Translator
) -> tuple[dict[str, Any], set[str], dict[str, int], list[str]]:
    """The API's `changes` from the form: (changes, no-shows, late → first slot, the
    problems found, in the page's language). `late` values are "SLOT|PID" ("" = on time)."""
    problems: list[str] = []
    gone: set[str] = set()
    for pid in no_show:
        if not v.event.has_participant(pid):
            problems.append(t("schedule.error.unknown_participant"))
            continue
        gone.add(pid)
    arrives: dict[str, int] = {}
    for value in late:
        if not value:
            continue
        slot_text, _, pid = value.partition("|")
        first = _int_field(slot_text, 0, v.event.slots - 1)
        if first is None or not v.event.has_participant(pid):
            problems.append(t("schedule.error.late_value"))
            continue
        arrives[pid] = first
    availability: dict[str, list[int]] = {}
    for pid, first in sorted(arrives.items()):
        name = v.name(pid)
        if pid in gone:
            problems.append(t("schedule.error.late_and_no_show", name=name))
            continue
        p = v.event.participant(pid)
        slots = [s for s in range(first, v.event.slots) if p.is_available(s)]
        if not slots:
            problems.append(t("schedule.error.late_unavailable", name=name))
            continue
        availability[pid] = slots
    changes: dict[str, Any] = {}
    if gone:
        changes["no_shows"] = sorted(gone)
    if availability:
        changes["availability"] = availability
    return changes, gone, arrives, problems


@router.post("/events/{event_id}/schedule/replan", response_class=HTMLResponse)
def replan_submit(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    jobs_: JobsDep,
    no_show: FormList = [],  # noqa: B006 (FastAPI copies defaults)
    late: FormList = [],  # noqa: B006
    time_limit: FormText = "",
    announced: FormText = "",
) -> Response:
    v = _view(session, viewer, event_id)
    if v.schedule is None:
        raise ConsoleProblem(409, "error.409")
    t = _translator(request)
    seconds, time_error = _time_limit(time_limit[:50], DEFAULT_TIME_LIMIT)
    changes, gone, arrives, problems = replan_changes(v, no_show[:10_000], late[:10_000], t)
    errors: dict[str, str] = {}
    if time_error:
        errors["time_limit"] = time_error
    if not changes and not problems and not stale_of(v.event, v.schedule):
        # (a stale schedule is re-planned as it is: the changes are in the event already)
        problems.append(t("schedule.error.no_changes"))
    if errors or problems:
        form = {
            "no_show": gone,
            "late": arrives,
            "time_limit": time_limit[:50],
            "announced": bool(announced),
        }
        return _replan_page(
            request, session, viewer, v, status=400, form=form, errors=errors, problems=problems
        )
    body = {"changes": changes, "announced": bool(announced)}
    job_id = events.replan(session, jobs_, viewer.principal, event_id, body, seconds)
    return _redirect(f"{base_url(event_id)}/replan", job=job_id)


@router.get("/events/{event_id}/schedule/changes", response_class=HTMLResponse)
def changes_page(
    request: Request, event_id: str, viewer: Organizer, session: SessionDep
) -> Response:
    v = _view(session, viewer, event_id)
    report = (v.schedule or {}).get("changes")
    return _page(
        request,
        "schedule_changes.html",
        v,
        "replan",
        report=report if isinstance(report, Mapping) else None,
        other_text=_translator(request)("schedule.dropped.other"),
        notes=[str(n) for n in (v.schedule or {}).get("notes", []) if "released" in str(n)],
    )


# ---------------------------------------------------------------------------- re-time


def _retime_page(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    v: views.ScheduleView,
    *,
    status: int = 200,
    job_id: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    job, phase = _job_for_page(request, session, viewer, v.row.id, job_id)
    last = (v.schedule or {}).get("retime")
    return _page(
        request,
        "schedule_retime.html",
        v,
        "retime",
        status,
        job=job,
        phase=phase,
        breaks_now=events.total_breaks(v.meetings),
        last=last if isinstance(last, Mapping) else None,
        form=form
        or {"fairness": "2", "morning_slots": "0", "time_limit": f"{DEFAULT_RETIME_LIMIT:g}"},
        errors=errors or {},
        max_time_limit=f"{MAX_TIME_LIMIT:g}",
    )


@router.get("/events/{event_id}/schedule/retime", response_class=HTMLResponse)
def retime_page(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    job: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    try:
        return _retime_page(request, session, viewer, _view(session, viewer, event_id), job_id=job)
    except JobDone as done:
        return RedirectResponse(done.url, status_code=303)


@router.post("/events/{event_id}/schedule/retime", response_class=HTMLResponse)
def retime_submit(
    request: Request,
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    jobs_: JobsDep,
    fairness: FormText = "2",
    morning_slots: FormText = "0",
    time_limit: FormText = "",
) -> Response:
    v = _view(session, viewer, event_id)
    if v.schedule is None:
        raise ConsoleProblem(409, "error.409")
    form = {
        "fairness": fairness[:20],
        "morning_slots": morning_slots[:20],
        "time_limit": time_limit[:50],
    }
    errors: dict[str, str] = {}
    fair = _int_field(form["fairness"], -1, MAX_FAIRNESS)
    if fair is None:
        errors["fairness"] = "schedule.error.fairness"
    morning = _int_field(form["morning_slots"], 0, v.event.slots)
    if morning is None:
        errors["morning_slots"] = "schedule.error.morning_slots"
    seconds, time_error = _time_limit(form["time_limit"], DEFAULT_RETIME_LIMIT)
    if time_error:
        errors["time_limit"] = time_error
    if errors or fair is None or morning is None:
        return _retime_page(request, session, viewer, v, status=400, form=form, errors=errors)
    try:
        job_id = events.retime(
            session,
            jobs_,
            viewer.principal,
            event_id,
            fairness=fair,
            morning_slots=morning,
            time_limit=seconds,
        )
    except StaleSchedule as exc:
        raise _refused_while_stale(exc) from exc
    return _redirect(f"{base_url(event_id)}/retime", job=job_id)


# ---------------------------------------------------------------------------- exports


def _download(body: bytes, media_type: str, filename: str, fallback: str) -> Response:
    """An attachment; the name in UTF-8 (RFC 6266) with an ASCII fallback."""
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def _file_stem(text: str) -> str:
    stem = re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-.")
    return stem[:60] or "event"


def _ascii_stem(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return stem[:60] or "event"


@router.get("/events/{event_id}/schedule/export/schedule.csv")
def export_csv(event_id: str, viewer: Organizer, session: SessionDep) -> Response:
    row = events.get(session, viewer.principal, event_id)
    try:
        body = events.schedule_csv(session, viewer.principal, event_id)  # the API's export
    except StaleSchedule as exc:
        raise _refused_while_stale(exc) from exc
    stem = _file_stem(row.name)
    return _download(body, "text/csv; charset=utf-8", f"{stem}-schedule.csv", "schedule.csv")


@router.get("/events/{event_id}/schedule/export/calendar")
def export_calendar(
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    participant: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    try:
        body = events.participant_calendar(session, viewer.principal, event_id, participant)
    except StaleSchedule as exc:
        raise _refused_while_stale(exc) from exc
    return _download(
        body.encode("utf-8"),
        "text/calendar; charset=utf-8",
        f"{_file_stem(participant)}.ics",
        f"{_ascii_stem(participant)}.ics",
    )


# The agendas carry their own inline <style> (service.io.exports): opened in the browser
# for printing, their page may use it, and nothing else.
AGENDA_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@router.get("/events/{event_id}/schedule/export/agendas.html")
def export_agendas(
    event_id: str,
    viewer: Organizer,
    session: SessionDep,
    by: Literal["participant", "table"] = "participant",
    participant: Annotated[str | None, Query(max_length=200)] = None,
    view: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    row = events.get(session, viewer.principal, event_id)
    try:
        page = events.agendas(
            session, viewer.principal, event_id, by=by, participant=participant, table=None
        )
    except StaleSchedule as exc:
        raise _refused_while_stale(exc) from exc
    headers = {"Content-Security-Policy": AGENDA_POLICY}
    if view != "print":
        stem = _file_stem(participant or row.name)
        response = _download(
            page.encode("utf-8"),
            "text/html; charset=utf-8",
            f"{stem}-agendas.html",
            "agendas.html",
        )
        response.headers.update(headers)
        return response
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)
