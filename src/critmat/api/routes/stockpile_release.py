"""Strategic stockpiles over the API: stockpile release (docs/stockpile-release.md). Every
route is stockpile analysis (analysts, Member State users, admins); answers come from
:mod:`critmat.services.stockpile_release`.

- ``POST /api/v1/stockpiles/release``: stock, rule and requests (at most 27 × 50 × 34 rows) →
  every award with its explanation, the tiers and totals; recorded in the audit log;
- ``POST /api/v1/stockpiles/release/from-stress``: a library scenario (and optionally the
  stock) → the stored triggers evaluated on its run and the allocations they fire; audited;
- ``GET /api/v1/stockpiles/triggers``, ``POST /api/v1/stockpiles/triggers``,
  ``DELETE /api/v1/stockpiles/triggers/{trigger_id}``: triggers agreed in advance.

Input the rules refuse (a missing consumption under ``proportional``, a repeated Member State
and sector, a trigger without threshold) is 422 with ``problems`` naming each field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from critmat.config import Settings
from critmat.server.access import STOCKPILE_ANALYSIS
from critmat.server.deps import Principal, allow
from critmat.server.errors import responses
from critmat.server.params import DbId
from critmat.services import stockpile_release as service
from critmat.services.context import ServiceContext
from critmat.services.stress import UnknownScenario
from critmat.stockpiles.allocation import AllocationInputError
from critmat.stockpiles.allocation import Request as AllocationRequest
from critmat.stockpiles.triggers import Condition, TriggerInputError, TriggerSpec

router = APIRouter(prefix="/api/v1/stockpiles", tags=["stockpiles"])

AnalysisCaller = Annotated[Principal, Depends(allow(STOCKPILE_ANALYSIS))]


class RequestIn(BaseModel):
    """One Member State × sector asking for stock."""

    member_state: str = Field(min_length=2, max_length=4, examples=["DEU"])
    sector: str = Field(min_length=1, max_length=120, examples=["defence"])
    requested_t: float = Field(ge=0, le=1e12, description="tonnes asked for (a cap)")
    consumption_t: float | None = Field(
        default=None, ge=0, le=1e12, description="pre-crisis consumption, t/year"
    )
    tier: int = Field(default=1, ge=1, le=100, description="1 is served first")
    declines: bool = False


class ReleaseIn(BaseModel):
    """An allocation to compute."""

    stock_t: float = Field(ge=0, le=1e12, description="stock available for release, tonnes")
    rule: service.Rule = "proportional"
    requests: list[RequestIn] = Field(min_length=1, max_length=service.MAX_REQUESTS)


class FromStressIn(BaseModel):
    """A library scenario whose run fires the stored triggers."""

    scenario: str = Field(min_length=1, max_length=120, examples=["rare-earths-2025-04"])
    stock_t: float | None = Field(
        default=None, ge=0, le=1e12, description="replaces the stock the run has left, tonnes"
    )


class TriggerIn(BaseModel):
    """A release trigger agreed in advance."""

    material: str = Field(min_length=1, max_length=60)
    condition: Condition = "shortfall"
    importer: str = Field(default="EU27", max_length=4)
    threshold_pct: float | None = Field(default=None, description="% of demand (shortfall)")
    months: int | None = Field(default=None, description="consecutive months (shortfall)")
    measure_id: str | None = Field(default=None, max_length=60, description="registry id")
    rule: service.Rule = "proportional"
    tiers: dict[str, int] = Field(default_factory=dict, max_length=60)
    agreed_by: str = Field(min_length=1, max_length=300)
    agreed_on: date
    note: str = Field(default="", max_length=2000)


def _actor(request: Request, principal: Principal) -> service.Actor:
    client = request.client
    return service.Actor(
        principal.email,
        principal.user_id,
        principal.organisation_id,
        client.host if client else None,
    )


def _url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.platform_url


def _invalid(exc: AllocationInputError | TriggerInputError) -> JSONResponse:
    body: dict[str, Any] = {"error": str(exc), "hint": exc.hint, "problems": exc.problems}
    return JSONResponse(body, status_code=422)


@router.post("/release", response_model=service.ReleaseAnswer, responses=responses(400))
async def release(
    body: ReleaseIn, request: Request, principal: AnalysisCaller
) -> Response | service.ReleaseAnswer:
    """Allocate a released stock to requests by Member State and sector."""
    requests = [AllocationRequest(**r.model_dump()) for r in body.requests]
    try:
        return await run_in_threadpool(
            service.allocate_release,
            body.stock_t,
            requests,
            body.rule,
            source=f"API request of {principal.email}",
            actor=_actor(request, principal),
            database_url=_url(request),
        )
    except AllocationInputError as exc:
        return _invalid(exc)


@router.post(
    "/release/from-stress",
    response_model=service.StressReleaseAnswer,
    responses=responses(400, 404),
)
async def release_from_stress(
    body: FromStressIn, request: Request, principal: AnalysisCaller
) -> Response | service.StressReleaseAnswer:
    """Fire the stored triggers of the scenario's material on its run; allocate for each."""
    services: ServiceContext = request.app.state.services

    def compute() -> service.StressReleaseAnswer:
        store = services.open_store()
        try:
            return service.simulate_from_stress(
                body.scenario,
                store,
                context=services,
                stock_t=body.stock_t,
                actor=_actor(request, principal),
                database_url=_url(request),
            )
        finally:
            store.close()

    try:
        return await run_in_threadpool(compute)
    except UnknownScenario as exc:
        return JSONResponse({"error": str(exc), "name": exc.name}, status_code=404)


@router.get("/triggers", response_model=list[service.TriggerOut], responses=responses(404))
async def list_triggers(
    request: Request,
    _p: AnalysisCaller,
    material: str | None = None,
    removed: bool = False,
) -> list[service.TriggerOut]:
    """The stored release triggers (of one material), oldest first."""
    return await run_in_threadpool(
        service.list_triggers, material, include_removed=removed, database_url=_url(request)
    )


@router.post(
    "/triggers",
    response_model=service.TriggerOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(400, 404),
)
async def add_trigger(
    body: TriggerIn, request: Request, principal: AnalysisCaller
) -> Response | service.TriggerOut:
    """Store a release trigger agreed in advance (audited)."""
    spec = TriggerSpec(**body.model_dump(exclude={"agreed_by", "agreed_on", "note"}))
    try:
        return await run_in_threadpool(
            service.add_trigger,
            spec,
            agreed_by=body.agreed_by,
            agreed_on=body.agreed_on,
            note=body.note,
            actor=_actor(request, principal),
            database_url=_url(request),
        )
    except TriggerInputError as exc:
        return _invalid(exc)


@router.delete(
    "/triggers/{trigger_id}", response_model=service.TriggerOut, responses=responses(404)
)
async def remove_trigger(
    trigger_id: DbId, request: Request, principal: AnalysisCaller
) -> service.TriggerOut:
    """Remove a trigger (kept in the record as removed; audited)."""
    return await run_in_threadpool(
        service.remove_trigger,
        trigger_id,
        actor=_actor(request, principal),
        database_url=_url(request),
    )
