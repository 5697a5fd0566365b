"""Strategic stockpiles — the holdings ledger as questions and answers (docs/stockpiles.md).

Every caller (``critmat stockpile``, ``/api/v1/stockpiles``, ``/stockpiles``, the sizing and
stress services) goes through these functions: holders, lots and their balances, the journal,
bookings (purchase, transfer, rotation, release, write-off) under an idempotency key, stock
against target per material and importer (:func:`positions`, :func:`stress_positions`) and
stock targets (:func:`set_target`). Quantities are tonnes of material content.

Who sees what (the one rule, :func:`sees_detail`): the CLI user (``viewer=None``) and admins
see everything; an organisation's members see their own holders' lots and journal, and those
of holders whose owner shares them; of every other holding they see aggregates only — its
tonnes pooled into the ``EU27`` figure of its material, never per Member State or holder.
Every booking and every target goes to the audit log (``stockpile.*`` actions).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from critmat.config import get_settings
from critmat.platform import audit
from critmat.platform.db import transaction
from critmat.platform.models import Organisation, Role
from critmat.platform.stockpile_models import (
    StockBooking,
    StockHolder,
    StockJournalEntry,
    StockLot,
    StockTarget,
)
from critmat.reference.countries import group_members
from critmat.reference.materials import load_catalogue
from critmat.stockpiles import ledger
from critmat.stockpiles.ledger import (
    Booker,
    BookingKind,
    BookingRequest,
    HolderLevel,
    LedgerError,
    LotSpec,
    NotAllowed,
    NotFound,
)

__all__ = [
    "BookingKind",
    "BookingOut",
    "HolderOut",
    "JournalRow",
    "LedgerError",
    "LotOut",
    "LotSpec",
    "PositionRow",
    "Positions",
    "StockPositions",
    "StockViewer",
    "add_holder",
    "book",
    "journal",
    "list_holders",
    "list_lots",
    "positions",
    "set_target",
    "stress_positions",
]

#: Importer code of EU-level holdings and of pooled holdings the viewer may not see in detail.
EU = "EU27"
#: Where every answer comes from.
PROVENANCE = (
    "critmat platform database: stockpile ledger (stock_lots, stock_journal, stock_targets)"
)
#: Journal rows listed at most per page.
JOURNAL_PAGE = 200


@dataclass(frozen=True)
class StockViewer:
    """Who asks: a user of organisation ``org_id`` with ``role`` (a :class:`Role` value);
    ``actor``/``user_id`` are what the journal and audit log record of their writes."""

    org_id: int
    role: str
    actor: str = "api"
    user_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin.value


def _url(database_url: str | None) -> str:
    return database_url or get_settings().platform_url


def sees_detail(holder: StockHolder, viewer: StockViewer | None) -> bool:
    """Whether ``viewer`` may see ``holder``'s lots, journal and per-Member-State figures."""
    if viewer is None or viewer.is_admin:
        return True
    return holder.organisation_id == viewer.org_id or holder.shared


def owns(holder: StockHolder, viewer: StockViewer | None) -> bool:
    """Whether ``viewer`` may write to ``holder``'s lots (its organisation, admins, the CLI)."""
    return viewer is None or viewer.is_admin or holder.organisation_id == viewer.org_id


def _booker(viewer: StockViewer | None) -> Booker:
    return Booker("cli", None) if viewer is None else Booker(viewer.actor, viewer.user_id)


def material_id(name: str) -> str:
    """The catalogue id of ``name`` (id, name, alias, symbol); UnknownNameError with
    suggestions otherwise."""
    return load_catalogue().resolve(name).material.id


def importer_code(text: str) -> str:
    """``EU27`` or the ISO3 code of a Member State; LedgerError naming the field otherwise."""
    code = text.strip().upper()
    members = group_members(EU)
    if code in {EU, "EU"}:
        return EU
    if code not in members:
        raise LedgerError(
            "importer",
            f"'{text}' is neither EU27 nor a Member State",
            "type EU27 or a Member State's ISO3 code, e.g. DEU, FRA, ITA",
        )
    return code


# ---- typed answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class HolderOut:
    id: int
    name: str
    level: str
    country: str | None
    organisation_id: int
    shared: bool


@dataclass(frozen=True)
class LotOut:
    """A lot and its balance (tonnes, the sum of its journal)."""

    id: int
    holder_id: int
    holder: str
    material: str
    form: str
    purity_pct: float | None
    location: str
    acquired_on: date
    cost_eur: float | None
    retest_on: date | None
    balance_t: float


