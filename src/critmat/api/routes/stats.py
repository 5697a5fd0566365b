"""Public statistics (every logged-in user): materials, production, dependency, trends.

The answers are :mod:`critmat.services.statistics`' and :mod:`critmat.services.catalogue`'s;
these routes validate the parameters and hand the question to
:func:`critmat.api.stats_serving.serve`, which answers from the response cache or computes,
encodes and caches. Table-shaped endpoints also answer ``format=csv`` or ``format=xlsx``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from critmat.api.query import (
    TABLE_RESPONSES,
    Basis,
    FormatQ,
    FromQ,
    HsQ,
    ImporterQ,
    MaterialPath,
    MaterialQ,
    MaterialStageQuestion,
    MaterialYearQuestion,
    RequiredMaterialQ,
    StageQ,
    ToQ,
    YearQ,
    one_of_material_or_hs,
    route_responses,
    stem,
)
from critmat.api.rows import from_row
from critmat.api.stats_serving import CACHE_HEADER, Format, release_ids, serve
from critmat.indicators.flows_cache import FlowsCache
from critmat.reference.restrictions import as_of
from critmat.server.deps import UserCaller
from critmat.services import catalogue
from critmat.services import statistics as svc
from critmat.services import statistics_models as m
from critmat.services import statistics_reliance as reliance_svc
from critmat.services.statistics_trade import strategic_dependencies

# The stress routes mark their cached answers with the same header.
__all__ = ["CACHE_HEADER", "router"]

router = APIRouter(prefix="/api/v1", tags=["statistics"])


#: The 404 of an unknown material or country (the other statuses: :func:`route_responses`).
_NOT_FOUND = "Unknown material or country (with `suggestions`), or no data."
_ERRORS = route_responses(_NOT_FOUND, downloads=False)
_TABLE = route_responses(_NOT_FOUND)


class _Precomputed(TypedDict):
    """Where the services look for the precomputed tables before querying the store."""

    flows_cache: FlowsCache | None
    release_ids: tuple[int, ...] | None


def _precomputed(request: Request) -> _Precomputed:
    return {"flows_cache": request.app.state.flows_cache, "release_ids": release_ids(request)}


async def _serve_precomputable(
    request: Request,
    endpoint: str,
    question: dict[str, Any],
    compute: Callable[..., svc.Computed],
    fast: Callable[..., svc.Computed | None],
    fmt: Format,
    *,
    stem_parts: tuple[object, ...],
) -> Response:
    """Serve ``question`` (the services' keyword arguments) at ``endpoint``: from the
    precomputed tables when they hold the answer (``fast(store, tables, **question)``), else
    ``compute(store, **question)`` with the tables to look in; a download is named
    ``critmat-<endpoint>-<stem_parts>``."""
    return await serve(
        request,
        endpoint,
        question,
        lambda store: compute(store, **question, **_precomputed(request)),
        fmt=fmt,
        stem=stem(f"critmat-{endpoint}", *stem_parts),
        fast=lambda store, tables: fast(store, tables, **question),
    )


class _TradeAsk(BaseModel):
    """The query string of a trade route, as a FastAPI query-parameter model: its fields are
    the route's parameters in the OpenAPI schema, in field order (a subclass's after these),
    and, but for ``fmt``, the keyword arguments of the route's services.

    Every trade route starts with the traded thing: a material or one HS92 code, and a stage.
    """

    material: MaterialQ = None
    hs: HsQ = None
    stage: StageQ = None

    @property
    def subject(self) -> str | None:
        """The material or HS code asked for (a download's name starts with it)."""
        return self.material or self.hs

    def question(self) -> dict[str, Any]:
        """The question as the services take it (``basis`` as "mass" or "value"); a 422 unless
        exactly one of ``material`` and ``hs`` is given."""
        one_of_material_or_hs(self.material, self.hs)
        return self.model_dump(mode="json", exclude={"fmt"})


# Each route's own fields follow, ``fmt`` (the answer's format) last.
class _DependencyAsk(_TradeAsk):
    year: YearQ = None
    importer: ImporterQ = "EU27"
    basis: Basis = Basis.mass
    fmt: FormatQ = "json"


class _SeriesAsk(_TradeAsk):
    importer: ImporterQ = "EU27"
    basis: Basis = Basis.mass
    first: FromQ = None
    last: ToQ = None
    fmt: FormatQ = "json"


class _UnitValuesAsk(_TradeAsk):
    year: YearQ = None
    importer: ImporterQ = "EU27"
    fmt: FormatQ = "json"


# -- materials ---------------------------------------------------------------------------------
@router.get("/materials", response_model=list[m.MaterialSummaryOut], responses=TABLE_RESPONSES)
async def list_materials(
    request: Request,
    _p: UserCaller,
    critical: Annotated[bool | None, Query(description="Only CRMA critical (or not).")] = None,
    strategic: Annotated[bool | None, Query(description="Only CRMA strategic (or not).")] = None,
    fmt: FormatQ = "json",
) -> Response:
    """The material catalogue: CRMA critical and strategic raw materials and the others, with
    their value-chain stages and HS92 codes."""
    return await serve(
        request,
        "materials",
        {"critical": critical, "strategic": strategic},
        lambda: catalogue.materials(critical, strategic),
        fmt=fmt,
        stem="critmat-materials",
        needs_store=False,
    )


@router.get("/materials/{material}", response_model=catalogue.MaterialDetailOut, responses=_ERRORS)
async def get_material(request: Request, material: MaterialPath, _p: UserCaller) -> Response:
    """One material: CRMA entries (verbatim) and status, stages with HS92 and HS17 codes (and
    which have trade data), bundle notes of shared codes, production series per stage, World
    Mining Data series, end-of-life recycling input rate, aliases and sources."""
    return await serve(
        request,
        "material",
        {"material": material},
        lambda store: catalogue.material_detail(store, material),
    )


@router.get("/materials/{material}/production", response_model=m.ProductionOut, responses=_TABLE)
async def get_production(
    request: Request, _p: UserCaller, ask: Annotated[MaterialYearQuestion, Depends()]
) -> Response:
    """World production by country (World Mining Data), largest first, with shares, HHI,
    top-3 share and the share resting on estimates."""
    material, year = ask.material, ask.year
    return await serve(
        request,
        "production",
        {"material": material, "year": year},
        lambda store: svc.production(store, material, year, **_precomputed(request)),
        fmt=ask.fmt,
        stem=stem("critmat-production", material, year),
        fast=lambda _store, tables: svc.fast_production(tables, material, year),
    )


@router.get(
    "/materials/{material}/member-states", response_model=m.MemberStatesOut, responses=_TABLE
)
async def get_member_states(
    request: Request, _p: UserCaller, ask: Annotated[MaterialStageQuestion, Depends()]
) -> Response:
    """Each Member State's imports of a material stage in a year: total, top supplier, largest
    third-country supplier and its share, HHI and the CRMA 65 % flag. A Member State counts all
    its partners, including other Member States."""
    basis = ask.basis.value
    question = {"material": ask.material, "year": ask.year, "stage": ask.stage, "basis": basis}
    return await _serve_precomputable(
        request,
        "member-states",
        question,
        svc.member_states,
        svc.fast_member_states,
        ask.fmt,
        stem_parts=(ask.material, ask.stage, ask.year, basis),
    )


@router.get("/materials/{material}/reliance", response_model=m.SeriesOut, responses=_TABLE)
async def get_reliance(
    request: Request,
    material: MaterialPath,
    _p: UserCaller,
    importer: ImporterQ = "EU27",
    first: FromQ = None,
    last: ToQ = None,
    fmt: FormatQ = "json",
) -> Response:
    """Apparent consumption and import reliance by year (estimated: WMD counts metal content,
    BACI the gross weight of the traded product)."""
    return await serve(
        request,
        "reliance",
        {"material": material, "importer": importer, "from": first, "to": last},
        lambda store: reliance_svc.reliance(
            store, material=material, importer=importer, first=first, last=last
        ),
        fmt=fmt,
        stem=stem("critmat-reliance", material, importer),
    )


@router.get("/reliance", response_model=reliance_svc.StageRelianceOut, responses=_TABLE)
async def get_stage_reliance(
    request: Request,
    material: RequiredMaterialQ,
    _p: UserCaller,
    importer: ImporterQ = "EU27",
    stage: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            description="Value-chain stage, or 'all' (default: the stage the EU 2023 "
            "assessment used, else extraction).",
        ),
    ] = None,
    first: FromQ = None,
    last: ToQ = None,
    fmt: FormatQ = "json",
) -> Response:
    """Import reliance at one value-chain stage, year by year: the stage's production series
    against the trade of its HS codes on the content basis; each row names its production
    release, series and stage and its trade release and codes; missing data is 'no data' with
    the reason (as `critmat reliance --stage`)."""
    return await serve(
        request,
        "stage-reliance",
        {"material": material, "importer": importer, "stage": stage, "from": first, "to": last},
        lambda store: reliance_svc.stage_reliance(
            store, material=material, importer=importer, stage=stage, first=first, last=last
        ),
        fmt=fmt,
        stem=stem("critmat-reliance", material, stage or "default", importer),
    )


