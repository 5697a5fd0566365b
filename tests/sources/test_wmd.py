"""World Mining Data Excel (table 6.4) on small hand-made workbooks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from critmat.errors import InputFileError
from critmat.sources.wmd import read_wmd, wmd_country_iso3
from tests.sources.sources_helpers import assert_canonical, write_xlsx

HEADER = ["Country", "unit", 2019, 2020, 2021, 2022, 2023, "data source"]


def _cobalt() -> list[list[object]]:
    return [
        ["Cobalt"],
        HEADER,
        ["Congo, D.R.", "metr. t", 78664, 86591, 93011, 115371, 140121, "r"],
        ["Türkiye", "metr. t", 115, 250, 2400, 2100, 400, "e"],
        ["Korea, North", "metr. t", None, None, 0, 0, 10, "p"],
        ["Total", "metr. t", 78779, 86841, 95411, 117471, 140531, None],
    ]


def _gas() -> list[list[object]]:
    return [
        ["Natural Gas"],
        HEADER,
        ["Kosovo", "Mio m3", 1, 2, 3, 4, 5, "r"],
        ["Taiwan", "Mio m3", 198, 167, 105, 110, 96, "r"],
        ["French Guiana", "Mio m3", 0, 0, 0, 0, 0, "r"],
    ]


def test_reads_sheets_drops_totals_and_keeps_units(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "wmd.xlsx", {"Cobalt": _cobalt(), "Natural Gas": _gas()})
    batch = read_wmd(path)
    assert_canonical(batch)
    t = batch.table
    assert set(t.commodity) == {"Cobalt", "Natural Gas"}
    assert set(t.country) == {"COD", "TUR", "PRK", "XKX", "TWN", "GUF"}
    assert len(t) == 6 * 5
    cod = t[(t.country == "COD") & (t.year == 2023)].iloc[0]
    assert cod.quantity == 140121 and cod.unit == "metr. t" and not cod.estimated
    assert t[t.country == "TUR"].estimated.all()
    assert not t[t.country == "PRK"].estimated.any()  # 'p' provisional is not estimated
    prk = t[t.country == "PRK"].set_index("year").quantity
    assert math.isnan(prk[2019]) and prk[2021] == 0  # empty -> NaN, zero stays zero
    assert set(t[t.commodity == "Natural Gas"].unit) == {"Mio m3"}
    assert batch.version == "World Mining Data 6.4 (data 2019-2023)"
    assert any("1 'Total' rows dropped" in note for note in batch.notes)


def test_wmd_spellings_map_to_iso3() -> None:
    assert wmd_country_iso3("Congo, D.R.") == "COD"
    assert wmd_country_iso3("Congo, Rep.") == "COG"
    assert wmd_country_iso3("Korea, South") == "KOR"
    assert wmd_country_iso3("Bosnia-Herzegovina") == "BIH"
    assert wmd_country_iso3("Russia") == "RUS"
    assert wmd_country_iso3("Atlantis") is None


def _error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_wmd(path)
    return info.value


def test_unmapped_countries_are_all_listed(tmp_path: Path) -> None:
    rows = _cobalt()
    rows.insert(3, ["Atlantis", "metr. t", 1, 1, 1, 1, 1, "r"])
    rows.insert(4, ["Lemuria", "metr. t", 1, 1, 1, 1, 1, "r"])
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert "Atlantis" in err.reason and "Lemuria" in err.reason
    assert err.row == 4 and err.field == "Cobalt/Country"


def test_row_without_unit_fails(tmp_path: Path) -> None:
    rows = _cobalt()
    rows[2][1] = None
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert (err.row, err.field) == (3, "Cobalt/unit")


def test_header_without_unit_column_fails(tmp_path: Path) -> None:
    rows = [r[:1] + r[2:] for r in _cobalt()]
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert err.field == "Cobalt/unit" and err.row == 2


def test_non_numeric_cell_names_row_and_column(tmp_path: Path) -> None:
    rows = _cobalt()
    rows[3][4] = "about 2400"
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert (err.row, err.field) == (4, "Cobalt/2021") and "not a number" in err.reason


def test_missing_header_fails(tmp_path: Path) -> None:
    rows = [["Cobalt"], ["Congo, D.R.", "metr. t", 1, 2, "r"]]
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert err.field == "Cobalt" and "header" in err.reason


def test_year_outside_range_fails(tmp_path: Path) -> None:
    rows = _cobalt()
    rows[1] = ["Country", "unit", 1850, 2020, 2021, 2022, 2023, "data source"]
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert "1900..2100" in err.reason and err.row == 2


def test_unknown_flag_fails(tmp_path: Path) -> None:
    rows = _cobalt()
    rows[2][-1] = "x"
    err = _error(write_xlsx(tmp_path / "w.xlsx", {"Cobalt": rows}))
    assert err.field == "Cobalt/data source"


def test_empty_and_truncated_files_fail(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert "empty" in _error(empty).reason
    good = write_xlsx(tmp_path / "w.xlsx", {"Cobalt": _cobalt()})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[:-200])
    err = _error(cut)
    assert err.path == str(cut)
