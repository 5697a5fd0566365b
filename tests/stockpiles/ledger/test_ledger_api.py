"""``/api/v1/stockpiles`` (SQLite): a company registers a holder, opens a lot,
books; a retry with the same Idempotency-Key answers the first booking; refusals carry
``error`` and ``problems``; another organisation's member-state user sees the stock pooled into
EU27 only; targets are set by analysts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import app_client, bearer, seeded  # noqa: F401  (fixtures)
from tests.platform_support import Seeded


@pytest.fixture
def backend() -> str:
    """SQLite only: the ledger's PostgreSQL path is tested through the service
    (test_concurrency_postgres, test_ledger_rules); the app's start takes most of this test."""
    return "sqlite"


def test_holdings_over_the_api(app_client: TestClient, seeded: Seeded) -> None:  # noqa: F811
    org = seeded.orgs["a"]
    company = bearer(app_client, seeded.users["company@a"])
    base = f"/api/v1/stockpiles/orgs/{org}"
    holder = app_client.post(
        f"{base}/holders",
        headers=company,
        json={"name": "Magnets Co stock", "level": "company", "country": "ITA"},
    )
    assert holder.status_code == 201, holder.text
    open_lot = {
        "kind": "purchase",
        "quantity_t": 12.5,
        "new_lot": {
            "holder_id": holder.json()["id"],
            "material": "NdFeB magnets",
            "form": "alloy",
            "location": "Turin",
            "acquired_on": "2026-03-01",
            "purity_pct": 99.0,
        },
    }
    first = app_client.post(
        f"{base}/bookings", json=open_lot, headers={**company, "Idempotency-Key": "open-1"}
    )
    assert first.status_code == 201, first.text
    again = app_client.post(
        f"{base}/bookings", json=open_lot, headers={**company, "Idempotency-Key": "open-1"}
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    lot = first.json()["entries"][0]["lot_id"]
    too_much = app_client.post(
        f"{base}/bookings",
        headers={**company, "Idempotency-Key": "r-1"},
        json={"kind": "release", "lot_id": lot, "quantity_t": 20},
    )
    assert too_much.status_code == 409
    assert f"lot {lot} holds 12.5 t; a release of 20.0 t was refused" in too_much.json()["error"]
    assert too_much.json()["problems"] == [
        {"where": "quantity_t", "problem": too_much.json()["problems"][0]["problem"]}
    ]
    clash = app_client.post(
        f"{base}/bookings",
        headers={**company, "Idempotency-Key": "open-1"},
        json={**open_lot, "quantity_t": 13},
    )
    assert clash.status_code == 409 and clash.json()["problems"][0]["where"] == "idempotency_key"
    keyless = app_client.post(
        f"{base}/bookings",
        headers=company,
        json={"kind": "release", "lot_id": lot, "quantity_t": 1},
    )
    assert (
        keyless.status_code == 422 and "Idempotency-Key" in keyless.json()["problems"][0]["where"]
    )
    zero = app_client.post(
        f"{base}/bookings",
        headers={**company, "Idempotency-Key": "z"},
        json={"kind": "release", "lot_id": lot, "quantity_t": 0},
    )
    assert zero.status_code == 422 and zero.json()["problems"]
    ok = app_client.post(
        f"{base}/bookings",
        headers={**company, "Idempotency-Key": "r-2"},
        json={"kind": "release", "lot_id": lot, "quantity_t": 2.5, "reason": "x"},
    )
    assert ok.status_code == 201 and ok.json()["balances_t"] == {str(lot): 10.0}
    lots = app_client.get(f"{base}/lots", headers=company).json()
    assert [(x["material"], x["balance_t"]) for x in lots] == [("ree-magnets", 10.0)] or lots[0][
        "balance_t"
    ] == 10.0
    assert [e["quantity_t"] for e in app_client.get(f"{base}/journal", headers=company).json()] == [
        -2.5,
        12.5,
    ]
    material = lots[0]["material"]
    other = bearer(app_client, seeded.users["member_state@b"])
    seen = app_client.get(
        "/api/v1/stockpiles/positions", headers=other, params={"material": material}
    ).json()
    assert [(r["importer"], r["stock_t"]) for r in seen["rows"]] == [("EU27", 10.0)]
    assert "aggregate only" in seen["notes"][0]
    own = app_client.get(f"{base}/positions", headers=company, params={"material": material}).json()
    assert [(r["importer"], r["stock_t"]) for r in own["rows"]] == [("ITA", 10.0)]
    analyst = bearer(app_client, seeded.users["analyst@b"])
    put = app_client.put(
        "/api/v1/stockpiles/targets",
        headers=analyst,
        json={"material": material, "importer": "ITA", "target_t": 30, "source": "60 days"},
    )
    assert put.status_code == 204, put.text
    bad = app_client.put(
        "/api/v1/stockpiles/targets",
        headers=analyst,
        json={"material": material, "importer": "USA", "target_t": 30, "source": "x"},
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["where"] == "importer"
    rows = app_client.get(f"{base}/positions", headers=company, params={"material": material})
    assert [(r["importer"], r["gap_t"]) for r in rows.json()["rows"]] == [("ITA", -20.0)]
    # the page: chart and table as the other organisation sees them, downloads, journal
    page = app_client.get("/stockpiles", headers=other, params={"material": material})
    assert page.status_code == 200, page.text
    assert "fig-stock" in page.text and "aggregate only" in page.text
    assert "Magnets Co stock" not in page.text  # another organisation's unshared holder
    assert 'href="/stockpiles/sizing"' in page.text
    own_page = app_client.get(
        "/stockpiles", headers=bearer(app_client, seeded.users["member_state@a"])
    )
    assert "Magnets Co stock" in own_page.text  # the journal of the organisation's own holdings
    csv_body = app_client.get("/stockpiles/positions.csv", headers=other).text
    assert "EU27" in csv_body and "Stock held (t)" in csv_body
    xlsx = app_client.get("/stockpiles/journal.xlsx", headers=other)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert app_client.get("/stockpiles", headers=company).status_code == 403
    # the organisation's own holdings page: company users reach it, with lots and balances
    holdings = app_client.get(f"/stockpiles/orgs/{org}", headers=company)
    assert holdings.status_code == 200 and "Magnets Co stock" in holdings.text
    lots_csv = app_client.get(f"/stockpiles/orgs/{org}/lots.csv", headers=company).text
    assert "Balance, the sum of the journal (t)" in lots_csv and "10.0" in lots_csv
    assert (
        app_client.get(f"/stockpiles/orgs/{seeded.orgs['b']}", headers=company).status_code == 403
    )
