"""Supply risk: the EU criticality assessment (:mod:`critmat.risk.eu_criticality`, 2017
methodology), as the CLI, the API and the web pages ask for it. GeoPolRisk is
:mod:`critmat.services.risk`; the conventions are the same (a ServiceContext: once per
parameters and current releases; a Store: computed directly, for the command line).

- :func:`criticality` (every catalogue material but the energy raw materials),
  :func:`criticality_breakdown` (one material; energy raw materials assessed alone),
  :func:`criticality_rows` (ranked by SR, unrounded), :func:`criticality_years`;
- :func:`criticality_validation` (critmat's SR against the 2023 assessment's, Spearman) and
  :func:`criticality_outlook` (the newest data: which materials would cross the thresholds);
- the command line's :func:`criticality_request` (its input files and window) and
  :func:`assess_criticality`.

``published_si`` (the parameter's name since the first API) means: the 2023 assessment's
published SI_SR, EoL-RIR and stage choice (the shipped reference input), the default; False:
SI_SR 1, the catalogue's EoL-RIR and the highest stage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmat.exports import json_value
from critmat.reference.materials import load_catalogue
from critmat.risk import eu_criticality as euc
from critmat.risk._eu_data import assessment_years
from critmat.risk._eu_inputs import EiInput, SiInput
from critmat.risk._eu_validation import VALIDATION_YEAR, Outlook, Validation, outlook, validate
from critmat.store import Store

if TYPE_CHECKING:
    from critmat.services.context import ServiceContext

__all__ = [
    "CRITICALITY_COLUMNS",
    "OUTLOOK_COLUMNS",
    "VALIDATION_COLUMNS",
    "CriticalityRequest",
    "MaterialCriticality",
    "Outlook",
    "Validation",
    "assess_criticality",
    "criticality",
    "criticality_breakdown",
    "criticality_outlook",
    "criticality_request",
    "criticality_rows",
    "criticality_validation",
    "criticality_years",
    "outlook_criticality",
    "outlook_document",
    "validate_criticality",
    "validation_document",
]

#: Columns of :func:`criticality_rows`, in order.
CRITICALITY_COLUMNS = (
    "rank",
    "material",
    "name",
    "sr",
    "stage",
    "basis",
    "ei",
    "critical",
    "sr_meets_threshold",
    "crma_critical",
    "import_reliance",
    "eol_rir",
    "si_sr",
    "wgi_indicators",
    "production_series",
    "trade_series",
    "years",
    "notes",
)
#: Columns of a validation row (:meth:`ValidationRow.as_row`).
VALIDATION_COLUMNS = (
    "material",
    "published_sr",
    "published_stage",
    "published_basis",
    "published_same_stage",
    "sr",
    "stage",
    "basis",
    "difference",
    "same_side",
    "production_series",
    "trade_series",
)
#: Columns of an outlook row (:meth:`OutlookRow.as_row`).
OUTLOOK_COLUMNS = (
    "material",
    "name",
    "sr",
    "sr_stage",
    "sr_2023",
    "sr_change",
    "ei",
    "ei_source",
    "meets_2023",
    "meets_now",
    "change",
    "crma_critical",
)
#: Cache charge of one criticality assessment (bytes; 69 materials pickle to 0.4 MB).
ASSESSMENT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class MaterialCriticality:
    """One material's breakdown and the assessment it comes from (its years, notes, sources)."""

    breakdown: euc.Breakdown
    assessment: euc.Assessment


def criticality(ctx: ServiceContext, year: int | None, published_si: bool) -> euc.Assessment:
    """The EU assessment of every catalogue material (energy raw materials excluded) over the
    five data years ending in ``year`` (default: the latest with production and trade data),
    once per release. ``published_si``: the 2023 SI_SR, EoL-RIR and stage choice."""

    def compute() -> euc.Assessment:
        with ctx.open_store() as store:
            return euc.assess(store.con, year=year, published=published_si)

    return ctx.remember("risk.criticality", (year, published_si), compute, size=ASSESSMENT_BYTES)


def criticality_breakdown(
    ctx: ServiceContext, material: str, year: int | None, published_si: bool
) -> MaterialCriticality:
    """One material (id, name or alias) term by term: from the cached full assessment, or
    (energy raw materials, left out of it) assessed alone. Unknown names raise
    :class:`~critmat.errors.UnknownNameError`."""
    resolved = load_catalogue().resolve(material).material
    assessment = criticality(ctx, year, published_si)
    try:
        return MaterialCriticality(assessment.get(resolved.id), assessment)
    except KeyError:
        pass

    def compute() -> euc.Assessment:
        with ctx.open_store() as store:
            return euc.assess(store.con, year=year, materials=[resolved.id], published=published_si)

    alone = ctx.remember("risk.criticality-one", (resolved.id, year, published_si), compute)
    return MaterialCriticality(alone.get(resolved.id), alone)


def _ranked(assessment: euc.Assessment) -> list[euc.Breakdown]:
    """Breakdowns by SR, highest first; those without SR last (by name)."""
    return sorted(
        assessment.breakdowns,
        key=lambda b: (b.sr is None, -(b.sr or 0.0), b.name.casefold()),
    )


def _criticality_row(b: euc.Breakdown, rank: int | None) -> dict[str, Any]:
    stage = b.headline_stage
    summary = b.row()
    return {
        "rank": rank,
        "material": b.material_id,
        "name": b.name,
        "sr": json_value(b.sr),
        "stage": b.sr_stage,
        "basis": b.basis,
        "ei": json_value(b.ei.ei) if b.ei else None,
        "critical": b.critical,
        "sr_meets_threshold": b.sr_meets_threshold,
        "crma_critical": b.crma_critical,
        "import_reliance": json_value(stage.import_reliance.value) if stage else None,
        "eol_rir": json_value(stage.eol_rir.value) if stage else None,
        "si_sr": json_value(stage.si_sr.value) if stage else None,
        "wgi_indicators": "+".join(b.wgi_indicators),
        "production_series": summary["production_series"],
        "trade_series": summary["trade_series"],
        "years": summary["years"],
        "notes": summary["notes"],
    }


