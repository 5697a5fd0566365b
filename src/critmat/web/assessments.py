"""Company assessments in the web UI (:mod:`critmat.services.assessments`; the report and the
assessment's sections are rendered by :mod:`critmat.reports.company`).

Pages (rule ``company-assessments``: the organisation's company users and admins):

- ``GET /orgs/{org_id}/assessments`` — the list and the upload form;
- ``POST /orgs/{org_id}/assessments`` — upload (multipart, with the form's ``csrf_token``); a bad
  file shows every problem (row, column, reason) and stores nothing;
- ``GET /orgs/{org_id}/assessments/{id}`` — the assessment;
- ``GET /orgs/{org_id}/assessments/{id}/report.{html,xlsx,json}`` — downloads.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmat.reports import company as report
from critmat.risk.company import SupplyFileError
from critmat.server.deps import CompanyCaller, DbDep, StoreDep
from critmat.server.params import NO_NUL, DbId
from critmat.server.uploads import assess_upload, read_upload
from critmat.services import assessments as service
from critmat.services.assessment_worker import AssessmentTimeout, AssessmentWorkerFailed
from critmat.web.render import attachment

# ids bounded to the database's range (a larger one is a 422, not PostgreSQL's overflow)
OrgId = DbId
AssessmentId = DbId


def report_download(found: service.StoredAssessment, fmt: report.ReportFormat) -> Response:
    """The stored assessment's report as a download (``attachment``, never cached)."""
    rendered = report.report_file(found.result(), fmt, found.name, found.id)
    disposition = f'attachment; filename="{rendered.filename}"'
    return attachment(rendered.content, rendered.media_type, disposition)


def install(app: FastAPI) -> None:
    """Add the assessment pages to ``app`` (after ``critmat.web.pages.install``)."""
    from critmat.web.pages import page

    def listing(
        request: Request,
        db: DbDep,
        principal: Any,
        org_id: int,
        *,
        status: int = 200,
        problems: list[dict[str, Any]] | None = None,
        error: str | None = None,
        total: int = 0,
    ) -> HTMLResponse:
        found = service.organisation_listing(db, org_id)
        return page(
            request,
            "assessments.html",
            principal,
            status=status,
            org=found.organisation,
            entries=found.summaries,
            problems=problems or [],
            error=error,
            problems_total=total,
        )

    @app.get("/orgs/{org_id}/assessments", response_class=HTMLResponse, include_in_schema=False)
    def assessments_page(
        request: Request, db: DbDep, principal: CompanyCaller, org_id: OrgId
    ) -> Response:
        return listing(request, db, principal, org_id)

    @app.post("/orgs/{org_id}/assessments", response_class=HTMLResponse, include_in_schema=False)
    def assessments_upload(
        request: Request,
        db: DbDep,
        store: StoreDep,
        principal: CompanyCaller,
        org_id: OrgId,
        file: Annotated[UploadFile, File()],
        name: Annotated[str, Form(max_length=200, pattern=NO_NUL)] = "",
        importer: Annotated[str, Form(max_length=100, pattern=NO_NUL)] = "EU27",
    ) -> Response:
        try:
            upload = service.Upload(*read_upload(file), title=name, importer=importer or "EU27")
            stored = assess_upload(request, db, store, principal, org_id, upload)
        except SupplyFileError as exc:
            return listing(
                request,
                db,
                principal,
                org_id,
                status=422,
                problems=[e.to_dict() for e in exc.errors],
                error=str(exc).split(":", 1)[0],
                total=exc.total,
            )
        except (AssessmentTimeout, AssessmentWorkerFailed) as exc:
            return listing(request, db, principal, org_id, status=503, error=f"{exc} ({exc.hint})")
        db.commit()  # before the redirect is followed
        return RedirectResponse(f"/orgs/{org_id}/assessments/{stored.id}", status_code=303)

    @app.get(
        "/orgs/{org_id}/assessments/{assessment_id}",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def assessment_page(
        request: Request,
        db: DbDep,
        principal: CompanyCaller,
        org_id: OrgId,
        assessment_id: AssessmentId,
    ) -> Response:
        org = service.organisation(db, org_id)
        found = service.read_stored(db, org.id, assessment_id)
        return page(
            request,
            "assessment.html",
            principal,
            org=org,
            entry=found.summary,
            body=report.report_body(found.result()),
        )

    @app.get(
        "/orgs/{org_id}/assessments/{assessment_id}/report.{fmt}",
        include_in_schema=False,
    )
    def assessment_download(
        db: DbDep,
        principal: CompanyCaller,
        org_id: OrgId,
        assessment_id: AssessmentId,
        fmt: str,
    ) -> Response:
        if fmt not in report.MEDIA_TYPES:
            raise HTTPException(404, "reports are html, xlsx or json")
        found = service.read_stored(db, org_id, assessment_id)
        return report_download(found, cast(report.ReportFormat, fmt))
