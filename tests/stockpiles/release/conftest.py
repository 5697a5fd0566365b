"""An app on the real default data with a seeded platform database (SQLite), an API token of
an analyst and of a company user, for the release routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critmat.platform import accounts
from critmat.platform.db import transaction
from critmat.server.app import create_app
from tests.platform_support import Seeded, seed_platform


@dataclass(frozen=True)
class ReleaseEnv:
    app: Any
    seeded: Seeded
    tokens: dict[str, str]  # role -> bearer token (organisation a)

    def headers(self, role: str = "analyst") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def url(self) -> str:
        return self.seeded.settings.platform_url


@pytest.fixture(scope="session")
def release_env(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ReleaseEnv:
    data_dir = tmp_path_factory.mktemp("release")
    (data_dir / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    seeded = seed_platform(data_dir)
    tokens: dict[str, str] = {}
    with transaction(seeded.settings.platform_url) as db:
        for role in ("analyst", "company"):
            user = accounts.get_user(db, seeded.users[f"{role}@a"])
            tokens[role] = accounts.create_api_token(db, user, "release-tests")[1]
    return ReleaseEnv(create_app(seeded.settings), seeded, tokens)


@pytest.fixture(scope="session")
def api(release_env: ReleaseEnv) -> Any:
    with TestClient(release_env.app, raise_server_exceptions=False) as client:
        yield client
