"""Dependency from one named trade release per (stage, year), no data as no data, and the
table of every strategic material — recomputed with pandas over the raw trade rows, on a
hand-made store and on the shipped HS17 extract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from critmat import sources
from critmat.indicators import lookup
from critmat.reference.countries import group_members
from critmat.reference.materials import load_catalogue
from critmat.services import statistics_trade
from critmat.services.context import ServiceContext
from critmat.sources.baci import read_baci
from critmat.sources.base import CanonicalBatch
from critmat.store import Store, open_store

EU27 = group_members("EU27")
SHIPPED_HS17 = Path(sources.__file__).parent / "shipped" / "baci-hs17-v202601-2024-extract.parquet"
COLUMNS = ["year", "exporter", "importer", "hs6", "value_kusd", "quantity_t"]

# Germanium, processing: HS92 811230 (+ 282560), HS17 811292 (+ 282560) in the catalogue.
HS92_ROWS = [
    (2016, "CHN", "DEU", "811230", 50.0, 10.0),
    (2016, "RUS", "FRA", "811230", 20.0, 5.0),
    (2016, "DEU", "FRA", "811230", 99.0, 40.0),  # inside the EU: not an EU27 import
    (2024, "CHN", "DEU", "811230", 5.0, 1.0),  # 2024 is read in HS17, never added to it
    (2024, "CHN", "DEU", "810411", 5.0, 1.0),  # magnesium, HS92 side
]
HS17_ROWS = [
    (2024, "CHN", "DEU", "811292", 300.0, 60.0),
    (2024, "USA", "BEL", "811292", 150.0, 30.0),
    (2024, "GBR", "NLD", "811292", 50.0, 10.0),
    (2024, "FRA", "DEU", "811292", 900.0, 100.0),  # intra-EU
    (2024, "CHN", "DEU", "810411", 90.0, 90.0),  # magnesium: CHN 90 %
    (2024, "TUR", "ITA", "810411", 10.0, 10.0),
]


def _batch(rows: list[tuple[object, ...]], series: str, sha: str) -> CanonicalBatch:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return CanonicalBatch(
        "trade", "baci", f"{series} hand-made", "test", "tests", sha, frame, [], series
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "s.duckdb") as opened:
        opened.apply([_batch(HS92_ROWS, "HS92", "a92"), _batch(HS17_ROWS, "HS17", "a17")])
        yield opened


def _expected(rows: list[tuple[object, ...]], codes: set[str], year: int) -> pd.Series:
    """Shares of each origin in EU27's imports by mass, recomputed with pandas."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    picked = frame[
        frame.hs6.isin(codes)
        & (frame.year == year)
        & frame.importer.isin(EU27)
        & ~frame.exporter.isin(EU27)
        & frame.quantity_t.notna()
    ]
    tonnes = picked.groupby("exporter").quantity_t.sum()
    return (tonnes / tonnes.sum()).sort_values(ascending=False)


