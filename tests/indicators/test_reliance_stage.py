"""Import reliance at one value-chain stage (critmat.indicators.consumption.stage_reliance and
critmat.services.statistics_reliance), recomputed by another path: pandas over the store's own
rows against the service's SQL, on a hand-made store (imported through ``Store.apply``) and on
the shipped data; a net exporter gets the reason; missing production is None, never 0."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.support import EU27

from critmat.errors import CritmatError, UnknownNameError
from critmat.indicators.consumption import STAGE_COLUMNS, stage_reliance
from critmat.indicators.imports import ImporterSet
from critmat.reference.content_factors import content_factor
from critmat.reference.materials import Material, ProductionSeries, Stage, load_catalogue
from critmat.services import statistics_reliance
from critmat.sources.base import CanonicalBatch
from critmat.store import Store, open_store

EU = ImporterSet("EU27", EU27, inside_eu=True)
TRADE = ["year", "exporter", "importer", "hs6", "value_kusd", "quantity_t"]

# copper concentrate (HS92 260300): 2022 like-for-like, 2023 no EU member listed, 2024 a net
# exporter (Spain ships out more concentrate than the EU brings in)
_TRADE_ROWS = [
    (2022, "CHL", "ESP", "260300", 100.0, 300.0),
    (2022, "PER", "DEU", "260300", 50.0, 100.0),
    (2022, "ESP", "CHN", "260300", 10.0, 40.0),
    (2022, "ESP", "DEU", "260300", 99.0, 999.0),  # intra-EU: neither import nor export
    (2023, "CHL", "ESP", "260300", 100.0, 500.0),
    (2024, "CHL", "ESP", "260300", 10.0, 50.0),
    (2024, "ESP", "CHN", "260300", 90.0, 900.0),
]
#: series, country, year, tonnes, status
_MINE_ROWS = [
    ("NEW", "ESP", 2022, 100.0, "reported"),
    ("NEW", "CHL", 2022, 5000.0, "reported"),
    ("NEW", "ROW", 2022, 10.0, "reported"),
    ("NEW", "CHL", 2023, 5000.0, "reported"),
    ("NEW", "ROW", 2023, 50.0, "reported"),  # EU members, if any, are in here: no data
    ("NEW", "ESP", 2024, 400.0, "reported"),
    ("NEW", "PRT", 2024, None, "withheld"),  # no data until the row is taken out
    ("OLD", "ESP", 2025, 70.0, "reported"),
    ("OLD", "PRT", 2025, None, "withheld"),
]


def _mine_batch(series: str) -> CanonicalBatch:
    rows = [r for r in _MINE_ROWS if r[0] == series]
    frame = pd.DataFrame(
        {
            "commodity": "Copper",
            "stage": "mine",
            "detail": "",
            "country": [r[1] for r in rows],
            "year": [r[2] for r in rows],
            "quantity_t": [r[3] for r in rows],
            "unit": "metric tons",
            "basis": "content",
            "estimated": False,
            "status": [r[4] for r in rows],
            "note": "",
        }
    )
    return CanonicalBatch(
        "stage_production", "usgs", f"{series} v1", "PD", "hand-made", series, frame, [], series
    )


@pytest.fixture
def tiny_store(tmp_path: Path) -> Iterator[Store]:
    trade = pd.DataFrame([*_TRADE_ROWS, (2025, "CHL", "ESP", "260300", 1.0, 1.0)], columns=TRADE)
    with open_store(tmp_path / "tiny.duckdb") as store:
        store.apply(
            [
                CanonicalBatch("trade", "baci", "HS92 hand-made", "t", "tests", "h92", trade),
                _mine_batch("NEW"),
                _mine_batch("OLD"),
            ]
        )
        yield store


def _copper() -> tuple[Material, Stage]:
    material = load_catalogue().get("copper")
    series = (
        ProductionSeries("stage_production", "NEW", "Copper", "mine"),
        ProductionSeries("stage_production", "OLD", "Copper", "mine"),
    )
    return material, replace(material.stage("extraction"), production=series)


def _by_year(frame: pd.DataFrame) -> dict[int, dict[str, Any]]:
    return {int(r["year"]): {str(k): v for k, v in r.items()} for r in frame.to_dict("records")}


def _pandas_reliance(
    trade: pd.DataFrame, production_t: float, codes: set[str], year: int, factor: float
) -> tuple[float, float, float]:
    """Content imports, exports and IR of EU27, recomputed from the trade rows with pandas."""
    rows = trade[trade.hs6.isin(codes) & (trade.year == year)]
    imports = rows[rows.importer.isin(EU27) & ~rows.exporter.isin(EU27)].quantity_t.sum()
    exports = rows[rows.exporter.isin(EU27) & ~rows.importer.isin(EU27)].quantity_t.sum()
    m_c, x_c = imports * factor, exports * factor
    return m_c, x_c, (m_c - x_c) / (production_t + m_c - x_c)


def test_hand_made_stage_reliance_recomputed_with_pandas(tiny_store: Store) -> None:
    material, stage = _copper()
    frame = stage_reliance(tiny_store, EU, material, stage)
    assert list(frame.columns) == list(STAGE_COLUMNS)
    rows = _by_year(frame)
    assert sorted(rows) == [2022, 2023, 2024, 2025]
    factor = content_factor("260300", "copper")
    assert factor is not None
    trade = pd.DataFrame(_TRADE_ROWS, columns=TRADE)
    m_c, x_c, ir = _pandas_reliance(trade, 100.0, {"260300"}, 2022, factor.factor)
    got = rows[2022]
    assert got["status"] == "data" and got["production_t"] == 100.0  # ESP only, not CHL or ROW
    assert got["imports_content_t"] == pytest.approx(m_c)
    assert got["exports_content_t"] == pytest.approx(x_c)
    assert got["import_reliance"] == pytest.approx(ir)
    assert got["import_reliance_low"] <= got["import_reliance"] <= got["import_reliance_high"]
    # every row names its production series, release and stage and its trade release and codes
    assert (got["production_series"], got["production_stage"]) == ("NEW", "mine")
    assert got["production_release_id"] is not None and got["trade_series"] == "HS92"
    assert got["trade_release_id"] is not None and got["hs_codes"] == "260300"


def test_no_member_listed_is_no_data_never_zero(tiny_store: Store) -> None:
    material, stage = _copper()
    got = _by_year(stage_reliance(tiny_store, EU, material, stage))[2023]
    assert got["production_t"] is None and got["import_reliance"] is None
    assert got["status"] == "no data" and got["apparent_consumption"] is None
    assert "no EU27 member is listed" in str(got["ir_reason"]) and "50 t" in str(got["ir_reason"])


def test_a_withheld_member_is_no_data(tiny_store: Store) -> None:
    material, stage = _copper()
    got = _by_year(stage_reliance(tiny_store, EU, material, stage))[2025]
    assert got["production_series"] == "OLD"  # NEW has no 2025: the next series holds it
    assert got["production_t"] is None and got["import_reliance"] is None
    assert "PRT withheld" in str(got["ir_reason"])


def test_a_net_exporter_gets_the_reason(tiny_store: Store) -> None:
    material, stage = _copper()
    got = _by_year(stage_reliance(tiny_store, EU, material, stage))[2024]
    assert got["import_reliance"] is None and got["status"] == "no data"
    assert "PRT withheld" in str(got["ir_reason"])
    # without the withheld row the year is a net exporter, recomputed with pandas
    tiny_store.con.execute("DELETE FROM stage_production_all WHERE country = 'PRT'")
    got = _by_year(stage_reliance(tiny_store, EU, material, stage))[2024]
    factor = content_factor("260300", "copper")
    assert factor is not None
    trade = pd.DataFrame(_TRADE_ROWS, columns=TRADE)
    _m, _x, ir = _pandas_reliance(trade, 400.0, {"260300"}, 2024, factor.factor)
    assert ir < 0 and got["import_reliance_computed"] == pytest.approx(ir)
    assert got["import_reliance"] is None and got["ir_out_of_range"] is True
    assert str(got["ir_reason"]).startswith("net exporter")


def test_a_stage_without_production_series_is_one_no_data_row(tiny_store: Store) -> None:
    material, stage = _copper()
    frame = stage_reliance(tiny_store, EU, material, replace(stage, production=()))
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["year"] is None and row["import_reliance"] is None and row["production_t"] is None
    assert row["status"] == "no data"
    assert "names no production series" in str(row["ir_reason"])


# -- the shipped data ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_store(real_data_dir: Path) -> Iterator[Store]:
    with open_store(real_data_dir / "critmat.duckdb", read_only=True) as store:
        yield store


def _pandas_production(store: Store, stage: Stage, year: int) -> tuple[str, float]:
    """EU27 production at the stage in ``year`` from the first of its series with the year."""
    for ref in stage.production:
        rows = store.con.execute(
            "SELECT country, quantity_t FROM stage_production_all "
            "WHERE series = ? AND commodity = ? AND stage = ? AND year = ?",
            [ref.series, ref.commodity, ref.stage, year],
        ).df()
        if rows.quantity_t.notna().any():
            return ref.series, float(rows[rows.country.isin(EU27)].quantity_t.sum())
    raise AssertionError(f"no series of {stage.name} holds {year}")


@pytest.mark.parametrize(
    ("material_id", "stage_name", "year", "revision"),
    [("nickel", "processing", 2024, "HS17"), ("bismuth", "processing", 2023, "HS92")],
)
def test_shipped_processing_stage_recomputed_with_pandas(
    real_store: Store, material_id: str, stage_name: str, year: int, revision: str
) -> None:
    material = load_catalogue().get(material_id)
    stage = material.stage(stage_name)
    got = _by_year(stage_reliance(real_store, EU, material, stage, [year]))[year]
    series, production_t = _pandas_production(real_store, stage, year)
    codes = set(stage.hs17_codes if revision == "HS17" else stage.hs_codes)
    trade = real_store.con.execute(
        "SELECT * FROM trade_all WHERE series = ? AND year = ?", [revision, year]
    ).df()
    present = codes & set(trade.hs6)
    factor = content_factor(sorted(present)[0], material_id, revision)
    assert factor is not None and len(present) == 1
    m_c, x_c, ir = _pandas_reliance(trade, production_t, present, year, factor.factor)
    assert (got["production_series"], got["trade_series"]) == (series, revision)
    assert got["production_t"] == pytest.approx(production_t)
    assert got["imports_content_t"] == pytest.approx(m_c)
    assert got["exports_content_t"] == pytest.approx(x_c)
    assert got["import_reliance"] == pytest.approx(ir)
    assert 0 < got["import_reliance"] < 1


def test_shipped_tin_processing_has_no_production_series(real_store: Store) -> None:
    answer = statistics_reliance.stage_reliance(real_store, material="tin", stage="processing")
    assert [r["status"] for r in answer.model.rows] == ["no data"]  # type: ignore[attr-defined]
    row = answer.model.rows[0]  # type: ignore[attr-defined]
    assert row["import_reliance"] is None and "no production series" in row["ir_reason"]


def test_default_stage_is_the_eu_2023_assessments(real_store: Store) -> None:
    nickel = statistics_reliance.stage_reliance(real_store, material="nickel").model
    copper = statistics_reliance.stage_reliance(real_store, material="copper").model
    assert nickel.stage == "processing" and "EU 2023" in nickel.stage_choice  # type: ignore[attr-defined]
    assert copper.stage == "extraction"  # type: ignore[attr-defined]
    every = statistics_reliance.stage_reliance(real_store, material="copper", stage="all").model
    assert every.stages == [s.name for s in load_catalogue().get("copper").stages]  # type: ignore[attr-defined]
    assert {p.dataset for p in every.provenance} >= {"stage_production", "trade"}  # type: ignore[attr-defined]


def test_bad_questions_say_what_to_type(real_store: Store) -> None:
    with pytest.raises(UnknownNameError) as caught:
        statistics_reliance.stage_reliance(real_store, material="tin", stage="smelting")
    assert caught.value.hint is not None and "processing" in caught.value.hint
    assert "all" in caught.value.hint
    with pytest.raises(CritmatError, match="is after"):
        statistics_reliance.stage_reliance(real_store, material="tin", first=2024, last=2020)
