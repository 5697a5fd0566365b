"""A company-assessment upload as the API and the web receive it: read the file within the size
limit and hand it, with its author and the app's worker limits, to
:func:`critmat.services.assessments.run_assessment` (one path for both)."""

from __future__ import annotations

from fastapi import Request, UploadFile
from sqlalchemy.orm import Session as DbSession

from critmat.config import Settings
from critmat.risk.company import MAX_BYTES, RowError, SupplyFileError
from critmat.server.deps import Principal, client_ip
from critmat.services import assessments as service
from critmat.store import Store


def read_upload(upload: UploadFile) -> tuple[str, bytes]:
    """The upload's name and bytes; more than :data:`MAX_BYTES` is refused before reading on."""
    name = upload.filename or "upload.csv"
    data = upload.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SupplyFileError(
            [RowError(name, None, None, f"the file is larger than {MAX_BYTES // 2**20} MB")]
        )
    return name, data


def assess_upload(
    request: Request,
    db: DbSession,
    store: Store,
    principal: Principal,
    organisation_id: int,
    upload: service.Upload,
) -> service.StoredAssessment:
    """Assess and store ``upload`` (its file read by :func:`read_upload`) for the organisation;
    the caller commits. Raises what :func:`~critmat.services.assessments.run_assessment`
    raises."""
    settings: Settings = request.app.state.settings
    return service.run_assessment(
        db,
        store_path=store.path,
        limits=service.WorkerLimits.of(settings),
        organisation_id=organisation_id,
        author=service.Author(principal.user_id, principal.actor, client_ip(request)),
        upload=upload,
    )
