"""WGI importer, wide layout: the shipped six-dimension file and hand-made files for each trap."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path

import pandas as pd
import pytest

import critmat.sources
from critmat.errors import InputFileError
from critmat.sources.base import CanonicalBatch
from critmat.sources.wgi import FULL_SERIES, INDICATORS, governance_series, read_wgi
from tests.sources.sources_helpers import assert_canonical

SHIPPED = Path(critmat.sources.__file__).parent / "shipped" / "wgi_2025_full.csv.gz"

WIDE_HEADER = "country,iso3c,year,CC.EST,GE.EST,PV.EST,RQ.EST,RL.EST,VA.EST\n"
WIDE_ROWS = (
    "Germany,DEU,2022,1.8,1.3,0.6,1.5,1.5,1.4\n"
    "Germany,DEU,2023,1.7,1.2,0.5,1.5,1.4,1.3\n"
    "Kosovo,XKX,2023,-0.3,-0.2,-0.1,-0.1,-0.3,0.0\n"
    "Aruba,ABW,2023,NA,1.2,NA,0.8,NA,NA\n"
    "Nowhere land,ROM,2023,0.1,0.2,0.3,0.4,0.5,0.6\n"
    "Taiwan,TWN,2023,NA,NA,NA,NA,NA,NA\n"
)


def _wide(tmp_path: Path, body: str = WIDE_ROWS, header: str = WIDE_HEADER) -> Path:
    path = tmp_path / "wgi_full.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_wgi(path)
    return info.value


def _shipped_estimates() -> dict[tuple[str, int, str], float]:
    """The shipped file read with the csv module: (iso3, year, indicator) -> estimate, for the
    cells that hold a number."""
    with gzip.open(SHIPPED, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        (row["iso3c"], int(row["year"]), indicator): float(row[f"{indicator}.EST"])
        for row in rows
        for indicator in INDICATORS
        if row[f"{indicator}.EST"] != "NA"
    }


@pytest.fixture(scope="module")
def shipped_batch() -> CanonicalBatch:
    return read_wgi(SHIPPED)


def test_shipped_file_holds_every_number_and_nothing_else(shipped_batch: CanonicalBatch) -> None:
    assert_canonical(shipped_batch)
    expected = _shipped_estimates()
    table = shipped_batch.table
    got = {
        (c, int(y), i): e
        for c, y, i, e in zip(
            table.country, table.year, table.indicator, table.estimate, strict=True
        )
    }
    assert got == expected
    assert len(table) == 30_974  # 214 economies x 25 years x 6 indicators less 1,126 NA cells
    assert set(table.indicator) == set(INDICATORS)
    assert table[["stderr", "sources", "percentile", "lower", "upper"]].isna().all().all()


def test_shipped_file_series_and_coverage(shipped_batch: CanonicalBatch) -> None:
    assert shipped_batch.series == FULL_SERIES
    assert shipped_batch.version == "WGI CC/GE/PV/RL/RQ/VA 1996-2023"
    years = set(shipped_batch.table.year)
    assert years == {1996, 1998, 2000, *range(2002, 2024)}  # WGI skipped 1997, 1999 and 2001
    assert shipped_batch.table.country.nunique() == 214


def test_shipped_missing_years_stay_missing(shipped_batch: CanonicalBatch) -> None:
    with gzip.open(SHIPPED, "rt", encoding="utf-8", newline="") as handle:
        na_cells = [
            (row["iso3c"], int(row["year"]), indicator)
            for row in csv.DictReader(handle)
            for indicator in INDICATORS
            if row[f"{indicator}.EST"] == "NA"
        ]
    assert len(na_cells) == 1_126
    table = shipped_batch.table
    keys = set(zip(table.country, table.year, table.indicator, strict=True))
    assert not keys & set(na_cells)


def test_shipped_average_of_six_for_a_few_countries(shipped_batch: CanonicalBatch) -> None:
    """The EU methodology averages the six estimates; recomputed here from the raw cells."""
    table = shipped_batch.table
    expected = _shipped_estimates()
    for iso3 in ("CHN", "COD", "DEU", "XKX"):
        rows = table[(table.country == iso3) & (table.year == 2023)]
        assert len(rows) == 6
        raw = [expected[(iso3, 2023, i)] for i in INDICATORS]
        assert rows.estimate.mean() == pytest.approx(sum(raw) / 6, abs=1e-12)


def test_gzip_and_plain_give_one_table(tmp_path: Path) -> None:
    plain = _wide(tmp_path)
    packed = tmp_path / "wgi_full.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_wgi(packed).table.equals(read_wgi(plain).table)


def test_small_wide_file(tmp_path: Path) -> None:
    batch = read_wgi(_wide(tmp_path))
    assert_canonical(batch)
    t = batch.table
    assert batch.series == FULL_SERIES
    assert set(t.country) == {"DEU", "XKX", "ABW", "ROU"}  # ROM mapped; TWN has no value
    aruba = t[t.country == "ABW"]
    assert sorted(aruba.indicator) == ["GE", "RQ"]  # NA cells are not rows
    pv = t[(t.country == "DEU") & (t.year == 2023) & (t.indicator == "PV")].iloc[0]
    assert pv.estimate == 0.5 and math.isnan(pv.stderr)
    # one record per economy, year and indicator: Aruba's 4 NA cells and Taiwan's 6
    assert any(n.startswith("10 rows without any value dropped") for n in batch.notes)


def test_api_statistics_columns_and_date_column(tmp_path: Path) -> None:
    """The API's other statistics fill their canonical columns; wbstats names the year 'date'."""
    header = (
        "iso3c,date,CC.EST,GE.EST,PV.EST,PV.STD.ERR,PV.NO.SRC,PV.PER.RNK,PV.PER.RNK.LOWER,"
        "PV.PER.RNK.UPPER,RQ.EST,RL.EST,VA.EST\n"
    )
    path = _wide(tmp_path, "CHN,2022,-0.1,0.5,-0.4,0.2,9,27.4,20.1,33.0,-0.2,-0.1,-1.6\n", header)
    t = read_wgi(path).table
    pv = t[t.indicator == "PV"].iloc[0]
    assert (pv.estimate, pv.stderr, pv.sources, pv.percentile, pv.lower, pv.upper) == (
        -0.4,
        0.2,
        9,
        27.4,
        20.1,
        33.0,
    )


