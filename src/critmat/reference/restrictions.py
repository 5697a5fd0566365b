"""Registry of export restrictions on critical raw materials (``data/restrictions.csv``).

Each row is one legal instrument or one phase of a measure (e.g. DR Congo's cobalt suspension,
its extension and the quota regime are three rows). Columns:

- ``id``; ``country`` (ISO3 of the restricting country); ``title`` (the instrument);
- ``materials``: catalogue ids, ``;``-separated, validated against the catalogue;
- ``hs_codes``: HS 1992 6-digit codes the measure affects, ``;``-separated (empty for technology
  or equipment measures); ``hs_precision``: ``exact`` | ``approximate`` | ``broad`` | ``none``,
  how well those codes match the items named in the measure (national 8-10 digit lines and later
  HS editions are mapped to the closest HS92 code);
- ``measure``: ``export_licensing`` | ``export_ban`` | ``export_quota`` | ``export_suspension`` |
  ``export_tax`` | ``other``;
- ``announced``, ``effective``, ``suspended_from``, ``suspended_until``, ``ended``: ISO dates or
  empty (``ended`` is the last day the measure applied);
- ``targets``: ``all`` or ``;``-separated ISO3 of the destinations targeted;
- ``status`` (``in_force`` | ``suspended`` | ``ended`` | ``superseded`` | ``announced``) as of
  ``status_as_of``;
- ``confidence``: ``confirmed`` (dates and scope checked against the instrument's text as
  reprinted, an official news agency, or several independent reports), ``secondary`` (a tracker
  or a single secondary source), ``unconfirmed`` (not checked);
- ``notes``; ``sources`` (`` | ``-separated citations).

Sources are cited per row; the starting list came from trackers citing MOFCOM/GACC announcements
(VSSpowerlifting/strategic-materials-policy-tracker), ARECOMS press releases and Reuters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, cast, get_args

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference._common import HS6, data_path, read_csv_rows, required_cell
from critmat.reference.countries import resolve_country
from critmat.reference.materials import Catalogue, load_catalogue, load_hs92_codes

__all__ = [
    "Confidence",
    "Measure",
    "Restriction",
    "load_restrictions",
    "restrictions_for",
]

Measure = Literal[
    "export_licensing", "export_ban", "export_quota", "export_suspension", "export_tax", "other"
]
Confidence = Literal["confirmed", "secondary", "unconfirmed"]
Status = Literal["in_force", "suspended", "ended", "superseded", "announced"]
Precision = Literal["exact", "approximate", "broad", "none"]

COLUMNS = (
    "id",
    "country",
    "materials",
    "hs_codes",
    "hs_precision",
    "measure",
    "title",
    "announced",
    "effective",
    "suspended_from",
    "suspended_until",
    "ended",
    "targets",
    "status",
    "status_as_of",
    "confidence",
    "notes",
    "sources",
)


@dataclass(frozen=True)
class Restriction:
    """One export-restriction measure (see the module docstring for the columns)."""

    id: str
    country: str
    materials: tuple[str, ...]
    hs_codes: tuple[str, ...]
    hs_precision: Precision
    measure: Measure
    title: str
    announced: date | None
    effective: date | None
    suspended_from: date | None
    suspended_until: date | None
    ended: date | None
    targets: tuple[str, ...]  # ("all",) or ISO3 codes
    status: Status
    status_as_of: date
    confidence: Confidence
    notes: str
    sources: tuple[str, ...]

    def active_on(self, day: date) -> bool:
        """True if the measure applied on ``day`` by its own dates.

        Applies from ``effective`` to ``ended`` (inclusive), except between ``suspended_from`` and
        ``suspended_until`` (inclusive). A measure without an effective date is never active. For
        days after ``status_as_of`` this reads the instrument's scheduled dates; later events
        (e.g. a further suspension) are not known to the registry.
        """
        if self.effective is None or day < self.effective:
            return False
        if self.ended is not None and day > self.ended:
            return False
        return not (
            self.suspended_from is not None
            and day >= self.suspended_from
            and (self.suspended_until is None or day <= self.suspended_until)
        )

    def effective_year(self) -> int | None:
        """Calendar year of ``effective`` (``None`` if not known)."""
        return self.effective.year if self.effective else None

    @property
    def targets_all(self) -> bool:
        """True if the measure applies to exports to every destination."""
        return self.targets == ("all",)


def as_of(day: date | None = None) -> date:
    """The day a restriction's status is read for: ``day`` when the user sets one, else today
    (the one rule for every overview, material page, report and assessment)."""
    return day if day is not None else date.today()


def _split(value: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(sep) if part.strip())


def _parse_date(path: Path, row: int, column: str, value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputFileError(
            path, f"'{value}' is not an ISO date (YYYY-MM-DD)", row=row, field=column
        ) from None


def _choice(path: Path, row: int, column: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputFileError(
            path, f"'{value}' is not one of: {', '.join(allowed)}", row=row, field=column
        )
    return value


def _parse_row(path: Path, row_no: int, row: dict[str, str], catalogue: Catalogue) -> Restriction:
    need = functools.partial(required_cell, path, row_no, row)
    ident = need("id")
    try:
        country = resolve_country(need("country"))
    except UnknownNameError as exc:
        raise InputFileError(path, str(exc), row=row_no, field="country", hint=exc.hint) from None

    materials = _split(need("materials"))
    for material_id in materials:
        if material_id not in catalogue:
            raise InputFileError(
                path, f"unknown material id '{material_id}'", row=row_no, field="materials"
            )
    hs_table = load_hs92_codes()
    hs_codes = _split(row.get("hs_codes") or "")
    for code in hs_codes:
        if not HS6.match(code):
            raise InputFileError(
                path, f"'{code}' is not a 6-digit HS code", row=row_no, field="hs_codes"
            )
        if code not in hs_table:
            raise InputFileError(
                path, f"HS code '{code}' is not in hs92_codes.csv", row=row_no, field="hs_codes"
            )
    precision = _choice(path, row_no, "hs_precision", need("hs_precision"), get_args(Precision))
    if (precision == "none") != (not hs_codes):
        raise InputFileError(
            path,
            "hs_precision is 'none' exactly when hs_codes is empty",
            row=row_no,
            field="hs_precision",
        )

    targets_text = need("targets")
    if targets_text == "all":
        targets: tuple[str, ...] = ("all",)
    else:
        try:
            targets = tuple(resolve_country(t) for t in _split(targets_text))
        except UnknownNameError as exc:
            raise InputFileError(path, str(exc), row=row_no, field="targets") from None

    dates = {
        col: _parse_date(path, row_no, col, row.get(col) or "")
        for col in ("announced", "effective", "suspended_from", "suspended_until", "ended")
    }
    status_as_of = _parse_date(path, row_no, "status_as_of", need("status_as_of"))
    if status_as_of is None:  # need() guarantees a value; keeps the type checker honest
        raise InputFileError(path, "value required", row=row_no, field="status_as_of")
    announced, effective = dates["announced"], dates["effective"]
    if announced and effective and effective < announced:
        raise InputFileError(
            path, "effective date is before the announcement", row=row_no, field="effective"
        )
    if effective and dates["ended"] and dates["ended"] < effective:
        raise InputFileError(path, "ended is before the effective date", row=row_no, field="ended")
    if dates["suspended_until"] and not dates["suspended_from"]:
        raise InputFileError(
            path, "suspended_until without suspended_from", row=row_no, field="suspended_from"
        )
    if (
        dates["suspended_from"]
        and dates["suspended_until"]
        and dates["suspended_until"] < dates["suspended_from"]
    ):
        raise InputFileError(
            path, "suspension ends before it starts", row=row_no, field="suspended_until"
        )

    sources = _split(need("sources"), "|")
    return Restriction(
        id=ident,
        country=country,
        materials=materials,
        hs_codes=hs_codes,
        hs_precision=cast(Precision, precision),
        measure=cast(Measure, _choice(path, row_no, "measure", need("measure"), get_args(Measure))),
        title=need("title"),
        announced=announced,
        effective=effective,
        suspended_from=dates["suspended_from"],
        suspended_until=dates["suspended_until"],
        ended=dates["ended"],
        targets=targets,
        status=cast(Status, _choice(path, row_no, "status", need("status"), get_args(Status))),
        status_as_of=status_as_of,
        confidence=cast(
            Confidence,
            _choice(path, row_no, "confidence", need("confidence"), get_args(Confidence)),
        ),
        notes=(row.get("notes") or "").strip(),
        sources=sources,
    )


def _load(path: Path, catalogue: Catalogue) -> tuple[Restriction, ...]:
    out: list[Restriction] = []
    seen: set[str] = set()
    for row_no, row in read_csv_rows(path, COLUMNS):
        restriction = _parse_row(path, row_no, row, catalogue)
        if restriction.id in seen:
            raise InputFileError(path, f"duplicate id '{restriction.id}'", row=row_no, field="id")
        seen.add(restriction.id)
        out.append(restriction)
    return tuple(out)


@functools.cache
def _default_restrictions() -> tuple[Restriction, ...]:
    return _load(data_path("restrictions.csv"), load_catalogue())


def load_restrictions(path: str | Path | None = None) -> tuple[Restriction, ...]:
    """Load and validate the registry (the shipped CSV, cached, when ``path`` is None).

    Errors name the row (1-based, header = row 1) and column: bad date, unknown material id,
    bad or unlisted HS code, unknown country, value outside the allowed set, inconsistent dates.
    """
    if path is None:
        return _default_restrictions()
    return _load(Path(path), load_catalogue())


def restrictions_for(
    material_id: str | None = None, country: str | None = None
) -> tuple[Restriction, ...]:
    """Restrictions on a material and/or imposed by a country (both optional; None = all).

    ``material_id`` is a catalogue id or any name the catalogue resolves; it matches rows that
    list the material, its group or a member (``platinum`` matches rows on ``pgm``; ``rare_earths``
    matches rows on ``hree``/``lree``). ``country`` is anything :func:`resolve_country` accepts.
    """
    rows = load_restrictions()
    if material_id is not None:
        catalogue = load_catalogue()
        resolved = catalogue.resolve(material_id).material.id
        related = catalogue.related_ids(resolved)
        rows = tuple(r for r in rows if related.intersection(r.materials))
    if country is not None:
        iso3 = resolve_country(country)
        rows = tuple(r for r in rows if r.country == iso3)
    return rows
