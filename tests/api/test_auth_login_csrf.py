"""Issue 8, finding 7 (login CSRF): the web login form had no CSRF token, so a page on another
site could post it and log a visitor in to an account of the attacker's choosing. The form now
carries a token tied to a pre-session cookie; a post without the pair is refused with 403."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.login_support import login_form_token, web_login
from tests.platform_support import PASSWORD, Seeded


def test_the_login_form_carries_a_token_and_its_cookie(app_client: TestClient) -> None:
    token = login_form_token(app_client)
    assert len(token) >= 32
    assert app_client.cookies.get("critmat_login_csrf") == token


def test_a_login_post_without_the_token_is_refused(app_client: TestClient, seeded: Seeded) -> None:
    """What a form on another site sends: the right credentials, no token, no cookie."""
    form = {"email": seeded.users["analyst@a"], "password": PASSWORD, "next": "/"}
    refused = app_client.post("/login", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert "login form has expired or was not sent from this site" in refused.text
    assert "critmat_session" not in refused.headers.get("set-cookie", "")
    assert app_client.get("/api/v1/auth/me").status_code == 401


def test_a_token_from_another_visitor_is_refused(app_client: TestClient, seeded: Seeded) -> None:
    """The attacker can fetch a form (and a token) for themselves, but cannot plant their
    cookie in the victim's browser: a token without the matching cookie does not log in."""
    attackers_token = login_form_token(app_client)
    app_client.cookies.clear()
    login_form_token(app_client)  # the victim has a login cookie of their own
    form = {
        "email": seeded.users["analyst@a"],
        "password": PASSWORD,
        "next": "/",
        "csrf_token": attackers_token,
    }
    refused = app_client.post("/login", data=form, follow_redirects=False)
    assert refused.status_code == 403
    # the refusal renews the form, so the real user can log in at once
    assert web_login(app_client, seeded.users["analyst@a"]).status_code == 303


def test_the_form_logs_in_and_drops_its_cookie(app_client: TestClient, seeded: Seeded) -> None:
    done = web_login(app_client, seeded.users["analyst@a"])
    assert done.status_code == 303
    assert app_client.cookies.get("critmat_session")
    assert app_client.cookies.get("critmat_login_csrf") is None
    assert app_client.get("/api/v1/auth/me").status_code == 200


def test_the_json_login_cannot_be_posted_by_a_form(app_client: TestClient, seeded: Seeded) -> None:
    """The API login reads JSON only; a cross-site form (text/plain or urlencoded) cannot send
    it without a CORS preflight, so it needs no token of its own."""
    body = json.dumps({"email": seeded.users["analyst@a"], "password": PASSWORD})
    for kind in ("text/plain", "application/x-www-form-urlencoded"):
        sent = app_client.post("/api/v1/auth/login", content=body, headers={"content-type": kind})
        assert sent.status_code == 422
        assert app_client.cookies.get("critmat_session") is None
