"""The holdings ledger: holders, lots and the append-only journal (docs/stockpiles.md).

Quantities are tonnes of material content. A lot's balance is the sum of its journal entries
(:func:`lot_balances`); no balance is stored. Every write is a *booking* under an idempotency
key: :func:`book` checks the request, locks the lots it touches, refuses anything that would
take a lot below zero and adds the booking and its entries to the session (the caller commits).

Concurrency: the lots are locked before their balances are read — ``SELECT … FOR UPDATE`` in
id order on PostgreSQL; on SQLite the booking first raises each lot's ``version`` (an
``UPDATE``), which takes the database's write lock before any balance is read. A second
request with the same key either finds the first booking (same body: it is returned, nothing
is booked again; another body: :class:`IdempotencyConflict`) or, when both run at once, fails
on the UNIQUE key; :func:`existing_booking` then reads the winner.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from critmat.errors import CritmatError
from critmat.platform.stockpile_models import (
    StockBooking,
    StockHolder,
    StockJournalEntry,
    StockLot,
)

#: Slack of a balance check, tonnes (sums of floats): a release of the whole balance passes.
TOLERANCE_T = 1e-9


class BookingKind(StrEnum):
    """What a booking does to its lot(s)."""

    purchase = "purchase"  # + into the lot
    transfer = "transfer"  # - out of the lot, + into another lot (another holder or place)
    rotation = "rotation"  # - out of an old lot, + into a fresh lot of the same material
    release = "release"  # - out of the lot, to users in a crisis
    write_off = "write-off"  # - out of the lot: lost, spoilt, past its re-test date

    @property
    def moves(self) -> bool:
        """Whether the booking takes from one lot and puts into another."""
        return self in (BookingKind.transfer, BookingKind.rotation)

    @property
    def takes(self) -> bool:
        """Whether the booking takes stock out of its lot."""
        return self is not BookingKind.purchase


class HolderLevel(StrEnum):
    """Who holds: the EU level, a Member State (agency), a company."""

    eu = "eu"
    member_state = "member_state"
    company = "company"


class LedgerError(CritmatError):
    """A refused ledger write or read: ``where`` names the field (``quantity_t``, ``lot``,
    ``idempotency_key``), ``status`` the HTTP status the API answers."""

    status = 422

    def __init__(self, where: str, problem: str, hint: str | None = None) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}", hint)

    def problems(self) -> list[dict[str, str]]:
        """The API's ``problems`` list: one entry, this error."""
        return [{"where": self.where, "problem": self.problem}]


class NotFound(LedgerError):
    """A holder or lot that does not exist (or that the caller may not see)."""

    status = 404


class InsufficientStock(LedgerError):
    """A withdrawal larger than the lot's balance."""

    status = 409


class IdempotencyConflict(LedgerError):
    """An idempotency key already used for a different request."""

    status = 409


class NotAllowed(LedgerError):
    """A write to a holding the caller does not own."""

    status = 403


@dataclass(frozen=True)
class LotSpec:
    """A new lot: ``material`` is a catalogue id; ``purity_pct`` 0–100; ``cost_eur`` the
    acquisition cost of the whole lot, euros; ``retest_on`` the shelf-life or re-test day."""

    holder_id: int
    material: str
    form: str
    location: str
    acquired_on: date
    purity_pct: float | None = None
    cost_eur: float | None = None
    retest_on: date | None = None


