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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal, TypeVar

import jinja2
from markupsafe import Markup

from critmat import __version__
from critmat.exports import XLSX_MEDIA_TYPE, Sheet, safe_filename, to_xlsx
from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.reference.countries import country_name
from critmat.reports import formats
from critmat.risk.company import (
    Action,
    CompanyAssessment,
    CountryShare,
    LineResult,
    MaterialExposure,
    Option,
    RestrictionHit,
)

T = TypeVar("T")
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


#: A worksheet column: its header and the cell it takes from one item of the sheet.
SheetColumn = tuple[str, Callable[[T], Any]]


def _country_columns(header: str, code: Callable[[Any], str | None]) -> list[SheetColumn[Any]]:
    """A country as two columns: its code under ``header``, and its name (the item's type
    is the sheet's, which the lambdas given here cannot name)."""
    return [(header, code), (f"{header} (name)", lambda item: _country(code(item)))]


_MATERIAL_COLUMNS: list[SheetColumn[MaterialExposure]] = [
    ("material", lambda m: m.material_name),
    ("stage", lambda m: m.stage_label),
    ("HS codes", lambda m: ";".join(m.hs_codes)),
    ("tonnes", lambda m: m.tonnes),
    ("lines", lambda m: m.lines),
    *_country_columns("largest third country", lambda m: m.top_third_country),
    ("its share (0-1)", lambda m: m.top_third_share),
    ("above 65 %", lambda m: m.exceeds_65),
    ("origin HHI", lambda m: m.origin_hhi),
    ("world production HHI", lambda m: m.hhi_world),
    ("GeoPolRisk", lambda m: m.geopolrisk),
    ("share looked through (0-1)", lambda m: m.looked_through_share),
]
#: Per material (its name and stage first): each origin of its supply, each diversification
#: option.
_ORIGIN_COLUMNS: list[SheetColumn[CountryShare]] = [
    *_country_columns("origin", lambda o: o.country),
    ("tonnes", lambda o: o.tonnes),
    ("share (0-1)", lambda o: o.share),
    ("third country", lambda o: o.third_country),
]
_OPTION_COLUMNS: list[SheetColumn[Option]] = [
    *_country_columns("country", lambda o: o.country),
    ("exports (t)", lambda o: o.exports_t),
    ("share of world exports (0-1)", lambda o: o.export_share),
    ("WGI political stability", lambda o: o.wgi_pv),
    ("instability w (0-1)", lambda o: o.instability),
    ("EU", lambda o: o.eu),
    ("EEA", lambda o: o.eea),
    ("strategic partner", lambda o: o.strategic_partner),
    ("score", lambda o: o.score),
]
_RESTRICTION_COLUMNS: list[SheetColumn[RestrictionHit]] = [
    ("material", lambda h: h.material_name),
    ("restriction", lambda h: h.restriction_id),
    *_country_columns("country", lambda h: h.country),
    ("measure", lambda h: h.measure),
    ("title", lambda h: h.title),
    ("effective", lambda h: _iso(h.effective)),
    ("in force since", lambda h: _iso(h.in_force_since or h.effective)),
    ("HS codes", lambda h: ";".join(h.hs_codes)),
    ("tonnes", lambda h: h.tonnes),
    ("share (0-1)", lambda h: h.share),
    ("rows", lambda h: ";".join(str(r) for r in h.rows)),
    ("confidence", lambda h: h.confidence),
]
_LINE_COLUMNS: list[SheetColumn[LineResult]] = [
    ("row", lambda r: r.row),
    ("material", lambda r: r.material_name),
    ("stage", lambda r: r.stage_label),
    ("HS codes", lambda r: ";".join(r.hs_codes)),
    ("supplier", lambda r: r.supplier),
    ("supplier country", lambda r: r.supplier_country),
    ("tier", lambda r: r.tier),
    ("share (0-1)", lambda r: r.share),
    ("quantity", lambda r: r.quantity),
    ("unit", lambda r: r.unit),
    ("tonnes", lambda r: r.quantity_t),
    ("looked through", lambda r: r.looked_through),
    ("origins (share)", lambda r: "; ".join(f"{o.country} {o.share:.3f}" for o in r.origins[:10])),
    ("GeoPolRisk", lambda r: r.geopolrisk),
    ("supplier country GeoPolRisk", lambda r: r.supplier_country_geopolrisk),
    ("notes", lambda r: "; ".join(r.notes)),
]
_ACTION_COLUMNS: list[SheetColumn[Action]] = [
    ("priority (1 = act now)", lambda a: a.priority),
    ("kind", lambda a: a.kind),
    ("action", lambda a: a.text),
    ("tonnes", lambda a: a.tonnes),
]


def _sheet(name: str, columns: Sequence[SheetColumn[T]], items: Iterable[T]) -> Sheet:
    """The sheet ``name``: a row per item, a cell per column."""
    header = [h for h, _ in columns]
    return Sheet(name, header, [[cell(item) for _, cell in columns] for item in items])


def _per_material(
    name: str,
    columns: Sequence[SheetColumn[T]],
    materials: Sequence[MaterialExposure],
    children: Callable[[MaterialExposure], Iterable[T]],
) -> Sheet:
    """The sheet ``name``: a row per child of each material, after the material's name and
    stage."""
    header = ["material", "stage", *(h for h, _ in columns)]
    rows = [
        [m.material_name, m.stage_label, *(cell(child) for _, cell in columns)]
        for m in materials
        for child in children(m)
    ]
    return Sheet(name, header, rows)


def _sheets(result: CompanyAssessment) -> list[Sheet]:
    """The report's tables, one worksheet each."""
    materials = result.materials
    return [
        _sheet("actions", _ACTION_COLUMNS, result.actions),
        _sheet("materials", _MATERIAL_COLUMNS, materials),
        _per_material("origins", _ORIGIN_COLUMNS, materials, lambda m: m.by_origin),
        _sheet("restrictions", _RESTRICTION_COLUMNS, result.restrictions),
        _per_material("options", _OPTION_COLUMNS, materials, lambda m: m.options),
        _sheet("lines", _LINE_COLUMNS, result.lines),
    ]


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
    return to_xlsx(_sheets(result), about, about_first=True)


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
