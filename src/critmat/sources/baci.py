"""CEPII BACI bilateral trade, as published (zip of yearly CSVs) or as yearly CSV files.

Published layout (e.g. ``BACI_HS92_V202401b.zip``): one ``BACI_HS92_Y<year>_V202401b.csv`` per
year with columns ``t,i,j,k,v,q`` (year, exporter code, importer code, HS6 product, value in
thousand current USD, quantity in metric tonnes), plus ``country_codes_V202401b.csv`` and
``product_codes_HS92_V202401b.csv``. ``q`` may be blank or ``NA``; values may be space-padded;
``k`` loses its leading zero in some tools and is zero-padded back to six digits here.

Parsing is done by DuckDB's built-in CSV reader (no extension) one year file at a time, so the
full release (about 10 M rows and 250 MB per year) never goes through Python row by row.

Decisions (reported in ``notes``):

- BACI country codes are mapped to ISO3 with the release's own country table. Several codes map
  to one ISO3 (56 and 58 both BEL, 276 and 280 both DEU, 729 and 736 both SDN): rows that then
  share (year, exporter, importer, hs6) are **summed**. The value is the sum; the quantity is
  the sum only when every merged part has a quantity, otherwise NaN — a partial sum would
  understate tonnes and bias unit values, and NaN never becomes 0.
- BACI's non-ISO codes are mapped on purpose: ``S19`` (490, "Other Asia, nes", which is how UN
  Comtrade reports Taiwan) -> TWN; ``ZA1`` (711, Southern African Customs Union, reported as one
  until 1999, when South Africa 710 does not yet appear) -> ZAF; ``PUS`` (849, US Misc. Pacific
  Islands, a former ISO code) -> UMI. Former ISO codes (ANT, SCG, ...) are kept as they are.
- Without a country table next to the files the codes are read as UN M49 numbers (pycountry),
  plus BACI's own non-M49 codes (251 FRA, 579 NOR, 699 IND, 757 CHE, 842 USA, ...).
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pycountry

from critmat.errors import InputFileError
from critmat.sources import hs_revisions
from critmat.sources._common import KNOWN_ALPHA3, YEAR_MAX, YEAR_MIN, finalize, is_na_token
from critmat.sources.base import CanonicalBatch, file_sha256

SOURCE = "baci"
LICENCE = "Etalab Open Licence 2.0 (CEPII BACI, https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37)"


#: The version's second word when no file name gives the release.
UNKNOWN_RELEASE = "unknown release"


def licence_of(revision: str, release: str) -> str:
    """The licence with the attribution CEPII asks for, e.g. "CEPII BACI HS17 V202601"."""
    named = revision if release == UNKNOWN_RELEASE else f"{revision} {release}"
    return f'{LICENCE}; attribution: "CEPII BACI {named}"'


COLUMNS = ("t", "i", "j", "k", "v", "q")

#: BACI country-table ISO3 entries that are not ISO codes, and what critmat uses instead.
BACI_ISO3_FIXES: dict[str, str] = {"S19": "TWN", "ZA1": "ZAF", "PUS": "UMI"}

#: BACI codes that differ from UN M49 (used only when no country table is available).
BACI_NON_M49: dict[int, str] = {
    58: "BEL",  # Belgium-Luxembourg (...1998)
    251: "FRA",  # France incl. Monaco
    280: "DEU",  # Fed. Rep. of Germany (...1990)
    381: "ITA",  # Italy incl. San Marino (older releases)
    490: "TWN",  # Other Asia, nes = Taiwan
    579: "NOR",  # Norway incl. Svalbard and Jan Mayen
    699: "IND",  # India
    711: "ZAF",  # Southern African Customs Union (...1999)
    736: "SDN",  # Sudan (...2011)
    757: "CHE",  # Switzerland incl. Liechtenstein
    842: "USA",  # USA incl. Puerto Rico and US Virgin Islands
    849: "UMI",  # US Misc. Pacific Islands
}

_NAME = re.compile(r"BACI[_-](HS\d{2})[_-](?:Y(\d{4})[_-])?(V\d{6}[A-Za-z0-9]*)", re.IGNORECASE)
_NA_SQL = "('', 'NA', 'N/A', 'nan', 'NaN', 'None', 'NULL', 'null', '..')"

ProgressCallback = Callable[[int, int], None]


@dataclass
class CountryCodes:
    """BACI numeric code -> ISO3, with where it came from and what was fixed."""

    iso3: dict[int, str]
    origin: str
    notes: list[str] = field(default_factory=list)

    def arrow(self) -> pa.Table:
        return pa.table(
            {
                "code": pa.array(list(self.iso3), pa.int64()),
                "iso": pa.array(list(self.iso3.values()), pa.string()),
            }
        )


def parse_release_name(name: str) -> tuple[str, int | None, str] | None:
    """(nomenclature, year or None, version) from a BACI file name, e.g. ('HS92', 2022, ...)."""
    match = _NAME.search(name)
    if match is None:
        return None
    year = int(match.group(2)) if match.group(2) else None
    return match.group(1).upper(), year, "V" + match.group(3)[1:]


def codes_from_pairs(
    pairs: Sequence[tuple[str, str]], origin: str, path: Path | str
) -> CountryCodes:
    """Build the code table from (code, iso3) pairs of a BACI country table.

    Entries whose ISO3 is not a known code are left out unless :data:`BACI_ISO3_FIXES` covers
    them; a trade row using such a code then fails as "unknown country code".
    """
    iso3: dict[int, str] = {}
    fixed: list[str] = []
    skipped: list[str] = []
    for raw_code, raw_iso in pairs:
        try:
            code = int(str(raw_code).strip())
        except ValueError as exc:
            raise InputFileError(
                path, f"country code {raw_code!r} is not a number", field="country_code"
            ) from exc
        iso = (raw_iso or "").strip().upper()
        if iso in BACI_ISO3_FIXES:
            fixed.append(f"{code} {iso}->{BACI_ISO3_FIXES[iso]}")
            iso = BACI_ISO3_FIXES[iso]
        if iso not in KNOWN_ALPHA3:
            skipped.append(f"{code} {iso or '(blank)'}")
            continue
        iso3[code] = iso
    notes = [f"country codes from {origin}"]
    if fixed:
        notes.append("non-ISO BACI codes mapped: " + ", ".join(fixed))
    if skipped:
        notes.append(
            "country-table entries without a usable ISO3 (rows using them would be "
            "rejected): " + ", ".join(skipped)
        )
    merged: dict[str, list[int]] = {}
    for code, iso in iso3.items():
        merged.setdefault(iso, []).append(code)
    shared = {iso: codes for iso, codes in merged.items() if len(codes) > 1}
    if shared:
        notes.append(
            "codes sharing one ISO3 (flows summed): "
            + ", ".join(
                f"{'/'.join(map(str, sorted(c)))}->{iso}" for iso, c in sorted(shared.items())
            )
        )
    return CountryCodes(iso3, origin, notes)


def read_country_codes_csv(path: Path) -> CountryCodes:
    """Read ``country_codes_V*.csv`` (both the 2023+ and the older column names)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise InputFileError(path, "empty file")
    header = [h.strip().lower() for h in rows[0]]
    code_col = "country_code" if "country_code" in header else None
    iso_col = next((c for c in ("country_iso3", "iso_3digit_alpha") if c in header), None)
    if code_col is None or iso_col is None:
        missing = "country_code" if code_col is None else "country_iso3"
        raise InputFileError(path, f"missing column '{missing}'", row=1, field=missing)
    ci, ii = header.index(code_col), header.index(iso_col)
    pairs = [(r[ci], r[ii]) for r in rows[1:] if len(r) > max(ci, ii) and r[ci].strip()]
    return codes_from_pairs(pairs, path.name, path)


