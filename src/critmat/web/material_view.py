"""A material page's tables and figures, from :func:`critmat.services.overview.material_page`.

Each table is what the page shows and what its download serves (:class:`Table`); the figures
come from :mod:`critmat.reports.charts.statistics`, keyed as the page's section names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from critmat.indicators.panel import StageInfo
from critmat.reports import charts
from critmat.reports.charts import ProducerBar, production_bars
from critmat.reports.charts import statistics as figures
from critmat.services.context import ServiceContext
from critmat.services.overview import MaterialPage, OverviewBasis
from critmat.services.statistics_models import StageProductionOut
from critmat.store import Store
from critmat.web.columns import (
    COUNTRY,
    ESTIMATED,
    ORIGIN,
    RANK,
    SHARE,
    STAGE,
    TONNES,
    VALUE_KUSD,
    YEAR,
)
from critmat.web.overview_view import restrictions_table
from critmat.web.tables import Column, Table


@dataclass
class MaterialView:
    """A material page: the service's answer (the templates read its fields from ``page``), its
    tables and figures (key → plotly spec) and the keys of the figures the page places."""

    page: MaterialPage
    tables: dict[str, Table]
    figures: dict[str, charts.Figure]
    production_figure: str | None
    sources_figure: str | None
    trend_figure: str | None
    stage_production: list[StageCard] = field(default_factory=list)


@dataclass(frozen=True)
class StageCard:
    """One stage's production card: its answer, and the keys of its table and figure."""

    answer: StageProductionOut
    table: str
    figure: str | None


def material_view(
    page: MaterialPage,
    basis: OverviewBasis,
    production: Sequence[StageProductionOut] = (),
) -> MaterialView:
    """The tables and figures of ``page`` (``basis``: the overview basis it came from;
    ``production``: the production of each stage with figures, one card each)."""
    section = page.section
    year = page.year
    drawn: dict[str, charts.Figure] = {}
    production_figure = sources_figure = trend_figure = None
    if section.production:
        block = section.production[0]
        production_figure = block.figure_id
        drawn[block.figure_id] = figures.production_figure(block)
    if page.sources is not None:
        sources_figure = f"src-{page.material.id}"
        drawn[sources_figure] = figures.sources_figure(page.sources, year)
    if page.trend is not None:
        trend_figure = f"trend-{page.material.id}"
        drawn[trend_figure] = figures.trend_figure(page.trend, year)
    tables: dict[str, Table] = {}
    if section.production:
        tables["production"] = production_table(page)
    stage = page.stage
    if stage is not None and stage.codes_present:
        tables["sources"] = sources_table(page, stage)
        tables["sources-trend"] = sources_trend_table(page, stage)
        tables["member-states"] = member_states_table(page, stage)
    tables["trend"] = trend_table(page)
    tables["stages"] = stages_table(page)
    tables["restrictions"] = restrictions_table(
        basis, section.restrictions, f"Export restrictions on {page.material.name}"
    )
    cards = [_stage_card(answer, tables, drawn) for answer in production]
    return MaterialView(page, tables, drawn, production_figure, sources_figure, trend_figure, cards)


def stage_production_for(
    services: ServiceContext, store: Store, material_id: str, year: int
) -> list[StageProductionOut]:
    """The production of every stage of the material with figures, for its page in ``year``
    (:func:`critmat.services.statistics.production_every_stage`, once per releases)."""
    from critmat.services.statistics_production import production_every_stage

    return services.remember(
        "production-every-stage",
        (material_id, year),
        lambda: production_every_stage(store, material_id, year),
    )