@dataclass(frozen=True)
class JournalRow:
    """One journal entry: signed tonnes into (+) or out of (-) ``lot_id``."""

    entry_id: int
    booking_id: int
    at: str
    kind: str
    lot_id: int
    material: str
    holder: str
    quantity_t: float
    actor: str
    reason: str
    idempotency_key: str


@dataclass(frozen=True)
class BookingOut:
    """A booking as stored; ``replayed``: this request repeated an earlier one with the same
    key and body, and nothing new was booked."""

    id: int
    kind: str
    idempotency_key: str
    at: str
    actor: str
    reason: str
    entries: tuple[tuple[int, float], ...]  # (lot id, signed tonnes)
    balances_t: dict[int, float]  # lot id -> balance after the booking, tonnes
    replayed: bool = False


@dataclass(frozen=True)
class PositionRow:
    """Stock against target of one material and importer, tonnes. ``target_t``/``gap_t``
    None: no target set. ``pooled_t``: the part of an EU27 figure pooled from holdings shown as
    aggregates only."""

    material: str
    importer: str
    stock_t: float
    target_t: float | None
    gap_t: float | None
    holders: int
    pooled_t: float = 0.0
    target_source: str | None = None


@dataclass(frozen=True)
class Positions:
    rows: tuple[PositionRow, ...]
    as_of: date
    notes: tuple[str, ...]
    provenance: str = PROVENANCE


@dataclass(frozen=True)
class StockPositions:
    """What a stress test starts from for one material: stock and target per importer code
    ("EU27" for EU-level holdings and pooled holdings, ISO3 for a Member State's), tonnes."""

    material: str
    stock_t: dict[str, float]
    target_t: dict[str, float]
    as_of: date
    notes: tuple[str, ...] = field(default=())


# ---- holders and lots --------------------------------------------------------------------


def _holder_out(holder: StockHolder) -> HolderOut:
    return HolderOut(
        holder.id, holder.name, holder.level, holder.country, holder.organisation_id, holder.shared
    )


def add_holder(
    name: str,
    level: str,
    organisation_id: int,
    *,
    country: str | None = None,
    shared: bool = False,
    viewer: StockViewer | None = None,
    database_url: str | None = None,
) -> HolderOut:
    """Register a holder owned by ``organisation_id`` (a viewer may register only for its own
    organisation). ``country``: ISO3 of the Member State it holds for (required for
    ``member_state`` and ``company``, empty for ``eu``)."""
    try:
        holder_level = HolderLevel(level)
    except ValueError:
        raise LedgerError(
            "level", f"'{level}' is not a holder level", "type eu, member_state or company"
        ) from None
    clean = name.strip()
    if not clean:
        raise LedgerError("name", "is empty", "type the holder's name, e.g. 'Agence X'")
    code = None if holder_level is HolderLevel.eu else importer_code(country or "")
    if code == EU:
        raise LedgerError(
            "country",
            "a Member State or company holder needs a Member State",
            "add --country ISO3, e.g. DEU",
        )
    if viewer is not None and not viewer.is_admin and viewer.org_id != organisation_id:
        raise NotAllowed("organisation", "you may register holders of your own organisation only")
    with transaction(_url(database_url)) as db:
        _require_organisation(db, organisation_id)
        if db.scalar(select(StockHolder).where(StockHolder.name == clean)) is not None:
            raise LedgerError("name", f"a holder '{clean}' exists", "choose another name")
        holder = StockHolder(
            organisation_id=organisation_id,
            name=clean,
            level=holder_level.value,
            country=code,
            shared=shared,
            created_at=audit.utcnow(),
        )
        db.add(holder)
        db.flush()
        _audit(
            db,
            viewer,
            "stockpile.holder.create",
            f"holder {holder.id}",
            {"level": holder_level.value, "country": code, "shared": shared},
            organisation_id=organisation_id,
        )
        return _holder_out(holder)


def _require_organisation(db: Session, organisation_id: int | None) -> None:
    """Refuse an organisation id that names no organisation (``None``: none asked for)."""
    if organisation_id is not None and db.get(Organisation, organisation_id) is None:
        raise NotFound(
            "organisation", f"there is no organisation {organisation_id}", "see `critmat orgs list`"
        )