def m49_country_codes() -> CountryCodes:
    """Fallback when no BACI country table is at hand: UN M49 numbers plus BACI's own codes."""
    iso3: dict[int, str] = {}
    for country in pycountry.historic_countries:
        numeric = getattr(country, "numeric", None)
        alpha3 = getattr(country, "alpha_3", None)
        if numeric and alpha3:
            iso3[int(numeric)] = alpha3
    for country in pycountry.countries:  # current codes win over former ones
        iso3[int(country.numeric)] = country.alpha_3
    iso3.update(BACI_NON_M49)
    return CountryCodes(
        iso3,
        "UN M49 (pycountry) plus BACI's own codes",
        [
            "no country_codes_*.csv found: codes read as UN M49 numbers (pycountry) plus BACI's "
            "non-M49 codes " + ", ".join(f"{k}->{v}" for k, v in sorted(BACI_NON_M49.items()))
        ],
    )


# --------------------------------------------------------------------------------------------
# validation and aggregation in DuckDB (shared with the geopolrisk bundle reader)


_CHECKS: tuple[tuple[str, str, str, str], ...] = (
    # (field, failing condition on table ``checked``, shown value, message)
    ("t", "year IS NULL", "t", "not a year: {!r}"),
    (
        "t",
        f"year NOT BETWEEN {YEAR_MIN} AND {YEAR_MAX}",
        "t",
        f"year {{!r}} outside {YEAR_MIN}..{YEAR_MAX}",
    ),
    ("i", "exporter IS NULL", "i", "unknown country code {!r}"),
    ("j", "importer IS NULL", "j", "unknown country code {!r}"),
    ("k", "NOT k_ok", "k", "not an HS6 product code: {!r}"),
    ("v", "v IS NULL OR trim(v) = ''", "v", "missing value {!r}"),
    ("v", "v_ IS NULL", "v", "not a number: {!r}"),
    ("v", "v_ < 0", "v", "negative value {!r}"),
    ("q", "q_bad", "q", "not a number: {!r}"),
    ("q", "q_ < 0", "q", "negative value {!r}"),
)


