"""200 concurrent purchases, releases and transfers on a few lots, some sent twice with the
same idempotency key, through the service with one connection per thread; and what must hold
afterwards (used by the PostgreSQL and the SQLite concurrency tests)."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from critmat.platform.db import transaction
from critmat.platform.models import AuditEntry
from critmat.services import stockpiles as sp
from critmat.stockpiles.ledger import BookingKind, BookingRequest, InsufficientStock
from tests.stockpiles.ledger.support import Ledger, booking_keys, journal_sums, open_lot

REQUESTS = 200
RETRIED = 40
LOTS = 4
START_T = 100.0


@dataclass(frozen=True)
class Sent:
    key: str
    request: BookingRequest


@dataclass(frozen=True)
class Outcome:
    sent: Sent
    booking_id: int | None
    replayed: bool
    refused: str | None


def plan(lots: list[int], seed: int) -> list[Sent]:
    """:data:`REQUESTS` requests (purchases, releases, transfers; one release far above any
    lot), then :data:`RETRIED` of them again with the same key and body, shuffled."""
    rng = random.Random(seed)
    sent = []
    for i in range(REQUESTS - RETRIED):
        lot = rng.choice(lots)
        roll = rng.random()
        if roll < 0.4:
            request = BookingRequest(BookingKind.purchase, lot, float(rng.randint(1, 20)))
        elif roll < 0.85:
            request = BookingRequest(BookingKind.release, lot, float(rng.randint(1, 40)))
        else:
            other = rng.choice([x for x in lots if x != lot])
            request = BookingRequest(BookingKind.transfer, lot, float(rng.randint(1, 30)), other)
        sent.append(Sent(f"burst-{seed}-{i}", request))
    sent[0] = Sent(sent[0].key, BookingRequest(BookingKind.release, lots[0], 10_000.0))
    retries = rng.sample(sent, RETRIED)
    everything = sent + retries
    rng.shuffle(everything)
    return everything


def send(ledger: Ledger, item: Sent) -> Outcome:
    try:
        answer = sp.book(item.request, item.key, None, database_url=ledger.url)
    except InsufficientStock as exc:
        return Outcome(item, None, False, str(exc))
    return Outcome(item, answer.id, answer.replayed, None)


def run_burst(ledger: Ledger, threads: int, seed: int = 11) -> None:
    """Open the lots, send the burst from ``threads`` threads and check every rule."""
    lots = [open_lot(ledger, START_T, f"open-{seed}-{i}") for i in range(LOTS)]
    items = plan(lots, seed)
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(lambda item: send(ledger, item), items))
    check(ledger, lots, outcomes)


def check(ledger: Ledger, lots: list[int], outcomes: list[Outcome]) -> None:
    assert len(outcomes) == REQUESTS  # nothing lost: every request has an answer
    by_key: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_key.setdefault(outcome.sent.key, []).append(outcome)
    booked: dict[str, BookingRequest] = {}
    for key, answers in by_key.items():
        # a refusal books nothing, so a retry may be booked later when the lot holds more
        ids = {a.booking_id for a in answers} - {None}
        assert len(ids) <= 1, f"{key} answered bookings {ids}: booked twice"
        if ids:
            booked[key] = answers[0].sent.request
            firsts = [a for a in answers if a.booking_id and not a.replayed]
            assert len(firsts) == 1, f"{key}: {len(firsts)} answers say they booked it"
    stored = Counter(booking_keys(ledger.url))
    assert all(n == 1 for n in stored.values())
    assert set(stored) - {k for k in stored if k.startswith("open-")} == set(booked)
    # final balances equal the journal, and the journal equals what the clients were told
    expected = dict.fromkeys(lots, START_T)
    for request in booked.values():
        sign = 1.0 if request.kind is BookingKind.purchase else -1.0
        expected[request.lot_id] += sign * request.quantity_t
        if request.into_lot_id is not None:
            expected[request.into_lot_id] += request.quantity_t
    sums = journal_sums(ledger.url)
    listed = {lot.id: lot.balance_t for lot in sp.list_lots(None, database_url=ledger.url)}
    for lot in lots:
        assert sums[lot] == listed[lot] >= 0.0
        assert abs(sums[lot] - expected[lot]) < 1e-6
    positions = sp.stress_positions("gallium", None, database_url=ledger.url)
    assert abs(positions.stock_t["DEU"] - sum(sums[lot] for lot in lots)) < 1e-6
    huge = by_key[next(iter(k for k in by_key if k.endswith("-0")))][0]
    assert huge.refused is not None and "a release of 10,000.0 t was refused" in huge.refused
    assert f"lot {lots[0]} holds" in huge.refused
    with transaction(ledger.url) as db:
        audited = db.scalars(
            select(AuditEntry.target).where(
                AuditEntry.action.in_(
                    ["stockpile.purchase", "stockpile.release", "stockpile.transfer"]
                )
            )
        )
        assert Counter(audited) == Counter(
            f"booking {i}" for i in {o.booking_id for o in outcomes if o.booking_id}
        ) + Counter(f"booking {i}" for i in range(1, LOTS + 1))
