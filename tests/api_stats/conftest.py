"""An app on the real default data with a seeded platform database, shared by the module tests.

The analytics store of ``real_data_dir`` is linked into a private data directory so that the
platform database (``platform.sqlite``) of these tests stays apart from other suites.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.refresh import default_importers
from critmat.platform.models import Role
from critmat.server.app import create_app
from critmat.store import Store, open_store
from tests.platform_support import PASSWORD, Seeded, seed_platform


@dataclass(frozen=True)
class Api:
    client: TestClient
    seeded: Seeded
    tokens: dict[str, str]  # role value -> bearer token of that role's user in org a

    def headers(self, role: str = "analyst") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, *, role: str = "analyst", **params: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(
            path, params=params or None, headers=self.headers(role)
        )
        return response


@pytest.fixture(scope="session")
def api_data_dir(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("api-stats")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    return data_dir


@pytest.fixture(scope="session")
def api(api_data_dir: Path) -> Iterator[Api]:
    seeded = seed_platform(api_data_dir)
    with TestClient(create_app(seeded.settings)) as client:
        tokens: dict[str, str] = {}
        for role in Role:
            email = seeded.users[f"{role.value}@a"]
            login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            csrf = login.json()["csrf_token"]
            made = client.post(
                "/api/v1/auth/tokens", json={"name": "tests"}, headers={"X-CSRF-Token": csrf}
            )
            assert made.status_code in (200, 201), made.text
            tokens[role.value] = made.json()["token"]
            client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
            client.cookies.clear()
        yield Api(client, seeded, tokens)


# the read-only store and import flows the fast-path parity tests compare on (one per module)
@pytest.fixture(scope="module")
def store(api_data_dir: Path) -> Iterator[Store]:
    with open_store(api_data_dir / "critmat.duckdb", read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def cache(store: Store) -> FlowsCache:
    flows = FlowsCache(default_importers())
    flows.load(store)
    return flows
