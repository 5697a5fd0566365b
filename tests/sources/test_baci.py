"""BACI importer on small hand-made releases: formats, aggregation and every error path."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import pytest

from critmat.errors import InputFileError
from critmat.sources.baci import parse_release_name, read_baci
from tests.sources.sources_helpers import assert_canonical, write_baci_release, zip_files

Y2022 = (
    "2022,180,156,810510,1000.5,250\n"
    "2022,180,156,260500, 20.0 ,  \n"  # padded value, blank quantity
    "2022,4,842,10111,3.25,NA\n"  # k without its leading zero, NA quantity
    "2022,490,276,811291,7,1.5\n"  # 490 'Other Asia, nes' -> TWN
)
Y2023 = "2023,180,156,810510,1200,300\n"


def test_reads_one_yearly_csv_with_the_code_table_beside_it(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: Y2022})
    batch = read_baci(path)
    assert_canonical(batch)
    assert batch.source == "baci" and batch.version == "HS92 V202401b"
    assert "Etalab" in batch.licence
    t = batch.table
    assert len(t) == 4
    row = t[(t.exporter == "AFG") & (t.importer == "USA")].iloc[0]
    assert row.hs6 == "010111" and row.value_kusd == 3.25 and math.isnan(row.quantity_t)
    cobalt_ore = t[t.hs6 == "260500"].iloc[0]
    assert cobalt_ore.value_kusd == 20.0 and math.isnan(cobalt_ore.quantity_t)
    assert set(t.exporter) == {"COD", "AFG", "TWN"}
    assert any("S19->TWN" in note for note in batch.notes)


def test_reads_the_published_zip_with_progress(tmp_path: Path) -> None:
    files = write_baci_release(tmp_path / "src", {2022: Y2022, 2023: Y2023})
    codes = tmp_path / "src" / "country_codes_V202401b.csv"
    archive = zip_files(tmp_path / "BACI_HS92_V202401b.zip", [*files, codes])
    calls: list[tuple[int, int]] = []
    batch = read_baci(archive, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    assert sorted(set(batch.table.year)) == [2022, 2023]
    assert batch.version == "HS92 V202401b"
    assert batch.origin == str(archive)
    assert any("country_codes_V202401b.csv" in note for note in batch.notes)


def test_directory_and_list_of_files_give_the_same_table(tmp_path: Path) -> None:
    files = write_baci_release(tmp_path, {2022: Y2022, 2023: Y2023})
    by_dir = read_baci(tmp_path)
    by_list = read_baci(files)
    assert by_dir.table.equals(by_list.table)


def test_hs_filter_keeps_only_the_given_codes(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: Y2022})
    batch = read_baci(path, hs_codes={"810510", "10111"})
    assert sorted(batch.table.hs6) == ["010111", "810510"]


def test_codes_sharing_an_iso3_are_summed_and_partial_quantity_is_nan(tmp_path: Path) -> None:
    body = (
        "1998,56,156,810510,10,1\n"
        "1998,58,156,810510,5,2\n"  # same flow as above once 56/58 -> BEL: q = 3
        "1998,56,156,260500,10,4\n"
        "1998,58,156,260500,5,\n"  # one part without quantity: q = NaN, v = 15
        "1998,56,156,280300,1,\n"
        "1998,58,156,280300,2,NA\n"  # all parts without quantity: NaN
    )
    (path,) = write_baci_release(tmp_path, {1998: body})
    t = read_baci(path).table.set_index("hs6")
    assert len(t) == 3
    assert t.loc["810510", "value_kusd"] == 15 and t.loc["810510", "quantity_t"] == 3
    assert t.loc["260500", "value_kusd"] == 15 and math.isnan(t.loc["260500", "quantity_t"])
    assert math.isnan(t.loc["280300", "quantity_t"])
    assert not read_baci(path).table.duplicated(["year", "exporter", "importer", "hs6"]).any()


def test_without_code_table_codes_are_read_as_m49(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: Y2022}, codes=None)
    batch = read_baci(path)
    assert set(batch.table.importer) == {"CHN", "USA", "DEU"}  # 842 is BACI's USA code
    assert any("M49" in note for note in batch.notes)


def test_release_name_parsing() -> None:
    assert parse_release_name("BACI_HS92_Y2022_V202401b.csv") == ("HS92", 2022, "V202401b")
    assert parse_release_name("BACI_HS17_V202501.zip") == ("HS17", None, "V202501")
    assert parse_release_name("trade.csv") is None


# ------------------------------------------------------------------------------ errors


def _error(path: Path | list[Path], classification: str | None = None) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_baci(path, classification=classification)  # type: ignore[arg-type]
    return info.value


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "BACI_HS92_Y2022_V202401b.csv"
    path.write_text("t,i,j,k,v\n2022,4,842,10111,3\n")
    err = _error(path)
    assert err.field == "q" and err.row == 1 and str(path) in str(err)


def test_csv_cut_mid_line_names_file_and_row(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: Y2022})
    path.write_text(path.read_text() + "2022,4,842,2603")
    err = _error(path)
    assert err.path == str(path) and "truncated" in err.reason


def test_row_with_missing_fields_names_row(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: Y2022 + "2022,4,842\n" + Y2022})
    err = _error(path)
    assert err.row == 6 and "Expected Number of Columns" in err.reason


@pytest.mark.parametrize(
    ("line", "field", "needle"),
    [
        ("2022,4,842,10111,abc,1\n", "v", "not a number"),
        ("2022,4,842,10111,1,x1\n", "q", "not a number"),
        ("2022,4,842,10111,,1\n", "v", "missing value"),
        ("2022,4,842,10111,-1,1\n", "v", "negative"),
        ("2022,999,842,10111,1,1\n", "i", "unknown country code"),
        ("2022,4,697,10111,1,1\n", "j", "unknown country code"),  # R20 is not a country
        ("2022,4,842,1234567,1,1\n", "k", "HS6"),
        ("20x2,4,842,10111,1,1\n", "t", "not a year"),
    ],
)
def test_bad_value_names_file_row_and_field(
    tmp_path: Path, line: str, field: str, needle: str
) -> None:
    (path,) = write_baci_release(tmp_path, {2022: Y2022 + line})
    err = _error(path)
    assert (err.path, err.row, err.field) == (str(path), 6, field)
    assert needle in err.reason


def test_year_outside_range_fails(tmp_path: Path) -> None:
    path = tmp_path / "trade.csv"
    path.write_text(BACI_BODY_1850)
    err = _error(path, classification="HS92")
    assert err.field == "t" and err.row == 2 and "1900..2100" in err.reason


BACI_BODY_1850 = "t,i,j,k,v,q\n1850,4,842,10111,1,1\n"


def test_year_must_match_file_name(tmp_path: Path) -> None:
    (path,) = write_baci_release(tmp_path, {2022: "2021,4,842,10111,1,1\n"})
    err = _error(path)
    assert err.field == "t" and "2022" in err.reason


def test_empty_and_header_only_files_fail_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "BACI_HS92_Y2022_V202401b.csv"
    empty.write_text("")
    assert "empty" in _error(empty).reason
    empty.write_text("t,i,j,k,v,q\n")
    assert "no data rows" in _error(empty).reason


def test_corrupt_zip_member_is_named(tmp_path: Path) -> None:
    files = write_baci_release(tmp_path / "src", {2022: Y2022 * 200})
    archive = zip_files(tmp_path / "BACI_HS92_V202401b.zip", files)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo(files[0].name)
    start = info.header_offset + 30 + len(info.filename) + 10
    data[start : start + 20] = b"\x00" * 20  # damage the deflated data, keep the directory
    archive.write_bytes(bytes(data))
    err = _error(archive)
    assert err.path == str(archive) and err.field == files[0].name
    assert "corrupt" in err.reason


def test_truncated_zip_fails(tmp_path: Path) -> None:
    files = write_baci_release(tmp_path / "src", {2022: Y2022})
    archive = zip_files(tmp_path / "BACI_HS92_V202401b.zip", files)
    archive.write_bytes(archive.read_bytes()[:-40])
    err = _error(archive)
    assert err.path == str(archive) and "zip" in err.reason


def test_no_half_table_when_a_later_year_is_bad(tmp_path: Path) -> None:
    files = write_baci_release(tmp_path, {2022: Y2022, 2023: "2023,4,842,10111,oops,1\n"})
    err = _error(files)
    assert err.path == str(files[1]) and err.row == 2
