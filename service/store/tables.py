"""Database tables (SQLAlchemy 2.0). The database is the source of truth; the vector index
is derived from it. Schema changes go through Alembic (service/store/migrations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from models.profile import MAX_ID

UUID_LEN = 36
"""Length of the ids of jobs and events (UUIDs as text)."""
OFFICE_LEN = 64
"""Length of an office's name (service.auth.clean_office)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime | None) -> str | None:
    """A stored instant as ISO 8601 with its offset (`...+00:00`). SQLite hands back the
    naive UTC value it stored, PostgreSQL an aware one: both read the same here."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


class Base(DeclarativeBase):
    pass


class ProfileRow(Base):
    __tablename__ = "profiles"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(MAX_ID), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    cluster: Mapped[str | None] = mapped_column(String(200), index=True)
    org_key: Mapped[str | None] = mapped_column(String(255), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The cluster office whose organizers write the profile (migration 0009); None: the
    # shared directory, which only admins write (service.profiles.service, tenancy).
    office: Mapped[str | None] = mapped_column(String(OFFICE_LEN), index=True)


class EmbeddingRow(Base):
    """Content-addressed embedding cache: one row per (model, text). Nothing is encoded
    again unless its text or the model changed."""

    __tablename__ = "embeddings"

    model_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    vector: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    profile_id: Mapped[str | None] = mapped_column(String(MAX_ID))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    office: Mapped[str] = mapped_column(
        String(OFFICE_LEN), nullable=False, default="default", server_default="default"
    )


class JobRow(Base):
    """Long work (large imports, index rebuilds) with progress visible over the API."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    phase: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The process running the job (service.jobs.service.Owner) and when it last said so:
    # a starting process fails only the jobs whose owner is gone (migration 0008).
    owner: Mapped[str | None] = mapped_column(String(32))
    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class InteractionRow(Base):
    """Past collaborations, meetings, follow-ups, deals and declines between profiles."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_pair", "a", "b"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    a: Mapped[str] = mapped_column(
        String(MAX_ID), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
    )
    b: Mapped[str] = mapped_column(
        String(MAX_ID), ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    context: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventRow(Base):
    """A matchmaking event: its document (slots, tables, participants, rules, wishes; the
    format of models.events) and its latest schedule."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    owner_key: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The office whose organizers see and run the event (`owner_key` says who made it).
    office: Mapped[str] = mapped_column(
        String(OFFICE_LEN),
        nullable=False,
        default="default",
        server_default="default",
        index=True,
    )


class ChangeRow(Base):
    """The change feed: one row per profile written or deleted, and per change of the
    interaction history or of the trained re-ranker, in the transaction that made it.
    Every server process tails it (service.sync), so profiles written through another
    worker, another machine or the CLI are matched without a restart."""

    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # profile|history
    pk: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------------------------------
# Console accounts (service.accounts). Appended here; the SQL lives in service.store.users.


