"""The statistics service: production, import dependency and its series, apparent consumption
and import reliance, unit values, the Member States' imports, export restrictions, countries and
the data releases. The CLI (``critmat production|dependency|trend|reliance|unit-values|
restrictions``) and the API (``/api/v1/...`` statistics routes) ask these and only present.

Each function takes an open :class:`~critmat.store.Store` and typed arguments and returns a
:class:`Computed`: a model of :mod:`~critmat.services.statistics_models` (with its provenance
and notes) and, for table-shaped answers, the table a download holds. The API encodes and caches
the answer (:class:`critmat.services.context.ServiceContext`); nothing here knows about HTTP or
terminals. Given the in-memory import flows (``flows_cache``), the trade answers come from the
precomputed tables when they hold them (the ``fast_*`` functions); both ways give one answer.

The rules these follow, each in one place: the default year (the latest year with data for that
dataset) is :func:`critmat.indicators.lookup.year_or_latest`; the stage of a material query is
:meth:`critmat.reference.materials.Catalogue.choose_stage`; NaN and infinity become ``null``
(:func:`critmat.exports.json_value`). Search and the material catalogue are
:mod:`critmat.services.catalogue`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import Any

from critmat.exports import json_value
from critmat.indicators import lookup
from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.imports import Basis, import_flows
from critmat.indicators.precomputed import Tables
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.indicators.restrictions import exposure_series, exposure_summary
from critmat.reference.countries import resolve_country
from critmat.reference.materials import Material, load_catalogue
from critmat.reference.restrictions import as_of, restrictions_for
from critmat.services import statistics_models as m
from critmat.services.statistics_base import (
    Computed,
    as_float,
    as_int,
    production_figures,
    provenance,
    ready_tables,
    records,
    safe_country_name,
    table,
    tables_of,
)
from critmat.services.statistics_countries import countries, country_detail
from critmat.services.statistics_production import production_stages, stage_production
from critmat.services.statistics_reliance import reliance
from critmat.services.statistics_trade import (
    dependency,
    dependency_series,
    fast_dependency,
    fast_member_states,
    fast_series,
    member_states,
    unit_values,
)
from critmat.store import Store
from critmat.store.coverage import coverage

__all__ = [
    "RESTRICTION_REGISTRY",
    "Computed",
    "countries",
    "country_detail",
    "data_releases",
    "dependency",
    "dependency_series",
    "fast_dependency",
    "fast_member_states",
    "fast_production",
    "fast_series",
    "member_states",
    "production",
    "production_stages",
    "ready_tables",
    "reliance",
    "restrictions",
    "stage_production",
    "unit_values",
]

RESTRICTION_REGISTRY = "critmat export-restriction registry (reference/data/restrictions.csv)"


# -- production --------------------------------------------------------------------------------
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
    if year is not None and not span[0] <= year <= span[1]:
        return None
    chosen = lookup.year_or_latest(year, *span, f"{commodity} production")
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
    """World production of ``material`` by country in ``year`` (default: the series' latest
    year), largest first, with shares, HHI, top-3 share and the share resting on estimates."""
    tables = tables_of(store, flows_cache, release_ids)
    if tables is not None:
        fast = fast_production(tables, material, year)
        if fast is not None:
            return fast
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
            country_name=safe_country_name(str(r["country"])),
            quantity=as_float(r["quantity"]),
            unit=str(r["unit"]),
            share=as_float(r["share"]),
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
        **production_figures(s),
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
    return Computed(model, table(columns, table_rows, f"production {model.material}"))


# -- restrictions -----------------------------------------------------------------------------
def restrictions(
    store: Store | None,
    *,
    material: str | None,
    country: str | None,
    exposure: str | None,
    basis: str,
    on: date | None = None,
) -> Computed:
    """The export-restriction registry, filtered by material and restricting country: each
    measure with the registry's status and whether it is in force on the "as of" day
    (:func:`~critmat.reference.restrictions.as_of`: ``on``, else today); with ``exposure`` (an
    importer), also its share of imports of each measure's codes from the restricting country
    before and after the measure."""
    day = as_of(on)
    material_id = load_catalogue().resolve(material).material.id if material else None
    iso3 = resolve_country(country) if country else None
    chosen = restrictions_for(material_id, iso3)
    items = [m.RestrictionOut(**asdict(r), in_force=r.active_on(day), as_of=day) for r in chosen]
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
            item.year_before = as_int(found.get("year_before"))
            item.share_before = as_float(found.get("share_before"))
            item.year_after = as_int(found.get("year_after"))
            item.share_after = as_float(found.get("share_after"))
        years = sorted({int(y) for y in series["year"]}) if len(series) else []
        prov = provenance(provenance_for(store.con, ["trade"], years))
    model = m.RestrictionsOut(restrictions=items, provenance=prov, source=RESTRICTION_REGISTRY)
    columns = ["id", "country", "materials", "measure", "title", "announced", "effective"]
    columns += ["suspended_until", "ended", "status", "status_as_of", "in_force", "as_of"]
    columns += ["targets", "hs_codes"]
    if exposure:
        columns += ["importer", "basis", "targeted", "year_before", "share_before"]
        columns += ["year_after", "share_after"]
    columns.append("sources")
    return Computed(model, table(columns, [i.model_dump() for i in items], "restrictions"))


# -- data --------------------------------------------------------------------------------------
def data_releases(store: Store) -> Computed:
    """Every imported release (current and earlier) and the coverage of the current ones."""
    releases = [
        m.from_record(m.ReleaseOut, r, current=r.is_current, rows=r.row_count)
        for r in store.releases()
    ]
    cover = [
        m.CoverageOut.model_validate({k: json_value(v) for k, v in c.items()})
        for c in coverage(store)
    ]
    model = m.DataReleasesOut(releases=releases, coverage=cover)
    columns = ["release_id", "dataset", "current", "source", "version", "year_min", "year_max"]
    columns += ["rows", "licence", "sha256", "imported_at"]
    return Computed(model, table(columns, [r.model_dump() for r in releases], "releases"))
