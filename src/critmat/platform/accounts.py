"""Organisations, users, sessions and API tokens: the rules, independent of HTTP.

Every function takes an open SQLAlchemy session and leaves committing to the caller (see
:func:`critmat.platform.db.transaction`), so a request or a CLI command is one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Result,
    Select,
    bindparam,
    case,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from critmat.config import Settings
from critmat.errors import CritmatError, UnknownNameError
from critmat.platform import security
from critmat.platform.audit import record, utcnow
from critmat.platform.db import quick_read_engine, unavailable_from
from critmat.platform.models import (
    ApiToken,
    LoginThrottle,
    Organisation,
    Role,
    Session,
    User,
)

_Row = TypeVar("_Row", Organisation, User)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AuthError(CritmatError):
    """Login refused (wrong e-mail or password, disabled account). Deliberately vague."""


class RateLimited(CritmatError):
    """Too many login attempts for this account from this address, or from this address."""

    def __init__(self, retry_after: int, source: str) -> None:
        super().__init__(
            f"too many login attempts for {source}; try again later",
            hint=f"wait {retry_after // 60 + 1} minutes, or ask an administrator to run "
            "`critmat users unlock EMAIL`",
        )
        self.retry_after = retry_after


class LastAdminError(CritmatError):
    """Disabling this user would leave the platform without an active administrator."""


#: An address may try several accounts (an office behind one NAT): it gets this many times
#: the budget of one account.
ADDRESS_FACTOR = 4


def _rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


#: How an audit entry names the row it is about: ``<prefix>:<id>``.
_TARGET_PREFIX: dict[type[Organisation | User | ApiToken], str] = {
    Organisation: "org",
    User: "user",
    ApiToken: "token",
}


def _target(row: Organisation | User | ApiToken) -> str:
    """How an audit entry names ``row``: ``org:3``, ``user:7``, ``token:12``."""
    return f"{_TARGET_PREFIX[type(row)]}:{row.id}"


def _organisation_of(row: Organisation | User | ApiToken) -> int:
    """The organisation an entry about administering ``row`` is filed under."""
    if isinstance(row, Organisation):
        return row.id
    if isinstance(row, User):
        return row.organisation_id
    raise TypeError("an API token is audited only as its owner's own action")


def _record_on(
    db: DbSession,
    subject: Organisation | User | ApiToken,
    action: str,
    *,
    actor: User | str,
    ip: str | None = None,
    user_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit ``action`` on ``subject`` by ``actor``: a user acting on their own account (log
    in or out, make or revoke a token; the entry is theirs and filed under their organisation)
    or the name of whoever administers an organisation or a user (an admin's e-mail, the CLI;
    filed under that organisation, naming ``user_id`` only when given)."""
    if isinstance(actor, User):
        name, user_id, organisation_id = actor.email, actor.id, actor.organisation_id
    else:
        name, organisation_id = actor, _organisation_of(subject)
    record(
        db,
        name,
        action,
        target=_target(subject),
        ip=ip,
        user_id=user_id,
        organisation_id=organisation_id,
        details=details,
    )


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
    _record_on(db, org, "org.create", actor=actor, ip=ip, details={"name": clean, "kind": kind})
    return org


def _by_id_or(
    db: DbSession, model: type[_Row], ref: str | int, by_name: Callable[[str], Any]
) -> _Row | None:
    """The row of ``model`` whose id is ``ref`` (an int or a text of digits), else the one
    ``by_name(ref)`` (a WHERE condition) selects; ``None`` when there is none."""
    if isinstance(ref, int) or str(ref).isdigit():
        return db.get(model, int(ref))
    return db.scalar(select(model).where(by_name(ref)))


def get_org(db: DbSession, ref: str | int) -> Organisation:
    """An organisation by id or (case-insensitive) name."""
    org = _by_id_or(
        db, Organisation, ref, lambda name: func.lower(Organisation.name) == name.lower()
    )
    if org is None:
        raise unknown_organisation(db.connection(), ref)
    return org


