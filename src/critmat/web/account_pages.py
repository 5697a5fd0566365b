"""Web pages of the account: log in and out, the organisation page, and the HTML error pages.

Moved as they were from :mod:`critmat.web.pages` (which installs them); the login page starts
computing the overview basis in the background (:func:`critmat.web.basis.warm`).
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Form, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from critmat.config import Settings
from critmat.errors import CritmatError, NoDataError, StoreError, UnknownNameError
from critmat.platform import accounts, audit, security
from critmat.platform.db import UNAVAILABLE_ERRORS, unavailable_from
from critmat.platform.models import Session
from critmat.server import deps as api_deps
from critmat.server.access import hidden_audit_actions
from critmat.server.deps import (
    SESSION_COOKIE,
    DbDep,
    OwnOrgCaller,
    PublicCaller,
    SettingsDep,
    UserCaller,
    client_ip,
    set_private_cookie,
    set_session_cookie,
)
from critmat.server.errors import RETRY_AFTER_S, wants_html
from critmat.web.basis import warm
from critmat.web.render import error_page, is_htmx, page, unknown_name_page

log = logging.getLogger("critmat.web")


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if target.startswith(("/login", "/logout")):
        return "/"
    return target


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
    set_private_cookie(
        response,
        settings,
        LOGIN_CSRF_COOKIE,
        token,
        max_age=settings.session_idle_seconds,
        samesite="strict",
        path="/login",
    )
    return response


def auth_routes(app: FastAPI) -> None:
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
        warm(request.app)
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


# ------------------------------------------------------------------------------ organisation
def org_routes(app: FastAPI) -> None:
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
def install_error_pages(app: FastAPI) -> None:
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
        return unknown_name_page(request, exc, links)

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
