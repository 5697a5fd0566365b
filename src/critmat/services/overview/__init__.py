"""The overview of critical raw materials: the CRMA panel, the strongest dependencies, the
material and country pages, the material index, search and the offline report.

One basis per set of current releases (:func:`basis`: one full indicator refresh, indexed) is
kept in the :class:`~critmat.services.context.ServiceContext`'s cache; every answer here
selects from it and is itself remembered under the same release ids. The web's statistics
pages and ``critmat report`` call these functions and only present the results. A
restriction's status is read for the "as of" day of
:func:`critmat.reference.restrictions.as_of` (today unless the caller names one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from critmat.indicators.panel import (
    EU,
    THIN_TONNES,
    PanelRow,
    data_material,
    fnum,
    material_panel_row,
    panel_materials,
)
from critmat.reference.materials import Catalogue, Material
from critmat.reference.restrictions import as_of
from critmat.services.context import ServiceContext
from critmat.services.overview.basis import (
    OverviewBasis,
    Progress,
    Provenance,
    ReleaseInfo,
    basis,
    focus_year,
)
from critmat.services.overview.country import CountryPage, country_code
from critmat.services.overview.country import country_page as _country_page
from critmat.services.overview.material import MaterialPage
from critmat.services.overview.material import material_page as _material_page
from critmat.services.overview.restrictions import RestrictionRow, restriction_rows
from critmat.services.overview.search import Hit, SearchResult, search_result
from critmat.services.overview.sections import MaterialSection, SectionBuilder
from critmat.store import Store

__all__ = [
    "CountryPage",
    "Dependencies",
    "DependencyRow",
    "Hit",
    "MaterialPage",
    "MaterialSection",
    "OverviewBasis",
    "OverviewReport",
    "Provenance",
    "ReleaseInfo",
    "RestrictionRow",
    "SearchResult",
    "basis",
    "country_code",
    "country_page",
    "dependencies",
    "material_index",
    "material_page",
    "named_stage",
    "panel",
    "report",
    "restrictions",
    "search",
    "stage_choices",
]


def restrictions(
    ctx: ServiceContext, store: Store, day: date | None = None
) -> list[RestrictionRow]:
    """Every registered export restriction with its status on ``as_of(day)``."""
    chosen = as_of(day)
    found = basis(ctx, store)
    return ctx.remember(
        "overview.restrictions",
        chosen,
        lambda: restriction_rows(found, chosen),
        releases=found.release_ids,
    )


def panel(ctx: ServiceContext, store: Store, year: int) -> list[PanelRow]:
    """The CRMA panel for ``year``: one row per critical raw material, strategic ones first
    (:func:`critmat.indicators.panel.crma_panel`'s rows)."""
    found = basis(ctx, store)

    def compute() -> list[PanelRow]:
        index, codes = found.tables.eu_index, found.codes_in_release
        return [
            material_panel_row(found.catalogue, m, index, codes, year)
            for m in panel_materials(found.catalogue)
        ]

    return ctx.remember("overview.panel", year, compute, releases=found.release_ids)


@dataclass(frozen=True)
class DependencyRow:
    """A material stage whose EU27 imports depend most on one third country (mass basis)."""

    material_id: str
    stage: str
    country: str
    share: float | None
    total_t: float | None
    hhi: float | None


@dataclass(frozen=True)
class Dependencies:
    """The strongest single-country dependencies of the EU27 in ``year`` (stages with at least
    :data:`~critmat.indicators.panel.THIN_TONNES` t of imports; group members left out)."""

    year: int
    rows: list[DependencyRow]
    provenance: Provenance


def dependencies(ctx: ServiceContext, store: Store, year: int, limit: int = 12) -> Dependencies:
    found = basis(ctx, store)
    return ctx.remember(
        "overview.dependencies",
        (year, limit),
        lambda: _dependencies(found, year, limit),
        releases=found.release_ids,
    )


def _dependencies(found: OverviewBasis, year: int, limit: int) -> Dependencies:
    imports = found.indicators.imports
    frame = imports.loc[
        (imports["importer"] == EU)
        & (imports["basis"] == "mass")
        & (imports["year"] == year)
        & (imports["total"] >= THIN_TONNES)
        & imports["top_third_share"].notna()
    ].sort_values("top_third_share", ascending=False)
    rows: list[DependencyRow] = []
    for row in frame.itertuples():
        material_id, stage_name = str(row.code_group).split("/", 1)
        material = found.catalogue.get(material_id)
        if material.group and material.group in found.catalogue:  # members repeat their group
            continue
        rows.append(
            DependencyRow(
                material_id=material_id,
                stage=material.stage(stage_name).label,
                country=str(row.top_third_country),
                share=fnum(row.top_third_share),
                total_t=fnum(row.total),
                hhi=fnum(row.hhi),
            )
        )
        if len(rows) >= limit:
            break
    return Dependencies(year, rows, found.provenance("trade"))


def material_index(
    ctx: ServiceContext, store: Store, year: int
) -> list[tuple[Material, PanelRow | None]]:
    """Every catalogue entry in panel order (CRMs), then the others, with its panel row."""
    found = basis(ctx, store)
    rows = {p.material_id: p for p in panel(ctx, store, year)}
    ordered = panel_materials(found.catalogue) + _other_materials(found.catalogue)
    return [(m, rows.get(m.id)) for m in ordered]


def _other_materials(catalogue: Catalogue) -> list[Material]:
    """The catalogue entries that are not critical raw materials, by name."""
    return sorted(
        (m for m in catalogue.materials if not m.critical), key=lambda m: m.name.casefold()
    )


def material_page(
    ctx: ServiceContext,
    store: Store,
    material: Material,
    year: int,
    stage: str | None = None,
    day: date | None = None,
) -> MaterialPage:
    """The page of ``material`` in ``year`` on ``stage`` (default: its main stage)."""
    found = basis(ctx, store)
    chosen = as_of(day)

    def compute() -> MaterialPage:
        builder = SectionBuilder(found, year, restrictions(ctx, store, chosen))
        return _material_page(found, builder, material, stage, panel(ctx, store, year))

    return ctx.remember(
        "overview.material", (material.id, year, stage, chosen), compute, releases=found.release_ids
    )


def country_page(
    ctx: ServiceContext, store: Store, iso3: str, year: int, day: date | None = None
) -> CountryPage:
    """The page of the country ``iso3`` in ``year``."""
    found = basis(ctx, store)
    chosen = as_of(day)
    return ctx.remember(
        "overview.country",
        (iso3, year, chosen),
        lambda: _country_page(found, store, iso3, year, restrictions(ctx, store, chosen)),
        releases=found.release_ids,
    )


def search(ctx: ServiceContext, store: Store, query: str, limit: int = 12) -> SearchResult:
    """Materials and countries matching ``query``, best first, by the one search ranking
    (:func:`critmat.services.catalogue.search`), and the one the query names exactly."""
    return search_result(basis(ctx, store).catalogue, query, limit)


def stage_choices(found: OverviewBasis, material: Material) -> list[tuple[str, str]]:
    """(name, label) of the stages a material's page can show (its data entry's stages)."""
    source, _note = data_material(material, found.catalogue)
    return [(s.name, s.label) for s in source.stages]


def named_stage(found: OverviewBasis, name: str) -> str | None:
    """The stage a material's name itself names ("lithium carbonate": lithium's processing
    stage; step 2 of the one stage rule, :meth:`Catalogue.choose_stage`), ``None`` if none."""
    if name in found.catalogue:
        return None
    resolved = found.catalogue.resolve(name)
    chosen = found.catalogue.choose_stage(resolved, lambda _s: False)
    return chosen.name if chosen is not None else None


@dataclass
class OverviewReport:
    """The whole report: header facts, a section per material, the registry."""

    generated_at: datetime
    focus_year: int
    focus_year_note: str
    trade_years: tuple[int, int]
    trend_years: list[int]
    production_years: tuple[int, int]
    releases: list[ReleaseInfo]
    coverage: list[dict[str, Any]]
    panel: list[PanelRow]
    critical: list[MaterialSection]
    others: list[MaterialSection]
    restrictions: list[RestrictionRow]
    catalogue_sources: list[str]
    as_of: date
    provenance: Provenance

    @property
    def strategic_count(self) -> int:
        return sum(1 for s in self.critical if s.material.strategic)

    @property
    def exceeding(self) -> list[PanelRow]:
        return [p for p in self.panel if p.exceeds_65]

    def citation(self, dataset: str) -> str:
        """Short citation of the current release of ``dataset`` ("–" when absent)."""
        found = next((r for r in self.releases if r.dataset == dataset), None)
        return found.citation if found else "–"


def report(
    ctx: ServiceContext,
    store: Store,
    year: int | None = None,
    day: date | None = None,
    progress: Progress | None = None,
) -> OverviewReport:
    """Every material's section for ``year`` (default: the latest year with production and
    trade data): critical raw materials in full, the other catalogue entries in brief."""
    from critmat.store.coverage import coverage

    def say(message: str) -> None:
        if progress:
            progress(message)

    store.require_release("production")
    store.require_release("trade")
    chosen_year, year_note = focus_year(store, year)
    say(f"report for {chosen_year}: {year_note}")
    found = basis(ctx, store, progress)
    say("assembling the report")
    day = as_of(day)
    rows = restrictions(ctx, store, day)
    builder = SectionBuilder(found, chosen_year, rows)
    catalogue = found.catalogue
    critical = panel_materials(catalogue)
    others = _other_materials(catalogue)
    sections = []
    for index, material in enumerate(critical, start=1):
        if index == 1 or index % 10 == 0:
            say(f"CRM sections {index}/{len(critical)}")
        sections.append(builder.section(material, full=True))
    say(f"appendix: {len(others)} other catalogue materials")
    return OverviewReport(
        generated_at=datetime.now().replace(microsecond=0),
        focus_year=chosen_year,
        focus_year_note=year_note,
        trade_years=found.trade_years,
        trend_years=found.trend_years,
        production_years=found.production_years,
        releases=found.releases,
        coverage=coverage(store),
        panel=[s.panel for s in sections],
        critical=sections,
        others=[builder.section(m, full=False) for m in others],
        restrictions=rows,
        catalogue_sources=sorted({s for m in catalogue.materials for s in m.sources}),
        as_of=day,
        provenance=found.provenance("production", "trade"),
    )
