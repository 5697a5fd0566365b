"""Login, logout, the current user and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from critmat.api.rows import from_row
from critmat.platform import accounts
from critmat.platform.models import ApiToken, Session, User
from critmat.server.access import PUBLIC
from critmat.server.deps import (
    SESSION_COOKIE,
    DbDep,
    SettingsDep,
    UserCaller,
    client_ip,
    forget_user,
    require,
    set_session_cookie,
)
from critmat.server.params import NO_NUL, DbId, UtcDateTime

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    organisation_id: int
    organisation: str


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str | None
    expires_at: UtcDateTime | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    revoked: bool


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown once; only its hash is kept.")


def user_out(user: User) -> UserOut:
    return from_row(UserOut, user, organisation=user.organisation.name)


def token_out(row: ApiToken) -> TokenOut:
    return from_row(TokenOut, row)


@router.post(
    "/login",
    response_model=SessionOut,
    dependencies=[require(PUBLIC)],
    responses={
        401: {"description": "wrong credentials"},
        429: {"description": "too many failed logins"},
    },
)
def login(
    body: LoginIn, request: Request, response: Response, db: DbDep, settings: SettingsDep
) -> SessionOut:
    """Open a session: sets the HttpOnly session cookie and returns the CSRF token to send
    as ``X-CSRF-Token`` with every write."""
    try:
        opened = accounts.login(db, settings, body.email, body.password, client_ip(request))
    except accounts.AuthError:
        db.commit()  # keep the audit entry of the failure (the attempt is counted already)
        raise
    set_session_cookie(response, settings, opened.token)
    return SessionOut(
        user=user_out(opened.user), csrf_token=opened.csrf_token, expires_at=opened.expires_at
    )


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, db: DbDep, principal: UserCaller) -> None:
    """End the current session (API tokens are not affected)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token and principal.session_id is not None:
        session = db.get(Session, principal.session_id)
        if session is not None:
            accounts.logout(db, session, client_ip(request))
    forget_user(request, principal.user_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=SessionOut)
def me(db: DbDep, principal: UserCaller) -> SessionOut:
    """The logged-in user, and the session's CSRF token."""
    user = accounts.get_user(db, principal.user_id)
    return SessionOut(user=user_out(user), csrf_token=principal.csrf_token)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(db: DbDep, principal: UserCaller) -> list[TokenOut]:
    """Your API tokens (never the tokens themselves)."""
    user = accounts.get_user(db, principal.user_id)
    return [token_out(t) for t in accounts.list_api_tokens(db, user)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, request: Request, db: DbDep, principal: UserCaller) -> NewTokenOut:
    """Create an API token for scripts; the response is the only time it is shown."""
    user = accounts.get_user(db, principal.user_id)
    row, token = accounts.create_api_token(
        db, user, body.name, days=body.days, ip=client_ip(request)
    )
    return NewTokenOut(**token_out(row).model_dump(), token=token)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: DbId, request: Request, db: DbDep, principal: UserCaller) -> None:
    """Revoke one of your API tokens."""
    user = accounts.get_user(db, principal.user_id)
    accounts.revoke_api_token(db, user, token_id, ip=client_ip(request))
    forget_user(request, user.id)
