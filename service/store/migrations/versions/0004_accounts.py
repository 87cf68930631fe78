"""accounts: console users, password-set tokens, sessions, sign-in failures, app secrets

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.String(length=128), nullable=True),
        sa.Column("principal_key", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["principal_key"], ["api_keys.pk"]),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("principal_key"),
    )
    op.create_table(
        "password_tokens",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_pk"], ["users.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("password_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_tokens_user_pk"), ["user_pk"], unique=False)
    op.create_table(
        "console_sessions",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_pk"], ["users.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id_hash"),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_pk"), ["user_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "signin_failures",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
    )
    with op.batch_alter_table("signin_failures", schema=None) as batch_op:
        batch_op.create_index("ix_signin_failures_subject", ["scope", "subject", "at"])
        batch_op.create_index(batch_op.f("ix_signin_failures_at"), ["at"], unique=False)
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("app_secrets")
    with op.batch_alter_table("signin_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signin_failures_at"))
        batch_op.drop_index("ix_signin_failures_subject")
    op.drop_table("signin_failures")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_pk"))
    op.drop_table("console_sessions")
    with op.batch_alter_table("password_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_tokens_user_pk"))
    op.drop_table("password_tokens")
    op.drop_table("users")
