"""Origin tracing (every logged-in user): an importer's imports of a material stage by shipping
country and by country of origin.

The answer is :func:`critmat.services.origins.origins` (re-export correction, see
``docs/methods.md``); the route validates the parameters and hands the question to
:func:`critmat.api.stats_serving.serve`, which answers from the response cache or computes,
encodes and caches. ``format=csv`` or ``format=xlsx`` download both views as one table.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from critmat.api.query import TABLE_RESPONSES, FormatQ, ImporterQ, StageQ, YearQ, stem
from critmat.api.stats_serving import serve
from critmat.server.deps import UserCaller
from critmat.server.errors import responses
from critmat.services.origins import OriginsOut
from critmat.services.origins import origins as trace

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["statistics"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **responses(400, 503),
    404: {"description": "Unknown material, stage or country (with `suggestions`), or no data."},
    **TABLE_RESPONSES,
}

#: The material whose imports are traced (required).
_MaterialQ = Annotated[
    str, Query(min_length=1, max_length=100, description="Material id, name or alias.")
]


@router.get("/origins", response_model=OriginsOut, responses=_RESPONSES)
async def get_origins(
    request: Request,
    material: _MaterialQ,
    _p: UserCaller,
    importer: ImporterQ = "EU27",
    stage: StageQ = None,
    year: YearQ = None,
    fmt: FormatQ = "json",
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
        {"material": material, "importer": importer, "stage": stage, "year": year},
        lambda store: trace(store, material, importer, stage, year),
        fmt=fmt,
        stem=stem("critmat-origins", material, importer, stage, year),
    )
