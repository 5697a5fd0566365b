"""Monte Carlo on the toy network of test_engine_toy.py (CHN, AUS → DEU), distributions and
validation.

DEU imports 60 t/month from CHN and 40 t/month from AUS; AUS sells 50 t/month outside the EU;
demand = imports = 100 t/month (DEU and EU27).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from critmat.config import get_settings
from critmat.errors import CritmatError, InputFileError
from critmat.scenarios._mc_dist import Choice, Normal, Triangular, Uniform, dist_adapter
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import Params, run
from critmat.scenarios.montecarlo import (
    Uncertainty,
    draw_parameters,
    load_scenario_file,
    parse_cli_parameter,
    parse_uncertainty,
    run_montecarlo,
)
from critmat.scenarios.spec import parse_scenario
from tests.support import canonical_connection

RAW: dict[str, object] = {
    "name": "toy",
    "title": "toy",
    "material": "cobalt",
    "stage": "intermediate",
    "horizon_months": 12,
    "baseline": {"years": [2022]},
    "shocks": [{"type": "export_ban", "country": "CHN", "duration_months": 6}],
    "responses": {"spare_capacity_fraction": 0.5, "ramp_up_months": 3},
}
BLOCK = {
    "spare_capacity_fraction": {"dist": "uniform", "low": 0.0, "high": 0.6},
    "ramp_up_months": {"dist": "choice", "values": [1, 3, 6], "weights": [1, 2, 1]},
    "demand_elasticity": {"dist": "normal", "mean": 0.1, "sd": 0.05, "low": 0.0, "high": 0.3},
    "shocks[0].duration_months": {"dist": "triangular", "low": 2, "mode": 6, "high": 12},
}


@pytest.fixture(scope="module")
def toy():  # type: ignore[no-untyped-def]
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
    scenario = parse_scenario(RAW, "toy.yaml")
    baseline = build_baseline(con, scenario)
    con.close()
    return scenario, baseline, parse_uncertainty(BLOCK, scenario, "toy.yaml")


# -- distributions ------------------------------------------------------------------------------
def test_distributions_sample_inside_their_support() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    u = Uniform(dist="uniform", low=2.0, high=4.0).sample(rng, n)
    assert u.min() >= 2.0 and u.max() <= 4.0 and u.mean() == pytest.approx(3.0, abs=0.03)
    t = Triangular(dist="triangular", low=0.0, mode=3.0, high=6.0).sample(rng, n)
    assert t.min() >= 0.0 and t.max() <= 6.0 and t.mean() == pytest.approx(3.0, abs=0.05)
    # truncated at the mean: half-normal, mean = mean + sd·sqrt(2/π)
    z = Normal(dist="normal", mean=1.0, sd=0.5, low=1.0, high=9.0).sample(rng, n)
    assert z.min() >= 1.0 and z.mean() == pytest.approx(1.0 + 0.5 * np.sqrt(2 / np.pi), abs=0.02)
    c = Choice(dist="choice", values=(1.0, 2.0), weights=(3.0, 1.0)).sample(rng, n)
    assert set(np.unique(c)) == {1.0, 2.0} and (c == 1.0).mean() == pytest.approx(0.75, abs=0.02)


def test_months_are_drawn_as_whole_numbers_and_draws_follow_the_seed(toy) -> None:  # type: ignore[no-untyped-def]
    _scenario, _baseline, uncertainty = toy
    draws = draw_parameters(uncertainty, 500, seed=7)
    assert draws.shape == (500, 4)
    months = draws[:, [1, 3]]
    np.testing.assert_array_equal(months, np.rint(months))
    assert set(np.unique(draws[:, 1])) == {1.0, 3.0, 6.0}
    np.testing.assert_array_equal(draws, draw_parameters(uncertainty, 500, seed=7))
    assert not np.array_equal(draws, draw_parameters(uncertainty, 500, seed=8))


@pytest.mark.parametrize(
    ("block", "field", "words"),
    [
        ({"spare_capacity_fraction": {"dist": "uniform", "low": 0.3, "high": 0.1}}, "", "low"),
        ({"spare_capacity_fraction": {"dist": "uniform", "low": 0.1, "high": 1.5}}, "", "[0, 1]"),
        ({"spare_capacity_fraction": {"dist": "uniform", "low": 0.1}}, ".high", "required"),
        ({"spare_capacity_fraction": {"dist": "gaussian", "low": 0, "high": 1}}, ".dist", "dist"),
        ({"spare_capacity_fraction": {"low": 0, "high": 1}}, ".dist", "dist"),
        (
            {"demand_elasticity": {"dist": "normal", "mean": 0.1, "sd": -1, "low": 0, "high": 1}},
            ".sd",
            "greater than 0",
        ),
        (
            {"demand_elasticity": {"dist": "normal", "mean": 5, "sd": 0.1, "low": 0, "high": 1}},
            "",
            "holds only",
        ),
        ({"ramp_up_months": {"dist": "choice", "values": [1.5, 3]}}, "", "whole months"),
        ({"ramp_up_months": {"dist": "triangular", "low": 1, "mode": 0, "high": 3}}, "", "mode"),
        ({"shocks[3].duration_months": {"dist": "choice", "values": [2]}}, "", "no shocks[3]"),
        ({"shocks[0].fraction_kept": {"dist": "choice", "values": [0.5]}}, "", "export_ban"),
        ({"shocks[0].duration_months": {"dist": "choice", "values": [0, 2]}}, "", "at least 1"),
        ({"colour": {"dist": "choice", "values": [1]}}, "", "unknown parameter"),
    ],
)
def test_bad_uncertainty_names_file_and_field(
    tmp_path: Path, block: dict[str, object], field: str, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**RAW, "name": "bad", "uncertainty": block}), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_scenario_file(path)
    key = next(iter(block))
    assert info.value.path == str(path)
    assert info.value.field == f"uncertainty.{key}{field}"
    assert words in str(info.value) and str(path) in str(info.value)


def test_uncertainty_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**RAW, "name": "bad", "uncertainty": [1, 2]}), encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_scenario_file(path)
    assert info.value.field == "uncertainty"


def test_file_and_command_line_parameters(toy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario, _baseline, _u = toy
    path = tmp_path / "toy.yaml"
    path.write_text(
        yaml.safe_dump({**RAW, "uncertainty": BLOCK}, sort_keys=False), encoding="utf-8"
    )
    loaded, uncertainty = load_scenario_file(path)
    assert loaded == scenario
    assert uncertainty.keys == tuple(BLOCK)
    given = parse_cli_parameter("ramp_up_months=uniform:0,9", scenario)
    fraction = parse_cli_parameter("shocks[0].duration_months=choice:3,4", scenario)
    merged = uncertainty.merged(Uncertainty((given, fraction)))
    assert merged.keys == tuple(BLOCK)  # same keys, same order: the command line replaces
    assert merged.parameters[1].dist == Uniform(dist="uniform", low=0, high=9)
    assert parse_cli_parameter(" demand_elasticity = normal:0.1,0.1,0,0.5", scenario).dist == (
        dist_adapter.validate_python(
            {"dist": "normal", "mean": 0.1, "sd": 0.1, "low": 0, "high": 0.5}
        )
    )
    for bad, words in [
        ("ramp_up_months", "KEY=KIND"),
        ("ramp_up_months=poisson:3", "KIND one of"),
        ("ramp_up_months=uniform:1", "takes 2 numbers"),
        ("ramp_up_months=uniform:a,b", "numbers"),
        ("demand_elasticity=uniform:0.5,2", "[0, 1]"),
        ("shocks[1].duration_months=choice:2", "no shocks[1]"),
    ]:
        with pytest.raises(CritmatError) as info:
            parse_cli_parameter(bad, scenario)
        assert words in str(info.value) and "--param" in str(info.value)


# -- runs ---------------------------------------------------------------------------------------
def test_degenerate_distributions_reproduce_the_deterministic_run(toy) -> None:  # type: ignore[no-untyped-def]
    scenario, baseline, _u = toy
    fixed = Uncertainty(
        (
            parse_cli_parameter("spare_capacity_fraction=choice:0.2", scenario),
            parse_cli_parameter("shocks[0].duration_months=choice:4", scenario),
        )
    )
    result = run_montecarlo(scenario, baseline, fixed, 20, seed=1)
    shocked = scenario.model_copy(
        update={"shocks": (scenario.shocks[0].model_copy(update={"duration_months": 4}),)}
    )
    expected = run(
        shocked, baseline, Params.from_scenario(scenario).with_(spare_capacity_fraction=0.2)
    )
    for q in range(3):
        np.testing.assert_allclose(result.shortfall_bands[q], expected.shortfall)
    deu = result.importers.index("DEU")
    # lost 60 t for 4 months; spare 0.2 × 50 = 10 t from month 3 → 60, 60, 60, 50, then 0
    np.testing.assert_allclose(result.shortfall_bands[1, deu], [60, 60, 60, 50] + [0] * 8)
    assert result.total_bands[1, deu] == pytest.approx(230.0)
    assert result.p_short[deu] == 1.0


def test_same_seed_same_bands_whatever_the_split(toy) -> None:  # type: ignore[no-untyped-def]
    scenario, baseline, uncertainty = toy
    seen: list[int] = []
    one = run_montecarlo(scenario, baseline, uncertainty, 300, seed=42, progress=seen.append)
    assert seen[-1] == 300
    again = run_montecarlo(scenario, baseline, uncertainty, 300, seed=42, chunk_size=7)
    pooled = run_montecarlo(scenario, baseline, uncertainty, 300, seed=42, workers=2, chunk_size=64)
    for other in (again, pooled):
        np.testing.assert_array_equal(other.shortfall_bands, one.shortfall_bands)
        np.testing.assert_array_equal(other.total_bands, one.total_bands)
    pd.testing.assert_frame_equal(again.bands(), one.bands())
    different = run_montecarlo(scenario, baseline, uncertainty, 300, seed=43)
    assert not np.array_equal(different.shortfall_bands, one.shortfall_bands)


def test_bands_are_ordered_and_within_demand(toy) -> None:  # type: ignore[no-untyped-def]
    scenario, baseline, uncertainty = toy
    result = run_montecarlo(scenario, baseline, uncertainty, 400, seed=3)
    low, mid, high = result.shortfall_bands
    assert (low <= mid).all() and (mid <= high).all()
    assert (low >= 0).all() and (high <= result.demand[:, None] + 1e-9).all()
    assert (high > low).any()  # the draws matter
    frame = result.bands()
    assert len(frame) == 28 * 12
    pct = frame[["shortfall_p5_pct", "shortfall_p50_pct", "shortfall_p95_pct"]].dropna()
    assert ((pct >= 0) & (pct <= 1)).all().all()
    summary = result.summary().set_index("importer")
    assert summary.loc["DEU", "demand_t"] == pytest.approx(1200.0)
    assert (
        summary.loc["DEU", "shortfall_p5_t"]
        <= summary.loc["DEU", "shortfall_p50_t"]
        <= summary.loc["DEU", "shortfall_p95_t"]
        <= 1200.0
    )
    # months 0..1 are always hit (duration ≥ 2, ramp-up ≥ 1: lost 60 t, elasticity ≤ 0.3)
    deu = result.importers.index("DEU")
    assert (low[deu, :1] >= 0.7 * 60 - 1e-9).all()


def test_dask_local_cluster_equals_local_run(toy) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    scenario, baseline, uncertainty = toy
    local = run_montecarlo(scenario, baseline, uncertainty, 250, seed=11)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = run_montecarlo(
            scenario, baseline, uncertainty, 250, seed=11, scheduler=cluster.scheduler_address
        )
    assert remote.backend.startswith("dask")
    np.testing.assert_array_equal(remote.shortfall_bands, local.shortfall_bands)
    np.testing.assert_array_equal(remote.total_bands, local.total_bands)
    np.testing.assert_array_equal(remote.mean_shortfall, local.mean_shortfall)


def test_unreachable_scheduler_is_a_user_error(toy, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("distributed")
    monkeypatch.setattr("critmat.scenarios.montecarlo.CONNECT_TIMEOUT", "1s")
    scenario, baseline, uncertainty = toy
    with pytest.raises(CritmatError, match="cannot reach the Dask scheduler"):
        run_montecarlo(scenario, baseline, uncertainty, 10, seed=1, scheduler="tcp://127.0.0.1:9")


def test_scheduler_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRITMAT_DASK_SCHEDULER", "tcp://10.0.0.5:8786")
    assert get_settings().dask_scheduler == "tcp://10.0.0.5:8786"
    monkeypatch.setenv("CRITMAT_DASK_SCHEDULER", "")
    assert get_settings().dask_scheduler is None
