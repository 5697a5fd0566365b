"""Stress tests on the stockpile ledger's positions (``--stocks ledger``, ``stocks: "ledger"``):
real migrations, real bookings through critmat.services.stockpiles, the real store's baseline.

Ledger of these tests (cobalt): Germany's agency (org A) holds 400 t, an EU-level reserve
(org A) 100 t, France's agency (org B, not shared) 50 t; Germany's target is 600 t. The local
CLI user sees everything; an analyst of org A sees France's 50 t pooled as EU27.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmat.platform import accounts
from critmat.platform.db import transaction, upgrade
from critmat.scenarios.engine import DAYS_PER_MONTH
from critmat.scenarios.spec import LIBRARY
from critmat.services import stockpiles as sp
from critmat.services import stress, stress_output
from critmat.stockpiles.ledger import BookingKind, BookingRequest, LotSpec
from critmat.store import Store
from tests.stress.conftest import StressEnv

SCENARIO = "cobalt-drc-2025"


def _buy(url: str, holder: int, tonnes: float, key: str) -> None:
    spec = LotSpec(holder, "cobalt", "metal", "Antwerp", date(2026, 1, 5), 99.8)
    request = BookingRequest(BookingKind.purchase, 0, tonnes, new_lot=spec)
    sp.book(request, key, None, database_url=url)


def _fill(url: str, org_a: int, org_b: int, prefix: str) -> None:
    deu = sp.add_holder("BAFA cobalt", "member_state", org_a, country="DEU", database_url=url)
    eu = sp.add_holder("EU reserve", "eu", org_a, database_url=url)
    fra = sp.add_holder("SGDSN cobalt", "member_state", org_b, country="FRA", database_url=url)
    _buy(url, deu.id, 400.0, f"{prefix}-deu")
    _buy(url, eu.id, 100.0, f"{prefix}-eu")
    _buy(url, fra.id, 50.0, f"{prefix}-fra")
    sp.set_target("cobalt", "DEU", 600.0, source="test: 60 days", viewer=None, database_url=url)


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, int]:
    folder = tmp_path_factory.mktemp("ledger-stress")
    url = f"sqlite:///{folder / 'platform.sqlite'}"
    upgrade(url)
    with transaction(url) as db:
        org_a = accounts.create_org(db, "Agency A", country="DEU", actor="test").id
        org_b = accounts.create_org(db, "Agency B", country="FRA", actor="test").id
    _fill(url, org_a, org_b, "svc")
    return url, org_a, org_b


def test_ledger_positions_fill_the_stockpiles_and_the_stock_table(
    ledger_url: tuple[str, int, int], real_store: Store
) -> None:
    url, _a, _b = ledger_url
    prepared, stocks = stress.with_ledger_stocks(stress.load(SCENARIO), None, database_url=url)
    # the Union holds everything; each Member State its own
    assert prepared.scenario.responses.stockpiles == {"DEU": 400.0, "FRA": 50.0, "EU27": 550.0}
    assert stocks.target_t == {"DEU": 600.0}
    baseline = stress.baseline(real_store, prepared.scenario)
    result = stress.run(prepared, baseline)
    document = stress_output.run_document(result, stocks=stocks)
    rows = {r["importer"]: r for r in document.stocks.rows}  # type: ignore[union-attr]
    assert set(rows) == {"EU27", "DEU", "FRA"}
    deu = result.importers.index("DEU")
    daily = baseline.demand[deu] / DAYS_PER_MONTH
    assert rows["DEU"]["stock_start_t"] == 400.0 and rows["DEU"]["target_t"] == 600.0
    assert rows["DEU"]["stock_minus_target_t"] == -200.0
    assert rows["DEU"]["days_of_cover_start"] == pytest.approx(400.0 / daily)
    assert rows["DEU"]["target_days_of_cover"] == pytest.approx(600.0 / daily)
    assert rows["DEU"]["stock_drawn_t"] == pytest.approx(result.stock_draw[deu].sum())
    assert rows["DEU"]["stock_drawn_t"] > 0  # the suspension draws Germany's stock
    assert rows["DEU"]["stock_end_t"] == pytest.approx(400.0 - rows["DEU"]["stock_drawn_t"])
    assert rows["FRA"]["target_t"] is None  # no target stored: missing, not 0
    # the stock shortens the shortfall by what is drawn
    plain = stress.run(stress.load(SCENARIO), baseline)
    np.testing.assert_allclose(
        plain.shortfall[deu].sum() - result.shortfall[deu].sum(), result.stock_draw[deu].sum()
    )
    assert any("stockpile ledger as of" in n for n in document.notes)
    assert any("EU level or pooled" in n for n in document.notes)


def test_other_organisations_holdings_are_pooled_as_eu27(ledger_url: tuple[str, int, int]) -> None:
    url, org_a, _b = ledger_url
    analyst = sp.StockViewer(org_a, "analyst")
    prepared, stocks = stress.with_ledger_stocks(stress.load(SCENARIO), analyst, database_url=url)
    assert prepared.scenario.responses.stockpiles == {"DEU": 400.0, "EU27": 550.0}
    assert "FRA" not in stocks.stock_t
    assert any("not shown per Member State" in n for n in stocks.notes)


def test_an_empty_ledger_says_so(ledger_url: tuple[str, int, int]) -> None:
    url, _a, _b = ledger_url
    with pytest.raises(stress.EmptyLedger, match="holds no stock and no target of germanium"):
        stress.with_ledger_stocks(stress.load("germanium-2023"), None, database_url=url)


def _cli(data_dir: Path, *args: str) -> tuple[int, str]:
    import typer

    from critmat.commands import stress as stress_cli

    app = typer.Typer()
    stress_cli.register(app)

    @app.command()
    def other() -> None:  # a second command so that "stress" stays a sub-command
        pass

    result = CliRunner().invoke(app, ["stress", *args], env={"CRITMAT_DATA_DIR": str(data_dir)})
    return result.exit_code, result.output


def test_cli_stocks_ledger(
    tmp_path: Path, real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'platform.sqlite'}"
    upgrade(url)
    with transaction(url) as db:
        org_a = accounts.create_org(db, "Agency A", country="DEU", actor="test").id
        org_b = accounts.create_org(db, "Agency B", country="FRA", actor="test").id
    code, text = _cli(tmp_path, "run", "germanium-2023", "--stocks", "ledger")
    assert code == 2 and "holds no stock and no target of germanium" in text
    _fill(url, org_a, org_b, "cli")
    code, text = _cli(tmp_path, "run", SCENARIO, "--stocks", "ledger", "--format", "json")
    assert code == 0, text
    answer = json.loads(text)
    assert answer["params"]["stockpiles"] == {"DEU": 400.0, "FRA": 50.0, "EU27": 550.0}
    assert {r["importer"] for r in answer["stocks"]["rows"]} == {"EU27", "DEU", "FRA"}
    code, text = _cli(tmp_path, "run", SCENARIO, "--stocks", "ledger")
    assert code == 0 and "Stock from the ledger" in text and "no data" in text
    code, text = _cli(tmp_path, "montecarlo", SCENARIO, "-n", "50", "--stocks", "ledger")
    assert code == 0 and "stock: " in text and "stockpile ledger as of" in text
    code, text = _cli(tmp_path, "run", SCENARIO, "--stocks", "ledgr")
    assert code == 2 and "--stocks ledger" in text
    code, text = _cli(tmp_path, "run", SCENARIO, "--format", "json")
    assert code == 0 and "stocks" not in json.loads(text)  # the scenario's stockpiles: none


@pytest.fixture(scope="module")
def env_ledger(stress_env: StressEnv) -> StressEnv:
    """The app's platform database with the ledger of this module (cobalt only)."""
    url = stress_env.seeded.settings.platform_url
    _fill(url, stress_env.seeded.orgs["a"], stress_env.seeded.orgs["b"], "env")
    return stress_env


