"""Fixtures for the service tests: the app on a seeded platform database, on SQLite and on
the PostgreSQL server (``CI=true`` makes a missing server a failure, not a skip)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from critmat.server.app import create_app
from tests.platform_support import PASSWORD, Seeded, fresh_postgres_database, seed_platform


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def seeded(backend: str, tmp_path: Path, real_data_dir: Path) -> Iterator[Seeded]:
    """Orgs a and b with one user per role, on the chosen backend, beside the real store
    (a PostgreSQL database is dropped afterwards)."""
    (tmp_path / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    if backend == "sqlite":
        yield seed_platform(tmp_path)
        return
    with fresh_postgres_database("critmat_test") as url:
        yield seed_platform(tmp_path, url)


@pytest.fixture
def app_client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings)) as client:
        yield client


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def bearer(client: TestClient, email: str) -> dict[str, str]:
    """An API token for ``email`` as an Authorization header (the client is left logged out)."""
    csrf = login(client, email)
    token = client.post(
        "/api/v1/auth/tokens", json={"name": "test"}, headers={"X-CSRF-Token": csrf}
    ).json()["token"]
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}