def _stage_card(
    answer: StageProductionOut, tables: dict[str, Table], drawn: dict[str, charts.Figure]
) -> StageCard:
    """Table (and figure, when a country has a share) of one stage's production."""
    key = f"production-{answer.stage}"
    tables[key] = stage_production_table(answer)
    bars = [
        ProducerBar(r.country, r.country_name or r.country, r.share, r.quantity_t, r.estimated)
        for r in answer.rows
        if r.share is not None and r.quantity_t is not None and r.share > 0
    ][:15]
    figure = None
    if bars:
        figure = f"fig-{key}"
        drawn[figure] = production_bars(bars, "t", answer.year)
    return StageCard(answer, key, figure)


def stage_production_table(answer: StageProductionOut) -> Table:
    """One stage's production by country; withheld and unavailable figures are empty cells
    with their status written out."""
    world = f"{answer.world_t:,.6g} t" if answer.world_t is not None else "not published"
    return Table(
        name=f"production-{answer.stage}",
        title=(
            f"World production at the {answer.stage} stage ({answer.production_stage}, "
            f"{answer.commodity}), {answer.year}"
        ),
        columns=[
            RANK,
            COUNTRY,
            TONNES,
            SHARE,
            ESTIMATED,
            Column("status", "Status"),
        ],
        rows=[r.model_dump() for r in answer.rows],
        source=(
            f"{answer.series} '{answer.commodity}' {answer.production_stage} · release "
            f"{answer.release_id} ({answer.release_version}) · basis {answer.basis}"
        ),
        year=str(answer.year),
        notes=[f"World total (published): {world}.", *answer.notes],
    )


def production_table(page: MaterialPage) -> Table:
    block = page.section.production[0]
    notes = []
    if block.year != page.year:
        notes.append(f"No production data for {page.year}: {block.year} is shown.")
    return Table(
        name="production",
        title=f"World production of {block.label} ({block.commodity}) by country, {block.year}",
        columns=[
            RANK,
            COUNTRY,
            Column("quantity", f"Quantity ({block.unit})", "num"),
            Column("share", "Share of world", "share"),
            ESTIMATED,
        ],
        rows=[asdict(r) for r in page.producers],
        source=page.provenance.citation("production"),
        year=str(block.year),
        notes=notes,
    )


def sources_table(page: MaterialPage, stage: StageInfo) -> Table:
    notes = [f"HS {', '.join(stage.codes_present)} ({stage.label})."]
    missing = page.missing_value_share
    if missing and missing >= 5e-4:
        notes.append(
            f"{missing:.1%} of the import value has no quantity in BACI "
            "and is left out of the mass shares."
        )
    columns = [
        ORIGIN,
        TONNES,
        Column("share_mass", "Share (mass)", "share"),
        VALUE_KUSD,
        Column("share_value", "Share (value)", "share"),
    ]
    return _origins_table(page, stage, "sources", str(page.year), columns, page.origins, notes)


def sources_trend_table(page: MaterialPage, stage: StageInfo) -> Table:
    first, last = page.trend_years[0], page.trend_years[-1]
    columns = [YEAR, ORIGIN, TONNES, VALUE_KUSD]
    span = f"{first}–{last}"
    return _origins_table(page, stage, "sources-trend", span, columns, page.origins_by_year)


def _origins_table(
    page: MaterialPage,
    stage: StageInfo,
    name: str,
    years: str,
    columns: list[Column],
    rows: Sequence[Any],
    notes: Sequence[str] = (),
) -> Table:
    """EU27 extra-EU imports of the page's stage by origin in ``years`` (one year or a span),
    from the trade release; ``rows`` are the page's dataclass rows."""
    return Table(
        name=name,
        title=f"EU27 extra-EU imports of {page.material.name} · {stage.label} by origin, {years}",
        columns=columns,
        rows=[asdict(r) for r in rows],
        source=page.provenance.citation("trade"),
        year=years,
        notes=list(notes),
    )


