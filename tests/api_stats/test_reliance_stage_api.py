"""``GET /api/v1/reliance`` and ``critmat reliance --stage``: the default stage is the EU 2023
assessment's, rows name their releases, a stage without data says so, a bad stage is refused with
the names to type instead; the mine-stage route keeps its answer."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from critmat.cli import app
from tests.api_stats.conftest import Api


def test_api_answers_the_default_stage_and_refuses_a_bad_one(api: Api) -> None:
    body = api.get("/api/v1/reliance", material="nickel").json()
    assert body["stage"] == "processing" and "EU 2023" in body["stage_choice"]
    [row] = [r for r in body["rows"] if r["year"] == 2024]
    assert row["production_series"] == "IEA CMDE 2024" and row["trade_series"] == "HS17"
    assert row["trade_release_id"] is not None and row["hs_codes"] == "750210"
    tin = api.get("/api/v1/reliance", material="tin", stage="processing").json()
    assert tin["rows"][0]["import_reliance"] is None and tin["rows"][0]["status"] == "no data"
    bad = api.get("/api/v1/reliance", material="tin", stage="smelting")
    assert bad.status_code in (400, 404) and "smelting" in bad.json()["error"]
    old = api.get("/api/v1/materials/copper/reliance").json()
    assert "stage_choice" not in old and old["rows"][0]["commodity"] == "Copper"


def test_cli_stage_option(api_data_dir: Path) -> None:
    env = {"CRITMAT_DATA_DIR": str(api_data_dir)}
    args = ["reliance", "nickel", "--stage", "default", "--format", "json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stage"] == "processing"
    result = CliRunner().invoke(app, ["reliance", "tin", "--stage", "smelting"], env=env)
    assert result.exit_code == 2 and "processing, all, default" in result.stderr
