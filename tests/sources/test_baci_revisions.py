"""HS revisions: the table of revision-specific codes, and BACI files read as HS92/HS17/HS22."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from critmat.errors import InputFileError
from critmat.reference.materials import load_catalogue
from critmat.sources import hs_revisions
from critmat.sources.baci import read_baci
from tests.sources.sources_helpers import COUNTRY_CODES, assert_canonical

# ------------------------------------------------------------------------------ the table


@pytest.mark.parametrize(
    ("text", "revision"),
    [
        ("HS17", "HS17"),
        ("hs17", "HS17"),
        ("HS 2017", "HS17"),
        ("HS2022", "HS22"),
        ("HS-92", "HS92"),
    ],
)
def test_revision_names_are_normalised(text: str, revision: str) -> None:
    assert hs_revisions.normalise_revision(text) == revision


@pytest.mark.parametrize("text", ["HS12", "HS96", "H5", "SITC3", ""])
def test_unchecked_revisions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HS92, HS17, HS22"):
        hs_revisions.normalise_revision(text)


def test_gallium_code_moved_between_hs92_and_hs17() -> None:
    assert "811292" in hs_revisions.absent_codes("HS92")
    assert "811291" in hs_revisions.absent_codes("HS17")
    assert "811291" in hs_revisions.absent_codes("HS22")
    assert "811292" not in hs_revisions.absent_codes("HS17")
    assert hs_revisions.revisions_of("811292") == frozenset({"HS17", "HS22"})
    assert hs_revisions.revisions_of("850511") is None  # the same in every revision


def test_hs22_moved_hafnium_and_rhenium_out_of_811292() -> None:
    assert "hafnium" in hs_revisions.bundled_metals("HS17", "811292")
    assert "hafnium" not in hs_revisions.bundled_metals("HS22", "811292")
    assert "811231" in hs_revisions.absent_codes("HS17")
    assert "811231" not in hs_revisions.absent_codes("HS22")
    # thallium has had its own lines since HS 2002; vanadium and germanium joined 811292
    assert "thallium" not in hs_revisions.bundled_metals("HS17", "811292")
    assert {"germanium", "vanadium"} <= set(hs_revisions.bundled_metals("HS17", "811292"))


def test_every_catalogue_code_is_a_valid_hs92_code() -> None:
    """The catalogue's codes are HS92 (the bundle's revision): none may be refused as HS92."""
    codes = {code for material in load_catalogue().materials for code in material.hs_codes}
    assert not codes & set(hs_revisions.absent_codes("HS92"))


def test_table_entries_are_six_digit_codes_listed_once() -> None:
    codes = [entry.code for entry in hs_revisions.REVISION_SPECIFIC_CODES]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    for entry in hs_revisions.REVISION_SPECIFIC_CODES:
        assert entry.revisions and entry.revisions < set(hs_revisions.REVISIONS), entry


def test_bundling_notes_name_the_metals() -> None:
    (note,) = hs_revisions.bundling_notes("HS17", {"811292", "850511"})
    assert "811292" in note and "gallium" in note and "germanium" in note
    assert hs_revisions.bundling_notes("HS17", {"850511"}) == []


# ------------------------------------------------------------------------------ reading


def _write(folder: Path, name: str, body: str) -> Path:
    """One BACI yearly CSV named ``name``, with CEPII's header and the code table beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "country_codes_V202601.csv").write_text(COUNTRY_CODES)
    path = folder / name
    path.write_text("t,i,j,k,v,q\n" + body)
    return path


HS17_2024 = (
    "2024,156,276,811292,120.5,0.8\n"  # gallium, germanium & co. (HS17 code)
    "2024,156,251,850511,900,30\n"
    "2024,490,276,810194,15,\n"  # unwrought tungsten (HS17 code), no quantity
)


