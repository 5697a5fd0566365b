"""Web pages: server-rendered HTML (Jinja2), HTMX fragment swaps, plotly charts, downloads.

Every route takes a caller type from :mod:`critmat.server.deps` (the authorization-matrix test
reads the rule from the route table). Pages are for logged-in users; a visitor without a
session is redirected to ``/login?next=...``. Requests sent by HTMX (header ``HX-Request``) get
only the fragment that changes; the same URL without HTMX gives the whole page, so every
selector also works as a plain link or form.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import anyio
import jinja2
from fastapi import FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from critmat import __version__
from critmat.config import Settings
from critmat.errors import CritmatError, NoDataError, StoreError, UnknownNameError
from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.platform import accounts, audit, security
from critmat.platform.db import UNAVAILABLE_ERRORS, unavailable_from
from critmat.platform.models import Session
from critmat.server import deps as api_deps
from critmat.server.access import PUBLIC, hidden_audit_actions
from critmat.server.deps import (
    SESSION_COOKIE,
    DbDep,
    OwnOrgCaller,
    Principal,
    PublicCaller,
    SettingsDep,
    StoreDep,
    UserCaller,
    client_ip,
    require,
    set_session_cookie,
)
from critmat.server.errors import RETRY_AFTER_S, wants_html
from critmat.store import Store
from critmat.web import data as wd
from critmat.web import render
from critmat.web.tables import MEDIA_TYPES, Table, encode

log = logging.getLogger("critmat.web")
STATIC = Path(str(resources.files("critmat.web").joinpath("static")))
Fmt = Literal["csv", "xlsx"]
YearQ = Annotated[int | None, Query(ge=1900, le=2100, description="year (default: latest)")]


# ------------------------------------------------------------------------------ rendering
@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("critmat.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    render.install_filters(env)
    env.globals.update(version=__version__, limit=CRMA_SINGLE_COUNTRY_LIMIT)
    return env


def is_htmx(request: Request) -> bool:
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
    snap: wd.Snapshot | None = None,
    **context: Any,
) -> HTMLResponse:
    html = (
        _environment()
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


def snapshot(request: Request, store: Store) -> wd.Snapshot:
    web: wd.WebData = request.app.state.web_data
    return web.get(store)


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if target.startswith(("/login", "/logout")):
        return "/"
    return target


# ------------------------------------------------------------------------------ install
def install(app: FastAPI) -> None:
    """Add the web routes, static files and HTML error pages to ``app``."""
    web = wd.WebData(app.state.store_hub.store)
    app.state.web_data = web
    original_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        async with original_lifespan(target) as state:
            try:
                yield state
            finally:  # a background snapshot build must end before the store is closed
                await anyio.to_thread.run_sync(web.wait)

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

    _auth_routes(app)
    _overview_routes(app)
    _material_routes(app)
    _country_routes(app)
    _other_routes(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_pages(app)


# ------------------------------------------------------------------------------ login
#: Pre-session cookie of the login form (double submit): the form carries the same random
#: token as a hidden field, which a page on another site can neither read nor set, so it
#: cannot log a visitor in to an account of its choosing (login CSRF).
LOGIN_CSRF_COOKIE = "critmat_login_csrf"
LOGIN_CSRF_REFUSED = (
    "This login form has expired or was not sent from this site. "
    "The form has been renewed: enter your e-mail and password again."
)


def _login_page(
    request: Request,
    settings: Settings,
    *,
    status: int = 200,
    next: str = "/",
    message: str | None = None,
    error: str | None = None,
    email: str = "",
    renew: bool = False,
) -> HTMLResponse:
    """The login form with its CSRF token; the token cookie is (re)set with it.

    The token of the visitor's current cookie is kept unless ``renew``.
    """
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if renew or not 20 <= len(token) <= 100:
        token = security.new_token()
    response = page(
        request,
        "login.html",
        None,
        status=status,
        next=next,
        message=message,
        error=error,
        email=email,
        login_csrf=token,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=settings.session_idle_seconds,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/login",
    )
    return response


def _auth_routes(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(
        request: Request,
        settings: SettingsDep,
        principal: PublicCaller,
        next: str | None = None,
        expired: bool = False,
        logged_out: bool = False,
    ) -> Response:
        if principal is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        request.app.state.web_data.warm()
        message = None
        if expired:
            message = "Your session has expired. Please log in again."
        elif logged_out:
            message = "You are logged out."
        return _login_page(request, settings, next=safe_next(next), message=message)

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_submit(
        request: Request,
        db: DbDep,
        settings: SettingsDep,
        _caller: PublicCaller,
        email: Annotated[str, Form(max_length=254)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
        csrf_token: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        target = safe_next(next)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not csrf_token or not expected or not security.same(csrf_token, expected):
            return _login_page(
                request,
                settings,
                status=403,
                next=target,
                error=LOGIN_CSRF_REFUSED,
                email=email,
                renew=True,
            )
        try:
            opened = accounts.login(db, settings, email, password, client_ip(request))
        except accounts.RateLimited as exc:
            response = _login_page(
                request,
                settings,
                status=429,
                next=target,
                error=f"{str(exc).capitalize()}. {(exc.hint or '').capitalize()}.",
                email=email,
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except accounts.AuthError:
            db.commit()  # the failed attempt is audited
            return _login_page(
                request,
                settings,
                status=401,
                next=target,
                error="Wrong e-mail or password, or the account is disabled.",
                email=email,
            )
        # Commit before answering: the browser follows the redirect at once, and the request
        # session's own commit runs only after the response has been sent.
        db.commit()
        done = RedirectResponse(target, status_code=303)
        set_session_cookie(done, settings, opened.token)
        done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return done

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, db: DbDep, principal: UserCaller) -> Response:
        if principal.session_id is not None:
            session = db.get(Session, principal.session_id)
            if session is not None:
                accounts.logout(db, session, client_ip(request))
                db.commit()  # before the redirect is followed (see login)
        # Drop the caller from the API's principal cache, where there is one.
        forget = getattr(api_deps, "forget_user", None)
        if forget is not None:
            forget(request, principal.user_id)
        response = RedirectResponse("/login?logged_out=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


# ------------------------------------------------------------------------------ overview
def _overview_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        year: YearQ = None,
        scope: Literal["strategic", "critical"] = "strategic",
    ) -> Response:
        snap = snapshot(request, store)
        chosen = snap.check_year(year)
        strategic_only = scope == "strategic"
        panel = snap.panel(chosen, store)
        shown = [p for p in panel if p.strategic or not strategic_only]
        context: dict[str, Any] = {
            "year": chosen,
            "scope": scope,
            "panel_rows": shown,
            "over": [p for p in shown if p.exceeds_65],
            "panel_table": wd.panel_table(snap, store, chosen, strategic_only),
            "panel_figure": wd.panel_figure(snap, store, chosen, strategic_only),
            "panel_links": {
                ("★ " if p.strategic and not strategic_only else "") + p.name: "/materials/"
                + p.material_id
                for p in shown
            },
            "dependencies": wd.dependencies_table(snap, chosen),
            "restrictions": wd.restrictions_table(
                snap,
                snap.builder.restriction_rows,
                "Most recent export restrictions",
                limit=8,
            ),
            "query": {"year": chosen, "scope": scope},
        }
        template = "_overview_body.html" if is_htmx(request) else "overview.html"
        return page(request, template, principal, snap=snap, **context)

    @app.get("/downloads/{table}.{fmt}", include_in_schema=False)
    def overview_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        table: Literal["panel", "dependencies", "restrictions"],
        fmt: Fmt,
        year: YearQ = None,
        scope: Literal["strategic", "critical"] = "critical",
    ) -> Response:
        snap = snapshot(request, store)
        chosen = snap.check_year(year)
        if table == "panel":
            data = wd.panel_table(snap, store, chosen, scope == "strategic")
        elif table == "dependencies":
            data = wd.dependencies_table(snap, chosen, limit=200)
        else:
            data = wd.restrictions_table(
                snap, snap.builder.restriction_rows, "Export-restriction registry"
            )
        return download(data, fmt, f"{table}-{chosen}" if table != "restrictions" else table)

    @app.get("/materials", response_class=HTMLResponse, include_in_schema=False)
    def materials(
        request: Request, store: StoreDep, principal: UserCaller, year: YearQ = None
    ) -> Response:
        snap = snapshot(request, store)
        chosen = snap.check_year(year)
        return page(
            request,
            "materials.html",
            principal,
            snap=snap,
            year=chosen,
            entries=wd.material_index(snap, store, chosen),
        )


# ------------------------------------------------------------------------------ materials
def _material_routes(app: FastAPI) -> None:
    @app.get("/materials/{material_id}", response_class=HTMLResponse, include_in_schema=False)
    def material_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        material_id: str,
        year: YearQ = None,
        stage: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Response:
        snap = snapshot(request, store)
        material = snap.material(material_id)
        if material.id != material_id:  # an alias or a name: go to the canonical address
            query = urlencode({k: v for k, v in (("year", year), ("stage", stage)) if v})
            target = f"/materials/{material.id}" + (f"?{query}" if query else "")
            return RedirectResponse(target, status_code=307)
        chosen = snap.check_year(year)
        view = wd.material_view(snap, store, material, chosen, stage or None)
        context: dict[str, Any] = {
            "v": view,
            "year": chosen,
            "stage_choices": wd.stage_choices(material, snap),
            "query": {"year": chosen, "stage": view.stage.name if view.stage else ""},
            "pivot": wd.sources_pivot(view.tables["sources-trend"])
            if "sources-trend" in view.tables
            else None,
        }
        template = "_material_body.html" if is_htmx(request) else "material.html"
        return page(request, template, principal, snap=snap, **context)

    @app.get("/materials/{material_id}/{table}.{fmt}", include_in_schema=False)
    def material_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        material_id: str,
        table: str,
        fmt: Fmt,
        year: YearQ = None,
        stage: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Response:
        snap = snapshot(request, store)
        material = snap.material(material_id)
        chosen = snap.check_year(year)
        view = wd.material_view(snap, store, material, chosen, stage or None)
        if table not in view.tables:
            raise NoDataError(
                f"no table '{table}' for {material.name} in {chosen}",
                hint="available: " + ", ".join(view.tables),
            )
        stem = f"{material.id}-{table}-{chosen}"
        if view.stage is not None and table in ("sources", "sources-trend", "member-states"):
            stem += f"-{view.stage.name}"
        return download(view.tables[table], fmt, stem)


# ------------------------------------------------------------------------------ countries
def _country_routes(app: FastAPI) -> None:
    @app.get("/countries/{iso3}", response_class=HTMLResponse, include_in_schema=False)
    def country_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        iso3: Annotated[str, PathParam(max_length=80)],
        year: YearQ = None,
    ) -> Response:
        snap = snapshot(request, store)
        code = wd.resolve_country_code(snap, iso3)
        if code != iso3:
            suffix = f"?year={year}" if year else ""
            return RedirectResponse(f"/countries/{code}{suffix}", status_code=307)
        chosen = snap.check_year(year)
        view = wd.country_view(snap, store, code, chosen)
        template = "_country_body.html" if is_htmx(request) else "country.html"
        return page(
            request, template, principal, snap=snap, c=view, year=chosen, query={"year": chosen}
        )

    @app.get("/countries/{iso3}/{table}.{fmt}", include_in_schema=False)
    def country_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        iso3: str,
        table: Literal["supply", "production", "governance", "restrictions"],
        fmt: Fmt,
        year: YearQ = None,
    ) -> Response:
        snap = snapshot(request, store)
        code = wd.resolve_country_code(snap, iso3)
        chosen = snap.check_year(year)
        view = wd.country_view(snap, store, code, chosen)
        return download(view.tables[table], fmt, f"{code}-{table}-{chosen}")


# ------------------------------------------------------------------------------ search, orgs
def _other_routes(app: FastAPI) -> None:
    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        q: Annotated[str, Query(max_length=100)] = "",
    ) -> Response:
        snap = snapshot(request, store)
        hits = wd.search(snap, q, limit=40) if q.strip() else []
        if len(hits) == 1 and not is_htmx(request):
            hit = hits[0]
            target = f"/materials/{hit.key}" if hit.kind == "material" else f"/countries/{hit.key}"
            return RedirectResponse(target, status_code=303)
        return page(request, "search.html", principal, snap=snap, q=q, hits=hits)

    @app.get("/search/suggest", response_class=HTMLResponse, include_in_schema=False)
    def search_suggest(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        q: Annotated[str, Query(max_length=100)] = "",
    ) -> Response:
        snap = snapshot(request, store)
        hits = wd.search(snap, q, limit=10) if len(q.strip()) >= 2 else []
        return page(request, "_suggest.html", principal, q=q, hits=hits)

    @app.get("/orgs/{org_id}", response_class=HTMLResponse, include_in_schema=False)
    def organisation(
        request: Request,
        db: DbDep,
        principal: OwnOrgCaller,
        org_id: Annotated[int, PathParam(ge=1, le=2_147_483_647)],
    ) -> Response:
        org = accounts.get_org(db, org_id)
        members = accounts.list_users(db, organisation_id=org.id)
        hidden = hidden_audit_actions(
            principal.role, principal.organisation_id == org.id
        )  # the same rule as the API's
        entries = audit.entries(db, limit=25, organisation_id=org.id, hide_actions=hidden)
        return page(request, "org.html", principal, org=org, members=members, entries=entries)


# ------------------------------------------------------------------------------ error pages
def _install_error_pages(app: FastAPI) -> None:
    """HTML error pages for the web UI; the API keeps its JSON errors (the previous handlers)."""
    from critmat.server.deps import DENIED, LoginRequired

    previous = dict(app.exception_handlers)

    def html_first(exc_type: type[Exception], make: Any) -> None:
        fallback = previous.get(exc_type)

        async def handler(request: Request, exc: Exception) -> Response:
            if fallback is None or wants_html(request):
                made: Response = make(request, exc)
                # keep the API's headers (e.g. X-Critmat-Access on refusals, WWW-Authenticate)
                if isinstance(exc, StarletteHTTPException) and exc.headers:
                    made.headers.update(exc.headers)
                if isinstance(exc, LoginRequired):
                    made.headers.update(DENIED)
                return made
            response: Response = await fallback(request, exc)
            return response

        app.add_exception_handler(exc_type, handler)

    def error_page(
        request: Request,
        status: int,
        title: str,
        message: str,
        *,
        hint: str | None = None,
        links: list[tuple[str, str]] | None = None,
        problems: list[tuple[str, str]] | None = None,
        incident: str | None = None,
    ) -> Response:
        return page(
            request,
            "error.html",
            None,
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

    def login_required(request: Request, _exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if is_htmx(request):
            target = request.headers.get("hx-current-url", target)
            if "://" in target:
                target = "/" + target.split("://", 1)[1].split("/", 1)[-1]
        params = {"next": safe_next(target)}
        if SESSION_COOKIE in request.cookies:
            params["expired"] = "1"
        location = "/login?" + urlencode(params)
        response: Response
        if is_htmx(request):
            response = Response(status_code=204, headers={"HX-Redirect": location})
        else:
            response = RedirectResponse(location, status_code=303)
        if SESSION_COOKIE in request.cookies:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = exc.status_code
        if code == 403:
            detail = str(exc.detail)
            csrf = "CSRF" in detail
            return error_page(
                request,
                403,
                "Not allowed",
                detail[:1].upper() + detail[1:] + ".",
                hint="The form was out of date: reload the page and try again."
                if csrf
                else "Ask an administrator of the platform if you need access.",
                links=[("/", "Back to the overview")],
            )
        if code == 404:
            return error_page(
                request,
                404,
                "Page not found",
                "There is no page at this address.",
                links=[("/", "Overview"), ("/materials", "All materials")],
            )
        if code == 405:
            return error_page(request, 405, "Method not allowed", str(exc.detail))
        return error_page(request, code, "Request refused", str(exc.detail))

    def unknown_name(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UnknownNameError)
        links: list[tuple[str, str]] = []
        for suggestion in exc.suggestions:
            if exc.kind == "material":
                links.append((f"/materials/{quote(suggestion)}", _material_label(suggestion)))
            elif exc.kind == "stage":
                links.append((f"{request.url.path}?stage={quote(suggestion)}", suggestion))
            else:
                links.append((f"/search?q={quote(suggestion)}", suggestion))
        return error_page(
            request,
            404,
            f"Unknown {exc.kind}",
            f"critmat does not know the {exc.kind} “{exc.name}”.",
            hint="Did you mean one of these?" if links else "Try the search box above.",
            links=links or [(f"/search?q={quote(exc.name)}", f"Search for “{exc.name}”")],
        )

    def no_data(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CritmatError)
        return error_page(request, 404, "No data", str(exc), hint=exc.hint)

    def store_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CritmatError)
        return error_page(request, 503, "Data not available", str(exc), hint=exc.hint)

    def platform_unavailable(request: Request, exc: Exception) -> Response:
        error = unavailable_from(exc)
        log.warning("%s", error)
        response = error_page(request, 503, "Try again in a moment", str(error), hint=error.hint)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    def bad_input(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CritmatError)
        return error_page(request, 400, "Cannot show this", str(exc), hint=exc.hint)

    def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            (
                str(err.get("loc", ("?",))[-1]),
                str(err.get("msg", "invalid")),
            )
            for err in exc.errors()
        ]
        return error_page(
            request,
            422,
            "Invalid address",
            "Some parameters of this address are not valid.",
            problems=problems,
            links=[(request.url.path, "Open the page with default settings")],
        )

    def crash(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", incident, request.method, request.url.path)
        return error_page(
            request,
            500,
            "Something went wrong",
            "The page could not be built. The error has been logged.",
            incident=incident,
        )

    html_first(LoginRequired, login_required)
    html_first(StarletteHTTPException, http_error)
    html_first(UnknownNameError, unknown_name)
    html_first(NoDataError, no_data)
    html_first(StoreError, store_error)
    for unavailable in UNAVAILABLE_ERRORS:
        html_first(unavailable, platform_unavailable)
    html_first(CritmatError, bad_input)
    html_first(RequestValidationError, invalid)
    html_first(Exception, crash)


def _material_label(material_id: str) -> str:
    from critmat.reference.materials import load_catalogue

    catalogue = load_catalogue()
    return catalogue.get(material_id).name if material_id in catalogue else material_id
