"""What the overview knows about one material in one year: stages, world production, EU27
sources over time, concentration trend, Member States, restrictions and data notes.

Choices explained to the reader (the report's section "Method"):

- *Main stage* of a material (the one the CRMA panel and the summary use): the rule of
  :func:`critmat.indicators.panel.main_stage`.
- CRMA entries without data of their own (HREE, LREE) show the data of their group entry
  (rare earths), and say so (``data_note``).

Shares are fractions 0–1, tonnes are metric tonnes (gross weight of the HS codes), values
thousand USD (BACI); production quantities are in the unit World Mining Data gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from pydantic import ConfigDict

from critmat.indicators import panel as crma
from critmat.indicators.panel import EU, PanelRow, StageInfo, _str, country_name, fnum
from critmat.reference.materials import Catalogue, Material, Stage
from critmat.services.overview.basis import OverviewBasis
from critmat.services.overview.restrictions import RestrictionRow
from critmat.services.statistics_base import production_figures
from critmat.services.statistics_models import CommodityYear, ProductionFigures

#: Origins shown separately in the EU-sources series (the year's top three, then the largest
#: over the years shown; the rest is "Other origins").
TOP_ORIGINS = 7
#: Producers shown separately in the production shares (the rest is "Rest of world").
TOP_PRODUCERS = 10
#: Member States listed in the year's breakdown of a material.
TOP_MEMBER_STATES = 10


@dataclass(frozen=True)
class ProducerShare:
    """One producer's share of world production (``country`` "" for the rest of the world)."""

    country: str
    name: str
    share: float
    quantity: float
    estimated: bool


class ProductionBlock(ProductionFigures, CommodityYear):
    """World production of one WMD commodity in the year (or the latest earlier one), as the
    API's production answer has it (:class:`~critmat.services.statistics_models.CommodityYear`
    and :class:`~critmat.services.statistics_models.ProductionFigures`; ``producers``: how many
    countries produce); ``label``: the commodity's name on the page; ``shares``: the largest
    producers and the rest of the world (empty when not asked for); ``figure_id``: the key of
    its chart ("" without one)."""

    model_config = ConfigDict(frozen=True)

    label: str
    figure_id: str
    shares: tuple[ProducerShare, ...] = ()


@dataclass(frozen=True)
class OriginSeries:
    """Yearly EU27 extra-EU imports from one origin ("" for the other origins)."""

    country: str
    name: str
    tonnes: tuple[float | None, ...]
    kusd: tuple[float | None, ...]


@dataclass(frozen=True)
class EuSources:
    """EU27 imports of a stage by origin over ``years`` (the year's largest origins first)."""

    years: tuple[int, ...]
    origins: tuple[OriginSeries, ...]


