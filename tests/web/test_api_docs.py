"""The interactive API docs work offline: Swagger UI and ReDoc load their assets from this
service (no request leaves 127.0.0.1) under its own CSP, and list the API's operations."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest


def _host(url: str) -> str:
    """The host a request goes to; a ``blob:`` or ``data:`` URL stays in the page."""
    parsed = urlparse(url)
    if parsed.scheme in ("blob", "data"):
        return "127.0.0.1" if parsed.scheme == "data" else _host(parsed.path)
    return parsed.hostname or url


def _open(browser: Any, url: str) -> tuple[Any, Any, list[str], list[str]]:
    """A fresh tab on ``url`` recording console errors and every host it requested."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    problems: list[str] = []
    hosts: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.on("request", lambda r: hosts.append(_host(r.url)))
    tab.goto(url)
    return context, tab, problems, hosts


def test_swagger_ui_lists_the_operations_offline(browser: Any, server: str) -> None:
    context, tab, problems, hosts = _open(browser, f"{server}/api/v1/docs")
    try:
        tab.wait_for_selector(".opblock-summary-path")
        paths = tab.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/dependency" in p for p in paths), paths[:10]
        assert any("/api/v1/auth/tokens" in p for p in paths), paths[:10]
        assert len(paths) >= 30
    finally:
        context.close()
    assert set(hosts) == {"127.0.0.1"}, hosts
    assert not problems, problems


def test_redoc_lists_the_operations_offline(browser: Any, server: str) -> None:
    context, tab, problems, hosts = _open(browser, f"{server}/api/v1/redoc")
    try:
        tab.wait_for_selector(".api-content h2")
        assert tab.locator(".api-content h2").count() >= 30
        assert "/api/v1/dependency" in tab.content()
    finally:
        context.close()
    assert set(hosts) == {"127.0.0.1"}, hosts
    assert not problems, problems


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"])
def test_docs_assets_are_served_by_the_service(client: Any, name: str) -> None:
    response = client.get(f"/api/v1/docs-assets/{name}")
    assert response.status_code == 200
    assert len(response.content) > 100_000
