"""The Member State view over the API (every logged-in user), answered by
:mod:`critmat.services.member_states` (docs/guide.md, "Member States"):

- ``GET /api/v1/member-states/{country}/dependencies``: one Member State's dependencies for
  every strategic material stage (``material``: one material, ``stage``: one of its stages),
  extra- and intra-EU shares, the top extra-EU supplier, the 65 % flag (null: no data) and the
  trend year by year, each figure naming its trade release, series and HS codes;
- ``GET /api/v1/member-states?material=&stage=&year=``: the 27 side by side for one material
  stage (27 rows; a Member State without imports has nulls).

Both answer ``format=csv|xlsx`` with a table of the same figures (one row per stage or per
Member State). An unknown country is 404 with suggestions ("GER" → DEU); a country outside the
EU is 400 saying so. Per-material Member State concentration as before stays at
``/api/v1/materials/{material}/member-states`` (:mod:`critmat.api.routes.stats`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from critmat.api.query import Basis, FormatQ, StageQ, YearQ, route_responses, stem
from critmat.api.stats_serving import Format, serve
from critmat.server.deps import UserCaller
from critmat.services import member_states as svc
from critmat.services.statistics_models import Computed
from critmat.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["member states"])

_ERRORS = route_responses("Unknown country or material (with `suggestions`).")
CountryPath = Annotated[
    str, Path(min_length=2, max_length=80, description="A Member State: ISO3 code or name.")
]
OneMaterialQ = Annotated[
    str | None,
    Query(max_length=100, description="One material (default: every strategic raw material)."),
]
MaterialRequiredQ = Annotated[
    str, Query(min_length=1, max_length=100, description="Material id, name, alias or symbol.")
]


@dataclass(frozen=True)
class Figures:
    """How the figures are read: the stage (None: every stage, or the catalogue's choice), the
    year (None: the latest with data), the basis of the shares and the response format."""

    stage: str | None
    year: int | None
    basis: str
    fmt: Format


def _figures(
    stage: StageQ = None, year: YearQ = None, basis: Basis = Basis.mass, fmt: FormatQ = "json"
) -> Figures:
    return Figures(stage, year, basis.value, fmt)


FiguresQ = Annotated[Figures, Depends(_figures)]


@router.get(
    "/member-states/{country}/dependencies",
    response_model=svc.MemberStateDependencies,
    responses=_ERRORS,
)
async def get_member_state_dependencies(
    request: Request,
    country: CountryPath,
    _p: UserCaller,
    ask: FiguresQ,
    material: OneMaterialQ = None,
) -> Response:
    """A Member State's own dependencies per strategic material stage: imports from outside
    the EU and from other Member States, the top extra-EU supplier, the CRMA 65 % flag as
    applied to a Member State (`flag_rule`) and the trend over the years the data hold."""
    iso3 = svc.member_state_code(country)  # an unknown or non-member country fails here

    def compute(store: Store) -> Computed:
        answer = svc.dependencies(
            store, iso3, material=material, stage=ask.stage, year=ask.year, basis=ask.basis
        )
        return svc.dependencies_computed(answer)

    params = {"country": iso3, "material": material} | _params(ask)
    parts = ("critmat-member-state", iso3, material, ask.stage, ask.year, ask.basis)
    return await serve(
        request, "member-state-dependencies", params, compute, fmt=ask.fmt, stem=stem(*parts)
    )


@router.get("/member-states", response_model=svc.MemberStatesComparison, responses=_ERRORS)
async def get_member_states_comparison(
    request: Request,
    material: MaterialRequiredQ,
    _p: UserCaller,
    ask: FiguresQ,
) -> Response:
    """The 27 Member States side by side for one material stage in one year: tonnes, value,
    top supplier and its share, extra-EU share, top extra-EU supplier and the 65 % flag."""

    def compute(store: Store) -> Computed:
        answer = svc.comparison(store, material, stage=ask.stage, year=ask.year, basis=ask.basis)
        return svc.comparison_computed(answer)

    params = {"material": material} | _params(ask)
    parts = ("critmat-member-states", material, ask.stage, ask.year, ask.basis)
    return await serve(
        request, "member-states-comparison", params, compute, fmt=ask.fmt, stem=stem(*parts)
    )


def _params(ask: Figures) -> dict[str, object]:
    """The cache key's parameters of ``ask`` (the format is keyed by :func:`serve`)."""
    return {"stage": ask.stage, "year": ask.year, "basis": ask.basis}
