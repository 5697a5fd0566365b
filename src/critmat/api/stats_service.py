"""What the statistics routes compute: library calls turned into response models and tables.

Each function takes an open :class:`~critmat.store.Store` and plain parameters and returns a
:class:`Computed` (the response model, and the table a CSV/XLSX download holds). The routes
cache the encoded result (``critmat.services.cache``); nothing here knows about HTTP.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pycountry
from pydantic import BaseModel, RootModel

from critmat.api import stats_models as m
from critmat.api.stats_export import Table
from critmat.indicators import lookup
from critmat.indicators.flows_cache import FlowsCache, trade_codes
from critmat.indicators.imports import (
    BASES,
    Basis,
    ImporterSet,
    group_flows,
    import_concentration,
    import_flows,
    import_shares,
)
from critmat.indicators.precomputed import CONCENTRATION_FIELDS, Tables
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.indicators.restrictions import exposure_series, exposure_summary
from critmat.reference._common import name_key
from critmat.reference.countries import (
    NON_ISO_CODES,
    country_name,
    group_info,
    load_country_groups,
    resolve_country,
)
from critmat.reference.materials import Material, Stage, hs92_description, load_catalogue
from critmat.reference.restrictions import restrictions_for
from critmat.store import Store
from critmat.store.coverage import coverage

RESTRICTION_REGISTRY = "critmat export-restriction registry (reference/data/restrictions.csv)"
_MEMO_LIMIT = 20_000  # code selections remembered per release (see _selection)


@dataclass(frozen=True)
class Computed:
    """A response model and, for table-shaped endpoints, the rows a download holds."""

    model: BaseModel
    table: Table | None = None


# -- helpers -----------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """numpy/pandas scalars to Python; NaN/NA to None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _float(value: Any) -> float | None:
    value = plain(value)
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    value = plain(value)
    return None if value is None else int(value)


def _str(value: Any) -> str | None:
    value = plain(value)
    return None if value is None else str(value)


def provenance(items: Iterable[Provenance]) -> list[m.ProvenanceOut]:
    return [m.ProvenanceOut.model_validate(p.as_dict()) for p in items]


def _safe_country_name(iso3: str) -> str | None:
    try:
        return country_name(iso3)
    except Exception:  # a display name is optional
        return None


def latest_trade_year(store: Store) -> int:
    return lookup.trade_years(store)[1]


def _series_table(rows: list[dict[str, Any]], columns: Sequence[str], title: str) -> Table:
    return Table(columns=list(columns), rows=rows, title=title)


# -- materials ---------------------------------------------------------------------------------
def materials(critical: bool | None, strategic: bool | None) -> Computed:
    chosen = [
        mat
        for mat in load_catalogue().materials
        if (critical is None or mat.critical == critical)
        and (strategic is None or mat.strategic == strategic)
    ]
    items = [
        m.MaterialSummaryOut(
            id=mat.id,
            name=mat.name,
            critical=mat.critical,
            strategic=mat.strategic,
            group=mat.group,
            wmd_commodity=mat.wmd_commodity,
            stages=[s.name for s in mat.stages],
            hs_codes=list(mat.hs_codes),
        )
        for mat in chosen
    ]
    columns = ["id", "name", "critical", "strategic", "group", "wmd_commodity", "stages"]
    columns.append("hs_codes")
    table = Table(columns, [i.model_dump() for i in items], "materials")
    return Computed(RootModel[list[m.MaterialSummaryOut]](items), table)


def _trade_codes(store: Store) -> set[str]:
    return set(trade_codes(store))


