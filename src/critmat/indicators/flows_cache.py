"""Import flows of the usual importers (EU27 and each Member State), held in memory.

A service answers many questions about the same importers. Reading ``trade`` for each costs
tens of milliseconds; one pass over all codes and years (:func:`import_flows`, about a second on
the default data) then lets every question be answered from memory. The cache follows the
current trade release: a new release is loaded on first use after it appears.

:meth:`FlowsCache.tables` adds the precomputed tables of :mod:`critmat.indicators.precomputed`
(origins per material stage, importer and year; production shares), built from the same flows
when the cache loads, for the current set of releases.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.precomputed import Tables, current_release_ids
from critmat.store import Store

_CODES_LOCK = threading.Lock()
_CODES: dict[tuple[str, str], frozenset[str]] = {}


def trade_codes(store: Store, series: str | None = None) -> frozenset[str]:
    """The HS6 codes present in the current release of a trade series (default: the default
    series, the ``trade`` view), cached per release; empty when the series has no release."""
    release = (
        store.require_release("trade") if series is None else store.current_release("trade", series)
    )
    if release is None:
        return frozenset()
    key = (str(store.path), release.sha256)
    with _CODES_LOCK:
        found = _CODES.get(key)
    if found is None:
        rows = store.con.execute(
            "SELECT DISTINCT hs6 FROM trade_all WHERE series = ?", [release.series]
        ).fetchall()
        found = frozenset(str(r[0]) for r in rows)
        with _CODES_LOCK:
            _CODES[key] = found
    return found


class FlowsCache:
    """:func:`import_flows` of ``importers`` for every code and year of the current release."""

    def __init__(self, importers: Sequence[ImporterSet]) -> None:
        self.importers = {s.name: s for s in importers}
        self._lock = threading.Lock()
        self._release: str | None = None
        self._flows: pd.DataFrame | None = None
        self._index: dict[tuple[str, int], np.ndarray] = {}
        self._tables: Tables | None = None

    def covers(self, importer: ImporterSet) -> bool:
        known = self.importers.get(importer.name)
        return known is not None and known.members == importer.members

    def load(self, store: Store) -> None:
        """Read the flows and build the tables now (e.g. while a service starts) rather than on
        first use."""
        self._load(store)
        self._load_tables(store, current_release_ids(store))

    def tables(self, store: Store, release_ids: tuple[int, ...] | None = None) -> Tables | None:
        """The precomputed tables of the current releases (``release_ids`` when the caller has
        read them already; else one query), built on first use; ``None`` when the store has no
        trade data or the releases changed meanwhile."""
        current = current_release_ids(store) if release_ids is None else release_ids
        found = self._tables
        if found is not None and found.release_ids == current:
            return found
        return self._load_tables(store, current)

    def ready(self, release_ids: tuple[int, ...]) -> Tables | None:
        """The tables if they are built for ``release_ids`` (no query, never builds)."""
        found = self._tables
        return found if found is not None and found.release_ids == release_ids else None

    def _load_tables(self, store: Store, current: tuple[int, ...]) -> Tables | None:
        if store.current_release("trade") is None:
            return None
        flows = self._load(store)
        with self._lock:
            found = self._tables
            if found is None or found.release_ids != current_release_ids(store):
                found = Tables.build(
                    store, flows, list(self.importers.values()), trade_codes(store)
                )
                self._tables = found
        return found if found.release_ids == current else None

    def _load(self, store: Store) -> pd.DataFrame:
        release = store.require_release("trade").sha256
        with self._lock:
            if self._release != release or self._flows is None:
                flows = import_flows(store.con, list(self.importers.values()))
                groups: dict[Any, Any] = flows.groupby(["importer", "year"], sort=False).indices
                self._index = {
                    (str(key[0]), int(key[1])): np.asarray(positions)
                    for key, positions in groups.items()
                }
                self._flows, self._release = flows, release
            return self._flows

    def flows(
        self,
        store: Store,
        importer: ImporterSet,
        hs_codes: Iterable[str],
        years: Sequence[int],
    ) -> pd.DataFrame | None:
        """Rows of :func:`import_flows` for one importer, codes and years; ``None`` when the
        importer is not one this cache holds."""
        if not self.covers(importer):
            return None
        flows = self._load(store)
        positions = [self._index.get((importer.name, int(y))) for y in years]
        picked = np.concatenate([p for p in positions if p is not None] or [np.array([], int)])
        subset = flows.iloc[picked]
        return subset.loc[subset["hs6"].isin(set(hs_codes))].reset_index(drop=True)
