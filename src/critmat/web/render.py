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
from critmat.reports.html import format_hhi as hhi
from critmat.reports.html import format_number as num
from critmat.web.tables import MEDIA_TYPES, Column, Table, encode

if TYPE_CHECKING:
    from critmat.server.deps import Principal
    from critmat.services.overview import OverviewBasis

Fmt = Literal["csv", "xlsx"]


@cache
def environment() -> jinja2.Environment:
    """The templates of ``critmat/web/templates`` with this module's filters."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("critmat.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
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


def download(table: Table, fmt: Fmt, stem: str) -> Response:
    """``table`` as a CSV or XLSX attachment named ``critmat-{stem}.{fmt}``."""
    body = encode(table, fmt)
    filename = f"critmat-{stem}.{fmt}".replace(" ", "_")
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''"
            + quote(filename),
            "Cache-Control": "no-store",
        },
    )


def pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%"


def share(value: float | None) -> str:
    """Whole percent, with one decimal below 10% and where it rounds to the 65% benchmark."""
    if value is None:
        return "–"
    whole = round(value * 100)
    if whole == round(CRMA_SINGLE_COUNTRY_LIMIT * 100) or value < 0.1:
        return f"{value * 100:.1f}%"
    return f"{whole}%"


def country(iso3: str | None) -> str:
    return country_name(iso3) if iso3 else "–"


def sortkey(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value)


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
