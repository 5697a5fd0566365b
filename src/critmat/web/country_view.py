"""A country page's tables and figures, from :func:`critmat.services.overview.country_page`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from critmat.reports import charts
from critmat.reports.charts import statistics as figures
from critmat.services.overview import CountryPage, OverviewBasis
from critmat.web.overview_view import restrictions_table
from critmat.web.tables import Column, Table


@dataclass
class CountryView:
    """A country page: the service's answer (the templates read its fields from ``page``), its
    tables and figures (name → plotly spec)."""

    page: CountryPage
    tables: dict[str, Table]
    figures: dict[str, charts.Figure]


def country_view(page: CountryPage, basis: OverviewBasis) -> CountryView:
    """The tables and figures of ``page``."""
    drawn: dict[str, charts.Figure] = {}
    if page.supply:
        drawn["supply"] = figures.supply_figure(page.supply, page.name, page.year)
    if page.governance:
        drawn["governance"] = figures.governance_figure(page.governance, page.name)
    tables = {
        "supply": supply_table(page),
        "production": production_table(page),
        "governance": governance_table(page),
        "restrictions": restrictions_table(
            basis, page.restrictions, f"Export restrictions registered for {page.name}"
        ),
    }
    return CountryView(page, tables, drawn)


def supply_table(page: CountryPage) -> Table:
    return Table(
        name="supply",
        title=f"What the EU27 imports from {page.name}, {page.year}",
        columns=[
            Column("material_id", "Material", "material", export_label="material id"),
            Column("stage", "Stage"),
            Column("critical", "CRMA"),
            Column("value_kusd", "Value (kUSD)", "num", export_label="value (thousand USD)"),
            Column("share_value", "Share of EU27 imports (value)", "share"),
            Column("quantity_t", "Tonnes", "num", export_label="quantity (t)"),
            Column("share_mass", "Share (mass)", "share"),
            Column("top", "Largest third-country supplier", "bool"),
        ],
        rows=[asdict(r) for r in page.supply],
        source=page.provenance.citation("trade"),
        year=str(page.year),
        notes=["Shares of EU27 extra-EU imports of each catalogued stage's HS codes."],
    )


def production_table(page: CountryPage) -> Table:
    latest = page.production_year
    return Table(
        name="production",
        title=f"World production: {page.name}'s share by commodity, {latest}",
        columns=[
            Column("material_id", "Material", "material", export_label="material id"),
            Column("commodity", "WMD commodity"),
            Column("quantity", "Quantity", "num"),
            Column("unit", "Unit"),
            Column("share", "Share of world", "share"),
            Column("rank", "World rank", "int"),
        ],
        rows=[asdict(r) for r in page.production],
        source=page.provenance.citation("production"),
        year=str(latest),
        notes=[]
        if latest == page.year
        else [f"No production data for {page.year}: {latest} is shown."],
    )


def governance_table(page: CountryPage) -> Table:
    rows = page.governance
    return Table(
        name="governance",
        title="Worldwide Governance Indicators: Political Stability and Absence of Violence",
        columns=[
            Column("year", "Year", "year"),
            Column("indicator", "Indicator"),
            Column("estimate", "Estimate (−2.5 … 2.5)", "hhi", export_label="estimate"),
            Column("lower", "Lower bound", "hhi"),
            Column("upper", "Upper bound", "hhi"),
            Column("percentile", "Percentile rank", "num"),
        ],
        rows=[asdict(r) for r in rows],
        source=page.provenance.citation("governance"),
        year=f"{rows[0].year}–{rows[-1].year}" if rows else "",
        notes=["Higher is more stable; the band is the 90% confidence interval."],
    )
