"""A bounded, thread-safe LRU cache of finished responses, and the release fingerprint that
keys it.

The statistics only change when a dataset release changes, so a response is cached under
``(endpoint, normalised parameters, format, current release ids)``. A new release gives new keys;
the old entries age out of the LRU. Concurrent misses for the same key are computed once
(single flight): the first caller computes, the others wait for its result.

User errors (:class:`critmat.errors.CritmatError`, e.g. an unknown material) are cached like
results, since they too depend only on the parameters and the releases; other exceptions are not.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, cast

from critmat.errors import CritmatError, StoreError


class Sized(Protocol):
    """A cache entry: anything that states the bytes it is charged against the budget."""

    @property
    def size(self) -> int: ...


S = TypeVar("S", bound=Sized)


@dataclass(frozen=True)
class CachedResponse:
    """A finished response body with its media type and extra headers."""

    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        return len(self.body) + 64


@dataclass(frozen=True)
class _Failure:
    error: CritmatError

    @property
    def size(self) -> int:
        return 512


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Sized | None = None
    error: BaseException | None = None


class ResponseCache:
    """LRU over :class:`CachedResponse` bounded by entry count and total body bytes."""

    # The count bound only keeps the bookkeeping small (the byte bound limits memory): it is
    # above the distinct answers a working day asks for (benchmarks/api_load.py sends 5,355).
    # The byte bound leaves room for the web overview's basis (~120 MB of indicator frames,
    # rebuilt in ~5 s when evicted) beside a day's API answers.
    def __init__(self, max_entries: int = 32_768, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, Sized] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Sized | None:
        """The cached response for ``key`` (re-raising a cached user error), or None."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                return None
            self._data.move_to_end(key)
            self.stats.hits += 1
        return _unwrap(value)

    def response(self, key: Hashable) -> CachedResponse | None:
        """:meth:`get` for a key that holds a finished response."""
        value = self.get(key)
        assert value is None or isinstance(value, CachedResponse)
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], S]) -> S:
        """Return the cached value or compute it once, even when many threads ask at once."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
                self.stats.hits += 1
                return cast(S, _unwrap(value))
            existing = self._flights.get(key)
            flight = existing or _Flight()
            leader = existing is None
            if leader:
                self._flights[key] = flight
                self.stats.misses += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.value is not None
            return cast(S, _unwrap(flight.value))
        try:
            try:
                outcome: Sized = compute()
            except StoreError:
                raise  # the store may come back: do not remember
            except CritmatError as exc:
                outcome = _Failure(exc)
            flight.value = outcome
            self._put(key, outcome)
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
        return cast(S, _unwrap(outcome))

    def _put(self, key: Hashable, value: Sized) -> None:
        if value.size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._data[key] = value
            self._bytes += value.size
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _key, evicted = self._data.popitem(last=False)
                self._bytes -= evicted.size
                self.stats.evictions += 1
            self.stats.entries = len(self._data)
            self.stats.bytes = self._bytes

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0
            self.stats.entries = 0
            self.stats.bytes = 0


def _unwrap(value: Sized) -> Sized:
    if isinstance(value, _Failure):
        # Drop the traceback of the earlier raise so that it does not grow with every hit.
        raise value.error.with_traceback(None)
    return value


class ReleaseFingerprint:
    """The ids of the current releases, re-read from the store at most every ``ttl`` seconds.

    Reading them costs a cursor and a query (about half a millisecond); the service holds the
    store read-only, so releases change only when the store is reopened, and a few hundred
    milliseconds of delay before new keys are used is harmless.
    """

    def __init__(self, read: Callable[[], tuple[int, ...]], ttl: float = 1.0) -> None:
        self._read = read
        self.ttl = ttl
        self._value: tuple[int, ...] | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def current(self) -> tuple[int, ...] | None:
        """The cached fingerprint if still fresh, else None (call :meth:`refresh`)."""
        if self._value is not None and time.monotonic() - self._at < self.ttl:
            return self._value
        return None

    def refresh(self) -> tuple[int, ...]:
        with self._lock:
            fresh = self.current()
            if fresh is not None:
                return fresh
            self._value = self._read()
            self._at = time.monotonic()
            return self._value