def test_missing_estimate_column(tmp_path: Path) -> None:
    header = WIDE_HEADER.replace(",VA.EST", "")
    body = "Germany,DEU,2022,1.8,1.3,0.6,1.5,1.5\n"
    err = _error(_wide(tmp_path, body, header))
    assert (err.row, err.field) == (1, "VA.EST") and "all six" in err.reason


def test_missing_code_column(tmp_path: Path) -> None:
    header = WIDE_HEADER.replace("iso3c", "economy")
    err = _error(_wide(tmp_path, "Germany,DEU,2022,1,1,1,1,1,1\n", header))
    assert (err.row, err.field) == (1, "iso3c")


def test_withheld_or_text_cell_is_refused(tmp_path: Path) -> None:
    err = _error(_wide(tmp_path, WIDE_ROWS + "France,FRA,2023,1.2,1.1,W,1.0,1.1,1.2\n"))
    assert (err.row, err.field) == (8, "PV.EST") and "'W'" in err.reason


def test_duplicated_row(tmp_path: Path) -> None:
    err = _error(_wide(tmp_path, WIDE_ROWS + "Germany,DEU,2023,1.7,1.2,0.5,1.5,1.4,1.3\n"))
    assert "duplicate row" in err.reason and "DEU" in err.reason
    assert err.row in (3, 8)


def test_unknown_code(tmp_path: Path) -> None:
    err = _error(_wide(tmp_path, WIDE_ROWS + "Channel Islands,CHI,2023,1,1,1,1,1,1\n"))
    assert (err.row, err.field) == (8, "iso3c") and "CHI" in err.reason


def test_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "wgi_full.csv"
    path.write_bytes(
        (WIDE_HEADER + WIDE_ROWS + "Côte d'Ivoire,CIV,2023,-0.5,-0.6,-0.8,-0.2,-0.5,-0.3\n").encode(
            "cp1252"
        )
    )
    err = _error(path)
    assert err.row == 8 and "UTF-8" in err.reason and err.hint


def test_year_not_a_year(tmp_path: Path) -> None:
    err = _error(_wide(tmp_path, "Germany,DEU,20x2,1,1,1,1,1,1\n"))
    assert (err.row, err.field) == (2, "year")


def test_series_of_partial_files() -> None:
    assert governance_series(list(INDICATORS)) == FULL_SERIES
    assert governance_series(["RL", "PV"]) == "WGI PV/RL"


def test_long_file_with_all_six_is_the_full_series(tmp_path: Path) -> None:
    lines = ["codeindyr,code,countryname,year,indicator,estimate,stddev,nsource,pctrank,"]
    lines[0] += "pctranklower,pctrankupper"
    for indicator in INDICATORS:
        lines.append(f"DEU{indicator}2022,DEU,Germany,2022,{indicator.lower()},1,0.2,9,90,85,95")
    path = tmp_path / "wgidataset.csv"
    path.write_text("\n".join(lines) + "\n")
    assert read_wgi(path).series == FULL_SERIES


def test_cp1252_bytes_in_a_gzipped_file_are_refused_too(tmp_path: Path) -> None:
    raw = (WIDE_HEADER + "Curaçao,CUW,2023,1,1,1,1,1,1\n").encode("cp1252")
    path = tmp_path / "w.csv.gz"
    path.write_bytes(gzip.compress(raw))
    err = _error(path)
    assert err.row == 2


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "w.csv.gz"
    path.write_bytes(gzip.compress((WIDE_HEADER + WIDE_ROWS).encode())[:-12])
    assert "gzip" in _error(path).reason


# --------------------------------------------------------------------------------------------
# in the store, beside the bundle's Political Stability series


def _bundle_like_pv(tmp_path: Path) -> CanonicalBatch:
    """A Political-Stability-only batch in the governance default series, as the bundle's."""
    path = tmp_path / "pv.csv"
    path.write_text(
        "codeindyr,code,countryname,year,indicator,estimate,stddev,nsource,pctrank,"
        "pctranklower,pctrankupper\n"
        "DEUpv2023,DEU,Germany,2023,pv,0.55,0.2,9,60,50,70\n"
        "CHNpv2023,CHN,China,2023,pv,-0.4,0.2,9,25,20,30\n"
    )
    pv = read_wgi(path)
    return CanonicalBatch(
        "governance", "geopolrisk-bundle", "test", pv.licence, str(path), "pv-sha", pv.table
    )


def test_full_series_beside_the_default_and_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    from critmat.config import Settings
    from critmat.pipeline import import_file
    from critmat.sources.base import DEFAULT_SERIES
    from critmat.store import open_store

    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    default = _bundle_like_pv(tmp_path)
    assert default.series == DEFAULT_SERIES["governance"]
    with open_store(settings.store_path) as store:
        store.apply([default])
    good = _wide(tmp_path)
    (result,) = import_file(settings, "wgi", good)
    assert result.status == "imported" and result.release.series == FULL_SERIES

    def snapshot() -> tuple[tuple[int, ...], pd.DataFrame, pd.DataFrame]:
        with open_store(settings.store_path, read_only=True) as store:
            plain = store.query("SELECT * FROM governance ORDER BY ALL")
            full = store.query(
                "SELECT * EXCLUDE (series) FROM governance_all WHERE series = ? ORDER BY ALL",
                [FULL_SERIES],
            )
            return store.release_key(), plain, full

    key, plain, full = snapshot()
    assert len(key) == 2
    # the plain name still gives exactly the default series' rows: GeoPolRisk sees no change
    assert plain.country.tolist() == ["CHN", "DEU"] and set(plain.indicator) == {"PV"}
    expected = read_wgi(good).table.sort_values(list(full.columns), ignore_index=True)
    pd.testing.assert_frame_equal(full, expected, check_dtype=False)
    bad = tmp_path / "bad.csv"
    bad.write_text(WIDE_HEADER + WIDE_ROWS + "France,FRA,2023,1.2,1.1,W,1.0,1.1,1.2\n")
    with pytest.raises(InputFileError):
        import_file(settings, "wgi", bad)
    after = snapshot()
    assert after[0] == key
    pd.testing.assert_frame_equal(after[1], plain)
    pd.testing.assert_frame_equal(after[2], full)
    (again,) = import_file(settings, "wgi", good)
    assert again.status == "unchanged"
