"""Indicator arithmetic on the hand-made tables in ``tests/data`` (numbers worked out by hand)."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest
from tests.support import EU27

from critmat.indicators.consumption import apparent_consumption
from critmat.indicators.imports import (
    ImporterSet,
    import_concentration,
    import_shares,
    import_sources,
)
from critmat.indicators.production import production_concentration, production_shares

EU = ImporterSet("EU27", EU27, inside_eu=True)
DEU = ImporterSet.country("DEU", EU27)
FRA = ImporterSet.country("FRA", EU27)
INSIDE = {"EU27": True, "DEU": True, "FRA": True}
COBALT_OXIDE = {"co": ["282200"]}


def _concentration(con: duckdb.DuckDBPyConnection, basis: str, *sets: ImporterSet) -> pd.DataFrame:
    sources = import_sources(con, list(sets), COBALT_OXIDE)
    return import_concentration(sources, basis, EU27, INSIDE)  # type: ignore[arg-type]


def _row(frame: pd.DataFrame, importer: str, year: int) -> pd.Series:
    found = frame[(frame["importer"] == importer) & (frame["year"] == year)]
    assert len(found) == 1, found
    return found.iloc[0]


def test_eu27_mass_basis_counts_only_extra_eu_flows_with_quantity(tiny_con):
    """EU27 2022 by mass: CHN 10 t (DEU), COD 20 t, USA 4 t; FIN→DEU and DEU→FRA are intra-EU;
    CHN→FRA has no quantity. Total 34; shares 20/34, 10/34, 4/34; HHI (400+100+16)/34²."""
    row = _row(_concentration(tiny_con, "mass", EU), "EU27", 2022)
    assert row["total"] == pytest.approx(34.0)
    assert row["top_supplier"] == "COD"
    assert row["top_share"] == pytest.approx(20 / 34)
    assert row["hhi"] == pytest.approx(516 / 1156)
    assert not row["exceeds_65"]
    assert row["suppliers"] == 3
    # value of the flow without quantity (CHN→FRA, 60) over all extra-EU value (100+50+60+20)
    assert row["missing_quantity_value_share"] == pytest.approx(60 / 230)


def test_eu27_value_basis_can_cross_the_65_percent_line_when_mass_does_not(tiny_con):
    """By value CHN supplies 100 + 60 of 230 kUSD = 69.6% > 65%."""
    row = _row(_concentration(tiny_con, "value", EU), "EU27", 2022)
    assert row["total"] == pytest.approx(230.0)
    assert row["top_supplier"] == "CHN"
    assert row["top_share"] == pytest.approx(160 / 230)
    assert row["exceeds_65"]


def test_member_state_counts_intra_eu_supply_but_flags_only_third_countries(tiny_con):
    """DEU 2022 by mass: COD 20, CHN 10, FIN 5 (intra-EU counts for a Member State's sourcing);
    the largest third country is COD at 20/35."""
    row = _row(_concentration(tiny_con, "mass", DEU), "DEU", 2022)
    assert row["total"] == pytest.approx(35.0)
    assert row["top_third_country"] == "COD"
    assert row["top_third_share"] == pytest.approx(20 / 35)
    shares = import_shares(import_sources(tiny_con, [DEU], COBALT_OXIDE), "mass", EU27, INSIDE)
    fin = shares[(shares["origin"] == "FIN") & (shares["year"] == 2022)].iloc[0]
    assert not fin["third_country"]
    assert shares.groupby("year")["share"].sum().tolist() == pytest.approx([1.0, 1.0])


def test_single_supplier_has_share_one_and_hhi_one(tiny_con):
    row = _row(_concentration(tiny_con, "mass", DEU), "DEU", 2023)
    assert (row["top_share"], row["hhi"], row["exceeds_65"]) == (1.0, 1.0, True)


def test_year_with_only_missing_quantities_has_no_mass_row_but_a_value_row(tiny_con):
    """FRA 2021: one flow of 5 kUSD without quantity — nothing on the mass basis (never 0 t)."""
    mass = _concentration(tiny_con, "mass", FRA)
    assert mass[(mass["year"] == 2021)].empty
    value = _row(_concentration(tiny_con, "value", FRA), "FRA", 2021)
    assert value["total"] == pytest.approx(5.0)


def test_missing_quantities_stay_missing_in_sources(tiny_con):
    sources = import_sources(tiny_con, [FRA], COBALT_OXIDE, [2021])
    assert len(sources) == 1
    assert math.isnan(sources.iloc[0]["quantity_t"])
    assert sources.iloc[0]["value_kusd_no_quantity"] == pytest.approx(5.0)


def test_no_imports_gives_empty_concentration(tiny_con):
    nobody = ImporterSet.country("JPN", EU27)
    assert _concentration(tiny_con, "mass", nobody).empty


def test_production_shares_and_concentration_by_hand(tiny_con):
    """Cobalt 2022: COD 100, IDN 20 (estimated), AUS 5, FIN 5, CHN not reported → total 130."""
    shares = production_shares(tiny_con, ["Cobalt"], [2022])
    assert shares["country"].tolist() == ["COD", "IDN", "AUS", "FIN"]
    assert shares["share"].tolist() == pytest.approx([100 / 130, 20 / 130, 5 / 130, 5 / 130])
    row = production_concentration(tiny_con, ["Cobalt"], [2022]).iloc[0]
    assert row["total"] == pytest.approx(130.0)
    assert row["top_country"] == "COD"
    assert row["hhi"] == pytest.approx(10450 / 16900)
    assert row["top3_share"] == pytest.approx(125 / 130)
    assert row["estimated_share"] == pytest.approx(20 / 130)
    assert row["producers"] == 4


def test_apparent_consumption_and_import_reliance_by_hand(tiny_con):
    """EU27 2022: production FIN 5 t; extra-EU imports 34 t; exports DEU→USA 8 t.
    AC = 5 + 34 − 8 = 31; IR = (34 − 8) / 31."""
    frame = apparent_consumption(tiny_con, [EU], "Cobalt", ["282200"], [2022])
    row = frame.iloc[0]
    assert (row["production"], row["imports_t"], row["exports_t"]) == (5.0, 34.0, 8.0)
    assert row["apparent_consumption"] == pytest.approx(31.0)
    assert row["import_reliance"] == pytest.approx(26 / 31)
    assert not row["ir_out_of_range"]
    assert row["estimated"]
