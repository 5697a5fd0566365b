"""Company assessments in the web UI, and the assessment reports (HTML, XLSX, JSON) that the
pages, the API and ``critmat assess --output`` serve.

Pages (rule ``company-assessments``: the organisation's company users and admins):

- ``GET /orgs/{org_id}/assessments`` — the list and the upload form;
- ``POST /orgs/{org_id}/assessments`` — upload (multipart, with the form's ``csrf_token``); a bad
  file shows every problem (row, column, reason) and stores nothing;
- ``GET /orgs/{org_id}/assessments/{id}`` — the assessment;
- ``GET /orgs/{org_id}/assessments/{id}/report.{html,xlsx,json}`` — downloads.

The XLSX report is written by :mod:`critmat.exports`, which neutralises every text cell that a
spreadsheet could run as a formula (after removing control characters).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

import jinja2
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmat import __version__
from critmat.api.routes.assessments import run_assessment
from critmat.exports import XLSX_MEDIA_TYPE, Sheet, safe_filename, to_xlsx
from critmat.platform import accounts
from critmat.platform import assessments as stored
from critmat.platform.models import Assessment
from critmat.reference.countries import country_name
from critmat.risk.company import CompanyAssessment, SupplyFileError
from critmat.server.deps import CompanyCaller, DbDep, StoreDep, read_upload
from critmat.server.params import NO_NUL, DbId
from critmat.services.assessment_worker import AssessmentTimeout, AssessmentWorkerFailed

# ids bounded to the database's range (a larger one is a 422, not PostgreSQL's overflow)
OrgId = DbId
AssessmentId = DbId
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "xlsx": XLSX_MEDIA_TYPE,
    "json": "application/json",
}


# ----------------------------------------------------------------------------- reports
def _country(code: str | None) -> str:
    if not code:
        return "–"
    try:
        return country_name(code)
    except Exception:  # a code the reference data does not name
        return code


@cache
def _report_environment() -> jinja2.Environment:
    from critmat.web import render

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("critmat.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    render.install_filters(env)
    env.globals.update(version=__version__, limit=0.65)
    return env


def report_html(result: CompanyAssessment, title: str = "") -> str:
    """A self-contained HTML report (no script, no external resource)."""
    template = _report_environment().get_template("assessment_report.html")
    return template.render(a=result, title=title or result.input_filename, cname=_country)


def _rows(result: CompanyAssessment) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The report's tables: sheet name -> (header, rows)."""
    materials = [
        [
            m.material_name,
            m.stage_label,
            ";".join(m.hs_codes),
            m.tonnes,
            m.lines,
            m.top_third_country,
            _country(m.top_third_country),
            m.top_third_share,
            m.exceeds_65,
            m.origin_hhi,
            m.hhi_world,
            m.geopolrisk,
            m.looked_through_share,
        ]
        for m in result.materials
    ]
    origins = [
        [
            m.material_name,
            m.stage_label,
            o.country,
            _country(o.country),
            o.tonnes,
            o.share,
            o.third_country,
        ]
        for m in result.materials
        for o in m.by_origin
    ]
    lines = [
        [
            r.row,
            r.material_name,
            r.stage_label,
            ";".join(r.hs_codes),
            r.supplier,
            r.supplier_country,
            r.tier,
            r.share,
            r.quantity,
            r.unit,
            r.quantity_t,
            r.looked_through,
            "; ".join(f"{o.country} {o.share:.3f}" for o in r.origins[:10]),
            r.geopolrisk,
            r.supplier_country_geopolrisk,
            "; ".join(r.notes),
        ]
        for r in result.lines
    ]
    restrictions = [
        [
            h.material_name,
            h.restriction_id,
            h.country,
            _country(h.country),
            h.measure,
            h.title,
            h.effective.isoformat() if h.effective else None,
            ";".join(h.hs_codes),
            h.tonnes,
            h.share,
            ";".join(str(r) for r in h.rows),
            h.confidence,
        ]
        for h in result.restrictions
    ]
    options = [
        [
            m.material_name,
            m.stage_label,
            o.country,
            _country(o.country),
            o.exports_t,
            o.export_share,
            o.wgi_pv,
            o.instability,
            o.eu,
            o.eea,
            o.strategic_partner,
            o.score,
        ]
        for m in result.materials
        for o in m.options
    ]
    actions = [[a.priority, a.kind, a.text, a.tonnes] for a in result.actions]
    return {
        "actions": (["priority (1 = act now)", "kind", "action", "tonnes"], actions),
        "materials": (
            [
                "material",
                "stage",
                "HS codes",
                "tonnes",
                "lines",
                "largest third country",
                "largest third country (name)",
                "its share (0-1)",
                "above 65 %",
                "origin HHI",
                "world production HHI",
                "GeoPolRisk",
                "share looked through (0-1)",
            ],
            materials,
        ),
        "origins": (
            [
                "material",
                "stage",
                "origin",
                "origin (name)",
                "tonnes",
                "share (0-1)",
                "third country",
            ],
            origins,
        ),
        "restrictions": (
            [
                "material",
                "restriction",
                "country",
                "country (name)",
                "measure",
                "title",
                "effective",
                "HS codes",
                "tonnes",
                "share (0-1)",
                "rows",
                "confidence",
            ],
            restrictions,
        ),
        "options": (
            [
                "material",
                "stage",
                "country",
                "country (name)",
                "exports (t)",
                "share of world exports (0-1)",
                "WGI political stability",
                "instability w (0-1)",
                "EU",
                "EEA",
                "strategic partner",
                "score",
            ],
            options,
        ),
        "lines": (
            [
                "row",
                "material",
                "stage",
                "HS codes",
                "supplier",
                "supplier country",
                "tier",
                "share (0-1)",
                "quantity",
                "unit",
                "tonnes",
                "looked through",
                "origins (share)",
                "GeoPolRisk",
                "supplier country GeoPolRisk",
                "notes",
            ],
            lines,
        ),
    }


