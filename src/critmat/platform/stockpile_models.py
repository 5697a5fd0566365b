"""Tables of the stockpile holdings ledger (holders, lots, the append-only journal, stock
targets) in the platform database; migration ``0005`` creates them (docs/stockpiles.md).

Quantities are tonnes of material content (``Float``). A lot stores no balance: its balance is
the sum of its journal entries (``stock_journal.quantity_t``, signed: + into the lot, - out of
it). A *booking* is one write (a purchase, transfer, rotation, release or write-off) with its
idempotency key, which is UNIQUE; a transfer or rotation books two journal entries (out of one
lot, into another) under the same booking. Journal and bookings are append-only: nothing in
critmat updates or deletes their rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critmat.platform.models import Base, Organisation

__all__ = ["Base", "StockBooking", "StockHolder", "StockJournalEntry", "StockLot", "StockTarget"]


class StockHolder(Base):
    """Who holds stock: the EU level, a Member State agency or a company, owned by one
    organisation. ``country`` is the ISO3 code of the Member State the holding counts for
    (``None`` for the EU level). ``shared``: the owner lets every stockpile user see this
    holder's lots and journal (otherwise they see aggregates only)."""

    __tablename__ = "stock_holders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(20))  # eu | member_state | company
    country: Mapped[str | None] = mapped_column(String(3), nullable=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    organisation: Mapped[Organisation] = relationship()


class StockLot(Base):
    """A lot: one material in one form and grade at one location, bought on one day.
    ``version`` is raised by every booking that touches the lot (the row lock that serialises
    bookings on one lot); it is not a balance."""

    __tablename__ = "stock_lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(
        ForeignKey("stock_holders.id", ondelete="CASCADE"), index=True
    )
    material: Mapped[str] = mapped_column(String(60), index=True)
    form: Mapped[str] = mapped_column(String(40))
    purity_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    location: Mapped[str] = mapped_column(String(200))
    acquired_on: Mapped[date] = mapped_column(Date)
    cost_eur: Mapped[float | None] = mapped_column(Float, nullable=True)
    retest_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=0)

    holder: Mapped[StockHolder] = relationship()


class StockBooking(Base):
    """One write to the journal, under its idempotency key. ``request_sha256`` is the digest
    of the request's canonical body: a retry with the same key must carry the same body."""

    __tablename__ = "stock_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    entries: Mapped[list[StockJournalEntry]] = relationship(
        back_populates="booking", order_by="StockJournalEntry.id"
    )


class StockJournalEntry(Base):
    """A signed quantity into (+) or out of (-) one lot, tonnes; part of one booking."""

    __tablename__ = "stock_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("stock_bookings.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lots.id"), index=True)
    quantity_t: Mapped[float] = mapped_column(Float)

    booking: Mapped[StockBooking] = relationship(back_populates="entries")
    lot: Mapped[StockLot] = relationship()


class StockTarget(Base):
    """A stock target for one importer (``EU27`` or a Member State's ISO3) and material,
    tonnes. Rows are kept: the newest row of a pair is the target, older rows its history."""

    __tablename__ = "stock_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    importer: Mapped[str] = mapped_column(String(10), index=True)
    material: Mapped[str] = mapped_column(String(60), index=True)
    target_t: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(DateTime)
    set_by: Mapped[str] = mapped_column(String(254))
