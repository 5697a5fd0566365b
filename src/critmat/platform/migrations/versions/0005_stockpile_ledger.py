"""The stockpile holdings ledger: holders, lots, bookings (idempotency keys), the append-only
journal and stock targets (docs/stockpiles.md)."""

from __future__ import annotations

import sqlalchemy as sa

from critmat.platform.migrations._ddl import (
    create_id_table,
    create_indexes,
    drop_indexed_table,
    email_address,
    references,
    utc_time,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_HOLDERS_INDEXED = ("organisation_id",)
_LOTS_INDEXED = ("holder_id", "material")
_BOOKINGS_INDEXED = ("at",)
_JOURNAL_INDEXED = ("booking_id", "lot_id")
_TARGETS_INDEXED = ("importer", "material")


def _material() -> sa.Column[object]:
    return sa.Column("material", sa.String(length=60), nullable=False)


def _tonnes(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Float(), nullable=False)


def upgrade() -> None:
    create_id_table(
        "stock_holders",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        utc_time("created_at"),
        foreign_keys=[references("organisation_id", "organisations.id", ondelete="CASCADE")],
        unique=["name"],
    )
    create_indexes("stock_holders", *_HOLDERS_INDEXED)
    create_id_table(
        "stock_lots",
        sa.Column("holder_id", sa.Integer(), nullable=False),
        _material(),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.Column("purity_pct", sa.Float(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("acquired_on", sa.Date(), nullable=False),
        sa.Column("cost_eur", sa.Float(), nullable=True),
        sa.Column("retest_on", sa.Date(), nullable=True),
        utc_time("created_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        foreign_keys=[references("holder_id", "stock_holders.id", ondelete="CASCADE")],
    )
    create_indexes("stock_lots", *_LOTS_INDEXED)
    create_id_table(
        "stock_bookings",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        utc_time("at"),
        email_address("actor"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        unique=["idempotency_key"],
    )
    create_indexes("stock_bookings", *_BOOKINGS_INDEXED)
    create_id_table(
        "stock_journal",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        _tonnes("quantity_t"),
        foreign_keys=[
            references("booking_id", "stock_bookings.id"),
            references("lot_id", "stock_lots.id"),
        ],
    )
    create_indexes("stock_journal", *_JOURNAL_INDEXED)
    create_id_table(
        "stock_targets",
        sa.Column("importer", sa.String(length=10), nullable=False),
        _material(),
        _tonnes("target_t"),
        sa.Column("source", sa.Text(), nullable=False),
        utc_time("set_at"),
        email_address("set_by"),
    )
    create_indexes("stock_targets", *_TARGETS_INDEXED)


def downgrade() -> None:
    drop_indexed_table("stock_targets", *_TARGETS_INDEXED)
    drop_indexed_table("stock_journal", *_JOURNAL_INDEXED)
    drop_indexed_table("stock_bookings", *_BOOKINGS_INDEXED)
    drop_indexed_table("stock_lots", *_LOTS_INDEXED)
    drop_indexed_table("stock_holders", *_HOLDERS_INDEXED)
