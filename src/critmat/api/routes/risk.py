"""Supply-risk methods over the API (every logged-in user): GeoPolRisk and EU criticality.

- ``GET /api/v1/risk/geopolrisk``: GeoPolRisk score and characterization factor per WMD
  commodity for one or more importers in a year;
- ``GET /api/v1/risk/criticality``: EU supply risk (and EI where inputs exist) of every
  catalogue material;
- ``GET /api/v1/risk/criticality/{material}``: one material term by term (the ``Breakdown``).

:mod:`critmat.services.risk` and :mod:`critmat.services.risk_criticality` answer (once per
parameters and current releases, in the app's
:class:`~critmat.services.context.ServiceContext`); this module maps HTTP to its calls and
presents. Finished responses are served and kept as bytes as the statistics routes' are
(:func:`critmat.api.stats_serving.serve`), keyed by endpoint, normalised parameters, format and
release ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints

from critmat.api.query import Basis, FormatQ, MaterialPath, YearQ, route_responses, stem
from critmat.api.stats_serving import Format, serve
from critmat.exports import json_value
from critmat.indicators.provenance import Provenance
from critmat.risk import eu_criticality as euc
from critmat.server.deps import UserCaller
from critmat.services import risk
from critmat.services import risk_criticality as crit
from critmat.services.context import ServiceContext
from critmat.services.statistics_models import Computed, ProvenanceOut, table

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


class Compat(StrEnum):
    critmat = "critmat"
    peer = "peer"


ImporterItem = Annotated[str, StringConstraints(min_length=2, max_length=200)]
MaterialItem = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ImportersQ = Annotated[
    list[ImporterItem],
    Query(
        alias="importer",
        min_length=1,
        max_length=30,
        description="EU27, a group (G7...), a country (ISO3 or name), or countries joined by "
        "commas as one economy ('DEU,FRA'); repeat the parameter for several importers.",
    ),
]
MaterialsQ = Annotated[
    list[MaterialItem] | None,
    Query(
        alias="material",
        max_length=60,
        description="Material (catalogue id, name or alias) or WMD commodity, e.g. cobalt or "
        "'Rare Earths (REO)'; repeat for several. Default: all 53 commodities with HS codes.",
    ),
]
PublishedSiQ = Annotated[
    bool,
    Query(
        description="Use the 2023 EU assessment's SI_SR, EoL-RIR and stage choice (shipped, "
        "transcribed; the default); false: SI_SR = 1, the catalogue's EoL-RIR, the highest stage."
    ),
]

#: The series a criticality row's supply risk comes from (every criticality table names them).
ProductionSeries = Annotated[str, Field(description="production series of the stage, '+'-joined")]
TradeSeries = Annotated[str, Field(description="BACI series of EU trade (HS92, HS17), '+'-joined")]

_NOT_FOUND = "Unknown material or country (with `suggestions`), or no data."
_ERRORS = route_responses(_NOT_FOUND, bad_request="A year outside the data.", downloads=False)
_TABLE = route_responses(_NOT_FOUND, bad_request="A year outside the data.")


# ================================================================================ models
class GeoPolRiskRowOut(BaseModel):
    wmd_commodity: str = Field(description="World Mining Data series (sheet name)")
    material: str | None = Field(description="catalogue id")
    importer: str
    year: int
    basis: str
    compat: str
    hhi: float | None = Field(description="HHI of world production, 0–1")
    import_risk: float | None = Field(
        description="Σ imports·instability / (imports + domestic production); null when the "
        "importer neither imports nor produces"
    )
    score: float | None = Field(description="GeoPolRisk score = hhi × import_risk, 0–1")
    cf: float | None = Field(description="characterization factor, kg Cu-eq/kg")
    price_usd_per_kg: float | None = Field(description="unit value of the imports, USD/kg")
    imports: float | None = Field(description="tonnes (mass basis) or thousand USD (value)")
    weighted_imports: float | None
    domestic_production: float | None = Field(
        description="the importer's own production in the denominator (tonnes, or thousand "
        "USD valued at the import price)"
    )


class GeoPolRiskOut(BaseModel):
    importers: list[str]
    year: int
    years_available: list[int] = Field(description="years with production and trade data")
    basis: str
    compat: str
    rows: list[GeoPolRiskRowOut]
    notes: list[str]
    provenance: list[ProvenanceOut]


class CriticalityRowOut(BaseModel):
    rank: int | None = Field(description="position by SR, highest first (null without SR)")
    material: str
    name: str
    sr: float | None = Field(description="supply risk of the headline stage, unrounded")
    stage: str | None = Field(description="stage the SR comes from")
    basis: str | None = Field(description="GS+EU, GS only (global supply only) or no data")
    ei: float | None = Field(description="economic importance; null without EI inputs")
    critical: bool | None = Field(description="SR ≥ 1 and EI ≥ 2.8; null without EI")
    sr_meets_threshold: bool | None
    crma_critical: bool = Field(description="listed in CRMA Annex II")
    import_reliance: float | None
    eol_rir: float | None
    si_sr: float | None
    wgi_indicators: str
    production_series: ProductionSeries
    trade_series: TradeSeries
    years: str
    notes: str


class WindowOut(BaseModel):
    """What every criticality answer names: the reference year, the window of data years, the
    notes and the releases used."""

    year: int
    years: list[int] = Field(description="the window of data years averaged")
    notes: list[str]
    provenance: list[ProvenanceOut]


class CriticalityOut(WindowOut):
    sr_threshold: float
    ei_threshold: float
    published_si: bool
    rows: list[CriticalityRowOut]


class BreakdownOut(BaseModel):
    material_id: str
    name: str
    year: int
    years: list[int]
    stages: list[euc.StageSupplyRisk] = Field(
        description="every stage: its series and years, the global-supply and EU-sourcing "
        "concentrations with each supplier's share, WGI, t and contribution (share² · scaled "
        "WGI · t), IR, EoL-RIR and SI_SR with their sources"
    )
    sr: float | None
    sr_stage: str | None
    basis: str | None
    ei: euc.EconomicImportance | None
    sr_meets_threshold: bool | None
    ei_meets_threshold: bool | None
    critical: bool | None
    crma_critical: bool
    wgi_indicators: list[str]
    wgi_note: str
    notes: list[str]
    governance_series: str
    stage_note: str
    sr_threshold: float
    ei_threshold: float
    published_si: bool
    terms: list[dict[str, Any]] = Field(
        description="the breakdown flattened, one row per term in the order the equations "
        "combine them (as `critmat criticality --explain M --format csv`)"
    )
    provenance: list[ProvenanceOut]


# ================================================================================ presenting
def provenance_out(items: Sequence[Provenance]) -> list[ProvenanceOut]:
    return [ProvenanceOut.of(p) for p in items]


def _geopolrisk_computed(answer: risk.GeoPolRiskYear) -> Computed:
    result = answer.result
    model = GeoPolRiskOut(
        importers=[s.name for s in result.importers],
        year=answer.year,
        years_available=list(result.years),
        basis=result.basis,
        compat=result.compat,
        rows=[GeoPolRiskRowOut.model_validate(r) for r in answer.rows],
        notes=list(result.notes),
        provenance=provenance_out(answer.provenance),
    )
    columns = risk.GEOPOLRISK_COLUMNS
    return Computed(model, table(columns, answer.rows, f"GeoPolRisk {answer.year}"))


def _criticality_computed(assessment: euc.Assessment, published_si: bool) -> Computed:
    rows = crit.criticality_rows(assessment)
    model = CriticalityOut(
        year=assessment.year,
        years=list(assessment.years),
        sr_threshold=euc.SR_THRESHOLD,
        ei_threshold=euc.EI_THRESHOLD,
        published_si=published_si,
        rows=[CriticalityRowOut.model_validate(r) for r in rows],
        notes=list(assessment.notes),
        provenance=provenance_out(assessment.provenance),
    )
    years = f"{assessment.years[0]}-{assessment.years[-1]}"
    return Computed(model, table(crit.CRITICALITY_COLUMNS, rows, f"EU SR {years}"))


def json_ready(value: Any) -> Any:
    """Nested dicts/lists/tuples with NaN and infinities as None and numpy scalars as Python."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return json_value(value)


