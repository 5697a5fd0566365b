"""Helpers for the importer tests: canonical-shape check and writers of small files."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

from critmat.sources.base import CANONICAL_COLUMNS, CanonicalBatch

_DTYPES = {"VARCHAR": "str", "INTEGER": "int64", "DOUBLE": "float64", "BOOLEAN": "bool"}


def assert_canonical(batch: CanonicalBatch) -> None:
    """The batch table has exactly the canonical columns, in order, with the canonical dtypes."""
    spec = CANONICAL_COLUMNS[batch.dataset]
    assert list(batch.table.columns) == list(spec)
    for column, sql_type in spec.items():
        assert batch.table[column].dtype == _DTYPES[sql_type], (column, batch.table[column].dtype)
    assert batch.sha256 and len(batch.sha256) == 64
    assert batch.version and batch.licence and batch.origin


# --------------------------------------------------------------------------------------------
# small BACI files

BACI_HEADER = "t,i,j,k,v,q\n"
COUNTRY_CODES = (
    "country_code,country_name,country_iso2,country_iso3\n"
    "4,Afghanistan,AF,AFG\n"
    "56,Belgium,BE,BEL\n"
    '58,"Belgium-Luxembourg (...1998)",BE,BEL\n'
    "156,China,CN,CHN\n"
    "180,Dem. Rep. of the Congo,CD,COD\n"
    "251,France,FR,FRA\n"
    "276,Germany,DE,DEU\n"
    '490,"Other Asia, nes",,S19\n'
    '697,"Europe EFTA, nes",,R20\n'
    "842,USA,US,USA\n"
)


def write_baci_release(
    folder: Path,
    years: dict[int, str],
    *,
    version: str = "V202401b",
    codes: str | None = COUNTRY_CODES,
) -> list[Path]:
    """Write BACI_HS92_Y<year>_<version>.csv files (body without header) and the code table."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, body in years.items():
        path = folder / f"BACI_HS92_Y{year}_{version}.csv"
        path.write_text(BACI_HEADER + body)
        paths.append(path)
    if codes is not None:
        (folder / f"country_codes_{version}.csv").write_text(codes)
    return paths


def zip_files(target: Path, files: Sequence[Path]) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.name)
    return target


# --------------------------------------------------------------------------------------------
# small Excel files


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path