def material_detail(store: Store, name: str) -> Computed:
    catalogue = load_catalogue()
    resolved = catalogue.resolve(name)
    mat = resolved.material
    present = _trade_codes(store)
    series_rows = {
        str(c): (str(u) if u is not None else None, _int(y0), _int(y1))
        for c, u, y0, y1 in store.con.execute(
            "SELECT commodity, any_value(unit), min(year), max(year) FROM production "
            "WHERE quantity IS NOT NULL AND list_contains(?, commodity) GROUP BY commodity",
            [list(mat.wmd_commodities)],
        ).fetchall()
    }
    wmd_series = []
    for commodity in mat.wmd_commodities:
        stage = next((s.name for s in mat.stages if s.wmd_commodity == commodity), None)
        unit, y0, y1 = series_rows.get(commodity, (mat.production_unit, None, None))
        wmd_series.append(
            m.WmdSeriesOut(commodity=commodity, stage=stage, unit=unit, year_min=y0, year_max=y1)
        )
    stages = [
        m.StageOut(
            name=s.name,
            label=s.label,
            hs_codes=[m.HsCodeOut(code=c, description=hs92_description(c)) for c in s.hs_codes],
            hs_codes_with_data=[c for c in s.hs_codes if c in present],
            wmd_commodity=s.wmd_commodity,
            shared_with=list(catalogue.shared_with(mat.id, s)),
            notes=s.notes,
            sources=list(s.sources),
        )
        for s in mat.stages
    ]
    used = ["production"] if series_rows else []
    used += ["trade"] if any(c in present for c in mat.hs_codes) else []
    model = m.MaterialOut(
        id=mat.id,
        name=mat.name,
        critical=mat.critical,
        strategic=mat.strategic,
        crma_critical_entry=mat.crma_critical_entry,
        crma_strategic_entry=mat.crma_strategic_entry,
        group=mat.group,
        members=list(mat.members),
        matched_stage=resolved.stage.name if resolved.stage else None,
        wmd_commodity=mat.wmd_commodity,
        production_basis=mat.production_basis,
        wmd_series=wmd_series,
        eol_rir=mat.eol_rir,
        eol_rir_source=mat.eol_rir_source,
        stages=stages,
        aliases=list(mat.aliases),
        sources=list(mat.sources),
        notes=mat.notes,
        provenance=provenance(provenance_for(store.con, used)) if used else [],
    )
    return Computed(model)


def _production_commodity(material: str) -> tuple[Material, str | None]:
    resolved = load_catalogue().resolve(material)
    stage_series = resolved.stage.wmd_commodity if resolved.stage else None
    return resolved.material, stage_series or resolved.material.wmd_commodity


def fast_production(tables: Tables, material: str, year: int | None) -> Computed | None:
    """:func:`production` from the precomputed tables; ``None`` when it needs the general path
    (no series, no rows, a year outside the data: the library raises the right error)."""
    mat, commodity = _production_commodity(material)
    if commodity is None or "production" not in tables.releases:
        return None
    span = tables.production_years.get(commodity)
    if span is None:
        return None
    chosen = span[1] if year is None else year
    if not span[0] <= chosen <= span[1]:
        return None
    rows = tables.production_rows(commodity, chosen)
    unit = str(rows[0]["unit"]) if rows else ""
    return _production_computed(
        mat.id,
        commodity,
        chosen,
        unit,
        rows,
        tables.production_summary(commodity, chosen),
        tables.provenance(["production"], [chosen]),
    )


def production(
    store: Store,
    material: str,
    year: int | None,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
) -> Computed:
    tables = _tables(store, flows_cache, release_ids)
    if tables is not None:
        fast = fast_production(tables, material, year)
        if fast is not None:
            return fast
    if year is None:
        _mat, commodity = _production_commodity(material)
        found = None
        if commodity is not None:
            found = store.con.execute(
                "SELECT max(year) FROM production WHERE commodity = ? AND quantity IS NOT NULL",
                [commodity],
            ).fetchall()[0][0]
        # Without a series or rows, the library call below raises the right NoDataError.
        year = int(found) if found is not None else 0
    result = lookup.production(store, material, year)
    return _production_computed(
        result.material.id,
        result.commodity,
        result.year,
        result.unit,
        records(result.rows),
        result.summary,
        result.provenance,
    )


def _production_computed(
    material_id: str,
    commodity: str,
    year: int,
    unit: str,
    row_dicts: list[dict[str, Any]],
    s: dict[str, Any] | dict[str, object],
    prov: Iterable[Provenance],
) -> Computed:
    rows = [
        m.ProductionRowOut(
            country=str(r["country"]),
            country_name=_safe_country_name(str(r["country"])),
            quantity=_float(r["quantity"]),
            unit=str(r["unit"]),
            share=_float(r["share"]),
            estimated=bool(r["estimated"]),
            rank=int(r["rank"]),
        )
        for r in row_dicts
    ]
    model = m.ProductionOut(
        material=material_id,
        commodity=commodity,
        year=year,
        unit=unit,
        total=_float(s.get("total")),
        producers=_int(s.get("producers")),
        top_country=_str(s.get("top_country")),
        top_share=_float(s.get("top_share")),
        top3_share=_float(s.get("top3_share")),
        hhi=_float(s.get("hhi")),
        estimated_share=_float(s.get("estimated_share")),
        rows=rows,
        provenance=provenance(prov),
    )
    table_rows = [
        {"material": model.material, "commodity": model.commodity, "year": model.year}
        | r.model_dump()
        for r in rows
    ]
    columns = ["material", "commodity", "year", "rank", "country", "country_name", "quantity"]
    columns += ["unit", "share", "estimated"]
    return Computed(model, Table(columns, table_rows, f"production {model.material}"))


