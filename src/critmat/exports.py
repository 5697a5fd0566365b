"""Table exports (CSV, XLSX and JSON): the one module behind every table download of the API and
the web pages, the company-assessment reports, every ``--format csv`` of the command line and the
files it writes. Nothing else in ``src/`` writes CSV or builds a workbook
(tests/test_exports.py checks it).

**The table value.** A :class:`Table` holds the ``columns``, the ``rows`` (aligned with the
columns) and its :class:`Provenance`: what the table is, its sources (dataset and release, as
``"baci HS92 202501"``), its year(s) and notes. :func:`encode` writes it as ``csv``, ``xlsx`` or
``json``; :func:`download` adds the media type and the ``Content-Disposition``.

**Formula neutralisation.** A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab,
carriage return or line feed) can be run as a formula by Excel, LibreOffice or Google Sheets
("CSV injection"). Text in our tables echoes user input (an importer group, a file name, a
supplier name, a scenario title), so every CSV and XLSX cell goes through :func:`cell`, the one
place that applies :func:`neutralise`, which works in this order:

1. **clean**: remove the control characters XML 1.0, hence XLSX, cannot hold (and DEL). Doing
   this first matters: ``"\\x01=HYPERLINK(...)"`` must not become a live formula once the
   control character is gone;
2. **neutralise**: if the cleaned text, or the text after its leading white space, starts with a
   formula character (the ASCII ones above or their full-width forms), prefix an apostrophe
   (OWASP's advice). The text is then shown as text and never evaluated.

Numbers stay numbers (``-3.0`` is written as a number, not as text); NaN and infinities, which
no spreadsheet holds, become empty cells. Lists become ``;``-joined text.

**Provenance.** An XLSX export holds the data sheet(s) and an ``about`` sheet (what the table is,
its sources and years, the critmat version). A JSON export carries the same lines under
``"provenance"``. A CSV holds only the header and the rows, so that any tool reads it as a plain
table (the downloads never had a leading comment line, and adding one would break readers that
take the first line as the header).

JSON is read by programs, not spreadsheets: its text is written unchanged (not neutralised);
non-finite numbers become ``null``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

ExportFormat = Literal["csv", "xlsx", "json"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MEDIA_TYPE = "application/json"
MEDIA_TYPES: Mapping[str, str] = {
    "csv": CSV_MEDIA_TYPE,
    "xlsx": XLSX_MEDIA_TYPE,
    "json": JSON_MEDIA_TYPE,
}

#: First characters that make a spreadsheet evaluate a cell (with their full-width forms, which
#: some spreadsheet programs fold to ASCII on input).
FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: Control characters an XLSX cell cannot hold (XML 1.0), and DEL; removed before neutralising.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHEET_TITLE = re.compile(r"[\[\]:*?/\\']")
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def clean_text(text: str) -> str:
    """``text`` without the control characters an XLSX cell cannot hold (tab, CR, LF kept)."""
    return ILLEGAL_CHARACTERS.sub("", text)


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` (already cleaned) as a formula."""
    return text[:1] in FORMULA_START or text.lstrip()[:1] in FORMULA_START


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell (see the module docstring).

    Text is cleaned, then prefixed with an apostrophe if it could be read as a formula; a list
    or tuple becomes ``;``-joined text of its neutralised parts; NaN becomes None. Other values
    (numbers, booleans, None, dates) are returned unchanged.
    """
    if isinstance(value, str):
        cleaned = clean_text(value)
        return "'" + cleaned if is_formula_like(cleaned) else cleaned
    if isinstance(value, list | tuple):
        return ";".join("" if v is None else str(neutralise(v)) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def cell(value: Any) -> str | int | float | bool | None:
    """The value written into an exported cell: a number, a boolean, None or neutralised text.

    Non-finite numbers become None; other numbers (numpy, Decimal) become ``float`` (``int``
    when integral types); dates become ISO 8601 text; anything else its neutralised ``str``.
    """
    if isinstance(value, str | list | tuple):
        safe: str = neutralise(value)
        return safe
    plain = json_value(value)
    return str(neutralise(plain)) if isinstance(plain, str) else plain


@dataclass(frozen=True)
class Provenance:
    """Where a table comes from: its ``title``, its ``sources`` (dataset and release, as the
    caller knows them, e.g. ``"baci HS92 202501"``), its ``year`` or years (free text, e.g.
    ``"2022"`` or ``"2019-2023"``) and ``notes``."""

    title: str = "data"
    sources: Sequence[str] = ()
    year: str = ""
    notes: Sequence[str] = ()

    def lines(self) -> list[tuple[str, Any]]:
        """The ``about`` lines ``(key, value)``: the table, each source, the year, each note and
        the producer (``critmat`` and its version)."""
        from critmat import __version__

        lines: list[tuple[str, Any]] = [("table", self.title)]
        lines += [("source", s) for s in self.sources if s]
        if self.year:
            lines.append(("year", self.year))
        lines += [("note", n) for n in self.notes]
        lines.append(("produced by", f"critmat {__version__}"))
        return lines


@dataclass(frozen=True)
class Table:
    """A table to export: ``columns`` (the header), ``rows`` aligned with them, and where it
    comes from. ``sheet`` names its XLSX worksheet; ``number_formats`` maps a 0-based column
    index to an Excel number format (``"0.0%"``) for its numeric cells."""

    columns: Sequence[Any]
    rows: Sequence[Sequence[Any]]
    provenance: Provenance = field(default_factory=Provenance)
    sheet: str = "data"
    number_formats: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        provenance: Provenance | None = None,
        sheet: str = "data",
    ) -> Table:
        """A table of mappings: ``columns`` in order (default: the keys of the first record);
        a key a record lacks is an empty cell."""
        header = list(columns) if columns is not None else list(records[0]) if records else []
        rows = [[record.get(c) for c in header] for record in records]
        return cls(header, rows, provenance or Provenance(), sheet)


def _csv_lines(table: Table) -> Iterable[list[Any]]:
    yield [cell(h) for h in table.columns]
    for row in table.rows:
        yield [cell(v) for v in row]


def csv_text(table: Table, line_end: str = "\r\n") -> str:
    """``table`` as CSV text, header first, every cell through :func:`cell` (``line_end``:
    RFC 4180's CRLF unless told). No provenance line: see the module docstring."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    for values in _csv_lines(table):
        writer.writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def to_csv(table: Table) -> bytes:
    """A download: UTF-8 CSV with a BOM (so Excel reads the accents), every cell neutralised."""
    return ("\ufeff" + csv_text(table)).encode("utf-8")


def write_csv(path: Path, table: Table) -> None:
    """Write ``table`` to ``path`` for the command line (UTF-8 without a BOM, CRLF line ends),
    every cell neutralised."""
    path.write_text(csv_text(table), encoding="utf-8", newline="")


def json_value(value: Any) -> Any:
    """``value`` as JSON holds it: text unchanged, numpy and Decimal numbers as numbers, numpy
    booleans as booleans, missing values (NaN, pandas' ``NA`` and ``NaT``) and infinities as
    None, dates as ISO 8601 text, lists element by element.

    The one rule for NaN and infinity in critmat's JSON (API answers, ``--format json``, JSON
    exports): they are ``null``, never the non-standard ``NaN``/``Infinity``.
    """
    if value is None or isinstance(value, bool | str):
        return value
    # pandas' missing values exist only once pandas is loaded: no need to import it to compare.
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is pandas.NA or value is pandas.NaT):
        return None
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":  # numpy.bool_
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def to_json(table: Table) -> bytes:
    """UTF-8 JSON ``{"columns": [...], "rows": [[...]], "provenance": {...}}``; the provenance
    holds ``table``, ``sources``, ``year``, ``notes`` and ``produced_by`` (the XLSX ``about``
    lines). Values are unchanged but for :func:`json_value`."""
    from critmat import __version__

    origin = table.provenance
    payload = {
        "columns": [json_value(c) for c in table.columns],
        "rows": [[json_value(v) for v in row] for row in table.rows],
        "provenance": {
            "table": origin.title,
            "sources": [s for s in origin.sources if s],
            "year": origin.year,
            "notes": list(origin.notes),
            "produced_by": f"critmat {__version__}",
        },
    }
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")


