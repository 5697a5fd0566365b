"""The API and the command line answer a statistics question through one service
(:mod:`critmat.services.statistics`): the same figures, the same default year and stage, and
different presentation only (the CLI's source rows carry only the basis' amount, its series have
no ``basis``). Floats are compared as the golden set does (the API may answer from the
precomputed tables, which agree with the general path to about 1e-12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from critmat.cli import app
from tests.api_stats.conftest import Api
from tests.golden.harness import differences


def _cli(data_dir: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        app, [*args, "--format", "json"], env={"CRITMAT_DATA_DIR": str(data_dir)}
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("cli", "params"),
    [
        (("cobalt",), {"material": "cobalt"}),  # no year, no stage: the rules decide
        (("graphite", "--basis", "value"), {"material": "graphite", "basis": "value"}),
        (("--hs", "282200", "--importer", "DEU"), {"hs": "282200", "importer": "DEU"}),
    ],
)
def test_dependency_is_one_answer(
    api: Api, api_data_dir: Path, cli: tuple[str, ...], params: dict[str, str]
) -> None:
    served = api.get("/api/v1/dependency", **params)
    assert served.status_code == 200, served.text
    from_api = served.json()
    from_cli = _cli(api_data_dir, "dependency", *cli)
    assert from_cli["year"] == from_api["year"] == 2024  # the latest year with trade data
    amount = "quantity" if from_api["basis"] == "mass" else "value"
    for source in from_api["sources"]:
        del source["value" if amount == "quantity" else "quantity"]
    assert differences(from_api, from_cli) == []


def test_production_without_a_year_is_one_answer(api: Api, api_data_dir: Path) -> None:
    from_api = api.get("/api/v1/materials/lithium/production").json()
    from_cli = _cli(api_data_dir, "production", "lithium")
    assert {r["country"]: r["quantity"] for r in from_cli} == pytest.approx(
        {r["country"]: r["quantity"] for r in from_api["rows"]}, rel=1e-9
    )
    assert all(f"years used: {from_api['year']}" in r["source"] for r in from_cli)


def test_series_are_one_answer(api: Api, api_data_dir: Path) -> None:
    from_api = api.get("/api/v1/dependency/series", material="nickel", importer="FRA").json()
    from_cli = _cli(api_data_dir, "trend", "nickel", "--importer", "FRA")
    del from_api["basis"]
    assert differences(from_api, from_cli) == []
