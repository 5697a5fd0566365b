"""Company assessments, stored per organisation (the result as JSON)."""

from __future__ import annotations

import sqlalchemy as sa

from critmat.platform.migrations._ddl import (
    create_id_table,
    create_indexes,
    drop_indexed_table,
    email_address,
    references,
    sha256_hex,
    utc_time,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_id_table(
        "assessments",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        email_address("created_by_email"),
        utc_time("created_at"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("input_filename", sa.String(length=255), nullable=False),
        sha256_hex("input_sha256"),
        sa.Column("importer", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        foreign_keys=[
            references("organisation_id", "organisations.id", ondelete="CASCADE"),
            references("created_by", "users.id", ondelete="SET NULL"),
        ],
    )
    create_indexes("assessments", "organisation_id")


def downgrade() -> None:
    drop_indexed_table("assessments", "organisation_id")
