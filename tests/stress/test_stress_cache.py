"""Stress answers from memory: the library read once (again when a file changes), runs and Monte
Carlo bands from the response cache, byte-identical to what FastAPI itself serialises, and a
different body never answered from another body's entry."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from critmat.api.routes.stress import MonteCarloIn, RunIn
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import run
from critmat.scenarios.montecarlo import run_montecarlo
from critmat.scenarios.spec import LIBRARY
from critmat.services import stress
from critmat.services.stress_output import (
    MonteCarloOut,
    RunOut,
    ScenarioEntryOut,
    montecarlo_document,
    run_document,
)
from critmat.store import Store
from tests.stress.conftest import StressEnv

SCENARIO = "rare-earths-2025-04"
CACHE = "X-Critmat-Cache"


def _definition(title: str) -> dict[str, Any]:
    """The library scenario as a definition with its own title (a body no other test sends)."""
    raw = yaml.safe_load((LIBRARY / f"{SCENARIO}.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return {**raw, "title": title}


def _reference(real_store: Store) -> TestClient:
    """The routes as they were before the cache: computed per request and serialised by
    FastAPI from the declared response model."""
    ref = FastAPI()

    # a run's ``stocks`` is only sent for a run on the ledger's positions
    @ref.post("/run", response_model=RunOut, response_model_exclude_unset=True)
    def reference_run(body: RunIn) -> Any:
        prepared = stress.prepare(body.scenario, body.definition)
        baseline = build_baseline(real_store.con, prepared.scenario)
        return run_document(run(prepared.scenario, baseline)).model_dump(exclude_unset=True)

    @ref.post("/montecarlo", response_model=MonteCarloOut)
    def reference_montecarlo(body: MonteCarloIn) -> Any:
        prepared = stress.prepare(body.scenario, body.definition)
        baseline = build_baseline(real_store.con, prepared.scenario)
        result = run_montecarlo(
            prepared.scenario, baseline, prepared.uncertainty, body.runs, body.seed, workers=1
        )
        return montecarlo_document(result).model_dump()

    @ref.get("/scenarios", response_model=list[ScenarioEntryOut])
    def reference_list() -> Any:
        return stress.library_entries()

    @ref.get("/scenarios/{name}")
    def reference_file(name: str) -> Any:
        return stress.library_raw(name)

    return TestClient(ref)


@pytest.mark.parametrize(
    ("path", "extra"),
    [("run", {}), ("montecarlo", {"runs": 150, "seed": 3})],
)
def test_cached_answer_is_byte_identical_to_the_uncached_one(
    api: TestClient, stress_env: StressEnv, real_store: Store, path: str, extra: dict[str, Any]
) -> None:
    body = {"definition": _definition(f"cache test {uuid.uuid4()}"), **extra}
    first = api.post(f"/api/v1/stress/{path}", json=body, headers=stress_env.headers)
    assert first.status_code == 200, first.text[:500]
    second = api.post(f"/api/v1/stress/{path}", json=body, headers=stress_env.headers)
    assert (first.headers[CACHE], second.headers[CACHE]) == ("miss", "hit")
    assert second.content == first.content
    assert second.headers["content-type"] == "application/json"
    want = _reference(real_store).post(f"/{path}", json=body)
    assert want.status_code == 200, want.text[:500]
    assert first.content == want.content  # same bytes as FastAPI's own serialisation


def test_library_answers_are_byte_identical(
    api: TestClient, stress_env: StressEnv, real_store: Store
) -> None:
    reference = _reference(real_store)
    for path in ("/scenarios", f"/scenarios/{SCENARIO}"):
        got = api.get(f"/api/v1/stress{path}", headers=stress_env.headers)
        assert got.status_code == 200 and got.content == reference.get(path).content, path
        assert got.headers["content-type"] == "application/json"


def test_a_different_body_is_not_served_from_the_cache(
    api: TestClient, stress_env: StressEnv
) -> None:
    def post(path: str, body: dict[str, Any]) -> tuple[str, Any]:
        response = api.post(f"/api/v1/stress/{path}", json=body, headers=stress_env.headers)
        assert response.status_code == 200, response.text[:500]
        return response.headers[CACHE], response.json()

    base = _definition(f"cache test {uuid.uuid4()}")
    _status, first = post("run", {"definition": base})
    assert post("run", {"definition": base})[0] == "hit"
    changed = {**base, "shocks": [{**base["shocks"][0], "fraction_after": 0.1}]}
    status, other = post("run", {"definition": changed})
    assert status == "miss"
    assert other["summary"][0]["shortfall_t"] > first["summary"][0]["shortfall_t"] > 0
    # the library run of the same scenario has its own entry (another title, other bytes)
    status, library_run = post("run", {"scenario": SCENARIO})
    assert library_run["title"] != first["title"] == base["title"]
    # Monte Carlo: another seed or run count is another entry
    mc = {"definition": base, "runs": 120, "seed": 5}
    assert post("montecarlo", mc)[0] == "miss"
    assert post("montecarlo", mc)[0] == "hit"
    assert post("montecarlo", {**mc, "seed": 6})[0] == "miss"
    assert post("montecarlo", {**mc, "runs": 121})[0] == "miss"


def test_errors_are_not_served_from_the_cache(api: TestClient, stress_env: StressEnv) -> None:
    bad = _definition(f"cache test {uuid.uuid4()}")
    bad["shocks"] = [{**bad["shocks"][0], "delay_months": -1}]
    for _ in range(2):
        response = api.post(
            "/api/v1/stress/run", json={"definition": bad}, headers=stress_env.headers
        )
        assert response.status_code == 422 and CACHE not in response.headers
        assert "shocks[0].delay_months" in str(response.json()["problems"])


def test_library_is_read_again_when_a_file_changes(
    api: TestClient, stress_env: StressEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "library"
    shutil.copytree(LIBRARY, copy)
    monkeypatch.setattr(stress, "LIBRARY", copy)

    def listed_title() -> str:
        response = api.get("/api/v1/stress/scenarios", headers=stress_env.headers)
        assert response.status_code == 200
        return str(next(s["title"] for s in response.json() if s["name"] == SCENARIO))

    def run_title() -> str:
        response = api.post(
            "/api/v1/stress/run", json={"scenario": SCENARIO}, headers=stress_env.headers
        )
        assert response.status_code == 200, response.text[:500]
        return str(response.json()["title"])

    before = listed_title()
    assert stress.library() is stress.library()  # unchanged files: the same snapshot, not re-read
    assert run_title() == before
    file = copy / f"{SCENARIO}.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace(f"title: {before}", "title: Edited rare earths"), encoding="utf-8")
    assert listed_title() == "Edited rare earths"
    assert run_title() == "Edited rare earths"  # the run cache keys on the library's stamps
    got = api.get(f"/api/v1/stress/scenarios/{SCENARIO}", headers=stress_env.headers)
    assert got.json()["title"] == "Edited rare earths"
    file.unlink()
    gone = api.get(f"/api/v1/stress/scenarios/{SCENARIO}", headers=stress_env.headers)
    assert gone.status_code == 404
