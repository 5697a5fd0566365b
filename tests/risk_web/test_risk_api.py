"""The risk API against the library: same numbers, validation, downloads, cache, access."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from critmat.platform.models import Role
from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.server.access import LOGGED_IN
from critmat.server.deps import ACCESS_HEADER
from critmat.server.errors import access_rules
from critmat.store import Store
from tests.api.test_authorization_matrix import effective_routes
from tests.risk_web.conftest import RiskEnv

VALUES = ("hhi", "import_risk", "score", "cf", "price_usd_per_kg", "imports", "domestic_production")


def _same(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and a == pytest.approx(b, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("importers", "year", "materials", "basis", "compat"),
    [
        (["EU27"], 2023, ["cobalt"], "mass", "critmat"),
        (["DEU", "EU27"], 2020, ["Rare Earths (REO)", "lithium"], "mass", "critmat"),
        (["FRA"], 2022, ["graphite"], "value", "critmat"),
        (["JPN"], 2019, ["copper"], "mass", "peer"),
    ],
)
def test_geopolrisk_values_equal_the_library(
    api: TestClient,
    risk_env: RiskEnv,
    real_store: Store,
    importers: list[str],
    year: int,
    materials: list[str],
    basis: str,
    compat: str,
) -> None:
    response = api.get(
        "/api/v1/risk/geopolrisk",
        params={
            "importer": importers,
            "year": year,
            "material": materials,
            "basis": basis,
            "compat": compat,
        },
        headers=risk_env.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = gpr.assess(
        real_store,
        importers=importers,
        materials=materials,
        years=[year],
        basis=basis,
        compat=compat,
    ).rows
    assert len(body["rows"]) == len(expected) > 0
    for got, want in zip(body["rows"], expected.to_dict(orient="records"), strict=True):
        assert (got["wmd_commodity"], got["importer"], got["year"]) == (
            want["wmd_commodity"],
            want["importer"],
            want["year"],
        )
        for key in VALUES:
            assert _same(want[key], got[key]), (key, got, want)
    assert {p["dataset"] for p in body["provenance"]} == {"production", "trade", "governance"}
    assert all(p["years"] == [year] for p in body["provenance"])


def test_geopolrisk_defaults_to_every_commodity_in_the_latest_year(
    api: TestClient, risk_env: RiskEnv
) -> None:
    body = api.get("/api/v1/risk/geopolrisk", headers=risk_env.headers("company")).json()
    assert body["importers"] == ["EU27"]
    assert body["year"] == max(body["years_available"])
    assert len(body["rows"]) == len(gpr.supported_commodities())


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"importer": "E"}, 422, "importer"),
        ({"year": 1800}, 422, "year"),
        ({"basis": "weight"}, 422, "basis"),
        ({"compat": "old"}, 422, "compat"),
        ({"format": "pdf"}, 422, "format"),
        ({"year": 2010}, 400, "outside"),
        ({"compat": "peer", "basis": "value"}, 400, "mass only"),
        ({"material": "coballt"}, 404, "cobalt"),
        ({"material": "helium"}, 404, "World Mining Data"),
        ({"importer": "Atlantis"}, 404, "Atlantis"),
    ],
)
def test_geopolrisk_rejects_bad_parameters(
    api: TestClient, risk_env: RiskEnv, params: dict[str, Any], status: int, needle: str
) -> None:
    response = api.get("/api/v1/risk/geopolrisk", params=params, headers=risk_env.headers())
    assert response.status_code == status, response.text
    assert needle in response.text
    assert "Traceback" not in response.text


def test_geopolrisk_downloads_open(api: TestClient, risk_env: RiskEnv) -> None:
    params = {"importer": "DEU,FRA", "year": 2021, "format": "csv"}
    response = api.get("/api/v1/risk/geopolrisk", params=params, headers=risk_env.headers())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "critmat-geopolrisk-DEU-FRA-2021" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == len(gpr.supported_commodities())
    assert {r["importer"] for r in rows} == {"DEU+FRA"}
    cobalt = next(r for r in rows if r["wmd_commodity"] == "Cobalt")
    as_json = api.get(
        "/api/v1/risk/geopolrisk",
        params={"importer": "DEU,FRA", "year": 2021, "material": "Cobalt"},
        headers=risk_env.headers(),
    ).json()["rows"][0]
    assert float(cobalt["score"]) == pytest.approx(as_json["score"], rel=1e-12)
    xlsx = api.get(
        "/api/v1/risk/geopolrisk",
        params={**params, "format": "xlsx"},
        headers=risk_env.headers(),
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["wmd_commodity", "material", "importer", "year"]


def test_criticality_rows_equal_the_library(
    api: TestClient, risk_env: RiskEnv, real_store: Store
) -> None:
    response = api.get(
        "/api/v1/risk/criticality", params={"year": 2022}, headers=risk_env.headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = euc.assess(real_store.con, year=2022)
    assert body["years"] == list(expected.years) == [2018, 2019, 2020, 2021, 2022]
    rows = {r["material"]: r for r in body["rows"]}
    assert set(rows) == {b.material_id for b in expected.breakdowns}
    for material in ("cobalt", "nickel", "gallium", "lithium", "copper"):
        b = expected.get(material)
        row = rows[material]
        assert row["sr"] == pytest.approx(b.sr, rel=1e-12)
        assert (row["stage"], row["basis"]) == (b.sr_stage, b.basis)
        assert row["ei"] is None and row["critical"] is None  # no EI inputs in the service
        assert row["crma_critical"] is b.crma_critical
    srs = [r["sr"] for r in body["rows"] if r["sr"] is not None]
    assert srs == sorted(srs, reverse=True)
    assert body["rows"][0]["rank"] == 1
    with_published = api.get(
        "/api/v1/risk/criticality",
        params={"year": 2022, "published_si": True},
        headers=risk_env.headers(),
    ).json()
    published = euc.assess(real_store.con, year=2022, published_si=True).get("cobalt")
    cobalt = next(r for r in with_published["rows"] if r["material"] == "cobalt")
    assert cobalt["sr"] == pytest.approx(published.sr, rel=1e-12)
    assert cobalt["si_sr"] < 1


def test_criticality_breakdown_is_the_library_breakdown(
    api: TestClient, risk_env: RiskEnv, real_store: Store
) -> None:
    response = api.get("/api/v1/risk/criticality/nickel", headers=risk_env.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    b = euc.assess(real_store.con, materials=["nickel"]).get("nickel")
    assert body["sr"] == pytest.approx(b.sr, rel=1e-12)
    stage = body["stages"][0]
    for got, want in ((stage["global_supply"], b.stages[0].global_supply),):
        assert got["value"] == pytest.approx(want.value, rel=1e-12)
        assert sum(c["contribution"] or 0 for c in got["countries"]) == pytest.approx(got["value"])
        assert [c["country"] for c in got["countries"]] == [c.country for c in want.countries]
    eus = stage["eu_sourcing"]
    assert eus is not None and stage["basis"] == "GS+EU"
    ir = stage["import_reliance"]["value"]
    recomputed = (
        (stage["global_supply"]["value"] * ir / 2 + eus["value"] * (1 - ir / 2))
        * (1 - stage["eol_rir"]["value"])
        * stage["si_sr"]["value"]
    )
    assert recomputed == pytest.approx(stage["sr"], rel=1e-12)
    assert body["terms"][0]["symbol"] == "(HHI_WGI,t)_GS"
    assert body["ei"] is None and body["provenance"]
    # aliases resolve; an energy raw material (left out of the ranking) is assessed alone
    assert (
        api.get("/api/v1/risk/criticality/REE", headers=risk_env.headers()).json()["material_id"]
        == "rare_earths"
    )
    coal = api.get("/api/v1/risk/criticality/steam_coal", headers=risk_env.headers())
    assert coal.status_code == 200 and coal.json()["material_id"] == "steam_coal"


def test_criticality_errors(api: TestClient, risk_env: RiskEnv) -> None:
    unknown = api.get("/api/v1/risk/criticality/coballt", headers=risk_env.headers())
    assert unknown.status_code == 404
    assert "cobalt" in unknown.json()["suggestions"]
    assert (
        api.get(
            "/api/v1/risk/criticality", params={"year": 2005}, headers=risk_env.headers()
        ).status_code
        == 400
    )
    assert (
        api.get(
            "/api/v1/risk/criticality", params={"year": "soon"}, headers=risk_env.headers()
        ).status_code
        == 422
    )
    assert (
        api.get(
            "/api/v1/risk/criticality", params={"published_si": "maybe"}, headers=risk_env.headers()
        ).status_code
        == 422
    )
    download = api.get(
        "/api/v1/risk/criticality", params={"format": "csv"}, headers=risk_env.headers()
    )
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0]["rank"] == "1" and rows[0]["sr"]


def test_answers_are_cached_per_release(api: TestClient, risk_env: RiskEnv) -> None:
    params = {"importer": "ITA", "year": 2018}
    first = api.get("/api/v1/risk/geopolrisk", params=params, headers=risk_env.headers())
    again = api.get(
        "/api/v1/risk/geopolrisk",
        params={"importer": " ita ", "year": 2018},
        headers=risk_env.headers("member_state"),
    )
    assert first.headers["X-Critmat-Cache"] == "miss"
    assert again.headers["X-Critmat-Cache"] == "hit"
    assert again.content == first.content


def test_every_risk_route_is_for_logged_in_users(
    risk_env: RiskEnv, api: TestClient, anonymous: TestClient
) -> None:
    routes = [
        (path, route)
        for path, _methods, route in effective_routes(risk_env.app)
        if isinstance(route, APIRoute) and path.startswith(("/risk", "/api/v1/risk"))
    ]
    # + criticality-validation, criticality-next (api.routes.risk_outlook) and the web's
    # criticality-next download
    assert len(routes) == 14
    for path, route in routes:
        assert access_rules(route) == [LOGGED_IN], path
    urls = ["/api/v1/risk/geopolrisk", "/api/v1/risk/criticality", "/api/v1/risk/criticality/tin"]
    for url in urls:
        refused = anonymous.get(url)
        assert refused.status_code == 401 and refused.headers[ACCESS_HEADER] == "denied"
        for role in Role:
            answer = api.get(url, headers=risk_env.headers(role.value))
            assert answer.status_code == 200, (url, role)
