"""The stress-test API: library, runs equal to the library's, validation, Monte Carlo bands."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from critmat.reference.sectors import load_sector_splits
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import run, sector_exposure
from critmat.scenarios.montecarlo import load_scenario_file, run_montecarlo
from critmat.scenarios.spec import LIBRARY, library_names, load_scenario
from critmat.store import Store
from tests.stress.conftest import StressEnv

SCENARIO = "rare-earths-2025-04"


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return got is None
    if isinstance(want, float):
        return bool(got == pytest.approx(want, rel=1e-12, abs=1e-12))
    return bool(want == got)


def _definition(name: str = SCENARIO) -> dict[str, Any]:
    raw = yaml.safe_load((LIBRARY / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def test_library_list_and_file(api: TestClient, stress_env: StressEnv) -> None:
    listed = api.get("/api/v1/stress/scenarios", headers=stress_env.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert [s["name"] for s in body] == library_names()
    graphite = next(s for s in body if s["name"] == "graphite-2023")
    assert graphite["material"] == "graphite" and graphite["registry_ids"] == ["CN-2023-039"]
    one = api.get(f"/api/v1/stress/scenarios/{SCENARIO}", headers=stress_env.headers)
    assert one.status_code == 200 and one.json() == _definition()
    missing = api.get("/api/v1/stress/scenarios/no-such", headers=stress_env.headers)
    assert missing.status_code == 404


def test_api_needs_a_login(api: TestClient) -> None:
    assert api.get("/api/v1/stress/scenarios").status_code == 401
    assert api.post("/api/v1/stress/run", json={"scenario": SCENARIO}).status_code == 401


def test_run_equals_the_library_run(
    api: TestClient, stress_env: StressEnv, real_store: Store
) -> None:
    response = api.post(
        "/api/v1/stress/run", json={"scenario": SCENARIO}, headers=stress_env.headers
    )
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    scenario = load_scenario(SCENARIO)
    result = run(scenario, build_baseline(real_store.con, scenario))
    want_monthly = result.monthly().to_dict(orient="records")
    assert len(body["monthly"]) == len(want_monthly) == 28 * scenario.horizon_months
    for got, want in zip(body["monthly"], want_monthly, strict=True):
        for key, value in want.items():
            assert _same(value, got[key]), (key, got, want)
    for got, want in zip(body["summary"], result.summary().to_dict(orient="records"), strict=True):
        for key, value in want.items():
            assert _same(value, got[key]), (key, got, want)
    sectors = sector_exposure(result, load_sector_splits()).to_dict(orient="records")
    assert len(body["sectors"]) == len(sectors) > 0
    assert body["importers"][0] == "EU27" and len(body["importers"]) == 28
    # the same scenario sent as a definition gives the same numbers
    again = api.post(
        "/api/v1/stress/run", json={"definition": _definition()}, headers=stress_env.headers
    )
    assert again.status_code == 200 and again.json()["monthly"] == body["monthly"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["shocks"][0].update(duration_months=0), "shocks[0].duration_months"),
        (lambda d: d.update(material="unobtainium"), "material"),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d["shocks"][0].update(type="embargo"), "shocks[0].type"),
    ],
)
def test_invalid_definition_is_422_naming_the_field(
    api: TestClient, stress_env: StressEnv, change: Any, where: str
) -> None:
    definition = _definition()
    change(definition)
    response = api.post(
        "/api/v1/stress/run", json={"definition": definition}, headers=stress_env.headers
    )
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert problems[0]["where"] == f"body.definition.{where}", problems


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"scenario": SCENARIO, "definition": {}},
        {"scenario": "../../etc/passwd"},
        {"scenario": SCENARIO, "runs": 5001},
        {"scenario": SCENARIO, "runs": 0},
    ],
)
def test_malformed_requests_are_422(
    api: TestClient, stress_env: StressEnv, body: dict[str, Any]
) -> None:
    response = api.post("/api/v1/stress/montecarlo", json=body, headers=stress_env.headers)
    assert response.status_code == 422, response.text


def test_body_size_is_bounded(api: TestClient, stress_env: StressEnv) -> None:
    definition = _definition()
    definition["description"] = "x" * 70_000
    response = api.post(
        "/api/v1/stress/run", json={"definition": definition}, headers=stress_env.headers
    )
    assert response.status_code == 413


def test_bad_uncertainty_names_the_field(api: TestClient, stress_env: StressEnv) -> None:
    definition = _definition()
    definition["uncertainty"] = {
        "spare_capacity_fraction": {"dist": "uniform", "low": 0.1, "high": 1.5}
    }
    response = api.post(
        "/api/v1/stress/montecarlo",
        json={"definition": definition, "runs": 10},
        headers=stress_env.headers,
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["where"] == (
        "body.definition.uncertainty.spare_capacity_fraction"
    )


def test_montecarlo_same_seed_same_bands(
    api: TestClient, stress_env: StressEnv, real_store: Store
) -> None:
    def call(seed: int) -> dict[str, Any]:
        response = api.post(
            "/api/v1/stress/montecarlo",
            json={"scenario": SCENARIO, "runs": 200, "seed": seed},
            headers=stress_env.headers,
        )
        assert response.status_code == 200, response.text[:500]
        data: dict[str, Any] = response.json()
        return data

    first, second, other = call(7), call(7), call(8)
    assert first["bands"] == second["bands"] and first["summary"] == second["summary"]
    assert first["bands"] != other["bands"]
    assert first["runs"] == 200 and first["quantiles"] == [5, 50, 95]
    scenario, uncertainty = load_scenario_file(SCENARIO)
    want = run_montecarlo(
        scenario, build_baseline(real_store.con, scenario), uncertainty, 200, 7, workers=1
    )
    for got, row in zip(first["bands"], want.bands().to_dict(orient="records"), strict=True):
        for key, value in row.items():
            assert _same(value, got[key]), (key, got, row)
