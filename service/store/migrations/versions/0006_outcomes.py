"""outcomes: meeting outcomes and follow-ups (append-only), program years with targets

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _record_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("a", sa.String(length=128), nullable=False),
        sa.Column("b", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=128), nullable=False),
    ]


def _trailer() -> list[sa.Column[object] | sa.Constraint]:
    return [
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    ]


def upgrade() -> None:
    op.create_table(
        "meeting_outcomes",
        *_record_columns(),
        sa.Column("attendance", sa.String(length=16), nullable=False),
        sa.Column("no_show", sa.JSON(), nullable=False),
        sa.Column("interest", sa.String(length=8), nullable=True),
        sa.Column("next_step", sa.String(length=24), nullable=False),
        *_trailer(),
    )
    with op.batch_alter_table("meeting_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_outcomes_meeting", ["event_id", "a", "b", "side"], unique=False
        )
    op.create_table(
        "follow_ups",
        *_record_columns(),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("amount_yen", sa.BigInteger(), nullable=True),
        *_trailer(),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_follow_ups_meeting", ["event_id", "a", "b", "side", "months"], unique=False
        )
    op.create_table(
        "programs",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("owner_key", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.create_index("ix_programs_name_year", ["name", "fiscal_year"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_index("ix_programs_name_year")
    op.drop_table("programs")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_ups_meeting")
    op.drop_table("follow_ups")
    with op.batch_alter_table("meeting_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_outcomes_meeting")
    op.drop_table("meeting_outcomes")
