"""shortlists: named lists of candidate profiles, with a note per candidate

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shortlists",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_key", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("shortlists", schema=None) as batch_op:
        batch_op.create_index("ix_shortlists_owner_name", ["owner_key", "name"], unique=True)
    op.create_table(
        "shortlist_entries",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortlist_pk", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["shortlist_pk"], ["shortlists.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("shortlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shortlist_entries_profile", ["shortlist_pk", "profile_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("shortlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_shortlist_entries_profile")
    op.drop_table("shortlist_entries")
    with op.batch_alter_table("shortlists", schema=None) as batch_op:
        batch_op.drop_index("ix_shortlists_owner_name")
    op.drop_table("shortlists")
