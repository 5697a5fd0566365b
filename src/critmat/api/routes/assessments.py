"""Company supply-chain assessments (CRMA Art. 24): upload supply lines, read and download the
stored assessments of your organisation.

Access: the organisation's ``company`` users and admins (rule ``company-assessments``); other
organisations, suppliers, analysts and member-state users are refused — an assessment is the
company's own commercial information.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session as DbSession

from critmat.api.access import AccessRule
from critmat.api.deps import DbDep, DbId, Principal, StoreDep, allow, client_ip
from critmat.platform import accounts
from critmat.platform import assessments as stored
from critmat.platform.models import Assessment, Role
from critmat.risk.company import (
    MAX_BYTES,
    CompanyAssessment,
    RowError,
    SupplyFileError,
    assess_supply,
    read_supply_bytes,
)
from critmat.store import Store

#: Company assessments: the organisation's company users, and admins.
COMPANY_ASSESSMENTS = AccessRule(
    "company-assessments",
    roles=frozenset({Role.company, Role.admin}),
    own_org_param="org_id",
)
CompanyCaller = Annotated[Principal, Depends(allow(COMPANY_ASSESSMENTS))]

router = APIRouter(prefix="/api/v1", tags=["assessments"])
ReportFormat = Literal["json", "html", "xlsx"]


class AssessmentSummary(BaseModel):
    id: int
    organisation_id: int
    created_by_email: str
    created_at: Any
    name: str
    input_filename: str
    input_sha256: str
    importer: str
    year: int
    lines: int
    method: str


class AssessmentOut(AssessmentSummary):
    result: CompanyAssessment


def summary_out(entry: Assessment) -> AssessmentSummary:
    return AssessmentSummary(**stored.summary(entry))


def file_errors(exc: SupplyFileError) -> JSONResponse:
    """422 with every problem (file, row, column, reason)."""
    return JSONResponse(
        {
            "error": str(exc),
            "hint": exc.hint,
            "problems_total": exc.total,
            "problems": [e.to_dict() for e in exc.errors],
        },
        status_code=422,
    )


def read_upload(upload: UploadFile) -> tuple[str, bytes]:
    """The upload's name and bytes; more than :data:`MAX_BYTES` is refused before reading on."""
    name = upload.filename or "upload.csv"
    data = upload.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SupplyFileError(
            [RowError(name, None, None, f"the file is larger than {MAX_BYTES // 2**20} MB")]
        )
    return name, data


def run_assessment(
    db: DbSession,
    store: Store,
    principal: Principal,
    request: Request,
    org_id: int,
    name: str,
    data: bytes,
    *,
    title: str,
    importer: str,
    year: int | None,
    on: date | None,
) -> Assessment:
    """Validate, assess and store (nothing is stored when any step fails)."""
    accounts.get_org(db, org_id)
    supply = read_supply_bytes(name, data)
    result = assess_supply(store, supply, importer=importer, year=year, on=on)
    return stored.create(
        db,
        organisation_id=org_id,
        user_id=principal.user_id,
        actor=principal.actor,
        name=title.strip() or supply.filename,
        result=result.model_dump(mode="json"),
        ip=client_ip(request),
    )


@router.post("/orgs/{org_id}/assessments", response_model=AssessmentOut, status_code=201)
def upload_assessment(
    org_id: DbId,
    request: Request,
    db: DbDep,
    store: StoreDep,
    principal: CompanyCaller,
    file: Annotated[UploadFile, File(description="supply lines, CSV or XLSX")],
    name: Annotated[str, Form(max_length=200)] = "",
    importer: Annotated[str, Form(max_length=100)] = "EU27",
    year: Annotated[int | None, Form(ge=1900, le=2100)] = None,
    on: Annotated[date | None, Form(description="date of the export restrictions")] = None,
) -> Any:
    """Upload supply lines (multipart ``file``): every row is checked (all problems are
    answered at once with 422: file, row, column, reason; nothing is stored), then the
    assessment is computed and stored for your organisation."""
    try:
        filename, data = read_upload(file)
        entry = run_assessment(
            db,
            store,
            principal,
            request,
            org_id,
            filename,
            data,
            title=name,
            importer=importer,
            year=year,
            on=on,
        )
    except SupplyFileError as exc:
        return file_errors(exc)
    return AssessmentOut(
        **summary_out(entry).model_dump(), result=CompanyAssessment.model_validate(entry.result)
    )


@router.get("/orgs/{org_id}/assessments", response_model=list[AssessmentSummary])
def list_assessments(
    org_id: DbId,
    db: DbDep,
    _p: CompanyCaller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AssessmentSummary]:
    """Your organisation's assessments, newest first (without their results)."""
    accounts.get_org(db, org_id)
    return [summary_out(e) for e in stored.list_for(db, org_id, limit)]


@router.get(
    "/orgs/{org_id}/assessments/{assessment_id}",
    response_model=AssessmentOut,
    responses={200: {"content": {"text/html": {}, "application/vnd.ms-excel": {}}}},
)
def read_assessment(
    org_id: DbId,
    assessment_id: DbId,
    db: DbDep,
    _p: CompanyCaller,
    format: ReportFormat = "json",
) -> Any:
    """One assessment: JSON (default), or the report as ``?format=html`` or ``?format=xlsx``."""
    from critmat.web.assessments import report_response

    entry = stored.get(db, org_id, assessment_id)
    result = CompanyAssessment.model_validate(entry.result)
    if format == "json":
        return AssessmentOut(**summary_out(entry).model_dump(), result=result)
    response: Response = report_response(result, format, entry.name, entry.id)
    return response