def test_api_stocks_ledger(api: TestClient, env_ledger: StressEnv) -> None:
    stress_env = env_ledger
    empty = api.post(
        "/api/v1/stress/run",
        json={"scenario": "germanium-2023", "stocks": "ledger"},
        headers=stress_env.headers,
    )
    assert empty.status_code == 400 and "no stock and no target" in empty.json()["error"]
    response = api.post(
        "/api/v1/stress/run",
        json={"scenario": SCENARIO, "stocks": "ledger"},
        headers=stress_env.headers,
    )
    assert response.status_code == 200, response.text[:300]
    answer = response.json()
    assert answer["params"]["stockpiles"] == {"DEU": 400.0, "EU27": 550.0}  # FRA pooled
    rows = {r["importer"]: r for r in answer["stocks"]["rows"]}
    assert rows["DEU"]["target_t"] == 600.0 and rows["DEU"]["stock_drawn_t"] > 0
    assert any("not shown per Member State" in n for n in answer["stocks"]["notes"])
    plain = api.post("/api/v1/stress/run", json={"scenario": SCENARIO}, headers=stress_env.headers)
    assert "stocks" not in plain.json()
    bad = api.post(
        "/api/v1/stress/run",
        json={"scenario": SCENARIO, "stocks": "ledgr"},
        headers=stress_env.headers,
    )
    assert bad.status_code == 422


def test_page_checkbox_runs_on_the_ledger(
    browser_client: TestClient, env_ledger: StressEnv
) -> None:
    page = browser_client.get(f"/stress?scenario={SCENARIO}").text
    assert 'name="stocks" value="ledger"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "yaml": (LIBRARY / f"{SCENARIO}.yaml").read_text(encoding="utf-8"),
        "scenario": SCENARIO,
        "member": "DEU",
        "runs": "0",
        "seed": "1",
        "stocks": "ledger",
    }
    response = browser_client.post("/stress/run", data=form)
    assert response.status_code == 200, response.text[:2000]
    assert 'data-table="stress-stocks"' in response.text
    assert "not shown per Member State" in response.text  # France's holding, pooled
    download = browser_client.post("/stress/download/stocks.csv", data=form)
    assert download.status_code == 200
    lines = download.text.splitlines()
    assert any(line.startswith("DEU,400") for line in lines), lines[:12]
    empty = browser_client.post(
        "/stress/run",
        data={**form, "yaml": (LIBRARY / "germanium-2023.yaml").read_text(encoding="utf-8")},
    )
    assert empty.status_code == 422 and "holds no stock and no target" in empty.text
    assert 'data-field="stocks"' in empty.text
