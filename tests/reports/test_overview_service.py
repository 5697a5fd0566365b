"""The overview service (critmat.services.overview) that the web's statistics pages and the
report share: one basis per release, restriction status on the "as of" day, one panel rule,
one search ranking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from critmat.reference.restrictions import load_restrictions
from critmat.reports.html import report_context
from critmat.services import catalogue, overview
from critmat.services.context import ServiceContext
from critmat.store import Store, open_store


@pytest.fixture(scope="module")
def store(real_data_dir: Path) -> Iterator[Store]:
    with open_store(real_data_dir / "critmat.duckdb", read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def services(store: Store) -> ServiceContext:
    return report_context(store)


def test_the_basis_is_computed_once_per_release(services: ServiceContext, store: Store) -> None:
    first = overview.basis(services, store)
    assert overview.basis(services, store) is first
    assert first.release_ids == store.release_key()
    assert first.provenance("trade").citation("trade") == first.citation("trade") != "–"


@pytest.mark.parametrize("day", [date(2023, 7, 1), date(2025, 11, 15), date(2026, 3, 1)])
def test_restriction_status_is_read_on_the_as_of_day(
    services: ServiceContext, store: Store, day: date
) -> None:
    registry = {r.id: r for r in load_restrictions()}
    rows = overview.restrictions(services, store, day)
    assert [r.id for r in rows] and {r.as_of for r in rows} == {day.isoformat()}
    for row in rows:
        assert row.in_force == registry[row.id].active_on(day), row.id


def test_material_pages_count_restrictions_in_force_on_the_same_day(
    services: ServiceContext, store: Store
) -> None:
    day = date(2025, 11, 15)
    found = overview.basis(services, store)
    registry = overview.restrictions(services, store, day)
    page = overview.material_page(
        services, store, found.material("rare_earths"), found.focus_year, day=day
    )
    in_force = {r.id for r in registry if r.in_force}
    assert page.section.restrictions
    for row in page.section.restrictions:
        assert row.in_force == (row.id in in_force)


def test_the_web_panel_and_the_report_sections_agree(
    services: ServiceContext, store: Store
) -> None:
    found = overview.basis(services, store)
    year = found.focus_year
    panel = overview.panel(services, store, year)
    assert len(panel) == 34
    for row in panel:
        page = overview.material_page(services, store, found.material(row.material_id), year)
        assert page.panel == row == page.section.panel, row.material_id


def test_search_follows_the_catalogue_ranking(services: ServiceContext, store: Store) -> None:
    result = overview.search(services, store, "rare", limit=10)
    assert result.named is None
    assert [h.key for h in result.hits] == [h.id for h in catalogue.search("rare", 10)]
    # a stage's alias names its material, which leads the list (the API's list too)
    named = overview.search(services, store, "NdFeB magnets", limit=10)
    assert named.named is not None and named.named.key == "rare_earths"
    assert (named.hits[0].kind, named.hits[0].key) == ("material", "rare_earths")
    assert catalogue.search("NdFeB magnets", 1)[0].matched == "NdFeB magnets"
    # what the query names exactly ranks above any prefix match, whatever the weights
    assert catalogue.search("Niger", 2)[0].id == "NER"
