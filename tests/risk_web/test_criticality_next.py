"""The validation against 2023 and the next-assessment view over the API and on the
criticality page: the same figures as the library, provenance named, missing stays missing."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from critmat.risk._eu_validation import VALIDATION_YEAR, outlook, validate
from critmat.risk.eu_criticality import assess
from critmat.store import Store
from tests.risk_web.conftest import RiskEnv


def test_validation_route_is_the_library_validation(
    api: TestClient, risk_env: RiskEnv, real_store: Store
) -> None:
    response = api.get("/api/v1/risk/criticality-validation", headers=risk_env.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    expected = validate(assess(real_store.con, year=VALIDATION_YEAR))
    assert body["years"] == list(expected.assessment.years)
    assert body["spearman"] == pytest.approx(expected.spearman, rel=1e-12)
    assert body["n"] == expected.n == len(body["rows"])
    assert {p["dataset"] for p in body["provenance"]} >= {"governance", "production", "trade"}
    germanium = next(r for r in body["rows"] if r["material"] == "germanium")
    assert germanium["published_sr"] == 1.8 and germanium["stage"] == "processing"
    table = api.get(
        "/api/v1/risk/criticality-validation",
        params={"year": 2024, "format": "csv"},
        headers=risk_env.headers(),
    )
    assert table.status_code == 200
    rows = list(csv.reader(io.StringIO(table.text.lstrip("\ufeff"))))
    header = next(r for r in rows if r and r[0] == "material")
    assert header[:2] == ["material", "published_sr"]
    body_rows = rows[rows.index(header) + 1 :]
    assert len(body_rows) == validate(assess(real_store.con, year=2024)).n


def test_next_route_and_page_show_who_crosses_the_thresholds(
    api: TestClient, browser_client: TestClient, risk_env: RiskEnv, real_store: Store
) -> None:
    body = api.get("/api/v1/risk/criticality-next", headers=risk_env.headers()).json()
    expected = outlook(assess(real_store.con))
    assert body["crossing"] == [r.material_id for r in expected.crossing()]
    for row in body["rows"]:
        if row["sr"] is None or row["ei"] is None:
            assert row["meets_now"] is None and row["change"] == "no data"
    page = browser_client.get("/risk/criticality").text
    assert 'id="next-assessment"' in page
    assert f'data-kpi="crossing">{len(body["crossing"])}<' in page
    download = browser_client.get("/risk/downloads/criticality-next.csv")
    assert download.status_code == 200 and "would meet" in download.text.lower()
    bad = api.get(
        "/api/v1/risk/criticality-next", params={"year": 1990}, headers=risk_env.headers()
    )
    assert bad.status_code == 400 and "outside" in bad.text