# -- trade -------------------------------------------------------------------------------------
@router.get("/dependency", response_model=m.DependencyOut, responses=_TABLE)
async def get_dependency(
    request: Request, _p: UserCaller, ask: Annotated[_DependencyAsk, Query()]
) -> Response:
    """Where an importer gets a material stage (or one HS code) from in a year: shares by
    origin, HHI and the CRMA 65 % single-third-country flag. Same fields as
    `critmat dependency --format json`. Give `material` or `hs`."""
    return await _serve_precomputable(
        request,
        "dependency",
        ask.question(),
        svc.dependency,
        svc.fast_dependency,
        ask.fmt,
        stem_parts=(ask.subject, ask.stage, ask.importer, ask.year, ask.basis.value),
    )


@router.get("/dependency/series", response_model=m.SeriesOut, responses=_TABLE)
async def get_dependency_series(
    request: Request, _p: UserCaller, ask: Annotated[_SeriesAsk, Query()]
) -> Response:
    """Import concentration year by year: total, top supplier, HHI, largest third country and
    the CRMA 65 % flag (as `critmat trend --format json`)."""
    return await _serve_precomputable(
        request,
        "dependency-series",
        ask.question(),
        svc.dependency_series,
        svc.fast_series,
        ask.fmt,
        stem_parts=(ask.subject, ask.stage, ask.importer, ask.basis.value),
    )


