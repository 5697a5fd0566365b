"""The ledger's rules through the service (SQLite): clear refusals naming the field,
idempotency conflicts, who sees what, stock against targets, and migration 0005 up and down
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from critmat.errors import UnknownNameError
from critmat.platform import accounts
from critmat.platform.db import _alembic_config, engine_for, transaction
from critmat.services import stockpiles as sp
from critmat.stockpiles.ledger import (
    BookingKind,
    BookingRequest,
    IdempotencyConflict,
    InsufficientStock,
    LedgerError,
    LotSpec,
    NotAllowed,
    NotFound,
)
from tests.platform_support import fresh_postgres_database
from tests.stockpiles.ledger.support import Ledger, migrated_ledger, open_lot

LEDGER_TABLES = {"stock_holders", "stock_lots", "stock_bookings", "stock_journal", "stock_targets"}


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return migrated_ledger(f"sqlite:///{tmp_path / 'platform.sqlite'}")


def test_a_release_larger_than_the_lot_is_refused_and_books_nothing(ledger: Ledger) -> None:
    lot = open_lot(ledger, 40.0, "open")
    with pytest.raises(InsufficientStock) as refused:
        sp.book(BookingRequest(BookingKind.release, lot, 55.0), "r1", None, database_url=ledger.url)
    assert f"lot {lot} holds 40.0 t; a release of 55.0 t was refused" in str(refused.value)
    assert refused.value.status == 409 and refused.value.where == "quantity_t"
    assert [r.quantity_t for r in sp.journal(None, database_url=ledger.url)] == [40.0]
    whole = sp.book(
        BookingRequest(BookingKind.release, lot, 40.0), "r2", None, database_url=ledger.url
    )
    assert whole.balances_t == {lot: 0.0}


@pytest.mark.parametrize(
    ("request_", "where"),
    [
        (BookingRequest(BookingKind.release, 1, 0.0), "quantity_t"),
        (BookingRequest(BookingKind.release, 1, -3.0), "quantity_t"),
        (BookingRequest(BookingKind.release, 1, float("nan")), "quantity_t"),
        (BookingRequest(BookingKind.transfer, 1, 3.0), "into_lot"),
        (BookingRequest(BookingKind.transfer, 1, 3.0, 1), "into_lot"),
        (BookingRequest(BookingKind.release, 1, 3.0, 2), "into_lot"),
    ],
)
def test_bad_bookings_name_the_field(ledger: Ledger, request_: BookingRequest, where: str) -> None:
    open_lot(ledger, 10.0, "open")
    with pytest.raises(LedgerError) as bad:
        sp.book(request_, "bad", None, database_url=ledger.url)
    assert bad.value.where == where and bad.value.hint


def test_same_key_other_body_is_a_conflict(ledger: Ledger) -> None:
    lot = open_lot(ledger, 10.0, "open")
    first = sp.book(
        BookingRequest(BookingKind.release, lot, 2.0), "k", None, database_url=ledger.url
    )
    again = sp.book(
        BookingRequest(BookingKind.release, lot, 2.0), "k", None, database_url=ledger.url
    )
    assert (again.id, again.replayed, again.balances_t) == (first.id, True, {lot: 8.0})
    with pytest.raises(IdempotencyConflict) as clash:
        sp.book(BookingRequest(BookingKind.release, lot, 3.0), "k", None, database_url=ledger.url)
    assert clash.value.status == 409 and f"booking {first.id}" in str(clash.value)


def test_unknown_material_suggests_and_bad_lot_fields_are_named(ledger: Ledger) -> None:
    spec = LotSpec(ledger.holder_id, "galium", "metal", "Hamburg", date(2026, 1, 1))
    with pytest.raises(UnknownNameError) as unknown:
        sp.book(
            BookingRequest(BookingKind.purchase, 0, 1.0, new_lot=spec),
            "m",
            None,
            database_url=ledger.url,
        )
    assert "gallium" in unknown.value.suggestions
    bad = LotSpec(ledger.holder_id, "gallium", "metal", "Hamburg", date(2026, 1, 1), purity_pct=140)
    with pytest.raises(LedgerError, match="purity_pct"):
        sp.book(
            BookingRequest(BookingKind.purchase, 0, 1.0, new_lot=bad),
            "p",
            None,
            database_url=ledger.url,
        )


def test_other_organisations_see_aggregates_only_until_shared(ledger: Ledger) -> None:
    lot = open_lot(ledger, 120.0, "open")
    with transaction(ledger.url) as db:
        other = accounts.create_org(db, "Other agency", country="FRA", actor="test").id
    outsider = sp.StockViewer(other, "member_state")
    owner = sp.StockViewer(ledger.org_id, "member_state")
    assert sp.list_lots(outsider, database_url=ledger.url) == []
    assert sp.journal(outsider, database_url=ledger.url) == []
    seen = sp.stress_positions("gallium", outsider, database_url=ledger.url)
    assert seen.stock_t == {"EU27": 120.0} and "aggregate only" in seen.notes[0]
    assert sp.stress_positions("Ga", owner, database_url=ledger.url).stock_t == {"DEU": 120.0}
    with pytest.raises(NotFound):  # an outsider cannot book on the lot
        sp.book(
            BookingRequest(BookingKind.release, lot, 1.0), "x", outsider, database_url=ledger.url
        )
    shared = sp.add_holder(
        "Shared stock",
        "member_state",
        ledger.org_id,
        country="DEU",
        shared=True,
        database_url=ledger.url,
    )
    sp.book(
        BookingRequest(
            BookingKind.purchase,
            0,
            5.0,
            new_lot=LotSpec(shared.id, "gallium", "oxide", "Antwerp", date(2026, 2, 1)),
        ),
        "s",
        owner,
        database_url=ledger.url,
    )
    assert [lot.holder for lot in sp.list_lots(outsider, database_url=ledger.url)] == [
        "Shared stock"
    ]
    assert sp.stress_positions("gallium", outsider, database_url=ledger.url).stock_t == {
        "EU27": 120.0,
        "DEU": 5.0,
    }


def test_targets_are_set_with_their_source_and_checked(ledger: Ledger) -> None:
    open_lot(ledger, 30.0, "open")
    sp.set_target(
        "gallium", "DEU", 100.0, source="sizing run 1", viewer=None, database_url=ledger.url
    )
    sp.set_target(
        "gallium", "DEU", 80.0, source="sizing run 2", viewer=None, database_url=ledger.url
    )
    sp.set_target("gallium", "EU27", 500.0, source="60 days", viewer=None, database_url=ledger.url)
    rows = sp.positions(None, material="gallium", database_url=ledger.url).rows
    by_importer = {r.importer: r for r in rows}
    assert by_importer["DEU"].target_t == 80.0 and by_importer["DEU"].gap_t == -50.0
    assert by_importer["DEU"].target_source == "sizing run 2"
    assert by_importer["EU27"].stock_t == 0.0 and by_importer["EU27"].target_t == 500.0
    assert sp.stress_positions("gallium", None, database_url=ledger.url).target_t == {
        "DEU": 80.0,
        "EU27": 500.0,
    }
    with pytest.raises(LedgerError, match="importer"):
        sp.set_target("gallium", "USA", 1.0, source="x", viewer=None, database_url=ledger.url)
    with pytest.raises(LedgerError, match="target_t"):
        sp.set_target("gallium", "DEU", -1.0, source="x", viewer=None, database_url=ledger.url)
    with pytest.raises(NotAllowed):
        sp.set_target(
            "gallium",
            "FRA",
            1.0,
            source="x",
            viewer=sp.StockViewer(ledger.org_id, "member_state"),
            database_url=ledger.url,
        )
    sp.set_target(
        "gallium",
        "DEU",
        90.0,
        source="own",
        viewer=sp.StockViewer(ledger.org_id, "member_state"),
        database_url=ledger.url,
    )


def _migrate_down_and_up(url: str) -> None:
    config = _alembic_config(url)
    engine = engine_for(url)
    for target, present in (("head", True), ("0004", False), ("head", True)):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.upgrade if target == "head" else command.downgrade)(config, target)
        tables = set(sa.inspect(engine).get_table_names())
        assert (tables >= LEDGER_TABLES) is present and not (LEDGER_TABLES & tables and not present)
    migrated_ledger(url, "After migration")  # the schema works after down and up


def test_migration_0005_up_and_down_on_sqlite(tmp_path: Path) -> None:
    _migrate_down_and_up(f"sqlite:///{tmp_path / 'platform.sqlite'}")


def test_migration_0005_up_and_down_on_postgres() -> None:
    with fresh_postgres_database("critmat_ledger_mig") as url:
        _migrate_down_and_up(url)
