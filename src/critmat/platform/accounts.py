"""Organisations, users, sessions and API tokens: the rules, independent of HTTP.

Every function takes an open SQLAlchemy session and leaves committing to the caller (see
:func:`critmat.platform.db.transaction`), so a request or a CLI command is one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from critmat.config import Settings
from critmat.errors import CritmatError, UnknownNameError
from critmat.platform import security
from critmat.platform.audit import record, utcnow
from critmat.platform.models import (
    ApiToken,
    LoginAttempt,
    Organisation,
    Role,
    Session,
    User,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AuthError(CritmatError):
    """Login refused (wrong e-mail or password, disabled account). Deliberately vague."""


class RateLimited(CritmatError):
    """Too many failed logins for this account or address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many failed logins; try again later",
            hint=f"wait {retry_after // 60 + 1} minutes",
        )
        self.retry_after = retry_after


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise UnknownNameError("role", text, [r.value for r in Role]) from None


# -- organisations ---------------------------------------------------------------------------
def create_org(
    db: DbSession,
    name: str,
    *,
    kind: str = "other",
    country: str | None = None,
    actor: str,
    ip: str | None = None,
) -> Organisation:
    clean = name.strip()
    if not clean:
        raise CritmatError("organisation name is empty")
    if db.scalar(select(Organisation).where(func.lower(Organisation.name) == clean.lower())):
        raise CritmatError(f"organisation '{clean}' exists already")
    org = Organisation(name=clean, kind=kind, country=country, created_at=utcnow())
    db.add(org)
    db.flush()
    record(
        db,
        actor=actor,
        action="org.create",
        target=f"org:{org.id}",
        ip=ip,
        organisation_id=org.id,
        details={"name": clean, "kind": kind},
    )
    return org


def get_org(db: DbSession, ref: str | int) -> Organisation:
    """An organisation by id or (case-insensitive) name."""
    org: Organisation | None
    if isinstance(ref, int) or str(ref).isdigit():
        org = db.get(Organisation, int(ref))
    else:
        org = db.scalar(select(Organisation).where(func.lower(Organisation.name) == ref.lower()))
    if org is None:
        names = list(db.scalars(select(Organisation.name).order_by(Organisation.name)))
        raise UnknownNameError("organisation", str(ref), names[:5])
    return org


def list_orgs(db: DbSession) -> list[Organisation]:
    return list(db.scalars(select(Organisation).order_by(Organisation.id)))


# -- users -----------------------------------------------------------------------------------
def create_user(
    db: DbSession,
    email: str,
    password: str,
    *,
    role: Role,
    organisation: Organisation,
    name: str = "",
    actor: str,
    ip: str | None = None,
) -> User:
    address = email.strip().lower()
    if not _EMAIL.match(address):
        raise CritmatError(f"'{email}' is not an e-mail address")
    if db.scalar(select(User).where(User.email == address)):
        raise CritmatError(f"a user with e-mail {address} exists already")
    security.check_password_strength(password)
    user = User(
        email=address,
        name=name,
        role=role.value,
        organisation_id=organisation.id,
        password_hash=security.hash_password(password),
        disabled=False,
        created_at=utcnow(),
    )
    db.add(user)
    db.flush()
    record(
        db,
        actor=actor,
        action="user.create",
        target=f"user:{user.id}",
        ip=ip,
        organisation_id=organisation.id,
        details={"email": address, "role": role.value},
    )
    return user


def get_user(db: DbSession, ref: str | int) -> User:
    user: User | None
    if isinstance(ref, int) or str(ref).isdigit():
        user = db.get(User, int(ref))
    else:
        user = db.scalar(select(User).where(User.email == ref.strip().lower()))
    if user is None:
        raise UnknownNameError("user", str(ref))
    return user


def list_users(db: DbSession, organisation_id: int | None = None) -> list[User]:
    query = select(User).order_by(User.id)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(db.scalars(query))


def set_disabled(
    db: DbSession, user: User, disabled: bool, *, actor: str, ip: str | None = None
) -> User:
    """Disable (or enable) a user; disabling also ends their sessions and revokes tokens."""
    user.disabled = disabled
    if disabled:
        db.execute(delete(Session).where(Session.user_id == user.id))
        for token in db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
            token.revoked = True
    record(
        db,
        actor=actor,
        action="user.disable" if disabled else "user.enable",
        target=f"user:{user.id}",
        ip=ip,
        organisation_id=user.organisation_id,
    )
    return user


