"""The programme report pages (organizers and admins): a fiscal year's figures against
its targets and the year before, by programme, event, period, pair of kinds or of
countries, with Chart.js charts and the API's downloads; and the programmes' targets.

- GET  /console/reports                          the report (query: fiscal_year, program, by)
- GET  /console/reports/export.csv | export.xlsx the report's table
- GET  /console/reports/chart.png | chart.svg    its charts (query: chart=targets|groups)
- GET  /console/reports/programs                 programmes and a form for a new one; POST
- GET  /console/reports/programs/{id}            a programme's form; POST: save
- POST /console/reports/programs/{id}/delete
- GET  /console/reports/mine                     a member firm's own figures, by event

Every figure and rule is service.reports' (the API's): an organizer's report counts the
events it organizes, its programmes are its own. One organization's figures are not
shown here (they are for admins and that organization: GET /v1/reports/organizations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.outcomes import STAGES
from models.reports import GROUP_BYS, TARGET_KEYS, GroupBy, Report, Row, table_rows
from models.reports import TABLE_HEADER as REPORT_HEADER
from service.console import i18n, pages
from service.console.deps import Viewer, require_role
from service.console.errors import ConsoleProblem
from service.console.pages import ConsoleRoute, render
from service.deps import SessionDep
from service.errors import Conflict, NotFound, ValidationFailed
from service.io import spreadsheets
from service.reports import charts
from service.reports import service as reports

router = APIRouter(prefix="/reports", route_class=ConsoleRoute)

Staff = Annotated[Viewer, require_role("admin", "organizer")]
FormText = Annotated[str, Form()]
CHART_JS = "chart-4.6.1.umd.min.js"

pages.NAV.append(pages.NavItem("nav.organizer.reports", "/console/reports", ("admin", "organizer")))
pages.NAV.append(pages.NavItem("member.nav.results", "/console/reports/mine", ("member",)))
Member = Annotated[Viewer, require_role("member")]
"""A member firm's user: its own figures only."""

PAGE_GROUPS: tuple[str, ...] = tuple(b for b in GROUP_BYS if b != "total")


@dataclass
class Filter:
    fiscal_year: int
    program: str = ""
    by: GroupBy = "program"
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, **extra: str) -> str:
        items = {"fiscal_year": str(self.fiscal_year), "by": self.by, **extra}
        if self.program:
            items["program"] = self.program
        return urlencode(items)


def parse_filter(params: Mapping[str, str]) -> Filter:
    """The report's conditions from the query; a bad value is named and its default
    used, so the page still shows."""
    out = Filter(fiscal_year=reports.current_fiscal_year())
    raw = params.get("fiscal_year", "").strip()
    if raw:
        if raw.isdigit() and len(raw) == 4 and reports.MIN_YEAR <= int(raw) <= reports.MAX_YEAR:
            out.fiscal_year = int(raw)
        else:
            out.errors["fiscal_year"] = "reports.error.fiscal_year"
    by = params.get("by", "program")
    if by in PAGE_GROUPS:
        out.by = cast(GroupBy, by)
    else:
        out.errors["by"] = "reports.error.by"
    program = params.get("program", "").strip()
    if len(program) > reports.MAX_NAME:
        out.errors["program"] = "reports.error.program"
    else:
        out.program = program
    return out


def _report(session: SessionDep, viewer: Viewer, f: Filter) -> Report:
    return reports.program_report(session, viewer.principal, f.fiscal_year, f.by, f.program or None)


def _label(t: Callable[..., str], by: str, row: Row) -> str:
    """A group's name in the page's language (kinds by their names; a blank programme)."""
    if row.key == "total":
        return t("reports.total")
    if by == "kind_pair":
        return "–".join(
            t(f"kind.{k}") if f"kind.{k}" in i18n.CATALOGS["en"] else k for k in row.key.split("–")
        )
    if by == "program" and not row.key:
        return t("reports.program.none")
    if by == "fiscal_year":
        return t("reports.fy", year=row.key, next=int(row.key) + 1)
    return row.label


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def chart_data(t: Callable[..., str], rep: Report) -> dict[str, Any]:
    """What static/reports.js draws: the targets chart and the breakdown chart."""
    total = rep.total
    return {
        "targets": {
            "labels": [t(f"reports.t.{k}") for k in TARGET_KEYS],
            "series": [
                {
                    "label": t("reports.before"),
                    "data": [total.before.target_value(k) if total.before else 0
                             for k in TARGET_KEYS],
                },
                {"label": t("reports.actual"),
                 "data": [total.figures.target_value(k) for k in TARGET_KEYS]},
                {
                    "label": t("reports.target"),
                    "data": [total.targets.get(k) if total.targets else None for k in TARGET_KEYS],
                },
            ],
        },
        "groups": {
            "labels": [_label(t, rep.by, r) for r in rep.rows],
            "series": [
                {"label": t("reports.held"), "data": [r.figures.held for r in rep.rows]},
                {"label": t("reports.follow_ups"),
                 "data": [r.figures.follow_ups for r in rep.rows]},
                {"label": t("reports.contracts"), "data": [r.figures.contracts for r in rep.rows]},
            ],
        },
    }  # fmt: skip


