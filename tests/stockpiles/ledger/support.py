"""A migrated platform database with one organisation per test, and the lots the ledger tests
book on (real migrations, real service calls; SQLite file or PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from critmat.platform import accounts
from critmat.platform.db import transaction, upgrade
from critmat.platform.stockpile_models import StockBooking, StockJournalEntry, StockLot
from critmat.services import stockpiles as sp
from critmat.stockpiles.ledger import BookingKind, BookingRequest, LotSpec


@dataclass(frozen=True)
class Ledger:
    url: str
    org_id: int
    holder_id: int


def migrated_ledger(url: str, org_name: str = "Stock agency", country: str = "DEU") -> Ledger:
    """Migrate ``url`` and register one organisation and one Member State holder in it."""
    upgrade(url)
    with transaction(url) as db:
        org = accounts.create_org(db, org_name, country=country, actor="test")
        org_id = org.id
    holder = sp.add_holder(
        f"{org_name} holder", "member_state", org_id, country=country, database_url=url
    )
    return Ledger(url, org_id, holder.id)


def open_lot(ledger: Ledger, tonnes: float, key: str, material: str = "gallium") -> int:
    """Book a purchase of ``tonnes`` that opens a new lot; its id."""
    spec = LotSpec(ledger.holder_id, material, "metal", "Hamburg", date(2026, 1, 5), 99.99)
    request = BookingRequest(BookingKind.purchase, 0, tonnes, new_lot=spec)
    return sp.book(request, key, None, database_url=ledger.url).entries[0][0]


def journal_sums(url: str) -> dict[int, float]:
    """Sum of the journal per lot, read with SQL of its own (not the ledger's function)."""
    with transaction(url) as db:
        rows = db.execute(
            select(StockLot.id, func.coalesce(func.sum(StockJournalEntry.quantity_t), 0.0))
            .outerjoin(StockJournalEntry, StockJournalEntry.lot_id == StockLot.id)
            .group_by(StockLot.id)
        )
        return {int(lot): float(total) for lot, total in rows}


def booking_keys(url: str) -> list[str]:
    with transaction(url) as db:
        return list(db.scalars(select(StockBooking.idempotency_key)))
