"""Helpers of the account-hardening tests: the CLI as a separate process on the same platform
database, the app served by a real uvicorn in a background thread, and HTTP clients that
connect from a chosen loopback address."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import sqlalchemy as sa
import uvicorn

from critmat.config import Settings
from critmat.platform.db import transaction
from critmat.platform.models import AuditEntry, User
from critmat.server.app import create_app
from tests.live_server import CRITMAT, free_port


def critmat_env(settings: Settings) -> dict[str, str]:
    """The ``CRITMAT_*`` variables that point a CLI or server process at ``settings``' data."""
    env = {**os.environ, "CRITMAT_DATA_DIR": str(settings.data_dir)}
    env.pop("CRITMAT_DATABASE_URL", None)
    if settings.database_url:
        env["CRITMAT_DATABASE_URL"] = settings.database_url
    return env


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``critmat ARGS`` as its own process on the platform database of ``settings``."""
    return subprocess.run(
        [str(CRITMAT), *args],
        env=critmat_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on a real uvicorn server (this process, a background thread, 127.0.0.1 and a
    free port, default uvicorn options except proxy headers off); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def client_from(base_url: str, address: str = "127.0.0.1") -> httpx.Client:
    """An HTTP client whose connections leave from ``address`` (any of 127.0.0.0/8)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base_url, transport=transport, timeout=60)


def user_id(settings: Settings, email: str) -> int:
    with transaction(settings.platform_url) as db:
        found = db.scalar(sa.select(User.id).where(User.email == email))
        assert found is not None, email
        return int(found)


def audit_rows(settings: Settings, action: str, actor: str | None = None) -> list[AuditEntry]:
    """The audit entries of ``action`` (and ``actor``), oldest first."""
    with transaction(settings.platform_url) as db:
        query = sa.select(AuditEntry).where(AuditEntry.action == action)
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        return list(db.scalars(query.order_by(AuditEntry.id)))
