"""A material's page for one year and stage: the section of the overview plus the rows behind
each of its tables (world production by country, EU27 sources, Member States, trend, stages).

Shares are fractions 0–1; tonnes metric tonnes (gross weight of the HS codes); values thousand
USD (BACI); production quantities in the unit of World Mining Data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from critmat.exports import json_value
from critmat.indicators.panel import EU, PanelRow, StageInfo, fnum
from critmat.reference.materials import Material, Resolved
from critmat.services.overview.basis import OverviewBasis, Provenance
from critmat.services.overview.sections import (
    ConcentrationTrend,
    EuSources,
    MaterialSection,
    MemberStateRow,
    SectionBuilder,
)

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class ProducerRow:
    """A country's production of the material's primary commodity in the production year."""

    rank: int
    country: str
    quantity: float | None
    share: float | None
    estimated: bool


@dataclass(frozen=True)
class OriginRow:
    """EU27 extra-EU imports of the stage from one origin in the year."""

    country: str
    quantity_t: float | None
    share_mass: float | None
    value_kusd: float | None
    share_value: float | None


@dataclass(frozen=True)
class OriginYearRow:
    """EU27 extra-EU imports of the stage from one origin in one year of the trend."""

    year: int
    country: str
    quantity_t: float | None
    value_kusd: float | None


@dataclass(frozen=True)
class TrendRow:
    """Concentration in one year: world production HHI, EU27 import HHI (mass) of the stage
    and the largest third-country share of those imports."""

    year: int
    production_hhi: float | None
    import_hhi: float | None
    top_third_share: float | None


@dataclass
class MaterialPage:
    """A material in ``year`` on ``stage`` (the main stage unless one is asked for): its
    ``section`` of the overview and the rows of the page's tables.

    ``sources``/``member_states``/``trend`` are those of ``stage``; ``origins`` the year's
    EU27 sources of it (``missing_value_share``: the share of their import value without a
    quantity, left out of the mass shares)."""

    section: MaterialSection
    stage: StageInfo | None
    sources: EuSources | None
    member_states: list[MemberStateRow]
    trend: ConcentrationTrend | None
    producers: list[ProducerRow]
    origins: list[OriginRow]
    missing_value_share: float | None
    origins_by_year: list[OriginYearRow]
    trend_years: tuple[int, ...]
    trend_rows: list[TrendRow]
    panel: PanelRow | None
    provenance: Provenance

    @property
    def material(self) -> Material:
        return self.section.material

    @property
    def year(self) -> int:
        return self.section.year

    @property
    def source(self) -> Material:
        """The entry whose data are shown (the group entry for HREE and LREE)."""
        return self.section.data_material

    @property
    def stages(self) -> list[StageInfo]:
        return self.section.stages


def material_page(
    basis: OverviewBasis,
    builder: SectionBuilder,
    material: Material,
    stage: str | None,
    panel: list[PanelRow],
) -> MaterialPage:
    """The page of ``material`` for the builder's year on ``stage`` (named as the user wrote
    it; UnknownNameError with suggestions for a stage the material does not have), else on its
    main stage (the CRMA panel's, :func:`critmat.indicators.panel.main_stage`)."""
    section = builder.section(material, full=True)
    source = section.data_material
    chosen = section.main_stage
    if stage:
        # a named stage: the one stage rule (Catalogue.choose_stage), step 1
        named = basis.catalogue.choose_stage(Resolved(source, None), lambda _s: True, stage)
        chosen = next(s for s in section.stages if named is not None and s.name == named.name)
    if chosen is section.main_stage:
        sources, member_states, trend = section.sources, section.member_states, section.trend
    else:
        assert chosen is not None
        present = bool(chosen.codes_present)
        sources = builder.eu_sources(source, chosen) if present else None
        member_states = builder.member_states(source, chosen) if present else []
        trend = builder.trend(source, chosen, section.production)
    origins: list[OriginRow] = []
    by_year: list[OriginYearRow] = []
    missing: float | None = None
    if chosen is not None and chosen.codes_present:
        frame = _eu_sources(basis, source, chosen)
        origins = origin_rows(frame, builder.year)
        by_year = origin_year_rows(frame, builder.trend_years)
        figure = basis.tables.index.figure(f"{source.id}/{chosen.name}", EU, "mass", builder.year)
        missing = figure.missing_value_share if figure is not None else None
    return MaterialPage(
        section=section,
        stage=chosen,
        sources=sources,
        member_states=member_states,
        trend=trend,
        producers=producer_rows(basis, section),
        origins=origins,
        missing_value_share=missing,
        origins_by_year=by_year,
        trend_years=tuple(builder.trend_years),
        trend_rows=trend_rows(basis, source, chosen, section, builder.trend_years),
        panel=next((p for p in panel if p.material_id == material.id), None),
        provenance=basis.provenance("production", "trade"),
    )


def producer_rows(basis: OverviewBasis, section: MaterialSection) -> list[ProducerRow]:
    """Every producer of the primary commodity in its production year, by rank."""
    if not section.production:
        return []
    block = section.production[0]
    shares = basis.indicators.production_shares
    frame = shares.loc[
        (shares["commodity"] == block.commodity) & (shares["year"] == block.year)
    ].sort_values("rank")
    return frame_rows(ProducerRow, frame, ["rank", "country", "quantity", "share", "estimated"])


def _eu_sources(basis: OverviewBasis, source: Material, stage: StageInfo) -> pd.DataFrame:
    frame = basis.tables.eu_sources.get(f"{source.id}/{stage.name}")
    return frame if frame is not None else pd.DataFrame()


def origin_rows(frame: pd.DataFrame, year: int) -> list[OriginRow]:
    """The year's origins, largest tonnage first, with their shares of mass and value."""
    if not len(frame):
        return []
    focus = frame.loc[frame["year"] == year]
    tonnes = float(focus["quantity_t"].sum())
    value = float(focus["value_kusd"].sum())
    rows = []
    for r in focus.sort_values(
        ["quantity_t", "value_kusd"], ascending=False, na_position="last"
    ).itertuples():
        q, v = fnum(r.quantity_t), fnum(r.value_kusd)
        rows.append(
            OriginRow(
                country=str(r.origin),
                quantity_t=q,
                share_mass=q / tonnes if q is not None and tonnes > 0 else None,
                value_kusd=v,
                share_value=v / value if v is not None and value > 0 else None,
            )
        )
    return rows


def origin_year_rows(frame: pd.DataFrame, years: list[int]) -> list[OriginYearRow]:
    """Every origin in every year of ``years``, by year, then largest tonnage first."""
    if not len(frame):
        return []
    window = frame.loc[frame["year"].isin(years)]
    ordered = window.sort_values(["year", "quantity_t"], ascending=[True, False])
    return frame_rows(OriginYearRow, ordered, ["year", "origin", "quantity_t", "value_kusd"])


def frame_rows(row: Callable[..., RowT], frame: pd.DataFrame, columns: Sequence[str]) -> list[RowT]:
    """``row(*values)`` for each line of ``frame``: the values of ``columns`` (in the order of
    ``row``'s fields) as JSON holds them (:func:`critmat.exports.json_value`: numpy numbers as
    Python numbers, NaN as ``None``)."""
    return [
        row(*(json_value(v) for v in values))
        for values in frame[list(columns)].itertuples(index=False, name=None)
    ]


def trend_rows(
    basis: OverviewBasis,
    source: Material,
    stage: StageInfo | None,
    section: MaterialSection,
    trend_years: list[int],
) -> list[TrendRow]:
    """Concentration by year: every production year, and the trend years with import data."""
    years: set[int] = set(trend_years)
    prod: dict[int, float] = {}
    if section.production:
        frame = basis.tables.production.get(section.production[0].commodity)
        if frame is not None:
            prod = {_whole(y): float(v) for y, v in frame["hhi"].items() if fnum(v) is not None}
            years |= set(prod)
    hhi: dict[int, float] = {}
    top: dict[int, float] = {}
    if stage is not None:
        group = f"{source.id}/{stage.name}"
        hhi = basis.tables.index.series(group, EU, "mass", "hhi")
        top = basis.tables.index.series(group, EU, "mass", "top_third_share")
    return [
        TrendRow(
            year=y, production_hhi=prod.get(y), import_hhi=hhi.get(y), top_third_share=top.get(y)
        )
        for y in sorted(y for y in years if y in prod or y in hhi)
    ]


def _whole(value: object) -> int:
    return int(str(value)) if not isinstance(value, int | float) else int(value)
