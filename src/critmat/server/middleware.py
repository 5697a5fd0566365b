"""ASGI middleware: request-body size limit, OPTIONS answers and security headers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from critmat.server.deps import ACCESS_HEADER

#: Whether the request of a scope carries valid credentials (an API token or a session).
Authenticated = Callable[[Scope], Awaitable[bool]]
#: Methods a route may answer, in the order the ``Allow`` header lists them.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        # Plotly needs inline styles and eval-free JS; ReDoc's search runs in a worker it
        # builds from a blob. Everything is served from here.
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; object-src 'none'; "
        b"frame-ancestors 'none'",
    ),
]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed.

    POSTs to paths ending in one of ``upload_suffixes`` (file uploads) may be up to
    ``upload_bytes`` (bytes) — but only from a caller that ``authenticated`` admits, checked
    from the headers before a byte of the body is read: an anonymous upload over
    ``max_bytes`` is refused at once with 401. A declared ``Content-Length`` over the limit is
    refused before the body is read; a chunked body is cut off at the limit. The route itself
    then checks what the file may hold.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int | None = None,
        upload_suffixes: tuple[str, ...] = (),
        authenticated: Authenticated | None = None,
    ) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.upload_bytes = upload_bytes or max_bytes
        self.upload_suffixes = upload_suffixes
        self.authenticated = authenticated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", "")).rstrip("/")
        is_upload = scope.get("method") == "POST" and path.endswith(self.upload_suffixes)
        limit = self.default_bytes
        declared = _declared_length(scope)
        if is_upload and (declared is None or declared > limit):
            if self.authenticated is None or await self.authenticated(scope):
                limit = self.upload_bytes
            elif declared is not None:
                denied = [(ACCESS_HEADER.lower().encode(), b"denied")]
                await _send_json(send, 401, _LOGIN_FOR_UPLOAD, denied)
                return
        if declared is not None and declared > limit:
            await _send_json(send, 413, _too_large(limit))
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:  # read outside a route (the exception handlers answer inside)
            await _send_json(send, 413, _too_large(limit))


class BodyTooLarge(HTTPException):
    """A streamed body went over the limit: 413 (an HTTP error, so routes do not turn it
    into a 400 "error parsing the body")."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit)["error"])


_LOGIN_FOR_UPLOAD = {
    "error": "login required",
    "hint": "log in, or send 'Authorization: Bearer <token>', before uploading a file "
    "larger than the request-body limit",
}


def _declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` of the request (bytes); a malformed one counts as endless."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return max(int(value), 0)
            except ValueError:
                return 2**63
    return None


def _too_large(limit: int) -> dict[str, str]:
    return {
        "error": f"request body larger than {limit} bytes",
        "hint": "send a smaller body; files for an assessment go to "
        "POST /api/v1/orgs/{org_id}/assessments",
    }


async def _send_json(
    send: Send, status: int, body: dict[str, str], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class Options:
    """Answer ``OPTIONS`` on every path the app serves: 204 with ``Allow`` listing the methods
    of that path (the same answer to a CORS preflight: no ``Access-Control-Allow-*`` header,
    as the service grants no other origin). Unknown paths go on to the 404."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(scope)
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join([*methods, "OPTIONS"]).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", allow), (b"cache-control", b"max-age=3600")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def allowed_methods(scope: Scope) -> list[str]:
    """The methods the routes of ``scope["app"]`` answer on the scope's path (static files:
    GET and HEAD)."""
    routes = scope["app"].router.routes
    found: list[str] = []
    for method in METHODS:
        probe = {**scope, "method": method}
        for route in routes:
            match, _child = route.matches(probe)
            if match is Match.FULL:
                if isinstance(route, Mount):
                    return ["GET", "HEAD"]
                found.append(method)
                break
    return found


class SecurityHeaders:
    """Add :data:`SECURITY_HEADERS` to every answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
