"""services.member_states on the real default data: shares recomputed with pandas straight
from the raw trade rows, the extra/intra split, the 65 % flag as applied to a Member State,
no data as no data, the choice of release, and the country names it refuses."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from critmat.errors import CritmatError, UnknownNameError
from critmat.reference.countries import group_members
from critmat.services import member_states as ms
from critmat.store import Store

EU = group_members("EU27")


def raw_split(store: Store, iso3: str, series: str, year: int, codes: list[str]) -> dict:
    """DEU's imports of ``codes`` by mass, from the raw trade rows with pandas: origins other
    than itself, flows without a quantity left out, then the extra-EU split and the largest
    third country."""
    rows = store.con.execute(
        "SELECT exporter, hs6, value_kusd, quantity_t FROM trade_all "
        "WHERE series = ? AND year = ? AND importer = ?",
        [series, year, iso3],
    ).df()
    rows = rows.loc[rows["hs6"].isin(codes) & (rows["exporter"] != iso3)]
    by_origin = rows.dropna(subset=["quantity_t"]).groupby("exporter")["quantity_t"].sum()
    by_origin = by_origin[by_origin > 0]
    third = by_origin[~by_origin.index.isin(list(EU))]
    total = float(by_origin.sum())
    return {
        "total": total,
        "value_kusd": float(rows["value_kusd"].sum()),
        "extra_eu": float(third.sum()),
        "top_extra_eu_supplier": str(third.idxmax()),
        "top_extra_eu_share": float(third.max()) / total,
        "top_extra_eu_share_of_extra_eu": float(third.max()) / float(third.sum()),
        "top_supplier": str(by_origin.idxmax()),
    }


@pytest.fixture(scope="module")
def germany(store: Store) -> ms.MemberStateDependencies:
    return ms.dependencies(store, "Germany")


def _row(answer: ms.MemberStateDependencies, material: str, stage: str) -> ms.StageDependency:
    return next(r for r in answer.dependencies if (r.material, r.stage) == (material, stage))


@pytest.mark.parametrize(
    ("material", "stage"), [("bismuth", "processing"), ("cobalt", "processing")]
)
def test_shares_agree_with_pandas_over_the_raw_rows(
    store: Store, germany: ms.MemberStateDependencies, material: str, stage: str
) -> None:
    row = _row(germany, material, stage)
    assert row.series is not None and row.year is not None
    expected = raw_split(store, "DEU", row.series, row.year, row.hs_codes)
    assert row.total == pytest.approx(expected["total"], rel=1e-9)
    assert row.value_kusd == pytest.approx(expected["value_kusd"], rel=1e-9)
    assert row.extra_eu == pytest.approx(expected["extra_eu"], rel=1e-9)
    assert row.top_extra_eu_supplier == expected["top_extra_eu_supplier"]
    assert row.top_supplier == expected["top_supplier"]
    assert row.top_extra_eu_share == pytest.approx(expected["top_extra_eu_share"], rel=1e-9)
    assert row.top_extra_eu_share_of_extra_eu == pytest.approx(
        expected["top_extra_eu_share_of_extra_eu"], rel=1e-9
    )


def test_intra_plus_extra_is_the_total_and_the_flag_follows_the_rule(
    germany: ms.MemberStateDependencies,
) -> None:
    with_data = [r for r in germany.dependencies if r.total is not None]
    assert len(with_data) >= 15
    for r in with_data:
        assert r.extra_eu is not None and r.intra_eu is not None
        assert r.extra_eu + r.intra_eu == pytest.approx(r.total, rel=1e-12)
        assert (r.extra_eu_share or 0) + (r.intra_eu_share or 0) == pytest.approx(1.0)
        assert r.exceeds_65 is ((r.top_extra_eu_share or 0.0) > 0.65)
        assert r.top_extra_eu_supplier is None or r.top_extra_eu_supplier not in EU
        assert r.release_id is not None and r.hs_codes and r.series in ("HS92", "HS17")
    assert any(r.exceeds_65 for r in with_data) and not all(r.exceeds_65 for r in with_data)


def test_no_data_is_null_never_zero_or_a_pass(germany: ms.MemberStateDependencies) -> None:
    empty = [r for r in germany.dependencies if r.total is None]
    assert empty, "some strategic stages have no codes in any release"
    for r in empty:
        assert r.exceeds_65 is None and r.extra_eu_share is None and r.top_extra_eu_share is None
        assert r.notes
        assert ms.flag_text(r.exceeds_65) == "no data"
    gallium = _row(germany, "gallium", "extraction")
    assert gallium.notes == ["no HS codes catalogued for this stage"]


def test_each_year_comes_from_one_release_hs17_where_the_stage_has_it(
    germany: ms.MemberStateDependencies,
) -> None:
    cobalt = _row(germany, "cobalt", "processing")
    assert (cobalt.year, cobalt.series, cobalt.hs_codes) == (2024, "HS17", ["282200"])
    by_year = {p.year: p.series for p in cobalt.trend}
    assert by_year[2024] == "HS17" and by_year[2010] == "HS92"
    assert len(by_year) == len(cobalt.trend)  # one figure a year
    gallium = _row(germany, "gallium", "processing")
    assert any("811292" in n and "germanium" in n for n in gallium.notes)  # the bundle note


def test_trend_years_hold_the_flag_year_by_year(store: Store) -> None:
    answer = ms.dependencies(store, "DEU", material="bismuth", stage="processing")
    (row,) = answer.dependencies
    assert [p.year for p in row.trend] == list(range(1995, 2025))
    assert all(p.exceeds_65 is ((p.top_extra_eu_share or 0) > 0.65) for p in row.trend)
    assert row.trend[-1].total == pytest.approx(row.total)


def test_the_27_side_by_side(store: Store) -> None:
    answer = ms.comparison(store, "cobalt", stage="processing")
    assert len(answer.member_states) == 27
    assert [r.country for r in answer.member_states] == sorted(EU)
    assert answer.year == 2024 and answer.years == [*range(1995, 2025)]
    deu = next(r for r in answer.member_states if r.country == "DEU")
    alone = _row(
        ms.dependencies(store, "DEU", material="cobalt", year=2024), "cobalt", "processing"
    )
    for field in ("total", "extra_eu", "top_extra_eu_share", "exceeds_65", "release_id"):
        assert getattr(deu, field) == getattr(alone, field)
    for r in answer.member_states:
        if r.total is None:
            assert r.exceeds_65 is None
        else:
            assert r.quantity_t is not None and not math.isnan(r.quantity_t)
    rows = ms.comparison_rows(answer)
    assert len(rows) == 27 and list(rows[0]) == ms.COMPARISON_COLUMNS


def test_unknown_country_gets_a_suggestion() -> None:
    with pytest.raises(UnknownNameError) as raised:
        ms.member_state_code("GER")
    assert raised.value.suggestions[0] == "DEU"
    with pytest.raises(UnknownNameError) as raised:
        ms.member_state_code("Deutschland")
    assert raised.value.suggestions[0] == "DEU"
    with pytest.raises(CritmatError, match="EU27 is a group of countries, not a Member State"):
        ms.member_state_code("EU27")


def test_a_non_member_is_told_the_view_is_for_the_27() -> None:
    with pytest.raises(CritmatError, match=r"CHE \(Switzerland\) is not an EU Member State") as e:
        ms.member_state_code("Switzerland")
    assert e.value.hint is not None and "--importer CHE" in e.value.hint


def test_split_summaries_on_a_hand_made_table() -> None:
    raw = pd.DataFrame(
        {
            "code_group": ["x/y"] * 3,
            "importer": ["DEU"] * 3,
            "year": [2020] * 3,
            "origin": ["CHN", "FRA", "USA"],
            "value_kusd": [70.0, 20.0, 10.0],
            "quantity_t": [7.0, 2.0, 1.0],
            "value_kusd_no_quantity": [0.0, 0.0, 0.0],
            "flows": [1, 1, 1],
        }
    )
    (got,) = ms.split_summaries(raw, "mass", ["DEU"]).values()
    assert got["extra_eu"] == pytest.approx(8.0) and got["intra_eu"] == pytest.approx(2.0)
    assert got["top_extra_eu_supplier"] == "CHN" and got["top_extra_eu_share"] == pytest.approx(0.7)
    assert got["top_extra_eu_share_of_extra_eu"] == pytest.approx(7 / 8)
    assert got["exceeds_65"] is True
