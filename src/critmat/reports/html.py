"""The offline HTML report on every critical raw material.

:func:`build_report` asks the overview service for the report
(:func:`critmat.services.overview.report`: every indicator refreshed once, a section per
material), pairs it with its figures (:mod:`critmat.reports.model`) and renders it with the
Jinja2 templates in ``critmat/reports/templates``. The output is one self-contained file: plotly.js
from the installed plotly package is inlined once, the figures are embedded as JSON, and the CSS
and scripts are inline — nothing is fetched when the file is opened. The file is written to a
temporary file beside the target and renamed over it, so a failed build never leaves a partial
report (an earlier report at the same path stays as it was).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from critmat import __version__
from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.reports import formats
from critmat.reports.model import (
    PARTIAL_VALUE_SHARE,
    THIN_TONNES,
    ReportModel,
    report_model,
)
from critmat.services import overview
from critmat.services.context import ServiceContext
from critmat.services.overview.basis import Progress
from critmat.store import Store


def build_report(
    store: Store,
    target: Path,
    *,
    year: int | None = None,
    progress: Progress | None = None,
    services: ServiceContext | None = None,
) -> Path:
    """Write the HTML report for ``store`` to ``target`` and return ``target``.

    ``year`` is the focus year (default: the latest year with both production and trade data).
    ``progress`` receives short status messages. ``services``: the context whose cache keeps
    the overview's basis (default: a new one over ``store``). Raises
    :class:`critmat.errors.CritmatError` when the store lacks data or ``year`` is outside it;
    the target is then left untouched.
    """
    started = time.perf_counter()
    context = services or report_context(store)
    report = overview.report(context, store, year, progress=progress)
    if progress:
        progress("rendering HTML")
    html = render(report_model(report), build_seconds=time.perf_counter() - started)
    if progress:
        progress(f"writing {target} ({len(html.encode('utf-8')) / 1e6:.1f} MB)")
    write_atomic(target, html)
    return target


def report_context(store: Store) -> ServiceContext:
    """A service context of its own for one report over ``store`` (it opens cursors of the
    store's connection, which closing leaves open)."""
    return ServiceContext(lambda: Store(store.path, read_only=True, connection=store.con.cursor()))


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file in the same folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        temp.chmod(0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


@cache
def _environment() -> jinja2.Environment:
    env = formats.template_environment("critmat.reports")
    env.filters.update(
        pct=_pct,
        share=_share,
        num=formats.format_number,
        hhi=formats.format_hhi,
        country=formats.country,
        sortkey=formats.sortkey,
        linkify=_linkify,
    )
    return env


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    script: str = get_plotlyjs()
    # Inlined in a <script> element: "</script" inside would end it early.
    return script.replace("</script", "<\\/script")


def _asset(name: str) -> str:
    return (Path(__file__).parent / "templates" / name).read_text(encoding="utf-8")


def render(model: ReportModel, *, build_seconds: float = 0.0) -> str:
    """Render ``model`` to the report's HTML text."""
    figures = json.dumps(model.figures, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    template = _environment().get_template("report.html.j2")

    def figure_height(figure_id: str) -> int:
        layout = model.figures.get(figure_id, {}).get("layout", {})
        return int(layout.get("height", 300))

    return template.render(
        m=model.report,
        panel_figure=model.panel_figure,
        figure_height=figure_height,
        thin_tonnes=f"{THIN_TONNES:g}",
        partial_share=PARTIAL_VALUE_SHARE,
        version=__version__,
        limit=CRMA_SINGLE_COUNTRY_LIMIT,
        today=model.report.as_of.isoformat(),
        build_seconds=build_seconds,
        figures_json=_script_safe(figures),
        plotly_js=_plotly_js(),
        css=_asset("report.css"),
        js=formats.SHARED_SCRIPT.read_text(encoding="utf-8") + _asset("report.js"),
    )


def _script_safe(text: str) -> str:
    """JSON that can sit inside a ``<script type="application/json">`` element."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# -- template filters ------------------------------------------------------------------------
def _pct(value: float | None, digits: int = 0) -> str:
    return formats.percent(value, digits)


def _share(value: float | None) -> str:
    """A share as a whole percentage, with one decimal where it rounds to the 65% benchmark."""
    if value is None:
        return "–"
    whole = round(value * 100)
    return f"{value * 100:.1f}%" if whole == round(CRMA_SINGLE_COUNTRY_LIMIT * 100) else f"{whole}%"


_URL = re.compile(r"https?://[^\s<>\"')]+[^\s<>\"').,;:]")


def _linkify(text: str | None) -> Markup:
    """Escape ``text`` and turn the web addresses in it into links (for citations)."""
    if not text:
        return Markup("")
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        url = match.group(0)
        out.append(f'<a href="{escape(url)}" rel="noreferrer">{escape(url)}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))