# -- trade -------------------------------------------------------------------------------------
def _tables(
    store: Store, flows_cache: FlowsCache | None, release_ids: tuple[int, ...] | None
) -> Tables | None:
    """The precomputed tables of the current releases, if the cache can give them."""
    return None if flows_cache is None else flows_cache.tables(store, release_ids)


def ready_tables(
    flows_cache: FlowsCache | None, release_ids: tuple[int, ...] | None
) -> Tables | None:
    """The precomputed tables if already built for ``release_ids`` (never builds, no query):
    what the routes use to answer a cache miss at once, without a worker thread."""
    if flows_cache is None or release_ids is None:
        return None
    return flows_cache.ready(release_ids)


def _selection(
    store: Store, tables: Tables, material: str | None, stage: str | None, hs: str | None
) -> lookup.CodeSelection:
    """:func:`lookup.select_codes` from the tables' release and codes (remembered per release)."""
    key = ("select", material, stage, hs)
    found = tables.memo.get(key)
    if found is None:
        found = lookup.select_codes(
            store,
            material=material,
            stage=stage,
            hs=hs,
            known=(tables.trade_release, tables.trade_codes),
        )
        if len(tables.memo) >= _MEMO_LIMIT:  # spelling variants of names are unbounded
            tables.memo.clear()
        tables.memo[key] = found
    assert isinstance(found, lookup.CodeSelection)
    return found


def fast_dependency(
    store: Store,
    tables: Tables,
    *,
    importer: str,
    year: int | None,
    basis: str,
    material: str | None,
    stage: str | None,
    hs: str | None,
) -> Computed | None:
    """:func:`dependency` from the precomputed tables; ``None`` when they do not hold it."""
    if basis not in BASES:
        return None
    checked: Basis = "value" if basis == "value" else "mass"
    importer_set = lookup.resolve_importer(importer)
    release = tables.trade_release
    assert release.year_min is not None and release.year_max is not None
    chosen_year = release.year_max if year is None else year
    lookup.check_year(chosen_year, release.year_min, release.year_max, "trade")
    selection = _selection(store, tables, material, stage, hs)
    if not tables.covers(importer_set, selection.hs_codes):
        return None
    got = tables.origins(selection.hs_codes, importer_set.name, chosen_year).shares(
        checked, importer_set, lookup.eu_members()
    )
    rows = [
        {"origin": o, "amount": a, "share": sh, "third_country": t}
        for o, a, sh, t in zip(got.origins, got.amounts, got.shares, got.third, strict=True)
    ]
    notes = list(selection.notes)
    if checked == "mass" and got.summary is not None:
        notes += lookup._missing_quantity_note(
            float(got.summary["missing_quantity_value_share"] or 0.0)
        )
    return _dependency_computed(
        importer_set,
        chosen_year,
        checked,
        selection.material,
        selection.stage,
        selection.hs_codes,
        got.summary,
        rows,
        tables.provenance(["trade"], [chosen_year]),
        notes,
    )


def dependency(
    store: Store,
    *,
    importer: str,
    year: int | None,
    basis: str,
    material: str | None,
    stage: str | None,
    hs: str | None,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
) -> Computed:
    tables = _tables(store, flows_cache, release_ids)
    if tables is not None:
        fast = fast_dependency(
            store,
            tables,
            importer=importer,
            year=year,
            basis=basis,
            material=material,
            stage=stage,
            hs=hs,
        )
        if fast is not None:
            return fast
    chosen_year = latest_trade_year(store) if year is None else year
    result = lookup.dependency(
        store,
        importer=importer,
        year=chosen_year,
        basis=basis,
        material=material,
        stage=stage,
        hs=hs,
        flows_cache=flows_cache,
    )
    return _dependency_computed(
        result.importer,
        result.year,
        result.basis,
        result.material,
        result.stage,
        result.hs_codes,
        result.summary,
        records(result.sources),
        result.provenance,
        result.notes,
    )


