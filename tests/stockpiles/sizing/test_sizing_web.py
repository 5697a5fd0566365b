"""The /stockpiles/sizing page: who may open it, the result with its chart and tables, the
downloads, save as target (CSRF-checked, stored through the ledger) and a bad request."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from critmat.services import stockpiles
from tests.login_support import web_login
from tests.platform_support import Seeded

QUERY = "materials=cobalt&runs=40&seed=3&price=33000"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the API test covers PostgreSQL
def test_sizing_page_result_downloads_and_target(app_client: TestClient, seeded: Seeded) -> None:
    assert web_login(app_client, seeded.users["company@a"]).status_code == 303
    assert app_client.get("/stockpiles/sizing").status_code == 403
    app_client.cookies.clear()
    assert web_login(app_client, seeded.users["analyst@a"]).status_code == 303
    empty = app_client.get("/stockpiles/sizing")
    assert empty.status_code == 200 and 'name="materials"' in empty.text
    page = app_client.get(f"/stockpiles/sizing?{QUERY}")
    assert page.status_code == 200, page.text[:500]
    assert 'id="fig-sizing"' in page.text and "60 days" in page.text
    assert "cobalt-drc-2025" in page.text and "HiGHS" in page.text

    stocks = app_client.get(f"/stockpiles/sizing/stocks.csv?{QUERY}")
    assert stocks.status_code == 200
    rows = list(csv.reader(io.StringIO(stocks.text)))
    header = next(r for r in rows if "Sized stock (t)" in r)
    data = rows[rows.index(header) + 1]
    stock_t = float(data[header.index("Sized stock (t)")])
    assert stock_t > 0
    curve = app_client.get(f"/stockpiles/sizing/curve.xlsx?{QUERY}")
    assert curve.status_code == 200 and curve.content[:2] == b"PK"

    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert 'action="/stockpiles/sizing/target?' in page.text
    refused = app_client.post(f"/stockpiles/sizing/target?{QUERY}", data={})
    assert refused.status_code == 403
    saved = app_client.post(f"/stockpiles/sizing/target?{QUERY}", data={"csrf_token": token})
    assert saved.status_code == 200 and "Stored 1 stock target" in saved.text
    positions = stockpiles.stress_positions(
        "cobalt", None, database_url=seeded.settings.platform_url
    )
    assert abs(positions.target_t["EU27"] - stock_t) <= 1e-6 * stock_t + 1e-3

    bad = app_client.get("/stockpiles/sizing?materials=gallium&runs=40")
    assert bad.status_code == 400 and "no scenario of gallium" in bad.text
    too_many = app_client.get("/stockpiles/sizing?materials=cobalt&runs=0")
    assert too_many.status_code == 422