def report_xlsx(result: CompanyAssessment, title: str = "") -> bytes:
    """A workbook: *about*, then one sheet per table; every cell through :mod:`critmat.exports`."""
    about = [
        ("assessment", title or result.input_filename),
        ("input file", result.input_filename),
        ("input sha256", result.input_sha256),
        ("importer", result.importer),
        ("trade year", result.year),
        ("restrictions in force on", result.assessed_on.isoformat()),
        ("total tonnes", result.total_tonnes),
        ("method", result.method),
        *(("source", p) for p in result.provenance),
        *(("note", n) for n in result.notes),
        ("produced by", f"critmat {__version__}"),
    ]
    sheets = [Sheet(name, header, rows) for name, (header, rows) in _rows(result).items()]
    return to_xlsx(sheets, about, about_first=True)


def report_json(result: CompanyAssessment) -> bytes:
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2).encode()


def report_bytes(result: CompanyAssessment, fmt: str, title: str = "") -> bytes:
    if fmt == "html":
        return report_html(result, title).encode("utf-8")
    if fmt == "xlsx":
        return report_xlsx(result, title)
    return report_json(result)


def report_response(
    result: CompanyAssessment, fmt: str, title: str, assessment_id: int | None = None
) -> Response:
    """A download of the report (``Content-Disposition: attachment``, never cached)."""
    stem = f"critmat-assessment-{assessment_id or ''}-{title}"
    filename = safe_filename(stem, fmt, default="critmat-assessment")
    return Response(
        report_bytes(result, fmt, title),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# ----------------------------------------------------------------------------- pages
def stored_result(entry: Assessment) -> CompanyAssessment:
    """The result of a stored assessment (read from the database and unpacked now)."""
    return CompanyAssessment.model_validate_json(stored.result_json(entry))


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
        org = accounts.get_org(db, org_id)
        return page(
            request,
            "assessments.html",
            principal,
            status=status,
            org=org,
            entries=stored.list_for(db, org.id),
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
                importer=importer or "EU27",
                year=None,
                on=None,
            )
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
        return RedirectResponse(f"/orgs/{org_id}/assessments/{entry.id}", status_code=303)

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
        org = accounts.get_org(db, org_id)
        entry = stored.get(db, org.id, assessment_id)
        result = stored_result(entry)
        return page(
            request, "assessment.html", principal, org=org, entry=entry, a=result, cname=_country
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
        if fmt not in MEDIA_TYPES:
            from fastapi import HTTPException

            raise HTTPException(404, "reports are html, xlsx or json")
        entry = stored.get(db, org_id, assessment_id)
        result = stored_result(entry)
        return report_response(result, fmt, entry.name, entry.id)
