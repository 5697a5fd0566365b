"""Export-restriction registry: content, date logic, lookups and file validation."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from critmat.errors import InputFileError
from critmat.reference import restrictions as restrictions_module
from critmat.reference.materials import load_catalogue, load_hs92_codes
from critmat.reference.restrictions import Restriction, load_restrictions, restrictions_for

SHIPPED_CSV = Path(restrictions_module.__file__).parent / "data" / "restrictions.csv"


def _by_id() -> dict[str, Restriction]:
    return {r.id: r for r in load_restrictions()}


def test_every_restriction_references_known_materials_and_has_sources() -> None:
    catalogue = load_catalogue()
    hs_table = load_hs92_codes()
    rows = load_restrictions()
    assert len(rows) >= 15
    for r in rows:
        assert r.materials and all(m in catalogue for m in r.materials), r.id
        assert r.sources and all(s.strip() for s in r.sources), r.id
        assert all(code in hs_table for code in r.hs_codes), r.id
        assert r.title and r.country


def test_key_measures_are_registered_with_their_dates() -> None:
    rows = _by_id()
    gaga = rows["CN-2023-023"]
    assert (gaga.announced, gaga.effective) == (date(2023, 7, 3), date(2023, 8, 1))
    assert set(gaga.materials) == {"gallium", "germanium"}
    assert rows["CN-2023-039"].effective == date(2023, 12, 1)
    assert rows["CN-2024-033"].effective == date(2024, 9, 15)
    assert rows["CN-2025-010"].effective == date(2025, 2, 4)
    assert rows["CN-2025-018"].effective == date(2025, 4, 4)
    assert rows["ID-2020-NI"].effective == date(2020, 1, 1)
    assert rows["ID-2020-NI"].measure == "export_ban"
    assert rows["CD-2025-001"].measure == "export_suspension"
    assert rows["CD-2025-004"].measure == "export_quota"
    assert rows["CD-2025-004"].effective == date(2025, 10, 16)


def test_us_specific_measure_targets_usa_and_is_suspended() -> None:
    us = _by_id()["CN-2024-046"]
    assert us.targets == ("USA",) and not us.targets_all
    assert us.active_on(date(2025, 1, 1))
    assert not us.active_on(date(2025, 12, 1))  # suspended 9 Nov 2025 - 27 Nov 2026
    assert us.active_on(date(2026, 11, 28))  # scheduled to resume (later events not known)


def test_october_2025_package_never_took_effect() -> None:
    rows = _by_id()
    for ident in ("CN-2025-055", "CN-2025-056", "CN-2025-057", "CN-2025-058", "CN-2025-061"):
        r = rows[ident]
        assert r.status == "suspended"
        assert r.suspended_until == date(2026, 11, 10)
        assert r.suspended_from is not None and r.effective is not None
        assert r.suspended_from <= r.effective  # suspended before the scheduled start
        assert not r.active_on(date(2025, 11, 20))


def test_drc_cobalt_phases_are_contiguous() -> None:
    rows = _by_id()
    first, ext, quota = rows["CD-2025-001"], rows["CD-2025-EXT"], rows["CD-2025-004"]
    assert first.active_on(date(2025, 3, 1)) and not first.active_on(date(2025, 7, 1))
    assert ext.active_on(date(2025, 7, 1)) and not ext.active_on(date(2025, 10, 16))
    assert quota.active_on(date(2025, 10, 16)) and not quota.active_on(date(2025, 10, 15))
    for day in (date(2025, 2, 22), date(2025, 6, 21), date(2025, 10, 15), date(2025, 12, 31)):
        assert sum(r.active_on(day) for r in (first, ext, quota)) == 1


def test_effective_year() -> None:
    rows = _by_id()
    assert rows["ID-2020-NI"].effective_year() == 2020
    assert rows["CN-2023-023"].effective_year() == 2023


def test_restrictions_for_material_country_and_groups() -> None:
    cobalt = {r.id for r in restrictions_for("cobalt")}
    assert {"CD-2025-001", "CD-2025-EXT", "CD-2025-004"} <= cobalt
    assert {r.id for r in restrictions_for("Co", country="DR Congo")} == {
        "CD-2025-001",
        "CD-2025-EXT",
        "CD-2025-004",
    }
    # Rows on hree/lree are found from the rare_earths entry and from an element alias.
    assert "CN-2025-018" in {r.id for r in restrictions_for("rare_earths")}
    assert "CN-2025-057" in {r.id for r in restrictions_for("holmium")}
    assert all(r.country == "IDN" for r in restrictions_for(country="Indonesia"))
    assert len(restrictions_for()) == len(load_restrictions())


# ----------------------------------------------------------------------------- broken files


def _write_variant(tmp_path: Path, row_id: str, column: str, value: str) -> Path:
    with SHIPPED_CSV.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        if row["id"] == row_id:
            row[column] = value
    path = tmp_path / "restrictions.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row_number(row_id: str) -> int:
    ids = [r.id for r in load_restrictions()]
    return ids.index(row_id) + 2  # header is row 1


def test_unmodified_copy_loads(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "none", "id", "x")
    assert load_restrictions(path) == load_restrictions()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("effective", "2023-13-01", "not an ISO date"),
        ("announced", "3 July 2023", "not an ISO date"),
        ("materials", "gallium;unobtainium", "unknown material id 'unobtainium'"),
        ("hs_codes", "811291;81129", "not a 6-digit HS code"),
        ("hs_codes", "811291;123456", "not in hs92_codes.csv"),
        ("measure", "embargo", "not one of"),
        ("country", "Atlantis", "unknown country"),
        ("sources", "", "value required"),
        ("ended", "2020-01-01", "ended is before the effective date"),
    ],
)
def test_validation_errors_name_row_and_column(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    path = _write_variant(tmp_path, "CN-2023-023", column, value)
    with pytest.raises(InputFileError, match=message) as info:
        load_restrictions(path)
    assert info.value.row == _row_number("CN-2023-023")
    assert info.value.field == column
    assert f"row {info.value.row}" in str(info.value)


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "CN-2023-039", "id", "CN-2023-023")
    with pytest.raises(InputFileError, match="duplicate id"):
        load_restrictions(path)
