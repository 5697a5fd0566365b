"""An app on the real default data with the risk router and pages added (as ``create_app``
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
from critmat.platform.models import Role
from critmat.server.app import create_app
from critmat.store import Store
from tests.login_support import web_login
from tests.platform_support import Seeded, seed_platform


@dataclass(frozen=True)
class RiskEnv:
    app: Any
    seeded: Seeded
    tokens: dict[str, str]  # role value -> bearer token of that role's user in org a

    def headers(self, role: str = "analyst") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_app(seeded: Seeded) -> Any:
    return create_app(seeded.settings)


@pytest.fixture(scope="session")
def risk_env(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RiskEnv:
    data_dir = tmp_path_factory.mktemp("risk-web")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    seeded = seed_platform(data_dir)
    tokens: dict[str, str] = {}
    with transaction(seeded.settings.platform_url) as db:
        for role in Role:
            user = accounts.get_user(db, seeded.users[f"{role.value}@a"])
            tokens[role.value] = accounts.create_api_token(db, user, "risk-tests")[1]
    return RiskEnv(build_app(seeded), seeded, tokens)


@pytest.fixture(scope="session")
def api(browser_client: TestClient, risk_env: RiskEnv) -> TestClient:
    """A client without cookies; send ``risk_env.headers(role)``.

    Only ``browser_client`` runs the app's lifespan (which closes the shared store connection
    at its end); the others are plain clients of the same running app.
    """
    return TestClient(risk_env.app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def browser_client(risk_env: RiskEnv) -> Iterator[TestClient]:
    """A client logged in with a session cookie as an analyst (like a browser)."""
    with TestClient(risk_env.app, raise_server_exceptions=False) as client:
        response = web_login(client, risk_env.seeded.users["analyst@a"])
        assert response.status_code == 303, response.text[:300]
        yield client


@pytest.fixture
def anonymous(browser_client: TestClient, risk_env: RiskEnv) -> TestClient:
    """A fresh client without a session (no lifespan of its own, see ``api``)."""
    return TestClient(risk_env.app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def real_store(real_data_dir: Path) -> Iterator[Store]:
    store = Store(real_data_dir / "critmat.duckdb", read_only=True)
    yield store
    store.close()
