"""Release allocation and triggers end to end: the requests file, the audit log, triggers in
SQLite and PostgreSQL (migration 0006 up and down), a stress run firing stored triggers, the
API routes and the CLI."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
import typer
from alembic import command
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from critmat.errors import InputFileError, UnknownNameError
from critmat.platform.db import _alembic_config, close_platform, engine_for, transaction, upgrade
from critmat.platform.models import AuditEntry
from critmat.services import stockpile_release as service
from critmat.stockpiles.allocation import AllocationInputError, Request
from critmat.stockpiles.triggers import TriggerInputError, TriggerSpec
from critmat.store import Store
from tests.platform_support import postgres_database
from tests.stockpiles.release.conftest import ReleaseEnv

CSV = """member_state,sector,requested_t,consumption_t,tier,declines
DEU,defence,100,500,1,no
FRA,defence,30,300,1,
ITA,automotive,500,1000,2,
ESP,automotive,200,200,2,yes
POL,automotive,300,100,2,
"""


def _audit(url: str, action: str) -> list[AuditEntry]:
    with transaction(url) as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ================================================================================ requests
def test_requests_file_is_read_and_its_errors_name_row_and_column() -> None:
    requests = service.read_requests(CSV)
    assert [r.member_state for r in requests] == ["DEU", "FRA", "ITA", "ESP", "POL"]
    assert requests[3].declines and not requests[1].declines and requests[2].tier == 2
    bad = [
        ("member_state,requested_t\nDEU,1\n", 1, None, "missing column(s) sector"),
        (CSV.replace("FRA,defence,30", "FRA,defence,thirty"), 3, "requested_t", "not a number"),
        (CSV.replace("ITA,automotive,500,1000,2", "ITA,automotive,500,1000,0"), 4, "tier", "tier"),
        (CSV.replace("POL,automotive,300", "POL,automotive,-3"), 6, "requested_t", "not ≥ 0"),
        (CSV.replace("2,yes", "2,maybe"), 5, "declines", "yes or no"),
    ]
    for text, row, field, words in bad:
        with pytest.raises(InputFileError) as caught:
            service.read_requests(text, "r.csv")
        assert caught.value.row == row and caught.value.field == field
        assert words in str(caught.value)


def test_allocation_inputs_the_rule_refuses_are_listed() -> None:
    requests = [Request("DEU", "defence", 10, None), Request("DEU", "defence", 5, 3)]
    with pytest.raises(AllocationInputError) as caught:
        service.allocate_release(10, requests, "proportional", source="t", audit_mode="off")
    wheres = [p["where"] for p in caught.value.problems]
    assert wheres == ["requests[0].consumption_t", "requests[1]"]
    # maxmin does not need consumption; the repeated pair is still refused
    with pytest.raises(AllocationInputError):
        service.allocate_release(10, requests, "maxmin", source="t", audit_mode="off")


def test_allocation_is_audited_with_inputs_and_decisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    upgrade(url)
    answer = service.allocate_release(
        400, service.read_requests(CSV), "maxmin", source="requests.csv", database_url=url
    )
    assert answer.allocated_t == 400 and answer.tiers[0].passed_on_t == 270
    assert {m.member_state: m.allocated_t for m in answer.member_states}["ESP"] == 0
    (entry,) = _audit(url, "stockpile.release.allocate")
    assert entry.actor == "cli" and entry.target == "requests.csv"
    assert entry.details["inputs"]["requests"] == 5 and entry.details["inputs"]["rule"] == "maxmin"
    assert entry.details["decisions"]["by_member_state_t"]["DEU"] == 100
    close_platform(url)


def test_without_a_platform_database_the_cli_mode_says_it_was_not_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    answer = service.allocate_release(
        400,
        service.read_requests(CSV),
        "maxmin",
        source="x",
        database_url=url,
        audit_mode="best_effort",
    )
    assert any("not recorded in the audit log" in n for n in answer.notes)
    close_platform(url)


# ================================================================================ triggers
def _triggers_round_trip(url: str) -> None:
    upgrade(url)
    shortfall = service.add_trigger(
        TriggerSpec(
            "REE",
            "shortfall",
            "proportional",
            threshold_pct=20,
            months=2,
            tiers={"other (not split)": 2},
        ),
        agreed_by="Council conclusions (test)",
        agreed_on=date(2026, 11, 20),
        database_url=url,
    )
    measure = service.add_trigger(
        TriggerSpec("rare earths", "measure", "maxmin", measure_id="CN-2025-018"),
        agreed_by="Commission (test)",
        agreed_on=date(2026, 11, 21),
        database_url=url,
    )
    assert shortfall.material == measure.material == "rare_earths"
    assert [t.id for t in service.list_triggers("rare_earths", database_url=url)] == [
        shortfall.id,
        measure.id,
    ]
    removed = service.remove_trigger(measure.id, database_url=url)
    assert removed.removed
    assert [t.id for t in service.list_triggers(database_url=url)] == [shortfall.id]
    assert len(service.list_triggers(include_removed=True, database_url=url)) == 2
    with pytest.raises(UnknownNameError):
        service.remove_trigger(measure.id, database_url=url)
    assert len(_audit(url, "stockpile.trigger.add")) == 2
    assert len(_audit(url, "stockpile.trigger.remove")) == 1
    with pytest.raises(TriggerInputError) as caught:
        service.add_trigger(
            TriggerSpec("REE", "shortfall", "fair", importer="XXX", tiers={"defence": 0}),
            agreed_by="x",
            agreed_on=date(2026, 1, 1),
            database_url=url,
        )
    wheres = {p["where"] for p in caught.value.problems}
    assert wheres == {"rule", "threshold_pct", "months", "importer", "tiers.defence"}


def test_triggers_on_sqlite_and_migration_0006_down_and_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    _triggers_round_trip(url)
    config = _alembic_config(url)
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert "release_triggers" not in inspect(engine_for(url)).get_table_names()
    assert upgrade(url) == "0006"
    assert "release_triggers" in inspect(engine_for(url)).get_table_names()
    close_platform(url)


def test_triggers_on_postgresql() -> None:
    url = postgres_database(f"critmat_release_{uuid.uuid4().hex[:8]}")
    try:
        _triggers_round_trip(url)
    finally:
        close_platform(url)


# ================================================================================ from stress
def test_a_stress_run_fires_the_stored_triggers(real_data_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    upgrade(url)
    add = dict(agreed_by="test", agreed_on=date(2026, 1, 1), database_url=url)
    fires = service.add_trigger(
        TriggerSpec(
            "rare_earths",
            "shortfall",
            "proportional",
            threshold_pct=20,
            months=2,
            tiers={"other (not split)": 2},
        ),
        **add,
    )
    never = service.add_trigger(
        TriggerSpec("rare_earths", "shortfall", "maxmin", threshold_pct=99, months=1), **add
    )
    measure = service.add_trigger(
        TriggerSpec("rare_earths", "measure", "equal_loss", measure_id="CN-2025-018"), **add
    )
    store = Store(real_data_dir / "critmat.duckdb", read_only=True)
    try:
        answer = service.simulate_from_stress(
            "rare-earths-2025-04", store, stock_t=800, database_url=url
        )
    finally:
        store.close()
    by_id = {f.trigger.id: f for f in answer.firings}
    # The run's EU27 shortfall is 41.9 % in its first three months: two in a row by 2025-05.
    assert by_id[fires.id].fired and by_id[fires.id].month == "2025-05"
    assert not by_id[never.id].fired and by_id[never.id].allocation is None
    assert by_id[measure.id].fired and by_id[measure.id].month_index == 0
    allocation = by_id[fires.id].allocation
    assert allocation is not None and allocation.stock_t == 800
    assert allocation.requested_t > 800 and allocation.allocated_t <= 800
    assert 800 - allocation.allocated_t <= len(allocation.awards) * allocation.unit_t
    # tier 1 (every sector but "other") is met before tier 2 gets anything, or tier 2 gets 0
    tier1, tier2 = allocation.tiers
    assert tier2.allocated_t == 0 or tier1.allocated_t == pytest.approx(tier1.requested_t)
    assert {a.member_state for a in allocation.awards} <= set(service.stress.member_states())
    (entry,) = _audit(url, "stockpile.release.simulate")
    assert [d["fired"] for d in entry.details["decisions"]] == [True, False, True]
    close_platform(url)


# ================================================================================ API
def _body(**change: object) -> dict[str, object]:
    body: dict[str, object] = {
        "stock_t": 400,
        "rule": "equal_loss",
        "requests": [
            {
                "member_state": r.member_state,
                "sector": r.sector,
                "requested_t": r.requested_t,
                "consumption_t": r.consumption_t,
                "tier": r.tier,
                "declines": r.declines,
            }
            for r in service.read_requests(CSV)
        ],
    }
    body.update(change)
    return body


def test_api_release_answers_explains_and_audits(api, release_env: ReleaseEnv) -> None:
    response = api.post("/api/v1/stockpiles/release", json=_body(), headers=release_env.headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["rule"] == "equal_loss" and answer["allocated_t"] <= 400
    assert all(a["why"] for a in answer["awards"])
    entries = _audit(release_env.url, "stockpile.release.allocate")
    assert entries and entries[-1].actor == release_env.seeded.users["analyst@a"]
    refused = api.post(
        "/api/v1/stockpiles/release", json=_body(), headers=release_env.headers("company")
    )
    assert refused.status_code == 403


def test_api_release_refuses_bad_input_with_problems(api, release_env: ReleaseEnv) -> None:
    body = _body(rule="proportional")
    body["requests"][0]["consumption_t"] = None  # type: ignore[index]
    response = api.post("/api/v1/stockpiles/release", json=body, headers=release_env.headers())
    assert response.status_code == 422
    assert response.json()["problems"][0]["where"] == "requests[0].consumption_t"
    too_many = _body(requests=[_body()["requests"][0]] * (service.MAX_REQUESTS + 1))  # type: ignore[index]
    response = api.post("/api/v1/stockpiles/release", json=too_many, headers=release_env.headers())
    assert response.status_code in (413, 422)
    response = api.post(
        "/api/v1/stockpiles/release", json=_body(rule="fair"), headers=release_env.headers()
    )
    assert response.status_code == 422 and "rule" in json.dumps(response.json()["problems"])


def test_api_triggers_and_from_stress(api, release_env: ReleaseEnv) -> None:
    headers = release_env.headers()
    created = api.post(
        "/api/v1/stockpiles/triggers",
        json={
            "material": "graphite",
            "condition": "shortfall",
            "threshold_pct": 25,
            "months": 2,
            "rule": "maxmin",
            "agreed_by": "test",
            "agreed_on": "2026-11-20",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    trigger_id = created.json()["id"]
    listed = api.get("/api/v1/stockpiles/triggers?material=graphite", headers=headers)
    assert [t["id"] for t in listed.json()] == [trigger_id]
    bad = api.post(
        "/api/v1/stockpiles/triggers",
        json={
            "material": "graphite",
            "condition": "shortfall",
            "agreed_by": "x",
            "agreed_on": "2026-11-20",
        },
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["where"] == "threshold_pct"
    fired = api.post(
        "/api/v1/stockpiles/release/from-stress",
        json={"scenario": "graphite-2023", "stock_t": 1000},
        headers=headers,
    )
    assert fired.status_code == 200, fired.text
    (firing,) = fired.json()["firings"]
    assert firing["fired"] and firing["allocation"]["allocated_t"] <= 1000
    unknown = api.post(
        "/api/v1/stockpiles/release/from-stress", json={"scenario": "nope"}, headers=headers
    )
    assert unknown.status_code == 404
    gone = api.delete(f"/api/v1/stockpiles/triggers/{trigger_id}", headers=headers)
    assert gone.status_code == 200 and gone.json()["removed"]
    assert (
        api.delete(f"/api/v1/stockpiles/triggers/{trigger_id}", headers=headers).status_code == 404
    )


# ================================================================================ CLI
def _cli() -> typer.Typer:
    from critmat.commands import stockpile_release

    app = typer.Typer()
    stockpile_release.register(app)
    return app


def test_cli_release_prints_csv_and_refuses_bad_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRITMAT_DATA_DIR", str(tmp_path))
    requests = tmp_path / "requests.csv"
    requests.write_text(CSV, encoding="utf-8")
    ran = CliRunner().invoke(
        _cli(),
        [
            "release",
            "--stock",
            "400",
            "--requests",
            str(requests),
            "--rule",
            "maxmin",
            "--format",
            "csv",
        ],
    )
    assert ran.exit_code == 0, ran.output
    lines = ran.output.strip().splitlines()
    assert lines[0].startswith("member_state,sector,tier,requested_t")
    assert len(lines) == 6
    requests.write_text(CSV.replace("FRA,defence,30", "FRA,defence,x"), encoding="utf-8")
    bad = CliRunner().invoke(_cli(), ["release", "--stock", "400", "--requests", str(requests)])
    assert bad.exit_code == 2 and "row 3" in bad.output and "requested_t" in bad.output
    missing = CliRunner().invoke(_cli(), ["release", "--stock", "400"])
    assert missing.exit_code == 2 and "--requests" in missing.output