# -- login and sessions ----------------------------------------------------------------------
@dataclass(frozen=True)
class NewSession:
    """A session just opened: ``token`` goes into the cookie and is never stored."""

    token: str
    csrf_token: str
    user: User
    expires_at: datetime


def _check_rate(db: DbSession, settings: Settings, email: str, ip: str | None) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    by_email = db.scalar(
        select(func.count()).where(LoginAttempt.email == email, LoginAttempt.at >= since)
    )
    by_ip = 0
    if ip:
        by_ip = (
            db.scalar(select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since))
            or 0
        )
    # An address may try several accounts (an office behind one NAT): allow it 4× the budget.
    if (by_email or 0) >= settings.login_max_failures or by_ip >= 4 * settings.login_max_failures:
        raise RateLimited(settings.login_window_seconds)


def login(
    db: DbSession, settings: Settings, email: str, password: str, ip: str | None
) -> NewSession:
    """Check the password and open a server-side session.

    Failures are counted per account and per address; past the limit the login is refused
    with :class:`RateLimited` before the password is even checked.
    """
    address = email.strip().lower()
    _check_rate(db, settings, address, ip)
    user = db.scalar(select(User).where(User.email == address))
    valid = security.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or user.disabled:
        db.add(LoginAttempt(email=address, ip=ip, at=utcnow()))
        record(
            db,
            actor=address or "?",
            action="auth.login_failed",
            ip=ip,
            user_id=user.id if user else None,
            organisation_id=user.organisation_id if user else None,
        )
        raise AuthError("wrong e-mail or password, or the account is disabled")
    now = utcnow()
    token, csrf = security.new_token(), security.new_token()
    expires = now + timedelta(seconds=settings.session_max_seconds)
    db.add(
        Session(
            token_hash=security.token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            ip=ip,
        )
    )
    user.last_login_at = now
    record(
        db,
        actor=user.email,
        action="auth.login",
        target=f"user:{user.id}",
        ip=ip,
        user_id=user.id,
        organisation_id=user.organisation_id,
    )
    return NewSession(token, csrf, user, expires)


def session_for(db: DbSession, settings: Settings, token: str) -> Session | None:
    """The live session behind a cookie token, touched; ``None`` when unknown or expired.

    A session expires at its absolute end or after ``session_idle_seconds`` without use.
    """
    session = db.scalar(select(Session).where(Session.token_hash == security.token_hash(token)))
    if session is None:
        return None
    now = utcnow()
    idle_limit = session.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
    if now >= session.expires_at or now >= idle_limit or session.user.disabled:
        db.delete(session)
        return None
    session.last_seen_at = now
    return session


def logout(db: DbSession, session: Session, ip: str | None) -> None:
    user = session.user
    db.delete(session)
    record(
        db,
        actor=user.email,
        action="auth.logout",
        target=f"user:{user.id}",
        ip=ip,
        user_id=user.id,
        organisation_id=user.organisation_id,
    )


# -- API tokens ------------------------------------------------------------------------------
def create_api_token(
    db: DbSession, user: User, name: str, *, days: int | None = None, ip: str | None = None
) -> tuple[ApiToken, str]:
    """A new API token for ``user``; returns the row and the token (shown once)."""
    if days is not None and not 1 <= days <= 3650:
        raise CritmatError("token lifetime must be between 1 and 3650 days")
    token = security.new_api_token()
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=name.strip()[:100] or "token",
        prefix=token[:12],
        token_hash=security.token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
        revoked=False,
    )
    db.add(row)
    db.flush()
    record(
        db,
        actor=user.email,
        action="token.create",
        target=f"token:{row.id}",
        ip=ip,
        user_id=user.id,
        organisation_id=user.organisation_id,
        details={"name": row.name},
    )
    return row, token


def user_for_api_token(db: DbSession, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == security.token_hash(token)))
    if row is None or row.revoked or row.user.disabled:
        return None
    now = utcnow()
    if row.expires_at is not None and now >= row.expires_at:
        return None
    row.last_used_at = now
    return row.user


def revoke_api_token(db: DbSession, user: User, token_id: int, ip: str | None = None) -> None:
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise UnknownNameError("API token", str(token_id))
    row.revoked = True
    record(
        db,
        actor=user.email,
        action="token.revoke",
        target=f"token:{row.id}",
        ip=ip,
        user_id=user.id,
        organisation_id=user.organisation_id,
    )


def list_api_tokens(db: DbSession, user: User) -> list[ApiToken]:
    return list(
        db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )
