"""Shared dependencies: settings, database session, analytics store, the current principal
and the access check (:func:`allow`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session as DbSession

from critmat.api.access import ADMIN, LOGGED_IN, OWN_ORG, PUBLIC, AccessRule
from critmat.config import Settings
from critmat.platform import accounts, security
from critmat.platform.db import session_factory
from critmat.platform.models import Role, User
from critmat.store import Store

SESSION_COOKIE = "critmat_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
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


DbDep = Annotated[DbSession, Depends(get_db)]


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

    @property
    def actor(self) -> str:
        return self.email


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _principal_from(
    user: User, via: str, csrf: str | None = None, session_id: int | None = None
) -> Principal:
    return Principal(
        user.id, user.email, Role(user.role), user.organisation_id, via, csrf, session_id
    )


def current_principal(request: Request, db: DbDep, settings: SettingsDep) -> Principal | None:
    """The caller, from ``Authorization: Bearer <token>`` or the session cookie; else None."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = accounts.user_for_api_token(db, header[7:].strip())
        if user is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or expired API token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return _principal_from(user, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = accounts.session_for(db, settings, cookie)
        if session is not None:
            return _principal_from(session.user, "session", session.csrf_token, session.id)
        db.commit()  # an expired session was removed; keep that even if the request fails
    return None


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
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def allow(rule: AccessRule) -> Callable[..., Awaitable[Principal | None]]:
    """A dependency that enforces ``rule`` and returns the caller (None on public routes)."""

    async def check(request: Request, principal: PrincipalDep) -> Principal | None:
        if rule.public:
            return principal
        if principal is None:
            raise LoginRequired()
        if principal.role not in rule.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"your role ({principal.role.value}) may not do this"
            )
        if rule.own_org_param is not None and principal.role is not Role.admin:
            raw: Any = request.path_params.get(rule.own_org_param)
            if raw is None or str(raw) != str(principal.organisation_id):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, "this belongs to another organisation"
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
