"""The interactive API documentation (Swagger UI and ReDoc), served offline.

FastAPI's default pages load their scripts from a CDN, which an offline machine cannot reach
and the service's Content-Security-Policy (``script-src 'self'``) blocks. The same assets ship
in the ``fastapi-offline`` wheel from PyPI (Swagger UI: Apache-2.0; ReDoc and the wheel: MIT);
they are served here from the installed package, under the service's own CSP.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

from critmat.server.access import PUBLIC
from critmat.server.deps import require

DOCS_URL = "/api/v1/docs"
REDOC_URL = "/api/v1/redoc"
ASSETS_URL = "/api/v1/docs-assets"
#: ReDoc's sidebar shows its maker's logo from a CDN; the local favicon stands in for it.
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def assets_directory() -> Path:
    """The folder of the installed ``fastapi_offline`` package holding the UI assets."""
    return Path(str(files("fastapi_offline") / "static"))


@cache
def _redoc_script() -> bytes:
    """ReDoc's bundle with its one remote image pointed at a local asset."""
    text = (assets_directory() / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(_REDOC_LOGO, f"{ASSETS_URL}/favicon.png").encode("utf-8")


def install(app: FastAPI) -> None:
    """Serve Swagger UI at :data:`DOCS_URL` and ReDoc at :data:`REDOC_URL` from local assets.

    ``app`` must have been created with ``docs_url=None`` and ``redoc_url=None`` so that
    FastAPI's CDN-backed pages are not registered too.
    """
    openapi_url = app.openapi_url or "/api/v1/openapi.json"
    title = f"{app.title} — API"
    favicon = f"{ASSETS_URL}/favicon.png"
    redoc_js = f"{ASSETS_URL}/redoc.standalone.js"
    _public_get(
        app,
        redoc_js,
        "redoc_script",
        lambda: Response(_redoc_script(), media_type="text/javascript"),
    )
    app.mount(ASSETS_URL, StaticFiles(directory=assets_directory()), name="docs-assets")
    # The pages depend on nothing but the app: written once, served as they are.
    pages = {
        ("swagger_ui", DOCS_URL): get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon,
        ),
        ("redoc", REDOC_URL): get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=redoc_js,
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        ),
    }
    for (name, url), page in pages.items():
        _public_get(app, url, name, partial(HTMLResponse, bytes(page.body)))


def _public_get(app: FastAPI, url: str, name: str, answer: Callable[[], Response]) -> None:
    """A GET route anyone may call, left out of the OpenAPI schema, answering ``answer()``."""

    async def endpoint() -> Response:
        return answer()

    app.add_api_route(
        url,
        endpoint,
        methods=["GET"],
        name=name,
        include_in_schema=False,
        dependencies=[require(PUBLIC)],
    )
