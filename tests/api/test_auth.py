"""Accounts over HTTP, on SQLite and PostgreSQL: login, sessions, CSRF, expiry, rate limit,
API tokens, disabling, the audit log, organisation-owned data."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from critmat.config import Settings
from critmat.platform.db import transaction
from critmat.platform.models import ApiToken, AuditEntry, Session, User
from critmat.server.app import create_app
from tests.api.conftest import bearer, login
from tests.platform_support import PASSWORD, Seeded


def test_login_me_logout(app_client: TestClient, seeded: Seeded):
    assert app_client.get("/api/v1/auth/me").status_code == 401
    csrf = login(app_client, seeded.users["analyst@a"])
    me = app_client.get("/api/v1/auth/me").json()
    assert me["user"]["role"] == "analyst" and me["csrf_token"] == csrf
    assert app_client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert app_client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(app_client: TestClient, seeded: Seeded):
    wrong = app_client.post(
        "/api/v1/auth/login", json={"email": seeded.users["admin@a"], "password": "nope"}
    )
    unknown = app_client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.org", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_session_cookie_is_httponly_and_secret_is_hashed_at_rest(app_client, seeded):
    app_client.post(
        "/api/v1/auth/login", json={"email": seeded.users["analyst@a"], "password": PASSWORD}
    )
    cookie_header = next(
        v
        for k, v in app_client.cookies.jar._cookies.items()
        if k  # type: ignore[attr-defined]
    )
    token = app_client.cookies.get("critmat_session")
    assert token and cookie_header
    with transaction(seeded.settings.platform_url) as db:
        hashes = list(db.scalars(sa.select(Session.token_hash)))
        assert token not in hashes and all(len(h) == 64 for h in hashes)
        assert all(u.password_hash.startswith("$argon2") for u in db.scalars(sa.select(User)))


def test_writes_with_a_session_need_the_csrf_token(app_client: TestClient, seeded: Seeded):
    csrf = login(app_client, seeded.users["analyst@a"])
    refused = app_client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    wrong = app_client.post(
        "/api/v1/auth/tokens",
        json={"name": "x"},
        headers={"X-CSRF-Token": csrf[:-1] + ("B" if csrf.endswith("A") else "A")},
    )
    assert wrong.status_code == 403
    ok = app_client.post("/api/v1/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_api_tokens_are_hashed_work_without_csrf_and_can_be_revoked(app_client, seeded):
    headers = bearer(app_client, seeded.users["company@a"])
    token = headers["Authorization"].split()[1]
    assert app_client.get("/api/v1/auth/me", headers=headers).json()["user"]["role"] == "company"
    created = app_client.post("/api/v1/auth/tokens", json={"name": "second"}, headers=headers)
    assert created.status_code == 201  # no CSRF needed for bearer tokens
    with transaction(seeded.settings.platform_url) as db:
        stored = list(db.scalars(sa.select(ApiToken.token_hash)))
        assert token not in stored
    listed = app_client.get("/api/v1/auth/tokens", headers=headers).json()
    first_id = listed[0]["id"]
    assert all("token" not in row for row in listed)
    assert app_client.delete(f"/api/v1/auth/tokens/{first_id}", headers=headers).status_code == 204
    assert app_client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_idle_session_expires(app_client: TestClient, seeded: Seeded):
    login(app_client, seeded.users["analyst@a"])
    with transaction(seeded.settings.platform_url) as db:
        idle = timedelta(seconds=seeded.settings.session_idle_seconds + 1)
        for session in db.scalars(sa.select(Session)):
            session.last_seen_at -= idle
    assert app_client.get("/api/v1/auth/me").status_code == 401
    with transaction(seeded.settings.platform_url) as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Session)) == 0


def test_login_rate_limit_per_account(seeded: Seeded):
    settings = Settings(
        data_dir=seeded.settings.data_dir,
        database_url=seeded.settings.database_url,
        login_max_failures=3,
    )
    with TestClient(create_app(settings)) as client:
        email = seeded.users["admin@b"]
        codes = [
            client.post(
                "/api/v1/auth/login", json={"email": email, "password": "wrong"}
            ).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        blocked = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert blocked.status_code == 429 and blocked.headers["Retry-After"]
        # another account is not blocked by this one's failures
        assert (
            client.post(
                "/api/v1/auth/login",
                json={"email": seeded.users["analyst@b"], "password": PASSWORD},
            ).status_code
            == 200
        )


def test_disabling_a_user_ends_sessions_and_tokens(app_client: TestClient, seeded: Seeded):
    victim = seeded.users["supplier@a"]
    headers = bearer(app_client, victim)
    admin_csrf = login(app_client, seeded.users["admin@a"])
    with transaction(seeded.settings.platform_url) as db:
        user_id = db.scalar(sa.select(User.id).where(User.email == victim))
    response = app_client.post(
        f"/api/v1/admin/users/{user_id}/disable", headers={"X-CSRF-Token": admin_csrf}
    )
    assert response.status_code == 200
    app_client.cookies.clear()
    assert app_client.get("/api/v1/auth/me", headers=headers).status_code == 401
    relogin = app_client.post("/api/v1/auth/login", json={"email": victim, "password": PASSWORD})
    assert relogin.status_code == 401


def test_every_write_is_in_the_audit_log_with_who_and_where(app_client, seeded):
    csrf = login(app_client, seeded.users["admin@a"])
    created = app_client.post(
        "/api/v1/admin/orgs",
        json={"name": "Raw Materials Agency X", "kind": "agency"},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201
    entries = app_client.get("/api/v1/admin/audit?limit=10").json()
    org_entry = next(e for e in entries if e["action"] == "org.create")
    assert org_entry["actor"] == seeded.users["admin@a"]
    assert org_entry["ip"] and org_entry["details"]["name"] == "Raw Materials Agency X"
    assert any(e["action"] == "auth.login" for e in entries)
    failed_login = app_client.post(
        "/api/v1/auth/login", json={"email": "x@example.org", "password": "bad"}
    )
    assert failed_login.status_code == 401, failed_login.text
    with transaction(seeded.settings.platform_url) as db:
        failed = db.scalar(sa.select(AuditEntry).where(AuditEntry.action == "auth.login_failed"))
        assert failed is not None and failed.actor == "x@example.org"


def test_an_organisation_sees_its_own_page_not_another(app_client: TestClient, seeded: Seeded):
    login(app_client, seeded.users["company@a"])
    own = app_client.get(f"/api/v1/orgs/{seeded.orgs['a']}")
    assert own.status_code == 200
    assert {m["email"] for m in own.json()["members"]} >= {seeded.users["company@a"]}
    other = app_client.get(f"/api/v1/orgs/{seeded.orgs['b']}")
    assert other.status_code == 403
    assert "another organisation" in other.json()["error"]
    assert "b.example" not in other.text and seeded.users["company@b"] not in other.text


def test_admin_creates_user_who_can_log_in(app_client: TestClient, seeded: Seeded):
    csrf = login(app_client, seeded.users["admin@a"])
    body = {
        "email": "new.analyst@example.org",
        "password": "a sufficiently long one",
        "role": "analyst",
        "organisation_id": seeded.orgs["b"],
    }
    assert (
        app_client.post(
            "/api/v1/admin/users", json=body, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 201
    )
    duplicate = app_client.post("/api/v1/admin/users", json=body, headers={"X-CSRF-Token": csrf})
    assert duplicate.status_code == 400 and "exists already" in duplicate.json()["error"]
    app_client.cookies.clear()
    login(app_client, "new.analyst@example.org", "a sufficiently long one")
