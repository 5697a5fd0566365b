"""The backtest over the API: login required, the same summary as the domain, bounded delay."""

from __future__ import annotations

import duckdb
from fastapi.testclient import TestClient

from critmat.scenarios.backtest import backtest
from tests.stress.conftest import StressEnv

NEW_CASES = {"CN-2023-023/unwrought", "CN-2023-039/synthetic", "CN-2024-033/oxide"}


def test_api_answer(
    api: TestClient, stress_env: StressEnv, real_con: duckdb.DuckDBPyConnection
) -> None:
    assert api.get("/api/v1/stress/backtest").status_code == 401
    got = api.get("/api/v1/stress/backtest", headers=stress_env.headers)
    assert got.status_code == 200, got.text
    body = got.json()
    summary = backtest(real_con).summary()
    assert body["summary"]["line"] == summary.line()
    assert body["summary"]["direction_right"] == summary.direction_right
    cases = {r["case"] for r in body["rows"]}
    assert cases >= NEW_CASES
    bad = api.get("/api/v1/stress/backtest?licensing_delay=-1", headers=stress_env.headers)
    assert bad.status_code == 422
