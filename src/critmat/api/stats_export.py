"""Tabular downloads (CSV and XLSX) of API tables, safe to open in a spreadsheet program.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be run as
a formula by Excel, LibreOffice or Google Sheets ("CSV injection"). Names and notes in the
reference data are ours, but queries echo user input (an importer, a search term), so every text
cell is passed through :func:`neutralise`, which prefixes such text with an apostrophe. Numbers
stay numbers (a negative number is not text and is not changed).

The web UI reuses :func:`table_download` for its own download links.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

ExportFormat = Literal["csv", "xlsx"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: Mapping[str, str] = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
# Characters XML 1.0 (hence XLSX) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Any) -> Any:
    """Return ``value`` made safe for a spreadsheet cell.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading apostrophe
    (OWASP's advice), so it is shown as text instead of being evaluated. Other values are
    returned unchanged, except that lists become ``;``-joined text (each part neutralised)
    and NaN becomes None.
    """
    if isinstance(value, list | tuple):
        return ";".join(str(neutralise(v)) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Table:
    """Rows to download: ``columns`` in order, each row a mapping from column to value."""

    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    title: str = "data"


def _cell(value: Any) -> Any:
    value = neutralise(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_csv(table: Table) -> bytes:
    """CSV (UTF-8 with BOM, so Excel detects the encoding), every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in table.columns])
    for row in table.rows:
        values = [_cell(row.get(c)) for c in table.columns]
        writer.writerow(["" if v is None else v for v in values])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """An XLSX workbook with one sheet; text cells neutralised and stored as text."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(table.title))
    sheet.append([_xlsx_value(c) for c in table.columns])
    for row in table.rows:
        sheet.append([_xlsx_value(row.get(c)) for c in table.columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\']", " ", title).strip() or "data"
    return cleaned[:31]


def safe_filename(stem: str, fmt: ExportFormat) -> str:
    """A filename of letters, digits, ``.``, ``_`` and ``-`` only, with the format's suffix."""
    cleaned = _SAFE_FILENAME.sub("-", stem).strip("-.") or "critmat"
    return f"{cleaned[:120]}.{fmt}"


def table_download(table: Table, fmt: ExportFormat, stem: str) -> tuple[bytes, str, str]:
    """``(body, media type, Content-Disposition value)`` of ``table`` as ``fmt``."""
    body = to_csv(table) if fmt == "csv" else to_xlsx(table)
    disposition = f'attachment; filename="{safe_filename(stem, fmt)}"'
    return body, MEDIA_TYPES[fmt], disposition
