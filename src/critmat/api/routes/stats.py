"""Public statistics (every logged-in user): materials, production, dependency, trends.

Every route is ``async``: it checks the response cache first (``critmat.services.cache``) and only
on a miss opens a store cursor and computes in the thread pool. Responses are cached as encoded
bytes under ``(endpoint, normalised parameters, format, current release ids)``; a new data
release gives new keys. Table-shaped endpoints also answer ``format=csv`` or ``format=xlsx``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from critmat.api import stats_models as m
from critmat.api import stats_service as svc
from critmat.api.stats_export import MEDIA_TYPES, table_download
from critmat.indicators.precomputed import Tables
from critmat.server.deps import UserCaller
from critmat.server.errors import responses
from critmat.server.storehub import StoreHub
from critmat.services.cache import CachedResponse
from critmat.services.context import ServiceContext
from critmat.store import Store

router = APIRouter(prefix="/api/v1", tags=["statistics"])

CACHE_HEADER = "X-Critmat-Cache"
COMPUTE_THREADS = 4


class Basis(StrEnum):
    mass = "mass"
    value = "value"


Format = Literal["json", "csv", "xlsx"]

MaterialPath = Annotated[
    str,
    Path(min_length=1, max_length=100, description="Material id, name, alias or symbol."),
]
MaterialQ = Annotated[
    str | None,
    Query(min_length=1, max_length=100, description="Material id, name or alias, e.g. 'REE'."),
]
HsQ = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{6}$", description="One HS92 6-digit code instead of a material."),
]
StageQ = Annotated[
    str | None,
    Query(min_length=1, max_length=40, description="Value-chain stage, e.g. processing."),
]
YearQ = Annotated[
    int | None, Query(ge=1900, le=2100, description="Year (default: the latest with data).")
]
ImporterQ = Annotated[
    str,
    Query(
        min_length=2,
        max_length=200,
        description="EU27, a group (G7, EEA...), a country (ISO3 or name), or countries "
        "joined by commas treated as one economy.",
    ),
]
FromQ = Annotated[
    int | None, Query(alias="from", ge=1900, le=2100, description="First year (default: first).")
]
ToQ = Annotated[
    int | None, Query(alias="to", ge=1900, le=2100, description="Last year (default: last).")
]
FormatQ = Annotated[
    Format,
    Query(
        alias="format",
        description="json, or a download: csv (UTF-8) or xlsx. Cells that a spreadsheet "
        "could run as a formula are prefixed with an apostrophe.",
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
    **responses(400, 503),
    404: {"description": "Unknown material or country (with `suggestions`), or no data."},
}
_TABLE = {**_ERRORS, **_TABLE_RESPONSES}


# -- cache plumbing ----------------------------------------------------------------------------
class _StatsState:
    """The statistics routes' view of the app's :class:`ServiceContext`: its one cache and
    release fingerprint, and a small compute pool."""

    def __init__(self, hub: StoreHub, services: ServiceContext) -> None:
        self.hub = hub
        self.cache = services.cache
        self.fingerprint = services.fingerprint
        # Cache misses compute in their own small pool: on two cores more parallel work only
        # adds contention, and the default pool stays free for the authentication
        # dependencies of the (cheap) cache hits.
        self.compute_limiter = anyio.CapacityLimiter(COMPUTE_THREADS)


_STATE_LOCK = threading.Lock()


def stats_state(request: Request) -> _StatsState:
    """The app's statistics cache (created on first use)."""
    state = getattr(request.app.state, "stats", None)
    if state is None:
        with _STATE_LOCK:
            state = getattr(request.app.state, "stats", None)
            if state is None:
                state = _StatsState(request.app.state.store_hub, request.app.state.services)
                request.app.state.stats = state
    assert isinstance(state, _StatsState)
    return state


def _normalise(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, list | tuple):
        return tuple(_normalise(v) for v in value)
    return value


def cache_key(
    endpoint: str, params: Mapping[str, object], fmt: str, releases: tuple[int, ...]
) -> tuple[object, ...]:
    """The response-cache key: endpoint, normalised parameters, format and current releases."""
    return (endpoint, tuple(sorted((k, _normalise(v)) for k, v in params.items())), fmt, releases)


Compute = Callable[[Store], svc.Computed]
Fast = Callable[[Store, Tables], svc.Computed | None]