def _dependency_computed(
    importer: ImporterSet,
    year: int,
    basis: Basis,
    material: Material | None,
    stage: Stage | None,
    hs_codes: Sequence[str],
    summary: dict[str, Any] | dict[str, object] | None,
    source_rows: list[dict[str, Any]],
    prov: Iterable[Provenance],
    notes: list[str],
) -> Computed:
    amount_key = "quantity" if basis == "mass" else "value"
    found = summary or {}
    sources = [
        m.SourceOut.model_validate(
            {
                "country": r["origin"],
                amount_key: r["amount"],
                "share": r["share"],
                "third_country": bool(r["third_country"]),
            }
        )
        for r in source_rows
    ]
    model = m.DependencyOut(
        importer=importer.name,
        importer_members=sorted(importer.members),
        year=year,
        basis=basis,
        unit="t" if basis == "mass" else "thousand USD",
        material=material.id if material else None,
        stage=stage.name if stage else None,
        hs_codes=list(hs_codes),
        total=_float(found.get("total", 0.0)),
        suppliers=_int(found.get("suppliers", 0)),
        top_supplier=_str(found.get("top_supplier")),
        top_share=_float(found.get("top_share")),
        hhi=_float(found.get("hhi")),
        top_third_country=_str(found.get("top_third_country")),
        top_third_share=_float(found.get("top_third_share")),
        exceeds_65=bool(plain(found.get("exceeds_65", False))),
        missing_quantity_value_share=_float(found.get("missing_quantity_value_share")),
        sources=sources,
        provenance=provenance(prov),
        notes=notes,
    )
    table_rows = [
        {
            "importer": model.importer,
            "year": model.year,
            "basis": model.basis,
            "material": model.material,
            "stage": model.stage,
            "hs_codes": model.hs_codes,
            "country": s.country,
            amount_key: getattr(s, amount_key),
            "share": s.share,
            "third_country": s.third_country,
        }
        for s in sources
    ]
    columns = ["importer", "year", "basis", "material", "stage", "hs_codes", "country"]
    columns += [amount_key, "share", "third_country"]
    return Computed(model, Table(columns, table_rows, "dependency"))


def _series_model(
    result: lookup.SeriesResult, basis: str | None, extra_notes: Sequence[str] = ()
) -> m.SeriesOut:
    return m.SeriesOut(
        importer=result.importer.name,
        importer_members=sorted(result.importer.members),
        material=result.selection.material.id if result.selection.material else None,
        stage=result.selection.stage.name if result.selection.stage else None,
        hs_codes=list(result.selection.hs_codes),
        basis=basis,
        rows=records(result.rows),
        provenance=provenance(result.provenance),
        notes=[*result.notes, *extra_notes],
    )


def _series_computed(model: m.SeriesOut, columns: Sequence[str], title: str) -> Computed:
    rows = [{"importer": model.importer, **row} for row in model.rows]
    return Computed(model, _series_table(rows, ["importer", *columns], title))


def fast_series(
    store: Store,
    tables: Tables,
    *,
    importer: str,
    basis: str,
    material: str | None,
    stage: str | None,
    hs: str | None,
    first: int | None,
    last: int | None,
) -> Computed | None:
    """:func:`dependency_series` from the precomputed tables; ``None`` when they do not hold
    it or the years need the general path's error."""
    if basis not in BASES:
        return None
    checked: Basis = "value" if basis == "value" else "mass"
    importer_set = lookup.resolve_importer(importer)
    release = tables.trade_release
    assert release.year_min is not None and release.year_max is not None
    start = release.year_min if first is None else first
    end = release.year_max if last is None else last
    if not release.year_min <= start <= end <= release.year_max:
        return None
    selection = _selection(store, tables, material, stage, hs)
    if not tables.covers(importer_set, selection.hs_codes):
        return None
    eu = lookup.eu_members()
    rows: list[dict[str, Any]] = []
    for year in range(start, end + 1):
        summary = (
            tables.origins(selection.hs_codes, importer_set.name, year)
            .shares(checked, importer_set, eu)
            .summary
        )
        if summary is not None:
            rows.append({"year": year, **summary})
    model = m.SeriesOut(
        importer=importer_set.name,
        importer_members=sorted(importer_set.members),
        material=selection.material.id if selection.material else None,
        stage=selection.stage.name if selection.stage else None,
        hs_codes=list(selection.hs_codes),
        basis=basis,
        rows=rows,
        provenance=provenance(tables.provenance(["trade"], [r["year"] for r in rows])),
        notes=list(selection.notes),
    )
    return _series_computed(model, ["year", *CONCENTRATION_FIELDS], "dependency series")