def encode(table: Table, fmt: str) -> bytes:
    """``table`` written as ``fmt`` (``csv``, ``xlsx`` or ``json``)."""
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    if fmt == "json":
        return to_json(table)
    raise ValueError(f"unknown export format {fmt!r}: expected one of {', '.join(MEDIA_TYPES)}")


def download(table: Table, fmt: str, stem: str) -> tuple[bytes, str, str]:
    """``(body, media type, Content-Disposition value)`` of ``table`` as ``fmt``; the file name
    is ``stem`` made safe (:func:`safe_filename`)."""
    body = encode(table, fmt)
    return body, MEDIA_TYPES[fmt], f'attachment; filename="{safe_filename(stem, fmt)}"'


@dataclass(frozen=True)
class Sheet:
    """One worksheet of a workbook of several tables: ``header`` and ``rows`` (aligned), with
    optional per-column layout.

    ``number_formats`` maps a 0-based column index to an Excel number format (``"0.0%"``);
    ``widths`` gives column widths in characters (default: from the header, 10 to 48).
    """

    name: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    number_formats: Mapping[int, str] = field(default_factory=dict)
    widths: Sequence[float] | None = None


def to_xlsx(
    content: Table | Sequence[Sheet],
    about: Sequence[tuple[str, Any]] = (),
    *,
    about_first: bool = False,
) -> bytes:
    """An XLSX workbook: a :class:`Table` as its sheet and an ``about`` sheet of its provenance,
    or several ``sheets`` and, if ``about`` has lines (key, value), an ``about`` sheet after
    them (before them with ``about_first``). Every cell goes through :func:`cell`; headers are
    bold and frozen."""
    from openpyxl import Workbook

    if isinstance(content, Table):
        if about:
            raise ValueError("a Table carries its own provenance: give no separate about lines")
        sheets: Sequence[Sheet] = [
            Sheet(content.sheet, content.columns, content.rows, content.number_formats)
        ]
        about = content.provenance.lines()
    else:
        sheets = content

    book = Workbook(write_only=True)
    if about and about_first:
        _write_about(book, about)
    for spec in sheets:
        _write_sheet(book, spec)
    if about and not about_first:
        _write_about(book, about)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_sheet(book: Any, spec: Sheet) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title=sheet_title(spec.name))
    header = [cell(h) for h in spec.header]
    widths = spec.widths or [max(10, min(48, len(str(h or "")) + 2)) for h in header]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = []
    for value in header:
        head = WriteOnlyCell(sheet, value=value)
        head.font = Font(bold=True)
        bold.append(head)
    sheet.append(bold)
    for row in spec.rows:
        values: list[Any] = [cell(v) for v in row]
        for index, number_format in spec.number_formats.items():
            if index < len(values) and isinstance(values[index], int | float):
                formatted = WriteOnlyCell(sheet, value=values[index])
                formatted.number_format = number_format
                values[index] = formatted
        sheet.append(values)


def _write_about(book: Any, about: Sequence[tuple[str, Any]]) -> None:
    sheet = book.create_sheet(title="about")
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 100
    for key, value in about:
        sheet.append([cell(key), cell(value)])


def sheet_title(title: str) -> str:
    """A valid worksheet title (no ``[]:*?/\\'``, at most 31 characters)."""
    cleaned = _SHEET_TITLE.sub(" ", clean_text(title)).strip() or "data"
    return cleaned[:31]


def safe_filename(stem: str, suffix: str, default: str = "critmat") -> str:
    """A download's file name: letters, digits, ``.``, ``_`` and ``-`` only (at most 120 before
    the suffix), ``default`` if nothing is left, then ``.suffix``."""
    cleaned = _UNSAFE_IN_FILENAME.sub("-", stem).strip("-.") or default
    return f"{cleaned[:120]}.{suffix}"
