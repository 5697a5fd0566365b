"""How the HTML report, the company report and the web pages write figures for a reader, and
the Jinja2 environment their templates share (autoescaped, strict about undefined names).

Shares and percentages are fractions (0–1) written as percent; the 65 % benchmark is
:data:`critmat.indicators.imports.CRMA_SINGLE_COUNTRY_LIMIT`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.indicators.panel import country_name

MISSING = "–"
#: The script the offline report inlines and the web pages load (``/static/shared.js``) before
#: their own: plotly's chart options and the order of a sorted table's rows.
SHARED_SCRIPT = Path(__file__).parent / "templates" / "shared.js"


def template_environment(package: str) -> jinja2.Environment:
    """The templates of ``package``'s ``templates`` folder, every one autoescaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def format_number(value: float | None, digits: int | None = None) -> str:
    """A figure for a reader: thousands separators, fewer decimals as it grows; – for none."""
    if value is None:
        return MISSING
    if digits is not None:
        return f"{value:,.{digits}f}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.1f}"
    if magnitude == 0:
        return "0"
    return f"{value:.2g}"


def format_hhi(value: float | None) -> str:
    """An HHI (0–1) with two decimals; – for none."""
    return MISSING if value is None else f"{value:.2f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction (0–1) as a percentage with ``digits`` decimals; – for none."""
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def share(value: float | None) -> str:
    """A share (0–1) in whole percent, with one decimal below 10 % and where it rounds to the
    65 % benchmark (so that 64.6 % does not read as "65 %")."""
    if value is None:
        return MISSING
    whole = round(value * 100)
    if whole == round(CRMA_SINGLE_COUNTRY_LIMIT * 100) or value < 0.1:
        return f"{value * 100:.1f}%"
    return f"{whole}%"


def country(iso3: str | None) -> str:
    """A country's name from its ISO3 code; – for none."""
    return country_name(iso3) if iso3 else MISSING


def sortkey(value: Any) -> str:
    """A ``data-v`` attribute value for the sortable tables (numbers as plain decimals)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value)