class _NotPrecomputed(Exception):
    """The precomputed tables do not hold the answer: compute it in a worker thread."""


async def _serve(
    request: Request,
    endpoint: str,
    params: Mapping[str, object],
    compute: Compute | Callable[[], svc.Computed],
    *,
    fmt: Format = "json",
    stem: str = "critmat",
    needs_store: bool = True,
    fast: Fast | None = None,
) -> Response:
    state = stats_state(request)
    releases = state.fingerprint.current()
    if releases is None:
        releases = await run_in_threadpool(state.fingerprint.refresh)
    key = cache_key(endpoint, params, fmt, releases)
    entry = state.cache.response(key)
    status = "hit"
    if entry is None:
        status = "miss"
        tables = svc.ready_tables(request.app.state.flows_cache, releases)
        if fast is not None and tables is not None and fmt == "json":
            entry = _serve_precomputed(state, key, fast, tables)
    if entry is None:

        def work() -> CachedResponse:
            return _render(state.hub, compute, fmt, stem, needs_store)

        entry = await anyio.to_thread.run_sync(
            _compute_once, state, key, work, limiter=state.compute_limiter
        )
    headers = dict(entry.headers)
    headers[CACHE_HEADER] = status
    return Response(content=entry.body, media_type=entry.media_type, headers=headers)


def _compute_once(
    state: _StatsState, key: Hashable, work: Callable[[], CachedResponse]
) -> CachedResponse:
    try:
        return state.cache.get_or_compute(key, work)
    except _NotPrecomputed:  # waited on a precomputed attempt that did not answer
        return state.cache.get_or_compute(key, work)


def _serve_precomputed(
    state: _StatsState, key: Hashable, fast: Fast, tables: Tables
) -> CachedResponse | None:
    """Answer a miss from the precomputed tables on the event loop (well under a millisecond
    or two: cheaper than a hop to a worker thread); ``None`` when they do not hold it."""

    def work() -> CachedResponse:
        store = state.hub.store()
        try:
            computed = fast(store, tables)
        finally:
            store.close()
        if computed is None:
            raise _NotPrecomputed
        return CachedResponse(computed.model.model_dump_json().encode(), "application/json")

    try:
        return state.cache.get_or_compute(key, work)
    except _NotPrecomputed:
        return None


def _render(
    hub: StoreHub,
    compute: Compute | Callable[[], svc.Computed],
    fmt: Format,
    stem: str,
    needs_store: bool,
) -> CachedResponse:
    if needs_store:
        store = hub.store()
        try:
            computed = compute(store)  # type: ignore[call-arg]
        finally:
            store.close()
    else:
        computed = compute()  # type: ignore[call-arg]
    if fmt == "json":
        return CachedResponse(computed.model.model_dump_json().encode(), "application/json")
    assert computed.table is not None, "a download of an endpoint without a table"
    body, media_type, disposition = table_download(computed.table, fmt, stem)
    return CachedResponse(body, media_type, (("Content-Disposition", disposition),))


def _release_ids(request: Request) -> tuple[int, ...] | None:
    """The current release ids the response cache keys on, if fresh (saves a store query when
    the precomputed tables answer)."""
    return stats_state(request).fingerprint.current()


def _one_of_material_or_hs(material: str | None, hs: str | None) -> None:
    if (material is None) == (hs is None):
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "material"),
                    "msg": "give either material or hs (a 6-digit HS code), not both or neither",
                    "type": "value_error",
                }
            ]
        )


def _stem(*parts: object) -> str:
    return "-".join(str(p) for p in parts if p is not None and p != "")


# -- materials ---------------------------------------------------------------------------------
@router.get("/materials", response_model=list[m.MaterialSummaryOut], responses=_TABLE_RESPONSES)
async def list_materials(
    request: Request,
    _p: UserCaller,
    critical: Annotated[bool | None, Query(description="Only CRMA critical (or not).")] = None,
    strategic: Annotated[bool | None, Query(description="Only CRMA strategic (or not).")] = None,
    fmt: FormatQ = "json",
) -> Response:
    """The material catalogue: CRMA critical and strategic raw materials and the others, with
    their value-chain stages and HS92 codes."""
    return await _serve(
        request,
        "materials",
        {"critical": critical, "strategic": strategic},
        lambda: svc.materials(critical, strategic),
        fmt=fmt,
        stem="critmat-materials",
        needs_store=False,
    )