def test_hs17_file_becomes_the_hs17_series(tmp_path: Path) -> None:
    path = _write(tmp_path, "BACI_HS17_Y2024_V202601.csv", HS17_2024)
    batch = read_baci(path)
    assert_canonical(batch)
    assert batch.series == "HS17" and batch.version == "HS17 V202601"
    assert batch.licence.endswith('attribution: "CEPII BACI HS17 V202601"')
    assert sorted(batch.table.hs6) == ["810194", "811292", "850511"]
    assert any("811292 (HS17)" in note and "germanium" in note for note in batch.notes)


def test_classification_option_reads_an_unnamed_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "trade_2024.csv", HS17_2024)
    with pytest.raises(InputFileError) as info:
        read_baci(path)
    assert info.value.field == "classification" and "HS revision" in info.value.reason
    batch = read_baci(path, classification="hs2017")
    assert batch.series == "HS17" and batch.version == "HS17 unknown release"


@pytest.mark.parametrize(
    ("name", "line", "shown"),
    [
        ("BACI_HS92_Y2024_V202401b.csv", "2024,156,276,811292,1,1\n", "811292 (an HS17/HS22 code)"),
        ("BACI_HS17_Y2024_V202601.csv", "2024,156,276,811291,1,1\n", "811291 (an HS92 code)"),
        ("BACI_HS17_Y2024_V202601.csv", "2024,156,276,811231,1,1\n", "811231 (an HS22 code)"),
        ("BACI_HS22_Y2024_V202601.csv", "2024,156,276,810600,1,1\n", "810600 (an HS92/HS17 code)"),
    ],
)
def test_code_of_another_revision_is_refused_with_row_and_field(
    tmp_path: Path, name: str, line: str, shown: str
) -> None:
    path = _write(tmp_path, name, "2024,156,276,850511,900,30\n" + line)
    with pytest.raises(InputFileError) as info:
        read_baci(path)
    err = info.value
    assert (err.path, err.row, err.field) == (str(path), 3, "k")
    assert shown in err.reason and "another HS revision" in err.reason


def test_a_wrong_code_is_found_even_outside_the_hs_filter(tmp_path: Path) -> None:
    path = _write(tmp_path, "BACI_HS92_Y2024_V202401b.csv", "2024,156,276,811292,1,1\n")
    with pytest.raises(InputFileError, match="811292"):
        read_baci(path, hs_codes={"850511"})


def test_option_contradicting_the_file_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "BACI_HS17_Y2024_V202601.csv", HS17_2024)
    with pytest.raises(InputFileError) as info:
        read_baci(path, classification="HS92")
    assert info.value.field == "classification" and "HS17" in info.value.reason


def test_unchecked_revision_in_the_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "BACI_HS12_Y2024_V202601.csv", HS17_2024)
    with pytest.raises(InputFileError) as info:
        read_baci(path)
    assert info.value.path == str(path) and "HS12" in info.value.reason


def test_zip_mixing_two_revisions_names_the_odd_member(tmp_path: Path) -> None:
    first = _write(tmp_path / "src", "BACI_HS17_Y2023_V202601.csv", "2023,156,276,850511,1,1\n")
    second = _write(tmp_path / "src", "BACI_HS92_Y2024_V202601.csv", "2024,156,276,850511,1,1\n")
    archive = tmp_path / "BACI_HS17_V202601.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in (first, second):
            out.write(path, path.name)
    with pytest.raises(InputFileError) as info:
        read_baci(archive)
    assert info.value.path.endswith(second.name) and info.value.field == "classification"


def test_filter_codes_of_another_revision_are_reported(tmp_path: Path) -> None:
    """The catalogue's codes are HS92: applied to an HS17 file, the notes say what cannot match."""
    path = _write(tmp_path, "BACI_HS17_Y2024_V202601.csv", HS17_2024)
    batch = read_baci(path, hs_codes={"850511", "811291", "810191"})
    assert list(batch.table.hs6) == ["850511"]
    (note,) = [n for n in batch.notes if "do not exist in HS17" in n]
    assert "810191" in note and "811291" in note
