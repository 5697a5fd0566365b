"""Initial platform schema: organisations, users, browser sessions, API tokens, failed logins
and the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from critmat.platform.migrations._ddl import (
    client_address,
    create_id_table,
    create_indexes,
    create_login_attempts,
    drop_indexed_table,
    drop_login_attempts,
    email_address,
    references,
    sha256_hex,
    utc_time,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_id_table(
        "audit_log",
        utc_time("at"),
        email_address("actor"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        client_address(),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    create_indexes("audit_log", "at")
    create_login_attempts()
    create_id_table(
        "organisations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=True),
        utc_time("created_at"),
        unique=["name"],
    )
    create_id_table(
        "users",
        email_address("email"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        utc_time("created_at"),
        utc_time("last_login_at", nullable=True),
        foreign_keys=[references("organisation_id", "organisations.id")],
        unique=["email"],
    )
    create_id_table(
        "api_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sha256_hex("token_hash"),
        utc_time("created_at"),
        utc_time("expires_at", nullable=True),
        utc_time("last_used_at", nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        foreign_keys=[references("user_id", "users.id", ondelete="CASCADE")],
        unique=["token_hash"],
    )
    create_id_table(
        "sessions",
        sha256_hex("token_hash"),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        utc_time("created_at"),
        utc_time("last_seen_at"),
        utc_time("expires_at"),
        client_address(),
        foreign_keys=[references("user_id", "users.id", ondelete="CASCADE")],
        unique=["token_hash"],
    )


def downgrade() -> None:
    for table in ("sessions", "api_tokens", "users", "organisations"):
        op.drop_table(table)
    drop_login_attempts()
    drop_indexed_table("audit_log", "at")
