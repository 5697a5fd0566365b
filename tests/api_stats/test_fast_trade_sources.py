"""The precomputed tables answer stages with a second trade series (HS17 rows besides HS92) as
the general path does: each year from the one release ``source_for_year`` names, with the same
figures, provenance and notes — and they do answer them (no fall-back to the general path)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.precomputed import Tables
from critmat.indicators.trade_sources import trade_sources
from critmat.reference.materials import load_catalogue
from critmat.services import statistics as svc
from critmat.store import Store
from tests.api_stats.test_stats_precomputed import _answer, _compare, _same


@pytest.fixture(scope="module")
def tables(store: Store, cache: FlowsCache) -> Tables:
    found = cache.tables(store)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def two_source_stages(store: Store) -> list[tuple[str, str]]:
    """(material, stage) of every catalogued stage whose figures come from two trade series."""
    stages = [
        (mat.id, stage.name)
        for mat in load_catalogue()
        for stage in mat.stages
        if len(trade_sources(store, mat, stage, stage.hs_codes)) > 1
    ]
    assert stages, "the default dataset ships HS17 beside HS92: no stage has two trade series"
    return stages


def _some(stages: list[tuple[str, str]], importer: str) -> list[tuple[str, str]]:
    """A seeded sample of the stages: twelve for EU27, six for a Member State (a fast test)."""
    return random.Random(importer).sample(stages, min(12 if importer == "EU27" else 6, len(stages)))


def _other_release(store: Store) -> tuple[int, int, int]:
    """Id, first and last year of the current trade release besides the default series."""
    default = store.require_release("trade")
    other = [r for r in store.current_releases("trade") if r.release_id != default.release_id]
    assert other and other[0].year_min is not None and other[0].year_max is not None
    return other[0].release_id, other[0].year_min, other[0].year_max


def test_tables_hold_every_trade_release(store: Store, tables: Tables) -> None:
    held = {r.release_id for r in store.current_releases("trade")}
    assert set(tables.trade) == held
    assert len(held) >= 2
    other_id, _first, last = _other_release(store)
    hs17 = tables.trade[other_id]
    assert hs17.release.series == "HS17"
    # gallium's HS17 code (811292) has no HS92 counterpart with rows: only this table has it
    assert "811292" in hs17.groups
    assert hs17.origins(("811292",), "EU27", last).origins
    assert not tables.origins(("811292",), "EU27", last).origins


@pytest.mark.parametrize("importer", ["EU27", "DEU", "NLD"])
def test_dependency_of_two_series_stages_from_the_tables(
    store: Store,
    cache: FlowsCache,
    tables: Tables,
    two_source_stages: list[tuple[str, str]],
    importer: str,
) -> None:
    other_id, _first, last = _other_release(store)
    answered: dict[str, int] = {"HS17": 0, "HS92": 0}
    no_data = 0
    years = (last - 1, last) if importer == "EU27" else (None, last - 1, last)
    versions = {r.release_id: r.version for r in store.current_releases("trade")}
    for material, stage in _some(two_source_stages, importer):
        for year in years:
            for basis in ("mass", "value"):
                question: dict[str, Any] = {
                    "importer": importer,
                    "year": year,
                    "basis": basis,
                    "material": material,
                    "stage": stage,
                    "hs": None,
                }
                general = _answer(svc.dependency, store, **question)
                fast = svc.fast_dependency(store, tables, **question)
                assert fast is not None, question  # the tables hold it, data or not
                _same(general[0], fast.model.model_dump(mode="json"))
                assert fast.table is not None and general[1] is not None
                _same(general[1][1], fast.table.rows)
                model = fast.model.model_dump(mode="json")
                if model["total"] is None:  # no data: the general path's note and years
                    assert model["notes"][-1].startswith("no data:") and not model["sources"]
                    no_data += 1
                    continue
                chosen_year = model["year"]
                assert (model["release_id"] == other_id) == (chosen_year == last), question
                assert [p["version"] for p in model["provenance"]] == [
                    versions[model["release_id"]]
                ]
                assert model["provenance"][0]["years"] == [chosen_year]
                answered[model["series"]] += 1
                # through the service with the cache: the tables' answer
                assert _answer(svc.dependency, store, flows_cache=cache, **question) == (
                    model,
                    (fast.table.columns, fast.table.rows),
                )
    # both series answered: the last year from HS17, earlier years from HS92
    assert answered["HS17"] > 3 and answered["HS92"] > 3, answered
    assert no_data > 0  # HS92 years of stages whose HS92 codes have no rows


@pytest.mark.parametrize("importer", ["EU27", "FRA"])
def test_series_of_two_series_stages_from_the_tables(
    store: Store,
    cache: FlowsCache,
    tables: Tables,
    two_source_stages: list[tuple[str, str]],
    importer: str,
) -> None:
    _other_id, _first, last = _other_release(store)
    both = 0
    for material, stage in _some(two_source_stages, importer):
        for first in (None,) if importer == "EU27" else (last - 3,):
            question: dict[str, Any] = {
                "importer": importer,
                "basis": "mass",
                "material": material,
                "stage": stage,
                "hs": None,
                "first": first,
                "last": None,
            }
            fast = svc.fast_series(store, tables, **question)
            assert fast is not None, question
            assert _compare(svc.dependency_series, store, cache, **question)
            model = fast.model.model_dump(mode="json")
            series = {row["series"] for row in model["rows"]}
            by_release = {p["version"]: p["years"] for p in model["provenance"]}
            assert len(by_release) == len(model["provenance"])
            assert sorted(y for years in by_release.values() for y in years) == [
                r["year"] for r in model["rows"]
            ]
            if series == {"HS92", "HS17"}:
                both += 1
                assert len(by_release) == 2
                assert [r["series"] for r in model["rows"] if r["year"] == last] == ["HS17"]
    assert both >= 3


def test_bare_hs17_code_and_errors_as_the_general_path(
    store: Store, cache: FlowsCache, tables: Tables
) -> None:
    _other_id, _first, last = _other_release(store)
    for hs in ("811292", "282200", "850511"):
        for year in (None, last):
            if hs == "811292":  # not an HS92 code of the catalogue: the general path answers
                assert _compare(
                    svc.dependency,
                    store,
                    cache,
                    importer="EU27",
                    year=year,
                    basis="value",
                    material=None,
                    stage=None,
                    hs=hs,
                )
                continue
            question: dict[str, Any] = {
                "importer": "EU27",
                "year": year,
                "basis": "value",
                "material": None,
                "stage": None,
                "hs": hs,
            }
            assert svc.fast_dependency(store, tables, **question) is not None, hs
            assert _compare(svc.dependency, store, cache, **question)
    # a year outside every trade release and an unknown stage: the same errors both ways
    for year, stage in ((1900, "processing"), (last, "no-such-stage")):
        assert not _compare(
            svc.dependency,
            store,
            cache,
            importer="EU27",
            year=year,
            basis="mass",
            material="gallium",
            stage=stage,
            hs=None,
        )