def breakdown_out(found: crit.MaterialCriticality, published_si: bool) -> BreakdownOut:
    b = found.breakdown
    data = json_ready(b.as_dict())
    data.update(
        basis=b.basis,
        sr_threshold=euc.SR_THRESHOLD,
        ei_threshold=euc.EI_THRESHOLD,
        published_si=published_si,
        terms=json_ready(euc.explain_rows(b)),
        provenance=provenance_out(found.assessment.provenance),
    )
    return BreakdownOut.model_validate(data)


# ================================================================================ serving
async def _serve(
    request: Request,
    endpoint: str,
    params: Mapping[str, object],
    compute: Callable[[ServiceContext], Computed],
    fmt: Format,
    download_stem: str,
) -> Response:
    """Answer as the statistics routes do (:func:`critmat.api.stats_serving.serve`), the
    answer computed from the app's :class:`ServiceContext` rather than a store cursor."""
    services: ServiceContext = request.app.state.services
    return await serve(
        request,
        endpoint,
        params,
        lambda: compute(services),
        fmt=fmt,
        stem=download_stem,
        needs_store=False,
    )


# ================================================================================ routes
@router.get("/geopolrisk", response_model=GeoPolRiskOut, responses=_TABLE)
async def get_geopolrisk(
    request: Request,
    _p: UserCaller,
    importer: ImportersQ = ["EU27"],  # noqa: B006 (FastAPI copies defaults)
    year: YearQ = None,
    material: MaterialsQ = None,
    basis: Basis = Basis.mass,
    compat: Compat = Compat.critmat,
    fmt: FormatQ = "json",
) -> Response:
    """GeoPolRisk (Gemechu et al. 2016; geopolrisk-py 2.0.1) per WMD commodity and importer in
    a year: production HHI, import risk, score, characterization factor (kg Cu-eq/kg), import
    price, with provenance. Same columns as `critmat geopolrisk --format json`; `compat=peer`
    reproduces geopolrisk-py 2.0.1 (mass basis only). See docs/geopolrisk.md."""
    importers = list(importer)
    materials = list(material or [])

    def compute(services: ServiceContext) -> Computed:
        return _geopolrisk_computed(
            risk.geopolrisk_year(services, importers, year, materials, basis.value, compat.value)
        )

    return await _serve(
        request,
        "risk-geopolrisk",
        {
            "importer": importers,
            "material": materials,
            "year": year,
            "basis": basis,
            "compat": compat,
        },
        compute,
        fmt,
        stem("critmat-geopolrisk", "+".join(importers), year, basis.value, compat.value),
    )


