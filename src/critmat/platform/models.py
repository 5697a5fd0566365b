"""Tables of the platform database (SQLAlchemy 2 declarative models).

Secrets are never stored: passwords as argon2 hashes, session and API tokens as sha256 hashes.
Times are naive UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Role(StrEnum):
    """What a user may do. Every capability names the roles its routes allow.

    ``admin`` runs the platform; ``analyst`` works for the CRM Centre or an agency;
    ``member_state`` represents a national authority; ``company`` a manufacturer doing its
    supply-chain assessment; ``supplier`` a seller in joint-purchasing rounds.
    """

    admin = "admin"
    analyst = "analyst"
    member_state = "member_state"
    company = "company"
    supplier = "supplier"


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="other")
    country: Mapped[str | None] = mapped_column(String(3), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: Revocation stamp: raised whenever one of the user's credentials stops being valid
    #: (disabled, a session ended, a token revoked). The service caches callers only together
    #: with the stamp they were resolved at and reads it again on every request.
    auth_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship(back_populates="users")


class Session(Base):
    """A browser session: the cookie carries the token, the table its sha256."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A token for scripts (``Authorization: Bearer ...``); only its sha256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Login attempts counted in fixed windows, one row per key.

    Keys are ``pair:<e-mail>|<address>`` (one account from one address; ``email`` is set so
    that ``critmat users unlock`` finds them) and ``addr:<address>`` (all accounts from one
    address). ``attempts`` is raised by a single upsert *before* the password is checked, so
    concurrent attempts cannot overtake the limit.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime, index=True)


class AuditEntry(Base):
    """One write: who (user or CLI), when, what (action, target, details), from where (IP)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Assessment(Base):
    """A company supply-chain assessment (CRMA Art. 24), owned by one organisation.

    The input file itself is not kept: its name and sha256 identify it. ``result_gz`` is the
    :class:`critmat.risk.company.CompanyAssessment` as gzip'd JSON, shown exactly as computed;
    it is *deferred*: a listing reads the summary columns only, the result is loaded when an
    attribute access asks for it (:func:`critmat.platform.assessments.result_json`).
    ``result_bytes`` is its stored (compressed) size.
    """

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_by_email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    name: Mapped[str] = mapped_column(String(200))
    input_filename: Mapped[str] = mapped_column(String(255))
    input_sha256: Mapped[str] = mapped_column(String(64))
    importer: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    lines: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(40))
    result_bytes: Mapped[int] = mapped_column(Integer)
    result_gz: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
