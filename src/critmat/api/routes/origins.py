"""Origin tracing (every logged-in user): an importer's imports of a material stage by shipping
country and by country of origin.

The answer is :func:`critmat.services.origins.origins` (re-export correction, see
``docs/methods.md``); the route validates the parameters and hands the question to
:func:`critmat.api.stats_serving.serve`, which answers from the response cache or computes,
encodes and caches. ``format=csv`` or ``format=xlsx`` download both views as one table.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from critmat.api.query import ImportedStageQuestion, route_responses, stem
from critmat.api.stats_serving import serve
from critmat.server.deps import UserCaller
from critmat.services.origins import OriginsOut
from critmat.services.origins import origins as trace

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["statistics"])

_RESPONSES = route_responses("Unknown material, stage or country (with `suggestions`), or no data.")


@router.get("/origins", response_model=OriginsOut, responses=_RESPONSES)
async def get_origins(
    request: Request, _p: UserCaller, ask: Annotated[ImportedStageQuestion, Depends()]
) -> Response:
    """An importer's imports of a material stage by the last shipping country (BACI) and by
    the country where it was produced (re-export correction: the world trade network of the
    stage's HS92 codes solved with production as its source term). Names the trade release and
    the production series and release; tonnes of unknown origin are the row ``unattributed``.
    ``stage`` accepts synonyms (refining → processing); without it, the first traceable stage;
    without ``year``, the latest year with both trade and production."""
    return await serve(
        request,
        "origins",
        ask.params(),
        lambda store: trace(store, ask.material, ask.importer, ask.stage, ask.year),
        fmt=ask.fmt,
        stem=stem("critmat-origins", ask.material, ask.importer, ask.stage, ask.year),
    )
