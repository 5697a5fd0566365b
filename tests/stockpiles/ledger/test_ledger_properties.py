"""Ledger invariants under random sequences of bookings (hypothesis, SQLite): a lot's balance
is the sum of its journal and equals a plain model of the bookings; no lot goes below zero (a
withdrawal above the balance is refused and books nothing); a retry with the same key and
body books nothing new and returns the first booking."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmat.services import stockpiles as sp
from critmat.stockpiles.ledger import BookingKind, BookingRequest, InsufficientStock
from tests.stockpiles.ledger.support import (
    Ledger,
    booking_keys,
    journal_sums,
    migrated_ledger,
    open_lot,
)

_counter = itertools.count()

KINDS = st.sampled_from(list(BookingKind))
STEP = st.tuples(
    KINDS,
    st.integers(0, 2),  # lot index
    st.integers(0, 2),  # receiving lot index (transfers, rotations)
    st.floats(0.001, 80.0, allow_nan=False),
    st.booleans(),  # retried with the same key
)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    path: Path = tmp_path_factory.mktemp("ledger") / "platform.sqlite"
    return migrated_ledger(f"sqlite:///{path}")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.lists(st.floats(1.0, 50.0), min_size=3, max_size=3), steps=st.lists(STEP, max_size=12)
)
def test_random_bookings_keep_balance_equal_to_journal_and_never_negative(
    ledger: Ledger, start: list[float], steps: list[tuple[BookingKind, int, int, float, bool]]
) -> None:
    run = next(_counter)
    lots = [open_lot(ledger, tonnes, f"prop-{run}-open-{i}") for i, tonnes in enumerate(start)]
    model = dict(zip(lots, start, strict=True))
    for n, (kind, a, b, tonnes, retry) in enumerate(steps):
        lot, into = lots[a], lots[b]
        if kind.moves and lot == into:
            into = lots[(b + 1) % 3]
        request = BookingRequest(kind, lot, tonnes, into if kind.moves else None)
        key = f"prop-{run}-{n}"
        keys_before = len(booking_keys(ledger.url))
        try:
            first = sp.book(request, key, None, database_url=ledger.url)
        except InsufficientStock as exc:
            assert tonnes > model[lot] and f"lot {lot} holds" in str(exc)
            assert len(booking_keys(ledger.url)) == keys_before
            continue
        assert kind is BookingKind.purchase or tonnes <= model[lot] + 1e-9
        model[lot] += tonnes if kind is BookingKind.purchase else -tonnes
        if kind.moves:
            model[into] += tonnes
        if retry:
            again = sp.book(request, key, None, database_url=ledger.url)
            assert again.id == first.id and again.replayed and not first.replayed
            assert len(booking_keys(ledger.url)) == keys_before + 1
        sums = journal_sums(ledger.url)
        for held in lots:
            assert sums[held] >= -1e-9
            assert abs(sums[held] - model[held]) < 1e-6
            assert abs(first.balances_t.get(held, sums[held]) - sums[held]) < 1e-6
