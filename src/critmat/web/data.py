"""What the pages show, computed once per data release and cached in the app.

A :class:`Snapshot` holds one full indicator refresh (:func:`refresh_all`, a few seconds) and a
:class:`ReportBuilder` over it; pages ask it for a material section, a CRMA panel or a table for
a given year. The snapshot is keyed by the ids of the current releases, so importing new data
and reloading the store (``POST /api/v1/admin/store/reload``) gives a fresh one on the next
request. Every table is a :class:`critmat.web.tables.Table`, shared by the page and the
CSV/XLSX downloads.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from critmat.errors import CritmatError, NoDataError, UnknownNameError
from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.indicators.panel import (
    EU,
    THIN_TONNES,
    ImportIndex,
    PanelRow,
    StageInfo,
    country_name,
    crma_panel,
    data_material,
    fnum,
)
from critmat.indicators.refresh import Indicators, refresh_all
from critmat.reference.countries import group_info, memberships, resolve_country
from critmat.reference.materials import Catalogue, Material, load_catalogue
from critmat.reference.restrictions import Restriction, load_restrictions
from critmat.reports import charts
from critmat.reports.model import (
    MaterialSection,
    ReleaseInfo,
    ReportBuilder,
    RestrictionRow,
    focus_year,
    production_commodities,
)
from critmat.store import Store
from critmat.web.tables import Column, Table

ReleaseKey = tuple[tuple[str, int], ...]
LIMIT = CRMA_SINGLE_COUNTRY_LIMIT


def release_key(store: Store) -> ReleaseKey:
    return tuple(sorted((r.dataset, r.release_id) for r in store.releases(current_only=True)))


@dataclass
class Snapshot:
    """Everything computed once for the current releases."""

    key: ReleaseKey
    catalogue: Catalogue
    restrictions: list[Restriction]
    indicators: Indicators
    builder: ReportBuilder
    focus_year: int
    focus_note: str
    trade_years: tuple[int, int]
    production_years: tuple[int, int]
    releases: list[ReleaseInfo]
    countries: dict[str, str]
    eu_index: ImportIndex
    _panels: dict[int, list[PanelRow]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- basics ------------------------------------------------------------------------------
    def citation(self, dataset: str) -> str:
        found = next((r for r in self.releases if r.dataset == dataset), None)
        return found.citation if found else "–"

    @property
    def years(self) -> list[int]:
        """Years a page can show (the trade release), newest first."""
        return list(range(self.trade_years[1], self.trade_years[0] - 1, -1))

    def check_year(self, year: int | None) -> int:
        if year is None:
            return self.focus_year
        first, last = self.trade_years
        if not first <= year <= last:
            raise CritmatError(
                f"year {year} is outside the trade data ({first}–{last})",
                hint=f"choose a year from {first} to {last}",
            )
        return year

    def material(self, material_id: str) -> Material:
        """The catalogue entry with this id (or any alias); UnknownNameError with suggestions."""
        if material_id in self.catalogue:
            return self.catalogue.get(material_id)
        return self.catalogue.resolve(material_id).material

    def builder_for(self, year: int) -> ReportBuilder:
        """A builder for ``year`` sharing the indexed tables (a shallow copy: cheap)."""
        clone = copy.copy(self.builder)
        clone.year = year
        clone.figures = {}
        return clone

    def panel(self, year: int, store: Store) -> list[PanelRow]:
        """The CRMA panel for ``year`` (``store``: the request's, for the one query it makes)."""
        with self._lock:
            rows = self._panels.get(year)
        if rows is None:
            rows = crma_panel(store.con, self.catalogue, year, self.eu_index)
            with self._lock:
                self._panels[year] = rows
        return rows


class WebData:
    """The app's cache of :class:`Snapshot` objects (one, for the current releases)."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open_store = open_store
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._warming = False
        self._thread: threading.Thread | None = None

    def get(self, store: Store) -> Snapshot:
        key = release_key(store)
        current = self._snapshot
        if current is not None and current.key == key:
            return current
        with self._lock:  # one build at a time; others wait for it
            current = self._snapshot
            if current is None or current.key != key:
                current = build_snapshot(store, key)
                self._snapshot = current
            return current

    def warm(self) -> None:
        """Build the snapshot in a background thread (called when the login page is shown)."""
        if self._snapshot is not None or self._warming:
            return
        self._warming = True

        def run() -> None:
            try:
                store = self._open_store()
                try:
                    self.get(store)
                finally:
                    store.close()
            except Exception:  # the next page request reports the problem
                pass
            finally:
                self._warming = False

        self._thread = threading.Thread(target=run, name="critmat-web-warm", daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for a background build to finish (before the store connection is closed)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def build_snapshot(store: Store, key: ReleaseKey) -> Snapshot:
    """Refresh every indicator (a few seconds) and index them for the pages.

    ``store`` is used only while building; pages pass the request's store for their queries.
    """
    store.require_release("production")
    store.require_release("trade")
    catalogue = load_catalogue()
    restrictions = list(load_restrictions())
    indicators = refresh_all(store.con, catalogue, restrictions)
    year, note = focus_year(store, None)
    builder = ReportBuilder(store, catalogue, restrictions, indicators, year, note)
    names: dict[str, str] = {}
    codes = store.con.execute(
        "SELECT DISTINCT exporter FROM trade UNION SELECT DISTINCT country FROM production"
    ).fetchall()
    for (code,) in codes:
        name = country_name(str(code))
        if name != code or len(str(code)) == 3:
            names[str(code)] = name
    eu_rows = indicators.imports.loc[indicators.imports["importer"] == EU]
    return Snapshot(
        key=key,
        catalogue=catalogue,
        restrictions=restrictions,
        indicators=indicators,
        builder=builder,
        focus_year=year,
        focus_note=note,
        trade_years=builder.trade_years,
        production_years=builder.production_years,
        releases=builder.release_infos(),
        countries=names,
        eu_index=ImportIndex(eu_rows),
    )


# ============================================================================ overview
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


def panel_table(snap: Snapshot, store: Store, year: int, strategic_only: bool) -> Table:
    rows = [r for r in snap.panel(year, store) if r.strategic or not strategic_only]
    return Table(
        name="panel",
        title=(
            f"CRMA panel {year}: largest single third-country share of EU27 extra-EU imports "
            "(main stage, by mass)"
        ),
        columns=PANEL_COLUMNS,
        rows=[
            {
                "material_id": r.material_id,
                "name": r.name,
                "strategic": r.strategic,
                "stage_label": r.stage_label,
                "hs_codes": ", ".join(r.hs_codes),
                "country": r.country,
                "share": r.share,
                "exceeds_65": r.exceeds_65,
                "total_t": r.total_t,
                "suppliers": r.suppliers,
                "status": r.status,
                "note": "; ".join(
                    x
                    for x in (
                        r.note,
                        f"data of {r.data_from}" if r.data_from else "",
                        (f"other stages above 65%: {', '.join(r.other_stages_over)}")
                        if r.other_stages_over
                        else "",
                    )
                    if x
                ),
            }
            for r in rows
        ],
        source=snap.citation("trade"),
        year=str(year),
    )


def panel_figure(snap: Snapshot, store: Store, year: int, strategic_only: bool) -> charts.Figure:
    rows = [r for r in snap.panel(year, store) if r.strategic or not strategic_only]
    return charts.crma_panel(
        [
            charts.PanelBar(
                label=("★ " if p.strategic and not strategic_only else "") + p.name,
                share=p.share,
                country=p.country_label,
                status=p.status,
                note=p.note,
            )
            for p in rows
        ],
        year,
    )


DEPENDENCY_COLUMNS = [
    Column("material_id", "Material", "material", export_label="material id"),
    Column("stage", "Stage"),
    Column("country", "Supplier", "country", export_label="country (ISO3)"),
    Column("share", "Share of EU27 imports", "share", export_label="share (mass, 0-1)"),
    Column("total_t", "EU27 imports (t)", "num"),
    Column("hhi", "HHI", "hhi"),
]


def dependencies_table(snap: Snapshot, year: int, limit: int = 12) -> Table:
    """Material stages whose EU27 imports depend most on one third country (mass basis)."""
    imports = snap.indicators.imports
    frame = imports.loc[
        (imports["importer"] == EU)
        & (imports["basis"] == "mass")
        & (imports["year"] == year)
        & (imports["total"] >= THIN_TONNES)
        & imports["top_third_share"].notna()
    ].sort_values("top_third_share", ascending=False)
    rows: list[dict[str, Any]] = []
    for row in frame.itertuples():
        material_id, stage_name = str(row.code_group).split("/", 1)
        material = snap.catalogue.get(material_id)
        if material.group and material.group in snap.catalogue:  # members repeat their group
            continue
        stage = material.stage(stage_name)
        rows.append(
            {
                "material_id": material_id,
                "stage": stage.label,
                "country": row.top_third_country,
                "share": fnum(row.top_third_share),
                "total_t": fnum(row.total),
                "hhi": fnum(row.hhi),
            }
        )
        if len(rows) >= limit:
            break
    return Table(
        name="dependencies",
        title=f"Strongest single-country dependencies of the EU27, {year} (by mass, ≥ 50 t)",
        columns=DEPENDENCY_COLUMNS,
        rows=rows,
        source=snap.citation("trade"),
        year=str(year),
    )


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


def restrictions_table(
    snap: Snapshot, rows: list[RestrictionRow], title: str, limit: int | None = None
) -> Table:
    ordered = sorted(rows, key=lambda r: r.effective or r.announced or "", reverse=True)
    if limit is not None:
        ordered = ordered[:limit]
    return Table(
        name="restrictions",
        title=title,
        columns=RESTRICTION_COLUMNS,
        rows=[
            {
                "effective": r.effective or (f"announced {r.announced}" if r.announced else None),
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
            + max((r.status_as_of for r in rows), default="–")
            + "); EU27 exposure: "
            + snap.citation("trade")
        ),
        notes=[
            "EU27 share before/after: share of the EU27's imports of the affected HS codes "
            "(by value) from the restricting country in the year before the measure and the "
            "latest year after it."
        ],
    )


# ============================================================================ material page
@dataclass
class MaterialView:
    """A material page for one year and stage."""

    material: Material
    source: Material
    data_note: str | None
    year: int
    section: MaterialSection
    stage: StageInfo | None
    stages: list[StageInfo]
    figures: dict[str, charts.Figure]
    production_figure: str | None
    sources_figure: str | None
    trend_figure: str | None
    tables: dict[str, Table]
    panel: PanelRow | None


def material_view(
    snap: Snapshot, store: Store, material: Material, year: int, stage: str | None
) -> MaterialView:
    builder = snap.builder_for(year)
    section = builder.section(material, full=True)
    source = section.data_material
    stages = section.stages
    chosen = section.main_stage
    if stage:
        chosen = next((s for s in stages if s.name == stage), None)
        if chosen is None:
            raise UnknownNameError("stage", stage, [s.name for s in stages])
    sources_figure = trend_figure = None
    member_states = section.member_states
    if chosen is not None and chosen is not section.main_stage:
        sources_figure = (
            builder.sources_chart(source, chosen, material.id) if chosen.codes_present else None
        )
        member_states = builder.member_states(source, chosen) if chosen.codes_present else []
        trend_figure = builder.trend_chart(source, chosen, section.production, material.id)
    else:
        sources_figure, trend_figure = section.sources_figure, section.trend_figure
    production_figure = section.production[0].figure_id if section.production else None
    tables: dict[str, Table] = {}
    if section.production:
        tables["production"] = production_table(snap, material, section, year)
    if chosen is not None and chosen.codes_present:
        tables["sources"] = sources_table(snap, source, material, chosen, year)
        tables["sources-trend"] = sources_trend_table(snap, source, material, chosen, builder)
        tables["member-states"] = member_states_table(snap, material, chosen, member_states, year)
    tables["trend"] = trend_table(snap, source, material, chosen, section, builder)
    tables["stages"] = stages_table(snap, material, stages, year)
    tables["restrictions"] = restrictions_table(
        snap, section.restrictions, f"Export restrictions on {material.name}"
    )
    panel = next((p for p in snap.panel(year, store) if p.material_id == material.id), None)
    return MaterialView(
        material=material,
        source=source,
        data_note=section.data_note,
        year=year,
        section=section,
        stage=chosen,
        stages=stages,
        figures=builder.figures,
        production_figure=production_figure,
        sources_figure=sources_figure,
        trend_figure=trend_figure,
        tables=tables,
        panel=panel,
    )


def production_table(
    snap: Snapshot, material: Material, section: MaterialSection, year: int
) -> Table:
    block = section.production[0]
    shares = snap.indicators.production_shares
    frame = shares.loc[
        (shares["commodity"] == block.commodity) & (shares["year"] == block.year)
    ].sort_values("rank")
    notes = []
    if block.year != year:
        notes.append(f"No production data for {year}: {block.year} is shown.")
    return Table(
        name="production",
        title=f"World production of {block.label} ({block.commodity}) by country, {block.year}",
        columns=[
            Column("rank", "Rank", "int"),
            Column("country", "Country", "country", export_label="country (ISO3)"),
            Column("quantity", f"Quantity ({block.unit})", "num"),
            Column("share", "Share of world", "share"),
            Column("estimated", "Estimated", "bool"),
        ],
        rows=[
            {
                "rank": _whole(r.rank),
                "country": str(r.country),
                "quantity": fnum(r.quantity),
                "share": fnum(r.share),
                "estimated": bool(r.estimated),
            }
            for r in frame.itertuples()
        ],
        source=snap.citation("production"),
        year=str(block.year),
        notes=notes,
    )


def _eu_sources(snap: Snapshot, source: Material, stage: StageInfo) -> pd.DataFrame:
    frame: pd.DataFrame | None = snap.builder.tables.eu_sources.get(f"{source.id}/{stage.name}")
    return frame if frame is not None else pd.DataFrame()


def sources_table(
    snap: Snapshot, source: Material, material: Material, stage: StageInfo, year: int
) -> Table:
    frame = _eu_sources(snap, source, stage)
    rows: list[dict[str, Any]] = []
    eu = snap.builder.tables.index
    if len(frame):
        focus = frame.loc[frame["year"] == year]
        tonnes = float(focus["quantity_t"].sum())
        value = float(focus["value_kusd"].sum())
        for r in focus.sort_values(
            ["quantity_t", "value_kusd"], ascending=False, na_position="last"
        ).itertuples():
            q, v = fnum(r.quantity_t), fnum(r.value_kusd)
            rows.append(
                {
                    "country": str(r.origin),
                    "quantity_t": q,
                    "share_mass": q / tonnes if q is not None and tonnes > 0 else None,
                    "value_kusd": v,
                    "share_value": v / value if v is not None and value > 0 else None,
                }
            )
    fig = eu.figure(f"{source.id}/{stage.name}", EU, "mass", year)
    notes = [f"HS {', '.join(stage.codes_present)} ({stage.label})."]
    if fig is not None and fig.missing_value_share and fig.missing_value_share >= 5e-4:
        notes.append(
            f"{fig.missing_value_share:.1%} of the import value has no quantity in BACI "
            "and is left out of the mass shares."
        )
    return Table(
        name="sources",
        title=f"EU27 extra-EU imports of {material.name} · {stage.label} by origin, {year}",
        columns=[
            Column("country", "Origin", "country", export_label="origin (ISO3)"),
            Column("quantity_t", "Tonnes", "num", export_label="quantity (t)"),
            Column("share_mass", "Share (mass)", "share"),
            Column("value_kusd", "Value (kUSD)", "num", export_label="value (thousand USD)"),
            Column("share_value", "Share (value)", "share"),
        ],
        rows=rows,
        source=snap.citation("trade"),
        year=str(year),
        notes=notes,
    )


def sources_trend_table(
    snap: Snapshot, source: Material, material: Material, stage: StageInfo, builder: ReportBuilder
) -> Table:
    frame = _eu_sources(snap, source, stage)
    years = builder.trend_years
    rows: list[dict[str, Any]] = []
    if len(frame):
        window = frame.loc[frame["year"].isin(years)]
        for r in window.sort_values(["year", "quantity_t"], ascending=[True, False]).itertuples():
            rows.append(
                {
                    "year": _whole(r.year),
                    "country": str(r.origin),
                    "quantity_t": fnum(r.quantity_t),
                    "value_kusd": fnum(r.value_kusd),
                }
            )
    return Table(
        name="sources-trend",
        title=(
            f"EU27 extra-EU imports of {material.name} · {stage.label} by origin, "
            f"{years[0]}–{years[-1]}"
        ),
        columns=[
            Column("year", "Year", "year"),
            Column("country", "Origin", "country", export_label="origin (ISO3)"),
            Column("quantity_t", "Tonnes", "num", export_label="quantity (t)"),
            Column("value_kusd", "Value (kUSD)", "num", export_label="value (thousand USD)"),
        ],
        rows=rows,
        source=snap.citation("trade"),
        year=f"{years[0]}–{years[-1]}",
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


def member_states_table(
    snap: Snapshot, material: Material, stage: StageInfo, rows: list[Any], year: int
) -> Table:
    return Table(
        name="member-states",
        title=(
            f"Member States importing most {material.name} · {stage.label}, {year} "
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
        rows=[
            {
                "country": r.iso3,
                "total_t": r.total_t,
                "share_of_ms_total": r.share_of_ms_total,
                "top_supplier": r.top_supplier,
                "top_share": r.top_share,
                "top_third_country": r.top_third_country,
                "top_third_share": r.top_third_share,
                "exceeds_65": r.exceeds_65,
            }
            for r in rows
        ],
        source=snap.citation("trade"),
        year=str(year),
        notes=["Supply from other Member States counts; only third countries trip the 65% flag."],
    )


def trend_table(
    snap: Snapshot,
    source: Material,
    material: Material,
    stage: StageInfo | None,
    section: MaterialSection,
    builder: ReportBuilder,
) -> Table:
    years: set[int] = set(builder.trend_years)
    prod: dict[int, float] = {}
    if section.production:
        frame = snap.builder.tables.production.get(section.production[0].commodity)
        if frame is not None:
            prod = {_whole(y): float(v) for y, v in frame["hhi"].items() if fnum(v) is not None}
            years |= set(prod)
    hhi: dict[int, float] = {}
    top: dict[int, float] = {}
    if stage is not None:
        group = f"{source.id}/{stage.name}"
        hhi = snap.builder.tables.series(group, EU, "mass", "hhi")
        top = snap.builder.tables.series(group, EU, "mass", "top_third_share")
    ordered = sorted(y for y in years if y in prod or y in hhi)
    return Table(
        name="trend",
        title=f"Concentration of {material.name}: world production and EU27 imports",
        columns=[
            Column("year", "Year", "year"),
            Column("production_hhi", "HHI world production", "hhi"),
            Column("import_hhi", "HHI EU27 imports (mass)", "hhi"),
            Column("top_third_share", "Largest third-country share", "share"),
        ],
        rows=[
            {
                "year": y,
                "production_hhi": prod.get(y),
                "import_hhi": hhi.get(y),
                "top_third_share": top.get(y),
            }
            for y in ordered
        ],
        source=f"{snap.citation('production')}; {snap.citation('trade')}",
        year=f"{ordered[0]}–{ordered[-1]}" if ordered else "",
        notes=[
            "HHI: sum of squared shares (0–1); 0.25 and above is highly concentrated."
            + (f" EU27 import figures for the stage {stage.label}." if stage else "")
        ],
    )


def stages_table(snap: Snapshot, material: Material, stages: list[StageInfo], year: int) -> Table:
    return Table(
        name="stages",
        title=f"EU27 imports of {material.name} by value-chain stage, {year}",
        columns=[
            Column("stage", "Stage"),
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
            for s in stages
        ],
        source=snap.citation("trade"),
        year=str(year),
    )


def _top_third(stage: StageInfo) -> str | None:
    figure = stage.mass or stage.value
    return figure.top_third_country if figure is not None else None


def _whole(value: Any) -> int:
    return int(str(value)) if not isinstance(value, int | float) else int(value)


# ============================================================================ country page
@dataclass
class CountryView:
    iso3: str
    name: str
    year: int
    groups: list[tuple[str, str]]
    tables: dict[str, Table]
    figures: dict[str, charts.Figure]
    eu_value_kusd: float | None
    eu_share_value: float | None
    restrictions: list[RestrictionRow]


def resolve_country_code(snap: Snapshot, text: str) -> str:
    code = text.strip().upper()
    if code in snap.countries:
        return code
    return resolve_country(text)


def country_view(snap: Snapshot, store: Store, iso3: str, year: int) -> CountryView:
    name = country_name(iso3)
    groups = []
    for group in memberships(iso3):
        try:
            groups.append((group, group_info(group).label))
        except UnknownNameError:
            groups.append((group, group))
    supply = country_supply_table(snap, iso3, year)
    production = country_production_table(snap, iso3, year)
    governance = governance_table(snap, store, iso3)
    flows = snap.indicators.import_flows
    eu_flows = flows.loc[(flows["importer"] == EU) & (flows["year"] == year)]
    total = float(eu_flows["value_kusd"].sum())
    mine = float(eu_flows.loc[eu_flows["origin"] == iso3, "value_kusd"].sum())
    figures: dict[str, charts.Figure] = {}
    if supply.rows:
        figures["supply"] = supply_figure(supply, name, year)
    if governance.rows:
        figures["governance"] = governance_figure(governance, name)
    restrictions = [r for r in snap.builder.restriction_rows if r.country == iso3]
    return CountryView(
        iso3=iso3,
        name=name,
        year=year,
        groups=groups,
        tables={
            "supply": supply,
            "production": production,
            "governance": governance,
            "restrictions": restrictions_table(
                snap, restrictions, f"Export restrictions registered for {name}"
            ),
        },
        figures=figures,
        eu_value_kusd=mine if total else None,
        eu_share_value=mine / total if total else None,
        restrictions=restrictions,
    )


def country_supply_table(snap: Snapshot, iso3: str, year: int) -> Table:
    sources = snap.indicators.import_sources
    mine = sources.loc[
        (sources["importer"] == EU) & (sources["year"] == year) & (sources["origin"] == iso3)
    ]
    rows: list[dict[str, Any]] = []
    index = snap.eu_index
    for r in mine.itertuples():
        material_id, stage_name = str(r.code_group).split("/", 1)
        material = snap.catalogue.get(material_id)
        if material.group and material.group in snap.catalogue:
            continue
        mass = index.figure(str(r.code_group), EU, "mass", year)
        value = index.figure(str(r.code_group), EU, "value", year)
        q, v = fnum(r.quantity_t), fnum(r.value_kusd)
        rows.append(
            {
                "material_id": material_id,
                "name": material.name,
                "stage": material.stage(stage_name).label,
                "critical": "strategic"
                if material.strategic
                else ("critical" if material.critical else ""),
                "quantity_t": q,
                "share_mass": q / mass.total if q is not None and mass and mass.total else None,
                "value_kusd": v,
                "share_value": v / value.total if v is not None and value and value.total else None,
                "top": bool(mass and mass.top_third_country == iso3),
            }
        )
    rows.sort(key=lambda row: -(row["share_value"] or 0.0))
    return Table(
        name="supply",
        title=f"What the EU27 imports from {country_name(iso3)}, {year}",
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
        rows=rows,
        source=snap.citation("trade"),
        year=str(year),
        notes=["Shares of EU27 extra-EU imports of each catalogued stage's HS codes."],
    )


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def supply_figure(table: Table, name: str, year: int, top: int = 15) -> charts.Figure:
    rows = [r for r in table.rows if r["share_value"] is not None][:top]
    labels = [_short(f"{r['name']} · {r['stage']}", 48) for r in rows]
    values = [round(r["share_value"], 4) for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": values,
                "text": [f"{v:.0%}" for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {
                    "color": [charts.OVER_COLOUR if v > LIMIT else charts.OK_COLOUR for v in values]
                },
                "hovertemplate": "%{y}: %{x:.1%}<extra></extra>",
            }
        ],
        "layout": {
            "height": 80 + 24 * len(rows),
            "margin": {"l": 10, "r": 40, "t": 20, "b": 40},
            "font": {"family": charts.FONT, "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {
                "range": [0, 1.12],
                "tickformat": ".0%",
                "automargin": True,
                "gridcolor": "#e5e7eb",
                "title": {"text": f"share of EU27 extra-EU imports by value from {name}, {year}"},
            },
            "yaxis": {"autorange": "reversed", "automargin": True, "ticksuffix": " "},
        },
    }


def country_production_table(snap: Snapshot, iso3: str, year: int) -> Table:
    shares = snap.indicators.production_shares
    latest = min(year, snap.production_years[1])
    mine = shares.loc[
        (shares["country"] == iso3) & (shares["year"] == latest) & (shares["quantity"] > 0)
    ]
    rows = [
        {
            "material_id": m.id
            if (m := snap.catalogue.by_wmd_commodity(str(r.commodity)))
            else None,
            "commodity": str(r.commodity),
            "quantity": fnum(r.quantity),
            "unit": str(r.unit),
            "share": fnum(r.share),
            "rank": _whole(r.rank),
        }
        for r in mine.sort_values("share", ascending=False).itertuples()
    ]
    return Table(
        name="production",
        title=f"World production: {country_name(iso3)}'s share by commodity, {latest}",
        columns=[
            Column("material_id", "Material", "material", export_label="material id"),
            Column("commodity", "WMD commodity"),
            Column("quantity", "Quantity", "num"),
            Column("unit", "Unit"),
            Column("share", "Share of world", "share"),
            Column("rank", "World rank", "int"),
        ],
        rows=rows,
        source=snap.citation("production"),
        year=str(latest),
        notes=[] if latest == year else [f"No production data for {year}: {latest} is shown."],
    )


def governance_table(snap: Snapshot, store: Store, iso3: str) -> Table:
    rows = store.con.execute(
        "SELECT year, indicator, estimate, lower, upper, percentile FROM governance "
        "WHERE country = ? ORDER BY indicator, year",
        [iso3],
    ).fetchall()
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
        rows=[
            {
                "year": int(r[0]),
                "indicator": str(r[1]),
                "estimate": fnum(r[2]),
                "lower": fnum(r[3]),
                "upper": fnum(r[4]),
                "percentile": fnum(r[5]),
            }
            for r in rows
        ],
        source=snap.citation("governance"),
        year=f"{rows[0][0]}–{rows[-1][0]}" if rows else "",
        notes=["Higher is more stable; the band is the 90% confidence interval."],
    )


def governance_figure(table: Table, name: str) -> charts.Figure:
    rows = [r for r in table.rows if r["estimate"] is not None]
    years = [r["year"] for r in rows]
    band = {"width": 0}
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": years,
                "y": [r["upper"] for r in rows],
                "line": band,
                "hoverinfo": "skip",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": years,
                "y": [r["lower"] for r in rows],
                "fill": "tonexty",
                "fillcolor": "rgba(59,110,168,0.15)",
                "line": band,
                "name": "90% interval",
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": years,
                "y": [r["estimate"] for r in rows],
                "line": {"color": charts.OK_COLOUR, "width": 2},
                "marker": {"size": 4},
                "name": "estimate",
                "hovertemplate": "%{x}: %{y:.2f}<extra></extra>",
            },
        ],
        "layout": {
            "height": 280,
            "margin": {"l": 10, "r": 20, "t": 20, "b": 40},
            "font": {"family": charts.FONT, "size": 12},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False,
            "xaxis": {"automargin": True, "gridcolor": "#eef0f3"},
            "yaxis": {
                "range": [-2.5, 2.5],
                "zeroline": True,
                "zerolinecolor": "#9ca3af",
                "gridcolor": "#eef0f3",
                "automargin": True,
                "title": {"text": f"{name}: political stability (WGI)"},
            },
        },
    }


# ============================================================================ search
@dataclass(frozen=True)
class Hit:
    kind: str  # material or country
    key: str
    label: str
    detail: str


def search(snap: Snapshot, query: str, limit: int = 12) -> list[Hit]:
    """Materials (id, name, aliases) and countries (name, code, aliases) matching ``query``."""
    from critmat.reference._common import name_key

    key = name_key(query)
    if not key:
        return []
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()

    def add(hit: Hit) -> None:
        if (hit.kind, hit.key) not in seen:
            seen.add((hit.kind, hit.key))
            hits.append(hit)

    def material_hit(m: Material, via: str | None = None) -> Hit:
        status = "strategic" if m.strategic else ("critical" if m.critical else "catalogue")
        detail = status + (f" · matches “{via}”" if via else "")
        return Hit("material", m.id, m.name, detail)

    try:
        resolved = snap.catalogue.resolve(query)
        add(material_hit(resolved.material))
    except UnknownNameError:
        pass
    try:
        code = resolve_country(query)
        add(Hit("country", code, country_name(code), code))
    except UnknownNameError:
        pass
    for m in snap.catalogue.materials:
        names = [m.id, m.name, *m.aliases]
        match = next((n for n in names if key in name_key(n)), None)
        if match is not None:
            add(material_hit(m, match if name_key(match) != name_key(m.name) else None))
    for code, cname in sorted(snap.countries.items(), key=lambda kv: kv[1]):
        if key in name_key(cname) or key == code.lower():
            add(Hit("country", code, cname, code))
    if not hits:
        for suggestion in snap.catalogue._suggest_ids(key):
            add(material_hit(snap.catalogue.get(suggestion), None))
    materials = [h for h in hits if h.kind == "material"]
    countries = [h for h in hits if h.kind == "country"]
    return (materials[: limit // 2 + 2] + countries)[:limit]


def material_index(
    snap: Snapshot, store: Store, year: int
) -> list[tuple[Material, PanelRow | None]]:
    """Every catalogue entry in panel order (CRMs), then the others, with its panel row."""
    panel = {p.material_id: p for p in snap.panel(year, store)}
    critical = [m for m in snap.catalogue.materials if m.critical]
    critical.sort(key=lambda m: (not m.strategic, m.name.casefold()))
    others = sorted(
        (m for m in snap.catalogue.materials if not m.critical), key=lambda m: m.name.casefold()
    )
    return [(m, panel.get(m.id)) for m in critical + others]


def stage_choices(material: Material, snap: Snapshot) -> list[tuple[str, str]]:
    source, _note = data_material(material, snap.catalogue)
    return [(s.name, s.label) for s in source.stages]


__all__ = [
    "NoDataError",
    "Snapshot",
    "WebData",
    "production_commodities",
]
