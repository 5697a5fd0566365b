"""GeoPolRisk arithmetic on hand-made canonical tables (every expected number worked out here).

Tables (commodity Cobalt = HS 282200 + 810510, as in the peer's HS Code Map):

production 2022: COD 80, AUS 20, FIN 10.7 t; DEU not reported (NaN)
    critmat HHI = (80² + 20² + 10.7²) / 110.7² = 6914.49 / 12254.49
    peer HHI    = (80² + 20² + 10²) / 110²  = 6900 / 12100      (core.HHI: astype(int))
trade 2022 (t, kUSD): CHN→DEU 282200 10 t 100; COD→DEU 810510 20 t 60; FIN→DEU 282200 5 t 30;
    TWN→DEU 282200 no quantity, 40; USA→FIN 282200 4 t 20
WGI PV 2022: CHN 0 → w 0.5; COD -3 → (2.5+3)/5 = 1.1 → clipped 1.0; FIN 1 → 0.3; USA 0.5 → 0.4;
    TWN 1.5 → 0.2 (critmat) but 0.5 in the peer (its WGI table cannot join Taiwan)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from critmat.errors import CritmatError
from critmat.indicators.imports import ImporterSet
from critmat.risk import CF_COPPER, geopolrisk_scores
from critmat.risk.geopolrisk import COLUMNS, commodity_codes, production_hhi
from tests.support import EU27, canonical_connection

DEU = ImporterSet.country("DEU", EU27)
FIN = ImporterSet.country("FIN", EU27)
JPN = ImporterSet.country("JPN", EU27)
NOR = ImporterSet.country("NOR", EU27)
EU = ImporterSet("EU27", EU27, inside_eu=True)

HHI_CRITMAT = 6914.49 / 110.7**2
HHI_PEER = 6900 / 110**2


def _production() -> pd.DataFrame:
    rows = [
        ("Cobalt", "COD", 2022, 80.0, "metr. t"),
        ("Cobalt", "AUS", 2022, 20.0, "metr. t"),
        ("Cobalt", "FIN", 2022, 10.7, "metr. t"),
        ("Cobalt", "DEU", 2022, np.nan, "metr. t"),
        ("Cobalt", "COD", 2021, 50.0, "metr. t"),
        ("Natural Gas", "NOR", 2022, 10.0, "Mio m3"),
        ("Natural Gas", "QAT", 2022, 10.0, "Mio m3"),
    ]
    frame = pd.DataFrame(rows, columns=["commodity", "country", "year", "quantity", "unit"])
    frame["estimated"] = False
    return frame


def _trade() -> pd.DataFrame:
    rows = [
        (2022, "CHN", "DEU", "282200", 100.0, 10.0),
        (2022, "COD", "DEU", "810510", 60.0, 20.0),
        (2022, "FIN", "DEU", "282200", 30.0, 5.0),
        (2022, "TWN", "DEU", "282200", 40.0, np.nan),
        (2022, "USA", "FIN", "282200", 20.0, 4.0),
        (2022, "CHN", "DEU", "999999", 999.0, 999.0),  # not a cobalt code: ignored
        (2021, "CHN", "DEU", "282200", 10.0, 2.0),
        (2021, "PYF", "DEU", "282200", 10.0, 2.0),
        (2022, "QAT", "NOR", "271111", 100.0, 1000.0),
    ]
    return pd.DataFrame(
        rows, columns=["year", "exporter", "importer", "hs6", "value_kusd", "quantity_t"]
    )


def _governance() -> pd.DataFrame:
    rows = [
        ("CHN", 2022, 0.0),
        ("COD", 2022, -3.0),
        ("FIN", 2022, 1.0),
        ("USA", 2022, 0.5),
        ("TWN", 2022, 1.5),
        ("QAT", 2022, 0.5),
        ("CHN", 2021, 0.0),
        ("PYF", 2021, np.nan),  # a WGI economy without an estimate that year
        ("PYF", 2022, 1.0),
    ]
    frame = pd.DataFrame(rows, columns=["country", "year", "estimate"])
    frame["indicator"] = "PV"
    for column in ("stderr", "sources", "percentile", "lower", "upper"):
        frame[column] = 1.0
    return frame


@pytest.fixture
def con():
    connection = canonical_connection(
        production=_production(), trade=_trade(), governance=_governance()
    )
    yield connection
    connection.close()


def _one(frame: pd.DataFrame, importer: str, year: int = 2022, commodity: str = "Cobalt"):
    found = frame[
        (frame["importer"] == importer)
        & (frame["year"] == year)
        & (frame["wmd_commodity"] == commodity)
    ]
    assert len(found) == 1, found
    return found.iloc[0]


def test_columns_and_one_row_per_commodity_importer_year(con):
    frame = geopolrisk_scores(con, [DEU, EU, JPN], ["Cobalt"], [2021, 2022])
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == 6  # 1 commodity × 3 importers × 2 years
    assert set(frame["material"]) == {"cobalt"}


def test_hhi_critmat_and_peer():
    frame = production_hhi(_production().query("commodity == 'Cobalt' and year == 2022"))
    assert frame["hhi"].iloc[0] == pytest.approx(HHI_CRITMAT, rel=1e-12)
    peer = production_hhi(_production().query("commodity == 'Cobalt' and year == 2022"), "peer")
    assert peer["hhi"].iloc[0] == pytest.approx(HHI_PEER, rel=1e-12)


def test_country_mass_critmat(con):
    """DEU by mass: flows with a quantity only (TWN has none): m = 10 + 20 + 5 = 35 t,
    Σ m·w = 10·0.5 + 20·1.0 + 5·0.3 = 26.5, no production; price = (100+60+30)/35 USD/kg."""
    row = _one(geopolrisk_scores(con, [DEU], ["Cobalt"], [2022]), "DEU")
    assert row["imports"] == pytest.approx(35.0)
    assert row["weighted_imports"] == pytest.approx(26.5)
    assert row["import_risk"] == pytest.approx(26.5 / 35)
    assert row["hhi"] == pytest.approx(HHI_CRITMAT)
    assert row["score"] == pytest.approx(HHI_CRITMAT * 26.5 / 35)
    price = 190 / 35
    assert row["price_usd_per_kg"] == pytest.approx(price)
    assert row["cf"] == pytest.approx(HHI_CRITMAT * 26.5 / 35 * price / CF_COPPER)


def test_country_mass_peer(con):
    """Peer: TWN's missing quantity is 0 t but its 40 kUSD count in the price; its w is 0.5.
    m = 35 t, Σ m·w = 26.5 (+ 0·0.5), price = (100+60+30+40)/35."""
    row = _one(geopolrisk_scores(con, [DEU], ["Cobalt"], [2022], compat="peer"), "DEU")
    assert row["import_risk"] == pytest.approx(26.5 / 35)
    assert row["hhi"] == pytest.approx(HHI_PEER)
    assert row["price_usd_per_kg"] == pytest.approx(230 / 35)
    assert row["cf"] == pytest.approx(HHI_PEER * 26.5 / 35 * (230 / 35) / CF_COPPER)


def test_group_critmat_counts_extra_group_flows_and_member_production(con):
    """EU27 (critmat): extra-EU flows CHN 10 t (0.5), COD 20 t (1.0), USA→FIN 4 t (0.4);
    FIN→DEU is intra-EU and left out; production of members: FIN 10.7 t (DEU NaN = 0).
    import_risk = 26.6 / (34 + 10.7); price = (100 + 60 + 20) / 34."""
    row = _one(geopolrisk_scores(con, [EU], ["Cobalt"], [2022]), "EU27")
    assert row["imports"] == pytest.approx(34.0)
    assert row["domestic_production"] == pytest.approx(10.7)
    assert row["import_risk"] == pytest.approx(26.6 / 44.7)
    assert row["price_usd_per_kg"] == pytest.approx(180 / 34)


def test_group_peer_counts_intra_group_flows_with_zero_weight(con):
    """EU27 (peer, utils.aggregateTrade): every member's imports, intra-EU ones with w = 0:
    m = 10 + 20 + 5 + 0 + 4 = 39 t, Σ m·w = 26.6, P = 10.7 t (not truncated);
    price = (100 + 60 + 30 + 40 + 20) / 39."""
    row = _one(geopolrisk_scores(con, [EU], ["Cobalt"], [2022], compat="peer"), "EU27")
    assert row["imports"] == pytest.approx(39.0)
    assert row["import_risk"] == pytest.approx(26.6 / 49.7)
    assert row["price_usd_per_kg"] == pytest.approx(250 / 39)


def test_value_basis(con):
    """DEU by value: m = 100 + 60 + 30 + 40 = 230 kUSD, Σ m·w = 50 + 60 + 9 + 8 = 127.
    EU27 by value: 100 + 60 + 40 + 20 = 220, Σ m·w = 50 + 60 + 8 + 8 = 126, production valued at
    the import price 180/34 USD/kg: 10.7 t × 180/34 kUSD/t."""
    frame = geopolrisk_scores(con, [DEU, EU], ["Cobalt"], [2022], basis="value")
    deu, eu = _one(frame, "DEU"), _one(frame, "EU27")
    assert deu["import_risk"] == pytest.approx(127 / 230)
    produced = 10.7 * 180 / 34
    assert eu["domestic_production"] == pytest.approx(produced)
    assert eu["import_risk"] == pytest.approx(126 / (220 + produced))


def test_no_supply_at_all(con):
    """JPN neither imports nor produces cobalt: undefined in critmat, 0 in the peer."""
    ours = _one(geopolrisk_scores(con, [JPN], ["Cobalt"], [2022]), "JPN")
    assert math.isnan(ours["import_risk"]) and math.isnan(ours["score"])
    peer = _one(geopolrisk_scores(con, [JPN], ["Cobalt"], [2022], compat="peer"), "JPN")
    assert peer["import_risk"] == 0 and peer["score"] == 0 and peer["cf"] == 0


def test_producer_without_imports_scores_zero(con):
    """FIN produces 10.7 t and imports 4 t from USA; COD-like pure producers score 0 with CF 0."""
    frame = geopolrisk_scores(con, [ImporterSet.country("AUS")], ["Cobalt"], [2022])
    row = _one(frame, "AUS")
    assert row["score"] == 0 and row["cf"] == 0


def test_missing_estimate(con):
    """2021: CHN 2 t (w 0.5), PYF 2 t with no PV estimate: critmat 0.5, peer NaN (its 'nan')."""
    ours = _one(geopolrisk_scores(con, [DEU], ["Cobalt"], [2021]), "DEU", 2021)
    assert ours["import_risk"] == pytest.approx(0.5)
    assert ours["hhi"] == pytest.approx(1.0)
    peer = _one(geopolrisk_scores(con, [DEU], ["Cobalt"], [2021], compat="peer"), "DEU", 2021)
    assert math.isnan(peer["import_risk"])


def test_natural_gas_units(con):
    """NOR: 1000 t LNG from QAT (w 0.4) and 10 Mio m³ own production: critmat converts at
    0.8 kg/m³ (8000 t), the peer adds 10 unconverted (its Mio m³ branch is unreachable)."""
    ours = _one(geopolrisk_scores(con, [NOR], ["Natural Gas"], [2022]), "NOR", 2022, "Natural Gas")
    assert ours["import_risk"] == pytest.approx(400 / 9000)
    assert ours["hhi"] == pytest.approx(0.5)
    peer = geopolrisk_scores(con, [NOR], ["Natural Gas"], [2022], compat="peer")
    assert _one(peer, "NOR", 2022, "Natural Gas")["import_risk"] == pytest.approx(400 / 1010)


def test_bad_arguments(con):
    with pytest.raises(CritmatError, match="mass only"):
        geopolrisk_scores(con, [DEU], ["Cobalt"], [2022], basis="value", compat="peer")
    with pytest.raises(CritmatError, match="compat"):
        geopolrisk_scores(con, [DEU], ["Cobalt"], [2022], compat="other")  # type: ignore[arg-type]
    with pytest.raises(CritmatError, match="basis"):
        geopolrisk_scores(con, [DEU], ["Cobalt"], [2022], basis="volume")  # type: ignore[arg-type]
    with pytest.raises(CritmatError, match="HS mapping"):
        commodity_codes(["Diamonds (Gem)"])
