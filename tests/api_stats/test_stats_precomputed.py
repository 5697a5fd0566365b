"""The precomputed tables answer exactly as the general path (flows, SQL, store queries)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from critmat.errors import CritmatError
from critmat.indicators import lookup
from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.imports import group_flows, import_concentration, import_shares
from critmat.indicators.precomputed import CONCENTRATION_FIELDS, Tables, concentration
from critmat.indicators.refresh import default_importers, stage_code_groups
from critmat.reference.materials import load_catalogue
from critmat.services import statistics as svc
from critmat.store import Store
from tests.api_stats.conftest import Api


def _same(general: Any, fast: Any, path: str = "") -> None:
    """Equal structure, types and strings; floats equal up to summation order."""
    if isinstance(general, dict):
        assert general.keys() == fast.keys(), path
        for key in general:
            _same(general[key], fast[key], f"{path}.{key}")
    elif isinstance(general, list):
        assert len(general) == len(fast), path
        for i, (g, f) in enumerate(zip(general, fast, strict=True)):
            _same(g, f, f"{path}[{i}]")
    elif isinstance(general, float) and isinstance(fast, float):
        assert fast == pytest.approx(general, rel=1e-12, abs=1e-15), path
    else:
        assert type(general) is type(fast) and general == fast, (path, general, fast)


def _answer(call: Callable[..., svc.Computed], store: Store, **kwargs: Any) -> Any:
    try:
        computed = call(store, **kwargs)
    except CritmatError as exc:
        return ("error", type(exc).__name__, str(exc))
    table = computed.table
    return (
        computed.model.model_dump(mode="json"),
        None if table is None else (table.columns, table.rows),
    )


def _compare(
    call: Callable[..., svc.Computed], store: Store, cache: FlowsCache, **kwargs: Any
) -> bool:
    general = _answer(call, store, **kwargs)
    fast = _answer(call, store, flows_cache=cache, **kwargs)
    if general[0] == "error":
        assert fast == general
        return False
    _same(general[0], fast[0])
    assert general[1] is not None and fast[1] is not None
    assert general[1][0] == fast[1][0]
    _same(general[1][1], fast[1][1])
    return True


def _sample(seed: int, n: int) -> list[tuple[str, str, int | None, str]]:
    rng = random.Random(seed)
    materials = [m.id for m in load_catalogue()]
    importers = ["EU27", "DEU", "FRA", "MLT", "LUX", "POL"]
    years: list[int | None] = [None, 1995, 2008, 2016, 2020, 2023, 2024]
    return [
        (rng.choice(materials), rng.choice(importers), rng.choice(years), basis)
        for _ in range(n)
        for basis in ("mass", "value")
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_dependency_fast_path_equals_general_path(
    store: Store, cache: FlowsCache, seed: int
) -> None:
    answered = 0
    for material, importer, year, basis in _sample(seed, 40):
        answered += _compare(
            svc.dependency,
            store,
            cache,
            importer=importer,
            year=year,
            basis=basis,
            material=material,
            stage=None,
            hs=None,
        )
    assert answered >= 40


def test_dependency_by_stage_and_hs_code(store: Store, cache: FlowsCache) -> None:
    for params in (
        {"material": "lithium", "stage": "processing", "hs": None},
        {"material": "cobalt", "stage": "extraction", "hs": None},
        {"material": None, "stage": None, "hs": "282200"},
        {"material": None, "stage": None, "hs": "999999"},  # no rows: the same error
    ):
        for basis in ("mass", "value"):
            _compare(
                svc.dependency, store, cache, importer="EU27", year=2023, basis=basis, **params
            )


def test_series_member_states_and_production_equal_general_path(
    store: Store, cache: FlowsCache
) -> None:
    answered = 0
    for material, importer, year, basis in _sample(3, 25):
        answered += _compare(
            svc.dependency_series,
            store,
            cache,
            importer=importer,
            basis=basis,
            material=material,
            stage=None,
            hs=None,
            first=2010 if year is None else None,
            last=None,
        )
        answered += _compare(
            svc.member_states, store, cache, material=material, year=year, stage=None, basis=basis
        )
        answered += _compare(svc.production, store, cache, material=material, year=year)
    assert answered >= 60
    # years outside the data and reversed ranges: the general path's errors
    _compare(svc.production, store, cache, material="cobalt", year=1900)
    for first, last in ((2020, 2010), (1900, 2010)):
        _compare(
            svc.dependency_series,
            store,
            cache,
            importer="EU27",
            basis="mass",
            material="cobalt",
            stage=None,
            hs=None,
            first=first,
            last=last,
        )


def test_an_importer_the_tables_do_not_hold_takes_the_general_path(
    store: Store, cache: FlowsCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = cache.tables(store)
    assert tables is not None
    custom = lookup.resolve_importer("DEU,FRA,ITA")
    assert not tables.covers(custom, ("282200",))
    assert (
        svc.fast_dependency(
            store,
            tables,
            importer="DEU,FRA,ITA",
            year=2023,
            basis="value",
            material="cobalt",
            stage=None,
            hs=None,
        )
        is None
    )
    calls: list[str] = []
    general = lookup.dependency

    def spy(*args: Any, **kwargs: Any) -> lookup.DependencyResult:
        calls.append(str(kwargs["importer"]))
        return general(*args, **kwargs)

    monkeypatch.setattr(lookup, "dependency", spy)
    for importer in ("DEU,FRA,ITA", "G7", "EU27"):
        _compare(
            svc.dependency,
            store,
            cache,
            importer=importer,
            year=2023,
            basis="value",
            material="cobalt",
            stage=None,
            hs=None,
        )
    # the general answer each time, and for the fast call only the importers not held
    assert calls == ["DEU,FRA,ITA", "DEU,FRA,ITA", "G7", "G7", "EU27"]


def test_concentration_formula_equals_the_sql(store: Store, cache: FlowsCache) -> None:
    """:func:`concentration` (numpy, one group) against import_shares/import_concentration."""
    eu = lookup.eu_members()
    importers = default_importers()[:4]
    flows = cache.flows(store, importers[0], _all_codes(), [2019, 2023])
    assert flows is not None
    parts = [flows] + [cache.flows(store, i, _all_codes(), [2019, 2023]) for i in importers[1:]]
    sources = group_flows(pd.concat(parts, ignore_index=True), stage_code_groups(_materials()))
    flags = {i.name: i.inside_eu for i in importers}
    checked = 0
    for basis in ("mass", "value"):
        shares = import_shares(sources, basis, eu, flags)
        summary = import_concentration(sources, basis, eu, flags)
        by_key: dict[tuple[str, str, int], Any] = {
            (str(r["code_group"]), str(r["importer"]), int(r["year"])): r
            for r in summary.to_dict(orient="records")
        }
        groups: dict[Any, Any] = dict(
            iter(sources.groupby(["code_group", "importer", "year"], sort=False))
        )
        for key, rows in groups.items():
            got = concentration(
                rows["origin"].tolist(),
                rows["value_kusd"].to_numpy(float),
                rows["quantity_t"].to_numpy(float),
                rows["value_kusd_no_quantity"].to_numpy(float),
                basis,
                [not (flags[key[1]] and o in eu) for o in rows["origin"]],
            )
            expected = by_key.get((key[0], key[1], int(key[2])))
            if expected is None:
                assert got.summary is None
                continue
            assert got.summary is not None
            for name in CONCENTRATION_FIELDS:
                want, have = expected[name], got.summary[name]
                if isinstance(want, float | np.floating) and not math.isnan(want):
                    assert have == pytest.approx(float(want), rel=1e-12), (key, name)
                elif want is None or (isinstance(want, float) and math.isnan(want)):
                    assert have is None, (key, name)
                else:
                    assert have == want, (key, name)
            mine = shares.loc[
                (shares["code_group"] == key[0])
                & (shares["importer"] == key[1])
                & (shares["year"] == key[2])
            ]
            assert got.origins == mine["origin"].tolist()
            assert got.shares == pytest.approx(mine["share"].tolist(), rel=1e-12)
            assert got.third == mine["third_country"].tolist()
            checked += 1
    assert checked > 100


def test_tables_follow_the_releases(store: Store, cache: FlowsCache) -> None:
    tables = cache.tables(store)
    assert isinstance(tables, Tables)
    assert cache.ready(tables.release_ids) is tables
    assert cache.ready((-1,)) is None
    assert cache.tables(store, (-1,)) is None  # ids that are not current: no tables


def test_routes_answer_misses_from_the_tables(api: Api) -> None:
    # parameters no other test asks for: the app (and its response cache) is shared
    params: dict[str, Any] = {
        "material": "tungsten",
        "year": 2017,
        "importer": "AUT",
        "basis": "value",
    }
    first = api.get("/api/v1/dependency", **params)
    again = api.get("/api/v1/dependency", **params)
    assert first.status_code == again.status_code == 200
    assert first.headers["X-Critmat-Cache"] == "miss"
    assert again.headers["X-Critmat-Cache"] == "hit"
    assert first.content == again.content
    assert first.json()["importer"] == "AUT" and first.json()["year"] == 2017
    unknown = api.get("/api/v1/dependency", material="unobtainium", year=2021)
    assert unknown.status_code == 404


def _materials() -> list[Any]:
    return list(load_catalogue())


def _all_codes() -> set[str]:
    return {code for mat in _materials() for code in mat.hs_codes}
