"""Hand-computed cases on a 3-country toy network (CHN, AUS, DEU), HS 810510 (cobalt mattes).

2022 trade: CHN→DEU 720 t, AUS→DEU 480 t, AUS→CHN 600 t. Monthly: DEU gets 60 t from CHN and
40 t from AUS; AUS sells 50 t/month outside the EU. No production table rows, so demand =
imports = 100 t/month for DEU and for EU27 (DEU is the only importer with data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from critmat.errors import InputFileError
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import Params, run
from critmat.scenarios.spec import load_scenario, parse_scenario
from tests.support import canonical_connection


@pytest.fixture
def toy_con():  # type: ignore[no-untyped-def]
    trade = pd.DataFrame(
        {
            "year": [2022, 2022, 2022],
            "exporter": ["CHN", "AUS", "AUS"],
            "importer": ["DEU", "DEU", "CHN"],
            "hs6": ["810510"] * 3,
            "value_kusd": [1.0, 1.0, 1.0],
            "quantity_t": [720.0, 480.0, 600.0],
        }
    )
    production = pd.DataFrame(
        columns=["commodity", "country", "year", "quantity", "unit", "estimated"]
    )
    con = canonical_connection(trade=trade, production=production)
    yield con
    con.close()


def _scenario(shocks: list[dict[str, object]], **responses: object):  # type: ignore[no-untyped-def]
    raw = {
        "name": "toy",
        "title": "toy",
        "material": "cobalt",
        "stage": "intermediate",
        "horizon_months": 12,
        "baseline": {"years": [2022]},
        "shocks": shocks,
        "responses": {"spare_capacity_fraction": 0.5, "ramp_up_months": 3, **responses},
    }
    return parse_scenario(raw, "toy.yaml")


BAN = [{"type": "export_ban", "country": "CHN"}]


def _row(result, name: str) -> int:  # type: ignore[no-untyped-def]
    return result.importers.index(name)


def test_baseline_is_monthly_imports(toy_con) -> None:  # type: ignore[no-untyped-def]
    baseline = build_baseline(toy_con, _scenario(BAN))
    deu = _row(baseline, "DEU")
    assert baseline.demand[0] == pytest.approx(100.0)  # EU27
    assert baseline.demand[deu] == pytest.approx(100.0)
    aus = baseline.origins.index("AUS")
    assert baseline.other_exports[aus] == pytest.approx(50.0)


def test_ban_shortfall_is_banned_share_minus_spare_after_lag(toy_con) -> None:  # type: ignore[no-untyped-def]
    """Lost 60 t/month; spare = 0.5 × 50 = 25 t/month from month 3: shortfall 60, then 35."""
    scenario = _scenario(BAN)
    result = run(scenario, build_baseline(toy_con, scenario))
    for name in ("EU27", "DEU"):
        i = _row(result, name)
        expected = np.array([60.0] * 3 + [35.0] * 9)
        np.testing.assert_allclose(result.shortfall[i], expected)
        np.testing.assert_allclose(result.shortfall_pct[i], expected / 100)
        np.testing.assert_allclose(result.redirected[i], [0.0] * 3 + [25.0] * 9)


def test_stockpile_covers_exactly(toy_con) -> None:  # type: ignore[no-untyped-def]
    """3 × 60 + 9 × 35 = 495 t held covers every month and leaves nothing."""
    scenario = _scenario(BAN, stockpiles={"DEU": 495.0})
    result = run(scenario, build_baseline(toy_con, scenario))
    for name in ("EU27", "DEU"):  # EU27 holdings default to the Member States' sum
        i = _row(result, name)
        np.testing.assert_allclose(result.shortfall[i], 0.0, atol=1e-9)
        assert result.stock[i, -1] == pytest.approx(0.0)
        assert result.stock[i, 0] == pytest.approx(495.0 - 60.0)
        # days of cover after month 0: 435 t / (100 t / 30.4375 days)
        assert result.days_of_cover[i, 0] == pytest.approx(435.0 / (100.0 / (365.25 / 12)))


def test_elasticity_reduces_shortfall_by_its_fraction(toy_con) -> None:  # type: ignore[no-untyped-def]
    scenario = _scenario(BAN)
    baseline = build_baseline(toy_con, scenario)
    plain = run(scenario, baseline)
    reduced = run(scenario, baseline, Params.from_scenario(scenario).with_(demand_elasticity=0.25))
    np.testing.assert_allclose(reduced.shortfall, 0.75 * plain.shortfall)
    np.testing.assert_allclose(reduced.demand_reduction, 0.25 * plain.shortfall)


def test_quota_licensing_outage_and_targets(toy_con) -> None:  # type: ignore[no-untyped-def]
    shocks = [
        {"type": "export_quota", "country": "CHN", "fraction_kept": 0.5, "duration_months": 2},
        {
            "type": "export_licensing",
            "country": "AUS",
            "delay_months": 1,
            "fraction_after": 0.5,
            "start_month": 4,
            "duration_months": 3,
        },
    ]
    scenario = _scenario(shocks, spare_capacity_fraction=0.0)
    result = run(scenario, build_baseline(toy_con, scenario))
    deu = _row(result, "DEU")
    expected = [30, 30, 0, 0, 40, 20, 20, 0, 0, 0, 0, 0]
    np.testing.assert_allclose(result.shortfall[deu], expected)
    elsewhere = _scenario([{"type": "export_ban", "country": "CHN", "destinations": ["FRA"]}])
    untouched = run(elsewhere, build_baseline(toy_con, elsewhere))
    np.testing.assert_allclose(untouched.shortfall, 0.0)
    outage = _scenario([{"type": "production_outage", "country": "AUS", "fraction_lost": 0.25}])
    hit = run(outage, build_baseline(toy_con, outage))
    # 25 % of AUS's 40 t/month lost; from month 3 AUS's remaining spare (0.5 × 50 × 0.75 =
    # 18.75 t) covers the 10 t
    np.testing.assert_allclose(hit.shortfall[deu], [10.0] * 3 + [0.0] * 9)


@pytest.mark.parametrize("elasticity", [0.0, 0.3])
def test_mass_balance_every_month(toy_con, elasticity: float) -> None:  # type: ignore[no-untyped-def]
    scenario = _scenario(BAN, stockpiles={"DEU": 100.0}, demand_elasticity=elasticity)
    r = run(scenario, build_baseline(toy_con, scenario))
    total = r.supply + r.demand_reduction + r.stock_draw + r.shortfall
    np.testing.assert_allclose(total, r.demand)
    frame = r.monthly()
    assert len(frame) == 28 * 12
    assert set(frame.columns) >= {
        "supply_t",
        "shortfall_t",
        "shortfall_pct",
        "stock_t",
        "days_of_cover",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"material": "unobtainium"}, "material"),
        ({"shocks": [{"type": "export_ban", "country": "Atlantis"}]}, "shocks[0].country"),
        (
            {"shocks": [{"type": "export_ban", "country": "CHN", "duration_months": -3}]},
            "shocks[0].duration_months",
        ),
        (
            {"shocks": [{"type": "export_quota", "country": "CHN", "fraction_kept": 1.5}]},
            "shocks[0].fraction_kept",
        ),
        ({"responses": {"stockpiles": {"USA": 10}}}, "responses.stockpiles"),
        ({"stage": "magnets"}, "stage"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_scenario_names_file_and_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    import yaml

    raw: dict[str, object] = {
        "name": "bad",
        "title": "bad",
        "material": "cobalt",
        "baseline": {"years": [2022]},
        "shocks": [{"type": "export_ban", "country": "CHN"}],
    }
    raw.update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_scenario(path)
    assert info.value.path == str(path)
    assert info.value.field == field
    assert str(path) in str(info.value)


def test_transshipment_recovers_its_share_of_an_eu_targeted_ban(toy_con) -> None:  # type: ignore[no-untyped-def]
    """A ban aimed at the EU loses 60 t/month; τ = 0.5 arrives via third countries from month 2,
    no spare capacity: shortfall 60, 60, then 30. A ban on all destinations cannot be
    circumvented, so the same τ changes nothing there."""
    eu_ban = [{"type": "export_ban", "country": "CHN", "destinations": "EU"}]
    scenario = _scenario(
        eu_ban,
        spare_capacity_fraction=0.0,
        transshipment_fraction=0.5,
        transshipment_lag_months=2,
    )
    result = run(scenario, build_baseline(toy_con, scenario))
    np.testing.assert_allclose(result.shortfall[_row(result, "EU27")], [60.0, 60.0] + [30.0] * 10)
    everywhere = _scenario(
        BAN, spare_capacity_fraction=0.0, transshipment_fraction=0.5, transshipment_lag_months=2
    )
    plain = run(everywhere, build_baseline(toy_con, everywhere))
    np.testing.assert_allclose(plain.shortfall[_row(plain, "EU27")], [60.0] * 12)