class UserRow(Base):
    """A person who signs in to the console. `principal_key` is an api_keys row made for
    the user (its secret is discarded and the row revoked, so it can never be used as a
    Bearer key): events and jobs are owned by a key number, and this gives a console user
    one that no API key shares."""

    __tablename__ = "users"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    """Stored lower-cased, so that it is unique regardless of case."""
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    profile_id: Mapped[str | None] = mapped_column(String(128))
    principal_key: Mapped[int] = mapped_column(
        Integer, ForeignKey("api_keys.pk"), unique=True, nullable=False
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Tokyo")
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    office: Mapped[str] = mapped_column(
        String(OFFICE_LEN), nullable=False, default="default", server_default="default"
    )
    """The user's office; its key number's row says the same, as for `role`."""


class PasswordTokenRow(Base):
    """A one-time link to set a password: only the SHA-256 of its secret is stored."""

    __tablename__ = "password_tokens"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_pk: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSessionRow(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored, so a
    copy of the database cannot sign anyone in. Deleting the row ends the session in every
    process at once."""

    __tablename__ = "console_sessions"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_pk: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.pk", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )


class SignInFailureRow(Base):
    """One failed sign-in, counted per email and per client address (`scope`) over a
    window; in the database so that every worker and machine sees the same count.
    `subject` is the SHA-256 of the email or address, not the text typed."""

    __tablename__ = "signin_failures"
    __table_args__ = (Index("ix_signin_failures_subject", "scope", "subject", "at"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(8), nullable=False)  # email|ip
    subject: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AppSecretRow(Base):
    """Server-side secrets made on first use and shared by every process through the
    database (e.g. the key that signs the sign-in form's CSRF cookie)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------------------------------
# Shortlists (service.shortlists). Appended here; the SQL lives in service.store.shortlists.


class ShortlistRow(Base):
    """A named list of candidate profiles that exchange staff collect across searches.
    Owned by a key number (`owner_key`: a console user's principal key or an API key), not
    by an office as events are (service.shortlists.service says why); names are unique per
    owner."""

    __tablename__ = "shortlists"
    __table_args__ = (Index("ix_shortlists_owner_name", "owner_key", "name", unique=True),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_key: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShortlistEntryRow(Base):
    """A candidate on a shortlist, with a note. `profile_id` is not a foreign key: an
    entry outlives its profile's deletion (shown as gone) rather than vanishing silently.
    `added_by` is the key number of whoever added it."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (
        Index("ix_shortlist_entries_profile", "shortlist_pk", "profile_id", unique=True),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shortlist_pk: Mapped[int] = mapped_column(
        Integer, ForeignKey("shortlists.pk", ondelete="CASCADE"), nullable=False
    )
    profile_id: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[int | None] = mapped_column(Integer)


# ---------------------------------------------------------------------------------------
# Outcomes (service.outcomes) and programs (service.reports). Appended here; the SQL lives
# in service.store.outcomes and service.store.programs.


class MeetingOutcomeRow(Base):
    """One side's record of one meeting (models.outcomes.MeetingOutcome). Append-only: a
    correction is a new row for the same (event, a, b, side) and the latest row is in
    force; no row is ever updated or deleted except with its event."""

    __tablename__ = "meeting_outcomes"
    __table_args__ = (Index("ix_meeting_outcomes_meeting", "event_id", "a", "b", "side"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        String(UUID_LEN), ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    a: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    b: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    side: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    attendance: Mapped[str] = mapped_column(String(16), nullable=False)
    no_show: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    interest: Mapped[str | None] = mapped_column(String(8))
    next_step: Mapped[str] = mapped_column(String(24), nullable=False, default="none")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    """Who: "user:<pk>" for a console user, "key:<pk>" for an API key."""
    source: Mapped[str] = mapped_column(String(8), nullable=False, default="api")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FollowUpRow(Base):
    """One side's answer at one follow-up round (models.outcomes.FollowUp). Append-only,
    like MeetingOutcomeRow: the latest row per (event, a, b, side, months) is in force."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_meeting", "event_id", "a", "b", "side", "months"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        String(UUID_LEN), ForeignKey("events.id", ondelete="CASCADE"), nullable=False
    )
    a: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    b: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    side: Mapped[str] = mapped_column(String(MAX_ID), nullable=False)
    months: Mapped[int] = mapped_column(Integer, nullable=False)
    stage: Mapped[str] = mapped_column(String(24), nullable=False)
    amount_yen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    source: Mapped[str] = mapped_column(String(8), nullable=False, default="api")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProgramRow(Base):
    """A program year (a cluster's matching programme in one fiscal year, April to March)
    and its numeric targets ({"meetings_held": 400, "follow_ups": 120, "contracts": 20,
    "new_businesses": 5}). Events report to a program by its `name` (their `program`)."""

    __tablename__ = "programs"
    __table_args__ = (Index("ix_programs_name_year", "name", "fiscal_year", unique=True),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    owner_key: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    office: Mapped[str] = mapped_column(
        String(OFFICE_LEN), nullable=False, default="default", server_default="default"
    )
    """The office whose organizers see and change the programme, as for events."""


class AuditRow(Base):
    """One write, or attempted write, through the API, the console or the CLI: who
    (`actor` "key:<pk>", "user:<pk>", "cli" or "anonymous", with the role), when, what
    (method, route template, the ids in the path, the status answered, a small detail)
    and from where (client address, request id). Only ever inserted (service.audit); no
    route updates or deletes a row."""

    __tablename__ = "audit_log"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    route: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    target: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
