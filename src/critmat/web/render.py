"""Jinja2 filters of the web pages: numbers, shares and table cells formatted for reading."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup, escape

from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.indicators.panel import country_name
from critmat.reports.html import format_hhi as hhi
from critmat.reports.html import format_number as num
from critmat.web.tables import Column


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
