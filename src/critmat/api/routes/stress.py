"""Stress tests over the API (every logged-in user): the scenario library, single runs and
Monte Carlo bands (:mod:`critmat.scenarios`, docs/stress-tests.md).

- ``GET /api/v1/stress/scenarios``: the library (name, title, material, stage, registry ids);
- ``GET /api/v1/stress/scenarios/{name}``: one library file's content as JSON;
- ``POST /api/v1/stress/run``: a library name or a full scenario definition → monthly results
  for EU27 and each Member State, the summary and the exposure of downstream sectors;
- ``POST /api/v1/stress/montecarlo``: the same plus ``runs`` (≤ 5,000) and ``seed`` → p5/p50/p95
  shortfall bands per importer and month, and the summary over the horizon.

The POSTs compute and store nothing (no platform write, hence no audit record); they are POSTs
because a scenario definition is a document, not a query string. The library computes; this
module validates, bounds and caches: baselines (the expensive part: reading BACI and WMD) are
kept per material, stage, baseline spec and current releases in a small LRU shared with the web
pages (:mod:`critmat.web.stress_pages`). A scenario definition is never read as a path: library
scenarios are looked up by name among the library's files only.

Answers from memory: the library is read and validated once per process (again only when a
file's modification time or size changes, :func:`library`), and the two GETs serve its JSON
bytes. A run or Monte Carlo answer is kept as its finished JSON bytes in the statistics response
cache (:mod:`critmat.services.cache`), keyed by the current release ids, the library's file
stamps and a SHA-256 of the validated request body, so a repeated request neither recomputes nor
re-validates the ~170 KB response model (``X-Critmat-Cache: hit`` or ``miss``).

Bounds: a request body of at most :data:`MAX_BODY_BYTES`, at most :data:`MAX_RUNS` Monte Carlo
runs (always in-process: the service never starts worker processes), the horizon ≤ 240 months
(the scenario schema). Validation errors of a definition are 422 with the field named, as the
other validation errors of the API: ``{"error", "problems": [{"where", "problem"}]}``.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import pandas as pd
import yaml
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from critmat.api.routes import risk as rk
from critmat.api.routes.stats import CACHE_HEADER, cache_key, stats_state
from critmat.errors import CritmatError, InputFileError
from critmat.reference.sectors import load_sector_splits
from critmat.scenarios.baseline import Baseline, build_baseline
from critmat.scenarios.engine import Result, run, sector_exposure
from critmat.scenarios.montecarlo import (
    MonteCarloResult,
    Uncertainty,
    describe,
    parse_uncertainty,
    run_montecarlo,
)
from critmat.scenarios.spec import (
    LIBRARY,
    Scenario,
    checked_scenario,
    parse_scenario,
    split_uncertainty,
)
from critmat.server.deps import UserCaller
from critmat.server.errors import responses
from critmat.services.cache import CachedResponse
from critmat.store import Store

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_RUNS",
    "Prepared",
    "baseline_for",
    "library",
    "library_entries",
    "library_raw",
    "library_text",
    "montecarlo_payload",
    "prepare",
    "router",
    "run_payload",
]

MAX_RUNS = 5_000
MAX_BODY_BYTES = 64_000
#: Where a definition's errors point (the API's ``where``; the web page shows the field only).
DEFINITION = "definition"


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


# ================================================================================ library
T = TypeVar("T")
#: (file stem, modification time in ns, size in bytes) of each library file, by name.
Stamp = tuple[tuple[str, int, int], ...]


@dataclass
class Library:
    """The scenario library as read at ``stamp``: each file's text and parsed YAML, and a memo
    of what is derived from them (validated scenarios, the JSON the routes serve)."""

    stamp: Stamp
    texts: dict[str, str]
    raws: dict[str, dict[str, Any]]
    _memo: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The library scenario names, sorted."""
        return list(self.texts)

    def path(self, name: str) -> Path:
        return LIBRARY / f"{name}.yaml"

    def check(self, name: str) -> None:
        """404 for a name not in the library."""
        if name not in self.texts:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"no library scenario '{name}'; the library: {', '.join(self.names)}",
            )

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per snapshot (errors are not kept; a race computes twice, alike)."""
        if key not in self._memo:
            self._memo[key] = compute()
        found: T = self._memo[key]
        return found


_LIBRARY_LOCK = threading.Lock()
_library: Library | None = None


def _stamp() -> Stamp:
    return tuple(
        (path.stem, info.st_mtime_ns, info.st_size)
        for path in sorted(LIBRARY.glob("*.yaml"))
        for info in (path.stat(),)
    )


def library() -> Library:
    """The library, read once per process and again when a file's mtime or size changes (a
    directory listing and one ``stat`` per file, some tens of microseconds, per call)."""
    global _library
    stamp = _stamp()
    current = _library
    if current is not None and current.stamp == stamp:
        return current
    with _LIBRARY_LOCK:
        if _library is not None and _library.stamp == stamp:
            return _library
        texts = {name: (LIBRARY / f"{name}.yaml").read_text(encoding="utf-8") for name, *_ in stamp}
        raws: dict[str, dict[str, Any]] = {}
        for name, text in texts.items():
            raw = yaml.safe_load(text)
            if not isinstance(raw, dict):
                raise InputFileError(
                    LIBRARY / f"{name}.yaml", "a scenario file must be a YAML mapping"
                )
            raws[name] = raw
        _library = Library(stamp, texts, raws)
        return _library


def library_raw(name: str) -> dict[str, Any]:
    """The parsed YAML of library scenario ``name`` (a copy); 404 for a name not in the library."""
    lib = library()
    lib.check(name)
    return copy.deepcopy(lib.raws[name])


def library_text(name: str) -> str:
    """The YAML text of library scenario ``name`` (404 for a name not in the library)."""
    lib = library()
    lib.check(name)
    return lib.texts[name]


def _entries(lib: Library) -> list[dict[str, Any]]:
    out = []
    for name in lib.names:
        scenario = _prepared_library(lib, name).scenario
        out.append(
            {
                "name": scenario.name,
                "title": scenario.title,
                "material": scenario.material,
                "stage": scenario.stage,
                "start": scenario.start,
                "horizon_months": scenario.horizon_months,
                "registry_ids": list(scenario.registry_ids),
            }
        )
    return out


def library_entries() -> list[dict[str, Any]]:
    """Name, title, material, stage, start, horizon and registry ids of each library scenario."""
    lib = library()
    return copy.deepcopy(lib.memo("entries", lambda: _entries(lib)))


# ================================================================================ validation
def invalid(field: str | None, message: str, prefix: tuple[str, ...] = ("body",)) -> Exception:
    """A 422 naming ``field`` of the definition (the app's validation-error format)."""
    where = (*prefix, DEFINITION, field) if field else (*prefix, DEFINITION)
    return RequestValidationError([{"loc": where, "msg": message, "type": "value_error"}])


@dataclass(frozen=True)
class Prepared:
    """A validated scenario, its uncertainty block, and where it came from."""

    scenario: Scenario
    uncertainty: Uncertainty
    library: str | None  # the library name, or None for a definition


def prepare(name: str | None, definition: dict[str, Any] | None) -> Prepared:
    """Validate a library name or a definition; :class:`InputFileError` names the field.

    The library is read by name only (404 for an unknown name); a definition is validated like
    a scenario file (its ``uncertainty:`` block too, against the scenario's shocks).
    """
    if name is not None:
        lib = library()
        lib.check(name)
        return _prepared_library(lib, name)
    rest, block = split_uncertainty(definition)
    scenario = parse_scenario(rest, DEFINITION)
    return Prepared(scenario, parse_uncertainty(block, scenario, DEFINITION), None)


def _prepared_library(lib: Library, name: str) -> Prepared:
    """Library scenario ``name`` validated (once per library snapshot)."""

    def compute() -> Prepared:
        path = lib.path(name)
        rest, block = split_uncertainty(lib.raws[name])
        scenario = checked_scenario(rest, path)
        return Prepared(scenario, parse_uncertainty(block, scenario, path), name)

    return lib.memo(("prepared", name), compute)


def _prepare_or_422(name: str | None, definition: dict[str, Any] | None) -> Prepared:
    try:
        return prepare(name, definition)
    except InputFileError as exc:
        raise invalid(exc.field, exc.reason) from None


# ================================================================================ baselines
_CACHE_LOCK = threading.Lock()


def _baselines(request: Request) -> rk.RiskResults:
    found = getattr(request.app.state, "stress_baselines", None)
    if found is None:
        with _CACHE_LOCK:
            found = getattr(request.app.state, "stress_baselines", None)
            if found is None:
                found = rk.RiskResults(max_entries=16)
                request.app.state.stress_baselines = found
    assert isinstance(found, rk.RiskResults)
    return found


def baseline_for(request: Request, store: Store, scenario: Scenario) -> Baseline:
    """The scenario's baseline, cached per material, stage, baseline spec and releases."""
    key = (
        "baseline",
        rk.releases_now(request),
        scenario.material,
        scenario.stage,
        scenario.baseline.model_dump_json(),
    )
    baseline: Baseline = _baselines(request).get_or_compute(
        key, lambda: build_baseline(store.con, scenario)
    )
    return baseline


# ================================================================================ payloads
def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records with plain Python values (NaN → None)."""
    return [
        {str(k): rk.plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]


def meta(scenario: Scenario, baseline: Baseline) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "material": baseline.material,
        "stage": baseline.stage,
        "hs_codes": list(baseline.hs_codes),
        "baseline_years": list(baseline.years),
        "registry_ids": list(scenario.registry_ids),
        "horizon_months": scenario.horizon_months,
        "months": list(scenario.month_labels()),
        "importers": list(baseline.importers),
        "notes": list(baseline.notes),
    }


def run_payload(result: Result) -> dict[str, Any]:
    """The JSON of a run: metadata, parameters, summary, monthly rows and sector exposure."""
    p = result.params
    return {
        **meta(result.scenario, result.baseline),
        "params": {
            "spare_capacity_fraction": p.spare_capacity_fraction,
            "ramp_up_months": p.ramp_up_months,
            "demand_elasticity": p.demand_elasticity,
            "stockpiles": dict(p.stockpiles),
        },
        "shocked_world_output_share": result.shocked_output_share,
        "summary": rows(result.summary()),
        "monthly": rows(result.monthly()),
        "sectors": rows(sector_exposure(result, load_sector_splits())),
    }


def montecarlo_payload(result: MonteCarloResult) -> dict[str, Any]:
    """The JSON of a Monte Carlo: metadata, drawn parameters, summary and monthly bands."""
    return {
        **meta(result.scenario, result.baseline),
        "runs": result.runs,
        "seed": result.seed,
        "quantiles": [5, 50, 95],
        "parameters": describe(result.uncertainty),
        "summary": rows(result.summary()),
        "bands": rows(result.bands()),
    }


def run_montecarlo_bounded(
    prepared: Prepared, baseline: Baseline, runs: int, seed: int
) -> MonteCarloResult:
    """Monte Carlo in this process (never a pool or Dask from the service), ≤ MAX_RUNS runs."""
    if not 1 <= runs <= MAX_RUNS:
        raise CritmatError(f"runs must be between 1 and {MAX_RUNS:,}")
    if not prepared.uncertainty.parameters:
        raise CritmatError(
            f"scenario '{prepared.scenario.name}' declares no uncertain parameter",
            hint="add an `uncertainty:` block, e.g. "
            "spare_capacity_fraction: {dist: uniform, low: 0.05, high: 0.2}",
        )
    return run_montecarlo(
        prepared.scenario, baseline, prepared.uncertainty, runs, seed, scheduler=None, workers=1
    )


# ================================================================================ models
class ScenarioEntryOut(BaseModel):
    name: str
    title: str
    material: str = Field(description="catalogue id")
    stage: str | None
    start: str | None = Field(description="calendar month of month 0, YYYY-MM")
    horizon_months: int
    registry_ids: list[str] = Field(description="export-restriction registry ids")


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
    pass


class MonteCarloIn(_ScenarioIn):
    runs: int = Field(default=1000, ge=1, le=MAX_RUNS, description=f"1 to {MAX_RUNS:,}")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="numpy default_rng seed")


class _MetaOut(BaseModel):
    scenario: str
    title: str
    material: str
    stage: str
    hs_codes: list[str]
    baseline_years: list[int]
    registry_ids: list[str]
    horizon_months: int
    months: list[str]
    importers: list[str] = Field(description="EU27, then the 27 Member States (ISO3)")
    notes: list[str]


Row = dict[str, Any]


class RunOut(_MetaOut):
    params: dict[str, Any]
    shocked_world_output_share: float | None
    summary: list[Row] = Field(description="one row per importer: horizon totals, worst month")
    monthly: list[Row] = Field(description="one row per importer and month (tonnes, shares)")
    sectors: list[Row] = Field(description="shortfall shared pro rata over the applications")


class MonteCarloOut(_MetaOut):
    runs: int
    seed: int
    quantiles: list[int]
    parameters: list[dict[str, str]] = Field(description="the drawn parameters")
    summary: list[Row] = Field(description="per importer: bands of the horizon total, p_short")
    bands: list[Row] = Field(description="per importer and month: p5/p50/p95, t and share")


_ERRORS: dict[int | str, dict[str, Any]] = {
    **responses(503),
    400: {"description": "No uncertain parameter, or a stage or year without trade data."},
    404: {"description": "Unknown library scenario, or no data for the baseline."},
    413: {"description": f"Body over {MAX_BODY_BYTES:,} bytes."},
    422: {"description": "Invalid definition: `problems[].where` names the field."},
}


# ================================================================================ serving
_ENTRIES_OUT: TypeAdapter[list[ScenarioEntryOut]] = TypeAdapter(list[ScenarioEntryOut])
_RUN_OUT: TypeAdapter[RunOut] = TypeAdapter(RunOut)
_MONTECARLO_OUT: TypeAdapter[MonteCarloOut] = TypeAdapter(MonteCarloOut)


def model_json(adapter: TypeAdapter[Any], content: Any) -> bytes:
    """``content`` validated against and serialised by ``adapter``: the bytes FastAPI sends for
    a route declaring that response model (its ``dump_json`` fast path)."""
    return adapter.dump_json(adapter.validate_python(content), by_alias=True)


def _json(body: bytes, cache: str | None = None) -> Response:
    headers = {CACHE_HEADER: cache} if cache else None
    return Response(content=body, media_type="application/json", headers=headers)


async def _cached(
    request: Request, endpoint: str, body: _ScenarioIn, answer: Callable[[Store], bytes]
) -> Response:
    """The JSON of ``answer`` from the response cache: keyed by the current releases, the
    library's stamps and a SHA-256 of the validated body; computed once in the statistics pool
    on a miss. Validation errors and 404s are not kept; user errors (400) are, as elsewhere."""
    state = stats_state(request)
    releases = state.fingerprint.current()
    if releases is None:
        releases = await run_in_threadpool(state.fingerprint.refresh)
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    key = cache_key(endpoint, {"body": digest, "library": library().stamp}, "json", releases)
    entry = state.cache.response(key)
    if entry is not None:
        return _json(entry.body, "hit")

    def compute() -> CachedResponse:
        store = state.hub.store()
        try:
            return CachedResponse(answer(store), "application/json")
        finally:
            store.close()

    entry = await anyio.to_thread.run_sync(
        state.cache.get_or_compute, key, compute, limiter=state.compute_limiter
    )
    return _json(entry.body, "miss")


# ================================================================================ routes
@router.get("/scenarios", response_model=list[ScenarioEntryOut])
async def list_scenarios(caller: UserCaller) -> Response:
    """The scenario library (derived from the export-restriction registry)."""
    lib = library()
    return _json(lib.memo("entries-json", lambda: model_json(_ENTRIES_OUT, _entries(lib))))


@router.get("/scenarios/{name}", response_model=dict[str, Any], responses={404: _ERRORS[404]})
async def get_scenario(name: NamePath, caller: UserCaller) -> Response:
    """A library scenario file's content as JSON (including its `uncertainty:` block)."""
    lib = library()
    lib.check(name)
    body = lib.memo(
        ("raw-json", name), lambda: bytes(JSONResponse(jsonable_encoder(lib.raws[name])).body)
    )
    return _json(body)


@router.post("/run", response_model=RunOut, responses=_ERRORS)
async def run_scenario(body: RunIn, caller: UserCaller, request: Request) -> Response:
    """Run a scenario once: monthly results for EU27 and each Member State, the summary and the
    sector exposure. Computes only; nothing is stored (no audit record)."""

    def answer(store: Store) -> bytes:
        prepared = _prepare_or_422(body.scenario, body.definition)
        baseline = baseline_for(request, store, prepared.scenario)
        return model_json(_RUN_OUT, run_payload(run(prepared.scenario, baseline)))

    return await _cached(request, "stress/run", body, answer)


@router.post("/montecarlo", response_model=MonteCarloOut, responses=_ERRORS)
async def montecarlo(body: MonteCarloIn, caller: UserCaller, request: Request) -> Response:
    """Monte Carlo over the scenario's `uncertainty:` block: p5/p50/p95 shortfall bands per
    importer and month (same seed, same bands). Computes only; nothing is stored."""

    def answer(store: Store) -> bytes:
        prepared = _prepare_or_422(body.scenario, body.definition)
        baseline = baseline_for(request, store, prepared.scenario)
        result = run_montecarlo_bounded(prepared, baseline, body.runs, body.seed)
        return model_json(_MONTECARLO_OUT, montecarlo_payload(result))

    return await _cached(request, "stress/montecarlo", body, answer)