def dependency_series(
    store: Store,
    *,
    importer: str,
    basis: str,
    material: str | None,
    stage: str | None,
    hs: str | None,
    first: int | None,
    last: int | None,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
) -> Computed:
    tables = _tables(store, flows_cache, release_ids)
    if tables is not None:
        fast = fast_series(
            store,
            tables,
            importer=importer,
            basis=basis,
            material=material,
            stage=stage,
            hs=hs,
            first=first,
            last=last,
        )
        if fast is not None:
            return fast
    result = lookup.dependency_series(
        store,
        importer=importer,
        basis=basis,
        material=material,
        stage=stage,
        hs=hs,
        first=first,
        last=last,
        flows_cache=flows_cache,
    )
    model = _series_model(result, basis)
    return _series_computed(model, list(result.rows.columns), "dependency series")


def reliance(
    store: Store, *, material: str, importer: str, first: int | None, last: int | None
) -> Computed:
    result = lookup.reliance(store, importer=importer, material=material, first=first, last=last)
    extra = []
    if result.rows.empty:
        extra.append(
            "no year has both production and trade figures for this material's matching "
            "trade codes in the current releases"
        )
    model = _series_model(result, "mass", extra)
    return _series_computed(model, list(result.rows.columns), "reliance")


def unit_values(
    store: Store,
    *,
    importer: str,
    year: int | None,
    material: str | None,
    stage: str | None,
    hs: str | None,
    flows_cache: FlowsCache | None = None,
) -> Computed:
    chosen_year = latest_trade_year(store) if year is None else year
    result = lookup.unit_value_table(
        store,
        importer=importer,
        year=chosen_year,
        material=material,
        stage=stage,
        hs=hs,
        flows_cache=flows_cache,
    )
    model = _series_model(result, None)
    model.rows = [{"year": chosen_year, **row} for row in model.rows]
    return _series_computed(model, ["year", *result.rows.columns], "unit values")


def _member_state_rows(
    store: Store,
    flows_cache: FlowsCache | None,
    importers: list[ImporterSet],
    hs_codes: Sequence[str],
    year: int,
    basis: Basis,
) -> dict[str, dict[str, Any]]:
    """Concentration rows of each Member State by ISO3, the general way (flows and SQL)."""
    eu = lookup.eu_members()
    cached = [
        flows_cache.flows(store, i, hs_codes, [year]) for i in importers if flows_cache is not None
    ]
    flows = (
        pd.concat([f for f in cached if f is not None], ignore_index=True)
        if cached and all(f is not None for f in cached)
        else import_flows(store.con, importers, hs_codes, [year])
    )
    sources = group_flows(flows, {"selection": hs_codes})
    frame = import_concentration(sources, basis, eu, {i.name: True for i in importers})
    return {str(r["importer"]): r for r in records(frame)}


def member_states(
    store: Store,
    *,
    material: str,
    year: int | None,
    stage: str | None,
    basis: str,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
) -> Computed:
    found = _member_states(
        store,
        _tables(store, flows_cache, release_ids),
        material=material,
        year=year,
        stage=stage,
        basis=basis,
        flows_cache=flows_cache,
    )
    assert found is not None
    return found


def fast_member_states(
    store: Store, tables: Tables, *, material: str, year: int | None, stage: str | None, basis: str
) -> Computed | None:
    """:func:`member_states` from the precomputed tables; ``None`` when they do not hold it."""
    return _member_states(
        store,
        tables,
        material=material,
        year=year,
        stage=stage,
        basis=basis,
        flows_cache=None,
        fast_only=True,
    )