@router.get("/dependency/strategic", response_model=m.StrategicDependenciesOut, responses=_TABLE)
async def get_strategic_dependencies(
    request: Request,
    _p: UserCaller,
    importer: ImporterQ = "EU27",
    year: YearQ = None,
    basis: Basis = Basis.mass,
    fmt: FormatQ = "json",
) -> Response:
    """Every stage of every CRMA strategic material: year (default: each stage's latest with
    imports), the one trade release (series, HS revision, release id, codes), largest third
    country and share, HHI and the 65 % flag — or no data with its reason (flag `null`)."""
    question = {"importer": importer, "year": year, "basis": basis.value}
    ctx = request.app.state.services
    return await serve(
        request,
        "dependency-strategic",
        question,
        lambda: strategic_dependencies(ctx, importer, year, basis.value),
        fmt=fmt,
        stem=stem("critmat-dependency-strategic", importer, year, basis.value),
        needs_store=False,
    )


@router.get("/unit-values", response_model=m.SeriesOut, responses=_TABLE)
async def get_unit_values(
    request: Request, _p: UserCaller, ask: Annotated[_UnitValuesAsk, Query()]
) -> Response:
    """Unit values (USD per tonne) of an importer's imports by origin and code in a year, with
    outliers flagged (modified z-score above 3.5)."""
    question = ask.question()
    return await serve(
        request,
        "unit-values",
        question,
        lambda store: svc.unit_values(store, **question, flows_cache=request.app.state.flows_cache),
        fmt=ask.fmt,
        stem=stem("critmat-unit-values", ask.subject, ask.stage, ask.importer, ask.year),
    )