def list_holders(
    viewer: StockViewer | None,
    *,
    organisation_id: int | None = None,
    database_url: str | None = None,
) -> list[HolderOut]:
    """The holders ``viewer`` sees in detail (own, shared; all for the CLI and admins), only
    those of ``organisation_id`` when given."""
    with transaction(_url(database_url)) as db:
        _require_organisation(db, organisation_id)
        query = select(StockHolder).order_by(StockHolder.id)
        if organisation_id is not None:
            query = query.where(StockHolder.organisation_id == organisation_id)
        return [_holder_out(h) for h in db.scalars(query) if sees_detail(h, viewer)]


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _of_lots(query: _Query, material: str | None, organisation_id: int | None) -> _Query:
    """``query`` (over lots joined to their holders) kept to the lots of ``material`` (a
    catalogue id) and to those of ``organisation_id``'s holders, each where given."""
    if material:
        query = query.where(StockLot.material == material)
    if organisation_id is not None:
        query = query.where(StockHolder.organisation_id == organisation_id)
    return query


def list_lots(
    viewer: StockViewer | None,
    *,
    material: str | None = None,
    holder_id: int | None = None,
    organisation_id: int | None = None,
    database_url: str | None = None,
) -> list[LotOut]:
    """The lots ``viewer`` sees in detail with their balances, by lot id (only those of
    ``holder_id`` / of ``organisation_id``'s holders when given)."""
    mat = material_id(material) if material else None
    with transaction(_url(database_url)) as db:
        _require_organisation(db, organisation_id)
        query = _of_lots(select(StockLot).join(StockHolder), mat, organisation_id)
        if holder_id is not None:
            query = query.where(StockLot.holder_id == holder_id)
        query = query.order_by(StockLot.id)
        lots = [lot for lot in db.scalars(query) if sees_detail(lot.holder, viewer)]
        balances = ledger.lot_balances(db, [lot.id for lot in lots])
        return [_lot_out(lot, balances.get(lot.id, 0.0)) for lot in lots]


def _lot_out(lot: StockLot, balance: float) -> LotOut:
    return LotOut(
        lot.id,
        lot.holder_id,
        lot.holder.name,
        lot.material,
        lot.form,
        lot.purity_pct,
        lot.location,
        lot.acquired_on,
        lot.cost_eur,
        lot.retest_on,
        balance,
    )


# ---- bookings ----------------------------------------------------------------------------


def _audit(
    db: Session,
    viewer: StockViewer | None,
    action: str,
    target: str,
    details: dict[str, object],
    *,
    organisation_id: int | None,
) -> None:
    """An audit entry filed under the organisation whose holding it concerns. ``details``
    carry ids, kinds and tonnes only — no holder names, places or reasons, since the audit log
    of an organisation is read by more roles than its holdings (docs/stockpiles.md)."""
    booker = _booker(viewer)
    audit.record(
        db,
        booker.actor,
        action,
        target=target,
        user_id=booker.user_id,
        organisation_id=organisation_id,
        details=details,
    )


def _booking_out(db: Session, booking: StockBooking, replayed: bool) -> BookingOut:
    entries = tuple((e.lot_id, e.quantity_t) for e in booking.entries)
    balances = ledger.lot_balances(db, [lot for lot, _ in entries])
    return BookingOut(
        booking.id,
        booking.kind,
        booking.idempotency_key,
        booking.at.isoformat(timespec="seconds"),
        booking.actor,
        booking.reason,
        entries,
        balances,
        replayed,
    )


def _check_lot_spec(spec: LotSpec) -> LotSpec:
    if spec.purity_pct is not None and not 0 < spec.purity_pct <= 100:
        raise LedgerError(
            "purity_pct", f"{spec.purity_pct:g} is not a percentage", "type 0–100, e.g. 99.5"
        )
    if spec.cost_eur is not None and spec.cost_eur < 0:
        raise LedgerError(
            "cost_eur", "is below zero", "type the lot's cost in euros, or leave it out"
        )
    if not spec.form.strip():
        raise LedgerError("form", "is empty", "type e.g. oxide, metal, alloy, concentrate")
    if not spec.location.strip():
        raise LedgerError("location", "is empty", "type the warehouse, e.g. 'Rotterdam bonded'")
    if spec.retest_on is not None and spec.retest_on < spec.acquired_on:
        raise LedgerError(
            "retest_on", "is before the acquisition day", "type a later day (YYYY-MM-DD)"
        )
    return replace(
        spec,
        material=material_id(spec.material),
        form=spec.form.strip(),
        location=spec.location.strip(),
    )


