"""`critmat data import` end to end: bad files are refused with file/row/field and leave the
store as it was; a good file becomes the current release; the same file twice changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from tests.sources.sources_helpers import write_baci_release, write_xlsx, zip_files
from typer.testing import CliRunner

from critmat.cli import app

runner = CliRunner()


@pytest.fixture
def data_dir(real_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the real store, so imports can change it."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy2(real_data_dir / "critmat.duckdb", target / "critmat.duckdb")
    return target


def invoke(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"CRITMAT_DATA_DIR": str(data_dir)})
    return result.exit_code, result.stdout, result.stderr


def snapshot(data_dir: Path) -> tuple[object, ...]:
    con = duckdb.connect(str(data_dir / "critmat.duckdb"), read_only=True)
    try:
        releases = con.execute(
            "SELECT release_id, dataset, sha256, is_current FROM releases ORDER BY 1"
        ).fetchall()
        counts = [
            con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("production", "trade", "governance")
        ]
        checksum = con.execute(
            "SELECT sum(hash(year, exporter, importer, hs6, value_kusd, quantity_t)) FROM trade"
        ).fetchall()[0][0]
    finally:
        con.close()
    return (tuple(releases), tuple(counts), checksum)


BODY = "2022,156,276,282200,100.5,10\n2022,180,276,282200,50,20\n2022,842,251,282200,20,\n"


def test_truncated_baci_file_is_refused_and_store_unchanged(data_dir, tmp_path):
    before = snapshot(data_dir)
    [path] = write_baci_release(tmp_path / "baci", {2022: BODY})
    path.write_text(path.read_text()[:-9])  # cut in the middle of the last line
    code, _out, err = invoke(data_dir, "data", "import", "baci", str(path))
    assert code == 2
    assert path.name in err and "row 4" in err and "field 'k'" in err
    assert snapshot(data_dir) == before


def test_csv_with_wrong_columns_is_refused_and_store_unchanged(data_dir, tmp_path):
    before = snapshot(data_dir)
    [path] = write_baci_release(tmp_path / "baci", {2022: BODY})
    path.write_text("year,exporter,importer,code,value\n2022,156,276,282200,1\n")
    code, _out, err = invoke(data_dir, "data", "import", "baci", str(path))
    assert code == 2
    assert path.name in err and "column" in err
    assert snapshot(data_dir) == before


def test_wmd_sheet_without_unit_is_refused_and_store_unchanged(data_dir, tmp_path):
    before = snapshot(data_dir)
    rows: list[list[object]] = [
        ["Cobalt"],
        ["Country", 2022, 2023, "data source"],
        ["Congo, D.R.", 115371, 140121, "r"],
    ]
    path = write_xlsx(tmp_path / "wmd.xlsx", {"Cobalt": rows})
    code, _out, err = invoke(data_dir, "data", "import", "wmd", str(path))
    assert code == 2
    assert "wmd.xlsx" in err and "Cobalt/unit" in err and "row 2" in err
    assert snapshot(data_dir) == before


def test_missing_file_and_unknown_kind(data_dir, tmp_path):
    before = snapshot(data_dir)
    code, _out, err = invoke(data_dir, "data", "import", "baci", str(tmp_path / "nope.zip"))
    assert code == 2 and "nope.zip" in err
    code, _out, err = invoke(data_dir, "data", "import", "comtrade", str(tmp_path))
    assert code == 2 and "comtrade" in err
    assert snapshot(data_dir) == before


def test_good_baci_zip_becomes_current_and_reimport_changes_nothing(data_dir, tmp_path):
    files = write_baci_release(tmp_path / "baci", {2022: BODY, 2023: BODY.replace("2022", "2023")})
    codes = tmp_path / "baci" / "country_codes_V202401b.csv"
    archive = zip_files(tmp_path / "BACI_HS92_V202401b.zip", [*files, codes])
    code, out, err = invoke(data_dir, "data", "import", "baci", str(archive))
    assert code == 0, err
    assert "trade: imported" in out
    after_first = snapshot(data_dir)
    releases, counts, _checksum = after_first
    assert counts[1] == 6  # three flows in each of two years
    current = [r for r in releases if r[1] == "trade" and r[3]]
    assert len(current) == 1
    code, out, _ = invoke(data_dir, "data", "import", "baci", str(archive))
    assert code == 0 and "unchanged" in out
    assert snapshot(data_dir) == after_first
    code, out, _ = invoke(
        data_dir,
        "dependency",
        "--hs",
        "282200",
        "--year",
        "2022",
        "--importer",
        "DEU",
        "--format",
        "json",
    )
    assert code == 0 and '"top_supplier": "COD"' in out


def test_a_refused_file_prints_its_error_without_a_blank_line_before_it(data_dir, tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_text("Source,Section\nfoo,bar\n")
    code, _out, err = invoke(data_dir, "data", "import", "usgs-mcs", str(bad))
    assert code == 2
    lines = err.splitlines()
    error_at = next(i for i, line in enumerate(lines) if line.startswith("error:"))
    assert error_at > 0 and lines[error_at - 1].strip() != "", err
