"""Issue 8, finding 2: disabling a user, revoking a token or ending a session takes effect on
the next request, in every process — not when a cache entry happens to expire.

The caller cache used to be renewed on every hit, so a user who kept polling after
``critmat users disable`` (another process) was served for as long as they polled. Here the
user polls until both of their credentials are answered from the cache, the change is made
from elsewhere, and the very next request must be refused. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from critmat.server.app import create_app
from tests.api.auth_support import run_cli
from tests.api.conftest import bearer, login
from tests.platform_support import Seeded, terminate_connections

ME = "/api/v1/auth/me"


@pytest.fixture
def second_app(seeded: Seeded, app_client: TestClient) -> Iterator[TestClient]:
    """A second instance of the service on the same database, with its own caller cache (as a
    second server process has)."""
    with TestClient(create_app(seeded.settings)) as client:
        yield client


def poll(client: TestClient, times: int = 3, **kwargs: object) -> None:
    """Call ``/auth/me`` ``times`` times, asserting each answer is 200 (fills the cache)."""
    for _ in range(times):
        response = client.get(ME, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text


def test_cli_disable_cuts_token_and_session_on_the_next_request(
    app_client: TestClient, seeded: Seeded
) -> None:
    email = seeded.users["company@a"]
    token = bearer(app_client, email)
    login(app_client, email)  # the client now also holds a session cookie
    poll(app_client, headers=token)
    poll(app_client)

    done = run_cli(seeded.settings, "users", "disable", email)
    assert done.returncode == 0, done.stderr
    assert f"disabled {email}" in done.stdout

    assert app_client.get(ME, headers=token).status_code == 401
    assert app_client.get(ME).status_code == 401
    # and it stays that way (no cache entry brings it back)
    assert app_client.get(ME, headers=token).status_code == 401


def test_token_revoked_in_one_process_is_refused_by_another(
    app_client: TestClient, second_app: TestClient, seeded: Seeded
) -> None:
    token = bearer(app_client, seeded.users["analyst@a"])
    poll(second_app, headers=token)
    token_id = app_client.get("/api/v1/auth/tokens", headers=token).json()[0]["id"]

    revoked = app_client.delete(f"/api/v1/auth/tokens/{token_id}", headers=token)
    assert revoked.status_code == 204

    refused = second_app.get(ME, headers=token)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid or expired API token"


def test_logout_in_one_process_ends_the_session_in_another(
    app_client: TestClient, second_app: TestClient, seeded: Seeded
) -> None:
    csrf = login(app_client, seeded.users["member_state@b"])
    cookie = app_client.cookies.get("critmat_session")
    assert cookie
    second_app.cookies.set("critmat_session", cookie)
    poll(second_app)

    assert app_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204

    assert second_app.get(ME).status_code == 401


def test_other_credentials_of_the_user_survive_a_revocation(
    app_client: TestClient, second_app: TestClient, seeded: Seeded
) -> None:
    """The stamp re-checks every cached credential of the user; those still valid are
    resolved again and keep working."""
    email = seeded.users["supplier@b"]
    kept = bearer(app_client, email)
    dropped = bearer(app_client, email)
    poll(second_app, headers=kept)
    poll(second_app, headers=dropped)
    tokens = app_client.get("/api/v1/auth/tokens", headers=kept).json()
    assert (
        app_client.delete(f"/api/v1/auth/tokens/{tokens[1]['id']}", headers=kept).status_code == 204
    )

    assert second_app.get(ME, headers=dropped).status_code == 401
    assert second_app.get(ME, headers=kept).status_code == 200


@pytest.mark.parametrize("backend", ["postgresql"])
def test_cached_callers_survive_dropped_database_connections(
    app_client: TestClient, seeded: Seeded
) -> None:
    """The stamp is read on pooled connections kept open between requests (no pre-ping, for
    speed): when the server drops them, the next request reconnects instead of answering 500,
    and a revocation made afterwards still takes effect on the next request."""
    email = seeded.users["analyst@b"]
    token = bearer(app_client, email)
    poll(app_client, headers=token)  # cached; the stamp reader now holds a connection
    assert seeded.settings.database_url
    assert terminate_connections(seeded.settings.database_url) >= 1

    poll(app_client, headers=token)

    done = run_cli(seeded.settings, "users", "disable", email)
    assert done.returncode == 0, done.stderr
    assert app_client.get(ME, headers=token).status_code == 401
