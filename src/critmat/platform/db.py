"""Engine, sessions and migrations of the platform database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

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


def close_platform(url: str) -> None:
    """Close every pooled connection this process holds to the platform database at ``url``
    (the ORM engine's and the revocation-stamp reader's); both reconnect on next use."""
    from critmat.platform.accounts import auth_stamps

    engine_for(url).dispose()
    auth_stamps(url).dispose()


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


def session_factory(url: str) -> sessionmaker[Session]:
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
