"""Stockpile release triggers agreed in advance (docs/stockpile-release.md)."""

from __future__ import annotations

import sqlalchemy as sa

from critmat.platform.migrations._ddl import (
    create_id_table,
    create_indexes,
    drop_indexed_table,
    email_address,
    utc_time,
)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TRIGGERS_INDEXED = ("material",)


def upgrade() -> None:
    create_id_table(
        "release_triggers",
        sa.Column("material", sa.String(length=60), nullable=False),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("importer", sa.String(length=4), nullable=False),
        sa.Column("threshold_pct", sa.Float(), nullable=True),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column("measure_id", sa.String(length=60), nullable=True),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("agreed_by", sa.String(length=300), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        utc_time("created_at"),
        email_address("created_by"),
        utc_time("removed_at", nullable=True),
        email_address("removed_by", nullable=True),
    )
    create_indexes("release_triggers", *_TRIGGERS_INDEXED)


def downgrade() -> None:
    drop_indexed_table("release_triggers", *_TRIGGERS_INDEXED)
