"""What the statistics routes compute: library calls turned into response models and tables.

Each function takes an open :class:`~critmat.store.Store` and plain parameters and returns a
:class:`Computed` (the response model, and the table a CSV/XLSX download holds). The routes
cache the encoded result (``critmat.api.cache``); nothing here knows about HTTP.
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
from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.imports import (
    BASES,
    Basis,
    ImporterSet,
    group_flows,
    import_concentration,
    import_flows,
    import_shares,
)
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
from critmat.reference.materials import Material, hs92_description, load_catalogue
from critmat.reference.restrictions import restrictions_for
from critmat.store import Store
from critmat.store.coverage import coverage

RESTRICTION_REGISTRY = "critmat export-restriction registry (reference/data/restrictions.csv)"


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
    return {str(r[0]) for r in store.con.execute("SELECT DISTINCT hs6 FROM trade").fetchall()}


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


def production(store: Store, material: str, year: int | None) -> Computed:
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
    s = result.summary
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
        for r in records(result.rows)
    ]
    model = m.ProductionOut(
        material=result.material.id,
        commodity=result.commodity,
        year=result.year,
        unit=result.unit,
        total=_float(s.get("total")),
        producers=_int(s.get("producers")),
        top_country=_str(s.get("top_country")),
        top_share=_float(s.get("top_share")),
        top3_share=_float(s.get("top3_share")),
        hhi=_float(s.get("hhi")),
        estimated_share=_float(s.get("estimated_share")),
        rows=rows,
        provenance=provenance(result.provenance),
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
) -> Computed:
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
    amount_key = "quantity" if result.basis == "mass" else "value"
    summary = result.summary or {}
    sources = [
        m.SourceOut.model_validate(
            {
                "country": r["origin"],
                amount_key: r["amount"],
                "share": r["share"],
                "third_country": bool(r["third_country"]),
            }
        )
        for r in records(result.sources)
    ]
    model = m.DependencyOut(
        importer=result.importer.name,
        importer_members=sorted(result.importer.members),
        year=result.year,
        basis=result.basis,
        unit="t" if result.basis == "mass" else "thousand USD",
        material=result.material.id if result.material else None,
        stage=result.stage.name if result.stage else None,
        hs_codes=list(result.hs_codes),
        total=_float(summary.get("total", 0.0)),
        suppliers=_int(summary.get("suppliers", 0)),
        top_supplier=_str(summary.get("top_supplier")),
        top_share=_float(summary.get("top_share")),
        hhi=_float(summary.get("hhi")),
        top_third_country=_str(summary.get("top_third_country")),
        top_third_share=_float(summary.get("top_third_share")),
        exceeds_65=bool(plain(summary.get("exceeds_65", False))),
        missing_quantity_value_share=_float(summary.get("missing_quantity_value_share")),
        sources=sources,
        provenance=provenance(result.provenance),
        notes=result.notes,
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
) -> Computed:
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


def member_states(
    store: Store,
    *,
    material: str,
    year: int | None,
    stage: str | None,
    basis: str,
    flows_cache: FlowsCache | None = None,
) -> Computed:
    first, last = lookup.trade_years(store)
    chosen_year = last if year is None else year
    lookup.check_year(chosen_year, first, last, "trade")
    checked: Basis = "value" if basis == "value" else "mass"
    selection = lookup.select_codes(store, material=material, stage=stage)
    assert selection.material is not None and selection.stage is not None
    eu = lookup.eu_members()
    importers = [ImporterSet.country(iso3, eu) for iso3 in sorted(eu)]
    cached = [
        flows_cache.flows(store, i, selection.hs_codes, [chosen_year])
        for i in importers
        if flows_cache is not None
    ]
    flows = (
        pd.concat([f for f in cached if f is not None], ignore_index=True)
        if cached and all(f is not None for f in cached)
        else import_flows(store.con, importers, selection.hs_codes, [chosen_year])
    )
    sources = group_flows(flows, {"selection": selection.hs_codes})
    frame = import_concentration(sources, checked, eu, {i.name: True for i in importers})
    by_country = {str(r["importer"]): r for r in records(frame)}
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
        provenance=provenance(provenance_for(store.con, ["trade"], [chosen_year])),
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
