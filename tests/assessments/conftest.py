"""Fixtures: the app on a seeded SQLite platform database beside the real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from critmat.config import Settings
from critmat.server.app import create_app
from tests.platform_support import Seeded, seed_platform

SAMPLE = Path(__file__).parents[1] / "data" / "company_supply_sample.csv"


def assessment_app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def seeded(tmp_path: Path, real_data_dir: Path) -> Seeded:
    (tmp_path / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    return seed_platform(tmp_path)


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(assessment_app(seeded.settings), follow_redirects=False) as test_client:
        yield test_client
