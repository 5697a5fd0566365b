"""The overview page's tables (CRMA panel, strongest dependencies, restriction registry), as
shown on the page and served by its downloads. The figures come from
:mod:`critmat.services.overview`; this module only names and labels the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date

from critmat.indicators.panel import PanelRow
from critmat.reports import charts
from critmat.reports.charts import statistics as figures
from critmat.services.overview import Dependencies, OverviewBasis, RestrictionRow
from critmat.web.tables import Column, Table

PANEL_COLUMNS = [
    Column("material_id", "Material", "material", export_label="material id"),
    Column("name", "Name", export_label="material"),
    Column("strategic", "Strategic", "bool"),
    Column("stage_label", "Main stage", export_label="main stage"),
    Column("hs_codes", "HS codes", export_label="HS92 codes"),
    Column("country", "Largest third-country supplier", "country", export_label="country (ISO3)"),
    Column("share", "Share", "share", export_label="share of EU27 imports (mass, 0-1)"),
    Column("exceeds_65", "> 65%", "bool", export_label="above 65%"),
    Column("total_t", "EU27 imports (t)", "num", export_label="EU27 extra-EU imports (t)"),
    Column("suppliers", "Suppliers", "int"),
    Column("status", "Data", export_label="data status"),
    Column("note", "Note"),
]

DEPENDENCY_COLUMNS = [
    Column("material_id", "Material", "material", export_label="material id"),
    Column("stage", "Stage"),
    Column("country", "Supplier", "country", export_label="country (ISO3)"),
    Column("share", "Share of EU27 imports", "share", export_label="share (mass, 0-1)"),
    Column("total_t", "EU27 imports (t)", "num"),
    Column("hhi", "HHI", "hhi"),
]

RESTRICTION_COLUMNS = [
    Column("effective", "Effective"),
    Column("country", "Country", "country", export_label="country (ISO3)"),
    Column("materials", "Materials"),
    Column("measure", "Measure"),
    Column("title", "Title"),
    Column("status", "Status"),
    Column("targets", "Targets"),
    Column("value_before", "EU27 share before", "share", export_label="EU27 share before (value)"),
    Column("value_after", "EU27 share after", "share", export_label="EU27 share after (value)"),
    Column("id", "Id"),
]


def shown_rows(rows: Sequence[PanelRow], strategic_only: bool) -> list[PanelRow]:
    """The panel rows of the scope: strategic materials only, or every critical one."""
    return [r for r in rows if r.strategic or not strategic_only]


def panel_figure(rows: Sequence[PanelRow], year: int, strategic_only: bool) -> charts.Figure:
    """The panel chart (strategic materials starred when every critical one is shown)."""
    return figures.panel_figure(rows, year, star_strategic=not strategic_only)


def panel_links(rows: Sequence[PanelRow], strategic_only: bool) -> dict[str, str]:
    """Each bar's label → the address of its material page (a click on a bar opens it)."""
    return {figures.panel_label(r, not strategic_only): f"/materials/{r.material_id}" for r in rows}


def panel_table(basis: OverviewBasis, rows: Sequence[PanelRow], year: int) -> Table:
    return Table(
        name="panel",
        title=(
            f"CRMA panel {year}: largest single third-country share of EU27 extra-EU imports "
            "(main stage, by mass)"
        ),
        columns=PANEL_COLUMNS,
        rows=[{**asdict(r), "hs_codes": ", ".join(r.hs_codes), "note": _note(r)} for r in rows],
        source=basis.citation("trade"),
        year=str(year),
    )


def _note(row: PanelRow) -> str:
    parts = (
        row.note,
        f"data of {row.data_from}" if row.data_from else "",
        f"other stages above 65%: {', '.join(row.other_stages_over)}"
        if row.other_stages_over
        else "",
    )
    return "; ".join(x for x in parts if x)


def dependencies_table(found: Dependencies) -> Table:
    """Material stages whose EU27 imports depend most on one third country (mass basis)."""
    return Table(
        name="dependencies",
        title=(
            f"Strongest single-country dependencies of the EU27, {found.year} (by mass, ≥ 50 t)"
        ),
        columns=DEPENDENCY_COLUMNS,
        rows=[asdict(r) for r in found.rows],
        source=found.provenance.citation("trade"),
        year=str(found.year),
    )


def restrictions_table(
    basis: OverviewBasis, rows: Sequence[RestrictionRow], title: str, limit: int | None = None
) -> Table:
    """Restrictions, most recent first (``limit``: how many)."""
    ordered = sorted(rows, key=lambda r: r.effective or r.announced or date.min, reverse=True)
    if limit is not None:
        ordered = ordered[:limit]
    return Table(
        name="restrictions",
        title=title,
        columns=RESTRICTION_COLUMNS,
        rows=[
            {
                "effective": _effective_text(r),
                "country": r.country,
                "materials": ", ".join(r.material_names),
                "measure": r.measure.replace("_", " "),
                "title": r.title,
                "status": r.status.replace("_", " "),
                "targets": ", ".join(r.targets),
                "value_before": r.value_before,
                "value_after": r.value_after,
                "id": r.id,
            }
            for r in ordered
        ],
        source=(
            "critmat export-restriction registry (status as of "
            + max((r.status_as_of.isoformat() for r in rows), default="–")
            + "); EU27 exposure: "
            + basis.citation("trade")
        ),
        notes=[
            "EU27 share before/after: share of the EU27's imports of the affected HS codes "
            "(by value) from the restricting country in the year before the measure and the "
            "latest year after it."
        ],
    )


def _effective_text(r: RestrictionRow) -> str | None:
    """The effective date (ISO), else "announced <date>", else None (not known)."""
    if r.effective is not None:
        return r.effective.isoformat()
    return f"announced {r.announced.isoformat()}" if r.announced else None
