"""Web pages: server-rendered HTML (Jinja2), HTMX fragment swaps, plotly charts, downloads.

Every route takes a caller type from :mod:`critmat.server.deps` (the authorization-matrix test
reads the rule from the route table). Pages are for logged-in users; a visitor without a
session is redirected to ``/login?next=...``. Requests sent by HTMX (header ``HX-Request``) get
only the fragment that changes; the same URL without HTMX gives the whole page, so every
selector also works as a plain link or form.

This module has the statistics pages (overview, materials, material, country, search); their
figures come from :mod:`critmat.services.overview` through the app's one
:class:`~critmat.services.context.ServiceContext`. The account pages and the HTML error pages
are in :mod:`critmat.web.account_pages`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from critmat.errors import NoDataError
from critmat.reference.materials import Material
from critmat.reports.formats import SHARED_SCRIPT
from critmat.server.access import PUBLIC
from critmat.server.deps import Principal, StoreDep, UserCaller, require
from critmat.services import overview
from critmat.services.context import ServiceContext
from critmat.store import Store
from critmat.web import account_pages, overview_view
from critmat.web import basis as web_basis
from critmat.web.country_view import CountryView, country_view
from critmat.web.material_view import (
    MaterialView,
    material_view,
    sources_pivot,
    stage_production_for,
)
from critmat.web.render import Fmt, download, is_htmx, page

__all__ = ["Call", "PageCall", "download", "install", "is_htmx", "page", "snapshot"]

STATIC = Path(str(resources.files("critmat.web").joinpath("static")))
YearQ = Annotated[int | None, Query(ge=1900, le=2100, description="year (default: latest)")]
Scope = Literal["strategic", "critical"]


def snapshot(request: Request, store: Store) -> overview.OverviewBasis:
    """The overview basis of the current releases (what the page header cites)."""
    return web_basis.basis(request, store)


@dataclass(frozen=True)
class PageCall:
    """A data page's request with its store and its logged-in caller; the overview basis of
    the current releases (what the page header cites) is computed when first asked for."""

    request: Request
    store: Store
    principal: Principal

    @property
    def services(self) -> ServiceContext:
        return web_basis.services(self.request)

    @cached_property
    def snap(self) -> overview.OverviewBasis:
        return overview.basis(self.services, self.store)

    def page(self, template: str, fragment: str | None = None, **context: Any) -> HTMLResponse:
        """``template`` (``fragment`` instead to an HTMX request) with the basis in its header."""
        chosen = fragment if fragment is not None and is_htmx(self.request) else template
        return page(self.request, chosen, self.principal, snap=self.snap, **context)


def _page_call(request: Request, store: StoreDep, principal: UserCaller) -> PageCall:
    return PageCall(request, store, principal)


#: The first parameter of a data page's route (store before caller, as the routes had them).
Call = Annotated[PageCall, Depends(_page_call)]


# ------------------------------------------------------------------------------ install
def install(app: FastAPI) -> None:
    """Add the web routes, static files and HTML error pages to ``app``."""
    original_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        async with original_lifespan(target) as state:
            try:
                yield state
            finally:  # a background basis computation must end before the store is closed
                await anyio.to_thread.run_sync(web_basis.wait, app)

    app.router.lifespan_context = lifespan

    @app.get("/static/plotly.min.js", include_in_schema=False, dependencies=[require(PUBLIC)])
    def plotly_js() -> FileResponse:
        import plotly

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        return FileResponse(
            path,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    @app.get("/static/shared.js", include_in_schema=False, dependencies=[require(PUBLIC)])
    def shared_js() -> FileResponse:
        """The script the web pages share with the offline report (one file, in reports)."""
        return FileResponse(SHARED_SCRIPT, media_type="text/javascript")

    account_pages.auth_routes(app)
    _overview_routes(app)
    _material_routes(app)
    _country_routes(app)
    _search_routes(app)
    account_pages.org_routes(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    account_pages.install_error_pages(app)


# ------------------------------------------------------------------------------ overview
def _overview_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page(call: Call, year: YearQ = None, scope: Scope = "strategic") -> Response:
        services, store, snap = call.services, call.store, call.snap
        chosen = snap.check_year(year)
        strategic_only = scope == "strategic"
        shown = overview_view.shown_rows(overview.panel(services, store, chosen), strategic_only)
        context: dict[str, Any] = {
            "year": chosen,
            "scope": scope,
            "panel_rows": shown,
            "over": [p for p in shown if p.exceeds_65],
            "panel_table": overview_view.panel_table(snap, shown, chosen),
            "panel_figure": overview_view.panel_figure(shown, chosen, strategic_only),
            "panel_links": overview_view.panel_links(shown, strategic_only),
            "dependencies": overview_view.dependencies_table(
                overview.dependencies(services, store, chosen)
            ),
            "restrictions": overview_view.restrictions_table(
                snap,
                overview.restrictions(services, store),
                "Most recent export restrictions",
                limit=8,
            ),
            "query": {"year": chosen, "scope": scope},
        }
        return call.page("overview.html", "_overview_body.html", **context)

    @app.get("/downloads/{table}.{fmt}", include_in_schema=False)
    def overview_download(
        call: Call,
        table: Literal["panel", "dependencies", "restrictions"],
        fmt: Fmt,
        year: YearQ = None,
        scope: Scope = "critical",
    ) -> Response:
        services, store, snap = call.services, call.store, call.snap
        chosen = snap.check_year(year)
        if table == "panel":
            rows = overview_view.shown_rows(
                overview.panel(services, store, chosen), scope == "strategic"
            )
            data = overview_view.panel_table(snap, rows, chosen)
        elif table == "dependencies":
            data = overview_view.dependencies_table(
                overview.dependencies(services, store, chosen, limit=200)
            )
        else:
            data = overview_view.restrictions_table(
                snap, overview.restrictions(services, store), "Export-restriction registry"
            )
        return download(data, fmt, f"{table}-{chosen}" if table != "restrictions" else table)

    @app.get("/materials", response_class=HTMLResponse, include_in_schema=False)
    def materials(call: Call, year: YearQ = None) -> Response:
        chosen = call.snap.check_year(year)
        entries = overview.material_index(call.services, call.store, chosen)
        return call.page("materials.html", year=chosen, entries=entries)


# ------------------------------------------------------------------------------ materials
StageQ = Annotated[str | None, Query(max_length=40)]


def _material_routes(app: FastAPI) -> None:
    @app.get("/materials/{material_id}", response_class=HTMLResponse, include_in_schema=False)
    def material_page(
        call: Call, material_id: str, year: YearQ = None, stage: StageQ = None
    ) -> Response:
        snap = call.snap
        material = snap.material(material_id)
        if material.id != material_id:  # an alias or a name: go to the canonical address
            # a name of a stage ("lithium carbonate") keeps its stage (Catalogue.choose_stage)
            named = overview.named_stage(snap, material_id)
            stage = stage or named
            query = urlencode({k: v for k, v in (("year", year), ("stage", stage)) if v})
            target = f"/materials/{material.id}" + (f"?{query}" if query else "")
            return RedirectResponse(target, status_code=307)
        chosen, view = _material(call, material, year, stage)
        context: dict[str, Any] = {
            "v": view,
            "year": chosen,
            "stage_choices": overview.stage_choices(snap, material),
            "query": {"year": chosen, "stage": view.page.stage.name if view.page.stage else ""},
            "pivot": sources_pivot(view.tables["sources-trend"])
            if "sources-trend" in view.tables
            else None,
        }
        return call.page("material.html", "_material_body.html", **context)

    @app.get("/materials/{material_id}/{table}.{fmt}", include_in_schema=False)
    def material_download(
        call: Call, material_id: str, table: str, fmt: Fmt, year: YearQ = None, stage: StageQ = None
    ) -> Response:
        material = call.snap.material(material_id)
        chosen, view = _material(call, material, year, stage)
        if table not in view.tables:
            raise NoDataError(
                f"no table '{table}' for {material.name} in {chosen}",
                hint="available: " + ", ".join(view.tables),
            )
        stem = f"{material.id}-{table}-{chosen}"
        if view.page.stage is not None and table in ("sources", "sources-trend", "member-states"):
            stem += f"-{view.page.stage.name}"
        return download(view.tables[table], fmt, stem)


def _material(
    call: PageCall, material: Material, year: int | None, stage: str | None
) -> tuple[int, MaterialView]:
    """The year shown (``year`` checked, default the latest) and the material page's view."""
    chosen = call.snap.check_year(year)
    answer = overview.material_page(call.services, call.store, material, chosen, stage or None)
    production = stage_production_for(call.services, call.store, material.id, chosen)
    return chosen, material_view(answer, call.snap, production)


