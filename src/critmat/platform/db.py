"""Engine, sessions and migrations of the platform database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from critmat.errors import PlatformUnavailable, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL. SQLite gets foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@cache
def quick_read_engine(url: str) -> Engine:
    """An engine for the short reads the service runs inline on its event loop (revocation
    stamps, assessment listings): a small pool of its own, so that a checkout never waits for
    another request's transaction; autocommit (no ``BEGIN``/``ROLLBACK`` round trips); and
    bounded waits — 5 s for a pooled connection, 5 s to connect and, on PostgreSQL, 5 s per
    statement (SQLite: 5 s busy timeout; its readers do not wait for writers in WAL mode)."""
    backend = make_url(url).get_backend_name()
    connect_args: dict[str, Any] = (
        {"check_same_thread": False, "timeout": 5}
        if backend == "sqlite"
        else {"connect_timeout": 5, "options": "-c statement_timeout=5000"}
    )
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=2,
        max_overflow=8,
        pool_timeout=5,
        connect_args=connect_args,
    )


def close_platform(url: str) -> None:
    """Close every pooled connection this process holds to the platform database at ``url``
    (the ORM engine's and the quick-read engine's); both reconnect on next use."""
    engine_for(url).dispose()
    quick_read_engine(url).dispose()


#: Database errors that mean "not now" rather than "wrong": the server is down or refuses
#: connections (``max_connections``), a lock or the connection pool timed out.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    PoolTimeout,
    PlatformUnavailable,
)


def unavailable_from(exc: Exception) -> PlatformUnavailable:
    """The :class:`PlatformUnavailable` error a user sees for one of :data:`UNAVAILABLE_ERRORS`
    (the driver's first line, without SQL or parameters)."""
    if isinstance(exc, PlatformUnavailable):
        return exc
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip()
    return PlatformUnavailable(text.splitlines()[0] if text else type(cause).__name__)


@cache
def session_factory(url: str) -> sessionmaker[Session]:
    """One session maker per database URL: a new maker makes a new ``Session`` subclass, whose
    event dispatch SQLAlchemy builds afresh — about a millisecond per request if made each time."""
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> str:
    """Bring the database at ``url`` to the newest schema; return the revision it is at."""
    engine = engine_for(url)
    config = _alembic_config(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the platform database: {exc.orig}") from exc
    return head_revision()


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    with engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_current(url: str) -> None:
    """Raise a clear error when the database is not at the newest schema."""
    current = current_revision(url)
    if current != head_revision():
        raise StoreError(
            f"the platform database is at schema {current or 'none'}, "
            f"critmat needs {head_revision()}",
            hint="run `critmat db upgrade`",
        )
