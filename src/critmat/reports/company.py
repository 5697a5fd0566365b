"""The company assessment report (CRMA Art. 24): a stored or fresh
:class:`~critmat.risk.company.CompanyAssessment` rendered as HTML, XLSX or JSON bytes.

Used by the API (``?format=html|xlsx``), the web pages (the downloads, and the assessment page,
which shows :func:`report_body`) and ``critmat assess --output``; wrapping the bytes in an HTTP
response is theirs. The HTML is self-contained (no script, no external resource). The XLSX is
written by :mod:`critmat.exports`, which neutralises every text cell that a spreadsheet could run
as a formula (after removing control characters).

Every restriction shown is one the assessment found in force on its day (``assessed_on``, the
"as of" day of :func:`critmat.reference.restrictions.as_of`); the report never decides a
status again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from critmat import __version__
from critmat.exports import XLSX_MEDIA_TYPE, Sheet, safe_filename, to_xlsx
from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.reference.countries import country_name
from critmat.reports import formats
from critmat.risk.company import CompanyAssessment

ReportFormat = Literal["html", "xlsx", "json"]
#: Media type of each report format.
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "xlsx": XLSX_MEDIA_TYPE,
    "json": "application/json",
}


@dataclass(frozen=True)
class ReportFile:
    """A rendered report: its bytes, media type and a safe file name for a download."""

    content: bytes
    media_type: str
    filename: str


def _country(code: str | None) -> str:
    if not code:
        return "–"
    try:
        return country_name(code)
    except Exception:  # a code the reference data does not name
        return code


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@cache
def _environment() -> jinja2.Environment:
    env = formats.template_environment("critmat.reports")
    env.filters.update(
        num=formats.format_number, hhi=formats.format_hhi, share=formats.share, pct=formats.percent
    )
    env.globals.update(version=__version__, limit=CRMA_SINGLE_COUNTRY_LIMIT, cname=_country)
    return env


def report_body(result: CompanyAssessment) -> Markup:
    """The assessment's sections as an HTML fragment (for a page that has its own frame)."""
    template = _environment().get_template("company_body.html.j2")
    return Markup(template.render(a=result))


def report_html(result: CompanyAssessment, title: str = "") -> str:
    """A self-contained HTML report (no script, no external resource)."""
    template = _environment().get_template("company.html.j2")
    return template.render(a=result, title=title or result.input_filename)


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
            _iso(h.in_force_since or h.effective),
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
                "in force since",
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
    """The result as indented UTF-8 JSON (what the API answers, laid out for reading)."""
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2).encode()


def report_bytes(result: CompanyAssessment, fmt: str, title: str = "") -> bytes:
    """The report in ``fmt`` (``html``, ``xlsx``; anything else is JSON)."""
    if fmt == "html":
        return report_html(result, title).encode("utf-8")
    if fmt == "xlsx":
        return report_xlsx(result, title)
    return report_json(result)


def report_file(
    result: CompanyAssessment, fmt: ReportFormat, title: str, assessment_id: int | None = None
) -> ReportFile:
    """The report in ``fmt`` with its media type and a download name built from the stored
    assessment's id and ``title`` (made safe for any file system)."""
    stem = f"critmat-assessment-{assessment_id or ''}-{title}"
    return ReportFile(
        content=report_bytes(result, fmt, title),
        media_type=MEDIA_TYPES[fmt],
        filename=safe_filename(stem, fmt, default="critmat-assessment"),
    )
