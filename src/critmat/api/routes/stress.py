"""Stress tests over the API (every logged-in user): the scenario library, single runs and
Monte Carlo bands, answered by :mod:`critmat.services.stress` (docs/stress-tests.md).

- ``GET /api/v1/stress/scenarios``: the library (name, title, material, stage, registry ids);
- ``GET /api/v1/stress/scenarios/{name}``: one library file's content as JSON;
- ``POST /api/v1/stress/run``: a library name or a full scenario definition → monthly results
  for EU27 and each Member State, the summary and the exposure of downstream sectors;
- ``POST /api/v1/stress/montecarlo``: the same plus ``runs`` (≤ 5,000) and ``seed`` → p5/p50/p95
  shortfall bands per importer and month, and the summary over the horizon;
- ``GET /api/v1/stress/backtest?licensing_delay=2``: the backtest of the registry's measures
  (cases, summary, trade releases read), remembered by the service per current releases.

The POSTs compute and store nothing (no platform write, hence no audit record); they are POSTs
because a scenario definition is a document, not a query string. This module bounds the
request, maps the service's errors to HTTP and keeps finished answers.

Answers from memory: the two GETs serve JSON bytes kept with the library snapshot
(:func:`critmat.services.stress.library`). A run or Monte Carlo answer is kept as its finished
JSON bytes in the app's one cache (``app.state.services.cache``), keyed by the current release
ids, the library's file stamps and a SHA-256 of the validated request body, so a repeated
request neither recomputes nor re-validates the ~170 KB response model (``X-Critmat-Cache: hit``
or ``miss``). Baselines are remembered by the service under the same release ids.

Bounds: a request body of at most :data:`MAX_BODY_BYTES`, at most :data:`MAX_RUNS` Monte Carlo
runs (always in-process: the service never starts worker processes), the horizon ≤ 240 months
(the scenario schema). Validation errors of a definition are 422 with the field named, as the
other validation errors of the API: ``{"error", "problems": [{"where", "problem"}]}``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from critmat.api.routes.stats import CACHE_HEADER
from critmat.errors import InputFileError
from critmat.server.deps import Principal, UserCaller
from critmat.server.errors import responses
from critmat.services import stress
from critmat.services.cache import CachedResponse
from critmat.services.context import ServiceContext
from critmat.services.stress import DEFINITION, MAX_RUNS, Prepared, UnknownScenario
from critmat.services.stress_output import (
    BacktestOut,
    MonteCarloOut,
    RunOut,
    ScenarioEntryOut,
    montecarlo_document,
    run_document,
)
from critmat.store import Store

__all__ = ["MAX_BODY_BYTES", "MAX_RUNS", "MonteCarloIn", "RunIn", "model_json", "router"]

MAX_BODY_BYTES = 64_000
#: Stress computations in flight at once (Monte Carlo is CPU-bound: on two cores more only adds
#: contention); cache hits do not wait for them.
COMPUTE_THREADS = 2


async def _bounded_body(request: Request) -> None:
    """Refuse a declared body over :data:`MAX_BODY_BYTES` before it is parsed (413)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise HTTPException(
            413,
            f"the request body is larger than {MAX_BODY_BYTES:,} bytes",
        )


router = APIRouter(prefix="/api/v1/stress", tags=["stress"], dependencies=[Depends(_bounded_body)])

NamePath = Annotated[str, PathParam(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


# ================================================================================ requests
class _ScenarioIn(BaseModel):
    scenario: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="a library scenario name (GET /api/v1/stress/scenarios)",
    )
    definition: dict[str, Any] | None = Field(
        default=None,
        description="a full scenario, as in a scenario file (docs/stress-tests.md); an "
        "`uncertainty:` block is used by /montecarlo and ignored by /run",
    )

    @model_validator(mode="after")
    def _one(self) -> _ScenarioIn:
        if (self.scenario is None) == (self.definition is None):
            raise ValueError("give either 'scenario' (a library name) or 'definition'")
        return self


class RunIn(_ScenarioIn):
    stocks: Literal["scenario", "ledger"] = Field(
        default="scenario",
        description="where stockpiles come from: the scenario's responses.stockpiles, or the "
        "stockpile ledger's holdings and targets of the material as the caller may see them "
        "(other organisations' holdings pooled as EU27); a ledger run is never cached",
    )


class MonteCarloIn(_ScenarioIn):
    runs: int = Field(default=1000, ge=1, le=MAX_RUNS, description=f"1 to {MAX_RUNS:,}")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="numpy default_rng seed")


