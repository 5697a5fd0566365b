"""Company supply-chain assessments (CRMA Art. 24): upload supply lines, read and download the
stored assessments of your organisation.

Access: the organisation's ``company`` users and admins (rule ``company-assessments``); other
organisations, suppliers, analysts and member-state users are refused — an assessment is the
company's own commercial information.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, TypeAdapter
from starlette.concurrency import run_in_threadpool

from critmat.config import Settings
from critmat.reports import company as report
from critmat.risk.company import CompanyAssessment, SupplyFileError
from critmat.server.deps import CompanyCaller, DbDep, StoreDep
from critmat.server.errors import ErrorOut
from critmat.server.params import NO_NUL, DbId, Limit, UtcDateTime
from critmat.server.uploads import assess_upload, read_upload
from critmat.services import assessment_worker as worker
from critmat.services import assessments as service

router = APIRouter(prefix="/api/v1", tags=["assessments"])
ReportFormat = Literal["json", "html", "xlsx"]


class AssessmentSummary(BaseModel):
    id: int
    organisation_id: int
    created_by_email: str
    created_at: UtcDateTime
    name: str
    input_filename: str
    input_sha256: str
    importer: str
    year: int
    lines: int
    method: str
    result_bytes: int = Field(description="size of the stored result, gzip'd JSON (bytes)")


class AssessmentOut(AssessmentSummary):
    result: CompanyAssessment


#: Serialises a listing straight to JSON bytes (in the thread that read it).
SUMMARIES = TypeAdapter(list[AssessmentSummary])


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


def worker_error(exc: worker.AssessmentTimeout | worker.AssessmentWorkerFailed) -> JSONResponse:
    """503: the assessment was stopped (time limit) or its worker ended; nothing stored."""
    return JSONResponse({"error": str(exc), "hint": exc.hint}, status_code=503)


def assessment_json(found: service.StoredAssessment, status_code: int = 200) -> Response:
    """``AssessmentOut`` as JSON: the summary and the stored result bytes as they are (the
    result is not parsed and serialised again)."""
    head = AssessmentSummary(**found.summary).model_dump_json().encode()
    body = head[:-1] + b',"result":' + found.result_json + b"}"
    return Response(body, status_code=status_code, media_type="application/json")


def report_download(found: service.StoredAssessment, fmt: report.ReportFormat) -> Response:
    """The stored assessment's report as a download (``attachment``, never cached)."""
    rendered = report.report_file(found.result(), fmt, found.name, found.id)
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/orgs/{org_id}/assessments",
    response_model=AssessmentOut,
    status_code=201,
    responses={
        503: {
            "model": ErrorOut,
            "description": "The assessment took longer than CRITMAT_ASSESSMENT_TIMEOUT_SECONDS "
            "and was stopped, or its worker ended without an answer (nothing was stored); or "
            "the analytics store is missing.",
        }
    },
)
def upload_assessment(
    org_id: DbId,
    request: Request,
    db: DbDep,
    store: StoreDep,
    principal: CompanyCaller,
    file: Annotated[UploadFile, File(description="supply lines, CSV or XLSX")],
    name: Annotated[str, Form(max_length=200, pattern=NO_NUL)] = "",
    importer: Annotated[str, Form(max_length=100, pattern=NO_NUL)] = "EU27",
    year: Annotated[int | None, Form(ge=1900, le=2100)] = None,
    on: Annotated[date | None, Form(description="date of the export restrictions")] = None,
) -> Any:
    """Upload supply lines (multipart ``file``): every row is checked (all problems are
    answered at once with 422: file, row, column, reason; nothing is stored), then the
    assessment is computed in a worker process within the time limit (503 when exceeded) and
    stored for your organisation."""
    try:
        upload = service.Upload(*read_upload(file), title=name, importer=importer, year=year, on=on)
        found = assess_upload(request, db, store, principal, org_id, upload)
    except SupplyFileError as exc:
        return file_errors(exc)
    except (worker.AssessmentTimeout, worker.AssessmentWorkerFailed) as exc:
        return worker_error(exc)
    db.commit()
    return assessment_json(found, status_code=201)


@router.get("/orgs/{org_id}/assessments", response_model=list[AssessmentSummary])
async def list_assessments(
    org_id: DbId,
    request: Request,
    _p: CompanyCaller,
    limit: Limit = 200,
) -> Response:
    """Your organisation's assessments, newest first (without their results)."""
    # Two indexed reads, inline: a hop to the thread pool costs more than the reads under load.
    rows = SUMMARIES.validate_python(service.list_summaries(_platform_url(request), org_id, limit))
    return Response(SUMMARIES.dump_json(rows), media_type="application/json")


@router.get(
    "/orgs/{org_id}/assessments/{assessment_id}",
    response_model=AssessmentOut,
    responses={200: {"content": {"text/html": {}, "application/vnd.ms-excel": {}}}},
)
async def read_assessment(
    org_id: DbId,
    assessment_id: DbId,
    request: Request,
    _p: CompanyCaller,
    format: ReportFormat = "json",
) -> Response:
    """One assessment: JSON (default), or the report as ``?format=html`` or ``?format=xlsx``."""
    found = service.read_assessment(_platform_url(request), org_id, assessment_id)
    if format == "json":
        return assessment_json(found)
    return await run_in_threadpool(report_download, found, format)  # a report takes CPU


def _platform_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.platform_url
