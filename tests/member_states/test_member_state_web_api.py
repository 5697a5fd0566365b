"""The Member State view on the web and over the API (the real default data): Germany's
country page leads with its own dependencies (no "supplier with four zeros"), the page of the
27, the downloads, and the API's answers and errors."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient

from tests.login_support import web_login
from tests.platform_support import Seeded

ANALYST = "analyst@a"


def _login(client: TestClient, seeded: Seeded) -> None:
    assert web_login(client, seeded.users[ANALYST]).status_code == 303


def test_germany_page_shows_its_dependencies_first(client: TestClient, seeded: Seeded) -> None:
    _login(client, seeded)
    response = client.get("/countries/DEU")
    assert response.status_code == 200
    html = response.text
    assert "Germany&#39;s own dependencies" in html or "Germany's own dependencies" in html
    table = re.search(r'data-table="dependencies".*?</table>', html, re.S)
    assert table is not None
    body = table.group(0)
    assert "/materials/bismuth" in body and "EXCEEDS 65 %" in body and "no data" in body
    assert "of 30 years (1995–2024), last 2024" in body  # the trend: years above 65 %
    # the dependencies come before anything else, and no EU27 supplier table of zeros
    assert html.index('data-table="dependencies"') < html.index("Governance")
    assert 'data-table="supply"' not in html
    assert "intra-EU trade" in html
    # phone width: the table scrolls in its own frame
    before = html[: html.index('data-table="dependencies"')]
    assert before.rstrip().endswith('<div class="table-wrap">\n<table class="data sortable"')


def test_a_third_country_page_keeps_its_eu_supply(client: TestClient, seeded: Seeded) -> None:
    _login(client, seeded)
    html = client.get("/countries/CHN").text
    assert 'data-table="supply"' in html and 'data-table="dependencies"' not in html


def test_the_page_of_the_27_and_its_download(client: TestClient, seeded: Seeded) -> None:
    _login(client, seeded)
    page = client.get("/member-states/cobalt?stage=processing")
    assert page.status_code == 200
    table = re.search(r'data-table="member-states".*?</table>', page.text, re.S)
    assert table is not None
    assert table.group(0).count("<tr>") == 28  # header + 27
    assert "fig-member-states" in page.text
    assert (
        client.get("/member-states?material=Co", follow_redirects=False).headers["location"]
        == "/member-states/cobalt"
    )
    download = client.get("/member-states/cobalt/table.csv?stage=processing")
    assert download.status_code == 200
    rows = [r for r in csv.reader(io.StringIO(download.content.decode("utf-8-sig"))) if r]
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Member State")
    assert len(rows) - header - 1 == 27
    deu = client.get("/member-states/DEU/dependencies.csv")
    assert deu.status_code == 200 and "bismuth" in deu.text


def test_the_material_page_links_to_the_27(client: TestClient, seeded: Seeded) -> None:
    _login(client, seeded)
    assert 'href="/member-states/cobalt' in client.get("/materials/cobalt").text


def test_api_dependencies_and_comparison(client: TestClient, seeded: Seeded) -> None:
    _login(client, seeded)
    got = client.get("/api/v1/member-states/Germany/dependencies?material=cobalt")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["country"] == "DEU" and "flag_rule" in body
    assert {d["stage"] for d in body["dependencies"]} >= {"processing", "extraction"}
    processing = next(d for d in body["dependencies"] if d["stage"] == "processing")
    assert processing["series"] == "HS17" and processing["trend"]
    extraction = next(d for d in body["dependencies"] if d["stage"] == "extraction")
    if extraction["total"] is None:
        assert extraction["exceeds_65"] is None  # no data: null, not false
    compared = client.get("/api/v1/member-states?material=cobalt&stage=processing").json()
    assert len(compared["member_states"]) == 27
    as_csv = client.get("/api/v1/member-states?material=cobalt&stage=processing&format=csv")
    assert as_csv.status_code == 200 and as_csv.text.count("\n") >= 28


def test_api_errors_name_what_to_type(client: TestClient, seeded: Seeded) -> None:
    _login(client, seeded)
    unknown = client.get("/api/v1/member-states/GER/dependencies")
    assert unknown.status_code == 404
    assert "DEU" in unknown.text
    outside = client.get("/api/v1/member-states/CHE/dependencies")
    assert outside.status_code == 400
    assert "not an EU Member State" in outside.text
