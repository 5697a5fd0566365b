"""Tabular downloads (CSV and XLSX) of API tables, written by :mod:`critmat.exports`.

Queries echo user input (an importer group, a search term) into their tables, so every text cell
is neutralised there (see :mod:`critmat.exports`); numbers stay numbers. The XLSX holds the table
and an ``about`` sheet with its title and the critmat version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from critmat import exports
from critmat.exports import CSV_MEDIA_TYPE, MEDIA_TYPES, XLSX_MEDIA_TYPE, neutralise, safe_filename

__all__ = [
    "CSV_MEDIA_TYPE",
    "MEDIA_TYPES",
    "XLSX_MEDIA_TYPE",
    "ExportFormat",
    "Table",
    "neutralise",
    "safe_filename",
    "table_download",
    "to_csv",
    "to_xlsx",
]

ExportFormat = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Table:
    """Rows to download: ``columns`` in order, each row a mapping from column to value;
    ``sources`` (e.g. ``"baci HS92 202501"``) go to the XLSX ``about`` sheet."""

    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    title: str = "data"
    sources: Sequence[str] = ()

    def values(self) -> list[list[Any]]:
        """The rows as lists aligned with :attr:`columns`."""
        return [[row.get(c) for c in self.columns] for row in self.rows]


def to_csv(table: Table) -> bytes:
    """CSV (UTF-8 with BOM, so Excel detects the encoding), every text cell neutralised."""
    return exports.to_csv(table.columns, table.values())


def to_xlsx(table: Table) -> bytes:
    """An XLSX workbook: the table's sheet, then ``about``; text cells neutralised."""
    sheet = exports.Sheet(table.title, table.columns, table.values())
    return exports.to_xlsx([sheet], exports.provenance(table.title, table.sources))


def table_download(table: Table, fmt: ExportFormat, stem: str) -> tuple[bytes, str, str]:
    """``(body, media type, Content-Disposition value)`` of ``table`` as ``fmt``."""
    body = to_csv(table) if fmt == "csv" else to_xlsx(table)
    disposition = f'attachment; filename="{safe_filename(stem, fmt)}"'
    return body, MEDIA_TYPES[fmt], disposition
