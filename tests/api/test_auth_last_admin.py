"""Issue 8, finding 7 (last admin): an admin could disable itself and every other admin,
leaving nobody to administer the platform. The last active admin cannot be disabled — through
the admin API (409) nor with ``critmat users disable`` (exit 2) — also not by two admins
disabling each other at the same moment. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from fastapi.testclient import TestClient

from critmat.platform.db import transaction
from critmat.platform.models import Role, User
from tests.api.auth_support import client_from, run_cli, served, user_id
from tests.api.conftest import login
from tests.platform_support import PASSWORD, Seeded


def active_admins(seeded: Seeded) -> set[str]:
    with transaction(seeded.settings.platform_url) as db:
        query = sa.select(User.email).where(User.role == Role.admin.value, ~User.disabled)
        return set(db.scalars(query))


def disable(client: TestClient, seeded: Seeded, csrf: str, key: str) -> int:
    target = user_id(seeded.settings, seeded.users[key])
    response = client.post(f"/api/v1/admin/users/{target}/disable", headers={"X-CSRF-Token": csrf})
    return response.status_code


def test_the_last_admin_cannot_disable_itself(app_client: TestClient, seeded: Seeded) -> None:
    csrf = login(app_client, seeded.users["admin@a"])
    assert disable(app_client, seeded, csrf, "admin@b") == 200  # another admin remains
    me = user_id(seeded.settings, seeded.users["admin@a"])
    refused = app_client.post(f"/api/v1/admin/users/{me}/disable", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 409
    assert "last active administrator" in refused.json()["error"]
    assert "critmat users add" in refused.json()["error"]
    assert active_admins(seeded) == {seeded.users["admin@a"]}
    assert app_client.get("/api/v1/auth/me").status_code == 200  # still logged in


def test_the_cli_refuses_to_disable_the_last_admin(seeded: Seeded) -> None:
    assert run_cli(seeded.settings, "users", "disable", seeded.users["admin@b"]).returncode == 0
    last = seeded.users["admin@a"]
    refused = run_cli(seeded.settings, "users", "disable", last)
    assert refused.returncode == 2
    assert "last active administrator" in refused.stderr
    assert active_admins(seeded) == {last}


def test_two_admins_disabling_each_other_at_once_leave_one(seeded: Seeded) -> None:
    admins = ("admin@a", "admin@b")
    ids = {key: user_id(seeded.settings, seeded.users[key]) for key in admins}
    codes: dict[str, int] = {}
    with served(seeded.settings) as url:
        clients = {key: client_from(url) for key in admins}
        csrf = {}
        for key, client in clients.items():
            answer = client.post(
                "/api/v1/auth/login", json={"email": seeded.users[key], "password": PASSWORD}
            )
            csrf[key] = answer.json()["csrf_token"]
        start = threading.Barrier(2)

        def strike(key: str, other: str) -> None:
            start.wait()
            codes[key] = (
                clients[key]
                .post(
                    f"/api/v1/admin/users/{ids[other]}/disable",
                    headers={"X-CSRF-Token": csrf[key]},
                )
                .status_code
            )

        threads = [
            threading.Thread(target=strike, args=("admin@a", "admin@b")),
            threading.Thread(target=strike, args=("admin@b", "admin@a")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        for client in clients.values():
            client.close()
    assert sorted(codes.values()) in ([200, 401], [200, 409]), codes
    assert len(active_admins(seeded)) == 1
