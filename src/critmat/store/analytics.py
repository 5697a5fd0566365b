"""The analytics store (DuckDB file) and its release bookkeeping.

Each dataset (columns in :data:`critmat.sources.base.CANONICAL_COLUMNS`) is stored in one table
``<dataset>_all`` with a leading ``series`` column, holding exactly the rows of the *current*
release of every series of that dataset (a BACI HS classification, a WGI edition, a USGS
edition...). The plain name ``<dataset>`` is a view of the dataset's default series
(:data:`critmat.sources.base.DEFAULT_SERIES`), so that ``trade`` is the HS92 trade and every
reader written before series existed sees exactly the rows it saw. ``releases_all`` keeps the
history: every import that changed something, with its series, source, version, licence,
sha256, row count and years; ``releases`` is its view for the default series.

Imports are atomic: a batch is validated in full before the store is touched, and the swap
(delete the series' old rows, insert the new, mark the release current) runs in one DuckDB
transaction. A failure or a killed process at any point leaves the previous release in place and
in use (DuckDB discards an uncommitted transaction on recovery). Importing a file whose sha256
equals that of the current release of its (dataset, series) changes nothing.

A store written by the previous version (schema 1: one table per dataset, no series) is migrated
on open, in one transaction, with its row counts checked before the commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd

from critmat.errors import NoDataError, StoreError
from critmat.sources.base import CANONICAL_COLUMNS, DEFAULT_SERIES, CanonicalBatch, Dataset
from critmat.store.validate import BatchError, validate_batch

#: 1: one table per dataset; 2: ``<dataset>_all`` with a series column, views for the defaults.
SCHEMA_VERSION = 2
#: The datasets a schema-1 store held (each moves to its default series on migration).
_SCHEMA1_DATASETS = ("production", "trade", "governance")

_RELEASES_DDL = """
CREATE TABLE IF NOT EXISTS releases_all (
    release_id INTEGER PRIMARY KEY,
    dataset VARCHAR NOT NULL,
    series VARCHAR NOT NULL,
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
    """One imported release of one series of a dataset (a row of ``releases_all``)."""

    release_id: int
    dataset: str
    series: str
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


def all_series_table(dataset: str) -> str:
    """The table holding every series of ``dataset`` (``trade`` -> ``trade_all``)."""
    return f"{dataset}_all"


def _quoted_columns(dataset: str) -> str:
    return ", ".join(f'"{c}"' for c in CANONICAL_COLUMNS[dataset])


def _table_ddl(dataset: str) -> str:
    columns = ", ".join(f'"{name}" {kind}' for name, kind in CANONICAL_COLUMNS[dataset].items())
    return (
        f"CREATE TABLE IF NOT EXISTS {all_series_table(dataset)} "
        f"(series VARCHAR NOT NULL, {columns})"
    )


def sql_literal(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _default_view_ddl(dataset: str) -> str:
    """The view ``<dataset>``: the canonical columns of the default series' rows."""
    return (
        f"CREATE OR REPLACE VIEW {dataset} AS SELECT {_quoted_columns(dataset)} "
        f"FROM {all_series_table(dataset)} WHERE series = {sql_literal(DEFAULT_SERIES[dataset])}"
    )


def _default_series_case(dataset_column: str = "dataset") -> str:
    """SQL giving the default series of the dataset named in ``dataset_column``."""
    whens = " ".join(
        f"WHEN {sql_literal(dataset)} THEN {sql_literal(series)}"
        for dataset, series in DEFAULT_SERIES.items()
    )
    return f"CASE {dataset_column} {whens} END"


_RELEASE_COLUMNS = (
    "release_id, dataset, series, source, version, licence, origin, sha256, retrieved_at, "
    "imported_at, row_count, year_min, year_max, is_current, notes"
)
#: Columns of ``releases`` in a schema-1 store (no series).
_SCHEMA1_RELEASE_COLUMNS = _RELEASE_COLUMNS.replace(" series,", "")


def _releases_view_ddl() -> str:
    return (
        f"CREATE OR REPLACE VIEW releases AS SELECT {_RELEASE_COLUMNS} FROM releases_all "
        f"WHERE series = {_default_series_case()}"
    )


def _release_from_row(row: tuple[object, ...]) -> Release:
    (
        rid,
        dataset,
        series,
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
        series=str(series),
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


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema of the store behind ``con``: 0 when empty, 1 for a store without series."""
    tables = {
        str(name): str(kind)
        for name, kind in con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = 'main'"
        ).fetchall()
    }
    if "store_meta" in tables:
        rows = con.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchall()
        if rows:
            return int(str(rows[0][0]))
    return 1 if tables.get("releases") == "BASE TABLE" else 0


def _migrate_schema1(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Move a schema-1 store's tables into ``<dataset>_all`` under their default series.

    Runs inside the caller's transaction; raises :class:`StoreError` (so the caller rolls back)
    when a row count differs after the copy.
    """
    con.execute(_RELEASES_DDL)
    con.execute(
        f"INSERT INTO releases_all ({_SCHEMA1_RELEASE_COLUMNS}, series) "
        f"SELECT {_SCHEMA1_RELEASE_COLUMNS}, {_default_series_case()} FROM releases"
    )
    _check_copied(con, path, "releases", "releases_all")
    con.execute("DROP TABLE releases")
    for dataset in _SCHEMA1_DATASETS:
        con.execute(_table_ddl(dataset))
        con.execute(
            f"INSERT INTO {all_series_table(dataset)} SELECT ?, {_quoted_columns(dataset)} "
            f"FROM {dataset}",
            [DEFAULT_SERIES[dataset]],
        )
        _check_copied(con, path, dataset, all_series_table(dataset))
        con.execute(f"DROP TABLE {dataset}")


def _check_copied(con: duckdb.DuckDBPyConnection, path: Path, source: str, copy: str) -> None:
    before, after = _count(con, source), _count(con, copy)
    if before != after:
        raise StoreError(
            f"migrating {path}: {source} has {before} rows, its copy {copy} {after}; "
            "the migration was undone and the store left as it was"
        )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def upgrade_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Bring the store behind a writable ``con`` to :data:`SCHEMA_VERSION`, in one transaction:
    create the tables and views of a new store, migrate a schema-1 store, refresh the views."""
    version = _schema_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} has schema {version}, newer than this critmat knows "
            f"({SCHEMA_VERSION})",
            hint="upgrade critmat, or point CRITMAT_DATA_DIR at another folder",
        )
    con.execute("BEGIN TRANSACTION")
    try:
        if version == 1:
            try:
                _migrate_schema1(con, path)
            except duckdb.Error as exc:
                raise StoreError(
                    f"could not migrate the store {path} to schema {SCHEMA_VERSION}: {exc}; "
                    "the migration was undone and the store left as it was",
                    hint="keep the file and report it; `critmat data pull` into an empty "
                    "CRITMAT_DATA_DIR builds a new store",
                ) from exc
        con.execute(_RELEASES_DDL)
        con.execute(_releases_view_ddl())
        for dataset in CANONICAL_COLUMNS:
            con.execute(_table_ddl(dataset))
            con.execute(_default_view_ddl(dataset))
        con.execute(
            "CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
        )
        con.execute(
            "INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)",
            [str(SCHEMA_VERSION)],
        )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:  # another process holds the write lock
        raise StoreError(f"cannot open the store {path}: {exc}") from exc


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a store at the current schema (an older one is migrated first,
    which needs the write lock for a moment)."""
    con = _connect(path, read_only=True)
    if _schema_version(con) == SCHEMA_VERSION:
        return con
    con.close()
    try:
        writer = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise StoreError(
            f"the store {path} was written by an older critmat and must be migrated, but "
            f"another process holds it: {exc}",
            hint="stop the service, then run `critmat data ensure` (it migrates the store)",
        ) from exc
    try:
        upgrade_schema(writer, path)
    finally:
        writer.close()
    return _connect(path, read_only=True)


class Store:
    """An open analytics store. Use :func:`open_store`; close it (or use ``with``) when done.

    A store opened on someone else's ``connection`` (the service's shared read-only one) is not
    migrated: open the file once with :func:`open_store` after upgrading critmat (``critmat data
    ensure`` does).
    """

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
        if read_only:
            self.con = connect_read_only(path)
            return
        self.con = _connect(path, read_only=False)
        try:
            upgrade_schema(self.con, path)
        except BaseException:
            self.con.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- releases ----------------------------------------------------------------------------
    def releases(self, *, current_only: bool = False, every_series: bool = False) -> list[Release]:
        """Releases of the default series of ``production``, ``trade`` and ``governance`` — the
        list critmat gave before series and new datasets existed, which the answers built on it
        (``GET /data/releases``, the overview) keep — newest first (``current_only``: only the
        current one per dataset). ``every_series``: every release of every dataset and series,
        by dataset, the default series first, then the others by name."""
        if every_series:
            where = "WHERE is_current" if current_only else ""
            table = "releases_all"
        else:
            datasets = ", ".join(sql_literal(d) for d in _SCHEMA1_DATASETS)
            where = f"WHERE dataset IN ({datasets})"
            where += " AND is_current" if current_only else ""
            table = "releases"
        rows = self.con.execute(
            f"SELECT {_RELEASE_COLUMNS} FROM {table} {where} "
            f"ORDER BY dataset, series <> {_default_series_case()}, series, release_id DESC"
        ).fetchall()
        return [_release_from_row(r) for r in rows]

    def release_key(self) -> tuple[int, ...]:
        """The ids of the current releases of every series, sorted: the one key every cached
        answer is filed under (a new release of any dataset or series gives new keys)."""
        rows = self.con.execute(
            "SELECT release_id FROM releases_all WHERE is_current ORDER BY release_id"
        ).fetchall()
        return tuple(int(r[0]) for r in rows)

    def current_release(self, dataset: Dataset, series: str | None = None) -> Release | None:
        """The current release of one series of ``dataset`` (default: its default series)."""
        rows = self.con.execute(
            f"SELECT {_RELEASE_COLUMNS} FROM releases_all "
            "WHERE dataset = ? AND series = ? AND is_current",
            [dataset, DEFAULT_SERIES[dataset] if series is None else series],
        ).fetchall()
        return _release_from_row(rows[0]) if rows else None

    def current_releases(self, dataset: Dataset) -> list[Release]:
        """The current release of every series of ``dataset``, the default series first."""
        rows = self.con.execute(
            f"SELECT {_RELEASE_COLUMNS} FROM releases_all WHERE dataset = ? AND is_current "
            f"ORDER BY series <> {_default_series_case()}, series",
            [dataset],
        ).fetchall()
        return [_release_from_row(r) for r in rows]

    def require_release(self, dataset: Dataset, series: str | None = None) -> Release:
        """The current release of ``dataset`` (one series, default: the default series), or a
        :class:`NoDataError` saying how to get one."""
        release = self.current_release(dataset, series)
        if release is None:
            which = "" if series is None else f" (series {series})"
            raise NoDataError(
                f"the store at {self.path} has no {dataset}{which} data yet",
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
        """Make ``batches`` the current releases of their (dataset, series), all or nothing.

        Every batch is validated first (see :func:`critmat.store.validate.validate_batch`);
        batches whose sha256 equals the current release's of their series are skipped as
        ``unchanged``. The rest are swapped in within one transaction; other series keep their
        releases. ``on_stage`` is called with ``"validated"``, ``"written"`` (rows replaced, not
        yet committed) and ``"committed"``.
        """
        if self.read_only:
            raise StoreError(f"the store {self.path} is open read-only")
        tables = [validate_batch(batch) for batch in batches]
        _refuse_repeated_series(batches)
        if on_stage:
            on_stage("validated")
        results: list[ApplyResult] = []
        pending: list[tuple[CanonicalBatch, pd.DataFrame, Release | None]] = []
        for batch, table in zip(batches, tables, strict=True):
            previous = self.current_release(batch.dataset, batch.series)
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
        dataset, series = batch.dataset, batch.series
        target = all_series_table(dataset)
        self.con.execute(f"DELETE FROM {target} WHERE series = ?", [series])
        self.con.register("_incoming", table)
        try:
            self.con.execute(
                f"INSERT INTO {target} SELECT ?, {_quoted_columns(dataset)} FROM _incoming",
                [series],
            )
        finally:
            self.con.unregister("_incoming")
        next_id_row = self.con.execute(
            "SELECT coalesce(max(release_id), 0) + 1 FROM releases_all"
        ).fetchall()[0]
        years = table["year"]
        self.con.execute(
            "UPDATE releases_all SET is_current = false WHERE dataset = ? AND series = ?",
            [dataset, series],
        )
        self.con.execute(
            f"INSERT INTO releases_all ({_RELEASE_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)",
            [
                int(next_id_row[0]),
                dataset,
                series,
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
        release = self.current_release(dataset, series)
        assert release is not None
        return release

    # -- reading -----------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[object] | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def row_count(self, dataset: Dataset, series: str | None = None) -> int:
        """Rows of the current release of one series (default: the default series)."""
        found = self.con.execute(
            f"SELECT count(*) FROM {all_series_table(dataset)} WHERE series = ?",
            [DEFAULT_SERIES[dataset] if series is None else series],
        ).fetchall()
        return int(found[0][0])


def _refuse_repeated_series(batches: Sequence[CanonicalBatch]) -> None:
    seen: set[tuple[str, str]] = set()
    for batch in batches:
        key = (batch.dataset, batch.series)
        if key in seen:
            raise BatchError(
                f"two batches for {batch.dataset} series {batch.series!r} in one import; "
                "a series has one current release"
            )
        seen.add(key)


def open_store(path: Path, *, read_only: bool = False) -> Store:
    """Open (and, unless ``read_only``, create) the analytics store at ``path``; a store of an
    older schema is migrated first."""
    return Store(path, read_only=read_only)
