"""How errors reach HTTP clients: a JSON body ``{"error", "hint"?, ...}`` for the API, a page
or a redirect for the web UI. No stack trace ever leaves the server."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from critmat.api.deps import DENIED, LoginRequired
from critmat.errors import CritmatError, NoDataError, StoreError, UnknownNameError
from critmat.platform.accounts import AuthError, RateLimited

log = logging.getLogger("critmat.api")


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _json(status: int, error: str, **extra: object) -> JSONResponse:
    body: dict[str, object] = {"error": error}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            redirect = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            redirect.headers.update(DENIED)
            return redirect
        response = _json(
            401, "login required", hint="log in, or send 'Authorization: Bearer <token>'"
        )
        response.headers.update(DENIED)
        return response

    @app.exception_handler(RateLimited)
    async def _rate_limited(_request: Request, exc: RateLimited) -> Response:
        response = _json(429, str(exc), hint=exc.hint)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(AuthError)
    async def _auth_error(_request: Request, exc: AuthError) -> Response:
        return _json(401, str(exc))

    @app.exception_handler(UnknownNameError)
    async def _unknown(_request: Request, exc: UnknownNameError) -> Response:
        return _json(
            404, str(exc), hint=exc.hint, kind=exc.kind, name=exc.name, suggestions=exc.suggestions
        )

    @app.exception_handler(NoDataError)
    async def _no_data(_request: Request, exc: NoDataError) -> Response:
        return _json(404, str(exc), hint=exc.hint)

    @app.exception_handler(StoreError)
    async def _store(_request: Request, exc: StoreError) -> Response:
        return _json(503, str(exc), hint=exc.hint)

    @app.exception_handler(CritmatError)
    async def _bad_input(_request: Request, exc: CritmatError) -> Response:
        return _json(400, str(exc), hint=exc.hint)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "problem": err.get("msg")}
            for err in exc.errors()
        ]
        return _json(422, "invalid request", problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        response = _json(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", incident, request.method, request.url.path)
        return _json(500, "internal error", incident=incident)
