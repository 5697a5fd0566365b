"""The risk pages: access, rendering, HTMX fragments, downloads, and breakdowns whose parts add
up to the library's scores."""

from __future__ import annotations

import csv
import io
import math
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.services import risk as rk
from critmat.store import Store

PAGES = [
    "/risk/geopolrisk",
    "/risk/geopolrisk?importer=DEU&year=2020&basis=value&sort=cf",
    "/risk/geopolrisk/Cobalt?year=2023",
    "/risk/geopolrisk/Rare%20Earths%20(REO)?importer=FRA",
    "/risk/criticality",
    "/risk/criticality?year=2021&published_si=true",
    "/risk/criticality/cobalt",
    "/risk/criticality/nickel?year=2020",
]


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize("url", PAGES)
def test_pages_redirect_to_login_when_logged_out(anonymous: TestClient, url: str) -> None:
    response = anonymous.get(url, follow_redirects=False)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [unquote(url)]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_a_logged_in_user(browser_client: TestClient, url: str) -> None:
    response = browser_client.get(url)
    assert response.status_code == 200, response.text[:2000]
    text = response.text
    assert "<html" in text and 'class="chart"' in text and "Source:" in text
    assert "Table view" in text and ".csv?" in text and ".xlsx?" in text
    assert 'data-check="mismatch"' not in text  # breakdowns add up to the library's numbers
    fragment = browser_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="body"') and "<html" not in fragment.text


def test_geopolrisk_page_shows_the_library_ranking(
    browser_client: TestClient, real_store: Store
) -> None:
    text = browser_client.get("/risk/geopolrisk?importer=EU27&year=2023&sort=score").text
    rows = gpr.assess(real_store, importers=["EU27"], years=[2023]).rows
    top = rows.sort_values("score", ascending=False).iloc[0]
    assert f'data-kpi="top-score">{top["score"]:.3f}<' in text
    assert f'href="/risk/geopolrisk/{quote(top["wmd_commodity"], safe="")}?importer=EU27' in text
    assert text.index(">Cobalt<") < text.index(">Copper<")  # ranked by score


def test_criticality_page_ranks_by_sr_with_the_threshold(
    browser_client: TestClient, real_store: Store
) -> None:
    text = browser_client.get("/risk/criticality?year=2023").text
    assessment = euc.assess(real_store.con, year=2023)
    scored = [b for b in assessment.breakdowns if b.sr is not None]
    over = [b for b in scored if b.sr >= 1]
    assert f'data-kpi="over">{len(over)}<' in text
    assert "SR = 1 (CRMA threshold)" in text
    top = max(scored, key=lambda b: b.sr or 0)
    assert f'href="/risk/criticality/{top.material_id}?year=2023"' in text


def test_aliases_redirect_and_unknown_names_suggest_risk_pages(
    browser_client: TestClient,
) -> None:
    alias = browser_client.get("/risk/criticality/REE?year=2022", follow_redirects=False)
    assert alias.status_code == 307
    assert alias.headers["location"] == "/risk/criticality/rare_earths?year=2022"
    name = browser_client.get("/risk/geopolrisk/cobalt", follow_redirects=False)
    assert name.status_code == 307
    assert name.headers["location"].startswith("/risk/geopolrisk/Cobalt?")
    unknown = browser_client.get("/risk/criticality/coballt")
    assert unknown.status_code == 404
    assert 'href="/risk/criticality/cobalt"' in unknown.text
    assert "Traceback" not in unknown.text
    assert browser_client.get("/risk/geopolrisk/helium").status_code == 404
    bad = browser_client.get("/risk/geopolrisk?year=1990")
    assert bad.status_code == 400 and "2018" in bad.text
    invalid = browser_client.get("/risk/criticality?year=abc")
    assert invalid.status_code == 422 and "year" in invalid.text


