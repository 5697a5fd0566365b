"""Tables the pages show and the downloads serve: one definition, three renderings (HTML table,
CSV, XLSX). Each table carries its source and year so no figure leaves without them.

Downloads are written by :mod:`critmat.exports`, which neutralises every text cell that a
spreadsheet could run as a formula; numbers are written as numbers and are never touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from critmat import exports
from critmat.exports import neutralise

__all__ = ["Column", "Kind", "Table", "encode", "neutralise", "to_csv", "to_xlsx"]

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


def _kinds(table: Table) -> list[Kind]:
    """The kind of each download column (a country column's name column is text)."""
    kinds: list[Kind] = []
    for c in table.columns:
        kinds += [c.kind, "text"] if c.kind == "country" else [c.kind]
    return kinds


def to_csv(table: Table) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the accents), one header row, cells neutralised."""
    return exports.to_csv(table.header(), table.values())


def to_xlsx(table: Table) -> bytes:
    """A workbook with the data sheet and an "about" sheet (title, source, year, notes)."""
    header = table.header()
    sheet = exports.Sheet(
        "data",
        header,
        table.values(),
        number_formats={i: "0.0%" for i, kind in enumerate(_kinds(table)) if kind == "share"},
    )
    about = exports.provenance(table.title, [table.source], table.year, table.notes)
    return exports.to_xlsx([sheet], about)


MEDIA_TYPES = exports.MEDIA_TYPES


def encode(table: Table, fmt: str) -> bytes:
    """``table`` as ``fmt`` (``csv`` or ``xlsx``)."""
    return to_csv(table) if fmt == "csv" else to_xlsx(table)