def test_2024_is_read_in_hs17_alone_with_the_bundle_note(store: Store) -> None:
    result = lookup.dependency(store, importer="EU27", year=2024, material="germanium")
    assert result.trade_source is not None and result.trade_source.series == "HS17"
    assert "811292" in result.hs_codes and "811230" not in result.hs_codes
    expected = _expected(HS17_ROWS, set(result.hs_codes), 2024)
    got = result.sources.set_index("origin")["share"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert result.summary is not None
    assert result.summary["hhi"] == pytest.approx(float((expected**2).sum()))
    assert result.summary["top_third_country"] == "CHN"
    assert not result.summary["exceeds_65"]
    assert any("811292" in n and "figures from it cover all of them" in n for n in result.notes)
    assert result.provenance[0].version == "HS17 hand-made"


def test_a_year_without_imports_is_no_data_with_the_years_that_hold_data(store: Store) -> None:
    result = lookup.dependency(store, importer="EU27", year=2022, material="germanium")
    assert result.summary is None and result.sources.empty
    assert result.years_with_data == (2016, 2024)
    note = next(n for n in result.notes if n.startswith("no data"))
    assert "2016 (HS92)" in note and "2024 (HS17)" in note
    answer = statistics_trade.dependency(
        store, importer="EU27", year=2022, basis="mass", material="germanium", stage=None, hs=None
    ).model
    assert answer.total is None and answer.exceeds_65 is None and answer.suppliers is None
    assert answer.series == "HS92" and answer.years_with_data == [2016, 2024]


def test_the_default_year_is_the_latest_with_imports(store: Store) -> None:
    result = lookup.dependency(store, importer="EU27", year=None, material="germanium")
    assert result.year == 2024
    hs92_only = lookup.dependency(store, importer="EU27", year=None, hs="811230")
    # a bare code with rows in HS92 is read there, also in 2024 (HS17 does not claim it)
    assert hs92_only.trade_source is not None and hs92_only.trade_source.series == "HS92"
    assert hs92_only.year == 2024


def test_the_flag_is_recomputed_above_65(store: Store) -> None:
    result = lookup.dependency(
        store, importer="EU27", year=2024, material="magnesium", stage="processing"
    )
    expected = _expected(HS17_ROWS, set(result.hs_codes), 2024)
    assert result.summary is not None
    assert expected.iloc[0] == pytest.approx(0.9)
    assert result.summary["top_third_share"] == pytest.approx(expected.iloc[0])
    assert bool(result.summary["exceeds_65"]) is True


def test_every_strategic_material_answers_or_says_why_not(store: Store, tmp_path: Path) -> None:
    ctx = ServiceContext(lambda: open_store(tmp_path / "s.duckdb", read_only=True))
    store.close()
    answer = statistics_trade.strategic_dependencies(ctx, "EU27").model
    catalogue = load_catalogue()
    strategic = {m.id for m in catalogue.materials if catalogue.is_strategic(m.id)}
    assert {r.material for r in answer.rows} == strategic
    for row in answer.rows:
        if row.status == "data":
            assert row.exceeds_65 is not None and row.series in {"HS92", "HS17"}
            assert row.year is not None and row.release_id is not None
        else:
            assert row.exceeds_65 is None and row.total is None and row.top_share is None
            assert row.no_data_reason
    by_key = {(r.material, r.stage): r for r in answer.rows}
    germanium = by_key["germanium", "processing"]
    assert (germanium.year, germanium.series, germanium.exceeds_65) == (2024, "HS17", False)
    assert germanium.top_third_share == pytest.approx(0.6)
    assert any("811292" in n for n in germanium.notes)
    gallium = by_key["gallium", "processing"]
    assert any("811292" in n and "cover all of them" in n for n in gallium.notes)
    assert by_key["magnesium", "processing"].exceeds_65 is True
    copper = by_key["copper", "extraction"]
    assert copper.status == "no data" and "rows" in (copper.no_data_reason or "")


def test_the_shipped_hs17_extract_recomputed_with_pandas(tmp_path: Path) -> None:
    raw = pd.read_parquet(SHIPPED_HS17)
    raw = raw.assign(exporter=raw.exporter.replace({"S19": "TWN"}))
    with open_store(tmp_path / "s.duckdb") as store:
        store.apply([_batch(HS92_ROWS, "HS92", "a92"), read_baci(SHIPPED_HS17)])
        for material, stage in [
            ("germanium", None),
            ("magnesium", "processing"),
            ("silicon metal", None),
            ("REE magnets", "magnets"),
        ]:
            result = lookup.dependency(
                store, importer="EU27", year=2024, material=material, stage=stage
            )
            assert result.trade_source is not None and result.trade_source.series == "HS17"
            picked = raw[
                raw.hs6.isin(result.hs_codes)
                & raw.importer.isin(EU27)
                & ~raw.exporter.isin(EU27)
                & raw.qty_t.notna()
            ]
            tonnes = picked.groupby("exporter").qty_t.sum()
            shares = tonnes[tonnes > 0] / tonnes.sum()
            assert result.summary is not None
            assert result.summary["total"] == pytest.approx(tonnes.sum())
            assert result.summary["hhi"] == pytest.approx(float((shares**2).sum()))
            assert result.summary["top_third_share"] == pytest.approx(shares.max())
            assert bool(result.summary["exceeds_65"]) == (shares.max() > 0.65)
            if "811292" in result.hs_codes:
                assert any("811292" in n and "cover all" in n for n in result.notes)


def test_the_trend_reads_each_year_in_its_one_series(store: Store) -> None:
    result = lookup.dependency_series(store, importer="EU27", material="germanium")
    assert result.rows[["year", "series"]].values.tolist() == [[2016, "HS92"], [2024, "HS17"]]
    hs92 = _expected(HS92_ROWS, {"811230"}, 2016)
    first = result.rows.iloc[0]
    assert first["top_third_share"] == pytest.approx(hs92.iloc[0])
    assert first["hhi"] == pytest.approx(float((hs92**2).sum()))
    assert {p.version: p.years for p in result.provenance} == {
        "HS17 hand-made": (2024,),
        "HS92 hand-made": (2016,),
    }
