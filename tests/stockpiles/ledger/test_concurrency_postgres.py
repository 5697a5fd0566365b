"""Must hold (issue 11): 200 concurrent purchase, release and transfer requests against
PostgreSQL, 40 of them retried with the same idempotency key — final balances equal the
journal, nothing is lost, nothing is booked twice, a release larger than its lot is refused
with a clear message, every booking is audited once. Fails (not skips) with ``CI=true`` when
the server is absent (:func:`tests.platform_support.postgres_database`)."""

from __future__ import annotations

from pathlib import Path

from critmat.platform.db import transaction
from tests.platform_support import fresh_postgres_database
from tests.stockpiles.ledger.burst import run_burst
from tests.stockpiles.ledger.support import migrated_ledger


def test_two_hundred_concurrent_bookings_on_postgres_keep_the_ledger_exact() -> None:
    with fresh_postgres_database("critmat_ledger") as url:
        ledger = migrated_ledger(url)
        with transaction(url) as db:
            assert db.get_bind().dialect.name == "postgresql"
        run_burst(ledger, threads=24)


def test_two_hundred_concurrent_bookings_on_sqlite_keep_the_ledger_exact(tmp_path: Path) -> None:
    run_burst(migrated_ledger(f"sqlite:///{tmp_path / 'platform.sqlite'}"), threads=8, seed=5)
