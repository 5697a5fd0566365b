"""Rendering of the web pages: the Jinja2 environment, HTML and download responses, and the
filters that format numbers, shares and table cells for reading."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from critmat import __version__
from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.indicators.panel import country_name
from critmat.reports import formats
from critmat.reports.formats import country, share, sortkey
from critmat.reports.formats import format_hhi as hhi
from critmat.reports.formats import format_number as num
from critmat.reports.formats import percent as pct
from critmat.server.deps import SESSION_COOKIE
from critmat.web.tables import MEDIA_TYPES, Column, Table, encode

if TYPE_CHECKING:
    from critmat.errors import UnknownNameError
    from critmat.server.deps import Principal
    from critmat.services.overview import OverviewBasis

Fmt = Literal["csv", "xlsx"]


@cache
def environment() -> jinja2.Environment:
    """The templates of ``critmat/web/templates`` with this module's filters."""
    env = formats.template_environment("critmat.web")
    install_filters(env)
    env.globals.update(version=__version__, limit=CRMA_SINGLE_COUNTRY_LIMIT)
    return env


def is_htmx(request: Request) -> bool:
    """Whether HTMX sent the request (it then gets only the fragment that changes)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def page(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    status: int = 200,
    snap: OverviewBasis | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``principal`` (``snap``: the data basis the header cites)."""
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            user=principal,
            csrf_token=principal.csrf_token if principal else None,
            snap=snap,
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    principal: Principal | None = None,
    hint: str | None = None,
    links: list[tuple[str, str]] | None = None,
    problems: list[tuple[str, str]] | None = None,
    incident: str | None = None,
) -> HTMLResponse:
    """The error page: what went wrong, a hint, links to go on and the invalid parameters."""
    return page(
        request,
        "error.html",
        principal,
        status=status,
        status_code=status,
        title=title,
        message=message,
        hint=hint,
        links=links or [],
        problems=problems or [],
        incident=incident,
        logged_in=SESSION_COOKIE in request.cookies,
    )


def unknown_name_page(
    request: Request,
    exc: UnknownNameError,
    links: list[tuple[str, str]],
    principal: Principal | None = None,
) -> HTMLResponse:
    """A 404 for a name critmat does not know, with ``links`` to the suggested names (a search
    for the name when there are none)."""
    return error_page(
        request,
        404,
        f"Unknown {exc.kind}",
        f"critmat does not know the {exc.kind} “{exc.name}”.",
        principal=principal,
        hint="Did you mean one of these?" if links else "Try the search box above.",
        links=links or [(f"/search?q={quote(exc.name)}", f"Search for “{exc.name}”")],
    )


def download(table: Table, fmt: Fmt, stem: str) -> Response:
    """``table`` as a CSV or XLSX attachment named ``critmat-{stem}.{fmt}``."""
    filename = f"critmat-{stem}.{fmt}".replace(" ", "_")
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''" + quote(filename)
    return attachment(encode(table, fmt), MEDIA_TYPES[fmt], disposition)


def attachment(body: bytes, media_type: str, disposition: str) -> Response:
    """A download of ``body`` (``disposition``: the ``Content-Disposition``), never cached."""
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


def cell(value: Any, column: Column) -> Markup:
    """One table cell's content (links for countries and materials)."""
    if value is None or value == "":
        return Markup('<span class="muted">–</span>')
    kind = column.kind
    if kind == "country":
        code = str(value)
        return Markup(
            f'<a href="/countries/{escape(code)}" title="{escape(code)}">'
            f"{escape(country_name(code))}</a>"
        )
    if kind == "material":
        return Markup(f'<a href="/materials/{escape(value)}">{escape(_material_name(value))}</a>')
    if kind == "share":
        text = share(float(value))
        if float(value) > CRMA_SINGLE_COUNTRY_LIMIT and "third" in column.label.lower():
            return Markup(f'<span class="over">{text}</span>')
        return Markup(escape(text))
    if kind == "num":
        return Markup(escape(num(float(value))))
    if kind == "int":
        return Markup(escape(f"{int(value):,}"))
    if kind == "hhi":
        return Markup(escape(hhi(float(value))))
    if kind == "bool":
        return Markup('<span class="yes">yes</span>' if value else '<span class="muted">no</span>')
    return Markup(escape(str(value)))


def _material_name(material_id: str) -> str:
    from critmat.reference.materials import load_catalogue

    catalogue = load_catalogue()
    return catalogue.get(material_id).name if material_id in catalogue else material_id


def is_numeric(column: Column) -> bool:
    return column.kind in ("share", "num", "int", "hhi", "year")


def figure_json(figure: dict[str, Any]) -> Markup:
    """A figure as JSON that can sit inside ``<script type="application/json">``."""
    text = json.dumps(figure, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def with_query(query: dict[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from ``query`` updated with ``changes`` (``None`` drops a key)."""
    merged = {**query, **changes}
    clean = {k: v for k, v in merged.items() if v is not None and v != ""}
    return "?" + urlencode(clean) if clean else ""


def install_filters(env: jinja2.Environment) -> None:
    env.filters.update(
        pct=pct,
        share=share,
        num=num,
        hhi=hhi,
        country=country,
        sortkey=sortkey,
        cell=cell,
        figure_json=figure_json,
    )
    env.globals.update(is_numeric=is_numeric, with_query=with_query)
