"""No data reads as no data in the API and the CLI (never a total of 0 or "below 65 %"); every
figure names its one trade release; every strategic material answers or says why not; the
reliance endpoint gives a reason for a value outside 0–100 %."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from critmat.cli import app
from critmat.reference.materials import load_catalogue
from tests.api_stats.conftest import Api

runner = CliRunner()


def test_germanium_2022_is_no_data_in_json(api: Api) -> None:
    body = api.get("/api/v1/dependency", material="germanium", year=2022, importer="EU27").json()
    assert body["total"] is None and body["exceeds_65"] is None and body["suppliers"] is None
    assert body["sources"] == []
    assert body["series"] == "HS92" and body["release_id"] is not None
    assert 2022 not in body["years_with_data"] and 2024 in body["years_with_data"]
    assert any(n.startswith("no data:") for n in body["notes"])


def test_germanium_2024_comes_from_hs17_with_the_bundle_note(api: Api) -> None:
    body = api.get("/api/v1/dependency", material="germanium", year=2024).json()
    assert body["series"] == body["hs_revision"] == "HS17"
    assert "811292" in body["hs_codes"]
    assert body["exceeds_65"] in (True, False) and body["total"] > 0
    assert [p["version"] for p in body["provenance"]] == ["HS17 V202601 extract"]
    assert any("811292" in n and "cover all of them" in n for n in body["notes"])


def test_the_cli_says_no_data_not_below_65(api_data_dir: Path) -> None:
    env = {"CRITMAT_DATA_DIR": str(api_data_dir)}
    args = ["dependency", "germanium", "--year", "2022", "--importer", "EU27"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    assert "no data" in result.stdout and "below 65%" not in result.stdout
    assert "total 0" not in result.stdout


def test_every_strategic_material_answers_in_the_api(api: Api) -> None:
    body = api.get("/api/v1/dependency/strategic", importer="EU27").json()
    catalogue = load_catalogue()
    strategic = {m.id for m in catalogue.materials if catalogue.is_strategic(m.id)}
    assert {r["material"] for r in body["rows"]} == strategic
    for row in body["rows"]:
        if row["status"] == "data":
            assert row["exceeds_65"] in (True, False) and row["series"] in ("HS92", "HS17")
        else:
            assert row["exceeds_65"] is None and row["total"] is None and row["no_data_reason"]
    for row in body["rows"]:
        if "811292" in row["hs_codes"] and row["status"] == "data":
            assert any("811292" in n for n in row["notes"])
    csv = api.get("/api/v1/dependency/strategic", importer="DEU", **{"format": "csv"})
    assert csv.status_code == 200
    assert csv.text.lstrip("\ufeff").startswith("importer,material,stage,year")
    assert "no data" in csv.text


def test_reliance_outside_0_100_has_a_reason(api: Api) -> None:
    body = api.get("/api/v1/materials/tungsten/reliance").json()
    outside = [r for r in body["rows"] if r["ir_out_of_range"]]
    assert outside, "tungsten: the EU exports more concentrate than it imports in some years"
    for row in outside:
        assert row["import_reliance"] is None and row["ir_reason"]


def test_a_code_only_hs17_holds_is_no_data_in_an_hs92_year(api: Api) -> None:
    body = api.get("/api/v1/dependency", hs="850511", year=2020).json()
    assert body["exceeds_65"] is None and body["total"] is None
    assert body["years_with_data"] == [2024]
    newest = api.get("/api/v1/dependency", hs="850511").json()
    assert (newest["year"], newest["series"]) == (2024, "HS17") and newest["total"] > 0
