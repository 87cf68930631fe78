"""offices: the cluster office of every API key, console user, event, programme and
profile, so that a deployment shared by several offices lets each manage its own

Every key and user that exists is in the office "default", and so is everything they
made: events and programmes (by their column's server default) and profiles (back-filled
here). A profile's office would be that of the organizers whose events it takes part in;
before this revision there is one office only, so that is "default" for every profile
in an event, and a profile in no event gets it too (organizers could write those before,
and still can). NULL, the shared directory that only admins write, is an admin's later
choice (PUT /v1/profiles/{id}/office).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DEFAULT = "default"
OWNED = ("api_keys", "users", "events", "programs")
"""Tables whose rows always belong to an office (NOT NULL, the default office)."""


def upgrade() -> None:
    for table in OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("office", sa.String(length=64), nullable=False, server_default=DEFAULT)
            )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_office"), ["office"], unique=False)
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_profiles_office"), ["office"], unique=False)
    op.execute(sa.text("update profiles set office = :office").bindparams(office=DEFAULT))


def downgrade() -> None:
    # recreate="never": SQLite (3.35 and later) drops a plain column in place. A batch
    # copy of the table would have to drop api_keys, which users refer to, and the
    # foreign keys (on: service.store.db) refuse that inside the migration's transaction.
    with op.batch_alter_table("profiles", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_profiles_office"))
        batch_op.drop_column("office")
    with op.batch_alter_table("events", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_office"))
    for table in reversed(OWNED):
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_column("office")