def unknown_organisation(conn: Connection, ref: str | int) -> UnknownNameError:
    """The error for an organisation ``ref`` that does not exist, naming a few that do."""
    names = conn.execute(select(Organisation.name).order_by(Organisation.name).limit(5))
    return UnknownNameError("organisation", str(ref), list(names.scalars()))


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
    details = {"email": address, "role": role.value}
    _record_on(db, user, "user.create", actor=actor, ip=ip, details=details)
    return user


def get_user(db: DbSession, ref: str | int) -> User:
    """A user by id or (case-insensitive) e-mail address."""
    user = _by_id_or(db, User, ref, lambda email: User.email == email.strip().lower())
    if user is None:
        raise UnknownNameError("user", str(ref))
    return user


def list_users(db: DbSession, organisation_id: int | None = None) -> list[User]:
    query = select(User).order_by(User.id)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    return list(db.scalars(query))


def revoke_credentials(db: DbSession, user_id: int) -> None:
    """Raise the user's revocation stamp: every cached caller of this user is re-checked
    against the database on its next request (in every process)."""
    db.execute(
        update(User)
        .where(User.id == user_id)
        .values(auth_version=User.auth_version + 1)
        .execution_options(synchronize_session=False)
    )


def _active_admins() -> Select[int]:
    return select(User.id).where(User.role == Role.admin.value, User.disabled.is_(False))


def _keep_an_active_admin(db: DbSession, user: User) -> None:
    """Refuse (before commit) when disabling ``user`` leaves no active administrator.

    The active admins are locked first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite takes
    its single write lock with the flush), so two admins disabling each other at the same
    moment cannot both succeed.
    """
    db.execute(_active_admins().with_for_update())
    user.disabled = True
    db.flush()
    remaining = db.scalar(select(func.count()).select_from(_active_admins().subquery()))
    if not remaining:
        raise LastAdminError(
            f"{user.email} is the last active administrator; disabling it would leave "
            "nobody able to administer the platform",
            hint="add another admin first (`critmat users add EMAIL --role admin --org ORG`)",
        )


def set_disabled(
    db: DbSession, user: User, disabled: bool, *, actor: str, ip: str | None = None
) -> User:
    """Disable (or enable) a user; disabling also ends their sessions and revokes tokens.

    Raises :class:`LastAdminError` (nothing changed once the caller rolls back) when the
    user is the last active admin.
    """
    if disabled and not user.disabled and user.role == Role.admin.value:
        _keep_an_active_admin(db, user)
    user.disabled = disabled
    if disabled:
        db.execute(delete(Session).where(Session.user_id == user.id))
        for token in db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
            token.revoked = True
    revoke_credentials(db, user.id)
    _record_on(db, user, "user.disable" if disabled else "user.enable", actor=actor, ip=ip)
    return user


# -- login and sessions ----------------------------------------------------------------------
@dataclass(frozen=True)
class NewSession:
    """A session just opened: ``token`` goes into the cookie and is never stored."""

    token: str
    csrf_token: str
    user: User
    expires_at: datetime


def _pair_key(email: str, ip: str | None) -> str:
    return f"pair:{email}|{ip or '-'}"


def _address_key(ip: str | None) -> str:
    return f"addr:{ip or '-'}"


def _upsert(bind: Connection) -> sqlite.Insert | postgresql.Insert:
    """``INSERT INTO login_throttle`` in the dialect of ``bind`` (both know ON CONFLICT)."""
    name = bind.dialect.name
    if name == "postgresql":
        return postgresql.insert(LoginThrottle)
    if name == "sqlite":
        return sqlite.insert(LoginThrottle)
    raise CritmatError(f"the login throttle does not support {name} databases")


def _count_attempt(
    bind: Connection, key: str, email: str | None, now: datetime, since: datetime
) -> tuple[int, datetime]:
    """Add one attempt to ``key`` in a single atomic statement; return (attempts, window start).

    A window older than ``since`` starts again at ``now`` with this attempt. Concurrent
    callers are serialised by the database on the row, so each sees a distinct count.
    """
    row = LoginThrottle
    expired = row.window_start < since
    statement = (
        _upsert(bind)
        .values(key=key, email=email, attempts=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[row.key],
            set_={
                "attempts": case((expired, 1), else_=row.attempts + 1),
                "window_start": case((expired, now), else_=row.window_start),
            },
        )
        .returning(row.attempts, row.window_start)
    )
    attempts, start = bind.execute(statement).one()
    return int(attempts), start


