"""Tables the pages show and the downloads serve: one definition, three renderings (HTML table,
CSV, XLSX). Each table carries its source and year so no figure leaves without them.

Downloads are written by :mod:`critmat.exports` (:meth:`Table.export` gives the table it
writes), which neutralises every text cell that a spreadsheet could run as a formula; numbers are
written as numbers and are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from critmat import exports
from critmat.exports import MEDIA_TYPES

__all__ = ["MEDIA_TYPES", "Column", "Kind", "Table", "encode", "to_csv", "to_xlsx"]

Kind = Literal["text", "country", "material", "share", "num", "int", "hhi", "bool", "year"]


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
                value = exports.json_value(row.get(c.key))
                values.append(value)
                if c.kind == "country":
                    values.append(country_name(value) if value else None)
            rows.append(values)
        return rows

    def export(self) -> exports.Table:
        """The table as :mod:`critmat.exports` writes it: sheet ``data``, shares formatted as
        percentages, and the title, source, year and notes as its provenance."""
        share_columns = {i: "0.0%" for i, kind in enumerate(_kinds(self)) if kind == "share"}
        provenance = exports.Provenance(self.title, [self.source], self.year, self.notes)
        return exports.Table(self.header(), self.values(), provenance, "data", share_columns)


def _kinds(table: Table) -> list[Kind]:
    """The kind of each download column (a country column's name column is text)."""
    kinds: list[Kind] = []
    for c in table.columns:
        kinds += [c.kind, "text"] if c.kind == "country" else [c.kind]
    return kinds


def to_csv(table: Table) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the accents), one header row, cells neutralised."""
    return exports.to_csv(table.export())


def to_xlsx(table: Table) -> bytes:
    """A workbook with the data sheet and an "about" sheet (title, source, year, notes)."""
    return exports.to_xlsx(table.export())


def encode(table: Table, fmt: str) -> bytes:
    """``table`` as ``fmt`` (``csv``, ``xlsx`` or ``json``)."""
    return exports.encode(table.export(), fmt)