def _member_states(
    store: Store,
    tables: Tables | None,
    *,
    material: str,
    year: int | None,
    stage: str | None,
    basis: str,
    flows_cache: FlowsCache | None,
    fast_only: bool = False,
) -> Computed | None:
    eu = lookup.eu_members()
    importers = [ImporterSet.country(iso3, eu) for iso3 in sorted(eu)]
    checked: Basis = "value" if basis == "value" else "mass"
    by_country: dict[str, dict[str, Any]] = {}
    if tables is not None:
        release = tables.trade_release
        assert release.year_min is not None and release.year_max is not None
        first, last = release.year_min, release.year_max
        chosen_year = last if year is None else year
        lookup.check_year(chosen_year, first, last, "trade")
        selection = _selection(store, tables, material, stage, None)
        prov = tables.provenance(["trade"], [chosen_year])
    else:
        first, last = lookup.trade_years(store)
        chosen_year = last if year is None else year
        lookup.check_year(chosen_year, first, last, "trade")
        selection = lookup.select_codes(store, material=material, stage=stage)
        prov = provenance_for(store.con, ["trade"], [chosen_year])
    assert selection.material is not None and selection.stage is not None
    if tables is not None and all(tables.covers(i, selection.hs_codes) for i in importers):
        for i in importers:
            got = tables.origins(selection.hs_codes, i.name, chosen_year).shares(checked, i, eu)
            if got.summary is not None:
                by_country[i.name] = got.summary
    elif fast_only:
        return None
    else:
        by_country = _member_state_rows(
            store, flows_cache, importers, selection.hs_codes, chosen_year, checked
        )
    rows = []
    for iso3 in sorted(eu):
        r = by_country.get(iso3)
        if r is None:
            continue
        rows.append(
            m.MemberStateOut(
                country=iso3,
                name=country_name(iso3),
                total=_float(r["total"]),
                suppliers=int(r["suppliers"]),
                top_supplier=_str(r["top_supplier"]),
                top_share=_float(r["top_share"]),
                hhi=_float(r["hhi"]),
                top_third_country=_str(r["top_third_country"]),
                top_third_share=_float(r["top_third_share"]),
                exceeds_65=bool(r["exceeds_65"]),
                missing_quantity_value_share=_float(r["missing_quantity_value_share"]),
            )
        )
    notes = list(selection.notes)
    missing = sorted(eu - {r.country for r in rows})
    if missing:
        notes.append(f"no imports on the {checked} basis in {chosen_year}: {', '.join(missing)}")
    model = m.MemberStatesOut(
        material=selection.material.id,
        stage=selection.stage.name,
        hs_codes=list(selection.hs_codes),
        year=chosen_year,
        basis=checked,
        unit="t" if checked == "mass" else "thousand USD",
        member_states=rows,
        provenance=provenance(prov),
        notes=notes,
    )
    table_rows = [
        {"material": model.material, "stage": model.stage, "year": model.year, "basis": checked}
        | r.model_dump()
        for r in rows
    ]
    columns = ["material", "stage", "year", "basis", *m.MemberStateOut.model_fields]
    return Computed(model, Table(columns, table_rows, "member states"))


# -- restrictions -----------------------------------------------------------------------------
def restrictions(
    store: Store | None,
    *,
    material: str | None,
    country: str | None,
    exposure: str | None,
    basis: str,
) -> Computed:
    material_id = load_catalogue().resolve(material).material.id if material else None
    iso3 = resolve_country(country) if country else None
    chosen = restrictions_for(material_id, iso3)
    items = [
        m.RestrictionOut(
            id=r.id,
            country=r.country,
            materials=list(r.materials),
            measure=r.measure,
            title=r.title,
            announced=r.announced,
            effective=r.effective,
            suspended_from=r.suspended_from,
            suspended_until=r.suspended_until,
            ended=r.ended,
            status=r.status,
            status_as_of=r.status_as_of,
            confidence=r.confidence,
            targets=list(r.targets),
            hs_codes=list(r.hs_codes),
            hs_precision=r.hs_precision,
            notes=r.notes,
            sources=list(r.sources),
        )
        for r in chosen
    ]
    prov: list[m.ProvenanceOut] = []
    if exposure:
        assert store is not None
        checked: Basis = "value" if basis == "value" else "mass"
        importer = lookup.resolve_importer(exposure)
        codes = {code for r in chosen for code in r.hs_codes}
        flows = import_flows(store.con, [importer], codes)
        series = exposure_series(flows, [importer], chosen, checked, lookup.eu_members())
        summary = {str(r["restriction_id"]): r for r in records(exposure_summary(series, chosen))}
        for item in items:
            found = summary.get(item.id, {})
            item.importer = importer.name
            item.basis = checked
            item.targeted = found.get("targeted")
            item.year_before = _int(found.get("year_before"))
            item.share_before = _float(found.get("share_before"))
            item.year_after = _int(found.get("year_after"))
            item.share_after = _float(found.get("share_after"))
        years = sorted({int(y) for y in series["year"]}) if len(series) else []
        prov = provenance(provenance_for(store.con, ["trade"], years))
    model = m.RestrictionsOut(restrictions=items, provenance=prov, source=RESTRICTION_REGISTRY)
    columns = ["id", "country", "materials", "measure", "title", "announced", "effective"]
    columns += ["suspended_until", "ended", "status", "status_as_of", "targets", "hs_codes"]
    if exposure:
        columns += ["importer", "basis", "targeted", "year_before", "share_before"]
        columns += ["year_after", "share_after"]
    columns.append("sources")
    table = Table(columns, [i.model_dump() for i in items], "restrictions")
    return Computed(model, table)


