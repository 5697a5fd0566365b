"""The assessment on the real default data: look-through shares recomputed independently with
plain SQL over ``trade``, the instability weights checked against critmat.risk.geopolrisk,
and the sample file's headline results."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from critmat.indicators.imports import ImporterSet
from critmat.indicators.lookup import resolve_importer
from critmat.risk import _company_method as cm
from critmat.risk.company import _pv as company_pv
from critmat.risk.company import assess_lines, read_supply_bytes, read_supply_file
from critmat.risk.geopolrisk import geopolrisk_scores

SAMPLE = Path(__file__).parents[1] / "data" / "company_supply_sample.csv"
EU27 = resolve_importer("EU27")


def _expected_shares(con, country: str, hs6: str, year: int) -> dict[str, float]:
    imports = dict(
        con.execute(
            """SELECT exporter, sum(quantity_t) FROM trade
               WHERE importer = ? AND hs6 = ? AND year = ? AND exporter <> importer
                 AND quantity_t > 0 GROUP BY exporter""",
            [country, hs6, year],
        ).fetchall()
    )
    exports = con.execute(
        """SELECT coalesce(sum(quantity_t), 0) FROM trade
           WHERE exporter = ? AND hs6 = ? AND year = ?""",
        [country, hs6, year],
    ).fetchone()[0]
    domestic = max(0.0, float(exports) - sum(imports.values()))
    total = domestic + sum(imports.values())
    shares = {k: v / total for k, v in imports.items()}
    if domestic:
        shares[country] = domestic / total
    return shares


@pytest.mark.parametrize(
    ("country", "hs6"), [("DEU", "282200"), ("BEL", "282200"), ("CHN", "283691")]
)
def test_look_through_shares_match_an_independent_computation(real_con, country, hs6):
    data = f"hs code,quantity,unit,supplier,supplier country\n{hs6},1000,t,S,{country}\n"
    supply = read_supply_bytes("one.csv", data.encode())
    result = assess_lines(real_con, supply, importer=EU27, year=2022, on=date(2024, 1, 1))
    [line] = result.lines
    got = {o.country: o.share for o in line.origins}
    expected = _expected_shares(real_con, country, hs6, 2022)
    assert line.looked_through
    assert got.keys() == expected.keys()
    for origin, share in expected.items():
        assert got[origin] == pytest.approx(share, rel=1e-9, abs=1e-12)
    assert sum(o.tonnes for o in line.origins) == pytest.approx(1000)


def test_instability_weights_agree_with_geopolrisk(real_con):
    """Σ_o m_o w_o with the company module's weights equals GeoPolRisk's weighted imports
    (cobalt, Germany, 2022: every origin has a WGI estimate that year or none at all)."""
    year = 2022
    scores = geopolrisk_scores(real_con, [ImporterSet.country("DEU")], ["Cobalt"], [year])
    [row] = scores.to_dict(orient="records")
    flows = real_con.execute(
        """SELECT exporter, sum(quantity_t) FROM trade WHERE importer = 'DEU'
           AND list_contains(['282200', '810510'], hs6) AND year = ? AND exporter <> 'DEU'
           AND quantity_t IS NOT NULL GROUP BY exporter""",
        [year],
    ).fetchall()
    pv = company_pv(real_con, year)
    same_year = {c for c, (_e, y) in pv.items() if y == year}
    weighted = sum(
        float(t) * cm.instability(pv[o][0] if o in same_year else None) for o, t in flows
    )
    assert weighted == pytest.approx(row["weighted_imports"], rel=1e-9)


def test_sample_headlines(real_con):
    supply = read_supply_file(SAMPLE)
    result = assess_lines(real_con, supply, importer=EU27, year=2023, on=date(2025, 12, 1))
    by_key = {m.key: m for m in result.materials}
    graphite = by_key["graphite:extraction"]
    assert graphite.top_third_country == "CHN" and graphite.exceeds_65
    assert graphite.options and graphite.options[0].country != "CHN"
    assert any(
        h.country == "CHN" and h.material_key == "graphite:extraction" for h in result.restrictions
    )
    magnets = by_key["rare_earths:magnets"]
    assert magnets.looked_through_share == 0.0  # HS 850511 is not in the default extract
    assert result.actions[0].priority == 1
    assert any("above 65 %" in a.text for a in result.actions)
    # every line's tonnes are fully apportioned
    for line in result.lines:
        assert sum(o.share for o in line.origins) == pytest.approx(1.0)
    assert result.total_tonnes == pytest.approx(sum(m.tonnes for m in result.materials))
    # JSON round trip (what the platform stores)
    again = type(result).model_validate(result.model_dump(mode="json"))
    assert again == result
