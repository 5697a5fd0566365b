"""An app on the real default data with the stress router and page added (as ``create_app``
will once they are registered), a seeded platform database, and clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critmat.platform import accounts
from critmat.platform.db import transaction
from critmat.server.app import create_app
from critmat.store import Store
from tests.login_support import web_login
from tests.platform_support import Seeded, seed_platform


@dataclass(frozen=True)
class StressEnv:
    app: Any
    seeded: Seeded
    token: str  # bearer token of the analyst of org a

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def stress_env(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> StressEnv:
    data_dir = tmp_path_factory.mktemp("stress")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    seeded = seed_platform(data_dir)
    with transaction(seeded.settings.platform_url) as db:
        user = accounts.get_user(db, seeded.users["analyst@a"])
        token = accounts.create_api_token(db, user, "stress-tests")[1]
    return StressEnv(create_app(seeded.settings), seeded, token)


@pytest.fixture(scope="session")
def browser_client(stress_env: StressEnv) -> Iterator[TestClient]:
    """A client logged in with a session cookie as an analyst; the only one running the
    app's lifespan (which closes the shared store connection at its end)."""
    with TestClient(stress_env.app, raise_server_exceptions=False) as client:
        response = web_login(client, stress_env.seeded.users["analyst@a"])
        assert response.status_code == 303, response.text[:300]
        yield client


@pytest.fixture(scope="session")
def api(browser_client: TestClient, stress_env: StressEnv) -> TestClient:
    """A client without cookies; send ``stress_env.headers``."""
    return TestClient(stress_env.app, raise_server_exceptions=False)


@pytest.fixture
def anonymous(browser_client: TestClient, stress_env: StressEnv) -> TestClient:
    return TestClient(stress_env.app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def real_store(real_data_dir: Path) -> Iterator[Store]:
    store = Store(real_data_dir / "critmat.duckdb", read_only=True)
    yield store
    store.close()
