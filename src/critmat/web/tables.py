"""Tables the pages show and the downloads serve: one definition, three renderings (HTML table,
CSV, XLSX). Each table carries its source and year so no figure leaves without them.

Spreadsheet safety: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage
return) would be run as a formula by Excel or LibreOffice; :func:`neutralise` prefixes it with
an apostrophe. Numbers are written as numbers and are never touched.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "country", "material", "share", "num", "int", "hhi", "bool", "year"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "text"
    #: Header used in downloads (units spelled out); defaults to ``label``.
    export_label: str | None = None

    @property
    def download_label(self) -> str:
        if self.export_label:
            return self.export_label
        return f"{self.label} (0-1)" if self.kind == "share" else self.label


@dataclass
class Table:
    """Rows of plain values (``None`` = missing) with their columns, source and year."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    source: str
    year: str = ""
    notes: list[str] = field(default_factory=list)

    def header(self) -> list[str]:
        """Download headers: a country column gives its ISO3 code and then its name."""
        out: list[str] = []
        for c in self.columns:
            out.append(c.download_label)
            if c.kind == "country":
                out.append(f"{c.label} (name)")
        return out

    def values(self) -> list[list[Any]]:
        """Download rows, aligned with :meth:`header`."""
        from critmat.indicators.panel import country_name

        rows = []
        for row in self.rows:
            values: list[Any] = []
            for c in self.columns:
                value = _plain(row.get(c.key))
                values.append(value)
                if c.kind == "country":
                    values.append(country_name(value) if value else None)
            rows.append(values)
        return rows


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def neutralise(value: Any) -> Any:
    """``value``, with text that a spreadsheet would read as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the accents), one header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in table.header()])
    for row in table.values():
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """A workbook with the data sheet and an "about" sheet (title, source, year, notes)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "data"
    sheet.append([neutralise(h) for h in table.header()])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.values():
        sheet.append([neutralise(v) for v in row])
    kinds = [
        k for c in table.columns for k in ([c.kind, "text"] if c.kind == "country" else [c.kind])
    ]
    for index, (label, kind) in enumerate(zip(table.header(), kinds, strict=True), start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(10, min(48, len(label) + 2))
        if kind == "share":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
    sheet.freeze_panes = "A2"
    about = book.create_sheet("about")
    for key, value in (
        ("table", table.title),
        ("source", table.source),
        ("year", table.year),
        *(("note", n) for n in table.notes),
    ):
        about.append([key, neutralise(value)])
    about.column_dimensions["A"].width = 10
    about.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def encode(table: Table, fmt: str) -> bytes:
    return to_csv(table) if fmt == "csv" else to_xlsx(table)
