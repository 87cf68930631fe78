"""Programmes (targets per cluster and fiscal year) and programme reports over HTTP: JSON,
XLSX, Excel-safe CSV and PNG / SVG charts. Who sees what: service.reports.service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from models.reports import TABLE_HEADER, GroupBy, Report, table_rows
from service.deps import CallerDep, RowId, SessionDep
from service.errors import problems
from service.io import spreadsheets
from service.io.media import CSV, XLSX, file_responses
from service.reports import charts, service
from service.reports.schemas import ProgramBody, program_out

programs = APIRouter(prefix="/v1/programs", tags=["reports"])
reports = APIRouter(prefix="/v1/reports", tags=["reports"])

Year = Annotated[
    int | None,
    Query(
        ge=service.MIN_YEAR,
        le=service.MAX_YEAR,
        description="Fiscal year (April–March), "
        "named by its first year; default: the current one in Japan",
    ),
]
By = Annotated[GroupBy, Query(description="How to group the figures")]
ProgramName = Annotated[str | None, Query(min_length=1, max_length=service.MAX_NAME)]
EventId = Annotated[str | None, Query(min_length=1, max_length=service.MAX_EVENT_ID)]


@programs.get("", summary="Programmes of this key's office (all for admins)")
def list_programs(
    caller: CallerDep, session: SessionDep, fiscal_year: Year = None
) -> dict[str, Any]:
    return {"items": [program_out(r) for r in service.list_programs(session, caller, fiscal_year)]}


@programs.post(
    "",
    status_code=201,
    summary="A programme year and its targets",
    responses=problems(409),
)
def create_program(body: ProgramBody, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    row = service.create_program(
        session, caller, body.name, body.fiscal_year, body.targets.stored()
    )
    return program_out(row)


@programs.get("/{program_id}", summary="A programme and its targets")
def get_program(program_id: RowId, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return program_out(service.get_program(session, caller, program_id))


@programs.put(
    "/{program_id}",
    summary="Change a programme's name, year or targets",
    responses=problems(409),
)
def update_program(
    program_id: RowId, body: ProgramBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    row = service.update_program(
        session, caller, program_id, body.name, body.fiscal_year, body.targets.stored()
    )
    return program_out(row)


@programs.delete("/{program_id}", status_code=204, summary="Delete a programme")
def delete_program(program_id: RowId, caller: CallerDep, session: SessionDep) -> Response:
    service.delete_program(session, caller, program_id)
    return Response(status_code=204)


def _report(
    session: SessionDep,
    caller: CallerDep,
    fiscal_year: int | None,
    by: GroupBy,
    program: str | None,
    event: str | None,
) -> Report:
    year = fiscal_year if fiscal_year is not None else service.current_fiscal_year()
    return service.program_report(session, caller, year, by, program, event)


def _table(rep: Report, fmt: Literal["csv", "xlsx"], name: str) -> Response:
    rows = table_rows(rep)
    if fmt == "xlsx":
        data = spreadsheets.xlsx_bytes(TABLE_HEADER, rows, title=name)
        media = spreadsheets.XLSX_MEDIA_TYPE
    else:
        data = spreadsheets.csv_bytes(TABLE_HEADER, rows)
        media = spreadsheets.CSV_MEDIA_TYPE
    fallback = f"report-FY{rep.fiscal_year}-{rep.by}.{fmt}"
    disposition = spreadsheets.content_disposition(name, fallback)
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})


def _name(rep: Report) -> str:
    return f"{rep.program or 'report'} FY{rep.fiscal_year} {rep.by}"


@reports.get("", summary="Programme report: figures per group, against targets and a year before")
def get_report(
    caller: CallerDep,
    session: SessionDep,
    fiscal_year: Year = None,
    by: By = "program",
    program: ProgramName = None,
    event: EventId = None,
) -> dict[str, Any]:
    return _report(session, caller, fiscal_year, by, program, event).to_dict()


@reports.get(
    "/export",
    summary="The programme report for Excel: CSV (BOM) or XLSX",
    responses=file_responses(CSV, XLSX),
)
def export_report(
    caller: CallerDep,
    session: SessionDep,
    fiscal_year: Year = None,
    by: By = "program",
    program: ProgramName = None,
    event: EventId = None,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    rep = _report(session, caller, fiscal_year, by, program, event)
    return _table(rep, format, _name(rep))


@reports.get(
    "/chart",
    summary="A chart of the programme report: PNG or SVG",
    responses=file_responses(*charts.MEDIA_TYPES.values()),
)
def chart_report(
    caller: CallerDep,
    session: SessionDep,
    fiscal_year: Year = None,
    by: By = "program",
    program: ProgramName = None,
    event: EventId = None,
    chart: charts.ChartKind = "targets",
    format: charts.ChartFormat = "png",
    lang: charts.ChartLang = "ja",
) -> Response:
    rep = _report(session, caller, fiscal_year, by, program, event)
    data = charts.chart(rep, chart, format, lang)
    disposition = f'attachment; filename="report-FY{rep.fiscal_year}-{chart}.{format}"'
    return Response(
        data, media_type=charts.MEDIA_TYPES[format], headers={"Content-Disposition": disposition}
    )


OrgBy = Annotated[
    GroupBy,
    Query(description="total, event, fiscal_year, quarter, month, kind_pair or country_pair"),
]


def _org_report(
    session: SessionDep, caller: CallerDep, profile_id: str, fiscal_year: int | None, by: GroupBy
) -> Report:
    year = fiscal_year if fiscal_year is not None else service.current_fiscal_year()
    return service.organization_report(session, caller, profile_id, year, by)


@reports.get(
    "/organizations/{profile_id}",
    summary="One organization's own figures (admins and that organization only)",
)
def organization_report(
    profile_id: str,
    caller: CallerDep,
    session: SessionDep,
    fiscal_year: Year = None,
    by: OrgBy = "event",
) -> dict[str, Any]:
    return _org_report(session, caller, profile_id, fiscal_year, by).to_dict()


@reports.get(
    "/organizations/{profile_id}/export",
    summary="One organization's own figures for Excel: CSV (BOM) or XLSX",
    responses=file_responses(CSV, XLSX),
)
def organization_export(
    profile_id: str,
    caller: CallerDep,
    session: SessionDep,
    fiscal_year: Year = None,
    by: OrgBy = "event",
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    rep = _org_report(session, caller, profile_id, fiscal_year, by)
    return _table(rep, format, f"{profile_id} FY{rep.fiscal_year} {rep.by}")
