"""Apparent consumption and import reliance: the mine-stage table (:func:`reliance`, World
Mining Data against each stage's trade on the content basis) and reliance at one value-chain
stage (:func:`stage_reliance`: the stage's own production series against the trade of the
stage's own HS codes), each row naming its production release, series and stage and its trade
release and codes.

The stage a stage question answers for, unless the user names one (or ``all``): the stage the
EU 2023 criticality assessment used for the material (``sr_stage`` of
:mod:`critmat.reference.eu_assessment`), else extraction, else the first stage. Use these
through their callers: ``critmat reliance`` (without ``--stage``: the mine-stage table; with
``--stage STAGE|all|default``: a stage) and ``/api/v1/reliance`` (no stage: the default stage)
and ``/api/v1/materials/{material}/reliance`` (the mine-stage table).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from critmat.errors import CritmatError, UnknownNameError
from critmat.indicators import lookup
from critmat.indicators.consumption import STAGE_COLUMNS
from critmat.indicators.consumption import stage_reliance as stage_reliance_frame
from critmat.indicators.provenance import Provenance
from critmat.indicators.trade_sources import trade_sources
from critmat.reference.eu_assessment import published_for
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.services import statistics_models as m
from critmat.services.statistics_base import (
    Computed,
    provenance,
    records,
    series_computed,
    series_out,
    table,
)
from critmat.store import Store

__all__ = [
    "ALL_STAGES",
    "DEFAULT_STAGE",
    "StageRelianceOut",
    "default_stage",
    "reliance",
    "stage_reliance",
]

#: The ``--stage`` value that asks for every stage of the material.
ALL_STAGES = "all"
#: The ``--stage`` value that asks for :func:`default_stage` (as no stage does in the API).
DEFAULT_STAGE = "default"


# -- the mine-stage table -----------------------------------------------------------------
def reliance(
    store: Store, *, material: str, importer: str, first: int | None, last: int | None
) -> Computed:
    """The mine-stage table: World Mining Data production against the trade of each stage
    that pairs with a WMD series, on the content basis
    (:func:`critmat.indicators.lookup.reliance`), year by year."""
    result = lookup.reliance(store, importer=importer, material=material, first=first, last=last)
    extra = []
    if result.rows.empty:
        extra.append(
            "no year has both production and trade figures for this material's matching "
            "trade codes in the current releases"
        )
    model = series_out(
        result.importer,
        result.selection,
        "mass",
        records(result.rows),
        result.provenance,
        [*result.notes, *extra],
    )
    return series_computed(model, list(result.rows.columns), "reliance")


# -- reliance at one stage -------------------------------------------------------------------
class StageRelianceOut(m.SeriesOut):
    """Same fields as ``critmat reliance --format json``: ``rows`` in the columns of
    :data:`critmat.indicators.consumption.STAGE_COLUMNS` (one per stage and year, or one "no
    data" row with its reason for a stage without any), ``stages`` the stages answered and
    ``stage_choice`` how they were chosen."""

    stages: list[str]
    stage_choice: str


def default_stage(material: Material) -> tuple[Stage, str]:
    """The stage a reliance question answers for when none is named, and why."""
    published = published_for(material.id)
    if published is not None:
        try:
            stage = material.stage(published.sr_stage)
        except UnknownNameError:
            pass
        else:
            return stage, (
                f"{stage.name}: the stage the EU 2023 criticality assessment used for "
                f"{material.name} (its supply-risk stage)"
            )
    extraction = next((s for s in material.stages if s.name == "extraction"), None)
    stage = extraction or material.stages[0]
    return stage, f"{stage.name}: the EU 2023 assessment names no stage of {material.name}"


def _stages(material: Material, named: str | None) -> tuple[list[Stage], str]:
    if not material.stages:
        raise CritmatError(
            f"{material.name} has no value-chain stages in the catalogue",
            hint=f"`critmat material {material.id}` shows what the catalogue holds",
        )
    if named is None or named.strip().lower() == DEFAULT_STAGE:
        stage, why = default_stage(material)
        return [stage], why
    if named.strip().lower() == ALL_STAGES:
        return list(material.stages), "every stage of the material (--stage all)"
    try:
        chosen = material.stage(named)
    except UnknownNameError as error:
        options = [s.name for s in material.stages] + [ALL_STAGES, DEFAULT_STAGE]
        raise UnknownNameError(f"stage of {material.name}", named, options) from error
    return [chosen], f"{chosen.name}: the stage asked for"


def _years(first: int | None, last: int | None) -> list[int] | None:
    if first is None and last is None:
        return None
    if first is not None and last is not None and first > last:
        raise CritmatError(f"--from {first} is after --to {last}", hint="swap the two years")
    start = 1900 if first is None else first
    end = 2100 if last is None else last
    return list(range(start, end + 1))


def _provenance(store: Store, frame: pd.DataFrame) -> list[Provenance]:
    """The production and trade releases the rows with data come from, with their years."""
    used: dict[int, set[int]] = {}
    with_year = frame[frame["year"].notna()]
    for column in ("production_release_id", "trade_release_id"):
        for release_id, year in zip(with_year[column], with_year["year"], strict=True):
            if pd.notna(release_id):
                used.setdefault(int(release_id), set()).add(int(year))
    releases = [
        r
        for dataset in ("production", "stage_production", "trade")
        for r in store.current_releases(dataset)  # type: ignore[arg-type]
    ]
    return [
        Provenance.of_release(r, tuple(sorted(used[r.release_id])))
        for r in releases
        if r.release_id in used
    ]


def _notes(
    store: Store, material: Material, stages: Sequence[Stage], frame: pd.DataFrame
) -> list[str]:
    notes = [
        "each row compares production at the stage (its production series, the first of the "
        "catalogue's series that holds the year) with the trade of the stage's HS codes (the "
        "one trade release of the year), each code's tonnes times its content factor "
        "(reference/data/hs_content_factors.csv; 1 where production counts gross weight); "
        "import_reliance_low/high from the factors' ranges; estimated",
        "an import reliance outside 0-100 % is not shown: ir_reason says why (a net exporter); "
        "missing production or trade is 'no data', never 0",
    ]
    for stage in stages:
        rows = frame[frame["stage"] == stage.name]
        used = {int(r) for r in rows["trade_release_id"] if pd.notna(r)}
        sources = trade_sources(store, material, stage, stage.hs_codes)
        # the notes of the releases the rows read (of every release when none holds the codes)
        for source in [s for s in sources if s.release.release_id in used] or sources:
            notes += [f"{stage.name}: {n}" for n in source.notes]
    return list(dict.fromkeys(notes))


def stage_reliance(
    store: Store,
    *,
    material: str,
    importer: str = "EU27",
    stage: str | None = None,
    first: int | None = None,
    last: int | None = None,
) -> Computed:
    """Import reliance of ``importer`` for ``material`` at one stage (``stage``; ``all`` for
    every stage; ``None`` or ``default``: :func:`default_stage`), year by year within
    ``first``..``last`` (default: every year the stage's production series hold).

    ``.model`` is a :class:`StageRelianceOut`; a stage with no figures has one row with
    ``status`` "no data" and ``ir_reason`` (no production series, the importer's members not
    listed, no trade rows), never a 0.
    """
    resolved = load_catalogue().resolve(material).material
    importer_set = lookup.resolve_importer(importer)
    stages, why = _stages(resolved, stage)
    years = _years(first, last)
    frames = [stage_reliance_frame(store, importer_set, resolved, s, years) for s in stages]
    frame = pd.concat(frames, ignore_index=True)
    rows = records(frame.drop(columns=["material", "importer"]))
    codes = [c for s in stages for c in (*s.hs_codes, *s.hs17_codes)]
    model = StageRelianceOut(
        importer=importer_set.name,
        importer_members=sorted(importer_set.members),
        material=resolved.id,
        stage=stages[0].name if len(stages) == 1 else ALL_STAGES,
        hs_codes=list(dict.fromkeys(codes)),
        basis="content",
        rows=rows,
        provenance=provenance(_provenance(store, frame)),
        notes=_notes(store, resolved, stages, frame),
        stages=[s.name for s in stages],
        stage_choice=why,
    )
    table_rows = [{"material": resolved.id, "importer": importer_set.name, **r} for r in rows]
    return Computed(model, table(list(STAGE_COLUMNS), table_rows, "reliance by stage"))
