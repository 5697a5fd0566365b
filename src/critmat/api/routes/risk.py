"""Supply-risk methods over the API (every logged-in user): GeoPolRisk and EU criticality.

- ``GET /api/v1/risk/geopolrisk``: GeoPolRisk score and characterization factor per WMD
  commodity for one or more importers in a year (:func:`critmat.risk.geopolrisk.assess`);
- ``GET /api/v1/risk/criticality``: EU supply risk (and EI where inputs exist) of every
  catalogue material (:func:`critmat.risk.eu_criticality.assess`);
- ``GET /api/v1/risk/criticality/{material}``: one material term by term (the ``Breakdown``).

The library computes; this module only caches and presents. Results depend only on the
parameters and the current releases, so they are kept twice: the finished responses in the
statistics response cache (:mod:`critmat.services.cache`, via :func:`stats_state`) and the library
results themselves in :class:`RiskResults`, which the web pages
(:mod:`critmat.web.risk_pages`) share. :func:`geopolrisk_breakdown` takes one GeoPolRisk score
apart by origin (for the web breakdown page) and checks that the parts add up to the library's
numbers.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from critmat.api.routes.stats import (
    CACHE_HEADER,
    Basis,
    FormatQ,
    MaterialPath,
    YearQ,
    cache_key,
    stats_state,
)
from critmat.api.stats_export import MEDIA_TYPES, Table, table_download
from critmat.api.stats_models import ProvenanceOut
from critmat.errors import CritmatError, NoDataError
from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.lookup import check_year
from critmat.indicators.provenance import Provenance
from critmat.reference.materials import load_catalogue
from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.risk._peer import WGI_CENTRE, WGI_MISSING, WGI_SPAN
from critmat.server.deps import UserCaller
from critmat.server.errors import responses
from critmat.services.cache import CachedResponse
from critmat.store import Store

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])

#: Relative tolerance within which a breakdown's parts must add up to the library's figures.
CHECK_TOLERANCE = 1e-9


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
        description="Use the 2023 EU assessment's SI_SR (transcribed) instead of SI_SR = 1 "
        "where no SI is given, to compare with the published SR."
    ),
]

_TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
            MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        }
    }
}
#: Besides 401/422 (added to every route from its access rule and parameters).
_ERRORS: dict[int | str, dict[str, Any]] = {
    **responses(503),
    400: {"description": "A year outside the data."},
    404: {"description": "Unknown material or country (with `suggestions`), or no data."},
}
_TABLE = {**_ERRORS, **_TABLE_RESPONSES}


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
    sr: float | None = Field(description="supply risk (highest stage), unrounded")
    stage: str | None = Field(description="stage the SR comes from")
    basis: str | None = Field(description="GS+EU, or GS only (global supply only)")
    ei: float | None = Field(description="economic importance; null without EI inputs")
    critical: bool | None = Field(description="SR ≥ 1 and EI ≥ 2.8; null without EI")
    sr_meets_threshold: bool | None
    crma_critical: bool = Field(description="listed in CRMA Annex II")
    import_reliance: float | None
    eol_rir: float | None
    si_sr: float | None
    wgi_indicators: str
    years: str
    notes: str


class CriticalityOut(BaseModel):
    year: int
    years: list[int] = Field(description="the window of data years averaged")
    sr_threshold: float
    ei_threshold: float
    published_si: bool
    rows: list[CriticalityRowOut]
    notes: list[str]
    provenance: list[ProvenanceOut]


class TermOut(BaseModel):
    name: str
    symbol: str
    value: float | None
    unit: str
    source: str
    inputs: dict[str, Any]
    note: str


class CountryTermOut(BaseModel):
    country: str
    kind: str
    amount: float
    share: float
    wgi_estimate: float | None
    wgi_scaled: float | None
    wgi_indicators: list[str]
    t: float
    t_reason: str
    contribution: float | None = Field(description="share² · scaled WGI · t")


class ConcentrationOut(BaseModel):
    scope: str = Field(description="GS (global supply) or EUS (EU sourcing)")
    value: float | None = Field(description="HHI_WGI,t = Σ contributions, 0–10")
    unit: str
    source: str
    amount_unit: str
    total: float
    countries: list[CountryTermOut]
    uncovered_share: float
    notes: list[str]


class StageOut(BaseModel):
    stage: str
    commodity: str
    hs_codes: list[str]
    basis: str
    global_supply: ConcentrationOut
    eu_sourcing: ConcentrationOut | None
    import_reliance: TermOut
    eol_rir: TermOut
    si_sr: TermOut
    sr: float | None
    notes: list[str]


class SectorTermOut(BaseModel):
    sector: str
    end_use_share: float
    value_added: float
    product: float
    source: str


class EconomicImportanceOut(BaseModel):
    sectors: list[SectorTermOut]
    sum_aq: float
    value_added_max: float
    scaled_sum: float
    si_ei: float
    ei: float
    source: str
    notes: list[str]


class BreakdownOut(BaseModel):
    material_id: str
    name: str
    year: int
    years: list[int]
    stages: list[StageOut]
    sr: float | None
    sr_stage: str | None
    basis: str | None
    ei: EconomicImportanceOut | None
    sr_meets_threshold: bool | None
    ei_meets_threshold: bool | None
    critical: bool | None
    crma_critical: bool
    wgi_indicators: list[str]
    wgi_note: str
    notes: list[str]
    sr_threshold: float
    ei_threshold: float
    published_si: bool
    terms: list[dict[str, Any]] = Field(
        description="the breakdown flattened, one row per term in the order the equations "
        "combine them (as `critmat criticality --explain M --format csv`)"
    )
    provenance: list[ProvenanceOut]


# ================================================================================ result cache
T = TypeVar("T")


class RiskResults:
    """Library results (not responses) per parameters and current releases: a small LRU with
    single flight, shared by the API and the web pages. Errors are not kept."""

    def __init__(self, max_entries: int = 48) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                found: T = self._data[key]
                return found
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:  # one computation per key; the others wait and then find it
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    done: T = self._data[key]
                    return done
            value = compute()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
                self._flights.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_RESULTS_LOCK = threading.Lock()


def risk_results(request: Request) -> RiskResults:
    """The app's :class:`RiskResults` (created on first use)."""
    found = getattr(request.app.state, "risk_results", None)
    if found is None:
        with _RESULTS_LOCK:
            found = getattr(request.app.state, "risk_results", None)
            if found is None:
                found = RiskResults()
                request.app.state.risk_results = found
    assert isinstance(found, RiskResults)
    return found