@router.get("/criticality", response_model=CriticalityOut, responses=_TABLE)
async def get_criticality(
    request: Request,
    _p: UserCaller,
    year: YearQ = None,
    published_si: PublishedSiQ = True,
    fmt: FormatQ = "json",
) -> Response:
    """EU criticality (2017 methodology, CRMA Annex II §2): one row per material, ranked by
    supply risk over the five data years ending in `year`; `ei` and `critical` are null
    without economic-importance inputs (the service has none). See docs/eu-criticality.md."""

    def compute(services: ServiceContext) -> Computed:
        return _criticality_computed(crit.criticality(services, year, published_si), published_si)

    return await _serve(
        request,
        "risk-criticality",
        {"year": year, "published_si": published_si},
        compute,
        fmt,
        stem("critmat-criticality", year, "" if published_si else "no-published"),
    )


@router.get("/criticality/{material}", response_model=BreakdownOut, responses=_ERRORS)
async def get_criticality_breakdown(
    request: Request,
    material: MaterialPath,
    _p: UserCaller,
    year: YearQ = None,
    published_si: PublishedSiQ = True,
) -> Response:
    """One material's EU supply risk term by term: every stage, every supplier country with
    its share, WGI, trade parameter t and contribution; import reliance, EoL-RIR and SI_SR
    with their sources; EI with each sector when inputs exist (as `critmat criticality
    --explain MATERIAL --format json`)."""

    def compute(services: ServiceContext) -> Computed:
        found = crit.criticality_breakdown(services, material, year, published_si)
        return Computed(breakdown_out(found, published_si))

    return await _serve(
        request,
        "risk-criticality-breakdown",
        {"material": material, "year": year, "published_si": published_si},
        compute,
        "json",
        "critmat-criticality",
    )
