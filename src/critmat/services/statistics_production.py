"""Production by stage, the statistics service's answers (see :mod:`critmat.services.statistics`).

``critmat production MATERIAL --stage STAGE``, ``GET /api/v1/production`` and the material pages
ask these. The figures are :func:`critmat.indicators.stage_production.stage_production`'s: each
year from the first of the stage's production series (catalogue order of preference) that holds
it, one release per answer, named with its dataset, series, release id and version. The stage is
chosen by :meth:`critmat.reference.materials.Catalogue.choose_stage` (the one stage rule; a stage
"has data" when one of its series holds figures), the year by
:func:`critmat.indicators.lookup.year_or_latest` (the latest with figures).
"""

from __future__ import annotations

from typing import cast

import pandas as pd

from critmat.errors import NoDataError
from critmat.indicators.provenance import Provenance
from critmat.indicators.stage_production import (
    StageProduction,
    series_of,
    series_years,
    stage_production_years,
)
from critmat.indicators.stage_production import stage_production as compute_stage_production
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.services import statistics_models as m
from critmat.services.statistics_base import (
    as_float,
    provenance,
    records,
    safe_country_name,
    table,
)
from critmat.services.statistics_models import Computed
from critmat.sources.base import Dataset
from critmat.store import Store

__all__ = [
    "choose_production_stage",
    "production_every_stage",
    "production_stages",
    "stage_production",
]

#: Columns of a stage-production download.
_COLUMNS = [
    "material",
    "stage",
    "year",
    "series",
    "release_id",
    "commodity",
    "production_stage",
    "rank",
    "country",
    "country_name",
    "quantity_t",
    "share",
    "estimated",
    "status",
    "basis",
    "note",
]


def choose_production_stage(
    store: Store, material: str, stage: str | None
) -> tuple[Material, Stage]:
    """The material and the stage a production question answers for: the stage named (stage
    synonyms such as "refining" included), else the one the material's name names, else the
    first stage whose series hold figures (:meth:`Catalogue.choose_stage`)."""
    catalogue = load_catalogue()
    resolved = catalogue.resolve(material)
    found = resolved.material
    chosen = catalogue.choose_stage(
        resolved, lambda s: bool(stage_production_years(store.con, found, s)), named=stage
    )
    if chosen is None:
        raise NoDataError(
            f"no stage of {found.name} has production figures in the store",
            hint=f"`critmat material {found.id}` lists its stages and their production series",
        )
    return found, chosen


def _summary(countries: pd.DataFrame) -> dict[str, object]:
    """Producers, top country, top and top-3 shares and HHI over the ranked countries (ROW,
    a mix of countries, and missing figures left out)."""
    ranked = countries[countries["rank"].notna()].sort_values("rank")
    shares = ranked["share"].dropna()
    return {
        "producers": int((ranked["quantity_t"] > 0).sum()) if len(ranked) else None,
        "top_country": str(ranked["country"].iloc[0]) if len(ranked) else None,
        "top_share": as_float(shares.iloc[0]) if len(shares) else None,
        "top3_share": as_float(shares.head(3).sum()) if len(shares) else None,
        "hhi": as_float((shares**2).sum()) if len(shares) else None,
    }


def _provenance(store: Store, answer: StageProduction) -> list[Provenance]:
    release = store.current_release(cast(Dataset, answer.dataset), answer.series)
    return [] if release is None else [Provenance.of_release(release, (answer.year,))]


def stage_production(
    store: Store, material: str, stage: str | None = None, year: int | None = None
) -> Computed:
    """World production of ``material`` at ``stage`` (default: the stage rule) in ``year``
    (default: the latest with figures), by country, with its series and release."""
    found, chosen = choose_production_stage(store, material, stage)
    answer = compute_stage_production(store.con, found, chosen, year)
    rows = [  # the countries' columns as they are, with the country's name
        m.StageProductionRowOut.model_validate(
            r | {"country_name": safe_country_name(str(r["country"])), "note": r["note"] or ""}
        )
        for r in records(answer.countries)
    ]
    model = m.StageProductionOut(
        material=found.id,
        stage=chosen.name,
        year=answer.year,
        dataset=answer.dataset,
        series=answer.series,
        release_id=answer.release_id,
        release_version=answer.release_version,
        commodity=answer.commodity,
        production_stage=answer.production_stage,
        unit=answer.unit,
        basis=answer.basis,
        world_t=answer.world_t,
        total_t=answer.total_t,
        **_summary(answer.countries),  # type: ignore[arg-type]
        rows=rows,
        notes=list(answer.notes),
        provenance=provenance(_provenance(store, answer)),
    )
    common = {
        "material": model.material,
        "stage": model.stage,
        "year": model.year,
        "series": model.series,
        "release_id": model.release_id,
        "commodity": model.commodity,
        "production_stage": model.production_stage,
        "basis": model.basis,
    }
    table_rows = [common | r.model_dump() for r in rows]
    title = f"production {model.material} {model.stage}"
    return Computed(model, table(_COLUMNS, table_rows, title))


def _series_out(store: Store, stage: Stage) -> list[m.ProductionSeriesOut]:
    out = []
    for ref in series_of(stage):
        release = store.current_release(cast(Dataset, ref.dataset), ref.series)
        out.append(
            m.ProductionSeriesOut(
                dataset=ref.dataset,
                series=ref.series,
                commodity=ref.commodity,
                production_stage=ref.stage,
                note=ref.note,
                years=series_years(store.con, ref),
                release_id=None if release is None else str(release.release_id),
            )
        )
    return out


def _series_label(series: m.ProductionSeriesOut) -> str:
    return f"{series.series} '{series.commodity}' {series.production_stage}"


def production_stages(store: Store, material: str) -> Computed:
    """Every stage of ``material`` with its production series (in order of preference), the
    years each holds and the years the stage has figures for; a stage without series or
    figures says why."""
    found = load_catalogue().resolve(material).material
    stages = []
    for stage in found.stages:
        series = _series_out(store, stage)
        years = stage_production_years(store.con, found, stage)
        note = None
        if not series:
            note = "the catalogue names no production series for this stage"
        elif not years:
            note = "none of its series has figures in the store"
        stages.append(
            m.ProductionStageOut(
                stage=stage.name, label=stage.label, series=series, years=years, note=note
            )
        )
    model = m.ProductionStagesOut(material=found.id, stages=stages)
    columns = ["material", "stage", "label", "years", "series", "note"]
    table_rows = [
        {
            "material": found.id,
            "stage": s.stage,
            "label": s.label,
            "years": ", ".join(str(y) for y in s.years),
            "series": "; ".join(
                f"{x.series} '{x.commodity}' {x.production_stage}" for x in s.series
            ),
            "note": s.note or "",
        }
        for s in stages
    ]
    return Computed(model, table(columns, table_rows, f"production stages {found.id}"))


def production_every_stage(store: Store, material: str, year: int) -> list[m.StageProductionOut]:
    """Production at every stage of ``material`` whose series hold figures, for a page about
    ``year``: that year where the stage has it, else its latest year before, else its first
    (the answer's ``year`` says which, and a note)."""
    found = load_catalogue().resolve(material).material
    answers = []
    for stage in found.stages:
        years = stage_production_years(store.con, found, stage)
        if not years:
            continue
        earlier = [y for y in years if y <= year]
        shown = earlier[-1] if earlier else years[0]
        answer = stage_production(store, found.id, stage.name, shown).model
        assert isinstance(answer, m.StageProductionOut)
        if shown != year:
            answer.notes.insert(0, f"no {stage.name} figures for {year}: {shown} is shown")
        answers.append(answer)
    return answers
