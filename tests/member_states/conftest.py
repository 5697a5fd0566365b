"""Fixtures of the Member State view's tests: the real default store (read-only), and the web
app and its client on a seeded platform database (shared with tests/web)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from critmat.store import Store, open_store
from tests.web.conftest import app, client, seeded

__all__ = ["app", "client", "seeded"]


@pytest.fixture(scope="module")
def store(real_data_dir: Path) -> Iterator[Store]:
    """The real default store, read-only."""
    opened = open_store(real_data_dir / "critmat.duckdb", read_only=True)
    yield opened
    opened.close()
