"""The service's read-only connection to the analytics store, shared by all requests.

Opening the DuckDB file costs tens of milliseconds, so the service opens it once and hands each
request its own cursor. While the service holds it, a ``critmat data import`` cannot take the
write lock: stop the service (or run ``POST /api/v1/admin/store/reload`` after importing into a
copy) — see docs/service.md.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from critmat.errors import StoreError
from critmat.store import Store, connect_read_only


class StoreHub:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                if not self.path.exists():
                    raise StoreError(
                        f"no analytics store at {self.path}",
                        hint="run `critmat data pull` and restart the service",
                    )
                # a store of an older schema is migrated here, before the first request reads it
                self._con = connect_read_only(self.path)
            return self._con

    def store(self) -> Store:
        """A store on a fresh cursor (closing it leaves the shared connection open)."""
        return Store(self.path, read_only=True, connection=self._connection().cursor())

    def reload(self) -> None:
        """Drop the shared connection; the next request opens the file anew."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def close(self) -> None:
        self.reload()
