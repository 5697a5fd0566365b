"""Company assessments stored per organisation (table ``assessments``).

An assessment belongs to one organisation: every query here is scoped by ``organisation_id``,
so a caller can only reach its own organisation's assessments through this module (the routes
add the role rule: the organisation's company users and admins). Every write is recorded in the
audit log.

Results are stored as gzip'd JSON (:func:`compress_result`) in a deferred column: listings read
the summary columns only, and :func:`result_json` / :func:`result_of` unpack one result when it
is asked for.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from critmat.errors import NoDataError
from critmat.platform import audit
from critmat.platform.accounts import unknown_organisation
from critmat.platform.db import quick_read_engine
from critmat.platform.models import Assessment, Organisation

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
    "result_bytes",
)
#: gzip level of stored results: level 6 packs a result about 10-fold at some 50 MB/s.
GZIP_LEVEL = 6


class AssessmentNotFound(NoDataError):
    """No assessment with this id in this organisation (another organisation's looks the same)."""


def compress_result(result: Mapping[str, Any]) -> bytes:
    """``result`` (a ``CompanyAssessment`` as JSON) as gzip'd compact UTF-8 JSON."""
    raw = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)


def facts_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The summary columns a result fills (file name and sha256, importer, year, lines,
    method)."""
    return {
        "input_filename": str(result["input_filename"])[:255],
        "input_sha256": str(result["input_sha256"]),
        "importer": str(result["importer"])[:100],
        "year": int(result["year"]),
        "lines": int(result.get("lines_total") or len(result.get("lines", []))),
        "method": str(result.get("method", ""))[:40],
    }


def create(
    db: Session,
    *,
    organisation_id: int,
    user_id: int | None,
    actor: str,
    name: str,
    result_gz: bytes,
    facts: Mapping[str, Any],
    ip: str | None = None,
) -> Assessment:
    """Store a result (``result_gz`` from :func:`compress_result`, ``facts`` from
    :func:`facts_of`) and record the write."""
    entry = Assessment(
        organisation_id=organisation_id,
        created_by=user_id,
        created_by_email=actor,
        created_at=audit.utcnow(),
        name=name[:200],
        result_gz=result_gz,
        result_bytes=len(result_gz),
        **facts,
    )
    db.add(entry)
    db.flush()
    audit.record(
        db,
        actor,
        "assessment.create",
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
    """The organisation's assessments, newest first (summary columns only: the deferred
    result is not read)."""
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
        raise _not_found(organisation_id, assessment_id)
    return entry


def _not_found(organisation_id: int, assessment_id: int) -> AssessmentNotFound:
    return AssessmentNotFound(
        f"no assessment {assessment_id} in organisation {organisation_id}",
        hint="list them at /api/v1/orgs/{org_id}/assessments",
    )


def _summary_columns() -> list[Any]:
    return [Assessment.__table__.c[name] for name in SUMMARY_FIELDS]


def quick_summaries(url: str, organisation_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """What :func:`list_for` answers, as :func:`summary` dicts, read through the quick-read
    engine (two indexed reads, no ORM: cheap enough for the event loop). Raises
    :class:`~critmat.errors.UnknownNameError` for an organisation that does not exist."""
    query = (
        select(*_summary_columns())
        .where(Assessment.organisation_id == organisation_id)
        .order_by(Assessment.id.desc())
        .limit(limit)
    )
    with quick_read_engine(url).connect() as conn:
        _require_organisation(conn, organisation_id)
        return [dict(row) for row in conn.execute(query).mappings()]


def quick_answer(
    url: str, organisation_id: int, assessment_id: int
) -> tuple[dict[str, Any], bytes]:
    """One assessment's :func:`summary` dict and its result as JSON bytes (see
    :func:`quick_summaries`); :class:`AssessmentNotFound` as :func:`get` raises it."""
    query = select(*_summary_columns(), Assessment.result_gz).where(
        Assessment.id == assessment_id, Assessment.organisation_id == organisation_id
    )
    with quick_read_engine(url).connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise _not_found(organisation_id, assessment_id)
    found = dict(row)
    return {name: found[name] for name in SUMMARY_FIELDS}, gzip.decompress(found["result_gz"])


def _require_organisation(conn: Connection, organisation_id: int) -> None:
    found = conn.execute(select(Organisation.id).where(Organisation.id == organisation_id))
    if found.first() is None:
        raise unknown_organisation(conn, organisation_id)


def summary(entry: Assessment) -> dict[str, Any]:
    """The listing fields of ``entry`` (never its result)."""
    return {name: getattr(entry, name) for name in SUMMARY_FIELDS}


def result_json(entry: Assessment) -> bytes:
    """The stored result as JSON bytes (read from the database and unpacked now)."""
    return gzip.decompress(entry.result_gz)


def result_of(entry: Assessment) -> dict[str, Any]:
    """The stored result as a dict (a ``CompanyAssessment`` dumped as JSON)."""
    loaded: dict[str, Any] = json.loads(result_json(entry))
    return loaded
