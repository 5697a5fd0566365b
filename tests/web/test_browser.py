"""Browser journeys with Playwright driving Debian's Chromium against a live uvicorn server:
log in, open a material, change the year (figures change and match the library), download a
CSV, be refused another organisation's page, log out. No console errors; charts render."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from critmat.indicators.lookup import dependency, production
from critmat.store import Store
from critmat.web.render import share
from tests.platform_support import PASSWORD, Seeded


@pytest.fixture
def page(browser: Any, server: str, seeded: Seeded) -> Iterator[Any]:
    """A logged-in page (analyst of organisation a); fails the test on console errors."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.goto(f"{server}/materials/cobalt")
    assert "/login?next=%2Fmaterials%2Fcobalt" in tab.url
    tab.fill("input[name=email]", seeded.users["analyst@a"])
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form.stack button[type=submit]")
    tab.wait_for_url(f"{server}/materials/cobalt")
    tab.problems = problems
    yield tab
    context.close()
    assert not [p for p in problems if "status of 403" not in p], problems


def _library(real_data_dir: Path, year: int, stage: str) -> tuple[dict[str, Any], Any]:
    with Store(real_data_dir / "critmat.duckdb", read_only=True) as store:
        dep = dependency(store, importer="EU27", year=year, material="cobalt", stage=stage)
        prod = production(store, "cobalt", year)
    assert dep.summary is not None
    return dep.summary, prod.rows


def test_overview_chart_renders(page: Any, server: str) -> None:
    page.goto(f"{server}/")
    page.wait_for_selector("#fig-panel svg.main-svg")
    assert page.locator("#fig-panel .bars path").count() >= 10
    page.click("text=Table view")
    assert (
        page.locator("table[data-table=panel] tbody tr").count()
        == page.locator("#fig-panel .ytick").count()
    )


def test_change_year_updates_figures(page: Any, server: str, real_data_dir: Path) -> None:
    page.wait_for_selector("#fig-production svg.main-svg")
    page.wait_for_selector("#fig-sources svg.main-svg")
    body = page.locator("#body")
    before = page.locator("[data-kpi=eu-total]").inner_text()
    page.select_option("select[name=year]", "2019")
    page.wait_for_selector("#body[data-year='2019']")
    assert page.url.endswith("year=2019&stage=intermediate") or "year=2019" in page.url
    stage = body.get_attribute("data-stage")
    summary, rows = _library(real_data_dir, 2019, stage)
    shown = page.locator("[data-kpi=eu-top-share]").inner_text()
    assert shown == share(float(summary["top_third_share"]))
    assert page.locator("[data-kpi=eu-total]").inner_text() != before
    assert page.locator("[data-kpi=eu-total]").inner_text() == f"{summary['total']:,.0f} t"
    country = page.locator("[data-kpi=eu-top-country]").get_attribute("href")
    assert country == f"/countries/{summary['top_third_country']}"
    # the production table of the swapped fragment is the library's for 2019
    page.wait_for_selector("#fig-production svg.main-svg")  # charts redrawn after the swap
    page.click("#fig-production-h >> xpath=../.. >> text=Table view")
    first = page.locator("section:has(#fig-production) table tbody tr").first
    assert first.locator("td[data-col=country]").get_attribute("data-v") == rows["country"][0]
    assert float(first.locator("td[data-col=quantity]").get_attribute("data-v")) == pytest.approx(
        float(rows["quantity"][0])
    )
    # the plain link fallback goes to the neighbouring year
    page.click("a[rel=next]")
    page.wait_for_selector("#body[data-year='2020']")


def test_download_csv(page: Any, real_data_dir: Path) -> None:
    page.select_option("select[name=year]", "2022")
    page.wait_for_selector("#body[data-year='2022']")
    with page.expect_download() as info:
        page.click("section:has(#fig-production) .downloads >> text=CSV")
    download = info.value
    assert download.suggested_filename == "critmat-cobalt-production-2022.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    _summary, expected = _library(real_data_dir, 2022, "intermediate")
    assert [r["country (ISO3)"] for r in rows] == list(expected["country"])
    assert float(rows[0]["Share of world (0-1)"]) == pytest.approx(float(expected["share"][0]))
    assert rows[0]["Country (name)"] == "DR Congo"


def test_other_organisation_refused(page: Any, server: str, seeded: Seeded) -> None:
    page.click(".usermenu a")
    page.wait_for_url(f"{server}/orgs/{seeded.orgs['a']}")
    assert page.locator("h1").inner_text() == "Organisation A"
    response = page.goto(f"{server}/orgs/{seeded.orgs['b']}")
    assert response.status == 403
    assert "another organisation" in page.locator("main").inner_text()


def test_search_suggestions(page: Any, server: str) -> None:
    page.fill("#q", "grap")
    page.wait_for_selector("#suggest a[href='/materials/graphite']")
    page.click("#suggest a[href='/materials/graphite']")
    page.wait_for_url(f"{server}/materials/graphite")
    page.wait_for_selector("#fig-production svg.main-svg")


def test_logout(page: Any, server: str) -> None:
    page.click("text=Log out")
    page.wait_for_url(f"{server}/login?logged_out=1")
    assert "You are logged out" in page.content()
    page.goto(f"{server}/materials/cobalt")
    assert page.url.startswith(f"{server}/login?next=")
