"""How the statistics routes answer: from the response cache, or computed once and cached.

Every route is ``async``: :func:`serve` checks the response cache first (the app's
:class:`~critmat.services.context.ServiceContext`) and only on a miss answers from the
precomputed tables on the event loop (when they hold the answer) or opens a store cursor and
computes in a small thread pool. Responses are cached as encoded bytes under ``(endpoint,
normalised parameters, format, current release ids)``; a new data release gives new keys. The
risk routes answer through :func:`serve` too (their answers need no store cursor).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from enum import StrEnum
from typing import Literal

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from critmat import exports
from critmat.indicators.precomputed import Tables
from critmat.server.storehub import StoreHub
from critmat.services import statistics as svc
from critmat.services.cache import CachedResponse
from critmat.services.context import ServiceContext
from critmat.store import Store

CACHE_HEADER = "X-Critmat-Cache"
COMPUTE_THREADS = 4

Format = Literal["json", "csv", "xlsx"]


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


async def serve(
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
        if fast is not None and fmt == "json":
            tables = svc.ready_tables(request.app.state.flows_cache, releases)
            if tables is not None:
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
    body, media_type, disposition = exports.download(computed.table, fmt, stem)
    return CachedResponse(body, media_type, (("Content-Disposition", disposition),))


def release_ids(request: Request) -> tuple[int, ...] | None:
    """The current release ids the response cache keys on, if fresh (saves a store query when
    the precomputed tables answer)."""
    return stats_state(request).fingerprint.current()
