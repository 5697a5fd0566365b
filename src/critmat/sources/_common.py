"""Helpers shared by the importers: country codes, number parsing and the final table check.

Every reader builds its table with the canonical columns plus a private ``_row`` column (the
1-based row of the source file as a spreadsheet shows it, or -1 when unknown) and hands it to
:func:`finalize`, which checks everything and casts to the canonical dtypes. A reader therefore
never returns a half-checked table.
"""

from __future__ import annotations

import gzip
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pycountry

from critmat.errors import InputFileError
from critmat.sources.base import (
    AGGREGATE_COUNTRIES,
    AGGREGATES_ALLOWED,
    CANONICAL_COLUMNS,
    COUNTRY_COLUMNS,
    KEY_COLUMNS,
    VOCABULARIES,
    Dataset,
)

YEAR_MIN = 1900
YEAR_MAX = 2100

#: Cell texts that mean "no value" in the published files (WGI uses ``..`` and ``#N/A``; the
#: geopolrisk bundle stores ``nan``/``None`` as text; BACI writes ``NA`` or leaves q blank).
NA_TOKENS = frozenset({"", "..", "#N/A", "N/A", "NA", "n/a", "nan", "NaN", "None", "null", "NULL"})

#: Kosovo: not in ISO 3166 but the user-assigned code used by the World Bank and the EU.
KOSOVO = "XKX"


def _known_alpha3() -> frozenset[str]:
    codes = {c.alpha_3 for c in pycountry.countries}
    codes |= {c.alpha_3 for c in pycountry.historic_countries if getattr(c, "alpha_3", None)}
    codes.add(KOSOVO)
    return frozenset(codes)


#: Codes accepted in the canonical ``country``/``exporter``/``importer`` columns: current ISO
#: 3166-1 alpha-3, former ISO alpha-3 codes (ISO 3166-3: ANT, SCG, YUG, SUN, ... — a release may
#: carry flows of countries that existed then) and XKX for Kosovo.
KNOWN_ALPHA3 = _known_alpha3()

_DTYPES = {"VARCHAR": "str", "INTEGER": "int64", "DOUBLE": "float64", "BOOLEAN": "bool"}

_NON_NEGATIVE: dict[Dataset, tuple[str, ...]] = {
    "production": ("quantity",),
    "trade": ("value_kusd", "quantity_t"),
    "governance": ("stderr", "sources", "percentile", "lower", "upper"),
    "stage_production": ("quantity_t",),
}


def is_na_token(value: object) -> bool:
    """True when a cell is empty or one of the texts the publishers use for "no value"."""
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in NA_TOKENS


def parse_number(value: object) -> float | None:
    """A cell as float; ``nan`` for an empty/NA cell; ``None`` when it is not a number."""
    if is_na_token(value):
        return float("nan")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def number_cell(
    value: object, path: Path | str, *, row: int | None, field: str, where: str = ""
) -> float:
    """A numeric cell as float (NaN for the "no value" tokens), else :class:`InputFileError`
    naming the cell (``where`` prefixes the message, e.g. ``"rowid 12: "``)."""
    number = parse_number(value)
    if number is None:
        raise InputFileError(path, f"{where}not a number: {value!r}", row=row, field=field)
    return number


def parse_year(value: object, path: Path | str, *, row: int | None, field: str) -> int:
    """A year cell or header as int in 1900..2100, else :class:`InputFileError`."""
    text = str(value).strip()
    if re.fullmatch(r"\d{4}(\.0+)?", text) is None:
        raise InputFileError(path, f"not a year: {value!r}", row=row, field=field)
    year = int(float(text))
    check_year(year, path, row=row, field=field)
    return year


def check_year(year: int, path: Path | str, *, row: int | None, field: str) -> None:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise InputFileError(
            path, f"year {year} outside {YEAR_MIN}..{YEAR_MAX}", row=row, field=field
        )


