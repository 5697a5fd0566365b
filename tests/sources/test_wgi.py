"""WGI importer: current long table (CSV and XLSX) and the legacy wide workbook."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from critmat.errors import InputFileError
from critmat.sources.wgi import read_wgi
from tests.sources.sources_helpers import assert_canonical, write_xlsx

LONG_HEADER = (
    "codeindyr,code,countryname,year,indicator,estimate,stddev,nsource,pctrank,"
    "pctranklower,pctrankupper\n"
)
LONG_ROWS = (
    "AFGpv2022,AFG,Afghanistan,2022,pv,-2.55,0.2,5,0.47,0,2.8\n"
    "AFGcc2022,AFG,Afghanistan,2022,cc,-1.2,0.18,8,5.1,1.2,9.4\n"
    "XKXpv2022,XKX,Kosovo,2022,pv,-0.25,0.3,5,30.2,20.1,40.3\n"
    "ROMpv2022,ROM,Romania,2022,pv,0.49,0.2,9,55.7,45.0,65.4\n"
    'TWNpv2022,TWN,"Taiwan, China",2022,pv,..,..,..,..,..,..\n'
    "JEYpv2022,JEY,Jersey,2022,pv,1.4,0.4,1,,..,..\n"
)


def _long_csv(tmp_path: Path, body: str = LONG_ROWS) -> Path:
    path = tmp_path / "wgidataset.csv"
    path.write_text(LONG_HEADER + body)
    return path


def test_long_csv(tmp_path: Path) -> None:
    batch = read_wgi(_long_csv(tmp_path))
    assert_canonical(batch)
    t = batch.table
    assert set(t.indicator) == {"PV", "CC"}
    assert set(t.country) == {"AFG", "XKX", "ROU", "JEY"}  # TWN row has no value: dropped
    afg = t[(t.country == "AFG") & (t.indicator == "PV")].iloc[0]
    assert (afg.estimate, afg.stderr, afg.sources, afg.percentile) == (-2.55, 0.2, 5, 0.47)
    assert math.isnan(t[t.country == "JEY"].percentile.iloc[0])
    assert "CC BY 4.0" in batch.licence


def test_long_xlsx_matches_csv(tmp_path: Path) -> None:
    rows = [
        line.split(",")
        for line in (LONG_HEADER + LONG_ROWS.replace('"Taiwan, China"', "Taiwan"))
        .strip()
        .split("\n")
    ]
    typed = [rows[0]] + [[*r[:3], int(r[3]), *r[4:]] for r in rows[1:]]
    batch = read_wgi(write_xlsx(tmp_path / "wgidataset.xlsx", {"Sheet1": typed}))
    assert batch.table.equals(read_wgi(_long_csv(tmp_path)).table)


def _legacy_sheet() -> list[list[object]]:
    title = [["Worldwide Governance Indicators"]] + [[None]] * 11
    years = [None, None, 2021, None, None, None, None, None, 2022]
    fields = [
        "Country/Territory",
        "Code",
        "Estimate",
        "StdErr",
        "NumSrc",
        "Rank",
        "Lower",
        "Upper",
        "Estimate",
        "StdErr",
        "NumSrc",
        "Rank",
        "Lower",
        "Upper",
    ]
    return [
        *title,
        years,
        fields,
        ["Afghanistan", "AFG", -2.5, 0.2, 5, 1.0, 0, 2.8, -2.55, 0.2, 5, 0.47, 0, 2.8],
        [
            "Congo, Dem. Rep.",
            "ZAR",
            -1.8,
            0.2,
            9,
            5,
            2,
            9,
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
            "#N/A",
        ],
    ]


def test_legacy_wide_workbook(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "wgi_legacy.xlsx",
        {
            "Introduction": [["About"]],
            "Political StabilityNoViolence": _legacy_sheet(),
            "RuleofLaw": _legacy_sheet(),
        },
    )
    batch = read_wgi(path)
    assert_canonical(batch)
    t = batch.table
    assert set(t.indicator) == {"PV", "RL"}
    assert sorted(set(zip(t.country, t.year, strict=True))) == [
        ("AFG", 2021),
        ("AFG", 2022),
        ("COD", 2021),
    ]
    row = t[(t.country == "AFG") & (t.year == 2022) & (t.indicator == "PV")].iloc[0]
    assert row.estimate == -2.55 and row.percentile == 0.47 and row.upper == 2.8


def _error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_wgi(path)
    return info.value


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(LONG_HEADER.replace(",stddev", "") + "AFGpv2022,AFG,A,2022,pv,1,5,1,1,1\n")
    err = _error(path)
    assert err.field == "stddev" and err.row == 1


def test_unknown_country_code(tmp_path: Path) -> None:
    err = _error(_long_csv(tmp_path, LONG_ROWS + "ZZZpv2022,ZZZ,Nowhere,2022,pv,1,1,1,1,1,1\n"))
    assert (err.row, err.field) == (8, "code") and "ZZZ" in err.reason


def test_non_numeric_value(tmp_path: Path) -> None:
    err = _error(_long_csv(tmp_path, "AFGpv2022,AFG,A,2022,pv,high,1,1,1,1,1\n"))
    assert (err.row, err.field) == (2, "estimate")


def test_year_out_of_range(tmp_path: Path) -> None:
    err = _error(_long_csv(tmp_path, "AFGpv2122,AFG,A,2122,pv,1,1,1,1,1,1\n"))
    assert err.field == "year" and "1900..2100" in err.reason


def test_truncated_and_empty(tmp_path: Path) -> None:
    cut = _long_csv(tmp_path, LONG_ROWS + "AFGrl2022,AFG,Afgh")
    assert "truncated" in _error(cut).reason
    empty = tmp_path / "e.csv"
    empty.write_text("")
    assert "empty" in _error(empty).reason
    header_only = tmp_path / "h.csv"
    header_only.write_text(LONG_HEADER)
    assert "no data rows" in _error(header_only).reason


def test_unknown_indicator(tmp_path: Path) -> None:
    err = _error(_long_csv(tmp_path, "AFGxx2022,AFG,A,2022,xx,1,1,1,1,1,1\n"))
    assert err.field == "indicator"
