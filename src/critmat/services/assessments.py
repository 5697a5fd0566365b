"""Company supply-chain assessments (CRMA Art. 24): assess a file, store the result for an
organisation, list and read the stored ones.

One way for every caller: the API routes and the web pages run an upload through
:func:`run_assessment` (checked, assessed in a worker process within the time limit, stored;
nothing is stored when a step fails) and read through :func:`list_summaries`,
:func:`read_assessment` (the quick-read engine, cheap enough for the event loop) or
:func:`organisation_listing` / :func:`read_stored` (an open session); ``critmat assess``
reads a file on disk with :func:`read_file` and assesses it with :func:`assess`. Access rules
(who may see an organisation's assessments) stay with the callers (``server.access``); every
query here is scoped by the organisation.

The day whose export restrictions count is chosen once, here, by the one "as of" rule
(:func:`critmat.reference.restrictions.as_of`: the user's day, else today), before the work
goes to a worker process: the stored result says which day it used (``assessed_on``), and its
report shows that day's restrictions.

Caches: a worker process keeps the GeoPolRisk scores it computed
(:class:`~critmat.risk.company.ScoreMemo`) between uploads, see
:mod:`critmat.services.assessment_worker`; a CLI process assesses one file and needs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critmat.reference.restrictions import as_of
from critmat.risk.company import CompanyAssessment, SupplyInput, assess_supply

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from critmat.config import Settings
    from critmat.platform.models import Organisation

#: Assessments listed at most (newest first).
LIST_LIMIT = 200


@dataclass(frozen=True)
class WorkerLimits:
    """How assessments run: at most ``workers`` worker processes, each assessment stopped after
    ``timeout_s`` seconds (``CRITMAT_ASSESSMENT_WORKERS``,
    ``CRITMAT_ASSESSMENT_TIMEOUT_SECONDS``)."""

    workers: int
    timeout_s: float

    @classmethod
    def of(cls, settings: Settings) -> WorkerLimits:
        return cls(settings.assessment_workers, float(settings.assessment_timeout_seconds))


@dataclass(frozen=True)
class Author:
    """Who uploads: the user (id and e-mail as the audit log records them) and their address."""

    user_id: int | None
    actor: str
    ip: str | None = None


@dataclass(frozen=True)
class Upload:
    """An uploaded supply file and the assessment's parameters: ``importer`` where the company
    sits (EU27, a country, a group), ``year`` the trade year (``None``: the latest), ``on`` the
    day of the export restrictions (``None``: today), ``title`` the stored name (empty: the
    file name)."""

    filename: str
    data: bytes
    title: str = ""
    importer: str = "EU27"
    year: int | None = None
    on: date | None = None


@dataclass(frozen=True)
class StoredAssessment:
    """A stored assessment: its summary columns (``critmat.platform.assessments.
    SUMMARY_FIELDS``) and its result as JSON bytes, as stored (not parsed)."""

    summary: dict[str, Any]
    result_json: bytes

    @property
    def id(self) -> int:
        return int(self.summary["id"])

    @property
    def name(self) -> str:
        return str(self.summary["name"])

    def result(self) -> CompanyAssessment:
        """The result, parsed (a report takes it so)."""
        return CompanyAssessment.model_validate_json(self.result_json)


@dataclass(frozen=True)
class Listing:
    """An organisation and the summaries of its assessments, newest first."""

    organisation: Organisation
    summaries: list[dict[str, Any]]


def run_assessment(
    db: Session,
    *,
    store_path: Path,
    limits: WorkerLimits,
    organisation_id: int,
    author: Author,
    upload: Upload,
) -> StoredAssessment:
    """Validate, assess (in a worker process, within the time limit) and store ``upload`` for
    the organisation; the caller commits. Nothing is stored when any step fails: raises
    :class:`~critmat.risk.company.SupplyFileError` (every row problem),
    :class:`~critmat.services.assessment_worker.AssessmentTimeout`,
    :class:`~critmat.services.assessment_worker.AssessmentWorkerFailed` or another
    :class:`~critmat.errors.CritmatError` (unknown organisation, importer or year)."""
    from critmat.platform import assessments as stored
    from critmat.services import assessment_worker as worker

    organisation(db, organisation_id)  # an unknown one is refused before any work
    db.rollback()  # the connection goes back to the pool while the worker computes
    outcome = worker.pool(limits.workers, limits.timeout_s).run(
        worker.AssessmentRequest(
            store_path=store_path,
            filename=upload.filename,
            data=upload.data,
            importer=upload.importer,
            year=upload.year,
            on=as_of(upload.on),
        )
    )
    entry = stored.create(
        db,
        organisation_id=organisation_id,
        user_id=author.user_id,
        actor=author.actor,
        name=upload.title.strip() or outcome.facts["input_filename"],
        result_gz=outcome.result_gz,
        facts=outcome.facts,
        ip=author.ip,
    )
    return StoredAssessment(stored.summary(entry), stored.result_json(entry))


def read_file(path: Path) -> SupplyInput:
    """A supply file on disk (CSV or XLSX), every row checked: raises
    :class:`~critmat.risk.company.SupplyFileError` with every problem."""
    from critmat.risk.company import read_supply_file

    return read_supply_file(path)


#: Assess checked supply lines against the store's current releases: ``importer``, ``year`` and
#: ``on`` as in :class:`Upload` (``on`` through the one "as of" rule); ``scores``: the caller's
#: memo of GeoPolRisk scores (a worker process keeps one between uploads; none: they are
#: computed for this assessment). See :func:`critmat.risk.company.assess_supply`.
assess = assess_supply


def list_summaries(
    platform_url: str, organisation_id: int, limit: int = LIST_LIMIT
) -> list[dict[str, Any]]:
    """The organisation's assessments, newest first, without their results (two indexed reads
    through the quick-read engine); :class:`~critmat.errors.UnknownNameError` for an
    organisation that does not exist."""
    from critmat.platform import assessments as stored

    return stored.quick_summaries(platform_url, organisation_id, limit)


def read_assessment(
    platform_url: str, organisation_id: int, assessment_id: int
) -> StoredAssessment:
    """One assessment of the organisation (quick-read engine);
    :class:`~critmat.platform.assessments.AssessmentNotFound` otherwise (also for another
    organisation's)."""
    from critmat.platform import assessments as stored

    summary, result = stored.quick_answer(platform_url, organisation_id, assessment_id)
    return StoredAssessment(summary, result)


def organisation(db: Session, organisation_id: int) -> Organisation:
    """The organisation (:class:`~critmat.errors.UnknownNameError` when there is none)."""
    from critmat.platform import accounts

    return accounts.get_org(db, organisation_id)


def organisation_listing(db: Session, organisation_id: int, limit: int = LIST_LIMIT) -> Listing:
    """The organisation and its assessments' summaries, newest first (an open session)."""
    from critmat.platform import assessments as stored

    found = organisation(db, organisation_id)
    entries = stored.list_for(db, found.id, limit)
    return Listing(found, [stored.summary(e) for e in entries])


def read_stored(db: Session, organisation_id: int, assessment_id: int) -> StoredAssessment:
    """One assessment of the organisation (an open session), as :func:`read_assessment`."""
    from critmat.platform import assessments as stored

    entry = stored.get(db, organisation_id, assessment_id)
    return StoredAssessment(stored.summary(entry), stored.result_json(entry))