@pytest.mark.parametrize(
    "url",
    [
        "/risk/downloads/geopolrisk.csv?importer=EU27&year=2023&sort=cf",
        "/risk/downloads/criticality.csv?year=2023",
        "/risk/geopolrisk/Cobalt/origins.csv?year=2023",
        "/risk/geopolrisk/Cobalt/producers.csv?year=2023",
        "/risk/criticality/cobalt/terms.csv",
        "/risk/criticality/nickel/extraction-eus.csv",
    ],
)
def test_downloads_open(browser_client: TestClient, url: str) -> None:
    response = browser_client.get(url)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert _csv(response.content)
    xlsx = browser_client.get(url.replace(".csv", ".xlsx"))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["data", "about"]
    about = {row[0]: row[1] for row in book["about"].iter_rows(values_only=True)}
    assert about["source"] and about["year"]


def test_unknown_breakdown_table_is_404(browser_client: TestClient) -> None:
    # cobalt has extraction and processing (IEA refinery) stages, no magnets stage
    assert browser_client.get("/risk/criticality/cobalt/magnets-gs.csv").status_code == 404
    assert browser_client.get("/risk/geopolrisk/Cobalt/prices.csv").status_code == 422


def test_geopolrisk_breakdowns_add_up_to_the_library_score(
    browser_client: TestClient, real_store: Store
) -> None:
    """For every commodity (EU27 and one Member State, both bases), the origins' contributions
    add up to the library's score and the producers' shares² to its HHI."""
    checked = 0
    for importer, basis in (("EU27", "mass"), ("DEU", "value")):
        result = gpr.assess(real_store, importers=[importer], basis=basis)
        for commodity in result.commodities:
            bd = rk.geopolrisk_breakdown(real_store, result, commodity, 2022)
            assert not bd.mismatches, bd.mismatches
            if bd.score is None or math.isnan(bd.score):
                continue
            parts = sum(o.score_contribution or 0.0 for o in bd.origins)
            assert parts == pytest.approx(bd.score, rel=1e-9, abs=1e-15)
            hhi = sum(p.hhi_contribution for p in bd.producers)
            assert hhi == pytest.approx(bd.hhi, rel=1e-9)
            checked += 1
    assert checked > 80
    # and the download of the page holds the same parts
    rows = _csv(browser_client.get("/risk/geopolrisk/Cobalt/origins.csv?year=2022").content)
    library = gpr.assess(real_store, importers=["EU27"], materials=["Cobalt"], years=[2022])
    score = float(library.rows["score"].iloc[0])
    assert sum(float(r["Contribution to score"]) for r in rows) == pytest.approx(score, rel=1e-9)


def test_criticality_breakdowns_add_up_to_the_sr(
    browser_client: TestClient, real_store: Store
) -> None:
    assessment = euc.assess(real_store.con, year=2024)
    for b in assessment.breakdowns:
        for stage in b.stages:
            for conc in (stage.global_supply, stage.eu_sourcing):
                if conc is None or conc.value is None:
                    continue
                parts = sum(c.contribution or 0.0 for c in conc.countries)
                assert parts == pytest.approx(conc.value, rel=1e-9), (b.material_id, conc.scope)
            if stage.sr is None:
                continue
            recomputed = euc.supply_risk(
                stage.global_supply.value or 0.0,
                stage.eu_sourcing.value if stage.eu_sourcing else None,
                stage.import_reliance.value if stage.basis == "GS+EU" else None,
                stage.eol_rir.value or 0.0,
                stage.si_sr.value or 1.0,
            )
            assert recomputed == pytest.approx(stage.sr, rel=1e-12)
    # the page's download of cobalt's global-supply terms sums to the index it shows
    cobalt = assessment.get("cobalt")
    rows = _csv(browser_client.get("/risk/criticality/cobalt/extraction-gs.csv").content)
    total = sum(float(r["Contribution"]) for r in rows if r["Contribution"])
    assert total == pytest.approx(cobalt.stages[0].global_supply.value, rel=1e-9)
    page = browser_client.get("/risk/criticality/cobalt").text
    assert f'data-kpi="sr">{cobalt.sr:,.2f}<' in page