# ------------------------------------------------------------------------------ countries
def _country_routes(app: FastAPI) -> None:
    @app.get("/countries/{iso3}", response_class=HTMLResponse, include_in_schema=False)
    def country_page(
        call: Call, iso3: Annotated[str, PathParam(max_length=80)], year: YearQ = None
    ) -> Response:
        code = overview.country_code(call.snap, iso3)
        if code != iso3:
            suffix = f"?year={year}" if year else ""
            return RedirectResponse(f"/countries/{code}{suffix}", status_code=307)
        chosen, view = _country(call, code, year)
        context = {"c": view, "year": chosen, "query": {"year": chosen}}
        return call.page("country.html", "_country_body.html", **context)

    @app.get("/countries/{iso3}/{table}.{fmt}", include_in_schema=False)
    def country_download(
        call: Call,
        iso3: str,
        table: Literal["supply", "production", "governance", "restrictions"],
        fmt: Fmt,
        year: YearQ = None,
    ) -> Response:
        code = overview.country_code(call.snap, iso3)
        chosen, view = _country(call, code, year)
        return download(view.tables[table], fmt, f"{code}-{table}-{chosen}")


def _country(call: PageCall, code: str, year: int | None) -> tuple[int, CountryView]:
    """The year shown (``year`` checked, default the latest) and the country page's view."""
    chosen = call.snap.check_year(year)
    answer = overview.country_page(call.services, call.store, code, chosen)
    return chosen, country_view(answer, call.snap)


# ------------------------------------------------------------------------------ search
SearchQ = Annotated[str, Query(max_length=100)]


def _search_routes(app: FastAPI) -> None:
    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(call: Call, q: SearchQ = "") -> Response:
        snap = call.snap  # the header's basis, computed before the search (as it always was)
        found = overview.search(call.services, call.store, q, limit=40) if q.strip() else None
        hits = found.hits if found else []
        opened = found.named if found and found.named else (hits[0] if len(hits) == 1 else None)
        if opened is not None and not is_htmx(call.request):
            hit = opened
            target = f"/materials/{hit.key}" if hit.kind == "material" else f"/countries/{hit.key}"
            return RedirectResponse(target, status_code=303)
        return page(call.request, "search.html", call.principal, snap=snap, q=q, hits=hits)

    @app.get("/search/suggest", response_class=HTMLResponse, include_in_schema=False)
    def search_suggest(call: Call, q: SearchQ = "") -> Response:
        wanted = len(q.strip()) >= 2
        hits = overview.search(call.services, call.store, q, limit=10).hits if wanted else []
        return page(call.request, "_suggest.html", call.principal, q=q, hits=hits)
