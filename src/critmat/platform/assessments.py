"""Company assessments stored per organisation (table ``assessments``).

An assessment belongs to one organisation: every query here is scoped by ``organisation_id``,
so a caller can only reach its own organisation's assessments through this module (the routes
add the role rule: the organisation's company users and admins). Every write is recorded in the
audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from critmat.errors import NoDataError
from critmat.platform import audit
from critmat.platform.models import Assessment

#: Columns of a listing (everything but the result JSON).
SUMMARY_FIELDS = (
    "id",
    "organisation_id",
    "created_by_email",
    "created_at",
    "name",
    "input_filename",
    "input_sha256",
    "importer",
    "year",
    "lines",
    "method",
)


class AssessmentNotFound(NoDataError):
    """No assessment with this id in this organisation (another organisation's looks the same)."""


def create(
    db: Session,
    *,
    organisation_id: int,
    user_id: int | None,
    actor: str,
    name: str,
    result: dict[str, Any],
    ip: str | None = None,
) -> Assessment:
    """Store ``result`` (a ``CompanyAssessment`` as JSON) and record the write."""
    entry = Assessment(
        organisation_id=organisation_id,
        created_by=user_id,
        created_by_email=actor,
        created_at=audit.utcnow(),
        name=name[:200],
        input_filename=str(result["input_filename"])[:255],
        input_sha256=str(result["input_sha256"]),
        importer=str(result["importer"])[:100],
        year=int(result["year"]),
        lines=len(result.get("lines", [])),
        method=str(result.get("method", ""))[:40],
        result=result,
    )
    db.add(entry)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="assessment.create",
        target=f"assessment {entry.id}: {entry.name}",
        user_id=user_id,
        organisation_id=organisation_id,
        ip=ip,
        details={
            "assessment_id": entry.id,
            "input_filename": entry.input_filename,
            "input_sha256": entry.input_sha256,
            "lines": entry.lines,
            "importer": entry.importer,
            "year": entry.year,
        },
    )
    return entry


def list_for(db: Session, organisation_id: int, limit: int = 200) -> list[Assessment]:
    """The organisation's assessments, newest first."""
    query = (
        select(Assessment)
        .where(Assessment.organisation_id == organisation_id)
        .order_by(Assessment.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def get(db: Session, organisation_id: int, assessment_id: int) -> Assessment:
    """One assessment of the organisation; :class:`AssessmentNotFound` otherwise."""
    entry = db.scalar(
        select(Assessment).where(
            Assessment.id == assessment_id, Assessment.organisation_id == organisation_id
        )
    )
    if entry is None:
        raise AssessmentNotFound(
            f"no assessment {assessment_id} in organisation {organisation_id}",
            hint="list them at /api/v1/orgs/{org_id}/assessments",
        )
    return entry


def summary(entry: Assessment) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in SUMMARY_FIELDS}
