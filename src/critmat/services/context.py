"""What the service functions of one process (or one running app) share: how to open the
store, the one cache of answers and the in-memory import flows.

Every cached answer is filed under ``(namespace, parameters, current release ids)``: a new
release of any dataset gives new keys and the old answers age out of the LRU. The release ids
are re-read at most once a second (:class:`~critmat.services.cache.ReleaseFingerprint`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from critmat.indicators.flows_cache import FlowsCache
from critmat.services.cache import ReleaseFingerprint, ResponseCache
from critmat.store import Store

T = TypeVar("T")

#: The size charged for a cached Python object whose size is not given (bytes; an estimate
#: that only bounds the count of such entries within the cache's byte budget).
DEFAULT_ENTRY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kept(Generic[T]):
    """A cached Python answer and the bytes it is charged against the cache's budget."""

    value: T
    size: int = DEFAULT_ENTRY_BYTES


class ServiceContext:
    """The store opener, the one answer cache and the import flows of a process or an app."""

    def __init__(self, open_store: Callable[[], Store], flows: FlowsCache | None = None) -> None:
        self.open_store = open_store
        self.flows = flows
        self.cache = ResponseCache()
        self.fingerprint = ReleaseFingerprint(self._read_release_key)

    def _read_release_key(self) -> tuple[int, ...]:
        store = self.open_store()
        try:
            return store.release_key()
        finally:
            store.close()

    def releases(self) -> tuple[int, ...]:
        """The current release ids (re-read from the store at most once a second)."""
        return self.fingerprint.current() or self.fingerprint.refresh()

    def remember(
        self,
        namespace: str,
        params: Hashable,
        compute: Callable[[], T],
        *,
        size: int = DEFAULT_ENTRY_BYTES,
        releases: tuple[int, ...] | None = None,
    ) -> T:
        """``compute()``'s answer, computed once per current releases (concurrent callers wait
        for the first). A :class:`~critmat.errors.CritmatError` is remembered like an answer."""
        key = (namespace, params, releases if releases is not None else self.releases())
        kept = self.cache.get_or_compute(key, lambda: Kept(compute(), size))
        assert isinstance(kept, Kept)
        return kept.value  # type: ignore[no-any-return]

    def forget(self) -> None:
        """Drop every cached answer (after the store was rebuilt in place)."""
        self.cache.clear()