def finalize(
    dataset: Dataset,
    frame: pd.DataFrame,
    path: Path | str,
    *,
    sort: bool = True,
    unique: bool = True,
) -> pd.DataFrame:
    """Check a parsed table completely and return it with exactly the canonical columns/dtypes.

    ``frame`` holds the canonical columns and optionally ``_row`` (source row for messages).
    Checks: no missing key/text cell, years in range, countries known, no negative amounts,
    no duplicate keys (``unique=False`` skips that for a table made by GROUP BY on the key),
    at least one row. ``sort=False`` keeps the given order (already sorted by the caller).
    """
    spec = CANONICAL_COLUMNS[dataset]
    missing = [c for c in spec if c not in frame.columns]
    if missing:
        raise InputFileError(path, f"internal: columns {missing} not produced", field=missing[0])
    if frame.empty:
        raise InputFileError(path, "no data rows")
    rows = (
        frame["_row"].to_numpy()
        if "_row" in frame.columns
        else np.full(len(frame), -1, dtype=np.int64)
    )

    def fail(mask: np.ndarray, column: str, reason: str) -> None:
        position = int(np.flatnonzero(mask)[0])
        row = int(rows[position])
        count = int(mask.sum())
        more = f" ({count} rows in all)" if count > 1 else ""
        raise InputFileError(
            path,
            reason.format(frame[column].iloc[position]) + more,
            row=row if row > 0 else None,
            field=column,
        )

    for column, sql_type in spec.items():
        if sql_type in ("VARCHAR", "INTEGER", "BOOLEAN"):
            mask = frame[column].isna().to_numpy()
            if mask.any():
                fail(mask, column, "missing value")
    years = pd.to_numeric(frame["year"], errors="coerce")
    year_mask = (~years.between(YEAR_MIN, YEAR_MAX)).to_numpy()
    if year_mask.any():
        fail(year_mask, "year", f"year {{!r}} outside {YEAR_MIN}..{YEAR_MAX}")
    known = (
        KNOWN_ALPHA3 | set(AGGREGATE_COUNTRIES) if dataset in AGGREGATES_ALLOWED else KNOWN_ALPHA3
    )
    for column in COUNTRY_COLUMNS[dataset]:
        unknown = (~frame[column].isin(known)).to_numpy()
        if unknown.any():
            fail(unknown, column, "unknown country code {!r}")
    for column, allowed in VOCABULARIES.get(dataset, {}).items():
        outside = (~frame[column].isin(allowed)).to_numpy()
        if outside.any():
            fail(outside, column, f"{{!r}} is not one of {', '.join(allowed)}")
    for column in _NON_NEGATIVE[dataset]:
        negative = (pd.to_numeric(frame[column], errors="coerce") < 0).to_numpy()
        if negative.any():
            fail(negative, column, "negative value {!r}")

    out = pd.DataFrame(
        {column: frame[column].astype(_DTYPES[t]) for column, t in spec.items()}  # type: ignore[call-overload]
    )
    keys = list(KEY_COLUMNS[dataset])
    dup = out.duplicated(keys, keep=False).to_numpy() if unique else np.zeros(0, bool)
    if dup.any():
        position = int(np.flatnonzero(dup)[0])
        key = ", ".join(f"{k}={out[k].iloc[position]!r}" for k in keys)
        row = int(rows[position])
        raise InputFileError(
            path, f"duplicate row for {key}", row=row if row > 0 else None, field=keys[-1]
        )
    if sort:
        out = out.sort_values(keys, kind="stable", ignore_index=True)
    else:
        out = out.reset_index(drop=True)
    return out


def read_text(path: Path, *, encoding: str = "utf-8-sig", hint: str | None = None) -> str:
    """A text file's content, gunzipped when it starts with the gzip magic (``.csv.gz``,
    ``.json.gz``) and decoded strictly as ``encoding``: a byte that does not decode is an
    :class:`InputFileError` naming its row (1-based line), never a replaced character."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputFileError(path, f"not a readable gzip file ({exc})") from exc
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            path,
            f"not {encoding.upper().removesuffix('-SIG')}: byte 0x{data[exc.start]:02x} "
            "cannot be decoded",
            row=data.count(b"\n", 0, exc.start) + 1,
            hint=hint,
        ) from exc


def xlsx_sheets(path: Path) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The sheets of an .xlsx workbook as (title, rows of cell values), one sheet at a time; an
    unreadable or truncated workbook is an :class:`InputFileError`."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputFileError(path, f"not a readable .xlsx workbook ({exc})") from exc
    try:
        for sheet in workbook.worksheets:
            yield sheet.title, [tuple(r) for r in sheet.iter_rows(values_only=True)]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError) as exc:
        raise InputFileError(path, f"workbook is corrupt or truncated ({exc})") from exc
    finally:
        workbook.close()


def map_codes(codes: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    """Replace codes found in ``mapping``; leave the others as they are."""
    return [mapping.get(code, code) for code in codes]
