"""Programme rows (a cluster's programme in one fiscal year, with its targets): all the SQL
of service.reports' programmes. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store.tables import ProgramRow


def get(session: Session, pk: int) -> ProgramRow | None:
    return session.get(ProgramRow, pk)


def by_name_year(session: Session, name: str, fiscal_year: int) -> ProgramRow | None:
    return session.scalar(
        select(ProgramRow).where(ProgramRow.name == name, ProgramRow.fiscal_year == fiscal_year)
    )


def add(session: Session, row: ProgramRow) -> ProgramRow:
    session.add(row)
    session.flush()
    return row


def remove(session: Session, row: ProgramRow) -> None:
    session.delete(row)
    session.flush()


def count_of(session: Session, office: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ProgramRow).where(ProgramRow.office == office)
        )
        or 0
    )


def listing(
    session: Session,
    office: str | None = None,
    fiscal_year: int | None = None,
    limit: int = 1_000,
) -> Sequence[ProgramRow]:
    """Programmes by fiscal year (newest first), then name: those of one office or all
    (`office` None), of one fiscal year or all."""
    stmt = select(ProgramRow).order_by(ProgramRow.fiscal_year.desc(), ProgramRow.name)
    if office is not None:
        stmt = stmt.where(ProgramRow.office == office)
    if fiscal_year is not None:
        stmt = stmt.where(ProgramRow.fiscal_year == fiscal_year)
    return session.scalars(stmt.limit(limit)).all()
