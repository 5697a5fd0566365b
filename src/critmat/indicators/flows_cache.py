"""Import flows of the usual importers (EU27 and each Member State), held in memory.

A service answers many questions about the same importers. Reading ``trade`` for each costs
tens of milliseconds; one pass over all codes and years (:func:`import_flows`, about a second on
the default data) then lets every question be answered from memory. The cache follows the
current trade release: a new release is loaded on first use after it appears.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from critmat.indicators.imports import ImporterSet, import_flows
from critmat.store import Store

_CODES_LOCK = threading.Lock()
_CODES: dict[tuple[str, str], frozenset[str]] = {}


def trade_codes(store: Store) -> frozenset[str]:
    """The HS6 codes present in the current trade release (cached per release)."""
    release = store.require_release("trade")
    key = (str(store.path), release.sha256)
    with _CODES_LOCK:
        found = _CODES.get(key)
    if found is None:
        rows = store.con.execute("SELECT DISTINCT hs6 FROM trade").fetchall()
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

    def covers(self, importer: ImporterSet) -> bool:
        known = self.importers.get(importer.name)
        return known is not None and known.members == importer.members

    def load(self, store: Store) -> None:
        """Read the flows now (e.g. while a service starts) rather than on first use."""
        self._load(store)

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
