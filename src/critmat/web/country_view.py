"""A country page's tables and figures, from :func:`critmat.services.overview.country_page`;
for a Member State also its own dependencies (:mod:`critmat.web.member_state_view`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from critmat.reports import charts
from critmat.reports.charts import statistics as figures
from critmat.services.overview import CountryPage, OverviewBasis
from critmat.web.member_state_view import dependencies_figure, dependencies_table
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
    tables: dict[str, Table] = {}
    if page.member_state is not None:
        tables["dependencies"] = dependencies_table(page.member_state)
        if (figure := dependencies_figure(page.member_state)) is not None:
            drawn["dependencies"] = figure
    if page.supply:
        drawn["supply"] = figures.supply_figure(page.supply, page.name, page.year)
    if page.governance:
        drawn["governance"] = figures.governance_figure(page.governance, page.name)
    tables |= {
        "supply": supply_table(page),
        "production": production_table(page),
        "governance": governance_table(page),
        "restrictions": restrictions_table(
            basis, page.restrictions, f"Export restrictions registered for {page.name}"
        ),
    }
    return CountryView(page, tables, drawn)


#: The first column of a table by material (a link to the material page).
MATERIAL_COLUMN = Column("material_id", "Material", "material", export_label="material id")


def _table(
    page: CountryPage,
    name: str,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Any],
    dataset: str,
    **extra: Any,
) -> Table:
    """A table of the country page: its dataclass ``rows`` cited from ``dataset``'s release."""
    return Table(
        name=name,
        title=title,
        columns=list(columns),
        rows=[asdict(r) for r in rows],
        source=page.provenance.citation(dataset),
        **extra,
    )


def supply_table(page: CountryPage) -> Table:
    """What the EU27 imports from the country (empty for a Member State: its shipments to
    the EU are intra-EU trade, which the EU27's extra-EU imports leave out)."""
    columns = [
        MATERIAL_COLUMN,
        Column("stage", "Stage"),
        Column("critical", "CRMA"),
        Column("value_kusd", "Value (kUSD)", "num", export_label="value (thousand USD)"),
        Column("share_value", "Share of EU27 imports (value)", "share"),
        Column("quantity_t", "Tonnes", "num", export_label="quantity (t)"),
        Column("share_mass", "Share (mass)", "share"),
        Column("top", "Largest third-country supplier", "bool"),
    ]
    title = f"What the EU27 imports from {page.name}, {page.year}"
    notes = ["Shares of EU27 extra-EU imports of each catalogued stage's HS codes."]
    return _table(
        page, "supply", title, columns, page.supply, "trade", year=str(page.year), notes=notes
    )


def production_table(page: CountryPage) -> Table:
    latest = page.production_year
    columns = [
        MATERIAL_COLUMN,
        Column("commodity", "WMD commodity"),
        Column("quantity", "Quantity", "num"),
        Column("unit", "Unit"),
        Column("share", "Share of world", "share"),
        Column("rank", "World rank", "int"),
    ]
    title = f"World production: {page.name}'s share by commodity, {latest}"
    notes = (
        [] if latest == page.year else [f"No production data for {page.year}: {latest} is shown."]
    )
    return _table(
        page,
        "production",
        title,
        columns,
        page.production,
        "production",
        year=str(latest),
        notes=notes,
    )


def governance_table(page: CountryPage) -> Table:
    rows = page.governance
    columns = [
        Column("year", "Year", "year"),
        Column("indicator", "Indicator"),
        Column("estimate", "Estimate (−2.5 … 2.5)", "hhi", export_label="estimate"),
        Column("lower", "Lower bound", "hhi"),
        Column("upper", "Upper bound", "hhi"),
        Column("percentile", "Percentile rank", "num"),
    ]
    title = "Worldwide Governance Indicators: Political Stability and Absence of Violence"
    years = f"{rows[0].year}–{rows[-1].year}" if rows else ""
    notes = ["Higher is more stable; the band is the 90% confidence interval."]
    return _table(page, "governance", title, columns, rows, "governance", year=years, notes=notes)
