"""The origin-tracing card on the material and country pages, and its own page (real data)."""

from __future__ import annotations

import re

import pytest

from critmat.indicators.origin_networks import traced_stages
from critmat.reference.materials import load_catalogue
from tests.api_stats.conftest import Api


def test_material_and_country_pages_include_the_origins_card(api: Api) -> None:
    material = api.get("/materials/cobalt", year=2023)
    assert material.status_code == 200, material.text[:300]
    assert 'id="origins-card"' in material.text
    assert 'hx-get="/origins?material=cobalt&amp;importer=EU27&amp;year=2023"' in material.text
    country = api.get("/countries/DEU", year=2023)
    assert country.status_code == 200
    assert 'hx-get="/origins?importer=DEU&amp;year=2023"' in country.text


def test_card_shows_both_views_with_release_stage_and_year(api: Api) -> None:
    card = api.client.get(
        "/origins",
        params={"material": "cobalt", "importer": "EU27", "year": 2023},
        headers={**api.headers(), "HX-Request": "true"},
    )
    assert card.status_code == 200, card.text[:300]
    html = card.text
    assert "<html" not in html  # the fragment only
    assert "By shipping country (BACI)" in html and "By country of origin" in html
    provenance = re.search(r"data-origins-provenance>(.*?)</p>", html, re.S)
    assert provenance is not None
    text = provenance.group(1)
    assert "intermediate" in text and "extraction" in text and "2023" in text
    assert "BACI HS92 release" in text and "USGS MCS 2024 release" in text
    assert "data-origins-unattributed" in html and "<strong>unattributed</strong>" in html


def test_country_card_offers_the_traceable_materials_and_downloads(api: Api) -> None:
    page = api.get("/origins", importer="DEU", material="platinum", year=2023)
    assert page.status_code == 200
    assert "<html" in page.text and 'value="platinum" selected' in page.text
    assert 'value="cobalt"' in page.text
    download = api.get("/origins/table.csv", importer="DEU", material="platinum", year=2023)
    assert download.status_code == 200
    assert "By country of origin" in download.text and "ZAF" in download.text


def test_a_year_that_cannot_be_traced_shows_the_latest_with_a_note(api: Api) -> None:
    page = api.get("/origins", material="cobalt", importer="EU27", year=2001)
    assert page.status_code == 200
    assert "origins cannot be traced for 2001" in page.text


def test_a_material_that_cannot_be_traced_says_so(api: Api) -> None:
    catalogue = load_catalogue()
    traced = {s.material_id for s in traced_stages(catalogue.materials)}
    untraced = [m.id for m in catalogue.materials if m.id not in traced]
    if not untraced:
        pytest.skip("every catalogued material can be traced")
    page = api.get("/origins", material=untraced[0], importer="EU27")
    assert page.status_code == 200
    assert "data-origins-problem" in page.text and "No origin tracing" in page.text
