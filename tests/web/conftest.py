"""Fixtures of the web tests: a data directory with the real store and a seeded platform
database, a TestClient, a uvicorn server on a free port and Debian's Chromium (Playwright)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from critmat.server.app import create_app
from tests.login_support import web_login
from tests.platform_support import PASSWORD, Seeded, seed_platform

CHROMIUM = Path(os.environ.get("CRITMAT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def seeded(real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A data dir linking the real analytics store, with orgs a/b and one user per role."""
    data_dir = tmp_path_factory.mktemp("web-data")
    store = real_data_dir / "critmat.duckdb"
    try:
        (data_dir / "critmat.duckdb").symlink_to(store)
    except OSError:
        shutil.copy2(store, data_dir / "critmat.duckdb")
    return seed_platform(data_dir)


@pytest.fixture(scope="session")
def app(seeded: Seeded) -> Any:
    return create_app(seeded.settings)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """A fresh, logged-out client (its own cookie jar) on the shared app."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = web_login(client, email, password)
    assert response.status_code == 303, response.text[:500]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(seeded: Seeded) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(seeded.settings), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never downloads a browser).

    Missing Chromium skips the browser tests, except with ``CI=true`` where it fails them.
    """
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()