@router.get("", response_class=HTMLResponse)
def report_page(request: Request, viewer: Staff, session: SessionDep) -> Response:
    f = parse_filter(request.query_params)
    rep = _report(session, viewer, f)
    t = i18n.translator(i18n.negotiate(request))
    years = sorted({*range(f.fiscal_year - 3, f.fiscal_year + 2), reports.current_fiscal_year()})
    names = reports.program_names(session, viewer.principal, f.fiscal_year)
    if f.program and f.program not in names:
        names.append(f.program)
    return render(
        request,
        "reports.html",
        400 if f.errors else 200,
        f=f,
        rep=rep,
        years=years,
        programs=names,
        groups=PAGE_GROUPS,
        target_keys=TARGET_KEYS,
        stages=STAGES,
        label=lambda row: _label(t, rep.by, row),
        pct=pct,
        chart_data=chart_data(t, rep),
        chart_js=CHART_JS,
    )


def _download(data: bytes, media: str, name: str, fallback: str) -> Response:
    disposition = spreadsheets.content_disposition(name, fallback)
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})


def _checked(request: Request) -> Filter:
    f = parse_filter(request.query_params)
    if f.errors:
        raise ConsoleProblem(400, "error.400")
    return f


def _file_name(rep: Report) -> str:
    return f"{rep.program or 'report'} FY{rep.fiscal_year} {rep.by}"


@router.get("/export.csv")
def export_csv(request: Request, viewer: Staff, session: SessionDep) -> Response:
    rep = _report(session, viewer, _checked(request))
    data = spreadsheets.csv_bytes(REPORT_HEADER, table_rows(rep))
    fallback = f"report-FY{rep.fiscal_year}-{rep.by}.csv"
    return _download(data, spreadsheets.CSV_MEDIA_TYPE, _file_name(rep), fallback)


@router.get("/export.xlsx")
def export_xlsx(request: Request, viewer: Staff, session: SessionDep) -> Response:
    rep = _report(session, viewer, _checked(request))
    data = spreadsheets.xlsx_bytes(REPORT_HEADER, table_rows(rep), title=_file_name(rep))
    fallback = f"report-FY{rep.fiscal_year}-{rep.by}.xlsx"
    return _download(data, spreadsheets.XLSX_MEDIA_TYPE, _file_name(rep), fallback)


def _chart(request: Request, viewer: Viewer, session: SessionDep, fmt: str) -> Response:
    rep = _report(session, viewer, _checked(request))
    kind = request.query_params.get("chart", "targets")
    if kind not in charts.CHART_KINDS:
        raise ConsoleProblem(400, "error.400")
    lang = i18n.negotiate(request)
    data = charts.chart(
        rep,
        cast(charts.ChartKind, kind),
        cast(charts.ChartFormat, fmt),
        lang,
    )
    fallback = f"report-FY{rep.fiscal_year}-{kind}.{fmt}"
    return _download(data, charts.MEDIA_TYPES[fmt], f"{_file_name(rep)} {kind}", fallback)


@router.get("/chart.png")
def chart_png(request: Request, viewer: Staff, session: SessionDep) -> Response:
    return _chart(request, viewer, session, "png")


@router.get("/chart.svg")
def chart_svg(request: Request, viewer: Staff, session: SessionDep) -> Response:
    return _chart(request, viewer, session, "svg")


# ---------------------------------------------------------------------------- a member's own


@router.get("/mine", response_class=HTMLResponse)
def own_page(request: Request, viewer: Member, session: SessionDep) -> Response:
    """A member firm's own figures, event by event (built from its own records: the
    other side's view of a meeting is not shown; service.reports)."""
    f = parse_filter({**request.query_params, "by": "event"})
    assert viewer.profile_id is not None  # a member is bound to its profile
    rep = reports.organization_report(
        session, viewer.principal, viewer.profile_id, f.fiscal_year, "event"
    )
    years = sorted({*range(f.fiscal_year - 3, f.fiscal_year + 2), reports.current_fiscal_year()})
    return render(
        request,
        "reports_mine.html",
        400 if f.errors else 200,
        f=f,
        rep=rep,
        years=years,
        stages=STAGES,
        pct=pct,
    )


# ---------------------------------------------------------------------------- programmes


@dataclass
class ProgramForm:
    name: str = ""
    fiscal_year: str = ""
    targets: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TARGET_KEYS, ""))


def _form_of(values: Mapping[str, str]) -> ProgramForm:
    return ProgramForm(
        name=values.get("name", "")[: reports.MAX_NAME + 1],
        fiscal_year=values.get("fiscal_year", "")[:8],
        targets={k: values.get(k, "")[:12] for k in TARGET_KEYS},
    )