def validate_raw(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    path: Path | str,
    *,
    expected_year: int | None = None,
    row_is_line: bool = True,
    revision: str | None = None,
) -> None:
    """Check a raw relation ``(_row, t, i, j, k, v, q)`` of VARCHARs against table ``codes``.

    Leaves the parsed rows in temp table ``checked`` (see :func:`insert_checked`). ``_row`` is
    the spreadsheet row (header = 1) when ``row_is_line``, else the row number in the table.
    With ``revision`` (e.g. ``"HS17"``), a code listed in temp table ``foreign_hs`` (codes that
    do not exist in that revision, see :func:`_create_stage`) fails too.
    One scan answers all checks; only a failing check is looked up row by row.
    """
    con.execute("DROP TABLE IF EXISTS checked")
    con.execute(f"""
        CREATE TEMP TABLE checked AS
        SELECT r._row, r.t, r.i, r.j, r.k, r.v, r.q,
               TRY_CAST(trim(r.t) AS INTEGER) AS year,
               e.iso AS exporter, m.iso AS importer,
               TRY_CAST(trim(r.i) AS BIGINT) AS i_, TRY_CAST(trim(r.j) AS BIGINT) AS j_,
               coalesce(length(trim(r.k)) BETWEEN 1 AND 6
                        AND TRY_CAST(trim(r.k) AS UINTEGER) IS NOT NULL
                        AND NOT contains(r.k, '+') AND NOT contains(r.k, '.'), false) AS k_ok,
               lpad(trim(r.k), 6, '0') AS hs6,
               TRY_CAST(trim(r.v) AS DOUBLE) AS v_,
               CASE WHEN r.q IS NULL OR trim(r.q) IN {_NA_SQL} THEN NULL
                    ELSE TRY_CAST(trim(r.q) AS DOUBLE) END AS q_,
               (r.q IS NOT NULL AND trim(r.q) NOT IN {_NA_SQL}
                AND TRY_CAST(trim(r.q) AS DOUBLE) IS NULL) AS q_bad
        FROM {relation} r
        LEFT JOIN codes e ON e.code = TRY_CAST(trim(r.i) AS BIGINT)
        LEFT JOIN codes m ON m.code = TRY_CAST(trim(r.j) AS BIGINT)
    """)
    checks = list(_CHECKS)
    if expected_year is not None:
        checks.append(
            ("t", f"year <> {expected_year}", "t", f"year {{!r}} in the file for {expected_year}")
        )
    if revision is not None:
        checks.append(_foreign_code_check(revision))
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE coalesce({c[1]}, false))" for c in checks)
        + " FROM checked"
    ).fetchone()
    assert counts is not None
    for (column, condition, value, reason), count in zip(checks, counts, strict=True):
        if not count:
            continue
        first = con.execute(
            f"SELECT _row, {value} FROM checked WHERE coalesce({condition}, false) "
            "ORDER BY _row LIMIT 1"
        ).fetchone()
        assert first is not None
        row, shown = int(first[0]), first[1]
        more = f" ({count} rows in all)" if count > 1 else ""
        if row_is_line:
            raise InputFileError(path, reason.format(shown) + more, row=row, field=column)
        raise InputFileError(path, f"row {row}: " + reason.format(shown) + more, field=column)


#: Shown value of a code of another revision: the code and the revisions it exists in.
_FOREIGN_SHOWN = (
    "hs6 || ' (an ' || (SELECT f.known_in FROM foreign_hs f WHERE f.hs6 = checked.hs6) || ' code)'"
)


def _foreign_code_check(revision: str) -> tuple[str, str, str, str]:
    """The check (shaped as ``_CHECKS``) refusing codes that do not exist in ``revision``."""
    return (
        "k",
        "k_ok AND hs6 IN (SELECT hs6 FROM foreign_hs)",
        _FOREIGN_SHOWN,
        f"HS6 code {{}} does not exist in {revision}: the file holds another HS revision than "
        f"the {revision} it is read as (check the BACI_<HS>_... file name or the "
        "classification option)",
    )