def releases_now(request: Request) -> tuple[int, ...]:
    """The current release ids (the statistics cache's fingerprint; re-read at most every s)."""
    fingerprint = stats_state(request).fingerprint
    return fingerprint.current() or fingerprint.refresh()


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


# ================================================================================ GeoPolRisk
def geopolrisk_result(
    request: Request,
    store: Store,
    importers: Sequence[str],
    materials: Sequence[str] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> gpr.GeoPolRiskResult:
    """:func:`critmat.risk.geopolrisk.assess` over every year with data, cached per release."""
    key = (
        "geopolrisk",
        tuple(_norm(i) for i in importers),
        tuple(_norm(m) for m in materials),
        basis,
        compat,
        releases_now(request),
    )
    return risk_results(request).get_or_compute(
        key,
        lambda: gpr.assess(
            store, importers=importers, materials=materials, basis=basis, compat=compat
        ),
    )


def choose_year(years: Sequence[int], year: int | None) -> int:
    """``year`` checked against the GeoPolRisk years (default: the latest)."""
    if year is None:
        return max(years)
    check_year(year, min(years), max(years), "production and trade")
    return year


def geopolrisk_rows(result: gpr.GeoPolRiskResult, year: int) -> pd.DataFrame:
    """The library's rows of ``year``, in its order."""
    rows = result.rows
    return rows.loc[rows["year"] == year].reset_index(drop=True)


GEOPOLRISK_COLUMNS = gpr.OUTPUT_COLUMNS


def plain(value: Any) -> Any:
    """numpy/pandas scalars to Python; NaN and infinities to None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {str(c): plain(v) for c, v in row.items()}
        for row in frame.loc[:, list(columns)].to_dict(orient="records")
    ]


def provenance_out(items: Sequence[Provenance]) -> list[ProvenanceOut]:
    return [ProvenanceOut.model_validate(p.as_dict()) for p in items]


def citation(items: Sequence[Provenance], datasets: Sequence[str] | None = None) -> str:
    """``source version (dataset; years used: ...)`` of each release, joined."""
    chosen = [p for p in items if datasets is None or p.dataset in datasets]
    return "; ".join(p.citation() for p in chosen)


def _geopolrisk_computed(result: gpr.GeoPolRiskResult, year: int) -> tuple[GeoPolRiskOut, Table]:
    rows = _records(geopolrisk_rows(result, year), GEOPOLRISK_COLUMNS)
    used = [replace(p, years=(year,)) for p in result.provenance]
    model = GeoPolRiskOut(
        importers=[s.name for s in result.importers],
        year=year,
        years_available=list(result.years),
        basis=result.basis,
        compat=result.compat,
        rows=[GeoPolRiskRowOut.model_validate(r) for r in rows],
        notes=list(result.notes),
        provenance=provenance_out(used),
    )
    table = Table(columns=list(GEOPOLRISK_COLUMNS), rows=rows, title=f"GeoPolRisk {year}")
    return model, table


# -- breakdown by origin (web page) ---------------------------------------------------------
@dataclass(frozen=True)
class OriginTerm:
    """One origin's part of the import risk: ``weighted = amount · weight`` and
    ``ir_contribution = weighted / (Σ amounts + domestic production)``."""

    origin: str
    amount: float
    quantity_t: float | None
    value_kusd: float
    share_of_imports: float | None
    pv: float | None
    weight: float
    weight_note: str
    weighted: float
    ir_contribution: float | None
    score_contribution: float | None
    unit_value: float | None


@dataclass(frozen=True)
class ProducerTerm:
    """One producing country's part of the production HHI: ``share²``."""

    country: str
    quantity: float
    share: float
    hhi_contribution: float
    member: bool


@dataclass(frozen=True)
class GeoPolRiskBreakdown:
    """One GeoPolRisk score (commodity × importer × year, critmat mode) taken apart."""

    commodity: str
    material: str | None
    importer: ImporterSet
    year: int
    basis: str
    hs_codes: tuple[str, ...]
    hhi: float | None
    import_risk: float | None
    score: float | None
    cf: float | None
    price: float | None
    imports: float
    weighted_imports: float
    domestic_production: float
    production_t: float
    origins: tuple[OriginTerm, ...]
    producers: tuple[ProducerTerm, ...]
    production_unit: str
    production_total: float
    priced_value_kusd: float
    priced_tonnes: float
    sums: dict[str, float | None] = field(default_factory=dict)
    mismatches: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def amount_unit(self) -> str:
        return "t" if self.basis == "mass" else "thousand USD"

    @property
    def denominator(self) -> float:
        return self.imports + self.domestic_production


def canonical_commodity(name: str) -> tuple[str, ...]:
    """The WMD commodities a name stands for (a WMD sheet, or a material's series)."""
    by_key = {_norm(c): c for c in gpr.supported_commodities()}
    exact = by_key.get(_norm(name))
    if exact is not None:
        return (exact,)
    return gpr.resolve_commodities([name])


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=CHECK_TOLERANCE, abs_tol=1e-12)