def criticality_rows(assessment: euc.Assessment) -> list[dict[str, Any]]:
    """One summary row per material (:data:`CRITICALITY_COLUMNS`; unrounded, the CLI's rows
    round), ranked by SR; ``rank`` counts only the materials with an SR."""
    out = []
    rank = 0
    for b in _ranked(assessment):
        if b.sr is not None:
            rank += 1
        out.append(_criticality_row(b, rank if b.sr is not None else None))
    return out


def criticality_years(ctx: ServiceContext) -> list[int]:
    """Reference years the assessment can take (the rule of
    :func:`critmat.risk._eu_data.assessment_years`), newest first."""

    def compute() -> list[int]:
        with ctx.open_store() as store:
            span = assessment_years(store.con)
        return [] if span is None else list(range(span[1], span[0] - 1, -1))

    return ctx.remember("risk.criticality-years", (), compute, size=1024)


def criticality_validation(ctx: ServiceContext, year: int | None = None) -> Validation:
    """critmat's SR against the 2023 assessment's published SR over the five data years ending
    in ``year`` (default :data:`~critmat.risk._eu_validation.VALIDATION_YEAR`), with the 2023
    SI_SR, EoL-RIR and stage choice; once per release."""
    chosen = VALIDATION_YEAR if year is None else year
    return validate(criticality(ctx, chosen, True))


def criticality_outlook(ctx: ServiceContext, year: int | None = None) -> Outlook:
    """What the next assessment would say: the newest window (or the one ending in ``year``)
    against the 2023 list, with the 2023 SI_SR, EoL-RIR and stage choice."""
    return outlook(criticality(ctx, year, True))


@dataclass(frozen=True)
class CriticalityRequest:
    """The command line's assessment: reference year and window, the materials (one, to
    explain it, or None for all), and the inputs read from its files."""

    year: int | None = None
    window: int = 5
    materials: tuple[str, ...] | None = None
    ei_inputs: dict[str, EiInput] | None = None
    si_sr: dict[str, SiInput] | None = None
    published: bool = True
    eol_rir: dict[str, SiInput] | None = None
    governance_series: str | None = None


def criticality_request(
    *,
    year: int | None = None,
    window: int = 5,
    ei_inputs: Path | None = None,
    si_sr: Path | None = None,
    published: bool = True,
    explain: str | None = None,
    eol_rir: Path | None = None,
    governance_series: str | None = None,
) -> CriticalityRequest:
    """Read and check the input files and resolve the material to explain (user errors are
    raised here, before any store is opened)."""
    ei = euc.read_ei_inputs(ei_inputs) if ei_inputs else None
    si = euc.read_si_sr(si_sr) if si_sr else None
    eol = euc.read_eol_rir(eol_rir) if eol_rir else None
    materials = (load_catalogue().resolve(explain).material.id,) if explain else None
    return CriticalityRequest(year, window, materials, ei, si, published, eol, governance_series)


def assess_criticality(store: Store, request: CriticalityRequest) -> euc.Assessment:
    """:func:`critmat.risk.eu_criticality.assess` of ``request`` on ``store``; not cached."""
    return euc.assess(
        store.con,
        year=request.year,
        window=request.window,
        materials=list(request.materials) if request.materials is not None else None,
        ei_inputs=request.ei_inputs,
        si_sr=request.si_sr,
        eol_rir=request.eol_rir,
        published=request.published,
        governance_series=request.governance_series,
    )


def validate_criticality(store: Store, request: CriticalityRequest) -> Validation:
    """The command line's validation: ``request`` (its year defaulting to
    :data:`~critmat.risk._eu_validation.VALIDATION_YEAR`) against the 2023 assessment."""
    year = VALIDATION_YEAR if request.year is None else request.year
    return validate(assess_criticality(store, replace(request, year=year)))


def outlook_criticality(store: Store, request: CriticalityRequest) -> Outlook:
    """The command line's next-assessment view of ``request`` against the 2023 list."""
    return outlook(assess_criticality(store, request))


def _document(
    assessment: euc.Assessment, rows: list[dict[str, Any]], **figures: Any
) -> dict[str, Any]:
    return {
        "year": assessment.year,
        "years": list(assessment.years),
        **figures,
        "rows": rows,
        "notes": list(assessment.notes),
        "provenance": [p.as_dict() for p in assessment.provenance],
    }


def validation_document(found: Validation) -> dict[str, Any]:
    """The validation as the CLI's JSON and the API answer it: ``year, years, spearman, n,
    same_side, within_0_5, rows`` (:data:`VALIDATION_COLUMNS`), ``notes, provenance``."""
    return _document(
        found.assessment,
        [r.as_row() for r in found.rows],
        spearman=found.spearman,
        n=found.n,
        same_side=found.same_side,
        within_0_5=found.within,
    )


def outlook_document(found: Outlook) -> dict[str, Any]:
    """The next-assessment view as the CLI's JSON and the API answer it: ``year, years,
    crossing`` (material ids), ``rows`` (:data:`OUTLOOK_COLUMNS`), ``notes, provenance``."""
    return _document(
        found.assessment,
        [r.as_row() for r in found.rows],
        crossing=[r.material_id for r in found.crossing()],
    )
