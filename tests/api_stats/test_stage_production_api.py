"""GET /api/v1/production and /api/v1/production/stages on the real default data: the answer
names its series, release and stage; its figures equal the store's rows read with pandas; the
old production route keeps its parameters; bad input is a clear 4xx."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmat.cli import app
from tests.api_stats.conftest import Api
from tests.golden.harness import differences
from tests.login_support import web_login


def _raw(data_dir: Path, series: str, commodity: str, stage: str, year: int) -> dict[str, float]:
    con = duckdb.connect(str(data_dir / "critmat.duckdb"), read_only=True)
    try:
        frame = con.execute(
            "SELECT country, quantity_t FROM stage_production_all WHERE series = ? AND "
            "commodity = ? AND stage = ? AND year = ?",
            [series, commodity, stage, year],
        ).df()
    finally:
        con.close()
    return dict(zip(frame["country"], frame["quantity_t"], strict=True))


def test_gallium_refining_names_series_release_and_stage(api: Api, api_data_dir: Path) -> None:
    response = api.get("/api/v1/production", material="gallium", stage="refining", year=2024)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stage"], body["series"], body["production_stage"]) == (
        "processing",
        "USGS MCS 2026",
        "refinery",
    )
    assert body["release_id"] and body["release_version"].startswith("MCS 2026")
    assert body["provenance"][0]["dataset"] == "stage_production"
    raw = _raw(api_data_dir, "USGS MCS 2026", "Gallium", "refinery", 2024)
    assert body["world_t"] == pytest.approx(raw["WLD"])
    base = sum(q for c, q in raw.items() if c != "WLD" and q == q)
    shares = {r["country"]: r["share"] for r in body["rows"]}
    assert shares["CHN"] == pytest.approx(raw["CHN"] / base)
    assert body["top_country"] == "CHN"


def test_withheld_is_null_never_zero(api: Api, api_data_dir: Path) -> None:
    body = api.get("/api/v1/production", material="silicon metal", stage="processing").json()
    withheld = [r for r in body["rows"] if r["status"] == "withheld"]
    assert withheld, body["rows"]
    assert all(r["quantity_t"] is None and r["share"] is None for r in withheld)
    assert any("withheld" in n for n in body["notes"])


def test_every_stage_is_listed(api: Api) -> None:
    body = api.get("/api/v1/production/stages", material="cobalt").json()
    stages = {s["stage"]: s for s in body["stages"]}
    assert stages["extraction"]["series"][0]["series"] == "USGS MCS 2026"
    assert stages["extraction"]["series"][-1]["series"] == "WMD"
    assert 2024 in stages["processing"]["years"]
    without = [s for s in body["stages"] if not s["series"]]
    assert all(s["note"] for s in without)


def test_csv_download_names_series_and_stage(api: Api) -> None:
    response = api.get("/api/v1/production", material="cobalt", stage="processing", format="csv")
    assert response.status_code == 200
    head = response.text.splitlines()
    assert any("IEA CMDE 2024" in line and "processing" in line for line in head)


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"material": "gallium", "stage": "smelting-pot"}, 404, "processing"),
        ({"material": "gallium", "stage": "extraction"}, 404, "no production series"),
        ({"material": "gallium", "stage": "processing", "year": 1990}, 400, "outside"),
        ({"material": "galium"}, 404, "gallium"),
        ({}, 422, "material"),
    ],
)
def test_bad_questions_are_clear(
    api: Api, params: dict[str, object], status: int, text: str
) -> None:
    response = api.get("/api/v1/production", **params)
    assert response.status_code == status, response.text
    assert text in response.text


def test_the_world_mining_data_route_keeps_its_parameters(api: Api) -> None:
    body = api.get("/api/v1/materials/cobalt/production", year=2023).json()
    assert body["commodity"] == "Cobalt" and body["year"] == 2023


def test_material_page_shows_every_stage_with_production(api: Api) -> None:
    """Cobalt has figures at extraction (USGS, WMD) and processing (IEA): one card each, naming
    series, release, stage and basis, with its download; silicon metal shows withheld USA."""
    with TestClient(api.client.app) as browser:
        assert web_login(browser, api.seeded.users["analyst@a"]).status_code == 303
        page = browser.get("/materials/cobalt?year=2024")
        assert page.status_code == 200, page.text[:500]
        for stage, series in (("extraction", "USGS MCS 2026"), ("processing", "IEA CMDE 2024")):
            start = page.text.index(f'data-stage-production="{stage}"')
            card = page.text[start : page.text.index("</section>", start)]
            assert series in card and "release" in card and "basis content" in card
            assert f'data-table="production-{stage}"' in card
        assert 'data-kpi="stage-top-share">78%' in page.text  # IEA refined cobalt: China
        download = browser.get("/materials/cobalt/production-processing.csv?year=2024")
        assert download.status_code == 200 and "CHN" in download.text
        silicon = browser.get("/materials/silicon_metal?year=2024").text
        start = silicon.index('data-stage-production="processing"')
        card = silicon[start : silicon.index("</section>", start)]
        usa = card[card.index('data-v="USA"') :]
        assert "withheld" in usa[: usa.index("</tr>")]


@pytest.mark.parametrize(
    "path", ["/api/v1/production?material=cobalt", "/api/v1/production/stages?material=cobalt"]
)
def test_login_required(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 401 and response.json()["error"] == "login required"


@pytest.mark.parametrize(
    ("cli", "params"),
    [
        (("gallium", "--stage", "refining"), {"material": "gallium", "stage": "refining"}),
        (
            ("cobalt", "--stage", "mining", "--year", "2019"),
            {"material": "cobalt", "stage": "mining", "year": 2019},
        ),
    ],
)
def test_the_cli_gives_the_api_answer(
    api: Api, api_data_dir: Path, cli: tuple[str, ...], params: dict[str, object]
) -> None:
    """One service: the same figures, default year and stage (2019 cobalt from WMD)."""
    from_api = api.get("/api/v1/production", **params).json()
    result = CliRunner().invoke(
        app, ["production", *cli, "--format", "json"], env={"CRITMAT_DATA_DIR": str(api_data_dir)}
    )
    assert result.exit_code == 0, result.stderr
    assert differences(from_api, json.loads(result.stdout)) == []
    if "year" in params:
        assert from_api["series"] == "WMD" and from_api["dataset"] == "production"