def geopolrisk_breakdown(
    store: Store, result: gpr.GeoPolRiskResult, commodity: str, year: int
) -> GeoPolRiskBreakdown:
    """Take the library's score of ``commodity`` for the first importer of ``result`` in
    ``year`` apart: world producers (HHI = Σ share²) and origins (import risk = Σ amount ·
    weight / denominator), with the equations of :mod:`critmat.risk.geopolrisk` (critmat mode).

    The parts are recomputed from the canonical tables and compared with the library's row;
    a difference beyond :data:`CHECK_TOLERANCE` is listed in ``mismatches`` (never hidden).
    """
    if result.compat != "critmat":
        raise CritmatError("the breakdown shows critmat's mode only", hint="drop compat=peer")
    importer = result.importers[0]
    rows = result.rows
    found = rows.loc[
        (rows["wmd_commodity"] == commodity)
        & (rows["importer"] == importer.name)
        & (rows["year"] == year)
    ]
    if found.empty:
        raise NoDataError(f"no GeoPolRisk row for {commodity}, {importer.name}, {year}")
    row = {k: plain(v) for k, v in found.iloc[0].to_dict().items()}
    codes = gpr.commodity_codes([commodity])[commodity]
    basis = result.basis

    # -- world production: HHI = Σ share² over the countries with a figure
    production = store.con.execute(
        "SELECT country, quantity, unit FROM production "
        "WHERE commodity = ? AND year = ? AND quantity IS NOT NULL AND quantity > 0 "
        "ORDER BY quantity DESC, country",
        [commodity, year],
    ).fetchall()
    total = float(sum(float(q) for _c, q, _u in production))
    unit = str(production[0][2]) if production else ""
    producers = tuple(
        ProducerTerm(
            country=str(c),
            quantity=float(q),
            share=float(q) / total,
            hhi_contribution=(float(q) / total) ** 2,
            member=str(c) in importer.members,
        )
        for c, q, _u in production
    )

    # -- imports by origin (only flows from outside the importer set) and their weights
    flows = import_flows(store.con, [importer], codes, [year])
    pv = dict(
        store.con.execute(
            "SELECT country, estimate FROM governance WHERE indicator = 'PV' AND year = ? "
            "AND estimate IS NOT NULL AND NOT isnan(estimate)",
            [year],
        ).fetchall()
    )
    origins_raw: list[tuple[str, float | None, float, float]] = []
    priced_value = priced_tonnes = 0.0
    for origin, group in flows.groupby("origin", sort=False):
        has_q = group["quantity_t"].notna()
        quantity = float(group.loc[has_q, "quantity_t"].sum()) if has_q.any() else None
        value = float(group["value_kusd"].sum())
        valued = float(
            (group.loc[has_q, "value_kusd"] - group.loc[has_q, "value_kusd_no_quantity"]).sum()
        )
        if quantity is not None and quantity > 0:
            priced_value += valued
            priced_tonnes += quantity
        origins_raw.append((str(origin), quantity, value, valued))
    amounts = [(o, (q or 0.0) if basis == "mass" else v, q, v, vq) for o, q, v, vq in origins_raw]
    imports = sum(a for _o, a, _q, _v, _vq in amounts)
    domestic = float(row["domestic_production"] or 0.0)
    denominator = imports + domestic
    hhi = row["hhi"]
    origins: list[OriginTerm] = []
    for origin, amount, quantity, value, valued in amounts:
        estimate = pv.get(origin)
        if estimate is None:
            weight, note = WGI_MISSING, f"no PV estimate for {year}: {WGI_MISSING} used"
        else:
            weight = min(1.0, max(0.0, (WGI_CENTRE - float(estimate)) / WGI_SPAN))
            note = ""
        weighted = amount * weight
        ir_part = weighted / denominator if denominator > 0 else None
        origins.append(
            OriginTerm(
                origin=origin,
                amount=amount,
                quantity_t=quantity,
                value_kusd=value,
                share_of_imports=amount / imports if imports > 0 else None,
                pv=None if estimate is None else float(estimate),
                weight=weight,
                weight_note=note,
                weighted=weighted,
                ir_contribution=ir_part,
                score_contribution=None if ir_part is None or hhi is None else hhi * ir_part,
                unit_value=valued / quantity if quantity else None,
            )
        )
    origins.sort(key=lambda o: (-(o.weighted), -o.amount, o.origin))
    weighted_total = sum(o.weighted for o in origins)
    ir_sum = weighted_total / denominator if denominator > 0 else None
    score_sum = None if ir_sum is None or hhi is None else hhi * ir_sum
    price = priced_value / priced_tonnes if priced_tonnes > 0 else None
    sums: dict[str, float | None] = {
        "hhi": sum(p.hhi_contribution for p in producers) if producers else None,
        "imports": imports,
        "weighted_imports": weighted_total,
        "import_risk": ir_sum,
        "score": score_sum,
        "price_usd_per_kg": price,
    }
    library = {
        "hhi": row["hhi"],
        "imports": row["imports"],
        "weighted_imports": row["weighted_imports"],
        "import_risk": row["import_risk"],
        "score": row["score"],
        "price_usd_per_kg": row["price_usd_per_kg"],
    }
    mismatches = tuple(
        f"{k}: parts add up to {sums[k]!r}, the library gives {library[k]!r}"
        for k in sums
        if not _close(sums[k], library[k])
    )
    notes = [
        "only flows from outside the importer count (a group is one economy)",
        "imports without a quantity are left out of the tonnes and the price",
        f"weight = clip(({WGI_CENTRE:g} − PV) / {WGI_SPAN:g}, 0, 1); no PV estimate: "
        f"{WGI_MISSING:g}",
    ]
    if basis == "value":
        notes.append("value basis: domestic production valued at the import unit value")
    return GeoPolRiskBreakdown(
        commodity=commodity,
        material=row["material"],
        importer=importer,
        year=year,
        basis=basis,
        hs_codes=tuple(codes),
        hhi=hhi,
        import_risk=row["import_risk"],
        score=row["score"],
        cf=row["cf"],
        price=row["price_usd_per_kg"],
        imports=float(row["imports"] or 0.0),
        weighted_imports=float(row["weighted_imports"] or 0.0),
        domestic_production=domestic,
        production_t=float(row["production_t"] or 0.0),
        origins=tuple(origins),
        producers=producers,
        production_unit=unit,
        production_total=total,
        priced_value_kusd=priced_value,
        priced_tonnes=priced_tonnes,
        sums=sums,
        mismatches=mismatches,
        provenance=tuple(replace(p, years=(year,)) for p in result.provenance),
        notes=tuple(notes),
    )


