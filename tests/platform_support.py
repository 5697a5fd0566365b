"""A platform database seeded with one user per role in two organisations, for API and web
tests. Real components: the migrations run, users are created through the accounts layer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from critmat.config import Settings
from critmat.platform import accounts
from critmat.platform.db import close_platform, transaction, upgrade
from critmat.platform.models import Role

PASSWORD = "correct horse battery staple"
POSTGRES_ADMIN_URL = os.environ.get(
    "CRITMAT_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Seeded:
    """Users by key ``"<role>@<org>"`` (orgs ``a`` and ``b``) and organisation ids."""

    settings: Settings
    users: dict[str, str]  # key -> e-mail
    orgs: dict[str, int]  # "a"/"b" -> id


def seed_platform(data_dir: Path, database_url: str | None = None) -> Seeded:
    """Migrate the platform database and create orgs a and b with one user per role each.

    ``data_dir`` must hold (or link to) the analytics store for statistics routes.
    """
    settings = Settings(data_dir=data_dir, database_url=database_url)
    upgrade(settings.platform_url)
    users: dict[str, str] = {}
    orgs: dict[str, int] = {}
    with transaction(settings.platform_url) as db:
        for key in ("a", "b"):
            org = accounts.create_org(db, f"Organisation {key.upper()}", actor="test")
            orgs[key] = org.id
            for role in Role:
                email = f"{role.value}.{key}@example.org"
                accounts.create_user(db, email, PASSWORD, role=role, organisation=org, actor="test")
                users[f"{role.value}@{key}"] = email
    return Seeded(settings, users, orgs)


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server of ``CRITMAT_TEST_POSTGRES_URL`` cannot be reached."""


def create_postgres_database(name: str) -> str:
    """Create a fresh PostgreSQL database ``name`` (dropped first if it exists) and return its
    SQLAlchemy URL; :class:`PostgresUnavailable` when the server cannot be reached."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        raise PostgresUnavailable(
            f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}"
        ) from exc
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def postgres_database(name: str) -> str:
    """:func:`create_postgres_database` for a test: skips when the server is unreachable —
    except with ``CI=true``, where it fails."""
    try:
        return create_postgres_database(name)
    except PostgresUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def admin_execute(sql: str, **params: object) -> object:
    """Run one statement on the server's administrative database; its scalar answer."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            result = conn.execute(sa.text(sql), params)
            return result.scalar() if result.returns_rows else None
    finally:
        admin.dispose()


def terminate_connections(database_url: str) -> int:
    """End every server connection to the database of ``database_url`` (as a PostgreSQL restart
    or an idle-connection reaper would), from an administrative connection; returns how many."""
    import sqlalchemy as sa

    ended = admin_execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()",
        name=sa.make_url(database_url).database,
    )
    return int(str(ended))


def drop_postgres_database(database_url: str) -> None:
    """Close this process's pools to ``database_url`` and drop the database (connections of
    other processes are ended). Tests call it so that the server's ``max_connections`` is not
    used up by idle pools of finished tests."""
    import sqlalchemy as sa

    close_platform(database_url)
    name = sa.make_url(database_url).database
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database named ``<prefix>_<pid>_<random>`` (see
    :func:`postgres_database`), dropped with :func:`drop_postgres_database` afterwards."""
    url = postgres_database(f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}")
    try:
        yield url
    finally:
        drop_postgres_database(url)
