"""Fast page tests through TestClient: access, redirects, error pages, CSRF, downloads."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from critmat.exports import neutralise
from critmat.store import Store
from critmat.web.tables import Column, Table, to_csv, to_xlsx
from tests.login_support import web_login
from tests.platform_support import Seeded
from tests.web.conftest import login

PAGES = ["/", "/materials", "/materials/cobalt", "/countries/CHN", "/search?q=co"]


def _rules(dependant: Any) -> list[Any]:
    found = []
    for dep in dependant.dependencies:
        rule = getattr(dep.call, "access_rule", None)
        if rule is not None:
            found.append(rule)
        found += _rules(dep)
    return found


def test_every_web_route_declares_an_access_rule(app: Any) -> None:
    web = [r for r in app.routes if isinstance(r, APIRoute) and not r.path.startswith("/api/")]
    assert {"/", "/login", "/logout", "/materials/{material_id}", "/orgs/{org_id}"} <= {
        r.path for r in web
    }
    for route in web:
        assert _rules(route.dependant), f"{route.path} has no access rule"


@pytest.mark.parametrize("url", PAGES)
def test_pages_redirect_to_login_when_logged_out(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2F")


def test_expired_session_says_so(client: TestClient) -> None:
    client.cookies.set("critmat_session", "no-such-session")
    response = client.get("/materials/cobalt", follow_redirects=False)
    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]
    page = client.get(response.headers["location"])
    assert "session has expired" in page.text


def test_login_then_back_to_the_page_asked_for(client: TestClient, seeded: Seeded) -> None:
    response = web_login(client, seeded.users["analyst@a"], next="/materials/cobalt?year=2020")
    assert response.status_code == 303
    assert response.headers["location"] == "/materials/cobalt?year=2020"
    # never to another site
    client.cookies.clear()
    evil = web_login(client, seeded.users["analyst@a"], next="//evil.example/")
    assert evil.headers["location"] == "/"


def test_wrong_password_and_rate_limit_are_shown(client: TestClient, seeded: Seeded) -> None:
    email = seeded.users["supplier@b"]
    first = web_login(client, email, "nope")
    assert first.status_code == 401
    assert "Wrong e-mail or password" in first.text
    assert 'value="' + email + '"' in first.text  # the e-mail is kept in the form
    for _ in range(seeded.settings.login_max_failures):
        last = web_login(client, email, "nope")
    assert last.status_code == 429
    assert "Too many login attempts" in last.text
    assert "Retry-After" in last.headers


def test_logout_requires_csrf(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    refused = client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert "CSRF" in refused.text and "<html" in refused.text
    page = client.get("/materials")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login?logged_out=1"
    assert client.get("/materials", follow_redirects=False).status_code == 303


def test_unknown_material_404_suggests_links(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    response = client.get("/materials/coballt")
    assert response.status_code == 404
    assert 'href="/materials/cobalt"' in response.text
    assert "Traceback" not in response.text


def test_alias_redirects_to_canonical_page(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    response = client.get("/materials/REE?year=2020", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/materials/rare_earths?year=2020"
    # a name of a stage keeps the stage it names (the one stage rule, Catalogue.choose_stage)
    named = client.get("/materials/lithium carbonate", follow_redirects=False)
    assert named.headers["location"] == "/materials/lithium?stage=processing"
    page = client.get(named.headers["location"])
    assert page.status_code == 200 and 'data-stage="processing"' in page.text


def test_unknown_stage_suggests_the_stages(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    response = client.get("/materials/cobalt?stage=procesing")
    assert response.status_code == 404 and "Unknown stage" in response.text
    assert "?stage=processing" in response.text


def test_invalid_parameters_give_a_422_page(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    response = client.get("/materials/cobalt?year=abc")
    assert response.status_code == 422
    assert "Invalid address" in response.text and "year" in response.text
    outside = client.get("/materials/cobalt?year=1990")
    assert outside.status_code == 400 and "outside the trade data" in outside.text


def test_other_organisation_is_refused(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    own = client.get(f"/orgs/{seeded.orgs['a']}")
    assert own.status_code == 200 and seeded.users["company@a"] in own.text
    other = client.get(f"/orgs/{seeded.orgs['b']}")
    assert other.status_code == 403
    assert "another organisation" in other.text
    assert seeded.users["company@b"] not in other.text


def test_admin_sees_every_organisation(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["admin@a"])
    assert client.get(f"/orgs/{seeded.orgs['b']}").status_code == 200


def test_api_errors_stay_json(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")


def test_htmx_request_gets_the_fragment(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    full = client.get("/materials/cobalt?year=2020")
    part = client.get("/materials/cobalt?year=2020", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in part.text
    assert 'id="body"' in part.text and 'data-year="2020"' in part.text
    assert "HX-Request" in part.headers["vary"]


def test_search_and_suggestions(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    page = client.get("/search?q=rare")
    assert page.status_code == 200 and "/materials/rare_earths" in page.text
    one = client.get("/search?q=NdFeB magnets", follow_redirects=False)
    assert one.status_code == 303 and one.headers["location"] == "/materials/rare_earths"
    suggest = client.get("/search/suggest?q=chin")
    assert "/countries/CHN" in suggest.text and "<html" not in suggest.text


def test_static_assets_are_served(client: TestClient) -> None:
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and "immutable" in plotly.headers["cache-control"]
    assert client.get("/static/vendor/htmx.min.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_production_csv_matches_library(
    client: TestClient, seeded: Seeded, real_data_dir: Any
) -> None:
    from critmat.indicators.lookup import production

    login(client, seeded.users["analyst@a"])
    response = client.get("/materials/cobalt/production.csv?year=2021")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    with Store(real_data_dir / "critmat.duckdb", read_only=True) as store:
        expected = production(store, "cobalt", 2021).rows
    assert [r["country (ISO3)"] for r in rows] == list(expected["country"])
    assert float(rows[0]["Quantity (metr. t)"]) == pytest.approx(float(expected["quantity"][0]))
    assert float(rows[0]["Share of world (0-1)"]) == pytest.approx(float(expected["share"][0]))


def test_xlsx_download_has_data_and_source(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    response = client.get("/downloads/panel.xlsx?year=2023")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["data", "about"]
    assert book["data"].max_row == 35  # header + 34 critical raw materials
    about = {row[0]: row[1] for row in book["about"].iter_rows(values_only=True)}
    assert about["year"] == "2023" and "baci" in str(about["source"])


FORMULAS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "plain", "a=b"]


def test_exports_neutralise_formula_like_text() -> None:
    assert [neutralise(v) for v in FORMULAS] == [
        "'=1+1",
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "a=b",
    ]
    assert neutralise(-2.5) == -2.5  # numbers stay numbers
    table = Table(
        name="t",
        title="=title",
        columns=[Column("text", "=label"), Column("value", "value", "num")],
        rows=[{"text": v, "value": -1.0} for v in FORMULAS],
        source="@source",
    )
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert rows[0] == ["'=label", "value"]
    assert [r[0] for r in rows[1:]] == [neutralise(v) for v in FORMULAS]
    assert all(r[1] == "-1.0" for r in rows[1:])
    book = load_workbook(io.BytesIO(to_xlsx(table)))
    cells = [row[0] for row in book["data"].iter_rows(min_row=2, values_only=True)]
    assert cells == [neutralise(v) for v in FORMULAS]
    assert book["data"]["B2"].value == -1.0
    assert book["about"]["B2"].value == "'@source"


def test_material_page_shows_sources_and_years(client: TestClient, seeded: Seeded) -> None:
    login(client, seeded.users["analyst@a"])
    page = client.get("/materials/lithium?year=2022")
    assert page.status_code == 200
    assert page.text.count('class="source"') >= 5
    assert "Source: baci HS92" in page.text and "· 2022" in page.text
    assert 'class="figure"' in page.text  # charts
    country = client.get("/countries/CHN?year=2022")
    assert "Political stability" in country.text or "political stability" in country.text
    norway = client.get("/countries/NOR?year=2022")
    assert "STRATEGIC PARTNERS" in norway.text and "EEA" in norway.text