def insert_checked(con: duckdb.DuckDBPyConnection, hs_filter: bool) -> None:
    """Append the validated rows of ``checked`` to ``stage`` (optionally HS-filtered)."""
    where = "WHERE hs6 IN (SELECT hs6 FROM hs_filter)" if hs_filter else ""
    con.execute(
        "INSERT INTO stage SELECT year, exporter, importer, hs6, v_, q_, i_, j_ "
        f"FROM checked {where}"
    )
    con.execute("DROP TABLE checked")


def aggregate_stage(
    con: duckdb.DuckDBPyConnection, path: Path | str
) -> tuple[pd.DataFrame, list[str]]:
    """Sum the typed rows of table ``stage`` to one row per (year, exporter, importer, hs6)."""
    source_rows, source_null_q = con.execute(
        "SELECT count(*), count(*) - count(q) FROM stage"
    ).fetchone() or (0, 0)
    mapped = con.execute(
        "SELECT i_or_j, iso, count(*) FROM ("
        " SELECT i AS i_or_j, exporter AS iso FROM stage UNION ALL"
        " SELECT j, importer FROM stage) GROUP BY ALL ORDER BY 2, 1"
    ).fetchall()
    arrow = con.sql("""
        SELECT year, exporter, importer, hs6, sum(v) AS value_kusd,
               CASE WHEN count(q) = count(*) THEN sum(q) END AS quantity_t,
               count(*) AS parts, count(*) - count(q) AS missing_q
        FROM stage GROUP BY year, exporter, importer, hs6
        ORDER BY year, exporter, importer, hs6
    """).to_arrow_table()
    frame = arrow.to_pandas()
    merged = frame[frame["parts"] > 1]
    partial = int(((merged["missing_q"] > 0) & (merged["missing_q"] < merged["parts"])).sum())
    by_iso: dict[str, list[int]] = {}
    for code, iso, _count in mapped:
        by_iso.setdefault(str(iso), []).append(int(code))
    used_shared = {iso: codes for iso, codes in by_iso.items() if len(codes) > 1}
    notes = [
        f"{source_rows} source rows; {int(source_null_q)} without quantity kept as NaN (never 0)",
        "codes that occur in the data and share one ISO3: "
        + (
            ", ".join(
                f"{'/'.join(map(str, sorted(c)))}->{iso}" for iso, c in sorted(used_shared.items())
            )
            or "none"
        ),
        f"{len(merged)} output rows are sums of {int(merged['parts'].sum())} source rows "
        f"that collapse to the same (year, exporter, importer, hs6); {partial} of them lack "
        "the quantity of some part and get NaN quantity (value is still the full sum)",
        f"{int(frame['quantity_t'].isna().sum())} output rows without quantity",
    ]
    frame["_row"] = -1
    return frame, notes


