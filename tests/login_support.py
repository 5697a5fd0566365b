"""Logging in through the web login form as a browser does: fetch the form (which sets the
pre-session CSRF cookie), then post it with the form's hidden ``csrf_token``."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from tests.platform_support import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_form_token(client: TestClient) -> str:
    """The CSRF token of a freshly fetched login form (its cookie is now in ``client``)."""
    form = client.get("/login", follow_redirects=False)
    assert form.status_code == 200, form.text[:300]
    found = _TOKEN.search(form.text)
    assert found, "the login form carries no csrf_token field"
    return found.group(1)


def web_login(
    client: TestClient, email: str, password: str = PASSWORD, next: str = "/"
) -> httpx.Response:
    """Post the login form as a browser would; returns the answer (303 on success)."""
    token = login_form_token(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next, "csrf_token": token},
        follow_redirects=False,
    )
