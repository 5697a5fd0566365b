"""EU criticality equations on small hand-computed cases, the trade parameter, the input files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from critmat.errors import CritmatError, InputFileError
from critmat.risk._eu_trade import trade_parameter
from critmat.risk.eu_criticality import (
    assess,
    economic_importance,
    explain_rows,
    hhi_wgi_t,
    import_reliance,
    read_ei_inputs,
    read_si_sr,
    scale_wgi,
    supply_risk,
)
from tests.support import EU27, canonical_connection

# ------------------------------------------------------------------------------------ equations


def test_wgi_scaling_maps_best_to_0_and_worst_to_10():
    assert scale_wgi(2.5) == 0.0
    assert scale_wgi(-2.5) == 10.0
    assert scale_wgi(0.0) == 5.0
    assert scale_wgi(-0.5) == pytest.approx(6.0)
    assert scale_wgi(3.1) == 0.0  # clipped
    assert scale_wgi(-2.7) == 10.0


def test_hhi_wgi_t_is_sum_of_share_squared_times_wgi_times_t():
    # 0.6² · 6 · 1 + 0.4² · 5 · 1.1 = 2.16 + 0.88
    assert hhi_wgi_t([(0.6, 6.0, 1.0), (0.4, 5.0, 1.1)]) == pytest.approx(3.04)
    # a monopoly of the worst governance with t = 1 reaches 10
    assert hhi_wgi_t([(1.0, 10.0, 1.0)]) == 10.0


def test_import_reliance_follows_the_crma_formula():
    assert import_reliance(10, 80, 10) == pytest.approx(70 / 80)
    assert import_reliance(100, 10, 50) == 0.0  # net exporter: max{0, ...}
    assert import_reliance(0, 5, 5) is None  # no apparent consumption


def test_supply_risk_weights_global_supply_by_half_the_import_reliance():
    # [2 · 0.5/2 + 4 · (1 − 0.5/2)] · (1 − 0.2) · 0.9 = (0.5 + 3) · 0.72
    assert supply_risk(2.0, 4.0, 0.5, 0.2, 0.9) == pytest.approx(2.52)
    # IR = 0: EU sourcing only; IR = 1: half and half
    assert supply_risk(2.0, 4.0, 0.0, 0.0, 1.0) == pytest.approx(4.0)
    assert supply_risk(2.0, 4.0, 1.0, 0.0, 1.0) == pytest.approx(3.0)
    # global supply only
    assert supply_risk(2.0, None, None, 0.5, 1.0) == pytest.approx(1.0)


def test_economic_importance_scales_by_the_largest_sector_to_ten():
    # (0.5 · 100 + 0.5 · 50) / 200 · 10 · 0.9 = 3.375
    assert economic_importance([(0.5, 100), (0.5, 50)], 200, 0.9) == pytest.approx(3.375)
    # a material used only in the largest sector, without substitutes, scores 10
    assert economic_importance([(1.0, 200)], 200, 1.0) == pytest.approx(10.0)


# ----------------------------------------------------------------------- tiny hand-made store


def _tiny(indicators: tuple[str, ...] = ("PV",)) -> object:
    """Baryte (HS 251110, EoL-RIR 0 in the catalogue), 2022.

    Production: CHN 60, IND 30, DEU 10 t. WGI (same value for every indicator given):
    CHN −0.5 → 6, IND −1 → 7, DEU 0.5 → 4, MAR 0 → 5. Trade: CHN→DEU 40 t, MAR→FRA 40 t,
    DEU→USA 10 t, FRA→DEU 99 t (intra-EU: ignored).
    """
    production = pd.DataFrame(
        {
            "commodity": ["Baryte"] * 3,
            "country": ["CHN", "IND", "DEU"],
            "year": [2022] * 3,
            "quantity": [60.0, 30.0, 10.0],
            "unit": ["metr. t"] * 3,
            "estimated": [False] * 3,
        }
    )
    trade = pd.DataFrame(
        {
            "year": [2022] * 4,
            "exporter": ["CHN", "MAR", "DEU", "FRA"],
            "importer": ["DEU", "FRA", "USA", "DEU"],
            "hs6": ["251110"] * 4,
            "value_kusd": [4.0, 4.0, 1.0, 9.0],
            "quantity_t": [40.0, 40.0, 10.0, 99.0],
        }
    )
    wgi = {"CHN": -0.5, "IND": -1.0, "DEU": 0.5, "MAR": 0.0}
    governance = wgi_frame({c: dict.fromkeys(indicators, v) for c, v in wgi.items()}, 2022)
    return canonical_connection(production=production, trade=trade, governance=governance)


def wgi_frame(estimates: dict[str, dict[str, float]], year: int) -> pd.DataFrame:
    """Governance rows of ``year``: ``{country: {indicator: estimate}}``."""
    return pd.DataFrame(
        [
            {
                "country": country,
                "year": year,
                "indicator": indicator,
                "estimate": value,
                "stderr": 0.2,
                "sources": 5.0,
                "percentile": 50.0,
                "lower": 40.0,
                "upper": 60.0,
            }
            for country, values in estimates.items()
            for indicator, value in values.items()
        ]
    )


def test_supply_risk_of_a_hand_made_case():
    """GS: 0.6²·6 + 0.3²·7 + 0.1²·4 = 2.83.
    EUS: CHN 40, MAR 40 (EU trade agreement: t 0.8), DEU 10 of 90 t:
    (16·6 + 16·5·0.8 + 1·4)/81 = 164/81.
    IR = (80 − 10)/(10 + 80 − 10) = 0.875.
    SR = 2.83·0.4375 + 164/81·0.5625 = 2.377014 (EoL 0, SI 1)."""
    con = _tiny()
    result = assess(con, year=2022, window=1, materials=["baryte"], published=False)
    b = result.get("baryte")
    stage = b.stages[0]
    assert stage.basis == "GS+EU"
    assert stage.global_supply.value == pytest.approx(2.83)
    assert stage.eu_sourcing is not None
    assert stage.eu_sourcing.value == pytest.approx(164 / 81)
    mar = next(c for c in stage.eu_sourcing.countries if c.country == "MAR")
    assert mar.t == 0.8 and "agreement" in mar.t_reason
    assert mar.share == pytest.approx(4 / 9)
    assert {c.country for c in stage.eu_sourcing.countries} == {"CHN", "MAR", "DEU"}
    assert stage.import_reliance.value == pytest.approx(0.875)
    assert b.sr == pytest.approx(2.83 * 0.4375 + 164 / 81 * 0.5625)
    assert b.sr_meets_threshold is True
    assert b.ei is None and b.critical is None
    assert b.wgi_indicators == ("PV",)
    assert "approximation" in b.wgi_note
    row = b.row()
    assert row["sr"] == pytest.approx(2.38) and row["ei"] is None and row["critical"] is None
    assert "no SI_SR given" in row["notes"]
    # every contribution adds up to the index
    total = sum(c.contribution or 0 for c in stage.global_supply.countries)
    assert total == pytest.approx(stage.global_supply.value)


def test_six_wgi_indicators_are_averaged_and_reported():
    con = _tiny(("VA", "PV", "GE", "RQ", "RL", "CC"))
    b = assess(con, year=2022, window=1, materials=["baryte"], published=False).get("baryte")
    assert b.wgi_indicators == ("VA", "PV", "GE", "RQ", "RL", "CC")
    assert "six" in b.wgi_note and "approximation" not in b.wgi_note
    assert b.stages[0].global_supply.value == pytest.approx(2.83)  # same values per indicator


def test_si_sr_input_and_ei_input_complete_the_assessment(tmp_path: Path):
    con = _tiny()
    ei_file = tmp_path / "ei.csv"
    ei_file.write_text(
        "material,sector,end_use_share,value_added,si_ei,value_added_max,source\n"
        "baryte,C20,0.6,100,0.9,200,test\n"
        "Baryte,C23,0.4,50,0.9,200,test\n",
        encoding="utf-8",
    )
    si_file = tmp_path / "si.csv"
    si_file.write_text("material,si_sr\nbaryte,0.5\n", encoding="utf-8")
    result = assess(
        con,
        year=2022,
        window=1,
        materials=["baryte"],
        ei_inputs=read_ei_inputs(ei_file),
        si_sr=read_si_sr(si_file),
        published=False,
    )
    b = result.get("baryte")
    # EI = (0.6·100 + 0.4·50)/200 · 10 · 0.9 = 3.6
    assert b.ei is not None and b.ei.ei == pytest.approx(3.6)
    assert b.sr == pytest.approx((2.83 * 0.4375 + 164 / 81 * 0.5625) * 0.5)
    assert b.critical is True
    terms = {r["symbol"]: r for r in explain_rows(b) if r["stage"] == ""}
    assert terms["EI"]["value"] == pytest.approx(3.6)
    assert "Q_max 200" in terms["EI"]["inputs"]


def test_year_outside_the_data_is_a_user_error():
    with pytest.raises(CritmatError, match="outside"):
        assess(_tiny(), year=2030, materials=["baryte"])


# ---------------------------------------------------------------------------- trade parameter

EU = frozenset(EU27)


def test_export_ban_raises_t_from_its_effective_year():
    codes = frozenset({"260400"})
    before = trade_parameter("nickel", codes, "IDN", 2019, eu=EU, eu_sourcing=False)
    after = trade_parameter("nickel", codes, "IDN", 2020, eu=EU, eu_sourcing=False)
    assert before.value == 1.0
    assert after.value == 1.3 and "ID-2020-NI" in after.reason


def test_measures_aimed_only_at_other_destinations_do_not_count():
    # CN-2024-046 bans exports of gallium etc. to the USA only; licensing counts 1 by default
    tp = trade_parameter("gallium", frozenset({"811291"}), "CHN", 2025, eu=EU, eu_sourcing=False)
    assert tp.value == 1.0 and "CN-2024-046" not in tp.reason
    custom = trade_parameter(
        "gallium",
        frozenset({"811291"}),
        "CHN",
        2025,
        eu=EU,
        eu_sourcing=False,
        measure_t={"export_licensing": 1.1},
    )
    assert custom.value == 1.1


def test_trade_agreement_lowers_t_in_eu_sourcing_only_and_not_against_a_ban():
    codes = frozenset({"251110"})
    assert trade_parameter("baryte", codes, "CAN", 2022, eu=EU, eu_sourcing=True).value == 0.8
    assert trade_parameter("baryte", codes, "CAN", 2022, eu=EU, eu_sourcing=False).value == 1.0
    assert trade_parameter("baryte", codes, "CAN", 2016, eu=EU, eu_sourcing=True).value == 1.0
    assert trade_parameter("baryte", codes, "DEU", 2022, eu=EU, eu_sourcing=True).value == 1.0


# --------------------------------------------------------------------------------- input files


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inputs.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "row", "field", "message"),
    [
        ("material,sector,share,value_added,si_ei\ncobalt,C20,1,5,1\n", 1, None, "missing column"),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,lots,5,1\n",
            2,
            "end_use_share",
            "not a number",
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,0.5,5,1\n"
            "cobalt,C27,0.2,5,1\n",
            3,
            "end_use_share",
            "add up to 0.700",
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\nunobtainium,C20,1,5,1\n",
            2,
            "material",
            "unknown material",
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,45,5,1\n",
            2,
            "end_use_share",
            "percent",
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,1,5,1.4\n",
            2,
            "si_ei",
            "outside",
        ),
        (
            "material,sector,end_use_share,value_added,si_ei\ncobalt,C20,0.5,5,1\n"
            "cobalt,C20,0.5,5,1\n",
            3,
            "sector",
            "twice",
        ),
    ],
)
def test_bad_ei_files_name_file_row_and_column(tmp_path, text, row, field, message):
    path = _write(tmp_path, text)
    with pytest.raises(InputFileError) as info:
        read_ei_inputs(path)
    err = info.value
    assert err.path == str(path) and err.row == row and err.field == field
    assert message in str(err)


def test_bad_si_file_names_row_and_column(tmp_path):
    path = _write(tmp_path, "material,si_sr\ncobalt,0.9\nnickel,x\n")
    with pytest.raises(InputFileError) as info:
        read_si_sr(path)
    assert info.value.row == 3 and info.value.field == "si_sr"