@router.get("/restrictions", response_model=m.RestrictionsOut, responses=_TABLE)
async def get_restrictions(
    request: Request,
    _p: UserCaller,
    material: MaterialQ = None,
    country: Annotated[
        str | None,
        Query(min_length=2, max_length=100, description="Restricting country (ISO3 or name)."),
    ] = None,
    exposure: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=200,
            description="Also compute this importer's exposure (e.g. EU27) before and after "
            "each measure.",
        ),
    ] = None,
    basis: Basis = Basis.value,
    on: Annotated[
        date | None,
        Query(description="The day `in_force` is read for, YYYY-MM-DD (default: today)."),
    ] = None,
    fmt: FormatQ = "json",
) -> Response:
    """The export-restriction registry, each measure with the registry's status and whether it
    is in force on the day (`on`, default today); optionally with an importer's exposure to
    each measure (share of its imports of the affected codes from the restricting country)."""
    question: dict[str, Any] = {
        "material": material,
        "country": country,
        "exposure": exposure,
        "basis": basis.value,
        "on": as_of(on),
    }
    return await serve(
        request,
        "restrictions",
        question,
        lambda store: svc.restrictions(store, **question),
        fmt=fmt,
        stem=stem("critmat-restrictions", material, country, exposure),
    )


# -- countries, search, data -------------------------------------------------------------------
@router.get("/countries", response_model=list[m.CountrySummaryOut], responses=TABLE_RESPONSES)
async def list_countries(request: Request, _p: UserCaller, fmt: FormatQ = "json") -> Response:
    """Countries (ISO 3166-1 alpha-3, plus XKX for Kosovo) with their group memberships."""
    return await serve(
        request,
        "countries",
        {},
        svc.countries,
        fmt=fmt,
        stem="critmat-countries",
        needs_store=False,
    )


@router.get("/countries/{country}", response_model=m.CountryOut, responses=_TABLE)
async def get_country(
    request: Request,
    country: Annotated[
        str, Path(min_length=2, max_length=100, description="ISO3/ISO2 code or name.")
    ],
    _p: UserCaller,
    year: YearQ = None,
    fmt: FormatQ = "json",
) -> Response:
    """One country: names, ISO codes, group memberships (EU, EEA, strategic partner, candidate,
    OCT...), what the EU27 imports from it by material stage in a year with its shares of
    extra-EU supply, and the Worldwide Governance Indicators series."""
    return await serve(
        request,
        "country",
        {"country": country, "year": year},
        lambda store: svc.country_detail(store, country, year),
        fmt=fmt,
        stem=stem("critmat-country", country, year),
    )


@router.get("/search", response_model=m.SearchOut, responses=_ERRORS)
async def search(
    request: Request,
    _p: UserCaller,
    q: Annotated[str, Query(min_length=2, max_length=100, description="Search text.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Response:
    """Materials (by id, name, alias, symbol or WMD series) and countries (by name or code),
    best match first."""
    return await serve(
        request,
        "search",
        {"q": ("exact", q), "limit": limit},  # a tuple is not case-folded: q is echoed
        lambda: _search(q, limit),
        needs_store=False,
    )


def _collection(kind: str) -> str:
    """The collection a search hit's own URL is in."""
    return "materials" if kind == "material" else "countries"


def _search(q: str, limit: int) -> svc.Computed:
    hits = [
        from_row(m.SearchHitOut, h, url=f"/api/v1/{_collection(h.kind)}/{h.id}")
        for h in catalogue.search(q, limit)
    ]
    return svc.Computed(m.SearchOut(query=q, results=hits))


@router.get("/data/releases", response_model=m.DataReleasesOut, responses=_TABLE)
async def data_releases(request: Request, _p: UserCaller, fmt: FormatQ = "json") -> Response:
    """Every imported release (current and earlier) with source, version, licence and sha256,
    and the coverage of the current ones (as `critmat data status`)."""
    return await serve(request, "releases", {}, svc.data_releases, fmt=fmt, stem="critmat-releases")
