"""Production by stage (critmat.indicators.stage_production), recomputed by another path.

A hand-made store (imported through ``Store.apply``, so releases are real) with two USGS-like
series and a WMD series tests the preference rule, shares, withheld figures and errors; the
shipped files test gallium 2024 against the MCS 2026 CSV read with pandas.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from critmat.errors import CritmatError, NoDataError, UnknownNameError
from critmat.indicators.stage_production import (
    stage_production,
    stage_production_all,
    stage_production_years,
)
from critmat.reference.materials import Material, ProductionSeries, Stage, load_catalogue
from critmat.sources.base import CanonicalBatch
from critmat.store import Store, open_store

SHIPPED_MCS_2026 = (
    Path(__file__).parents[2] / "src/critmat/sources/shipped/MCS2026_Commodities_Data.csv.gz"
)

#: Hand-made rows: series, commodity, stage, detail, country, year, tonnes, status, estimated.
_ROWS = [
    ("NEW", "Gallium", "refinery", "Primary", "CHN", 2024, 90.0, "reported", False),
    ("NEW", "Gallium", "refinery", "Primary", "JPN", 2024, 6.0, "reported", True),
    ("NEW", "Gallium", "refinery", "Primary", "USA", 2024, None, "withheld", False),
    ("NEW", "Gallium", "refinery", "Primary", "ROW", 2024, 4.0, "reported", True),
    ("NEW", "Gallium", "refinery", "Primary", "WLD", 2024, 110.0, "reported", False),
    ("OLD", "Gallium", "refinery", "Primary", "CHN", 2023, 50.0, "reported", False),
    ("OLD", "Gallium", "refinery", "Primary", "KOR", 2023, 50.0, "reported", False),
    # OLD also holds 2024: NEW comes first for 2024, so these must never show
    ("OLD", "Gallium", "refinery", "Primary", "CHN", 2024, 1.0, "reported", False),
    ("OLD", "Gallium", "refinery", "Primary", "DEU", 2024, 1.0, "reported", False),
]
_WMD = [("Gallium", "CHN", 2021, 300.0, "metr. t"), ("Gallium", "RUS", 2021, 500.0, "kg")]


def _stage_batch(series: str) -> CanonicalBatch:
    rows = [r for r in _ROWS if r[0] == series]
    frame = pd.DataFrame(
        {
            "commodity": [r[1] for r in rows],
            "stage": [r[2] for r in rows],
            "detail": [r[3] for r in rows],
            "country": [r[4] for r in rows],
            "year": [r[5] for r in rows],
            "quantity_t": [r[6] for r in rows],
            "unit": "kilograms",
            "basis": "content",
            "estimated": [r[8] for r in rows],
            "status": [r[7] for r in rows],
            "note": "",
        }
    )
    return CanonicalBatch(
        "stage_production", "usgs", f"{series} v1", "PD", "hand-made", series, frame, [], series
    )


def _wmd_batch() -> CanonicalBatch:
    frame = pd.DataFrame(_WMD, columns=["commodity", "country", "year", "quantity", "unit"])
    frame["estimated"] = False
    return CanonicalBatch("production", "wmd", "WMD v1", "terms", "hand-made", "wmd1", frame)


@pytest.fixture
def tiny_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "tiny.duckdb")
    store.apply([_stage_batch("NEW"), _stage_batch("OLD"), _wmd_batch()])
    yield store
    store.close()


def _gallium() -> tuple[Material, Stage]:
    material = load_catalogue().get("gallium")
    series = (
        ProductionSeries("stage_production", "NEW", "Gallium", "refinery"),
        ProductionSeries("stage_production", "OLD", "Gallium", "refinery"),
        ProductionSeries("production", "WMD", "Gallium", "mine"),
    )
    return material, replace(material.stage("processing"), production=series)


def test_each_year_comes_from_the_first_series_that_holds_it(tiny_store: Store) -> None:
    material, stage = _gallium()
    assert stage_production_years(tiny_store.con, material, stage) == [2021, 2023, 2024]
    assert stage_production(tiny_store.con, material, stage, 2024).series == "NEW"
    older = stage_production(tiny_store.con, material, stage, 2023)
    assert older.series == "OLD"
    assert any("preferred series NEW has no figures for 2023" in n for n in older.notes)
    assert stage_production(tiny_store.con, material, stage, 2021).series == "WMD"
    assert stage_production(tiny_store.con, material, stage).year == 2024  # latest by default


def test_shares_recomputed_with_pandas_and_withheld_is_missing(tiny_store: Store) -> None:
    material, stage = _gallium()
    answer = stage_production(tiny_store.con, material, stage, 2024)
    raw = tiny_store.query(
        "SELECT country, quantity_t FROM stage_production_all WHERE series = 'NEW' AND year = 2024"
    )
    reported = raw[(raw["country"] != "WLD") & raw["quantity_t"].notna()]
    expected = (
        reported.set_index("country")["quantity_t"] / reported["quantity_t"].sum()
    ).to_dict()
    got = answer.countries.set_index("country")
    for country, share in expected.items():
        assert got.loc[country, "share"] == pytest.approx(share)
    assert answer.world_t == 110.0  # the published total, apart from the share base (100)
    assert answer.total_t == pytest.approx(100.0)
    usa = got.loc["USA"]
    assert pd.isna(usa["quantity_t"]) and pd.isna(usa["share"]) and usa["status"] == "withheld"
    assert pd.isna(usa["rank"]) and pd.isna(got.loc["ROW", "rank"])
    assert got.loc["CHN", "rank"] == 1 and got.loc["JPN", "rank"] == 2
    assert "DEU" not in got.index  # OLD's 2024 rows never mix in
    assert any("withheld" in n and "USA" in n for n in answer.notes)
    assert any("differs from the sum" in n for n in answer.notes)
    assert answer.release_id and answer.release_version == "NEW v1"


def test_wmd_units_become_tonnes(tiny_store: Store) -> None:
    material, stage = _gallium()
    answer = stage_production(tiny_store.con, material, stage, 2021)
    got = answer.countries.set_index("country")["quantity_t"].to_dict()
    assert got == {"CHN": 300.0, "RUS": 0.5}  # 500 kg
    assert answer.world_t is None


def test_years_without_figures_and_stages_without_series_say_so(tiny_store: Store) -> None:
    material, stage = _gallium()
    with pytest.raises(NoDataError, match="2022: tried NEW 'Gallium' refinery"):
        stage_production(tiny_store.con, material, stage, 2022)
    with pytest.raises(CritmatError, match="outside"):
        stage_production(tiny_store.con, material, stage, 1990)
    with pytest.raises(NoDataError, match="names no production series"):
        stage_production(tiny_store.con, material, replace(stage, production=()))
    missing = (ProductionSeries("stage_production", "NONE", "Gallium", "refinery"),)
    with pytest.raises(NoDataError, match="NONE 'Gallium' refinery \\(no rows\\)"):
        stage_production(tiny_store.con, material, replace(stage, production=missing))


def test_unknown_stage_gets_suggestions() -> None:
    catalogue = load_catalogue()
    resolved = catalogue.resolve("gallium")
    with pytest.raises(UnknownNameError) as raised:
        catalogue.choose_stage(resolved, lambda s: True, named="smelting-pot")
    assert "processing" in raised.value.suggestions


def test_long_table_matches_the_one_stage_answers(tiny_store: Store) -> None:
    material, stage = _gallium()
    patched = replace(material, stages=(stage,))
    long = stage_production_all(tiny_store.con, [patched])
    for year in (2021, 2023, 2024):
        one = stage_production(tiny_store.con, patched, stage, year).countries
        part = long[long["year"] == year].set_index("country")["quantity_t"]
        assert part.to_dict() == pytest.approx(
            one.set_index("country")["quantity_t"].to_dict(), nan_ok=True
        )
    assert set(long[long["year"] == 2024]["series"]) == {"NEW"}
    assert "WLD" not in set(long["country"])


def _mcs_2026() -> pd.DataFrame:
    text = gzip.decompress(SHIPPED_MCS_2026.read_bytes()).decode("cp1252")
    return pd.read_csv(io.StringIO(text), dtype=str)


def _kg(value: str) -> float:
    return float(value.replace(",", ""))


def test_gallium_2024_against_the_shipped_mcs_2026_csv(real_con) -> None:
    """World 848 t, China 839 t in MCS 2026 (world low-purity primary production)."""
    raw = _mcs_2026()
    rows = raw[
        (raw["Commodity"] == "Gallium")
        & (raw["Year"] == "2024")
        & (raw["Statistics_detail"].str.startswith("Primary production"))
        & raw["Section"].str.startswith("World")
    ]
    by_country = {r["Country"]: r["Value"] for _, r in rows.iterrows()}
    material = load_catalogue().get("gallium")
    answer = stage_production(real_con, material, material.stage("processing"), 2024)
    assert answer.series == "USGS MCS 2026" and answer.production_stage == "refinery"
    assert answer.world_t == pytest.approx(_kg(by_country["World total"]) / 1000)
    china = answer.countries.set_index("country").loc["CHN"]
    assert china["quantity_t"] == pytest.approx(_kg(by_country["China"]) / 1000)
    listed = [_kg(v) for c, v in by_country.items() if c != "World total" and v[0].isdigit()]
    assert china["share"] == pytest.approx(_kg(by_country["China"]) / sum(listed))
    assert china["rank"] == 1


@pytest.mark.parametrize("material_id", ["gallium", "cobalt", "silicon_metal", "boron"])
def test_long_table_equals_the_answers_on_the_shipped_data(real_con, material_id: str) -> None:
    """The one-query long table and the per-year answers agree (silicon: one of two labels
    per country kept; boron: a different form per country, all kept)."""
    material = load_catalogue().get(material_id)
    long = stage_production_all(real_con, [material])
    assert len(long)
    for stage in material.stages:
        for year in stage_production_years(real_con, material, stage):
            answer = stage_production(real_con, material, stage, year)
            part = long[(long["stage"] == stage.name) & (long["year"] == year)]
            assert set(part["series"]) == {answer.series}
            expected = answer.countries.set_index("country")["quantity_t"]
            got = part.set_index("country")["quantity_t"]
            assert got.sort_index().to_dict() == pytest.approx(
                expected.sort_index().to_dict(), nan_ok=True
            )
