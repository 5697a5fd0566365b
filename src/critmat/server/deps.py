"""Shared dependencies: settings, database session, analytics store, the current principal
and the access check (:func:`allow`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request, Response, status
from sqlalchemy.orm import Session as DbSession
from starlette.concurrency import run_in_threadpool

from critmat.config import Settings
from critmat.platform import accounts, security
from critmat.platform.audit import utcnow
from critmat.platform.db import session_factory, transaction
from critmat.platform.models import Role, User
from critmat.server.access import ADMIN, COMPANY_ASSESSMENTS, LOGGED_IN, OWN_ORG, PUBLIC, AccessRule
from critmat.server.stamps import StampBatcher
from critmat.store import Store

SESSION_COOKIE = "critmat_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Set on every answer refused by an access rule (401, 403 or the redirect to the login page),
#: so clients and tests can tell a refusal from, say, a wrong password or a missing record.
ACCESS_HEADER = "X-Critmat-Access"
DENIED = {ACCESS_HEADER: "denied"}


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_db(request: Request) -> Iterator[DbSession]:
    """A platform-database session per request: committed on success, rolled back on error."""
    settings: Settings = request.app.state.settings
    db = session_factory(settings.platform_url)()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


# scope="function": commit before the response is sent, so a client that follows a
# redirect or reuses a cookie at once finds the write done.
DbDep = Annotated[DbSession, Depends(get_db, scope="function")]


def get_store(request: Request) -> Iterator[Store]:
    """The analytics store through a cursor of the service's shared read-only connection."""
    hub = request.app.state.store_hub
    store = hub.store()
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(get_store)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, and how they proved it (``session`` cookie or API ``token``)."""

    user_id: int
    email: str
    role: Role
    organisation_id: int
    via: str
    csrf_token: str | None = None
    session_id: int | None = None
    #: The user's revocation stamp when the caller was resolved (see ``User.auth_version``).
    auth_version: int = 0

    @property
    def actor(self) -> str:
        return self.email


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _principal_from(
    user: User, via: str, csrf: str | None = None, session_id: int | None = None
) -> Principal:
    return Principal(
        user.id,
        user.email,
        Role(user.role),
        user.organisation_id,
        via,
        csrf,
        session_id,
        user.auth_version,
    )


@dataclass(frozen=True)
class Resolved:
    """A caller resolved against the database, and for how long its credential is valid at
    most (seconds from now; ``None``: no end of its own)."""

    principal: Principal
    valid_for: float | None


class PrincipalCache:
    """Recently resolved callers, keyed by the sha256 of their cookie or token.

    Resolving a caller costs a database round trip and a write of ``last_seen_at``; a
    dashboard sends many requests a second. An entry lives at most ``ttl`` seconds (seconds
    of :func:`time.monotonic`) from its resolution — a hit never extends it — and never past
    the end of its session or token. On every hit the service still reads the user's
    revocation stamp (:class:`critmat.server.stamps.StampBatcher`), so disabling a user,
    ending a session or revoking a token, in any process, takes effect on the next request.
    """

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: str, principal: Principal, valid_for: float | None = None) -> None:
        """Keep ``principal`` for ``ttl`` seconds, or less when ``valid_for`` is shorter."""
        life = self.ttl if valid_for is None else max(0.0, min(self.ttl, valid_for))
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + life, principal)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forget_user(self, user_id: int) -> None:
        with self._lock:
            for key in [k for k, (_t, p) in self._entries.items() if p.user_id == user_id]:
                del self._entries[key]


def _seconds_until(moment: datetime | None) -> float | None:
    return None if moment is None else (moment - utcnow()).total_seconds()


def _resolve_token(settings: Settings, token: str) -> Resolved | None:
    with transaction(settings.platform_url) as db:
        row = accounts.api_token_for(db, token)
        if row is None:
            return None
        return Resolved(_principal_from(row.user, "token"), _seconds_until(row.expires_at))


def _resolve_session(settings: Settings, token: str) -> Resolved | None:
    with transaction(settings.platform_url) as db:
        session = accounts.session_for(db, settings, token)
        if session is None:
            return None  # an expired session was deleted; the transaction keeps that
        idle_end = session.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
        principal = _principal_from(session.user, "session", session.csrf_token, session.id)
        return Resolved(principal, _seconds_until(min(session.expires_at, idle_end)))


async def _still_valid(request: Request, principal: Principal) -> bool:
    """True when the user's revocation stamp, read after this request arrived, is the one the
    cached caller was resolved at (:class:`critmat.server.stamps.StampBatcher`: concurrent
    requests share one read, off the event loop)."""
    stamps: StampBatcher = request.app.state.stamps
    return await stamps.read(principal.user_id) == principal.auth_version


async def _cached_or_resolved(
    request: Request,
    key: str,
    resolve: Callable[[Settings, str], Resolved | None],
    secret: str,
) -> Principal | None:
    """The caller behind ``secret``: from the cache when its revocation stamp still holds
    (one indexed read, shared with concurrent requests), else resolved against the database
    (in the thread pool) and cached afresh."""
    settings: Settings = request.app.state.settings
    cache: PrincipalCache = request.app.state.principals
    cached = cache.get(key)
    if cached is not None:
        if await _still_valid(request, cached):
            return cached
        cache.forget(key)
    resolved = await run_in_threadpool(resolve, settings, secret)
    if resolved is None:
        return None
    cache.put(key, resolved.principal, resolved.valid_for)
    return resolved.principal


async def current_principal(request: Request) -> Principal | None:
    """The caller, from ``Authorization: Bearer <token>`` or the session cookie; else None.

    See :class:`PrincipalCache`: a credential revoked in any process is refused on the next
    request.
    """
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        key = "t:" + security.token_hash(token)
        principal = await _cached_or_resolved(request, key, _resolve_token, token)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or expired API token",
                headers={"WWW-Authenticate": "Bearer", **DENIED},
            )
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        key = "s:" + security.token_hash(cookie)
        return await _cached_or_resolved(request, key, _resolve_session, cookie)
    return None


def forget_user(request: Request, user_id: int) -> None:
    """Drop cached callers of ``user_id`` (after logout, disabling, revoking a token)."""
    cache: PrincipalCache = request.app.state.principals
    cache.forget_user(user_id)


PrincipalDep = Annotated[Principal | None, Depends(current_principal)]


class LoginRequired(Exception):
    """Not logged in: the API answers 401, web pages redirect to the login page."""


async def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "session" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not principal.csrf_token or not security.same(sent, principal.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token", DENIED)


def allow(rule: AccessRule) -> Callable[..., Awaitable[Principal | None]]:
    """A dependency that enforces ``rule`` and returns the caller (None on public routes)."""

    # The caller is resolved here rather than through a sub-dependency: one dependency fewer
    # to solve on every request. (Not kept for the request: an upload's caller, resolved by
    # the body limit before the body, is checked again once the body is in.)
    async def check(request: Request) -> Principal | None:
        principal = await current_principal(request)
        if rule.public:
            return principal
        if principal is None:
            raise LoginRequired()
        if principal.role not in rule.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"your role ({principal.role.value}) may not do this",
                DENIED,
            )
        if rule.own_org_param is not None and principal.role is not Role.admin:
            raw: Any = request.path_params.get(rule.own_org_param)
            if raw is None or str(raw) != str(principal.organisation_id):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, "this belongs to another organisation", DENIED
                )
        await _check_csrf(request, principal)
        return principal

    check.access_rule = rule  # type: ignore[attr-defined]
    return check


def require(rule: AccessRule) -> Any:
    """``Depends(allow(rule))`` typed as the principal, for route signatures."""
    return Depends(allow(rule))


# Route signatures take the caller through these (the rule is part of the type):
PublicCaller = Annotated[Principal | None, Depends(allow(PUBLIC))]
UserCaller = Annotated[Principal, Depends(allow(LOGGED_IN))]
AdminCaller = Annotated[Principal, Depends(allow(ADMIN))]
OwnOrgCaller = Annotated[Principal, Depends(allow(OWN_ORG))]


def set_private_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int,
    samesite: Literal["lax", "strict"],
    path: str,
) -> None:
    """Set a cookie that scripts cannot read (HTTP-only), sent over HTTPS only when the
    service says so (``settings.secure_cookies``); ``max_age`` in seconds."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite=samesite,
        secure=settings.secure_cookies,
        path=path,
    )


def set_session_cookie(response: Response, settings: SettingsDep, token: str) -> None:
    """Set the HTTP-only session cookie of a web login (lifetime: the session's, in s)."""
    set_private_cookie(
        response,
        settings,
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_seconds,
        samesite="lax",
        path="/",
    )


CompanyCaller = Annotated[Principal, Depends(allow(COMPANY_ASSESSMENTS))]
