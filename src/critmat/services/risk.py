"""Supply risk: GeoPolRisk (:mod:`critmat.risk.geopolrisk`) and the EU criticality assessment
(:mod:`critmat.risk.eu_criticality`), as the CLI, the API and the web pages ask for them.

Functions that take a :class:`~critmat.services.context.ServiceContext` answer once per
parameters and current releases (:meth:`ServiceContext.remember`) and open a store only to
compute; those that take a :class:`~critmat.store.Store` compute directly (the command line,
which asks one question per process). Results are the library's typed results (GeoPolRisk's
:class:`~critmat.risk.geopolrisk.GeoPolRiskResult`, the EU assessment's ``Assessment`` and
``Breakdown`` of :mod:`critmat.risk.eu_criticality`, each with its provenance and notes) or the
dataclasses below built on them; rows are JSON-ready (NaN and infinities as None:
:func:`critmat.exports.json_value`) and unrounded.

- GeoPolRisk: :func:`geopolrisk` (every year with data), :func:`geopolrisk_year` (one year's
  rows, provenance of that year), :func:`ranked_geopolrisk`, :func:`geopolrisk_origins` (one
  score taken apart: :mod:`critmat.services.risk_breakdown`), :func:`canonical_commodity`;
- criticality: :func:`criticality` (every catalogue material but the energy raw materials),
  :func:`criticality_breakdown` (one material, energy raw materials assessed alone),
  :func:`criticality_rows`, :func:`criticality_years`; the command line's
  :func:`criticality_request` and :func:`assess_criticality` (its own inputs and window).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from critmat.exports import json_value
from critmat.indicators.lookup import check_year
from critmat.indicators.provenance import Provenance
from critmat.reference.materials import load_catalogue
from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.risk._eu_inputs import EiInput, SiInput
from critmat.services.risk_breakdown import (
    CHECK_TOLERANCE,
    GeoPolRiskBreakdown,
    OriginTerm,
    ProducerTerm,
    geopolrisk_breakdown,
)
from critmat.store import Store

if TYPE_CHECKING:
    from critmat.services.context import ServiceContext

__all__ = [
    "CHECK_TOLERANCE",
    "CRITICALITY_COLUMNS",
    "GEOPOLRISK_COLUMNS",
    "CriticalityRequest",
    "GeoPolRiskBreakdown",
    "GeoPolRiskYear",
    "MaterialCriticality",
    "OriginTerm",
    "ProducerTerm",
    "assess_criticality",
    "assess_geopolrisk",
    "canonical_commodity",
    "choose_year",
    "citation",
    "criticality",
    "criticality_breakdown",
    "criticality_request",
    "criticality_rows",
    "criticality_years",
    "geopolrisk",
    "geopolrisk_breakdown",
    "geopolrisk_origins",
    "geopolrisk_year",
    "ranked_geopolrisk",
]

#: Columns of a GeoPolRisk row as users see them (CLI, API, downloads), in order.
GEOPOLRISK_COLUMNS = gpr.OUTPUT_COLUMNS
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
    "years",
    "notes",
)
#: Cache charge of a GeoPolRisk result per importer (bytes; 53 commodities × 7 years take 57 kB).
GEOPOLRISK_BYTES_PER_IMPORTER = 64 * 1024
#: Cache charge of one criticality assessment (bytes; 69 materials pickle to 0.4 MB).
ASSESSMENT_BYTES = 2 * 1024 * 1024


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def citation(items: Iterable[Provenance], datasets: Sequence[str] | None = None) -> str:
    """``source version (dataset; years used: ...)`` of each release (of ``datasets``), joined."""
    return "; ".join(p.citation() for p in items if datasets is None or p.dataset in datasets)


# ================================================================================ GeoPolRisk
def assess_geopolrisk(
    store: Store,
    *,
    importers: Sequence[str],
    materials: Sequence[str] = (),
    years: Sequence[int] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> gpr.GeoPolRiskResult:
    """:func:`critmat.risk.geopolrisk.assess` on ``store`` (``years`` default to every year with
    production and trade data); not cached."""
    return gpr.assess(
        store, importers=importers, materials=materials, years=years, basis=basis, compat=compat
    )


def geopolrisk(
    ctx: ServiceContext,
    importers: Sequence[str],
    materials: Sequence[str] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> gpr.GeoPolRiskResult:
    """GeoPolRisk of ``importers`` for ``materials`` (default: all 53 commodities) over every
    year with data, once per release."""

    def compute() -> gpr.GeoPolRiskResult:
        with ctx.open_store() as store:
            return assess_geopolrisk(
                store, importers=importers, materials=materials, basis=basis, compat=compat
            )

    params = (tuple(_norm(i) for i in importers), tuple(_norm(m) for m in materials), basis, compat)
    size = GEOPOLRISK_BYTES_PER_IMPORTER * max(len(importers), 1)
    return ctx.remember("risk.geopolrisk", params, compute, size=size)


def choose_year(years: Sequence[int], year: int | None) -> int:
    """``year`` checked against the GeoPolRisk ``years`` (default: the latest)."""
    if year is None:
        return max(years)
    check_year(year, min(years), max(years), "production and trade")
    return year


@dataclass(frozen=True)
class GeoPolRiskYear:
    """One year of a GeoPolRisk result: its rows (:data:`GEOPOLRISK_COLUMNS`, in the library's
    order) and the releases used, with that year as the years used."""

    result: gpr.GeoPolRiskResult
    year: int
    rows: list[dict[str, Any]]
    provenance: tuple[Provenance, ...]

    @property
    def importer(self) -> str:
        """The (first) importer's name."""
        return self.result.importers[0].name

    @property
    def amount_unit(self) -> str:
        return "t" if self.result.basis == "mass" else "thousand USD"


