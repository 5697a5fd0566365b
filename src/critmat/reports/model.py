"""What the HTML report shows, assembled from one full indicator refresh.

Everything here is computed by :mod:`critmat.indicators` (via :func:`refresh_all`); this module
only selects, ranks and labels the rows for the page, and builds the chart specifications.
Nothing is formatted for a screen except chart labels (the template formats numbers).

Choices the page explains to its reader (section "Method"):

- *Focus year*: the latest year that has both production (WMD) and trade (BACI) rows, unless
  the caller names one.
- *Main stage* of a material (the one the CRMA panel and the summary use): the first catalogued
  stage (catalogue order: extraction, then intermediate and processing, ...) with EU27 imports
  on a mass basis in the focus year whose HS codes are not shared with an unrelated material
  (261590 carries niobium, tantalum and vanadium ores; 261690 PGM and gold ores), else the first
  stage with such imports, else the first with imports by value, else the first whose codes
  are in the trade release.
- CRMA entries without data of their own (HREE, LREE) show the data of their group entry
  (rare earths), and say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from critmat.indicators import panel as crma
from critmat.indicators.panel import (
    EU,
    ImportFigure,
    ImportIndex,
    PanelRow,
    StageInfo,
    _int,
    _str,
    data_material,
    fnum,
)
from critmat.indicators.panel import PARTIAL_VALUE_SHARE as PARTIAL_VALUE_SHARE
from critmat.indicators.panel import THIN_TONNES as THIN_TONNES
from critmat.indicators.panel import country_name as country_name
from critmat.indicators.refresh import Indicators
from critmat.indicators.restrictions import exposure_summary
from critmat.reference.materials import Catalogue, Material, Stage
from critmat.reference.restrictions import Restriction
from critmat.reports import charts
from critmat.store import Release, Store

#: Years shown in the time-series charts (the latest ``TREND_YEARS`` of the trade release).
TREND_YEARS = 15
#: Origins shown separately in the EU-sources chart (the focus year's top three, then the
#: largest over the years shown; the rest is "Other origins").
TOP_ORIGINS = 7
#: Producers shown separately in the production chart (the rest is "Rest of world").
TOP_PRODUCERS = 10
#: Member States listed in the focus-year breakdown of a material.
TOP_MEMBER_STATES = 10

Progress = Callable[[str], None]


# ------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class ReleaseInfo:
    """A current release as the provenance table shows it."""

    dataset: str
    source: str
    version: str
    years: str
    licence: str
    sha256: str
    rows: int
    retrieved_at: str
    imported_at: str
    notes: tuple[str, ...]
    citation: str
    used: bool


@dataclass(frozen=True)
class ProductionBlock:
    """World production of one WMD commodity in the focus (or latest) year."""

    commodity: str
    label: str
    unit: str
    year: int
    total: float | None
    producers: int | None
    top_country: str | None
    top_share: float | None
    top3_share: float | None
    hhi: float | None
    estimated_share: float | None
    figure_id: str


@dataclass(frozen=True)
class MemberStateRow:
    """A Member State's imports of a material's main stage in the focus year (mass basis)."""

    iso3: str
    name: str
    total_t: float | None
    share_of_ms_total: float | None
    top_supplier: str | None
    top_share: float | None
    top_third_country: str | None
    top_third_share: float | None
    exceeds_65: bool


@dataclass(frozen=True)
class RestrictionRow:
    """A registered export restriction with EU27 exposure before and after it took effect."""

    id: str
    country: str
    country_label: str
    materials: tuple[str, ...]
    material_names: tuple[str, ...]
    measure: str
    title: str
    announced: str | None
    effective: str | None
    suspended: str | None
    ended: str | None
    status: str
    in_force: bool
    targets: tuple[str, ...]
    hs_precision: str
    status_as_of: str
    confidence: str
    hs_codes: tuple[str, ...]
    sources: tuple[str, ...]
    notes: str
    value_before: float | None
    value_after: float | None
    mass_before: float | None
    mass_after: float | None
    year_before: int | None
    year_after: int | None


@dataclass
class MaterialSection:
    """Everything the report shows about one material."""

    material: Material
    anchor: str
    data_material: Material
    data_note: str | None
    stages: list[StageInfo]
    main_stage: StageInfo | None
    production: list[ProductionBlock]
    sources_figure: str | None
    trend_figure: str | None
    member_states: list[MemberStateRow]
    restrictions: list[RestrictionRow]
    import_reliance: float | None
    ir_out_of_range: bool
    ir_stage: str | None
    notes: list[str]
    panel: PanelRow

    @property
    def restrictions_in_force(self) -> int:
        return sum(1 for r in self.restrictions if r.in_force)

    @property
    def primary_production(self) -> ProductionBlock | None:
        return self.production[0] if self.production else None


@dataclass
class ReportModel:
    """The whole report: header facts, sections, figures (id → plotly spec)."""

    generated_at: datetime
    focus_year: int
    focus_year_note: str
    trade_years: tuple[int, int]
    trend_years: list[int]
    production_years: tuple[int, int]
    releases: list[ReleaseInfo]
    coverage: list[dict[str, Any]]
    panel: list[PanelRow]
    panel_figure: str
    critical: list[MaterialSection]
    others: list[MaterialSection]
    restrictions: list[RestrictionRow]
    catalogue_sources: list[str]
    figures: dict[str, charts.Figure] = field(default_factory=dict)

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


# ------------------------------------------------------------------------------------ builder
def focus_year(store: Store, requested: int | None) -> tuple[int, str]:
    """The report year and a sentence saying how it was chosen."""
    from critmat.errors import CritmatError, NoDataError

    row = store.con.execute(
        """
        SELECT max(p.year) FROM (SELECT DISTINCT year FROM production WHERE quantity IS NOT NULL) p
        JOIN (SELECT DISTINCT year FROM trade) t USING (year)
        """
    ).fetchone()
    latest = None if row is None or row[0] is None else int(row[0])
    if requested is None:
        if latest is None:
            raise NoDataError(
                "the store has no year with both production and trade data",
                hint="run `critmat data pull` to import the default data",
            )
        return latest, (
            f"{latest} is the latest year with both world production (WMD) and trade (BACI) data"
        )
    span = store.con.execute("SELECT min(year), max(year) FROM trade").fetchone()
    if span is None or span[0] is None:
        raise NoDataError("the store has no trade data", hint="run `critmat data pull`")
    if not int(span[0]) <= requested <= int(span[1]):
        raise CritmatError(
            f"year {requested} is outside the trade data ({span[0]}–{span[1]})",
            hint=f"choose a year from {span[0]} to {span[1]}"
            + (f"; {latest} has production and trade data" if latest else ""),
        )
    note = f"{requested} was chosen for this report"
    if latest is not None and requested != latest:
        note += f" (the latest year with both production and trade data is {latest})"
    return requested, note


class _Tables:
    """Indicator frames indexed for the many small look-ups the report makes."""

    def __init__(self, ind: Indicators) -> None:
        imports = ind.imports
        self.index = ImportIndex(imports)
        eu_sources = ind.import_sources.loc[ind.import_sources["importer"] == EU]
        self.eu_sources = {key: frame for key, frame in eu_sources.groupby("code_group")}
        focus_ms = imports.loc[(imports["importer"] != EU) & (imports["basis"] == "mass")]
        self.ms_imports = {key: frame for key, frame in focus_ms.groupby("code_group")}
        self.production = {
            key: frame.set_index("year") for key, frame in ind.production.groupby("commodity")
        }
        self.production_shares = {
            key: frame for key, frame in ind.production_shares.groupby(["commodity", "year"])
        }
        cons = ind.consumption
        if len(cons):
            cons = cons.loc[cons["importer"] == EU]
        self.consumption: dict[str, pd.DataFrame] = (
            {str(key): frame for key, frame in cons.groupby("material")} if len(cons) else {}
        )

    def import_figure(
        self, group: str, importer: str, basis: str, year: int
    ) -> ImportFigure | None:
        return self.index.figure(group, importer, basis, year)

    def series(self, group: str, importer: str, basis: str, column: str) -> dict[int, float]:
        return self.index.series(group, importer, basis, column)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def anchor_for(material_id: str) -> str:
    return f"m-{material_id}"


def production_commodities(material: Material, catalogue: Catalogue) -> list[tuple[str, str]]:
    """(WMD commodity, label) pairs shown for a material; members' series for a group entry."""
    if material.wmd_commodities:
        out = [(material.wmd_commodities[0], material.name)]
        out += [(s.wmd_commodity, s.label) for s in material.stages if s.wmd_commodity]
        return out
    return [
        (m.wmd_commodity, m.name)
        for m in catalogue.members_of(material.id)
        if m.wmd_commodity is not None
    ]