# -- countries ---------------------------------------------------------------------------------
@functools.cache
def _all_countries() -> tuple[tuple[str, str], ...]:
    codes = {c.alpha_3 for c in pycountry.countries} | set(NON_ISO_CODES)
    return tuple(sorted((code, country_name(code)) for code in codes))


def _memberships(iso3: str) -> list[str]:
    return [name for name, g in load_country_groups().items() if iso3 in g.members]


def countries() -> Computed:
    items = [
        m.CountrySummaryOut(iso3=iso3, name=name, groups=_memberships(iso3))
        for iso3, name in _all_countries()
    ]
    table = Table(["iso3", "name", "groups"], [i.model_dump() for i in items], "countries")
    return Computed(RootModel[list[m.CountrySummaryOut]](items), table)


def country_detail(store: Store, country: str, year: int | None) -> Computed:
    iso3 = resolve_country(country)
    first, last = lookup.trade_years(store)
    chosen_year = last if year is None else year
    lookup.check_year(chosen_year, first, last, "trade")
    groups = _memberships(iso3)
    record = pycountry.countries.get(alpha_3=iso3)
    eu = lookup.eu_members()
    notes: list[str] = []
    imports: list[m.EuImportOut] = []
    if iso3 in eu:
        notes.append(
            "an EU Member State: trade between Member States is not supply of the Union, so "
            "EU27 imports from it are not counted"
        )
    else:
        imports = _eu_imports_from(store, iso3, chosen_year)
    governance = _governance(store, iso3)
    used = [("trade", [chosen_year])]
    if governance:
        used.append(("governance", sorted({p.year for s in governance for p in s.points})))
    prov = [
        p
        for dataset, years in used
        for p in provenance(provenance_for(store.con, [dataset], years))
    ]
    model = m.CountryOut(
        iso3=iso3,
        iso2=str(record.alpha_2) if record is not None else None,
        name=country_name(iso3),
        official_name=getattr(record, "official_name", None) if record is not None else None,
        groups=[m.GroupOut(name=g, label=group_info(g).label) for g in groups],
        eu_member=iso3 in eu,
        eea="EEA" in groups,
        strategic_partner="STRATEGIC_PARTNERS" in groups,
        eu_candidate="EU_CANDIDATES" in groups,
        oct="OCT" in groups,
        year=chosen_year,
        eu_imports=imports,
        governance=governance,
        provenance=prov,
        notes=notes,
    )
    table_rows = [{"country": iso3, "year": chosen_year} | i.model_dump() for i in imports]
    columns = ["country", "year", *m.EuImportOut.model_fields]
    return Computed(model, Table(columns, table_rows, f"EU27 imports from {iso3}"))


def _eu_imports_from(store: Store, iso3: str, year: int) -> list[m.EuImportOut]:
    """EU27 imports from ``iso3`` by material stage, with the shares of extra-EU supply."""
    catalogue = load_catalogue()
    eu_set = lookup.resolve_importer("EU27")
    eu = lookup.eu_members()
    groups = {
        f"{mat.id}/{s.name}": s.hs_codes for mat in catalogue for s in mat.stages if s.hs_codes
    }
    codes = {code for hs in groups.values() for code in hs}
    flows = import_flows(store.con, [eu_set], codes, [year])
    sources = group_flows(flows, groups)
    if sources.empty:
        return []
    by_basis: dict[str, pd.DataFrame] = {}
    for basis in BASES:
        shares = import_shares(sources, basis, eu, {eu_set.name: True})
        shares["rank"] = shares.groupby("code_group").cumcount() + 1
        by_basis[basis] = shares.loc[shares["origin"] == iso3].set_index("code_group")
    value, mass = by_basis["value"], by_basis["mass"]
    out = []
    for key in sorted(
        set(value.index) | set(mass.index), key=lambda k: -float(value["amount"].get(k, 0.0))
    ):
        material_id, stage = key.split("/", 1)
        mat = catalogue.get(material_id)
        out.append(
            m.EuImportOut(
                material=material_id,
                material_name=mat.name,
                stage=stage,
                hs_codes=list(groups[key]),
                value_kusd=_float(value["amount"].get(key)),
                value_share=_float(value["share"].get(key)),
                quantity_t=_float(mass["amount"].get(key)),
                quantity_share=_float(mass["share"].get(key)),
                rank_by_value=_int(value["rank"].get(key)),
            )
        )
    return out


