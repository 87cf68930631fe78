"""Repository of the console's accounts: users, password-set tokens, sessions, failed
sign-ins and app secrets. All their SQL is here; callers own the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.store.db import SessionFactory, transaction
from service.store.tables import (
    AppSecretRow,
    ConsoleSessionRow,
    PasswordTokenRow,
    ProfileRow,
    SignInFailureRow,
    UserRow,
    utcnow,
)

# ---------------------------------------------------------------------------- users


def user_by_email(session: Session, email: str) -> UserRow | None:
    """`email` as stored: lower-cased (service.accounts.normalize_email)."""
    return session.scalar(select(UserRow).where(UserRow.email == email))


def user_by_pk(session: Session, pk: int) -> UserRow | None:
    return session.get(UserRow, pk)


def all_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.email)))


def add_user(session: Session, user: UserRow) -> UserRow:
    session.add(user)
    session.flush()
    return user


def profile_exists(session: Session, profile_id: str) -> bool:
    return session.scalar(select(ProfileRow.pk).where(ProfileRow.id == profile_id)) is not None


# ---------------------------------------------------------------------------- tokens


def add_token(
    session: Session, user_pk: int, token_hash: str, now: dt.datetime, expires_at: dt.datetime
) -> None:
    session.add(
        PasswordTokenRow(
            user_pk=user_pk, token_hash=token_hash, created_at=now, expires_at=expires_at
        )
    )
    session.flush()


def drop_unused_tokens(session: Session, user_pk: int) -> None:
    session.execute(
        delete(PasswordTokenRow).where(
            PasswordTokenRow.user_pk == user_pk, PasswordTokenRow.used_at.is_(None)
        )
    )


def token_by_hash(session: Session, token_hash: str) -> PasswordTokenRow | None:
    return session.scalar(select(PasswordTokenRow).where(PasswordTokenRow.token_hash == token_hash))


def use_token(session: Session, pk: int, now: dt.datetime) -> bool:
    """Mark a token used; False if another request used it first (the update is
    conditional, so two requests racing with one link cannot both succeed)."""
    result = session.execute(
        update(PasswordTokenRow)
        .where(PasswordTokenRow.pk == pk, PasswordTokenRow.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- sessions


def add_session(session: Session, row: ConsoleSessionRow) -> ConsoleSessionRow:
    session.add(row)
    session.flush()
    return row


def session_with_user(session: Session, id_hash: str) -> tuple[ConsoleSessionRow, UserRow] | None:
    found = session.execute(
        select(ConsoleSessionRow, UserRow)
        .join(UserRow, UserRow.pk == ConsoleSessionRow.user_pk)
        .where(ConsoleSessionRow.id_hash == id_hash)
    ).first()
    return (found[0], found[1]) if found else None


def touch_session(session: Session, pk: int, now: dt.datetime) -> None:
    session.execute(
        update(ConsoleSessionRow).where(ConsoleSessionRow.pk == pk).values(last_seen_at=now)
    )


def delete_session(session: Session, id_hash: str) -> int:
    result = session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.id_hash == id_hash))
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_user_sessions(session: Session, user_pk: int) -> int:
    result = session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.user_pk == user_pk))
    return int(result.rowcount)  # type: ignore[attr-defined]


def count_user_sessions(session: Session, user_pk: int) -> int:
    return int(
        session.scalar(select(func.count()).where(ConsoleSessionRow.user_pk == user_pk)) or 0
    )


def prune_sessions(session: Session, now: dt.datetime, idle_cutoff: dt.datetime) -> None:
    """Delete sessions past their absolute or idle end."""
    session.execute(
        delete(ConsoleSessionRow).where(
            (ConsoleSessionRow.expires_at <= now) | (ConsoleSessionRow.last_seen_at <= idle_cutoff)
        )
    )


# ---------------------------------------------------------------------------- sign-in failures


def failures_since(
    session: Session, scope: str, subject: str, since: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """How many failures of (scope, subject) after `since`, and the oldest of them."""
    count, oldest = session.execute(
        select(func.count(), func.min(SignInFailureRow.at)).where(
            SignInFailureRow.scope == scope,
            SignInFailureRow.subject == subject,
            SignInFailureRow.at > since,
        )
    ).one()
    return int(count), oldest


def add_failure(session: Session, scope: str, subject: str, at: dt.datetime) -> None:
    session.add(SignInFailureRow(scope=scope, subject=subject, at=at))


def clear_failures(session: Session, scope: str, subject: str) -> None:
    session.execute(
        delete(SignInFailureRow).where(
            SignInFailureRow.scope == scope, SignInFailureRow.subject == subject
        )
    )


def prune_failures(session: Session, before: dt.datetime, scopes: tuple[str, ...] = ()) -> None:
    """Delete failures up to `before` (of these `scopes` only, when given: each kind of
    failure has its own window)."""
    stmt = delete(SignInFailureRow).where(SignInFailureRow.at <= before)
    if scopes:
        stmt = stmt.where(SignInFailureRow.scope.in_(scopes))
    session.execute(stmt)


# ---------------------------------------------------------------------------- app secrets


def secret(session: Session, name: str) -> str | None:
    return session.scalar(select(AppSecretRow.value).where(AppSecretRow.name == name))


def add_secret(session: Session, name: str, value: str, now: dt.datetime) -> None:
    session.add(AppSecretRow(name=name, value=value, created_at=now))
    session.flush()


def ensure_secret(factory: SessionFactory, name: str, make: Callable[[], str]) -> str | None:
    """The secret `name`, made with `make()` and stored in a transaction of its own when
    there is none yet; when another process stores one first, that one wins."""
    with factory() as s:
        value = secret(s, name)
    if value is not None:
        return value
    try:
        with transaction(factory) as s:
            value = make()
            add_secret(s, name, value, utcnow())
    except IntegrityError:
        with factory() as s:
            value = secret(s, name)
    return value