def _connect(temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if temp_dir is not None:
        con.execute(f"SET temp_directory = '{temp_dir.as_posix()}'")
    con.execute("SET preserve_insertion_order = true")
    return con


def _create_stage(
    con: duckdb.DuckDBPyConnection,
    codes: CountryCodes,
    hs_codes: set[str] | None,
    revision: str | None = None,
) -> None:
    """Temp tables ``codes`` (country codes), ``hs_filter``, ``foreign_hs`` (the codes that do
    not exist in ``revision``, with the revisions they exist in) and the empty ``stage``."""
    con.register("codes_arrow", codes.arrow())
    con.execute("CREATE TEMP TABLE codes AS SELECT * FROM codes_arrow")
    con.execute("CREATE TEMP TABLE foreign_hs (hs6 VARCHAR, known_in VARCHAR)")
    if revision is not None:
        con.executemany(
            "INSERT INTO foreign_hs VALUES (?, ?)",
            [
                (code, "/".join(r for r in hs_revisions.REVISIONS if r in known))
                for code, known in sorted(hs_revisions.absent_codes(revision).items())
            ],
        )
    con.execute("CREATE TEMP TABLE hs_filter (hs6 VARCHAR)")
    if hs_codes is not None:
        con.executemany(
            "INSERT INTO hs_filter VALUES (?)",
            [(str(code).strip().zfill(6),) for code in sorted(hs_codes)],
        )
    con.execute(
        "CREATE TEMP TABLE stage (year INTEGER, exporter VARCHAR, importer VARCHAR, "
        "hs6 VARCHAR, v DOUBLE, q DOUBLE, i BIGINT, j BIGINT)"
    )


# --------------------------------------------------------------------------------------------
# files


def _check_header(csv_path: Path, shown: Path | str) -> None:
    with csv_path.open("rb") as handle:
        first = handle.readline()
        if not first:
            raise InputFileError(shown, "empty file")
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(size - 1)
        last_byte = handle.read(1)
    names = [n.strip().strip('"').lower() for n in first.decode("utf-8-sig").strip().split(",")]
    if tuple(names) != COLUMNS:
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise InputFileError(
                shown,
                f"missing column '{missing[0]}' (header is "
                f"{','.join(names)!r}, expected t,i,j,k,v,q)",
                row=1,
                field=missing[0],
            )
        raise InputFileError(
            shown,
            f"unexpected columns {','.join(names)!r} (expected t,i,j,k,v,q in this order)",
            row=1,
            field=names[0],
        )
    if last_byte not in (b"\n", b"\r"):
        row, field = _last_line_position(csv_path)
        raise InputFileError(
            shown,
            "file does not end with a line break: truncated?",
            row=row,
            field=field,
            hint="download the release again",
        )


def _last_line_position(csv_path: Path) -> tuple[int, str]:
    """Row number (header = 1) of the file's last line and the column it breaks off in."""
    rows = 1
    last = b""
    with csv_path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            rows += chunk.count(b"\n")
            last = (last + chunk).rsplit(b"\n", 1)[-1]
    fields = last.decode("utf-8", "replace").split(",")
    return rows, COLUMNS[min(len(fields), len(COLUMNS)) - 1]


def _load_csv(
    con: duckdb.DuckDBPyConnection,
    csv_path: Path,
    shown: str,
    expected_year: int | None,
    hs_filter: bool,
    revision: str,
) -> int:
    """Read one yearly CSV of HS ``revision`` into ``stage``; return its number of data rows."""
    _check_header(csv_path, shown)
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
    try:
        con.execute("DROP VIEW IF EXISTS raw_year")
        con.execute("DROP TABLE IF EXISTS raw_file")
        con.execute(
            "CREATE TEMP TABLE raw_file AS SELECT * FROM read_csv(?, "
            f"header = true, delim = ',', quote = '\"', escape = '\"', columns = {columns}, "
            "auto_detect = false, strict_mode = true, null_padding = false)",
            [str(csv_path)],
        )
    except duckdb.Error as exc:
        message = str(exc)
        line = re.search(r"Line: (\d+)", message)
        detail = message.split("Possible fixes")[0].strip().replace("\n", " ")
        raise InputFileError(
            shown, f"cannot parse CSV: {detail}", row=int(line.group(1)) if line else None
        ) from exc
    # the table keeps the file's order, so rowid + 2 is the spreadsheet row (header = 1)
    con.execute("CREATE TEMP VIEW raw_year AS SELECT rowid + 2 AS _row, * FROM raw_file")
    count = con.execute("SELECT count(*) FROM raw_file").fetchone()
    rows = int(count[0]) if count else 0
    if rows == 0:
        raise InputFileError(shown, "no data rows (header only)")
    validate_raw(con, "raw_year", shown, expected_year=expected_year, revision=revision)
    insert_checked(con, hs_filter)
    con.execute("DROP VIEW raw_year")
    con.execute("DROP TABLE raw_file")
    return rows


@dataclass
class _Inputs:
    yearly: list[tuple[int | None, str, Callable[[Path], Path]]]  # (year, shown name, extract)
    codes: CountryCodes
    version: tuple[str, str] | None
    sha256: str
    origin: str
    notes: list[str]


def _from_zip(path: Path, workdir: Path) -> _Inputs:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(path, f"not a readable zip file ({exc}): truncated download?") from exc
    names = archive.namelist()

    def extract(member: str) -> Callable[[Path], Path]:
        def run(target_dir: Path) -> Path:
            target = target_dir / Path(member).name
            try:
                with archive.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                target.unlink(missing_ok=True)
                raise InputFileError(
                    path, f"member is corrupt or truncated ({exc})", field=member
                ) from exc
            except Exception as exc:  # zlib.error and friends
                target.unlink(missing_ok=True)
                raise InputFileError(
                    path, f"member is corrupt or truncated ({exc})", field=member
                ) from exc
            return target

        return run

    yearly: list[tuple[int | None, str, Callable[[Path], Path]]] = []
    for member in names:
        parsed = parse_release_name(Path(member).name)
        if parsed and parsed[1] is not None and member.lower().endswith(".csv"):
            yearly.append((parsed[1], f"{path}!{member}", extract(member)))
    if not yearly:
        raise InputFileError(path, "no BACI_<HS>_Y<year>_<version>.csv member in the zip")
    yearly.sort(key=lambda item: item[0] or 0)
    code_members = [m for m in names if re.search(r"country_codes_.*\.csv$", m, re.I)]
    if code_members:
        code_path = extract(code_members[0])(workdir)
        codes = read_country_codes_csv(code_path)
        codes.origin = f"{path.name}!{code_members[0]}"
        codes.notes[0] = f"country codes from {codes.origin}"
    else:
        codes = m49_country_codes()
    parsed = parse_release_name(path.name) or parse_release_name(Path(yearly[0][1]).name)
    version = (parsed[0], parsed[2]) if parsed else None
    return _Inputs(yearly, codes, version, file_sha256(path), str(path), [])


def _as_is(csv_path: Path) -> Callable[[Path], Path]:
    def run(_workdir: Path) -> Path:
        return csv_path

    return run


def _from_csvs(paths: Sequence[Path]) -> _Inputs:
    yearly: list[tuple[int | None, str, Callable[[Path], Path]]] = []
    for csv_path in paths:
        if not csv_path.is_file():
            raise InputFileError(csv_path, "file not found")
        parsed = parse_release_name(csv_path.name)
        yearly.append((parsed[1] if parsed else None, str(csv_path), _as_is(csv_path)))
    yearly.sort(key=lambda item: (item[0] or 0, item[1]))
    first = paths[0]
    parsed = parse_release_name(first.name)
    candidates = sorted(first.parent.glob("country_codes_*.csv"))
    if parsed:
        same = [c for c in candidates if parsed[2].lower() in c.name.lower()]
        candidates = same or candidates
    codes = read_country_codes_csv(candidates[0]) if candidates else m49_country_codes()
    version = (parsed[0], parsed[2]) if parsed else None
    if len(paths) == 1:
        digest = file_sha256(paths[0])
    else:
        import hashlib

        combined = hashlib.sha256()
        for csv_path in sorted(paths):
            combined.update(file_sha256(csv_path).encode())
        digest = combined.hexdigest()
    notes = (
        []
        if len(paths) == 1
        else ["sha256 is the sha256 of the sorted per-file sha256 hex digests"]
    )
    return _Inputs(yearly, codes, version, digest, ", ".join(map(str, paths)), notes)


def declared_revision(named: Sequence[tuple[str, str]], classification: str | None) -> str:
    """The HS revision a release is read as, from its file names and/or the caller's option.

    ``named`` holds (file shown in messages, revision its name carries) for every named input.
    The names must agree with each other and with ``classification``; when neither says
    anything the release cannot be read, because a code's meaning depends on the revision.
    """
    declared = None
    if classification is not None:
        try:
            declared = hs_revisions.normalise_revision(classification)
        except ValueError as exc:
            raise InputFileError("(option)", str(exc), field="classification") from None
    for shown, raw in named:
        try:
            from_name = hs_revisions.normalise_revision(raw)
        except ValueError as exc:
            raise InputFileError(shown, str(exc), field="classification") from None
        if declared is None:
            declared = from_name
        elif from_name != declared:
            raise InputFileError(
                shown,
                f"the file name says {from_name} but the release is read as {declared}",
                field="classification",
                hint="read files of one HS revision at a time, with the classification their "
                "names give",
            )
    if declared is None:
        shown = named[0][0] if named else "(input)"
        raise InputFileError(
            shown,
            "cannot tell the HS revision (HS92, HS17, HS22) of this BACI file",
            field="classification",
            hint="keep CEPII's file name (BACI_HS17_Y2024_V202601.csv, ...) or pass the "
            "classification (e.g. classification='HS17')",
        )
    return declared


def _named_revisions(inputs: _Inputs) -> list[tuple[str, str]]:
    named = [
        (shown, parsed[0])
        for _year, shown, _extract in inputs.yearly
        if (parsed := parse_release_name(Path(shown.rsplit("!", 1)[-1]).name))
    ]
    if inputs.version is not None:
        named.insert(0, (inputs.origin, inputs.version[0]))
    return named


def _filter_notes(revision: str, hs_codes: set[str] | None) -> list[str]:
    if hs_codes is None:
        return []
    notes = [f"filtered to {len(hs_codes)} HS6 codes"]
    foreign = sorted(set(hs_codes) & set(hs_revisions.absent_codes(revision)))
    if foreign:
        notes.append(
            f"{len(foreign)} filter codes do not exist in {revision} and cannot occur in it: "
            + ", ".join(foreign)
            + f" (give the {revision} codes of those goods to keep them)"
        )
    return notes


def read_baci(
    path: Path | Sequence[Path],
    hs_codes: set[str] | None = None,
    progress: ProgressCallback | None = None,
    classification: str | None = None,
) -> CanonicalBatch:
    """Read a BACI release into the canonical ``trade`` table, as the series of its HS revision.

    ``path``: the published zip, one yearly CSV, a directory holding yearly CSVs, a list of
    yearly CSVs, or a Parquet extract (see :func:`read_extract`). The HS revision (``HS92``,
    ``HS17``, ``HS22``) comes from CEPII's file names and/or ``classification``; it becomes the
    batch's ``series`` and the first word of its version, and every code is checked against it
    (:mod:`critmat.sources.hs_revisions`). ``hs_codes`` keeps only those HS6 codes (all when
    ``None``); ``progress`` is called as ``progress(done, total)`` after each year file. Every
    row of every file is checked before anything is returned.
    """
    if isinstance(path, str | Path) and Path(path).suffix.lower() == ".parquet":
        return read_extract(Path(path), hs_codes=hs_codes, classification=classification)
    with tempfile.TemporaryDirectory(prefix="critmat-baci-") as tmp:
        workdir = Path(tmp)
        if isinstance(path, str | Path):
            path = Path(path)
            if path.is_dir():
                files = sorted(p for p in path.glob("BACI_*.csv") if parse_release_name(p.name))
                if not files:
                    raise InputFileError(path, "no BACI_<HS>_Y<year>_<version>.csv in directory")
                inputs = _from_csvs(files)
            elif not path.is_file():
                raise InputFileError(path, "file not found")
            elif path.stat().st_size == 0:
                raise InputFileError(path, "empty file")
            elif zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":
                inputs = _from_zip(path, workdir)
            else:
                inputs = _from_csvs([path])
        else:
            paths = [Path(p) for p in path]
            if not paths:
                raise InputFileError("(no files)", "no BACI file given")
            inputs = _from_csvs(paths)
        revision = declared_revision(_named_revisions(inputs), classification)

        con = _connect(workdir)
        try:
            _create_stage(con, inputs.codes, hs_codes, revision)
            total = len(inputs.yearly)
            for done, (year, shown, extract) in enumerate(inputs.yearly, start=1):
                csv_path = extract(workdir)
                try:
                    _load_csv(con, csv_path, shown, year, hs_codes is not None, revision)
                finally:
                    if csv_path.parent == workdir:
                        csv_path.unlink(missing_ok=True)
                if progress is not None:
                    progress(done, total)
            frame, agg_notes = aggregate_stage(con, inputs.origin)
        finally:
            con.close()

    if frame.empty:
        raise InputFileError(
            inputs.origin,
            "no trade rows left" + (" after the HS filter" if hs_codes is not None else ""),
        )
    table = finalize("trade", frame, inputs.origin, sort=False, unique=False)
    years = sorted({y for y, _, _ in inputs.yearly if y is not None}) or sorted(set(table["year"]))
    release = inputs.version[1] if inputs.version else UNKNOWN_RELEASE
    notes = [
        *inputs.codes.notes,
        *inputs.notes,
        *agg_notes,
        *_filter_notes(revision, hs_codes),
        *hs_revisions.bundling_notes(revision, set(table["hs6"])),
        f"years {years[0]}-{years[-1]} from {len(inputs.yearly)} file(s)",
    ]
    return CanonicalBatch(
        dataset="trade",
        source=SOURCE,
        version=f"{revision} {release}",
        licence=licence_of(revision, release),
        origin=inputs.origin,
        sha256=inputs.sha256,
        table=table,
        notes=notes,
        series=revision,
    )


# --------------------------------------------------------------------------------------------
# the Parquet extract layout (one table, ISO3 codes and names; e.g. the shipped HS17 extract)

#: Columns of the extract layout and what they hold: year; exporter/importer ISO3 (BACI's own
#: ``S19`` for Taiwan allowed); HS6 code; value in thousand current USD; quantity in tonnes.
EXTRACT_COLUMNS: tuple[str, ...] = ("year", "exporter", "importer", "hs6", "value_kusd", "qty_t")
#: Further columns of the extract that critmat does not keep (names are BACI's, ``material``
#: is the extractor's own label for the HS code).
EXTRACT_EXTRA_COLUMNS: tuple[str, ...] = ("exporter_name", "importer_name", "material")


def read_extract(
    path: Path, hs_codes: set[str] | None = None, classification: str | None = None
) -> CanonicalBatch:
    """Read a BACI extract stored as one Parquet table into the canonical ``trade`` table.

    Layout (:data:`EXTRACT_COLUMNS`): ``year, exporter, importer, hs6, value_kusd, qty_t`` with
    ISO3 country codes, plus optional :data:`EXTRACT_EXTRA_COLUMNS`. The HS revision comes from
    the file name (``baci-hs17-v202601-…``, ``BACI_HS17_V202601…``) and/or ``classification``.
    A missing ``qty_t`` stays NaN. Errors name the 1-based row of the Parquet table. The rows
    are not summed: an extract must already hold one row per (year, exporter, importer, hs6),
    and a repeated one is refused.
    """
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputFileError(path, "file not found")
    parsed = parse_release_name(path.name)
    revision = declared_revision([(str(path), parsed[0])] if parsed else [], classification)
    try:
        raw = pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(path, f"not a readable Parquet file ({exc})") from exc
    missing = [c for c in EXTRACT_COLUMNS if c not in raw.columns]
    if missing:
        raise InputFileError(
            path,
            f"missing column '{missing[0]}' (the extract layout has "
            f"{', '.join(EXTRACT_COLUMNS)}; this file has {', '.join(map(str, raw.columns))})",
            field=missing[0],
        )
    frame = _extract_frame(raw, path, revision)
    table = finalize("trade", frame, path)
    notes = _extract_notes(raw, table, revision)
    if hs_codes is not None:
        wanted = {str(code).strip().zfill(6) for code in hs_codes}
        table = table[table["hs6"].isin(wanted)].reset_index(drop=True)
        notes += _filter_notes(revision, hs_codes)
        if table.empty:
            raise InputFileError(path, "no trade rows left after the HS filter")
    release = parsed[2] if parsed else UNKNOWN_RELEASE
    years = sorted(set(table["year"]))
    notes.append(f"years {years[0]}-{years[-1]} from one Parquet table")
    return CanonicalBatch(
        dataset="trade",
        source=SOURCE,
        version=f"{revision} {release} extract",
        licence=licence_of(revision, release),
        origin=str(path),
        sha256=file_sha256(path),
        table=table,
        notes=notes,
        series=revision,
    )


def _extract_frame(raw: pd.DataFrame, path: Path, revision: str) -> pd.DataFrame:
    """The extract's rows in canonical columns, every cell checked (row = Parquet row, 1-based)."""
    rows = pd.Series(range(1, len(raw) + 1), index=raw.index)

    def fail(mask: pd.Series, column: str, reason: str) -> None:
        first = mask[mask].index[0]
        count = int(mask.sum())
        more = f" ({count} rows in all)" if count > 1 else ""
        raise InputFileError(
            path, reason.format(raw.at[first, column]) + more, row=int(rows[first]), field=column
        )

    codes = raw["hs6"].astype("string").str.strip()
    bad_code = ~codes.fillna("").str.fullmatch(r"\d{1,6}")
    if bad_code.any():
        fail(bad_code, "hs6", "not an HS6 product code: {!r}")
    hs6 = codes.str.zfill(6)
    absent = hs_revisions.absent_codes(revision)
    foreign = hs6.isin(list(absent))
    if foreign.any():
        first = hs6[foreign].iloc[0]
        known = "/".join(r for r in hs_revisions.REVISIONS if r in absent[first])
        fail(
            foreign,
            "hs6",
            f"HS6 code {{!r}} does not exist in {revision} (an {known} code): the file holds "
            f"another HS revision than the {revision} it is read as",
        )
    numbers = {}
    for column in ("year", "value_kusd", "qty_t"):
        numbers[column] = pd.to_numeric(raw[column], errors="coerce")
        not_number = numbers[column].isna() & ~raw[column].map(is_na_token)
        if not_number.any():
            fail(not_number, column, "not a number: {!r}")
    for column in ("year", "value_kusd"):
        if numbers[column].isna().any():
            fail(numbers[column].isna(), column, "missing value {!r}")
    if (numbers["year"] % 1 != 0).any():
        fail(numbers["year"] % 1 != 0, "year", "not a year: {!r}")
    countries = {
        column: raw[column].astype("string").str.strip().str.upper().replace(BACI_ISO3_FIXES)
        for column in ("exporter", "importer")
    }
    return pd.DataFrame(
        {
            "year": numbers["year"],
            "exporter": countries["exporter"],
            "importer": countries["importer"],
            "hs6": hs6,
            "value_kusd": numbers["value_kusd"].astype("float64"),
            "quantity_t": numbers["qty_t"].astype("float64"),
            "_row": rows,
        }
    )


def _extract_notes(raw: pd.DataFrame, table: pd.DataFrame, revision: str) -> list[str]:
    fixed = {
        code: int((raw["exporter"] == code).sum() + (raw["importer"] == code).sum())
        for code in BACI_ISO3_FIXES
    }
    notes = [
        f"{len(table)} rows, one per (year, exporter, importer, hs6); "
        f"{int(table['quantity_t'].isna().sum())} without quantity kept as NaN (never 0)",
        "country codes are ISO3 as in the file"
        + "".join(
            f"; BACI's {code} -> {BACI_ISO3_FIXES[code]} ({count} cells)"
            for code, count in fixed.items()
            if count
        ),
    ]
    extras = [c for c in EXTRACT_EXTRA_COLUMNS if c in raw.columns]
    if extras:
        notes.append(f"columns {', '.join(extras)} not kept (names and the extractor's labels)")
    notes += hs_revisions.bundling_notes(revision, set(table["hs6"]))
    return notes
