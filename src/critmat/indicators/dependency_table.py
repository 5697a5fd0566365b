"""The dependency of one importer at every stage of many materials (e.g. every CRMA strategic
raw material), each (stage, year) figure from its one trade release.

For each material stage the figure is the import concentration of
:func:`~critmat.indicators.imports.import_concentration` (shares by origin, HHI, the largest
third-country share and the CRMA 65 % flag) in the year asked, or by default in the latest year
in which the importer has imports of the stage's codes; the year's release is chosen by
:func:`~critmat.indicators.trade_sources.source_for_year` (HS17 for 2024 where the stage has
HS17 codes in the extract, else HS92). A stage without imports in that year, or without codes
with rows in any release, is no data with its reason — never a total of 0 and never "below
65 %".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.imports import Basis, ImporterSet
from critmat.indicators.trade_sources import (
    TradeSource,
    source_for_year,
    trade_sources,
    yearly_concentration,
)
from critmat.reference.materials import Material, Stage
from critmat.store import Store


@dataclass(frozen=True)
class StageDependency:
    """The dependency figure of one material stage, or why there is none.

    ``summary`` is a row of :func:`~critmat.indicators.imports.import_concentration`
    (``None``: no data, ``reason`` says why); ``source`` the release the year is read in
    (``None`` when the stage has no codes with rows anywhere); ``years_by_series`` the years
    with imports on the basis, by series.
    """

    material: Material
    stage: Stage
    year: int | None
    source: TradeSource | None
    summary: dict[str, Any] | None
    years_by_series: dict[str, tuple[int, ...]]
    reason: str | None

    @property
    def years_with_data(self) -> tuple[int, ...]:
        return tuple(sorted(y for years in self.years_by_series.values() for y in years))


def _key(material: Material, stage: Stage) -> str:
    return f"{material.id}/{stage.name}"


def _codes_text(stage: Stage) -> str:
    parts = [f"HS92 {', '.join(stage.hs_codes)}" if stage.hs_codes else ""]
    parts.append(f"HS17 {', '.join(stage.hs17_codes)}" if stage.hs17_codes else "")
    return "; ".join(p for p in parts if p) or "none"


def _years_by_series(rows: pd.DataFrame) -> dict[str, tuple[int, ...]]:
    return {
        str(series): tuple(sorted(int(y) for y in group["year"]))
        for series, group in rows.groupby("series", sort=True)
    }


def stage_dependencies(
    store: Store,
    importer: ImporterSet,
    materials: Sequence[Material],
    year: int | None,
    basis: Basis,
    eu_members: frozenset[str],
    flows_cache: FlowsCache | None = None,
) -> list[StageDependency]:
    """The dependency of ``importer`` at every stage of ``materials`` (catalogue order), in
    ``year`` or each stage's latest year with imports (module docstring). One pass over each
    trade series' flows for all stages together."""
    sources_by_key: dict[str, list[TradeSource]] = {}
    for material in materials:
        for stage in material.stages:
            if stage.hs_codes or stage.hs17_codes:
                sources = trade_sources(store, material, stage, stage.hs_codes)
                if any(s.found for s in sources):
                    sources_by_key[_key(material, stage)] = sources
    frame = yearly_concentration(store, importer, sources_by_key, basis, eu_members, flows_cache)
    by_key = {str(k): rows for k, rows in frame.groupby("code_group", sort=False)}
    answers = []
    for material in materials:
        for stage in material.stages:
            key = _key(material, stage)
            answers.append(
                _answer(material, stage, sources_by_key.get(key), by_key.get(key), year, basis)
            )
    return answers


def _answer(
    material: Material,
    stage: Stage,
    sources: list[TradeSource] | None,
    rows: pd.DataFrame | None,
    year: int | None,
    basis: Basis,
) -> StageDependency:
    if sources is None:
        reason = (
            "no HS codes catalogued for this stage"
            if not (stage.hs_codes or stage.hs17_codes)
            else f"none of its codes ({_codes_text(stage)}) has rows in the current trade releases"
        )
        return StageDependency(material, stage, year, None, None, {}, reason)
    years = {} if rows is None else _years_by_series(rows)
    held = sorted(y for ys in years.values() for y in ys)
    chosen = year if year is not None else (held[-1] if held else None)
    if chosen is None:
        reason = f"no imports of its codes on the {basis} basis in any year"
        return StageDependency(material, stage, None, sources[-1], None, years, reason)
    source = source_for_year(sources, chosen)
    found = None if rows is None else rows.loc[rows["year"] == chosen]
    if found is None or found.empty:
        reason = f"no imports of {source.series} {', '.join(source.hs_codes)} on the {basis} "
        reason += f"basis in {chosen}"
        return StageDependency(material, stage, chosen, source, None, years, reason)
    summary = {str(k): v for k, v in found.iloc[0].items()}
    return StageDependency(material, stage, chosen, source, summary, years, None)