@dataclass(frozen=True)
class BookingRequest:
    """One booking: ``quantity_t`` tonnes (> 0) into (purchase) or out of ``lot_id``; for a
    transfer or rotation also into ``into_lot_id``. ``new_lot``: a purchase that opens a lot
    (``lot_id`` is then 0)."""

    kind: BookingKind
    lot_id: int
    quantity_t: float
    into_lot_id: int | None = None
    reason: str = ""
    new_lot: LotSpec | None = None

    def digest(self) -> str:
        """sha256 of the canonical JSON of the request (what a retry must repeat)."""
        body = asdict(self)
        body["kind"] = self.kind.value
        text = json.dumps(body, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def check_quantity(quantity_t: float, where: str = "quantity_t") -> float:
    """``quantity_t`` as a float when it is a finite number of tonnes above zero."""
    if not isinstance(quantity_t, int | float) or not math.isfinite(quantity_t):
        raise LedgerError(where, f"{quantity_t!r} is not a number of tonnes", "type e.g. 12.5")
    if quantity_t <= 0:
        raise LedgerError(
            where,
            f"must be above zero (got {quantity_t:g} t)",
            "type the tonnes moved as a positive number; the kind of booking gives the sign",
        )
    return float(quantity_t)


def check_request(request: BookingRequest) -> None:
    """Refuse a request whose fields do not fit its kind (before anything is locked)."""
    check_quantity(request.quantity_t)
    if not request.lot_id and request.new_lot is None:
        raise LedgerError(
            "lot", "no lot named", "add --lot LOT (see `critmat stockpile lots list`)"
        )
    if request.kind.moves:
        if request.into_lot_id is None:
            raise LedgerError(
                "into_lot",
                f"a {request.kind.value} needs the lot that receives the stock",
                "add --into LOT (the id of the receiving lot)",
            )
        if request.into_lot_id == request.lot_id:
            raise LedgerError(
                "into_lot",
                f"lot {request.lot_id} cannot receive from itself",
                "name another lot with --into",
            )
    elif request.into_lot_id is not None:
        raise LedgerError("into_lot", f"a {request.kind.value} has one lot", "leave out --into")
    if request.new_lot is not None and request.kind is not BookingKind.purchase:
        raise LedgerError("kind", "only a purchase opens a new lot", "book a purchase")


def existing_booking(db: Session, key: str, digest: str) -> StockBooking | None:
    """The booking filed under ``key``, if any; :class:`IdempotencyConflict` when it was made
    by a different request."""
    booking = db.scalar(select(StockBooking).where(StockBooking.idempotency_key == key))
    if booking is not None and booking.request_sha256 != digest:
        raise IdempotencyConflict(
            "idempotency_key",
            f"'{key}' was used for booking {booking.id} ({booking.kind}) with other values",
            "send a new key for a new booking, or repeat the first request exactly",
        )
    return booking


def lock_lots(db: Session, lot_ids: Iterable[int]) -> dict[int, StockLot]:
    """Lock ``lot_ids`` for this transaction and return them by id (see the module notes)."""
    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    sqlite = db.get_bind().dialect.name == "sqlite"
    bump = update(StockLot).where(StockLot.id.in_(ids)).values(version=StockLot.version + 1)
    if sqlite:
        db.execute(bump)
    query = select(StockLot).where(StockLot.id.in_(ids)).order_by(StockLot.id)
    lots = {lot.id: lot for lot in db.scalars(query.with_for_update())}
    if not sqlite and lots:
        db.execute(bump)
    return lots


def lot_balances(db: Session, lot_ids: Sequence[int] | None = None) -> dict[int, float]:
    """Balance of each lot, tonnes: the sum of its journal entries (lots without entries: 0)."""
    query = select(StockJournalEntry.lot_id, func.sum(StockJournalEntry.quantity_t)).group_by(
        StockJournalEntry.lot_id
    )
    if lot_ids is not None:
        query = query.where(StockJournalEntry.lot_id.in_(list(lot_ids)))
    return {int(lot): float(total or 0.0) for lot, total in db.execute(query)}


def new_lot(db: Session, spec: LotSpec, now: datetime) -> StockLot:
    """Add the lot ``spec`` describes to the session (the caller checked the holder)."""
    lot = StockLot(
        holder_id=spec.holder_id,
        material=spec.material,
        form=spec.form,
        purity_pct=spec.purity_pct,
        location=spec.location,
        acquired_on=spec.acquired_on,
        cost_eur=spec.cost_eur,
        retest_on=spec.retest_on,
        created_at=now,
        version=0,
    )
    db.add(lot)
    db.flush()
    return lot


@dataclass(frozen=True)
class Booker:
    """Who books: what the journal and the audit log show, and the user's id."""

    actor: str
    user_id: int | None = None


def book(
    db: Session,
    request: BookingRequest,
    key: str,
    booker: Booker,
    now: datetime,
    *,
    owned: set[int] | None = None,
) -> tuple[StockBooking, bool]:
    """Book ``request`` under ``key`` in the session and return the booking and whether it was
    already booked (``True``: an existing one, for a retry of the same request). ``owned``:
    the holder ids the caller may write to (``None``: every holder). Raises
    :class:`LedgerError` subclasses; the session is then left for the caller to roll back."""
    check_request(request)
    if not key.strip():
        raise LedgerError("idempotency_key", "is empty", "send a unique key, e.g. a UUID")
    digest = request.digest()
    first = existing_booking(db, key, digest)
    if first is not None:
        return first, True
    touched = [i for i in (request.lot_id, request.into_lot_id) if i]
    lots = lock_lots(db, touched)
    for lot_id in touched:
        lot = lots.get(lot_id)
        if lot is None or (owned is not None and lot.holder_id not in owned):
            raise NotFound(
                "lot",
                f"there is no lot {lot_id} you may book on",
                "see `critmat stockpile lots list`",
            )
    if request.new_lot is not None:
        if owned is not None and request.new_lot.holder_id not in owned:
            raise NotFound(
                "holder",
                f"there is no holder {request.new_lot.holder_id} of yours",
                "see `critmat stockpile holders list`",
            )
        lots[0] = new_lot(db, request.new_lot, now)
    if request.kind.moves:
        source, target = lots[request.lot_id], lots[request.into_lot_id or 0]
        if source.material != target.material:
            raise LedgerError(
                "into_lot",
                f"lot {source.id} holds {source.material}, lot {target.id} {target.material}",
                "move stock only between lots of one material",
            )
    quantity = float(request.quantity_t)
    entries: list[tuple[int, float]]
    if request.kind is BookingKind.purchase:
        entries = [(lots[request.lot_id].id, quantity)]
    else:
        balance = lot_balances(db, [request.lot_id]).get(request.lot_id, 0.0)
        if quantity > balance + TOLERANCE_T:
            raise InsufficientStock(
                "quantity_t",
                f"lot {request.lot_id} holds {balance:,.1f} t; a {request.kind.value} of "
                f"{quantity:,.1f} t was refused",
                f"book at most {balance:,.1f} t from this lot",
            )
        entries = [(request.lot_id, -quantity)]
        if request.into_lot_id is not None:
            entries.append((request.into_lot_id, quantity))
    booking = StockBooking(
        idempotency_key=key,
        request_sha256=digest,
        kind=request.kind.value,
        at=now,
        actor=booker.actor,
        user_id=booker.user_id,
        reason=request.reason,
    )
    db.add(booking)
    db.flush()
    for lot_id, signed in entries:
        db.add(StockJournalEntry(booking_id=booking.id, lot_id=lot_id, quantity_t=signed))
    db.flush()
    return booking, False


def holdings(db: Session, material: str | None = None) -> list[tuple[StockHolder, str, float]]:
    """(holder, material, balance t) for every holder and material with lots, by holder id."""
    query = (
        select(
            StockHolder,
            StockLot.material,
            func.coalesce(func.sum(StockJournalEntry.quantity_t), 0.0),
        )
        .join(StockLot, StockLot.holder_id == StockHolder.id)
        .outerjoin(StockJournalEntry, StockJournalEntry.lot_id == StockLot.id)
        .group_by(StockHolder.id, StockLot.material)
        .order_by(StockHolder.id, StockLot.material)
    )
    if material is not None:
        query = query.where(StockLot.material == material)
    return [(holder, str(mat), float(total)) for holder, mat, total in db.execute(query)]
