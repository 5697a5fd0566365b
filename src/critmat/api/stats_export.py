"""A thin adapter from record tables to :mod:`critmat.exports`, which writes (and neutralises)
every cell.

No route uses it any more: the statistics answers carry their download as a
:class:`critmat.exports.Table` (:func:`critmat.services.statistics_models.table`) and the risk
routes write through :mod:`critmat.exports` directly. Only ``tests/test_exports.py`` still
imports it; delete the two together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from critmat import exports
from critmat.exports import MEDIA_TYPES

__all__ = ["MEDIA_TYPES", "ExportFormat", "Table", "table_download", "to_csv", "to_xlsx"]

ExportFormat = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Table:
    """Rows to download: ``columns`` in order, each row a mapping from column to value;
    ``sources`` (e.g. ``"baci HS92 202501"``) go to the XLSX ``about`` sheet. The worksheet is
    named after ``title``."""

    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    title: str = "data"
    sources: Sequence[str] = ()

    def export(self) -> exports.Table:
        """The table as :mod:`critmat.exports` writes it."""
        provenance = exports.Provenance(self.title, self.sources)
        return exports.Table.from_records(self.rows, self.columns, provenance, sheet=self.title)


def to_csv(table: Table) -> bytes:
    """CSV (UTF-8 with BOM, so Excel detects the encoding), every text cell neutralised."""
    return exports.to_csv(table.export())


def to_xlsx(table: Table) -> bytes:
    """An XLSX workbook: the table's sheet, then ``about``; text cells neutralised."""
    return exports.to_xlsx(table.export())


def table_download(table: Table, fmt: ExportFormat, stem: str) -> tuple[bytes, str, str]:
    """``(body, media type, Content-Disposition value)`` of ``table`` as ``fmt``."""
    return exports.download(table.export(), fmt, stem)