def _governance(store: Store, iso3: str) -> list[m.GovernanceSeriesOut]:
    rows = store.con.execute(
        "SELECT indicator, year, estimate, percentile, lower, upper FROM governance "
        "WHERE country = ? ORDER BY indicator, year",
        [iso3],
    ).fetchall()
    series: dict[str, list[m.GovernancePointOut]] = {}
    for indicator, year, estimate, percentile, lower, upper in rows:
        series.setdefault(str(indicator), []).append(
            m.GovernancePointOut(
                year=int(year),
                estimate=_float(estimate),
                percentile=_float(percentile),
                lower=_float(lower),
                upper=_float(upper),
            )
        )
    return [m.GovernanceSeriesOut(indicator=k, points=v) for k, v in series.items()]


# -- search ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    kind: str
    id: str
    name: str
    text: str
    key: str
    weight: float  # ids and names rank above aliases


@functools.cache
def _search_index() -> tuple[_Entry, ...]:
    entries: list[_Entry] = []
    for mat in load_catalogue():
        texts = [(mat.id, 1.0), (mat.name, 1.0)]
        texts += [(a, 0.95) for a in mat.aliases]
        texts += [(c, 0.9) for c in mat.wmd_commodities]
        for text, weight in texts:
            entries.append(_Entry("material", mat.id, mat.name, text, name_key(text), weight))
    for iso3, name in _all_countries():
        record = pycountry.countries.get(alpha_3=iso3)
        texts = [(iso3, 0.97), (name, 0.97)]
        if record is not None:
            texts += [(str(record.name), 0.9), (str(record.alpha_2), 0.85)]
            official = getattr(record, "official_name", None)
            if official:
                texts.append((str(official), 0.85))
        for text, weight in texts:
            entries.append(_Entry("country", iso3, name, text, name_key(text), weight))
    return tuple(e for e in entries if e.key)


def _score(query: str, entry: _Entry) -> float:
    if entry.key == query:
        return 1.0
    if entry.key.startswith(query):
        return 0.85 + 0.1 * len(query) / len(entry.key)
    if len(query) >= 3 and query in entry.key:
        return 0.7 + 0.1 * len(query) / len(entry.key)
    if len(query) < 3:
        return 0.0
    matcher = difflib.SequenceMatcher(None, query, entry.key)
    if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
        return 0.0
    ratio = matcher.ratio()
    return 0.6 * ratio if ratio >= 0.6 else 0.0


def search(q: str, limit: int) -> Computed:
    query = name_key(q)
    best: dict[tuple[str, str], tuple[float, _Entry]] = {}
    if query:
        for entry in _search_index():
            score = _score(query, entry) * entry.weight
            if score <= 0:
                continue
            key = (entry.kind, entry.id)
            if key not in best or score > best[key][0]:
                best[key] = (score, entry)
    ranked = sorted(best.values(), key=lambda se: (-se[0], se[1].kind != "material", se[1].name))
    hits = [
        m.SearchHitOut(
            kind=e.kind,
            id=e.id,
            name=e.name,
            matched=e.text,
            score=round(s, 4),
            url=f"/api/v1/{'materials' if e.kind == 'material' else 'countries'}/{e.id}",
        )
        for s, e in ranked[:limit]
    ]
    return Computed(m.SearchOut(query=q, results=hits))


# -- data --------------------------------------------------------------------------------------
def data_releases(store: Store) -> Computed:
    releases = [
        m.ReleaseOut(
            release_id=r.release_id,
            dataset=r.dataset,
            current=r.is_current,
            source=r.source,
            version=r.version,
            licence=r.licence,
            origin=r.origin,
            sha256=r.sha256,
            year_min=r.year_min,
            year_max=r.year_max,
            rows=r.row_count,
            retrieved_at=r.retrieved_at,
            imported_at=r.imported_at,
            notes=list(r.notes),
        )
        for r in store.releases()
    ]
    cover = [
        m.CoverageOut.model_validate({k: plain(v) for k, v in c.items()}) for c in coverage(store)
    ]
    model = m.DataReleasesOut(releases=releases, coverage=cover)
    columns = ["release_id", "dataset", "current", "source", "version", "year_min", "year_max"]
    columns += ["rows", "licence", "sha256", "imported_at"]
    return Computed(model, Table(columns, [r.model_dump() for r in releases], "releases"))