# ================================================================================ criticality
def criticality_result(
    request: Request, store: Store, year: int | None, published_si: bool
) -> euc.Assessment:
    """:func:`critmat.risk.eu_criticality.assess` of every material, cached per release."""
    key = ("criticality", year, published_si, releases_now(request))
    return risk_results(request).get_or_compute(
        key, lambda: euc.assess(store.con, year=year, published_si=published_si)
    )


def criticality_breakdown(
    request: Request, store: Store, material: str, year: int | None, published_si: bool
) -> tuple[euc.Breakdown, euc.Assessment]:
    """One material's breakdown: from the cached full assessment, or (energy raw materials,
    left out of it) assessed alone. Unknown names raise ``UnknownNameError``."""
    resolved = load_catalogue().resolve(material).material
    assessment = criticality_result(request, store, year, published_si)
    try:
        return assessment.get(resolved.id), assessment
    except KeyError:
        key = ("criticality-one", resolved.id, year, published_si, releases_now(request))
        alone = risk_results(request).get_or_compute(
            key,
            lambda: euc.assess(
                store.con, year=year, materials=[resolved.id], published_si=published_si
            ),
        )
        return alone.get(resolved.id), alone


def ranked(assessment: euc.Assessment) -> list[euc.Breakdown]:
    """Breakdowns by SR, highest first; those without SR last (by name)."""
    return sorted(
        assessment.breakdowns,
        key=lambda b: (b.sr is None, -(b.sr or 0.0), b.name.casefold()),
    )


