"""EU supply risk against the 2023 assessment, and what the next assessment would say (every
logged-in user).

- ``GET /api/v1/risk/criticality-validation?year=``: critmat's SR per material against the
  2023 assessment's published SR, with the Spearman rank correlation (default window
  2018–2022, :data:`critmat.risk._eu_validation.VALIDATION_YEAR`);
- ``GET /api/v1/risk/criticality-next?year=``: the newest window against the 2023 list, which
  materials would meet or cross the thresholds (SR ≥ 1 and EI ≥ 2.8; EI of 2023, said per row).

:mod:`critmat.services.risk_criticality` answers; both use the 2023 SI_SR, EoL-RIR and stage
choice. Same documents as `critmat criticality --validate` / `--next --format json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from critmat.api.query import FormatQ, YearQ, stem
from critmat.api.routes.risk import _TABLE, ProductionSeries, TradeSeries, WindowOut, _serve
from critmat.server.deps import UserCaller
from critmat.services import risk_criticality as crit
from critmat.services.context import ServiceContext
from critmat.services.statistics_models import Computed, table

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


class ValidationRowOut(BaseModel):
    material: str
    published_sr: float = Field(description="the 2023 assessment's SR (headline stage)")
    published_stage: str
    published_basis: str | None = Field(description="GS+EU, GSonly, EUonly as published")
    published_same_stage: float | None = Field(description="2023 SR of critmat's stage")
    sr: float = Field(description="critmat's SR, two decimals")
    stage: str
    basis: str
    difference: float = Field(description="sr − published_sr")
    same_side: bool = Field(description="both SR ≥ 1 or both below")
    production_series: ProductionSeries
    trade_series: TradeSeries


class ValidationOut(WindowOut):
    spearman: float | None = Field(description="Spearman rank correlation of sr, published_sr")
    n: int
    same_side: int
    within_0_5: int = Field(description="materials with |difference| ≤ 0.5")
    rows: list[ValidationRowOut]


class OutlookRowOut(BaseModel):
    material: str
    name: str
    sr: float | None
    sr_stage: str | None
    sr_2023: float | None
    sr_change: str = Field(description="SR ≥ 1 against 2023: enters, leaves, stays, stays out")
    ei: float | None
    ei_source: str
    meets_2023: bool | None = Field(description="SR ≥ 1 and EI ≥ 2.8 in the 2023 assessment")
    meets_now: bool | None = Field(description="SR here ≥ 1 and EI ≥ 2.8; null without EI")
    change: str = Field(description="enters, leaves, stays, stays out or no data")
    crma_critical: bool


class OutlookOut(WindowOut):
    crossing: list[str] = Field(description="materials entering or leaving, or whose SR crosses 1")
    rows: list[OutlookRowOut]


def _computed(
    model: BaseModel, document: dict[str, Any], columns: Sequence[str], title: str
) -> Computed:
    years = document["years"]
    return Computed(model, table(columns, document["rows"], f"{title} {years[0]}-{years[-1]}"))


def _validation(services: ServiceContext, year: int | None) -> Computed:
    document = crit.validation_document(crit.criticality_validation(services, year))
    model = ValidationOut.model_validate(document)
    return _computed(model, document, crit.VALIDATION_COLUMNS, "EU SR vs 2023")


def _outlook(services: ServiceContext, year: int | None) -> Computed:
    document = crit.outlook_document(crit.criticality_outlook(services, year))
    model = OutlookOut.model_validate(document)
    return _computed(model, document, crit.OUTLOOK_COLUMNS, "EU SR next")


@router.get("/criticality-validation", response_model=ValidationOut, responses=_TABLE)
async def get_criticality_validation(
    request: Request, _p: UserCaller, year: YearQ = None, fmt: FormatQ = "json"
) -> Response:
    """critmat's EU supply risk per material against the 2023 assessment's published SR, and
    the Spearman rank correlation over all comparable materials (`year` ends the five-year
    window; default 2022). See docs/eu-criticality.md, "Validation"."""
    return await _serve(
        request,
        "risk-criticality-validation",
        {"year": year},
        lambda services: _validation(services, year),
        fmt,
        stem("critmat-criticality-validation", year),
    )


@router.get("/criticality-next", response_model=OutlookOut, responses=_TABLE)
async def get_criticality_next(
    request: Request, _p: UserCaller, year: YearQ = None, fmt: FormatQ = "json"
) -> Response:
    """What the next assessment would say: SR on the newest five data years (or those ending
    in `year`) against the 2023 list, and which materials would cross the thresholds (SR ≥ 1,
    EI ≥ 2.8 with the 2023 EI). See docs/eu-criticality.md, "The next assessment"."""
    return await _serve(
        request,
        "risk-criticality-next",
        {"year": year},
        lambda services: _outlook(services, year),
        fmt,
        stem("critmat-criticality-next", year),
    )