def _reserve_attempt(db: DbSession, settings: Settings, email: str, ip: str | None) -> None:
    """Count this attempt for its address and for its (account, address) pair, committed at
    once in a transaction of its own, *before* the password is checked.

    Raises :class:`RateLimited` past ``ADDRESS_FACTOR × login_max_failures`` attempts from the
    address or ``login_max_failures`` for the pair within ``login_window_seconds``. A fresh
    address keeps its own budget for the account, so an attacker cannot lock the owner out.
    A refused attempt is rolled back with its transaction: refusals do not prolong anything.
    """
    window = settings.login_window_seconds
    now = utcnow()
    since = now - timedelta(seconds=window)
    limits = (
        (_address_key(ip), None, ADDRESS_FACTOR * settings.login_max_failures, "your address"),
        (_pair_key(email, ip), email, settings.login_max_failures, "this account from here"),
    )
    with DbSession(bind=db.get_bind()) as counter, counter.begin():
        for key, owner, limit, source in limits:
            attempts, start = _count_attempt(counter.connection(), key, owner, now, since)
            if attempts > limit:
                left = start + timedelta(seconds=window) - now
                raise RateLimited(max(1, int(left.total_seconds()) + 1), source)


def _release_attempt(db: DbSession, settings: Settings, email: str, ip: str | None) -> None:
    """After a successful login: the pair starts afresh, the address gets its attempt back,
    and windows that ended are deleted."""
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    db.execute(delete(LoginThrottle).where(LoginThrottle.key == _pair_key(email, ip)))
    db.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == _address_key(ip), LoginThrottle.attempts > 0)
        .values(attempts=LoginThrottle.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.window_start < since)
        .execution_options(synchronize_session=False)
    )


def unlock(db: DbSession, email: str, *, address: str | None = None, actor: str) -> int:
    """Clear the login throttle of account ``email`` (from every address) and, if given, of
    ``address`` for all accounts; returns the number of counters removed."""
    user = get_user(db, email)
    condition = LoginThrottle.email == user.email
    if address:
        condition = condition | (LoginThrottle.key == _address_key(address))
    removed = _rowcount(
        db.execute(
            delete(LoginThrottle).where(condition).execution_options(synchronize_session=False)
        )
    )
    details = {"address": address} if address else {}
    _record_on(db, user, "user.unlock", actor=actor, user_id=user.id, details=details)
    return removed


def login(
    db: DbSession, settings: Settings, email: str, password: str, ip: str | None
) -> NewSession:
    """Check the password and open a server-side session.

    The attempt is counted (and committed) before the password is checked, per address and
    per account-and-address; past a limit :class:`RateLimited` is raised without checking.
    A successful login resets the account-and-address counter.
    """
    address = email.strip().lower()
    _reserve_attempt(db, settings, address, ip)
    user = db.scalar(select(User).where(User.email == address))
    valid = security.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or user.disabled:
        record(
            db,
            address or "?",
            "auth.login_failed",
            ip=ip,
            user_id=user.id if user else None,
            organisation_id=user.organisation_id if user else None,
        )
        raise AuthError("wrong e-mail or password, or the account is disabled")
    _release_attempt(db, settings, address, ip)
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
    _record_on(db, user, "auth.login", actor=user, ip=ip)
    return NewSession(token, csrf, user, expires)


