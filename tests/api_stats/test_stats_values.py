"""Figures of the statistics API equal the library's and an independent recomputation from the
raw files of the default dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from critmat.indicators import lookup
from critmat.platform.models import Role
from critmat.reference.countries import group_members
from critmat.store import open_store
from tests.api_stats.conftest import Api
from tests.api_stats.raw import raw_imports, raw_production

EU27 = group_members("EU27")


@pytest.mark.parametrize(
    ("params", "members"),
    [
        ({"material": "rare earths", "year": 2023, "basis": "mass"}, EU27),  # 2024: HS17
        (
            {
                "material": "lithium",
                "stage": "processing",
                "importer": "DEU",
                "year": 2023,
                "basis": "value",
            },
            frozenset({"DEU"}),
        ),
        ({"material": "cobalt", "year": 2015}, EU27),
        (
            {"hs": "282200", "year": 2023, "importer": "DEU,FRA,ITA", "basis": "value"},
            frozenset({"DEU", "FRA", "ITA"}),
        ),
    ],
)
def test_dependency_matches_baci_and_the_library(
    api: Api,
    api_data_dir: Path,
    raw_bundle: Path,
    params: dict[str, Any],
    members: frozenset[str],
) -> None:
    response = api.get("/api/v1/dependency", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    basis = str(params.get("basis", "mass"))
    expected = raw_imports(raw_bundle, members, set(body["hs_codes"]), int(params["year"]), basis)
    total = sum(expected.values())
    top = max(expected, key=expected.__getitem__)
    assert body["year"] == params["year"] and body["basis"] == basis
    assert body["total"] == pytest.approx(total)
    assert body["top_supplier"] == top
    assert body["top_share"] == pytest.approx(expected[top] / total)
    assert body["hhi"] == pytest.approx(sum((v / total) ** 2 for v in expected.values()))
    third = {k: v for k, v in expected.items() if not (members <= EU27 and k in EU27)}
    assert body["exceeds_65"] == (max(third.values()) / total > 0.65)
    key = "quantity" if basis == "mass" else "value"
    assert {s["country"]: s[key] for s in body["sources"]} == pytest.approx(expected)
    assert [p["dataset"] for p in body["provenance"]] == ["trade"]
    assert body["provenance"][0]["years"] == [params["year"]]

    with open_store(api_data_dir / "critmat.duckdb", read_only=True) as store:
        library = lookup.dependency(
            store,
            importer=str(params.get("importer", "EU27")),
            year=int(params["year"]),  # type: ignore[call-overload]
            basis=basis,
            material=params.get("material"),  # type: ignore[arg-type]
            stage=params.get("stage"),  # type: ignore[arg-type]
            hs=params.get("hs"),  # type: ignore[arg-type]
        )
    assert body["importer"] == library.importer.name
    assert body["hs_codes"] == list(library.hs_codes)
    assert body["stage"] == (library.stage.name if library.stage else None)
    assert body["notes"] == library.notes
    assert [s["country"] for s in body["sources"]] == list(library.sources["origin"])


def test_production_matches_world_mining_data(api: Api, raw_bundle: Path) -> None:
    body = api.get("/api/v1/materials/Co/production", year=2023).json()
    expected = raw_production(raw_bundle, "Cobalt", 2023)
    total = sum(expected.values())
    assert body["commodity"] == "Cobalt" and body["year"] == 2023
    assert {r["country"]: r["quantity"] for r in body["rows"]} == pytest.approx(expected)
    assert body["total"] == pytest.approx(total)
    assert body["top_country"] == "COD" == body["rows"][0]["country"]
    assert body["hhi"] == pytest.approx(sum((q / total) ** 2 for q in expected.values()))
    for row in body["rows"]:
        assert row["share"] == pytest.approx(expected[row["country"]] / total)
    assert [r["rank"] for r in body["rows"]] == list(range(1, len(body["rows"]) + 1))
    assert body["provenance"][0]["dataset"] == "production"
    # without a year: the latest year with data
    latest = api.get("/api/v1/materials/cobalt/production").json()
    assert latest["year"] == body["provenance"][0]["release_years"][1]


def test_member_states_match_baci(api: Api, raw_bundle: Path) -> None:
    body = api.get(
        "/api/v1/materials/lithium/member-states", year=2023, stage="processing", basis="value"
    ).json()
    assert body["stage"] == "processing" and len(body["member_states"]) >= 20
    by_country = {row["country"]: row for row in body["member_states"]}
    for iso3 in ("DEU", "FRA", "BEL"):
        expected = raw_imports(raw_bundle, frozenset({iso3}), set(body["hs_codes"]), 2023, "value")
        total = sum(expected.values())
        third = {k: v for k, v in expected.items() if k not in EU27}
        top_third = max(third, key=third.__getitem__)
        row = by_country[iso3]
        assert row["total"] == pytest.approx(total)
        assert row["top_supplier"] == max(expected, key=expected.__getitem__)
        assert row["top_third_country"] == top_third
        assert row["top_third_share"] == pytest.approx(third[top_third] / total)
        assert row["exceeds_65"] == (third[top_third] / total > 0.65)


def test_series_and_reliance_equal_the_library(api: Api, api_data_dir: Path) -> None:
    years: dict[str, Any] = {"from": 2015, "to": 2020}
    series = api.get("/api/v1/dependency/series", material="graphite", **years).json()
    reliance = api.get("/api/v1/materials/copper/reliance").json()
    with open_store(api_data_dir / "critmat.duckdb", read_only=True) as store:
        lib_series = lookup.dependency_series(
            store, importer="EU27", material="graphite", first=2015, last=2020
        )
        lib_reliance = lookup.reliance(store, importer="EU27", material="copper")
    assert [r["year"] for r in series["rows"]] == list(range(2015, 2021))
    assert [r["top_supplier"] for r in series["rows"]] == list(lib_series.rows["top_supplier"])
    assert [r["hhi"] for r in series["rows"]] == pytest.approx(list(lib_series.rows["hhi"]))
    assert [r["import_reliance"] for r in reliance["rows"]] == pytest.approx(
        list(lib_reliance.rows["import_reliance"]), nan_ok=True
    )
    assert {p["dataset"] for p in reliance["provenance"]} == {"production", "trade"}


def test_material_country_search_and_releases(api: Api) -> None:
    ree = api.get("/api/v1/materials/REE").json()
    assert ree["id"] == "rare_earths" and ree["stages"] and ree["provenance"]
    assert all(len(c["code"]) == 6 for s in ree["stages"] for c in s["hs_codes"])
    strategic = api.get("/api/v1/materials", strategic="true").json()
    assert strategic and all(m["strategic"] for m in strategic)
    assert len(api.get("/api/v1/materials", critical="true").json()) == 34

    china = api.get("/api/v1/countries/China", year=2023).json()
    assert china["iso3"] == "CHN" and china["year"] == 2023 and not china["eu_member"]
    assert china["eu_imports"] and china["governance"][0]["points"]
    shares = [i["value_share"] for i in china["eu_imports"] if i["value_share"] is not None]
    assert shares and all(0 < s <= 1 for s in shares)
    norway = api.get("/api/v1/countries/NOR").json()
    assert norway["eea"] and norway["strategic_partner"]
    germany = api.get("/api/v1/countries/DEU").json()
    assert germany["eu_member"] and germany["eu_imports"] == [] and germany["notes"]

    hits = api.get("/api/v1/search", q="lithium").json()["results"]
    assert hits[0]["kind"] == "material" and hits[0]["id"] == "lithium"
    congo = api.get("/api/v1/search", q="DR Congo").json()["results"]
    assert congo[0]["id"] == "COD"

    data = api.get("/api/v1/data/releases").json()
    assert {r["dataset"] for r in data["releases"]} == {"production", "trade", "governance"}
    assert {c["dataset"] for c in data["coverage"]} == {"production", "trade", "governance"}


def test_restrictions_with_exposure(api: Api) -> None:
    plain = api.get("/api/v1/restrictions", country="CHN").json()
    assert plain["restrictions"] and all(r["country"] == "CHN" for r in plain["restrictions"])
    assert plain["provenance"] == []
    exposed = api.get("/api/v1/restrictions", country="CHN", exposure="EU27").json()
    assert exposed["provenance"][0]["dataset"] == "trade"
    assert any(r["share_before"] is not None for r in exposed["restrictions"])


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_reads_statistics(api: Api, role: str) -> None:
    response = api.get("/api/v1/dependency", role=role, material="cobalt", year=2023)
    assert response.status_code == 200
    assert api.get("/api/v1/materials", role=role).status_code == 200


def test_session_login_reads_statistics(api: Api) -> None:
    email = api.seeded.users["analyst@b"]
    from tests.platform_support import PASSWORD

    client = api.client
    assert (
        client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code
        == 200
    )
    try:
        assert client.get("/api/v1/materials/cobalt").status_code == 200
    finally:
        client.cookies.clear()
