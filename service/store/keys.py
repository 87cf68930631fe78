"""API key rows (only the keys' digests are stored)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import ApiKeyRow


def add(
    session: Session,
    *,
    prefix: str,
    key_hash: str,
    role: str,
    name: str,
    profile_id: str | None,
    office: str,
) -> ApiKeyRow:
    row = ApiKeyRow(
        prefix=prefix,
        key_hash=key_hash,
        role=role,
        name=name,
        profile_id=profile_id,
        office=office,
    )
    session.add(row)
    session.flush()
    return row


def active_with_prefix(session: Session, prefix: str) -> Sequence[ApiKeyRow]:
    """The keys not revoked that carry `prefix` (unique, so at most one)."""
    stmt = select(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None), ApiKeyRow.prefix == prefix)
    return session.scalars(stmt).all()


def get(session: Session, pk: int) -> ApiKeyRow | None:
    return session.get(ApiKeyRow, pk)


def all_keys(session: Session) -> Sequence[ApiKeyRow]:
    return session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.pk)).all()