def session_for(db: DbSession, settings: Settings, token: str) -> Session | None:
    """The live session behind a cookie token, touched; ``None`` when unknown or expired.

    A session expires at its absolute end or after ``session_idle_seconds`` without use.
    """
    # One statement for the session and its user, so the user's revocation stamp read here
    # belongs to the same snapshot as the session row.
    session = db.scalar(
        select(Session)
        .options(joinedload(Session.user))
        .where(Session.token_hash == security.token_hash(token))
    )
    if session is None:
        return None
    now = utcnow()
    idle_limit = session.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
    this = Session.id == session.id
    if now >= session.expires_at or now >= idle_limit or session.user.disabled:
        db.execute(delete(Session).where(this).execution_options(synchronize_session=False))
        return None
    # A statement, not an attribute: the session may be deleted meanwhile (a logout, the user
    # disabled), and then it is simply no longer valid.
    touched = db.execute(
        update(Session)
        .where(this)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    if not _rowcount(touched):
        return None
    set_committed_value(session, "last_seen_at", now)
    return session


def logout(db: DbSession, session: Session, ip: str | None) -> None:
    """End ``session``; cached callers of its user are re-checked on their next request."""
    user = session.user
    db.delete(session)
    revoke_credentials(db, user.id)
    _record_on(db, user, "auth.logout", actor=user, ip=ip)


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
    _record_on(db, row, "token.create", actor=user, ip=ip, details={"name": row.name})
    return row, token


def api_token_for(db: DbSession, token: str) -> ApiToken | None:
    """The live API token row (with its user, read in the same statement), touched; ``None``
    when unknown, revoked, expired or its user is disabled."""
    row = db.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == security.token_hash(token))
    )
    if row is None or row.revoked or row.user.disabled:
        return None
    now = utcnow()
    if row.expires_at is not None and now >= row.expires_at:
        return None
    row.last_used_at = now
    return row


def user_for_api_token(db: DbSession, token: str) -> User | None:
    """The user behind a live API token (see :func:`api_token_for`)."""
    row = api_token_for(db, token)
    return None if row is None else row.user


class AuthStamps:
    """Reads users' revocation stamps as cheaply as the database allows.

    The service reads the stamp on every request it answers from its caller cache, inline on
    the event loop, so this stays off the ORM and off the shared pool: it uses
    :func:`~critmat.platform.db.quick_read_engine` (no pre-ping: a dropped connection is
    replaced and the read retried once) and a statement compiled once and sent through the
    driver's cursor.
    """

    def __init__(self, url: str) -> None:
        self._engine = quick_read_engine(url)
        query = select(User.auth_version, User.disabled).where(User.id == bindparam("user_id"))
        compiled = query.compile(dialect=self._engine.dialect)
        self._sql = compiled.string
        self._positional = compiled.positiontup
        self._construct = compiled.construct_params
        self._errors: type[Exception] = self._engine.dialect.loaded_dbapi.Error

    def _params(self, user_id: int) -> Any:
        values = self._construct({"user_id": user_id})
        if self._positional is None:
            return values
        return tuple(values[name] for name in self._positional)

    def _read_once(self, user_id: int) -> tuple[Any, ...] | None:
        conn = self._engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(self._sql, self._params(user_id))
                row: tuple[Any, ...] | None = cursor.fetchone()
            finally:
                cursor.close()
        except self._errors:
            conn.invalidate()  # broken (server restarted, timeout): never back into the pool
            raise
        finally:
            conn.close()
        return row

    def read(self, user_id: int) -> int | None:
        """The user's revocation stamp, or ``None`` when the user is gone or disabled (one
        primary-key read; retried once on a fresh connection if the first one fails).

        Raises :class:`~critmat.errors.PlatformUnavailable` when the database cannot answer.
        """
        try:
            try:
                row = self._read_once(user_id)
            except self._errors:
                row = self._read_once(user_id)
        except (self._errors, PoolTimeout) as exc:
            raise unavailable_from(exc) from exc
        if row is None or row[1]:
            return None
        return int(row[0])


@cache
def auth_stamps(url: str) -> AuthStamps:
    """The stamp reader of the platform database at ``url`` (one per URL and process)."""
    return AuthStamps(url)


def revoke_api_token(db: DbSession, user: User, token_id: int, ip: str | None = None) -> None:
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise UnknownNameError("API token", str(token_id))
    row.revoked = True
    revoke_credentials(db, user.id)
    _record_on(db, row, "token.revoke", actor=user, ip=ip)


def list_api_tokens(db: DbSession, user: User) -> list[ApiToken]:
    return list(
        db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )
