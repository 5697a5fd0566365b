"""The audit log: every write, with who, when, what and from where.

Some entries describe data that fewer people may see than the organisation's members: an
``assessment.*`` entry names a company assessment, its file, sha256, line count and author, which
only the organisation's company users and admins may see. Readers pass the action prefixes the
caller may not see (``hide_actions``); the API decides them from the data's access rule
(``critmat.api.routes.admin.hidden_audit_actions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmat.platform.models import AuditEntry

#: Action prefix of the entries about company assessments (``assessment.create``, ...).
ASSESSMENT_ACTIONS = "assessment."


def utcnow() -> datetime:
    """Naive UTC now (the platform database stores naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def record(
    db: Session,
    actor: str,
    action: str,
    *,
    target: str = "",
    user_id: int | None = None,
    organisation_id: int | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add the entry "``actor`` did ``action``" to the session (committed with the caller's
    transaction). ``actor`` is what the log shows: a user's e-mail address, ``cli``, or the
    e-mail a failed login typed; ``user_id`` and ``organisation_id`` file the entry."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        user_id=user_id,
        organisation_id=organisation_id,
        action=action,
        target=target[:300],
        ip=ip,
        details=details or {},
        note="",
    )
    db.add(entry)
    return entry


def entries(
    db: Session,
    limit: int = 100,
    organisation_id: int | None = None,
    hide_actions: Sequence[str] = (),
) -> list[AuditEntry]:
    """The newest ``limit`` entries first, optionally only those of one organisation and without
    those whose action starts with one of ``hide_actions`` (filtered in the query, so a hidden
    entry never takes the place of a visible one)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if organisation_id is not None:
        query = query.where(AuditEntry.organisation_id == organisation_id)
    for prefix in hide_actions:
        query = query.where(~AuditEntry.action.startswith(prefix, autoescape=True))
    return list(db.scalars(query))
