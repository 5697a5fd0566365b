"""Country statistics: the country list with group memberships, and one country's page (names,
groups, what the EU27 imports from it by material stage, its governance indicators). Use them
through :mod:`critmat.services.statistics`.
"""

from __future__ import annotations

import pandas as pd
import pycountry
from pydantic import RootModel

from critmat.indicators import lookup
from critmat.indicators.imports import BASES, group_flows, import_flows, import_shares
from critmat.indicators.provenance import provenance_for
from critmat.reference.countries import (
    country_name,
    group_info,
    load_country_groups,
    resolve_country,
)
from critmat.reference.materials import load_catalogue
from critmat.services import statistics_models as m
from critmat.services.catalogue import all_countries
from critmat.services.statistics_base import Computed, as_float, as_int, provenance, table
from critmat.store import Store


def _memberships(iso3: str) -> list[str]:
    return [name for name, g in load_country_groups().items() if iso3 in g.members]


def countries() -> Computed:
    items = [
        m.CountrySummaryOut(iso3=iso3, name=name, groups=_memberships(iso3))
        for iso3, name in all_countries()
    ]
    rows = [i.model_dump() for i in items]
    return Computed(
        RootModel[list[m.CountrySummaryOut]](items),
        table(["iso3", "name", "groups"], rows, "countries"),
    )


def country_detail(store: Store, country: str, year: int | None) -> Computed:
    iso3 = resolve_country(country)
    chosen_year = lookup.year_or_latest(year, *lookup.trade_years(store), "trade")
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
    return Computed(model, table(columns, table_rows, f"EU27 imports from {iso3}"))


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
    # Largest value first; ties (stages sharing HS codes, e.g. gold and pgm) by material and
    # stage, so that the order does not depend on the set's (hash) order.
    for key in sorted(
        set(value.index) | set(mass.index),
        key=lambda k: (-float(value["amount"].get(k, 0.0)), *k.split("/", 1)),
    ):
        material_id, stage = key.split("/", 1)
        mat = catalogue.get(material_id)
        out.append(
            m.EuImportOut(
                material=material_id,
                material_name=mat.name,
                stage=stage,
                hs_codes=list(groups[key]),
                value_kusd=as_float(value["amount"].get(key)),
                value_share=as_float(value["share"].get(key)),
                quantity_t=as_float(mass["amount"].get(key)),
                quantity_share=as_float(mass["share"].get(key)),
                rank_by_value=as_int(value["rank"].get(key)),
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
                estimate=as_float(estimate),
                percentile=as_float(percentile),
                lower=as_float(lower),
                upper=as_float(upper),
            )
        )
    return [m.GovernanceSeriesOut(indicator=k, points=v) for k, v in series.items()]
