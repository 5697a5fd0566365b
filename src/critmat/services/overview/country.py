"""A country's page for one year: what the EU27 imports from it, its share of world
production, its governance (WGI political stability), its export restrictions and groups; for
an EU Member State first its own dependencies (:mod:`critmat.services.member_states`), since the
EU27's extra-EU imports never come from a Member State.

Shares are fractions 0–1; values thousand USD and tonnes metric tonnes (BACI); WGI estimates
run from about −2.5 to 2.5 (World Bank).
"""

from __future__ import annotations

from dataclasses import dataclass

from critmat.errors import UnknownNameError
from critmat.indicators.panel import EU, country_name, fnum
from critmat.reference.countries import group_info, group_members, memberships, resolve_country
from critmat.services.member_states import MemberStateDependencies
from critmat.services.member_states import dependencies as member_state_dependencies
from critmat.services.overview.basis import OverviewBasis, Provenance
from critmat.services.overview.restrictions import RestrictionRow
from critmat.store import Store


@dataclass(frozen=True)
class SupplyRow:
    """EU27 extra-EU imports of one catalogued stage from the country in the year."""

    material_id: str
    name: str
    stage: str
    critical: str
    quantity_t: float | None
    share_mass: float | None
    value_kusd: float | None
    share_value: float | None
    top: bool


@dataclass(frozen=True)
class ProductionShareRow:
    """The country's production of one WMD commodity and its share of the world."""

    material_id: str | None
    commodity: str
    quantity: float | None
    unit: str
    share: float | None
    rank: int


@dataclass(frozen=True)
class GovernanceRow:
    """One year of a Worldwide Governance Indicator (estimate with its 90% interval)."""

    year: int
    indicator: str
    estimate: float | None
    lower: float | None
    upper: float | None
    percentile: float | None


@dataclass
class CountryPage:
    """A country in ``year`` (``production_year``: the year of its production figures, the
    latest with data at or before ``year``)."""

    iso3: str
    name: str
    year: int
    groups: list[tuple[str, str]]
    supply: list[SupplyRow]
    production: list[ProductionShareRow]
    production_year: int
    governance: list[GovernanceRow]
    eu_value_kusd: float | None
    eu_share_value: float | None
    restrictions: list[RestrictionRow]
    provenance: Provenance
    #: A Member State's own dependencies per strategic material stage (``None``: not a member).
    member_state: MemberStateDependencies | None = None

    @property
    def is_member_state(self) -> bool:
        return self.member_state is not None


def country_code(basis: OverviewBasis, text: str) -> str:
    """The ISO3 code of ``text`` (a code in the data, or any name the resolver knows)."""
    code = text.strip().upper()
    if code in basis.countries:
        return code
    return resolve_country(text)


def country_page(
    basis: OverviewBasis,
    store: Store,
    iso3: str,
    year: int,
    restrictions: list[RestrictionRow],
) -> CountryPage:
    """The page of ``iso3`` in ``year`` (``restrictions``: the registry's rows)."""
    groups = []
    for group in memberships(iso3):
        try:
            groups.append((group, group_info(group).label))
        except UnknownNameError:
            groups.append((group, group))
    flows = basis.indicators.import_flows
    eu_flows = flows.loc[(flows["importer"] == EU) & (flows["year"] == year)]
    total = float(eu_flows["value_kusd"].sum())
    mine = float(eu_flows.loc[eu_flows["origin"] == iso3, "value_kusd"].sum())
    production_year = min(year, basis.production_years[1])
    return CountryPage(
        iso3=iso3,
        name=country_name(iso3),
        year=year,
        groups=groups,
        supply=supply_rows(basis, iso3, year),
        production=production_rows(basis, iso3, production_year),
        production_year=production_year,
        governance=governance_rows(store, iso3),
        eu_value_kusd=mine if total and mine else None,  # none: no exports in the data
        eu_share_value=mine / total if total and mine else None,
        restrictions=[r for r in restrictions if r.country == iso3],
        provenance=basis.provenance("trade", "production", "governance"),
        member_state=member_state_dependencies(store, iso3, year=year)
        if iso3 in group_members("EU27")
        else None,
    )


def supply_rows(basis: OverviewBasis, iso3: str, year: int) -> list[SupplyRow]:
    """Every catalogued stage the EU27 imports from ``iso3``, largest value share first."""
    sources = basis.indicators.import_sources
    mine = sources.loc[
        (sources["importer"] == EU) & (sources["year"] == year) & (sources["origin"] == iso3)
    ]
    catalogue = basis.catalogue
    index = basis.tables.eu_index
    rows: list[SupplyRow] = []
    for r in mine.itertuples():
        material_id, stage_name = str(r.code_group).split("/", 1)
        material = catalogue.get(material_id)
        if material.group and material.group in catalogue:  # members repeat their group
            continue
        mass = index.figure(str(r.code_group), EU, "mass", year)
        value = index.figure(str(r.code_group), EU, "value", year)
        q, v = fnum(r.quantity_t), fnum(r.value_kusd)
        rows.append(
            SupplyRow(
                material_id=material_id,
                name=material.name,
                stage=material.stage(stage_name).label,
                critical="strategic"
                if material.strategic
                else ("critical" if material.critical else ""),
                quantity_t=q,
                share_mass=q / mass.total if q is not None and mass and mass.total else None,
                value_kusd=v,
                share_value=v / value.total if v is not None and value and value.total else None,
                top=bool(mass and mass.top_third_country == iso3),
            )
        )
    rows.sort(key=lambda row: -(row.share_value or 0.0))
    return rows


def production_rows(basis: OverviewBasis, iso3: str, year: int) -> list[ProductionShareRow]:
    """The commodities ``iso3`` produced in ``year``, largest share of the world first."""
    shares = basis.indicators.production_shares
    mine = shares.loc[
        (shares["country"] == iso3) & (shares["year"] == year) & (shares["quantity"] > 0)
    ]
    return [
        ProductionShareRow(
            material_id=m.id if (m := basis.catalogue.by_wmd_commodity(str(r.commodity))) else None,
            commodity=str(r.commodity),
            quantity=fnum(r.quantity),
            unit=str(r.unit),
            share=fnum(r.share),
            rank=int(str(r.rank)) if not isinstance(r.rank, int | float) else int(r.rank),
        )
        for r in mine.sort_values("share", ascending=False).itertuples()
    ]


def governance_rows(store: Store, iso3: str) -> list[GovernanceRow]:
    """Every governance indicator of ``iso3`` in the store, by indicator and year."""
    rows = store.con.execute(
        "SELECT year, indicator, estimate, lower, upper, percentile FROM governance "
        "WHERE country = ? ORDER BY indicator, year",
        [iso3],
    ).fetchall()
    return [
        GovernanceRow(
            year=int(r[0]),
            indicator=str(r[1]),
            estimate=fnum(r[2]),
            lower=fnum(r[3]),
            upper=fnum(r[4]),
            percentile=fnum(r[5]),
        )
        for r in rows
    ]