def criticality_row(b: euc.Breakdown, rank: int | None) -> dict[str, Any]:
    """One summary row (unrounded values; the CLI's row rounds)."""
    stage = b.headline_stage
    summary = b.row()
    return {
        "rank": rank,
        "material": b.material_id,
        "name": b.name,
        "sr": plain(b.sr),
        "stage": b.sr_stage,
        "basis": b.basis,
        "ei": plain(b.ei.ei) if b.ei else None,
        "critical": b.critical,
        "sr_meets_threshold": b.sr_meets_threshold,
        "crma_critical": b.crma_critical,
        "import_reliance": plain(stage.import_reliance.value) if stage else None,
        "eol_rir": plain(stage.eol_rir.value) if stage else None,
        "si_sr": plain(stage.si_sr.value) if stage else None,
        "wgi_indicators": "+".join(b.wgi_indicators),
        "years": summary["years"],
        "notes": summary["notes"],
    }


def criticality_rows(assessment: euc.Assessment) -> list[dict[str, Any]]:
    out = []
    rank = 0
    for b in ranked(assessment):
        if b.sr is not None:
            rank += 1
        out.append(criticality_row(b, rank if b.sr is not None else None))
    return out


CRITICALITY_COLUMNS = tuple(CriticalityRowOut.model_fields)


def _criticality_computed(
    assessment: euc.Assessment, published_si: bool
) -> tuple[CriticalityOut, Table]:
    rows = criticality_rows(assessment)
    model = CriticalityOut(
        year=assessment.year,
        years=list(assessment.years),
        sr_threshold=euc.SR_THRESHOLD,
        ei_threshold=euc.EI_THRESHOLD,
        published_si=published_si,
        rows=[CriticalityRowOut.model_validate(r) for r in rows],
        notes=list(assessment.notes),
        provenance=provenance_out(list(assessment.provenance)),
    )
    years = f"{assessment.years[0]}-{assessment.years[-1]}"
    table = Table(columns=list(CRITICALITY_COLUMNS), rows=rows, title=f"EU SR {years}")
    return model, table