def book(
    request: BookingRequest,
    key: str,
    viewer: StockViewer | None,
    *,
    organisation_id: int | None = None,
    database_url: str | None = None,
) -> BookingOut:
    """Book ``request`` under idempotency ``key`` (a purchase with ``new_lot`` opens the lot).
    A retry with the same key and body returns the first booking (``replayed``); the same key
    with another body raises :class:`ledger.IdempotencyConflict`; a withdrawal above the lot's
    balance :class:`ledger.InsufficientStock`. ``organisation_id``: book only on that
    organisation's holders (the API's ``/orgs/{org_id}`` routes). Each new booking is audited
    in its transaction."""
    if request.new_lot is not None:
        request = replace(request, new_lot=_check_lot_spec(request.new_lot))
    url = _url(database_url)
    try:
        with transaction(url) as db:
            owned = _owned_holders(db, viewer, organisation_id)
            booking, replayed = ledger.book(
                db, request, key, _booker(viewer), audit.utcnow(), owned=owned
            )
            if replayed:  # decided by the ledger's own look-up, not one made before it
                return _booking_out(db, booking, replayed=True)
            _audit(
                db,
                viewer,
                f"stockpile.{request.kind.value}",
                f"booking {booking.id}",
                {"entries": [[e.lot_id, e.quantity_t] for e in booking.entries]},
                organisation_id=booking.entries[0].lot.holder.organisation_id,
            )
            return _booking_out(db, booking, replayed=False)
    except IntegrityError:
        # the same key booked at the same moment by another request: read the winner
        with transaction(url) as db:
            winner = ledger.existing_booking(db, key, request.digest())
            if winner is None:
                raise
            return _booking_out(db, winner, replayed=True)


def _owned_holders(
    db: Session, viewer: StockViewer | None, organisation_id: int | None
) -> set[int] | None:
    """The holder ids a booking may touch (None: all): the organisation's when one is named,
    else the viewer's own organisation's (the CLI and admins: all)."""
    if organisation_id is None and (viewer is None or viewer.is_admin):
        return None
    if organisation_id is None:
        organisation_id = viewer.org_id if viewer is not None else None
    if viewer is not None and not viewer.is_admin and organisation_id != viewer.org_id:
        return set()
    query = select(StockHolder.id).where(StockHolder.organisation_id == organisation_id)
    return set(db.scalars(query))


def journal(
    viewer: StockViewer | None,
    *,
    material: str | None = None,
    lot_id: int | None = None,
    before_id: int | None = None,
    limit: int = JOURNAL_PAGE,
    organisation_id: int | None = None,
    database_url: str | None = None,
) -> list[JournalRow]:
    """One page of the journal, newest entry first (``before_id``: entries older than that
    one), of the holdings ``viewer`` sees in detail."""
    mat = material_id(material) if material else None
    with transaction(_url(database_url)) as db:
        _require_organisation(db, organisation_id)
        query = (
            select(StockJournalEntry, StockBooking, StockLot, StockHolder)
            .join(StockBooking, StockJournalEntry.booking_id == StockBooking.id)
            .join(StockLot, StockJournalEntry.lot_id == StockLot.id)
            .join(StockHolder, StockLot.holder_id == StockHolder.id)
            .order_by(StockJournalEntry.id.desc())
        )
        if viewer is not None and not viewer.is_admin:
            query = query.where(
                (StockHolder.organisation_id == viewer.org_id) | StockHolder.shared.is_(True)
            )
        query = _of_lots(query, mat, organisation_id)
        if lot_id is not None:
            query = query.where(StockJournalEntry.lot_id == lot_id)
        if before_id is not None:
            query = query.where(StockJournalEntry.id < before_id)
        rows = db.execute(query.limit(max(1, min(limit, JOURNAL_PAGE))))
        return [
            JournalRow(
                e.id,
                b.id,
                b.at.isoformat(timespec="seconds"),
                b.kind,
                e.lot_id,
                lot.material,
                h.name,
                e.quantity_t,
                b.actor,
                b.reason,
                b.idempotency_key,
            )
            for e, b, lot, h in rows
        ]


# ---- positions and targets ---------------------------------------------------------------


def _latest_targets(db: Session, material: str | None) -> dict[tuple[str, str], StockTarget]:
    query = select(StockTarget).order_by(StockTarget.id)
    if material:
        query = query.where(StockTarget.material == material)
    return {(t.material, t.importer): t for t in db.scalars(query)}