def sources_pivot(table: Table, top: int = 7) -> tuple[list[str], list[dict[str, Any]]]:
    """The sources-trend table as years × largest origins (tonnes), for the on-page view."""
    totals: dict[str, float] = {}
    for row in table.rows:
        totals[row["country"]] = totals.get(row["country"], 0.0) + (row["quantity_t"] or 0.0)
    origins = [c for c, _ in sorted(totals.items(), key=lambda kv: -kv[1])[:top]]
    by_year: dict[int, dict[str, Any]] = {}
    for row in table.rows:
        entry = by_year.setdefault(row["year"], {"year": row["year"], "other": 0.0, "total": 0.0})
        q = row["quantity_t"] or 0.0
        entry["total"] += q
        if row["country"] in origins:
            entry[row["country"]] = q
        else:
            entry["other"] += q
    return origins, [by_year[y] for y in sorted(by_year)]


def member_states_table(page: MaterialPage, stage: StageInfo) -> Table:
    return Table(
        name="member-states",
        title=(
            f"Member States importing most {page.material.name} · {stage.label}, {page.year} "
            "(by mass, including intra-EU supply)"
        ),
        columns=[
            Column("country", "Member State", "country", export_label="Member State (ISO3)"),
            Column("total_t", "Imports (t)", "num"),
            Column("share_of_ms_total", "Share of MS imports", "share"),
            Column("top_supplier", "Top supplier", "country"),
            Column("top_share", "Share", "share"),
            Column("top_third_country", "Top third country", "country"),
            Column("top_third_share", "Share", "share", export_label="top third-country share"),
            Column("exceeds_65", "> 65%", "bool"),
        ],
        rows=[{**asdict(r), "country": r.iso3} for r in page.member_states],
        source=page.provenance.citation("trade"),
        year=str(page.year),
        notes=["Supply from other Member States counts; only third countries trip the 65% flag."],
    )


def trend_table(page: MaterialPage) -> Table:
    rows = page.trend_rows
    stage = page.stage
    return Table(
        name="trend",
        title=f"Concentration of {page.material.name}: world production and EU27 imports",
        columns=[
            Column("year", "Year", "year"),
            Column("production_hhi", "HHI world production", "hhi"),
            Column("import_hhi", "HHI EU27 imports (mass)", "hhi"),
            Column("top_third_share", "Largest third-country share", "share"),
        ],
        rows=[asdict(r) for r in rows],
        source=f"{page.provenance.citation('production')}; {page.provenance.citation('trade')}",
        year=f"{rows[0].year}–{rows[-1].year}" if rows else "",
        notes=[
            "HHI: sum of squared shares (0–1); 0.25 and above is highly concentrated."
            + (f" EU27 import figures for the stage {stage.label}." if stage else "")
        ],
    )


def stages_table(page: MaterialPage) -> Table:
    return Table(
        name="stages",
        title=f"EU27 imports of {page.material.name} by value-chain stage, {page.year}",
        columns=[
            STAGE,
            Column("label", "Products"),
            Column("hs", "HS codes"),
            Column("total_t", "Tonnes", "num"),
            Column("top_third_country", "Top third country", "country"),
            Column("top_third_share", "Share (mass)", "share"),
            Column("value_kusd", "Value (kUSD)", "num"),
            Column("value_share", "Share (value)", "share"),
            Column("main", "Main stage", "bool"),
        ],
        rows=[
            {
                "stage": s.name,
                "label": s.label,
                "hs": ", ".join(s.hs_codes) + (" (not in release)" if not s.codes_present else ""),
                "total_t": s.mass.total if s.mass else None,
                "top_third_country": _top_third(s),
                "top_third_share": s.mass.top_third_share if s.mass else None,
                "value_kusd": s.value.total if s.value else None,
                "value_share": s.value.top_third_share if s.value else None,
                "main": s.is_main,
            }
            for s in page.stages
        ],
        source=page.provenance.citation("trade"),
        year=str(page.year),
    )


def _top_third(stage: StageInfo) -> str | None:
    figure = stage.mass or stage.value
    return figure.top_third_country if figure is not None else None