@router.get("/materials/{material}", response_model=m.MaterialOut, responses=_ERRORS)
async def get_material(request: Request, material: MaterialPath, _p: UserCaller) -> Response:
    """One material: CRMA entries (verbatim), stages with HS codes (and which have trade data),
    World Mining Data series, end-of-life recycling input rate, aliases and sources."""
    return await _serve(
        request,
        "material",
        {"material": material},
        lambda store: svc.material_detail(store, material),
    )


@router.get("/materials/{material}/production", response_model=m.ProductionOut, responses=_TABLE)
async def get_production(
    request: Request,
    material: MaterialPath,
    _p: UserCaller,
    year: YearQ = None,
    fmt: FormatQ = "json",
) -> Response:
    """World production by country (World Mining Data), largest first, with shares, HHI,
    top-3 share and the share resting on estimates."""
    return await _serve(
        request,
        "production",
        {"material": material, "year": year},
        lambda store: svc.production(
            store,
            material,
            year,
            flows_cache=request.app.state.flows_cache,
            release_ids=_release_ids(request),
        ),
        fmt=fmt,
        stem=_stem("critmat-production", material, year),
        fast=lambda _store, tables: svc.fast_production(tables, material, year),
    )


@router.get(
    "/materials/{material}/member-states", response_model=m.MemberStatesOut, responses=_TABLE
)
async def get_member_states(
    request: Request,
    material: MaterialPath,
    _p: UserCaller,
    year: YearQ = None,
    stage: StageQ = None,
    basis: Basis = Basis.mass,
    fmt: FormatQ = "json",
) -> Response:
    """Each Member State's imports of a material stage in a year: total, top supplier, largest
    third-country supplier and its share, HHI and the CRMA 65 % flag. A Member State counts all
    its partners, including other Member States."""
    return await _serve(
        request,
        "member-states",
        {"material": material, "year": year, "stage": stage, "basis": basis},
        lambda store: svc.member_states(
            store,
            material=material,
            year=year,
            stage=stage,
            basis=basis.value,
            flows_cache=request.app.state.flows_cache,
            release_ids=_release_ids(request),
        ),
        fmt=fmt,
        stem=_stem("critmat-member-states", material, stage, year, basis.value),
        fast=lambda store, tables: svc.fast_member_states(
            store, tables, material=material, year=year, stage=stage, basis=basis.value
        ),
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
    return await _serve(
        request,
        "reliance",
        {"material": material, "importer": importer, "from": first, "to": last},
        lambda store: svc.reliance(
            store, material=material, importer=importer, first=first, last=last
        ),
        fmt=fmt,
        stem=_stem("critmat-reliance", material, importer),
    )


# -- trade -------------------------------------------------------------------------------------
@router.get("/dependency", response_model=m.DependencyOut, responses=_TABLE)
async def get_dependency(
    request: Request,
    _p: UserCaller,
    material: MaterialQ = None,
    hs: HsQ = None,
    stage: StageQ = None,
    year: YearQ = None,
    importer: ImporterQ = "EU27",
    basis: Basis = Basis.mass,
    fmt: FormatQ = "json",
) -> Response:
    """Where an importer gets a material stage (or one HS code) from in a year: shares by
    origin, HHI and the CRMA 65 % single-third-country flag. Same fields as
    `critmat dependency --format json`. Give `material` or `hs`."""
    _one_of_material_or_hs(material, hs)
    return await _serve(
        request,
        "dependency",
        {
            "material": material,
            "hs": hs,
            "stage": stage,
            "year": year,
            "importer": importer,
            "basis": basis,
        },
        lambda store: svc.dependency(
            store,
            flows_cache=request.app.state.flows_cache,
            release_ids=_release_ids(request),
            importer=importer,
            year=year,
            basis=basis.value,
            material=material,
            stage=stage,
            hs=hs,
        ),
        fmt=fmt,
        stem=_stem("critmat-dependency", material or hs, stage, importer, year, basis.value),
        fast=lambda store, tables: svc.fast_dependency(
            store,
            tables,
            importer=importer,
            year=year,
            basis=basis.value,
            material=material,
            stage=stage,
            hs=hs,
        ),
    )


@router.get("/dependency/series", response_model=m.SeriesOut, responses=_TABLE)
async def get_dependency_series(
    request: Request,
    _p: UserCaller,
    material: MaterialQ = None,
    hs: HsQ = None,
    stage: StageQ = None,
    importer: ImporterQ = "EU27",
    basis: Basis = Basis.mass,
    first: FromQ = None,
    last: ToQ = None,
    fmt: FormatQ = "json",
) -> Response:
    """Import concentration year by year: total, top supplier, HHI, largest third country and
    the CRMA 65 % flag (as `critmat trend --format json`)."""
    _one_of_material_or_hs(material, hs)
    return await _serve(
        request,
        "dependency-series",
        {
            "material": material,
            "hs": hs,
            "stage": stage,
            "importer": importer,
            "basis": basis,
            "from": first,
            "to": last,
        },
        lambda store: svc.dependency_series(
            store,
            flows_cache=request.app.state.flows_cache,
            release_ids=_release_ids(request),
            importer=importer,
            basis=basis.value,
            material=material,
            stage=stage,
            hs=hs,
            first=first,
            last=last,
        ),
        fmt=fmt,
        stem=_stem("critmat-dependency-series", material or hs, stage, importer, basis.value),
        fast=lambda store, tables: svc.fast_series(
            store,
            tables,
            importer=importer,
            basis=basis.value,
            material=material,
            stage=stage,
            hs=hs,
            first=first,
            last=last,
        ),
    )


@router.get("/unit-values", response_model=m.SeriesOut, responses=_TABLE)
async def get_unit_values(
    request: Request,
    _p: UserCaller,
    material: MaterialQ = None,
    hs: HsQ = None,
    stage: StageQ = None,
    year: YearQ = None,
    importer: ImporterQ = "EU27",
    fmt: FormatQ = "json",
) -> Response:
    """Unit values (USD per tonne) of an importer's imports by origin and code in a year, with
    outliers flagged (modified z-score above 3.5)."""
    _one_of_material_or_hs(material, hs)
    return await _serve(
        request,
        "unit-values",
        {"material": material, "hs": hs, "stage": stage, "year": year, "importer": importer},
        lambda store: svc.unit_values(
            store,
            importer=importer,
            year=year,
            material=material,
            stage=stage,
            hs=hs,
            flows_cache=request.app.state.flows_cache,
        ),
        fmt=fmt,
        stem=_stem("critmat-unit-values", material or hs, stage, importer, year),
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
    fmt: FormatQ = "json",
) -> Response:
    """The export-restriction registry, optionally with an importer's exposure to each measure
    (share of its imports of the affected codes from the restricting country)."""
    return await _serve(
        request,
        "restrictions",
        {"material": material, "country": country, "exposure": exposure, "basis": basis},
        lambda store: svc.restrictions(
            store, material=material, country=country, exposure=exposure, basis=basis.value
        ),
        fmt=fmt,
        stem=_stem("critmat-restrictions", material, country, exposure),
    )


# -- countries, search, data -------------------------------------------------------------------
@router.get("/countries", response_model=list[m.CountrySummaryOut], responses=_TABLE_RESPONSES)
async def list_countries(request: Request, _p: UserCaller, fmt: FormatQ = "json") -> Response:
    """Countries (ISO 3166-1 alpha-3, plus XKX for Kosovo) with their group memberships."""
    return await _serve(
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
    return await _serve(
        request,
        "country",
        {"country": country, "year": year},
        lambda store: svc.country_detail(store, country, year),
        fmt=fmt,
        stem=_stem("critmat-country", country, year),
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
    return await _serve(
        request,
        "search",
        {"q": ("exact", q), "limit": limit},  # a tuple is not case-folded: q is echoed
        lambda: svc.search(q, limit),
        needs_store=False,
    )


@router.get("/data/releases", response_model=m.DataReleasesOut, responses=_TABLE)
async def data_releases(request: Request, _p: UserCaller, fmt: FormatQ = "json") -> Response:
    """Every imported release (current and earlier) with source, version, licence and sha256,
    and the coverage of the current ones (as `critmat data status`)."""
    return await _serve(
        request, "releases", {}, svc.data_releases, fmt=fmt, stem="critmat-releases"
    )