_ERRORS: dict[int | str, dict[str, Any]] = {
    **responses(503),
    400: {"description": "No uncertain parameter, or a stage or year without trade data."},
    404: {"description": "Unknown library scenario, or no data for the baseline."},
    413: {"description": f"Body over {MAX_BODY_BYTES:,} bytes."},
    422: {"description": "Invalid definition: `problems[].where` names the field."},
}


def _not_found(exc: UnknownScenario) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))


def _prepare_or_422(body: _ScenarioIn) -> Prepared:
    """The body's scenario validated; a 422 naming the field of the definition, a 404 for a
    name not in the library (neither is kept in the cache: they are not user errors of the
    data, and are cheap to find again)."""
    try:
        return stress.prepare(body.scenario, body.definition)
    except UnknownScenario as exc:
        raise _not_found(exc) from None
    except InputFileError as exc:
        where = ("body", DEFINITION, exc.field) if exc.field else ("body", DEFINITION)
        error = {"loc": where, "msg": exc.reason, "type": "value_error"}
        raise RequestValidationError([error]) from None


# ================================================================================ serving
_ENTRIES_OUT: TypeAdapter[list[ScenarioEntryOut]] = TypeAdapter(list[ScenarioEntryOut])
_RUN_OUT: TypeAdapter[RunOut] = TypeAdapter(RunOut)
_MONTECARLO_OUT: TypeAdapter[MonteCarloOut] = TypeAdapter(MonteCarloOut)


def _run_json(document: RunOut) -> bytes:
    """A run's JSON; ``stocks`` only when the run was on the ledger's positions (unset else)."""
    return _RUN_OUT.dump_json(document, by_alias=True, exclude_unset=True)


def model_json(adapter: TypeAdapter[Any], content: Any) -> bytes:
    """``content`` validated against and serialised by ``adapter``: the bytes FastAPI sends for
    a route declaring that response model (its ``dump_json`` fast path)."""
    return adapter.dump_json(adapter.validate_python(content), by_alias=True)


def _json(body: bytes, cache: str | None = None) -> Response:
    headers = {CACHE_HEADER: cache} if cache else None
    return Response(content=body, media_type="application/json", headers=headers)


_LIMITER_LOCK = threading.Lock()


def _limiter(request: Request) -> anyio.CapacityLimiter:
    found = getattr(request.app.state, "stress_limiter", None)
    if found is None:
        with _LIMITER_LOCK:
            found = getattr(request.app.state, "stress_limiter", None)
            if found is None:
                found = anyio.CapacityLimiter(COMPUTE_THREADS)
                request.app.state.stress_limiter = found
    assert isinstance(found, anyio.CapacityLimiter)
    return found


Answer = Callable[[Store, ServiceContext], bytes]


async def _cached(request: Request, endpoint: str, body: _ScenarioIn, answer: Answer) -> Response:
    """The JSON of ``answer`` from the app's one cache: keyed by the current releases, the
    library's stamps and a SHA-256 of the validated body; computed once on a miss. Validation
    errors and 404s are not kept; user errors (400) are, as elsewhere."""
    services: ServiceContext = request.app.state.services
    releases = services.fingerprint.current()
    if releases is None:
        releases = await run_in_threadpool(services.fingerprint.refresh)
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    key = (endpoint, digest, stress.library().stamp, "json", releases)
    entry = services.cache.response(key)
    if entry is not None:
        return _json(entry.body, "hit")

    def compute() -> CachedResponse:
        store = services.open_store()
        try:
            return CachedResponse(answer(store, services), "application/json")
        finally:
            store.close()

    entry = await anyio.to_thread.run_sync(
        services.cache.get_or_compute, key, compute, limiter=_limiter(request)
    )
    return _json(entry.body, "miss")