class ReportBuilder:
    """Assembles a :class:`ReportModel` from the store and one :class:`Indicators` refresh."""

    def __init__(
        self,
        store: Store,
        catalogue: Catalogue,
        restrictions: Sequence[Restriction],
        indicators: Indicators,
        year: int,
        year_note: str,
        today: date | None = None,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.restrictions = list(restrictions)
        self.ind = indicators
        self.year = year
        self.year_note = year_note
        self.today = today or date.today()
        self.tables = _Tables(indicators)
        self.figures: dict[str, charts.Figure] = {}
        self.codes_in_release = {
            str(r[0]) for r in store.con.execute("SELECT DISTINCT hs6 FROM trade").fetchall()
        }
        span = store.con.execute("SELECT min(year), max(year) FROM trade").fetchone()
        assert span is not None
        self.trade_years = (int(span[0]), int(span[1]))
        pspan = store.con.execute(
            "SELECT min(year), max(year) FROM production WHERE quantity IS NOT NULL"
        ).fetchone()
        assert pspan is not None
        self.production_years = (int(pspan[0]), int(pspan[1]))
        first = max(self.trade_years[0], self.trade_years[1] - TREND_YEARS + 1)
        self.trend_years = list(range(first, self.trade_years[1] + 1))
        self.restriction_rows = self._restriction_rows()

    # -- top level ---------------------------------------------------------------------------
    def build(self, progress: Progress | None = None) -> ReportModel:
        critical = [m for m in self.catalogue.materials if m.critical]
        critical.sort(key=lambda m: (not m.strategic, m.name.casefold()))
        others = [m for m in self.catalogue.materials if not m.critical]
        others.sort(key=lambda m: m.name.casefold())
        sections = []
        for index, material in enumerate(critical, start=1):
            if progress and (index == 1 or index % 10 == 0):
                progress(f"CRM sections {index}/{len(critical)}")
            sections.append(self.section(material, full=True))
        if progress:
            progress(f"appendix: {len(others)} other catalogue materials")
        appendix = [self.section(material, full=False) for material in others]
        panel = [s.panel for s in sections]
        self.figures["crma-panel"] = charts.crma_panel(
            [
                charts.PanelBar(
                    label=("★ " if p.strategic else "") + p.name,
                    share=p.share,
                    country=p.country_label,
                    status=p.status,
                    note=p.note,
                )
                for p in panel
            ],
            self.year,
        )
        return ReportModel(
            generated_at=datetime.now().replace(microsecond=0),
            focus_year=self.year,
            focus_year_note=self.year_note,
            trade_years=self.trade_years,
            trend_years=self.trend_years,
            production_years=self.production_years,
            releases=self.release_infos(),
            coverage=self.coverage(),
            panel=panel,
            panel_figure="crma-panel",
            critical=sections,
            others=appendix,
            restrictions=self.restriction_rows,
            catalogue_sources=sorted({s for m in self.catalogue.materials for s in m.sources}),
            figures=self.figures,
        )

    def release_infos(self) -> list[ReleaseInfo]:
        order = {"production": 0, "trade": 1}
        releases = sorted(
            self.store.releases(current_only=True), key=lambda r: order.get(r.dataset, 9)
        )
        return [_release_info(r, used=r.dataset in order) for r in releases]

    def coverage(self) -> list[dict[str, Any]]:
        from critmat.store.coverage import coverage

        return coverage(self.store)

    # -- one material ------------------------------------------------------------------------
    def section(self, material: Material, *, full: bool) -> MaterialSection:
        source, data_note = data_material(material, self.catalogue)
        stages = [self.stage_info(source, stage) for stage in source.stages]
        main = self.main_stage(source, stages)
        if main is not None:
            main.is_main = True
        production = self.production_blocks(source, material.id, chart=full)
        sources_figure = trend_figure = None
        member_states: list[MemberStateRow] = []
        if full and main is not None and main.codes_present:
            sources_figure = self.sources_chart(source, main, material.id)
            member_states = self.member_states(source, main)
        if full:
            trend_figure = self.trend_chart(source, main, production, material.id)
        related = self.catalogue.related_ids(source.id) | {material.id}
        restrictions = [r for r in self.restriction_rows if related.intersection(r.materials)]
        ir, ir_out, ir_stage = self.import_reliance(
            source, production[0].commodity if production else None
        )
        panel = self.panel_row(material, source, stages, main)
        notes = self.data_notes(material, source, stages, production, panel)
        if data_note:
            notes.insert(0, data_note)
        return MaterialSection(
            material=material,
            anchor=anchor_for(material.id),
            data_material=source,
            data_note=data_note,
            stages=stages,
            main_stage=main,
            production=production,
            sources_figure=sources_figure,
            trend_figure=trend_figure,
            member_states=member_states,
            restrictions=restrictions,
            import_reliance=ir,
            ir_out_of_range=ir_out,
            ir_stage=ir_stage,
            notes=notes,
            panel=panel,
        )

    def stage_info(self, material: Material, stage: Stage) -> StageInfo:
        return crma.stage_info(material, stage, self.tables.index, self.codes_in_release, self.year)

    def shared_with(self, material: Material, stage: StageInfo) -> list[str]:
        """Names of unrelated catalogue materials that share an HS code of ``stage``."""
        return crma.shared_with(self.catalogue, material, stage)

    def main_stage(self, material: Material, stages: list[StageInfo]) -> StageInfo | None:
        """The stage the panel and the summary use (:func:`critmat.indicators.panel.main_stage`)."""
        return crma.main_stage(self.catalogue, material, stages)

    def panel_row(
        self,
        material: Material,
        source: Material,
        stages: list[StageInfo],
        main: StageInfo | None,
    ) -> PanelRow:
        return crma.panel_row(
            self.catalogue, material, source, stages, main, self.tables.index, self.year
        )

    def production_blocks(
        self, material: Material, owner_id: str, *, chart: bool
    ) -> list[ProductionBlock]:
        blocks = []
        for index, (commodity, label) in enumerate(
            production_commodities(material, self.catalogue)
        ):
            frame = self.tables.production.get(commodity)
            if frame is None or frame.empty:
                continue
            year = self.year if self.year in frame.index else int(frame.index.max())
            if year > self.year:
                earlier = [y for y in frame.index if y <= self.year]
                year = int(max(earlier)) if earlier else year
            row = frame.loc[year]
            figure_id = f"prod-{owner_id}-{index}"
            unit = str(row["unit"])
            if chart:
                self.figures[figure_id] = self.production_chart(commodity, label, unit, year)
            blocks.append(
                ProductionBlock(
                    commodity=commodity,
                    label=label,
                    unit=unit,
                    year=year,
                    total=fnum(row["total"]),
                    producers=_int(row["producers"]),
                    top_country=_str(row["top_country"]),
                    top_share=fnum(row["top_share"]),
                    top3_share=fnum(row["top3_share"]),
                    hhi=fnum(row["hhi"]),
                    estimated_share=fnum(row["estimated_share"]),
                    figure_id=figure_id if chart else "",
                )
            )
        return blocks

    def production_chart(self, commodity: str, label: str, unit: str, year: int) -> charts.Figure:
        shares = self.tables.production_shares.get((commodity, year))
        bars: list[charts.ProducerBar] = []
        if shares is not None:
            ordered = shares.sort_values("rank")
            ordered = ordered.loc[ordered["quantity"] > 0]
            top = ordered.head(TOP_PRODUCERS)
            rest = ordered.iloc[TOP_PRODUCERS:]
            for row in top.itertuples():
                bars.append(
                    charts.ProducerBar(
                        country=str(row.country),
                        name=country_name(str(row.country)),
                        share=fnum(row.share) or 0.0,
                        quantity=fnum(row.quantity) or 0.0,
                        estimated=bool(row.estimated),
                    )
                )
            if len(rest):
                bars.append(
                    charts.ProducerBar(
                        country="",
                        name=f"Rest of world ({len(rest)})",
                        share=float(rest["share"].sum()),
                        quantity=float(rest["quantity"].sum()),
                        estimated=False,
                    )
                )
        return charts.production_bars(bars, unit, year)

    def sources_chart(self, material: Material, main: StageInfo, owner_id: str) -> str | None:
        group = f"{material.id}/{main.name}"
        frame = self.tables.eu_sources.get(group)
        if frame is None or frame.empty:
            return None
        frame = frame.loc[frame["year"].isin(self.trend_years)]
        basis = "quantity_t" if frame["quantity_t"].notna().any() else "value_kusd"
        focus = frame.loc[frame["year"] == self.year].sort_values(basis, ascending=False)
        window = frame.groupby("origin")[basis].sum().sort_values(ascending=False)
        top = unique([str(o) for o in focus["origin"].head(3)] + [str(o) for o in window.index])[
            :TOP_ORIGINS
        ]
        series = []
        by_origin = frame.set_index(["origin", "year"])
        years = self.trend_years
        for origin in top:
            rows: pd.DataFrame | None = None
            if origin in by_origin.index.get_level_values(0):
                picked = by_origin.xs(origin, level="origin")
                rows = picked if isinstance(picked, pd.DataFrame) else picked.to_frame().T
            series.append(
                charts.SourceSeries(
                    country=origin,
                    name=country_name(origin),
                    tonnes=[_pick(rows, y, "quantity_t") for y in years],
                    kusd=[_pick(rows, y, "value_kusd") for y in years],
                )
            )
        other = frame.loc[~frame["origin"].isin(top)].groupby("year")
        other_t = other["quantity_t"].sum(min_count=1)
        other_v = other["value_kusd"].sum(min_count=1)
        if len(other_v):
            series.append(
                charts.SourceSeries(
                    country="",
                    name="Other origins",
                    tonnes=[fnum(other_t.get(y)) for y in years],
                    kusd=[fnum(other_v.get(y)) for y in years],
                )
            )
        figure_id = f"src-{owner_id}"
        self.figures[figure_id] = charts.sources_area(years, series, self.year)
        return figure_id

    def trend_chart(
        self,
        material: Material,
        main: StageInfo | None,
        production: list[ProductionBlock],
        owner_id: str,
    ) -> str | None:
        lines: list[charts.TrendLine] = []
        if production:
            first = production[0]
            frame = self.tables.production[first.commodity]
            years = [int(y) for y in frame.index]
            lines.append(
                charts.TrendLine(
                    name=f"HHI world production ({first.commodity})",
                    years=years,
                    values=[fnum(v) for v in frame["hhi"]],
                    colour="#6c4f8c",
                )
            )
        if main is not None:
            group = f"{material.id}/{main.name}"
            hhi = self.tables.series(group, EU, "mass", "hhi")
            top = self.tables.series(group, EU, "mass", "top_third_share")
            years = self.trend_years
            if hhi:
                lines.append(
                    charts.TrendLine(
                        name="HHI EU27 imports (mass)",
                        years=years,
                        values=[hhi.get(y) for y in years],
                        colour="#3b6ea8",
                    )
                )
                lines.append(
                    charts.TrendLine(
                        name="largest third-country share of EU27 imports",
                        years=years,
                        values=[top.get(y) for y in years],
                        colour="#c2410c",
                        dash="dot",
                    )
                )
        if not lines:
            return None
        figure_id = f"trend-{owner_id}"
        self.figures[figure_id] = charts.concentration_trend(lines, self.year)
        return figure_id

    def member_states(self, material: Material, main: StageInfo) -> list[MemberStateRow]:
        frame = self.tables.ms_imports.get(f"{material.id}/{main.name}")
        if frame is None:
            return []
        frame = frame.loc[frame["year"] == self.year].sort_values("total", ascending=False)
        grand = float(frame["total"].sum())
        rows = []
        for row in frame.head(TOP_MEMBER_STATES).itertuples():
            rows.append(
                MemberStateRow(
                    iso3=str(row.importer),
                    name=country_name(str(row.importer)),
                    total_t=fnum(row.total),
                    share_of_ms_total=(fnum(row.total) or 0.0) / grand if grand > 0 else None,
                    top_supplier=_str(row.top_supplier),
                    top_share=fnum(row.top_share),
                    top_third_country=_str(row.top_third_country),
                    top_third_share=fnum(row.top_third_share),
                    exceeds_65=bool(row.exceeds_65),
                )
            )
        return rows

    def import_reliance(
        self, material: Material, commodity: str | None
    ) -> tuple[float | None, bool, str | None]:
        """EU27 import reliance in the focus year for the material's primary WMD series."""
        frame = self.tables.consumption.get(material.id)
        if frame is None:
            return None, False, None
        rows = frame.loc[frame["year"] == self.year]
        if "commodity" in rows and commodity is not None:
            matching = rows.loc[rows["commodity"] == commodity]
            rows = matching if len(matching) else rows
        if rows.empty:
            return None, False, None
        row = rows.iloc[0]
        return fnum(row["import_reliance"]), bool(row["ir_out_of_range"]), str(row["stage"])

    def data_notes(
        self,
        material: Material,
        source: Material,
        stages: list[StageInfo],
        production: list[ProductionBlock],
        panel: PanelRow,
    ) -> list[str]:
        notes = []
        if source.notes:
            notes.append(source.notes)
        if material is not source and material.notes:
            notes.append(material.notes)
        if source.production_basis:
            notes.append(f"Production basis: {source.production_basis}.")
        for block in production:
            if block.estimated_share and block.estimated_share >= 0.005:
                notes.append(
                    f"{block.estimated_share:.0%} of {block.year} world production of "
                    f"‘{block.commodity}’ is estimated by WMD."
                )
            if block.year != self.year:
                notes.append(
                    f"‘{block.commodity}’ has no production data for {self.year}; "
                    f"{block.year} is shown."
                )
        if not production:
            notes.append("World Mining Data has no production series for this material.")
        missing = sorted({c for s in stages for c in s.codes_missing})
        if missing:
            notes.append(
                f"HS {', '.join(missing)} are catalogued but not in the current trade release "
                "(the default data carry 74 raw-material codes): those stages show no trade."
            )
        if panel.note and panel.status != "ok":
            notes.append(panel.note[0].upper() + panel.note[1:] + ".")
        for stage in stages:
            if stage.notes:
                notes.append(f"{stage.label} (HS {', '.join(stage.hs_codes)}): {stage.notes}.")
        if len(stages) and any(len(s.hs_codes) > 1 for s in stages):
            notes.append(
                "Tonnes summed over several HS codes add the gross weights of different "
                "products; compare the value basis where the codes differ in content."
            )
        return notes

    # -- restrictions ------------------------------------------------------------------------
    def _restriction_rows(self) -> list[RestrictionRow]:
        exposure = self.ind.exposure
        summaries: dict[str, dict[str, dict[str, Any]]] = {}
        for basis in ("value", "mass"):
            if exposure.empty:
                summaries[basis] = {}
                continue
            series = exposure.loc[(exposure["importer"] == EU) & (exposure["basis"] == basis)]
            summary = exposure_summary(series, self.restrictions)
            summaries[basis] = {
                str(r["restriction_id"]): {str(k): v for k, v in r.items()}
                for r in summary.to_dict(orient="records")
            }
        rows = []
        for r in sorted(self.restrictions, key=lambda r: (r.effective or date.max, r.id)):
            value = summaries["value"].get(r.id, {})
            mass = summaries["mass"].get(r.id, {})
            suspended = None
            if r.suspended_from is not None:
                suspended = f"{r.suspended_from.isoformat()} – " + (
                    r.suspended_until.isoformat() if r.suspended_until else "open"
                )
            rows.append(
                RestrictionRow(
                    id=r.id,
                    country=r.country,
                    country_label=country_name(r.country),
                    materials=tuple(r.materials),
                    material_names=tuple(self._material_name(m) for m in r.materials),
                    measure=str(r.measure),
                    title=r.title,
                    announced=_iso(r.announced),
                    effective=_iso(r.effective),
                    suspended=suspended,
                    ended=_iso(r.ended),
                    status=str(r.status),
                    in_force=r.active_on(self.today),
                    targets=tuple(r.targets),
                    hs_precision=str(r.hs_precision),
                    status_as_of=r.status_as_of.isoformat(),
                    confidence=str(r.confidence),
                    hs_codes=tuple(r.hs_codes),
                    sources=tuple(r.sources),
                    notes=r.notes or "",
                    value_before=fnum(value.get("share_before")),
                    value_after=fnum(value.get("share_after")),
                    mass_before=fnum(mass.get("share_before")),
                    mass_after=fnum(mass.get("share_after")),
                    year_before=_int(value.get("year_before")),
                    year_after=_int(value.get("year_after")),
                )
            )
        return rows

    def _material_name(self, material_id: str) -> str:
        return (
            self.catalogue.get(material_id).name if material_id in self.catalogue else material_id
        )


def _pick(rows: pd.DataFrame | None, year: int, column: str) -> float | None:
    if rows is None or year not in rows.index:
        return None
    return fnum(rows.loc[year, column])


def _release_info(release: Release, *, used: bool) -> ReleaseInfo:
    years = f"{release.year_min}–{release.year_max}" if release.year_min is not None else "–"
    return ReleaseInfo(
        dataset=release.dataset,
        source=release.source,
        version=release.version,
        years=years,
        licence=release.licence,
        sha256=release.sha256,
        rows=release.row_count,
        retrieved_at=release.retrieved_at.isoformat(sep=" ", timespec="minutes")
        if release.retrieved_at
        else "–",
        imported_at=release.imported_at.isoformat(sep=" ", timespec="minutes"),
        notes=release.notes,
        citation=release.citation(),
        used=used,
    )


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