def _year_rows(result: gpr.GeoPolRiskResult, year: int) -> list[dict[str, Any]]:
    rows: pd.DataFrame = result.rows
    chosen = rows.loc[rows["year"] == year, list(GEOPOLRISK_COLUMNS)]
    return [
        {str(c): json_value(v) for c, v in row.items()} for row in chosen.to_dict(orient="records")
    ]


def geopolrisk_year(
    ctx: ServiceContext,
    importers: Sequence[str],
    year: int | None = None,
    materials: Sequence[str] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> GeoPolRiskYear:
    """The rows of ``year`` (default: the latest with data) of :func:`geopolrisk`."""
    result = geopolrisk(ctx, importers, materials, basis, compat)
    chosen = choose_year(result.years, year)
    provenance = tuple(replace(p, years=(chosen,)) for p in result.provenance)
    return GeoPolRiskYear(result, chosen, _year_rows(result, chosen), provenance)


def ranked_geopolrisk(answer: GeoPolRiskYear, by: str) -> list[dict[str, Any]]:
    """The rows by ``by`` (``score`` or ``cf``), highest first, undefined last (then by
    commodity), each with its ``rank`` (None where undefined)."""
    rows = [dict(r) for r in answer.rows]
    rows.sort(key=lambda r: (r[by] is None, -(r[by] or 0.0), r["wmd_commodity"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank if row[by] is not None else None
    return rows


def canonical_commodity(name: str) -> tuple[str, ...]:
    """The WMD commodities a name stands for (a WMD sheet, or a material's series)."""
    by_key = {_norm(c): c for c in gpr.supported_commodities()}
    exact = by_key.get(_norm(name))
    if exact is not None:
        return (exact,)
    return gpr.resolve_commodities([name])


def geopolrisk_origins(
    ctx: ServiceContext, commodity: str, importer: str, year: int | None, basis: str
) -> GeoPolRiskBreakdown:
    """One score of ``commodity`` (a WMD sheet name) for ``importer`` in ``year`` (default: the
    latest) taken apart by producer and origin, once per release."""
    result = geopolrisk(ctx, [importer], (), basis, "critmat")
    chosen = choose_year(result.years, year)

    def compute() -> GeoPolRiskBreakdown:
        with ctx.open_store() as store:
            return geopolrisk_breakdown(store, result, commodity, chosen)

    params = (commodity, _norm(importer), chosen, basis)
    return ctx.remember("risk.geopolrisk-origins", params, compute)


# ================================================================================ criticality
@dataclass(frozen=True)
class MaterialCriticality:
    """One material's breakdown and the assessment it comes from (its years, notes, sources)."""

    breakdown: euc.Breakdown
    assessment: euc.Assessment


def criticality(ctx: ServiceContext, year: int | None, published_si: bool) -> euc.Assessment:
    """The EU assessment of every catalogue material (energy raw materials excluded) over the
    five data years ending in ``year`` (default: the latest with production and trade data),
    once per release. ``published_si`` uses the 2023 assessment's SI_SR."""

    def compute() -> euc.Assessment:
        with ctx.open_store() as store:
            return euc.assess(store.con, year=year, published_si=published_si)

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
            return euc.assess(
                store.con, year=year, materials=[resolved.id], published_si=published_si
            )

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
    """Reference years the assessment can take: those with production and trade data (the
    rule of :func:`critmat.risk.eu_criticality.assess`), newest first."""

    def compute() -> list[int]:
        with ctx.open_store() as store:
            row = store.con.execute(
                "SELECT (SELECT min(year) FROM production), (SELECT max(year) FROM production), "
                "(SELECT min(year) FROM trade), (SELECT max(year) FROM trade)"
            ).fetchone()
        if row is None or any(v is None for v in row):
            return []
        first, last = max(int(row[0]), int(row[2])), min(int(row[1]), int(row[3]))
        return list(range(last, first - 1, -1))

    return ctx.remember("risk.criticality-years", (), compute, size=1024)


@dataclass(frozen=True)
class CriticalityRequest:
    """The command line's assessment: reference year and window, the materials (one, to
    explain it, or None for all), and the inputs read from its files."""

    year: int | None = None
    window: int = 5
    materials: tuple[str, ...] | None = None
    ei_inputs: dict[str, EiInput] | None = None
    si_sr: dict[str, SiInput] | None = None
    published_si: bool = False


def criticality_request(
    *,
    year: int | None = None,
    window: int = 5,
    ei_inputs: Path | None = None,
    si_sr: Path | None = None,
    published_si: bool = False,
    explain: str | None = None,
) -> CriticalityRequest:
    """Read and check the input files and resolve the material to explain (user errors are
    raised here, before any store is opened)."""
    ei = euc.read_ei_inputs(ei_inputs) if ei_inputs else None
    si = euc.read_si_sr(si_sr) if si_sr else None
    materials = (load_catalogue().resolve(explain).material.id,) if explain else None
    return CriticalityRequest(year, window, materials, ei, si, published_si)


def assess_criticality(store: Store, request: CriticalityRequest) -> euc.Assessment:
    """:func:`critmat.risk.eu_criticality.assess` of ``request`` on ``store``; not cached."""
    return euc.assess(
        store.con,
        year=request.year,
        window=request.window,
        materials=list(request.materials) if request.materials is not None else None,
        ei_inputs=request.ei_inputs,
        si_sr=request.si_sr,
        published_si=request.published_si,
    )
