"""HS revisions: the table of revision-specific codes, and BACI files read as HS92/HS17/HS22."""

from __future__ import annotations

import pytest

from critmat.reference.materials import load_catalogue
from critmat.sources import hs_revisions

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
