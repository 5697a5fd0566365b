"""How errors reach HTTP clients: a JSON body ``{"error", "hint"?, ...}`` for the API, a page
or a redirect for the web UI. No stack trace ever leaves the server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from critmat.errors import CritmatError, NoDataError, StoreError, UnknownNameError
from critmat.platform.accounts import AuthError, RateLimited
from critmat.platform.db import UNAVAILABLE_ERRORS, unavailable_from
from critmat.server.access import ALL_ROLES, AccessRule
from critmat.server.deps import DENIED, SAFE_METHODS, LoginRequired

log = logging.getLogger("critmat.api")
#: Seconds a client is asked to wait when the platform database is not available.
RETRY_AFTER_S = 5


class ErrorOut(BaseModel):
    """The body of every error answer: what is wrong and, where it helps, what to do."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="What is wrong.")
    hint: str | None = Field(default=None, description="What to do about it.")


class InvalidOut(ErrorOut):
    """422: every problem of the request at once."""

    problems: list[dict[str, Any]] = Field(
        description="One entry per problem: `where` (e.g. `query.year`) and `problem`; for "
        "an uploaded file `file`, `row`, `column` and `reason`."
    )


#: What each error status means, as the OpenAPI schema says it.
STATUS_TEXT: dict[int, str] = {
    400: "A value the data cannot answer (e.g. a year outside the release) or a refused write.",
    401: "Not logged in, or an invalid or expired API token.",
    403: "Refused: your role may not do this, it belongs to another organisation, or the "
    "session's CSRF token is missing or wrong.",
    404: "Not found: an unknown id or name (with `suggestions` where there are close ones), "
    "or no data.",
    409: "Conflicts with the current state.",
    413: "The request body is over the size limit.",
    422: "Malformed parameters or body: `problems` lists each one.",
    429: "Too many login attempts for this account from this address (or from this address "
    "overall): retry after `Retry-After` seconds.",
    500: "Internal error: the answer carries an `incident` id, logged with the details.",
    503: "Not available now: the analytics store is missing (`critmat data pull`), an "
    "assessment ran past its time limit and was stopped (nothing stored), or the platform "
    "database cannot be reached (retry after `Retry-After` seconds).",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the error ``statuses`` a route answers besides those of its
    access rule and validation (which :func:`install_schema` adds to every route)."""
    return {
        status: {
            "model": InvalidOut if status == 422 else ErrorOut,
            "description": STATUS_TEXT[status],
        }
        for status in statuses
    }


def access_rules(route: APIRoute) -> list[AccessRule]:
    """The access rules of ``route``'s dependencies (exactly one on every route)."""
    found: list[AccessRule] = []

    def walk(dependant: Any) -> None:
        for dep in dependant.dependencies:
            rule = getattr(dep.call, "access_rule", None)
            if rule is not None:
                found.append(rule)
            walk(dep)

    walk(route.dependant)
    return found


def implied_statuses(route: APIRoute, method: str, operation: dict[str, Any]) -> set[int]:
    """Statuses any call of ``method`` on ``route`` can get from its access rule (401, 403),
    its parameters (422; 404 for an unknown id or name in the path), its body (413), a crash
    (500) and a database or store that is not available now (503)."""
    statuses = {500, 503}
    for rule in access_rules(route):
        if rule.public:
            continue
        statuses.add(401)
        if rule.roles != ALL_ROLES or rule.own_org_param or method not in SAFE_METHODS:
            statuses.add(403)  # a role, another organisation, or a write without CSRF token
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(413)
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.add(404)  # a path names something: an unknown id or name
    return statuses


#: What to send instead of a body that cannot be parsed (answered as the 422 of any other
#: malformed body, not the framework's 400).
_BODY_HINT = "send JSON in UTF-8, or multipart/form-data where the operation takes a file"
#: Descriptions FastAPI writes itself, replaced by :data:`STATUS_TEXT`.
_GENERIC_DESCRIPTIONS = ("Additional Response", "Validation Error")


def install_schema(app: FastAPI) -> None:
    """Complete the OpenAPI schema: every operation lists the error statuses it can answer,
    each with the :class:`ErrorOut` body (:class:`InvalidOut` for 422)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        template = "#/components/schemas/{model}"
        for model in (ErrorOut, InvalidOut):
            components[model.__name__] = model.model_json_schema(ref_template=template)
        for ctx in iter_route_contexts(app.routes):
            route = ctx.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in ctx.methods or ():
                operation = schema["paths"][ctx.path_format][method.lower()]
                _document_errors(operation, implied_statuses(route, method, operation))
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(operation: dict[str, Any], statuses: set[int]) -> None:
    """Give ``operation`` each of ``statuses`` and every error status the error body."""
    answers: dict[str, Any] = operation.setdefault("responses", {})
    for status in statuses:
        answers.setdefault(str(status), {})
    for code, answer in answers.items():
        if not code.isdigit() or int(code) < 400:
            continue
        status = int(code)
        model = "InvalidOut" if status == 422 else "ErrorOut"
        if answer.get("description") in (None, "", *_GENERIC_DESCRIPTIONS):
            answer["description"] = STATUS_TEXT.get(status, "Error.")
        answer["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}
        }


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

    async def _unavailable(_request: Request, exc: Exception) -> Response:
        error = unavailable_from(exc)
        log.warning("%s", error)
        response = _json(503, str(error), hint=error.hint)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    for unavailable in UNAVAILABLE_ERRORS:
        app.add_exception_handler(unavailable, _unavailable)

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
        if exc.status_code == 400:  # only the framework raises it: a body it cannot parse
            problem = {"where": "body", "problem": f"cannot be read ({exc.detail}): {_BODY_HINT}"}
            return _json(422, "invalid request", problems=[problem])
        response = _json(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", incident, request.method, request.url.path)
        return _json(500, "internal error", incident=incident)