def json_ready(value: Any) -> Any:
    """Nested dicts/lists/tuples with NaN and infinities as None and numpy scalars as Python."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return plain(value)


def breakdown_out(b: euc.Breakdown, assessment: euc.Assessment, published_si: bool) -> BreakdownOut:
    data = json_ready(b.as_dict())
    data.update(
        basis=b.basis,
        sr_threshold=euc.SR_THRESHOLD,
        ei_threshold=euc.EI_THRESHOLD,
        published_si=published_si,
        terms=json_ready(euc.explain_rows(b)),
        provenance=provenance_out(list(assessment.provenance)),
    )
    return BreakdownOut.model_validate(data)


# ================================================================================ serving
Computed = tuple[BaseModel, Table | None]


async def _serve(
    request: Request,
    endpoint: str,
    params: Mapping[str, object],
    compute: Callable[[Store], Computed],
    fmt: Literal["json", "csv", "xlsx"],
    stem: str,
) -> Response:
    """Answer from the statistics response cache, computing in its pool on a miss."""
    state = stats_state(request)
    releases = state.fingerprint.current()
    if releases is None:
        releases = await run_in_threadpool(state.fingerprint.refresh)
    key = cache_key(endpoint, params, fmt, releases)
    entry = state.cache.response(key)
    status = "hit"
    if entry is None:
        status = "miss"

        def work() -> CachedResponse:
            store = state.hub.store()
            try:
                model, table = compute(store)
            finally:
                store.close()
            if fmt == "json":
                return CachedResponse(model.model_dump_json().encode(), "application/json")
            assert table is not None
            body, media_type, disposition = table_download(table, fmt, stem)
            return CachedResponse(body, media_type, (("Content-Disposition", disposition),))

        entry = await anyio.to_thread.run_sync(
            state.cache.get_or_compute, key, work, limiter=state.compute_limiter
        )
    headers = dict(entry.headers)
    headers[CACHE_HEADER] = status
    return Response(content=entry.body, media_type=entry.media_type, headers=headers)


def _stem(*parts: object) -> str:
    return "-".join(str(p) for p in parts if p is not None and p != "")


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

    def compute(store: Store) -> Computed:
        result = geopolrisk_result(request, store, importers, materials, basis.value, compat.value)
        return _geopolrisk_computed(result, choose_year(result.years, year))

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
        _stem("critmat-geopolrisk", "+".join(importers), year, basis.value, compat.value),
    )


@router.get("/criticality", response_model=CriticalityOut, responses=_TABLE)
async def get_criticality(
    request: Request,
    _p: UserCaller,
    year: YearQ = None,
    published_si: PublishedSiQ = False,
    fmt: FormatQ = "json",
) -> Response:
    """EU criticality (2017 methodology, CRMA Annex II §2): one row per material, ranked by
    supply risk over the five data years ending in `year`; `ei` and `critical` are null
    without economic-importance inputs (the service has none). See docs/eu-criticality.md."""

    def compute(store: Store) -> Computed:
        return _criticality_computed(
            criticality_result(request, store, year, published_si), published_si
        )

    return await _serve(
        request,
        "risk-criticality",
        {"year": year, "published_si": published_si},
        compute,
        fmt,
        _stem("critmat-criticality", year, "published-si" if published_si else ""),
    )


@router.get("/criticality/{material}", response_model=BreakdownOut, responses=_ERRORS)
async def get_criticality_breakdown(
    request: Request,
    material: MaterialPath,
    _p: UserCaller,
    year: YearQ = None,
    published_si: PublishedSiQ = False,
) -> Response:
    """One material's EU supply risk term by term: every stage, every supplier country with
    its share, WGI, trade parameter t and contribution; import reliance, EoL-RIR and SI_SR
    with their sources; EI with each sector when inputs exist (as `critmat criticality
    --explain MATERIAL --format json`)."""

    def compute(store: Store) -> Computed:
        b, assessment = criticality_breakdown(request, store, material, year, published_si)
        return breakdown_out(b, assessment, published_si), None

    return await _serve(
        request,
        "risk-criticality-breakdown",
        {"material": material, "year": year, "published_si": published_si},
        compute,
        "json",
        "critmat-criticality",
    )
