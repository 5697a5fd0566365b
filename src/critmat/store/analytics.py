"""The analytics store (DuckDB file) and its release bookkeeping.

Each canonical table (``production``, ``trade``, ``governance``; columns in
:data:`critmat.sources.base.CANONICAL_COLUMNS`) holds exactly the rows of the *current* release
of that dataset. ``releases`` keeps the history: every import that changed something, with its
source, version, licence, sha256, row count and years.

Imports are atomic: a batch is validated in full before the store is touched, and the swap
(delete the old rows, insert the new, mark the release current) runs in one DuckDB transaction.
A failure or a killed process at any point leaves the previous release in place and in use
(DuckDB discards an uncommitted transaction on recovery). Importing a file whose sha256 equals
that of the current release changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from critmat.errors import NoDataError, StoreError
from critmat.sources.base import CANONICAL_COLUMNS, CanonicalBatch, Dataset
from critmat.store.validate import validate_batch

SCHEMA_VERSION = 1

_RELEASES_DDL = """
CREATE TABLE IF NOT EXISTS releases (
    release_id INTEGER PRIMARY KEY,
    dataset VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    licence VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    retrieved_at TIMESTAMP,
    imported_at TIMESTAMP NOT NULL,
    row_count BIGINT NOT NULL,
    year_min INTEGER,
    year_max INTEGER,
    is_current BOOLEAN NOT NULL,
    notes VARCHAR NOT NULL
)
"""


@dataclass(frozen=True)
class Release:
    """One imported release of a dataset (a row of ``releases``)."""

    release_id: int
    dataset: str
    source: str
    version: str
    licence: str
    origin: str
    sha256: str
    retrieved_at: datetime | None
    imported_at: datetime
    row_count: int
    year_min: int | None
    year_max: int | None
    is_current: bool
    notes: tuple[str, ...]

    def citation(self) -> str:
        """Short provenance text, e.g. ``baci HS92 V202401b, 1995–2024``."""
        years = f", {self.year_min}–{self.year_max}" if self.year_min is not None else ""
        return f"{self.source} {self.version}{years}"


@dataclass(frozen=True)
class ApplyResult:
    """What an import did to one dataset: ``imported`` (new current release) or ``unchanged``."""

    dataset: str
    status: str
    release: Release
    previous: Release | None


StageHook = Callable[[str], None]


def _table_ddl(dataset: str) -> str:
    columns = ", ".join(f'"{name}" {kind}' for name, kind in CANONICAL_COLUMNS[dataset].items())
    return f"CREATE TABLE IF NOT EXISTS {dataset} ({columns})"


def _release_from_row(row: tuple[object, ...]) -> Release:
    (
        rid,
        dataset,
        source,
        version,
        licence,
        origin,
        sha,
        retrieved,
        imported,
        count,
        y0,
        y1,
        cur,
        notes,
    ) = row
    return Release(
        release_id=int(rid),  # type: ignore[call-overload]
        dataset=str(dataset),
        source=str(source),
        version=str(version),
        licence=str(licence),
        origin=str(origin),
        sha256=str(sha),
        retrieved_at=retrieved,  # type: ignore[arg-type]
        imported_at=imported,  # type: ignore[arg-type]
        row_count=int(count),  # type: ignore[call-overload]
        year_min=None if y0 is None else int(y0),  # type: ignore[call-overload]
        year_max=None if y1 is None else int(y1),  # type: ignore[call-overload]
        is_current=bool(cur),
        notes=tuple(json.loads(str(notes))),
    )


class Store:
    """An open analytics store. Use :func:`open_store`; close it (or use ``with``) when done."""

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        connection: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        if connection is not None:  # a cursor of a connection someone else owns (the service)
            self.con = connection
            return
        if read_only and not path.exists():
            raise StoreError(
                f"no analytics store at {path}",
                hint="run `critmat data pull` first (or set CRITMAT_DATA_DIR to the folder with "
                "critmat.duckdb)",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:  # another process holds the write lock
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        if not read_only:
            self._ensure_schema()

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _ensure_schema(self) -> None:
        self.con.execute(_RELEASES_DDL)
        for dataset in CANONICAL_COLUMNS:
            self.con.execute(_table_ddl(dataset))
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        self.con.execute(
            "INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    # -- releases ----------------------------------------------------------------------------
    def releases(self, *, current_only: bool = False) -> list[Release]:
        """All releases, newest first (only the current one per dataset if ``current_only``)."""
        where = "WHERE is_current" if current_only else ""
        rows = self.con.execute(
            f"SELECT * FROM releases {where} ORDER BY dataset, release_id DESC"
        ).fetchall()
        return [_release_from_row(r) for r in rows]

    def release_key(self) -> tuple[int, ...]:
        """The ids of the current releases, sorted: the one key every cached answer is filed
        under (a new release of any dataset gives new keys)."""
        rows = self.con.execute(
            "SELECT release_id FROM releases WHERE is_current ORDER BY release_id"
        ).fetchall()
        return tuple(int(r[0]) for r in rows)

    def current_release(self, dataset: Dataset) -> Release | None:
        rows = self.con.execute(
            "SELECT * FROM releases WHERE dataset = ? AND is_current", [dataset]
        ).fetchall()
        return _release_from_row(rows[0]) if rows else None

    def require_release(self, dataset: Dataset) -> Release:
        """The current release of ``dataset``, or a :class:`NoDataError` saying how to get one."""
        release = self.current_release(dataset)
        if release is None:
            raise NoDataError(
                f"the store at {self.path} has no {dataset} data yet",
                hint="run `critmat data pull` (default data) or `critmat data import ...`",
            )
        return release

    # -- imports -----------------------------------------------------------------------------
    def apply(
        self,
        batches: Sequence[CanonicalBatch],
        *,
        retrieved_at: datetime | None = None,
        on_stage: StageHook | None = None,
    ) -> list[ApplyResult]:
        """Make ``batches`` the current releases of their datasets, all or nothing.

        Every batch is validated first (see :func:`critmat.store.validate.validate_batch`);
        batches whose sha256 equals the current release's are skipped as ``unchanged``. The rest
        are swapped in within one transaction. ``on_stage`` is called with ``"validated"``,
        ``"written"`` (rows replaced, not yet committed) and ``"committed"``.
        """
        if self.read_only:
            raise StoreError(f"the store {self.path} is open read-only")
        tables = [validate_batch(batch) for batch in batches]
        if on_stage:
            on_stage("validated")
        results: list[ApplyResult] = []
        pending: list[tuple[CanonicalBatch, pd.DataFrame, Release | None]] = []
        for batch, table in zip(batches, tables, strict=True):
            previous = self.current_release(batch.dataset)
            if previous is not None and previous.sha256 == batch.sha256:
                results.append(ApplyResult(batch.dataset, "unchanged", previous, previous))
            else:
                pending.append((batch, table, previous))
        if not pending:
            return results
        now = datetime.now(UTC).replace(tzinfo=None)
        with self._transaction():
            for batch, table, previous in pending:
                release = self._swap(batch, table, retrieved_at, now)
                results.append(ApplyResult(batch.dataset, "imported", release, previous))
            if on_stage:
                on_stage("written")
        if on_stage:
            on_stage("committed")
        return results

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def _swap(
        self,
        batch: CanonicalBatch,
        table: pd.DataFrame,
        retrieved_at: datetime | None,
        now: datetime,
    ) -> Release:
        dataset = batch.dataset
        columns = ", ".join(f'"{c}"' for c in CANONICAL_COLUMNS[dataset])
        self.con.execute(f"DELETE FROM {dataset}")
        self.con.register("_incoming", table)
        try:
            self.con.execute(f"INSERT INTO {dataset} SELECT {columns} FROM _incoming")
        finally:
            self.con.unregister("_incoming")
        next_id_row = self.con.execute(
            "SELECT coalesce(max(release_id), 0) + 1 FROM releases"
        ).fetchall()[0]
        years = table["year"]
        self.con.execute("UPDATE releases SET is_current = false WHERE dataset = ?", [dataset])
        self.con.execute(
            "INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)",
            [
                int(next_id_row[0]),
                dataset,
                batch.source,
                batch.version,
                batch.licence,
                batch.origin,
                batch.sha256,
                retrieved_at,
                now,
                len(table),
                int(years.min()) if len(table) else None,
                int(years.max()) if len(table) else None,
                json.dumps(batch.notes),
            ],
        )
        release = self.current_release(dataset)
        assert release is not None
        return release

    # -- reading -----------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[object] | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def row_count(self, dataset: Dataset) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {dataset}").fetchall()[0][0])


def open_store(path: Path, *, read_only: bool = False) -> Store:
    """Open (and, unless ``read_only``, create) the analytics store at ``path``."""
    return Store(path, read_only=read_only)