def _parse_program(form: ProgramForm) -> tuple[str, int, dict[str, int], dict[str, str]]:
    """The form's values, and its errors (field -> message key)."""
    errors: dict[str, str] = {}
    name = form.name.strip()
    if not name or len(name) > reports.MAX_NAME:
        errors["name"] = "reports.programs.error.name"
    year_text = form.fiscal_year.strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else 0
    if not reports.MIN_YEAR <= year <= reports.MAX_YEAR:
        errors["fiscal_year"] = "reports.programs.error.fiscal_year"
    targets: dict[str, int] = {}
    for key in TARGET_KEYS:
        text = form.targets.get(key, "").strip().replace(",", "")
        if not text:
            continue
        if not text.isdigit() or int(text) > reports.MAX_TARGET:
            errors[key] = "reports.programs.error.target"
        else:
            targets[key] = int(text)
    return name, year, targets, errors


def _programs_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    status: int = 200,
    form: ProgramForm | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    return render(
        request,
        "reports_programs.html",
        status,
        programs=reports.list_programs(session, viewer.principal),
        form=form or ProgramForm(fiscal_year=str(reports.current_fiscal_year())),
        errors=errors or {},
        target_keys=TARGET_KEYS,
        notice=notice,
    )


def _service_errors(exc: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(exc, Conflict):
        return {"name": "reports.programs.error.taken"}
    fields = {e.get("field") for e in exc.extra.get("errors", [])}
    return {
        "fiscal_year" if "fiscal_year" in fields else "name": (
            "reports.programs.error.fiscal_year"
            if "fiscal_year" in fields
            else "reports.programs.error.name"
        )
    }


@router.get("/programs", response_class=HTMLResponse)
def programs_page(request: Request, viewer: Staff, session: SessionDep, done: str = "") -> Response:
    notice = {"saved": "reports.programs.saved", "deleted": "reports.programs.deleted"}.get(
        done, ""
    )
    return _programs_page(request, viewer, session, notice=notice)


@router.post("/programs", response_class=HTMLResponse)
def create_program(
    request: Request,
    viewer: Staff,
    session: SessionDep,
    name: FormText = "",
    fiscal_year: FormText = "",
    meetings_held: FormText = "",
    follow_ups: FormText = "",
    contracts: FormText = "",
    new_businesses: FormText = "",
) -> Response:
    form = _form_of(
        {"name": name, "fiscal_year": fiscal_year, "meetings_held": meetings_held,
         "follow_ups": follow_ups, "contracts": contracts, "new_businesses": new_businesses}
    )  # fmt: skip
    clean, year, targets, errors = _parse_program(form)
    if not errors:
        try:
            reports.create_program(session, viewer.principal, clean, year, targets)
        except (ValidationFailed, Conflict) as exc:
            errors = _service_errors(exc)
    if errors:
        return _programs_page(request, viewer, session, status=400, form=form, errors=errors)
    return RedirectResponse("/console/reports/programs?done=saved", status_code=303)


def _pk(program_id: str) -> int:
    if not program_id.isdigit() or len(program_id) > 12:
        raise NotFound(f"no program with id {program_id[:12]}")
    return int(program_id)


def _edit_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    pk: int,
    *,
    status: int = 200,
    form: ProgramForm | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    row = reports.get_program(session, viewer.principal, pk)
    if form is None:
        form = ProgramForm(
            name=row.name,
            fiscal_year=str(row.fiscal_year),
            targets={k: str(row.targets.get(k, "")) for k in TARGET_KEYS},
        )
    return render(
        request,
        "reports_program.html",
        status,
        program=row,
        form=form,
        errors=errors or {},
        target_keys=TARGET_KEYS,
        report_query=urlencode({"fiscal_year": row.fiscal_year, "program": row.name}),
    )


@router.get("/programs/{program_id}", response_class=HTMLResponse)
def program_page(request: Request, program_id: str, viewer: Staff, session: SessionDep) -> Response:
    return _edit_page(request, viewer, session, _pk(program_id))


@router.post("/programs/{program_id}", response_class=HTMLResponse)
def save_program(
    request: Request,
    program_id: str,
    viewer: Staff,
    session: SessionDep,
    name: FormText = "",
    fiscal_year: FormText = "",
    meetings_held: FormText = "",
    follow_ups: FormText = "",
    contracts: FormText = "",
    new_businesses: FormText = "",
) -> Response:
    pk = _pk(program_id)
    form = _form_of(
        {"name": name, "fiscal_year": fiscal_year, "meetings_held": meetings_held,
         "follow_ups": follow_ups, "contracts": contracts, "new_businesses": new_businesses}
    )  # fmt: skip
    clean, year, targets, errors = _parse_program(form)
    if not errors:
        try:
            reports.update_program(session, viewer.principal, pk, clean, year, targets)
        except (ValidationFailed, Conflict) as exc:
            errors = _service_errors(exc)
    if errors:
        return _edit_page(request, viewer, session, pk, status=400, form=form, errors=errors)
    return RedirectResponse("/console/reports/programs?done=saved", status_code=303)


@router.post("/programs/{program_id}/delete")
def delete_program(program_id: str, viewer: Staff, session: SessionDep) -> Response:
    reports.delete_program(session, viewer.principal, _pk(program_id))
    return RedirectResponse("/console/reports/programs?done=deleted", status_code=303)