# ================================================================================ routes
@router.get("/scenarios", response_model=list[ScenarioEntryOut])
async def list_scenarios(caller: UserCaller) -> Response:
    """The scenario library (derived from the export-restriction registry)."""
    lib = stress.library()
    return _json(lib.memo("entries-json", lambda: model_json(_ENTRIES_OUT, lib.entries())))


@router.get("/scenarios/{name}", response_model=dict[str, Any], responses={404: _ERRORS[404]})
async def get_scenario(name: NamePath, caller: UserCaller) -> Response:
    """A library scenario file's content as JSON (including its `uncertainty:` block)."""
    lib = stress.library()
    try:
        lib.check(name)
    except UnknownScenario as exc:
        raise _not_found(exc) from None
    body = lib.memo(
        ("raw-json", name), lambda: bytes(JSONResponse(jsonable_encoder(lib.raws[name])).body)
    )
    return _json(body)


@router.post("/run", response_model=RunOut, response_model_exclude_unset=True, responses=_ERRORS)
async def run_scenario(body: RunIn, caller: UserCaller, request: Request) -> Response:
    """Run a scenario once: monthly results for EU27 and each Member State, the summary and the
    sector exposure. Computes only; nothing is stored (no audit record)."""

    def answer(store: Store, services: ServiceContext) -> bytes:
        prepared = _prepare_or_422(body)
        baseline = stress.baseline(store, prepared.scenario, services)
        return _run_json(run_document(stress.run(prepared, baseline)))

    if body.stocks == "ledger":
        return await _ledger_run(request, body, caller)
    return await _cached(request, "stress/run", body, answer)


async def _ledger_run(request: Request, body: RunIn, caller: Principal) -> Response:
    """A run on the ledger's positions as ``caller`` may see them: computed on every request
    (the ledger changes with each booking, and what it shows depends on the caller)."""
    from critmat.services.stockpiles import StockViewer

    services: ServiceContext = request.app.state.services
    viewer = StockViewer(caller.organisation_id, caller.role.value, caller.email, caller.user_id)
    url = request.app.state.settings.platform_url

    def compute() -> bytes:
        prepared = _prepare_or_422(body)
        prepared, stocks = stress.with_ledger_stocks(prepared, viewer, database_url=url)
        store = services.open_store()
        try:
            baseline = stress.baseline(store, prepared.scenario, services)
        finally:
            store.close()
        document = run_document(stress.run(prepared, baseline), stocks=stocks)
        return _run_json(document)

    return _json(await anyio.to_thread.run_sync(compute, limiter=_limiter(request)))


@router.post("/montecarlo", response_model=MonteCarloOut, responses=_ERRORS)
async def montecarlo(body: MonteCarloIn, caller: UserCaller, request: Request) -> Response:
    """Monte Carlo over the scenario's `uncertainty:` block: p5/p50/p95 shortfall bands per
    importer and month (same seed, same bands). Computes only; nothing is stored."""

    def answer(store: Store, services: ServiceContext) -> bytes:
        prepared = _prepare_or_422(body)
        baseline = stress.baseline(store, prepared.scenario, services)
        result = stress.montecarlo(prepared, baseline, body.runs, body.seed)
        return model_json(_MONTECARLO_OUT, montecarlo_document(result))

    return await _cached(request, "stress/montecarlo", body, answer)


_BACKTEST_OUT: TypeAdapter[BacktestOut] = TypeAdapter(BacktestOut)


@router.get("/backtest", response_model=BacktestOut)
async def backtest(
    caller: UserCaller,
    request: Request,
    licensing_delay: Annotated[
        int, Query(ge=0, le=24, description="months without exports assumed for licensing")
    ] = 2,
) -> Response:
    """The stress backtest: per case, predicted against observed change in EU27 imports from
    the restricting country, the codes and trade releases read, caveats; the summary (mean
    absolute error in pp, direction right in N of M). No data is null, never 0."""
    services: ServiceContext = request.app.state.services

    def answer() -> bytes:
        store = services.open_store()
        try:
            document = stress.backtest_answer(store, licensing_delay, services).document()
        finally:
            store.close()
        return model_json(_BACKTEST_OUT, document)

    return _json(await run_in_threadpool(answer))