def _gather(
    db: Session, viewer: StockViewer | None, material: str | None
) -> tuple[dict[tuple[str, str], list[float]], dict[str, float], list[str]]:
    """Stock per (material, importer) as [tonnes, holders], the pooled tonnes per material and
    notes on what was pooled."""
    stock: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    pooled: dict[str, float] = defaultdict(float)
    hidden: dict[str, int] = defaultdict(int)
    for holder, mat, tonnes in ledger.holdings(db, material):
        visible = sees_detail(holder, viewer)
        code = holder.country if (visible and holder.country) else EU
        cell = stock[(mat, code)]
        cell[0] += tonnes
        cell[1] += 1
        if not visible:
            pooled[mat] += tonnes
            hidden[mat] += 1
    notes = [
        f"{mat}: {pooled[mat]:,.1f} t held by {n} holder{'s' if n > 1 else ''} not shown per "
        "Member State (aggregate only, counted in EU27)"
        for mat, n in sorted(hidden.items())
    ]
    return stock, pooled, notes


def positions(
    viewer: StockViewer | None,
    *,
    material: str | None = None,
    organisation_id: int | None = None,
    database_url: str | None = None,
) -> Positions:
    """Stock against target per material and importer (EU27 and each Member State with stock
    or a target), tonnes, with the aggregation rule applied for ``viewer`` (as a member of
    ``organisation_id`` when given, which must exist)."""
    mat = material_id(material) if material else None
    with transaction(_url(database_url)) as db:
        _require_organisation(db, organisation_id)
        stock, pooled, notes = _gather(db, viewer, mat)
        targets = _latest_targets(db, mat)
    keys = sorted(set(stock) | set(targets), key=lambda k: (k[0], k[1] != EU, k[1]))
    rows = []
    for key in keys:
        tonnes, holders = stock.get(key, [0.0, 0.0])
        target = targets.get(key)
        rows.append(
            PositionRow(
                material=key[0],
                importer=key[1],
                stock_t=tonnes,
                target_t=None if target is None else target.target_t,
                gap_t=None if target is None else tonnes - target.target_t,
                holders=int(holders),
                pooled_t=pooled.get(key[0], 0.0) if key[1] == EU else 0.0,
                target_source=None if target is None else target.source,
            )
        )
    if not rows:
        notes.append("no holdings and no targets recorded" + (f" for {mat}" if mat else ""))
    return Positions(tuple(rows), date.today(), tuple(notes))


def stress_positions(
    material: str, viewer: StockViewer | None, *, database_url: str | None = None
) -> StockPositions:
    """Stock and target per importer code of ``material`` for a stress test, tonnes
    (see :class:`StockPositions`; ``viewer`` None: the full view of the local CLI user)."""
    answer = positions(viewer, material=material, database_url=database_url)
    mat = material_id(material)
    stock = {r.importer: r.stock_t for r in answer.rows if r.holders}
    target = {r.importer: r.target_t for r in answer.rows if r.target_t is not None}
    return StockPositions(mat, stock, target, answer.as_of, answer.notes)


def set_target(
    material: str,
    importer: str,
    target_t: float,
    *,
    source: str,
    viewer: StockViewer | None,
    database_url: str | None = None,
) -> None:
    """Store ``target_t`` tonnes as the stock target of ``importer`` (EU27 or a Member State's
    ISO3) for ``material``; ``source`` says where it comes from (e.g. "sizing run 2026-12-03,
    95 % of 1,000 runs"). The CLI, admins and analysts set any target; a member_state user
    only its own organisation's country's. Earlier targets stay as history; audited."""
    mat = material_id(material)
    code = importer_code(importer)
    if not isinstance(target_t, int | float) or not target_t >= 0 or target_t == float("inf"):
        raise LedgerError("target_t", f"{target_t!r} is not a tonnage ≥ 0", "type e.g. 1200")
    if not source.strip():
        raise LedgerError("source", "is empty", "say where the target comes from")
    with transaction(_url(database_url)) as db:
        _check_may_set(db, viewer, code)
        row = StockTarget(
            importer=code,
            material=mat,
            target_t=float(target_t),
            source=source.strip(),
            set_at=audit.utcnow(),
            set_by=_booker(viewer).actor,
        )
        db.add(row)
        _audit(
            db,
            viewer,
            "stockpile.target",
            f"{mat} {code}",
            {"target_t": float(target_t), "source": source.strip()},
            organisation_id=None if viewer is None else viewer.org_id,
        )


def _check_may_set(db: Session, viewer: StockViewer | None, code: str) -> None:
    if viewer is None or viewer.role in (Role.admin.value, Role.analyst.value):
        return
    org = db.get(Organisation, viewer.org_id)
    if viewer.role == Role.member_state.value and org is not None and org.country == code:
        return
    raise NotAllowed(
        "importer",
        f"your role may not set the stock target of {code}",
        "a Member State sets its own country's target; analysts and admins set any",
    )
