"""The response cache: bounded, single flight, keyed by releases; hits are marked."""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

import pytest

from critmat.errors import UnknownNameError
from critmat.services.cache import CachedResponse, ReleaseFingerprint, ResponseCache
from tests.api_stats.conftest import Api


def test_lru_is_bounded_by_entries_and_bytes() -> None:
    cache = ResponseCache(max_entries=3, max_bytes=10_000)
    for i in range(5):
        cache.get_or_compute(i, functools.partial(CachedResponse, str(i).encode(), "text/plain"))
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) is not None
    cache.get(2)  # 2 is now the most recent: 3 goes first
    cache.get_or_compute(9, lambda: CachedResponse(b"x" * 9_000, "text/plain"))
    assert cache.get(9) is not None and cache.get(3) is None
    assert cache.stats.bytes <= 10_000


def test_single_flight_and_cached_errors() -> None:
    cache = ResponseCache()
    calls = []

    def slow() -> CachedResponse:
        calls.append(1)
        time.sleep(0.1)
        return CachedResponse(b"ok", "text/plain")

    threads = [threading.Thread(target=cache.get_or_compute, args=("k", slow)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1

    def unknown() -> CachedResponse:
        calls.append(2)
        raise UnknownNameError("material", "x", ["y"])

    for _ in range(3):
        with pytest.raises(UnknownNameError):
            cache.get_or_compute("bad", unknown)
    assert calls.count(2) == 1

    def crash() -> CachedResponse:
        raise RuntimeError("boom")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get_or_compute("crash", crash)
    assert cache.get("crash") is None


def test_fingerprint_rereads_after_ttl() -> None:
    values = iter([(1, 2), (1, 3)])
    fingerprint = ReleaseFingerprint(lambda: next(values), ttl=0.05)
    assert fingerprint.current() is None
    assert fingerprint.refresh() == (1, 2) == fingerprint.current()
    time.sleep(0.06)
    assert fingerprint.current() is None and fingerprint.refresh() == (1, 3)


def test_second_request_is_a_hit_with_the_same_body(api: Api) -> None:
    params: dict[str, Any] = {
        "material": "nickel",
        "year": 2021,
        "importer": "FRA",
        "basis": "value",
    }
    first = api.get("/api/v1/dependency", **params)
    second = api.get("/api/v1/dependency", **{**params, "material": " Nickel "})
    assert first.headers["x-critmat-cache"] == "miss"
    assert second.headers["x-critmat-cache"] == "hit"
    assert first.content == second.content
