"""World Mining Data (Austrian Federal Ministry of Finance): table 6.4 as published in Excel.

File ``6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_Minerals.xlsx``: one
sheet per commodity (the sheet name is the commodity, e.g. ``Cobalt``, ``Rare Earths (REO)``).
Each sheet has a title row, then a header row ``Country | unit | <year> ... | data source``,
then one row per country and a closing ``Total`` row. The data-source flag is ``r`` (reported),
``p`` (provisional) or ``e`` (estimated).

Output: the canonical ``production`` table. Decisions (all reported in ``notes``):
``Total`` rows are dropped; an empty cell is NaN (not reported), a 0 stays 0; the unit is kept
as published (``metr. t``, ``kg``, ``ct``, ``Mio m3`` for natural gas — never converted);
``estimated`` is True only for ``e`` (``p`` counts as reported); country names are mapped to
ISO3 (Kosovo to XKX, Taiwan to TWN, French Guiana to its own code GUF).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from critmat.errors import InputFileError, UnknownNameError
from critmat.reference.countries import resolve_country
from critmat.sources._common import finalize, number_cell, parse_year, xlsx_sheets
from critmat.sources.base import CanonicalBatch, Publication

WMD = Publication(
    "wmd",
    "World Mining Data, Austrian Federal Ministry of Finance (BMF): free to use under the "
    "publisher's terms of use, citing the source (https://www.bmf.gv.at/en/topics/mining/"
    "mineral-resources-policy/wmd.html); no open licence is named",
)

#: WMD spellings that pycountry does not resolve by itself (checked against the geopolrisk bundle,
#: which stores WMD names beside ISO codes).
WMD_NAME_ALIASES: dict[str, str] = {
    "bosnia-herzegovina": "BIH",
    "brunei": "BRN",
    "burma": "MMR",
    "cape verde": "CPV",
    "congo, d.r.": "COD",
    "congo, dem. rep.": "COD",
    "congo, rep.": "COG",
    "cote d'ivoire": "CIV",
    "côte d'ivoire": "CIV",
    "ivory coast": "CIV",
    "czech republic": "CZE",
    "slovak republic": "SVK",
    "french guiana": "GUF",
    "korea, north": "PRK",
    "korea, south": "KOR",
    "kosovo": "XKX",
    "kyrgyzstan": "KGZ",
    "laos": "LAO",
    "macedonia": "MKD",
    "north macedonia": "MKD",
    "russia": "RUS",
    "swaziland": "SWZ",
    "taiwan": "TWN",
    "turkey": "TUR",
    "türkiye": "TUR",
    "united kingdom": "GBR",
    "united states": "USA",
    "vietnam": "VNM",
}

_TOTAL_NAMES = frozenset({"total", "world", "world total"})
_FLAGS = {"r": False, "p": False, "e": True, "": False}


@lru_cache(maxsize=4096)
def wmd_country_iso3(name: str) -> str | None:
    """ISO3 code of a WMD country name, or ``None`` when it cannot be mapped.

    WMD's own spellings first, then the project's country resolver (ISO names, codes and
    common aliases, :func:`critmat.reference.countries.resolve_country`).
    """
    key = " ".join(name.split()).lower()
    if key in WMD_NAME_ALIASES:
        return WMD_NAME_ALIASES[key]
    try:
        return resolve_country(name.strip())
    except UnknownNameError:
        return None


def _norm(cell: object) -> str:
    return re.sub(r"[\s_]+", " ", str(cell)).strip().lower() if cell is not None else ""


def _find_header(rows: Sequence[tuple[Any, ...]]) -> int | None:
    for index, row in enumerate(rows[:30]):
        cells = [_norm(c) for c in row if c is not None and str(c).strip()]
        if cells and cells[0] == "country":
            return index
    return None


def _parse_sheet(
    path: Path, sheet: str, rows: list[tuple[Any, ...]], unmapped: dict[str, tuple[int, str]]
) -> tuple[list[dict[str, Any]], int, set[int]]:
    """Rows of one commodity sheet in long form; returns (records, dropped totals, years)."""
    header_index = _find_header(rows)
    if header_index is None:
        raise InputFileError(
            path,
            "no header row starting with 'Country' found",
            field=sheet,
            hint="expected the WMD 6.4 layout: title row, then 'Country | unit | years | "
            "data source'",
        )
    header = rows[header_index]
    names = [_norm(c) for c in header]
    col_country = names.index("country")
    if "unit" not in names:
        raise InputFileError(
            path, "header has no 'unit' column", row=header_index + 1, field=f"{sheet}/unit"
        )
    col_unit = names.index("unit")
    col_flag = next((i for i, n in enumerate(names) if n in ("data source", "source")), None)
    if col_flag is None:
        raise InputFileError(
            path,
            "header has no 'data source' column",
            row=header_index + 1,
            field=f"{sheet}/data source",
        )
    year_cols: list[tuple[int, int]] = []
    for i, cell in enumerate(header):
        if i in (col_country, col_unit, col_flag) or cell is None or not str(cell).strip():
            continue
        year = parse_year(cell, path, row=header_index + 1, field=f"{sheet}/{cell}")
        year_cols.append((i, year))
    if not year_cols:
        raise InputFileError(path, "header has no year columns", row=header_index + 1, field=sheet)

    records: list[dict[str, Any]] = []
    totals = 0
    for offset, row in enumerate(rows[header_index + 1 :]):
        excel_row = header_index + 2 + offset
        cells = list(row) + [None] * (len(header) - len(row))
        if all(c is None or not str(c).strip() for c in cells):
            continue
        name_cell = cells[col_country]
        name = str(name_cell).strip() if name_cell is not None else ""
        if not name:
            raise InputFileError(
                path, "row has values but no country", row=excel_row, field=f"{sheet}/Country"
            )
        if name.lower() in _TOTAL_NAMES:
            totals += 1
            continue
        unit_cell = cells[col_unit]
        unit = str(unit_cell).strip() if unit_cell is not None else ""
        if not unit:
            raise InputFileError(
                path, f"no unit for {name!r}", row=excel_row, field=f"{sheet}/unit"
            )
        flag_cell = cells[col_flag]
        flag = str(flag_cell).strip().lower() if flag_cell is not None else ""
        if flag not in _FLAGS:
            raise InputFileError(
                path,
                f"unknown data-source flag {flag_cell!r} (expected r, p or e)",
                row=excel_row,
                field=f"{sheet}/data source",
            )
        iso3 = wmd_country_iso3(name)
        if iso3 is None:
            unmapped.setdefault(name, (excel_row, sheet))
            continue
        for col, year in year_cols:
            number = number_cell(cells[col], path, row=excel_row, field=f"{sheet}/{year}")
            records.append(
                {
                    "commodity": sheet.strip(),
                    "country": iso3,
                    "year": year,
                    "quantity": number,
                    "unit": unit,
                    "estimated": _FLAGS[flag],
                    "_row": excel_row,
                }
            )
    return records, totals, {y for _, y in year_cols}


def read_wmd(path: Path) -> CanonicalBatch:
    """Read WMD table 6.4 (one sheet per commodity) into the canonical ``production`` table.

    Fails with :class:`InputFileError` (file, row, ``sheet/column``) on a missing header, a
    row without unit, a non-numeric cell, an unknown data-source flag or country names that
    cannot be mapped to ISO3 (all unmapped names are listed in one message).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file")
    records: list[dict[str, Any]] = []
    unmapped: dict[str, tuple[int, str]] = {}
    totals = 0
    years: set[int] = set()
    sheets: list[str] = []
    for sheet, rows in xlsx_sheets(path):
        if not any(any(c is not None and str(c).strip() for c in r) for r in rows):
            continue  # a blank sheet carries nothing
        sheet_records, sheet_totals, sheet_years = _parse_sheet(path, sheet, rows, unmapped)
        records.extend(sheet_records)
        totals += sheet_totals
        years |= sheet_years
        sheets.append(sheet)
    if unmapped:
        _name, (row, sheet) = next(iter(unmapped.items()))
        listing = "; ".join(f"{n!r} ({s} row {r})" for n, (r, s) in unmapped.items())
        raise InputFileError(
            path,
            f"{len(unmapped)} country name(s) cannot be mapped to ISO3: {listing}",
            row=row,
            field=f"{sheet}/Country",
            hint="add the spelling to critmat.sources.wmd.WMD_NAME_ALIASES",
        )
    if not records:
        raise InputFileError(path, "no commodity sheets with data rows")
    table = finalize("production", pd.DataFrame.from_records(records), path)
    units = sorted(
        {(c, u) for c, u in zip(table["commodity"], table["unit"], strict=True) if u != "metr. t"}
    )
    notes = [
        f"{len(sheets)} commodity sheets read; {totals} 'Total' rows dropped (world sums, not "
        "countries)",
        "empty cells kept as NaN quantity (not reported); zeros kept as 0",
        "estimated = data-source flag 'e'; 'p' (provisional) and 'r' (reported) count as not "
        f"estimated ({int(table['estimated'].sum())} estimated rows)",
        "units kept as published, no conversion; non-tonne units: "
        + ", ".join(f"{c}: {u}" for c, u in units),
        "country names mapped to ISO3 (Kosovo -> XKX, Taiwan -> TWN, French Guiana -> GUF)",
    ]
    version = f"World Mining Data 6.4 (data {min(years)}-{max(years)})"
    return WMD.batch(path, "production", table, version=version, notes=notes)