@dataclass(frozen=True)
class Series:
    """Values by year (``None``: no figure)."""

    years: tuple[int, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ConcentrationTrend:
    """HHI of world production (of ``commodity``), HHI of EU27 imports (mass) of the stage and
    the largest third-country share of them."""

    commodity: str | None
    production_hhi: Series | None
    import_hhi: Series | None
    top_third_share: Series | None


@dataclass(frozen=True)
class MemberStateRow:
    """A Member State's imports of a material's stage in the year (mass basis)."""

    iso3: str
    name: str
    total_t: float | None
    share_of_ms_total: float | None
    top_supplier: str | None
    top_share: float | None
    top_third_country: str | None
    top_third_share: float | None
    exceeds_65: bool


@dataclass
class MaterialSection:
    """Everything the overview shows about one material in one year.

    ``sources_figure``/``trend_figure``: keys of the charts of ``sources``/``trend`` (``None``
    when there is nothing to draw)."""

    material: Material
    data_material: Material
    data_note: str | None
    year: int
    stages: list[StageInfo]
    main_stage: StageInfo | None
    production: list[ProductionBlock]
    sources: EuSources | None
    sources_figure: str | None
    trend: ConcentrationTrend | None
    trend_figure: str | None
    member_states: list[MemberStateRow]
    restrictions: list[RestrictionRow]
    import_reliance: float | None
    ir_out_of_range: bool
    ir_stage: str | None
    notes: list[str]
    panel: PanelRow

    @property
    def anchor(self) -> str:
        """The key of the section (the report links to it)."""
        return f"m-{self.material.id}"

    @property
    def restrictions_in_force(self) -> int:
        return sum(1 for r in self.restrictions if r.in_force)

    @property
    def primary_production(self) -> ProductionBlock | None:
        return self.production[0] if self.production else None


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


class SectionBuilder:
    """Builds :class:`MaterialSection` objects for ``year`` from a basis."""

    def __init__(
        self, basis: OverviewBasis, year: int, restriction_rows: list[RestrictionRow]
    ) -> None:
        self.basis = basis
        self.catalogue = basis.catalogue
        self.tables = basis.tables
        self.year = year
        self.trend_years = basis.trend_years
        self.restriction_rows = restriction_rows

    def section(self, material: Material, *, full: bool) -> MaterialSection:
        """The section of ``material``; ``full`` adds the series behind the charts."""
        source, data_note = crma.data_material(material, self.catalogue)
        stages = [self.stage_info(source, stage) for stage in source.stages]
        main = crma.main_stage(self.catalogue, source, stages)
        if main is not None:
            main.is_main = True
        production = self.production_blocks(source, material.id, chart=full)
        sources: EuSources | None = None
        trend: ConcentrationTrend | None = None
        member_states: list[MemberStateRow] = []
        if full and main is not None and main.codes_present:
            sources = self.eu_sources(source, main)
            member_states = self.member_states(source, main)
        if full:
            trend = self.trend(source, main, production)
        related = self.catalogue.related_ids(source.id) | {material.id}
        restrictions = [r for r in self.restriction_rows if related.intersection(r.materials)]
        ir, ir_out, ir_stage = self.import_reliance(
            source, production[0].commodity if production else None
        )
        panel = crma.panel_row(
            self.catalogue, material, source, stages, main, self.tables.index, self.year
        )
        notes = self.data_notes(material, source, stages, production, panel)
        if data_note:
            notes.insert(0, data_note)
        return MaterialSection(
            material=material,
            data_material=source,
            data_note=data_note,
            year=self.year,
            stages=stages,
            main_stage=main,
            production=production,
            sources=sources,
            sources_figure=f"src-{material.id}" if sources else None,
            trend=trend,
            trend_figure=f"trend-{material.id}" if trend else None,
            member_states=member_states,
            restrictions=restrictions,
            import_reliance=ir,
            ir_out_of_range=ir_out,
            ir_stage=ir_stage,
            notes=notes,
            panel=panel,
        )

    def stage_info(self, material: Material, stage: Stage) -> StageInfo:
        return crma.stage_info(
            material, stage, self.tables.index, self.basis.codes_in_release, self.year
        )

    def production_blocks(
        self, material: Material, owner_id: str, *, chart: bool
    ) -> list[ProductionBlock]:
        """World production of each commodity of ``material`` in the year (or the latest
        earlier year with data); ``chart`` adds the producers' shares."""
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
            assert isinstance(row, pd.Series)  # the table has one row a year
            blocks.append(
                ProductionBlock(
                    commodity=commodity,
                    label=label,
                    unit=str(row["unit"]),
                    year=year,
                    **production_figures(row),
                    figure_id=f"prod-{owner_id}-{index}" if chart else "",
                    shares=self.producer_shares(commodity, year) if chart else (),
                )
            )
        return blocks

    def producer_shares(self, commodity: str, year: int) -> tuple[ProducerShare, ...]:
        """The :data:`TOP_PRODUCERS` largest producers, then the rest of the world."""
        shares = self.tables.production_shares.get((commodity, year))
        if shares is None:
            return ()
        ordered = shares.sort_values("rank")
        ordered = ordered.loc[ordered["quantity"] > 0]
        top = ordered.head(TOP_PRODUCERS)
        rest = ordered.iloc[TOP_PRODUCERS:]
        out = [
            ProducerShare(
                country=str(row.country),
                name=country_name(str(row.country)),
                share=fnum(row.share) or 0.0,
                quantity=fnum(row.quantity) or 0.0,
                estimated=bool(row.estimated),
            )
            for row in top.itertuples()
        ]
        if len(rest):
            out.append(
                ProducerShare(
                    country="",
                    name=f"Rest of world ({len(rest)})",
                    share=float(rest["share"].sum()),
                    quantity=float(rest["quantity"].sum()),
                    estimated=False,
                )
            )
        return tuple(out)

    def eu_sources(self, material: Material, stage: StageInfo) -> EuSources | None:
        """EU27 imports of ``stage`` by origin over the trend years (tonnes and kUSD)."""
        frame = self.tables.eu_sources.get(f"{material.id}/{stage.name}")
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
                OriginSeries(
                    country=origin,
                    name=country_name(origin),
                    tonnes=tuple(_pick(rows, y, "quantity_t") for y in years),
                    kusd=tuple(_pick(rows, y, "value_kusd") for y in years),
                )
            )
        other = frame.loc[~frame["origin"].isin(top)].groupby("year")
        other_t = other["quantity_t"].sum(min_count=1)
        other_v = other["value_kusd"].sum(min_count=1)
        if len(other_v):
            series.append(
                OriginSeries(
                    country="",
                    name="Other origins",
                    tonnes=tuple(fnum(other_t.get(y)) for y in years),
                    kusd=tuple(fnum(other_v.get(y)) for y in years),
                )
            )
        return EuSources(tuple(years), tuple(series))

    def trend(
        self, material: Material, stage: StageInfo | None, production: list[ProductionBlock]
    ) -> ConcentrationTrend | None:
        """Concentration over the years: world production (first commodity) and EU27 imports
        of ``stage``; ``None`` when there is neither."""
        production_hhi: Series | None = None
        commodity = production[0].commodity if production else None
        if commodity is not None:
            frame = self.tables.production[commodity]
            production_hhi = Series(
                tuple(int(y) for y in frame.index), tuple(fnum(v) for v in frame["hhi"])
            )
        import_hhi = top_share = None
        if stage is not None:
            group = f"{material.id}/{stage.name}"
            hhi = self.tables.index.series(group, EU, "mass", "hhi")
            top = self.tables.index.series(group, EU, "mass", "top_third_share")
            years = tuple(self.trend_years)
            if hhi:
                import_hhi = Series(years, tuple(hhi.get(y) for y in years))
                top_share = Series(years, tuple(top.get(y) for y in years))
        if production_hhi is None and import_hhi is None:
            return None
        return ConcentrationTrend(commodity, production_hhi, import_hhi, top_share)

    def member_states(self, material: Material, stage: StageInfo) -> list[MemberStateRow]:
        """The :data:`TOP_MEMBER_STATES` Member States importing most of ``stage`` (mass)."""
        frame = self.tables.ms_imports.get(f"{material.id}/{stage.name}")
        if frame is None:
            return []
        frame = frame.loc[frame["year"] == self.year].sort_values("total", ascending=False)
        grand = float(frame["total"].sum())
        return [
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
            for row in frame.head(TOP_MEMBER_STATES).itertuples()
        ]

    def import_reliance(
        self, material: Material, commodity: str | None
    ) -> tuple[float | None, bool, str | None]:
        """EU27 import reliance in the year for the material's primary WMD series."""
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


def _pick(rows: pd.DataFrame | None, year: int, column: str) -> float | None:
    if rows is None or year not in rows.index:
        return None
    return fnum(rows.loc[year, column])


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
