"""The audit log: every write, with who, when, what and from where."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmat.platform.models import AuditEntry


def utcnow() -> datetime:
    """Naive UTC now (the platform database stores naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def record(
    db: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    user_id: int | None = None,
    organisation_id: int | None = None,
    ip: str | None = None,
    status: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit entry to the session (committed with the caller's transaction)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        user_id=user_id,
        organisation_id=organisation_id,
        action=action,
        target=target[:300],
        ip=ip,
        status=status,
        details=details or {},
        note="",
    )
    db.add(entry)
    return entry


def entries(db: Session, limit: int = 100, organisation_id: int | None = None) -> list[AuditEntry]:
    """Newest entries first (optionally only those of one organisation)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if organisation_id is not None:
        query = query.where(AuditEntry.organisation_id == organisation_id)
    return list(db.scalars(query))
