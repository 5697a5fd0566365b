"""Production by value-chain stage (every logged-in user): ``GET /api/v1/production`` and
``GET /api/v1/production/stages``.

The answers are :func:`critmat.services.statistics.stage_production` and
:func:`~critmat.services.statistics.production_stages`; the routes validate the parameters and
hand the question to :func:`critmat.api.stats_serving.serve`, which answers from the response
cache or computes, encodes and caches. ``format=csv`` or ``format=xlsx`` download the table.
World Mining Data's answer stays at ``/api/v1/materials/{material}/production``
(:mod:`critmat.api.routes.stats`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from critmat.api.query import FormatQ, RequiredMaterialQ, StageQuestion, route_responses, stem
from critmat.api.stats_serving import serve
from critmat.server.deps import UserCaller
from critmat.services import statistics as svc
from critmat.services import statistics_models as m

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["statistics"])

_TABLE = route_responses("Unknown material or stage (with `suggestions`), or no series/data.")


@router.get("/production", response_model=m.StageProductionOut, responses=_TABLE)
async def get_stage_production(
    request: Request, _p: UserCaller, ask: Annotated[StageQuestion, Depends()]
) -> Response:
    """World production of a material at one value-chain stage, by country: each year from
    the first of the stage's production series that holds it (USGS MCS, IEA CMDE, World Mining
    Data), naming its series, release and stage; withheld figures are ``null``. ``stage``
    accepts synonyms (refining → processing); without it, the first stage with figures."""
    return await serve(
        request,
        "stage-production",
        ask.params(),
        lambda store: svc.stage_production(store, ask.material, ask.stage, ask.year),
        fmt=ask.fmt,
        stem=stem("critmat-production", *ask.params().values()),
    )


@router.get("/production/stages", response_model=m.ProductionStagesOut, responses=_TABLE)
async def get_production_stages(
    request: Request, material: RequiredMaterialQ, _p: UserCaller, fmt: FormatQ = "json"
) -> Response:
    """Every value-chain stage of a material with its production series in order of
    preference, the years each holds, and the years the stage has figures for."""
    return await serve(
        request,
        "production-stages",
        {"material": material},
        lambda store: svc.production_stages(store, material),
        fmt=fmt,
        stem=stem("critmat-production-stages", material),
    )
