"""The equations of the company assessment on small hand-computed cases."""

from __future__ import annotations

import pytest

from critmat.risk import _company_method as cm


def test_look_through_apportions_imports_and_domestic_supply():
    """DEU imports 60 t from COD, 20 t from FIN, exports 100 t: D = max(0, 100 - 80, 0) = 20;
    supply = 20 + 80 = 100 -> COD 0.6, FIN 0.2, DEU 0.2."""
    shares, domestic, ok = cm.look_through_shares("DEU", {"COD": 60, "FIN": 20}, exports=100)
    assert ok and domestic == pytest.approx(20)
    assert shares == pytest.approx({"COD": 0.6, "FIN": 0.2, "DEU": 0.2})
    assert next(iter(shares)) == "COD"  # largest first


def test_look_through_production_beats_net_exports():
    """P = 50 t, X - M = 10 t -> D = 50; imports 50 t from AUS -> CHN 0.5, AUS 0.5."""
    shares, domestic, _ok = cm.look_through_shares("CHN", {"AUS": 50}, exports=60, production=50)
    assert domestic == 50 and shares == pytest.approx({"CHN": 0.5, "AUS": 0.5})


def test_look_through_without_data_stays_with_supplier():
    shares, domestic, ok = cm.look_through_shares("FIN", {}, exports=0)
    assert (shares, domestic, ok) == ({"FIN": 1.0}, 0.0, False)
    # the supplier's own imports (re-imports) and zero flows are ignored
    shares, _d, ok = cm.look_through_shares("FIN", {"FIN": 5, "SWE": 0}, exports=0)
    assert not ok and shares == {"FIN": 1.0}


def test_material_shares_hhi_and_65_flag():
    """Line 1: 100 t, origins COD 0.8 / FIN 0.2; line 2: 100 t from CHL (1.0).
    E = COD 80, CHL 100, FIN 20 -> shares 0.4, 0.5, 0.1; HHI = 0.16 + 0.25 + 0.01 = 0.42;
    largest third country (EU importer: FIN is not third) CHL 0.5 -> below 65 %."""
    tonnes = cm.add_up([("COD", 80.0), ("FIN", 20.0), ("CHL", 100.0)])
    shares = cm.shares_of(tonnes)
    assert shares == pytest.approx({"CHL": 0.5, "COD": 0.4, "FIN": 0.1})
    assert cm.hhi(shares) == pytest.approx(0.42)
    third = {"CHL": True, "COD": True, "FIN": False}
    assert cm.top_third(shares, third) == ("CHL", pytest.approx(0.5), False)
    assert cm.top_third({"COD": 0.7, "FIN": 0.3}, {"COD": True, "FIN": False})[2] is True
    assert cm.top_third({"COD": 0.65}, {"COD": True})[2] is False  # > 65 %, not >=
    assert cm.top_third({"FIN": 1.0}, {"FIN": False}) == (None, 0.0, False)


def test_instability_weight():
    """w = clip((2.5 - PV) / 5, 0, 1); missing -> 0.5."""
    assert cm.instability(0.0) == pytest.approx(0.5)
    assert cm.instability(-1.5) == pytest.approx(0.8)
    assert cm.instability(3.0) == 0.0
    assert cm.instability(-3.0) == 1.0
    assert cm.instability(None) == 0.5
    assert cm.instability(float("nan")) == 0.5


def test_line_geopolrisk_counts_only_origins_outside_the_importer():
    """HHI 0.4; origins COD 0.6 (w 0.8), FIN 0.2 (inside EU27), DEU 0.2 (inside):
    GPR = 0.4 * 0.6 * 0.8 = 0.192."""
    shares = {"COD": 0.6, "FIN": 0.2, "DEU": 0.2}
    weights = {"COD": 0.8, "FIN": 0.1, "DEU": 0.1}
    assert cm.line_geopolrisk(0.4, shares, weights, {"FIN", "DEU"}) == pytest.approx(0.192)
    assert cm.line_geopolrisk(None, shares, weights, set()) is None
    # material level: tonne-weighted mean of the lines with a value
    assert cm.weighted_mean([(100, 0.2), (300, 0.1), (50, None)]) == pytest.approx(0.125)
    assert cm.weighted_mean([(10, None)]) is None


def test_option_score():
    assert cm.option_score(0.3, 0.2) == pytest.approx(0.24)
