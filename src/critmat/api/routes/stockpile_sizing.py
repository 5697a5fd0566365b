"""Strategic stockpiles over the API: stockpile sizing (docs/stockpile-sizing.md).

- ``POST /api/v1/stockpiles/sizing``: materials (and optionally library scenarios), runs,
  confidence, horizon, budget, prices, holding cost, priority weights → the sized stock per
  material and importer beside the 60- and 100-day rules, the cost curves, the MILP's size and
  the provenance (:class:`critmat.services.stockpile_sizing.SizingOut`). With
  ``save_target: true`` each sized stock is stored as the stock target through the holdings
  ledger (audited; a member_state user may only set its own country's).

Access: ``STOCKPILE_ANALYSIS`` (analyst, member_state, admin). Bounds: at most
:data:`MAX_MATERIALS` materials, :data:`MAX_RUNS` runs per scenario and :data:`MAX_TOTAL_RUNS`
runs in all, computed in a worker thread of this process. Errors: 400 for parameters the
sizing cannot run with, 404 for an unknown material, 422 for a malformed body (``problems``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from critmat.api.routes.stockpiles import AnalysisCaller, platform_url, stock_viewer
from critmat.server.errors import responses
from critmat.services import stockpile_sizing as sizing
from critmat.services.context import ServiceContext
from critmat.stockpiles.sizing import DEFAULT_SECTOR_WEIGHTS

__all__ = ["MAX_MATERIALS", "MAX_RUNS", "MAX_TOTAL_RUNS", "SizingIn", "router"]

router = APIRouter(prefix="/api/v1/stockpiles", tags=["stockpiles"])

MAX_MATERIALS = 34
MAX_RUNS = sizing.MAX_RUNS
#: Runs over every scenario of a request (about half a millisecond a run).
MAX_TOTAL_RUNS = 10_000

Name = Annotated[str, Field(min_length=1, max_length=80)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SizingIn(BaseModel):
    """A sizing request (the CLI's ``critmat stockpile size`` options)."""

    materials: list[Name] = Field(min_length=1, max_length=MAX_MATERIALS)
    scenarios: list[Name] = Field(
        default_factory=list, max_length=40, description="library names; [] = every one"
    )
    runs: int = Field(default=1000, ge=1, le=MAX_RUNS, description="runs per scenario")
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    confidence: float = Field(default=0.95, gt=0, le=1, description="share of runs to cover")
    horizon_months: int = Field(default=24, ge=1, le=sizing.MAX_HORIZON)
    budget_eur: Positive | None = None
    prices_eur_t: dict[Name, Positive] = Field(
        default_factory=dict, description='EUR/t by material; "*" for every material'
    )
    holding_cost: float = Field(default=0.02, ge=0, le=1, allow_inf_nan=False)
    member_states: bool = Field(default=False, description="size each Member State")
    member_state_weights: dict[Name, Positive] = Field(default_factory=dict)
    sector_weights: dict[Name, Positive] = Field(
        default_factory=lambda: dict(DEFAULT_SECTOR_WEIGHTS)
    )
    save_target: bool = Field(default=False, description="store each stock as its target")


_ERRORS: dict[int | str, dict[str, Any]] = {
    **responses(503),
    400: {"description": "Parameters the sizing cannot run with (named in `error`)."},
    404: {"description": "Unknown material, or no data for a scenario's baseline."},
}


@router.post("/sizing", response_model=sizing.SizingOut, responses=_ERRORS)
async def size_stocks(body: SizingIn, caller: AnalysisCaller, request: Request) -> Any:
    """Size stock targets against stress-test shortfalls (a chance-constrained MILP solved
    with HiGHS), beside the 60- and 100-day rules; optionally store them as targets."""
    services: ServiceContext = request.app.state.services

    def answer() -> dict[str, Any]:
        store = services.open_store()
        try:
            sized = sizing.size(
                _request(body), store, context=services, max_total_runs=MAX_TOTAL_RUNS
            )
        finally:
            store.close()
        if body.save_target:
            url = platform_url(request)
            sizing.save_targets(sized, stock_viewer(caller), database_url=url)
        return sizing.document(sized)

    return await run_in_threadpool(answer)


def _request(body: SizingIn) -> sizing.SizingRequest:
    weights = sizing.parse_member_state_weights(
        [f"{k}={v}" for k, v in body.member_state_weights.items()]
    )
    prices = sizing.parse_prices([f"{k}={v}" for k, v in body.prices_eur_t.items()])
    return sizing.SizingRequest(
        materials=tuple(body.materials),
        scenarios=tuple(body.scenarios),
        runs=body.runs,
        seed=body.seed,
        confidence=body.confidence,
        horizon_months=body.horizon_months,
        budget_eur=body.budget_eur,
        prices_eur_t=prices,
        holding_cost=body.holding_cost,
        member_states=body.member_states,
        member_state_weights=weights,
        sector_weights=body.sector_weights,
    )
