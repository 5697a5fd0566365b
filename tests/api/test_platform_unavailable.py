"""When the platform database stops answering, the service says so: 503 with ``Retry-After``.

A real server process on a real PostgreSQL database. The database is made to refuse every new
connection (``ALLOW_CONNECTIONS false``, which also binds superusers) and its open connections
are ended — as a database restart or a full ``max_connections`` would. Requests that need the
database must then answer 503 with a JSON error (an HTML page on the web UI) naming the
platform database and what to do, on a connection the server keeps open: no dropped
connection, no 500. Once the database accepts connections again, the same requests answer 200.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.api.conftest import bearer, login
from tests.live_server import LiveServer, free_port, uvicorn_command
from tests.platform_support import (
    Seeded,
    admin_execute,
    fresh_postgres_database,
    seed_platform,
    terminate_connections,
)


@pytest.fixture
def server(tmp_path: Path, real_data_dir: Path) -> Iterator[tuple[LiveServer, Seeded]]:
    (tmp_path / "critmat.duckdb").symlink_to(real_data_dir / "critmat.duckdb")
    with fresh_postgres_database("critmat_down") as url:
        seeded = seed_platform(tmp_path, url)
        port = free_port()
        env = {"CRITMAT_DATA_DIR": str(tmp_path), "CRITMAT_DATABASE_URL": url}
        live = LiveServer(uvicorn_command(port), env, port, tmp_path / "server.log").start()
        try:
            yield live, seeded
        finally:
            live.stop()
            allow_connections(url, True)  # so that the database can be dropped


def allow_connections(database_url: str, allowed: bool) -> None:
    name = sa.make_url(database_url).database
    admin_execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')


def get_twice_on_one_connection(
    live: LiveServer, path: str, headers: dict[str, str]
) -> list[tuple[int, dict[str, str], bytes]]:
    """GET ``path`` twice over one keep-alive connection; fails if the server closed it."""
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=60)
    answers = []
    try:
        for _ in range(2):
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert not response.will_close, f"the server closed the connection after {path}"
            answers.append(
                (response.status, {k.lower(): v for k, v in response.getheaders()}, body)
            )
    finally:
        conn.close()
    return answers


def test_requests_answer_503_with_retry_after_while_the_database_refuses_connections(
    server: tuple[LiveServer, Seeded],
) -> None:
    live, seeded = server
    url = seeded.settings.platform_url
    org = seeded.orgs["a"]
    with httpx.Client(base_url=live.base_url, timeout=60) as client:
        token = bearer(client, seeded.users["company@a"])  # type: ignore[arg-type]
        login(client, seeded.users["company@a"])  # type: ignore[arg-type]  # a session cookie
        listing = f"/api/v1/orgs/{org}/assessments"
        assert client.get(listing, headers=token).status_code == 200
        assert client.get(f"/orgs/{org}").status_code == 200

        allow_connections(url, False)
        terminate_connections(url)
        try:
            for status, headers, body in get_twice_on_one_connection(live, listing, token):
                assert status == 503, body
                assert headers["retry-after"].isdigit()
                answer = json.loads(body)
                assert answer["error"].startswith("the platform database is not available")
                assert "try again" in answer["hint"]
            page = client.get(f"/orgs/{org}")
            assert page.status_code == 503 and "Try again in a moment" in page.text
            assert httpx.get(f"{live.base_url}/api/v1/health").status_code == 200  # no database
        finally:
            allow_connections(url, True)

        assert client.get(listing, headers=token).status_code == 200
    assert "Traceback" not in live.log_tail(20_000)
