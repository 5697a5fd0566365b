"""The run-batched engine equals the engine run by run (random networks and draws, and the
library's Monte Carlo scenarios on the real data); Monte Carlo bands are those of the per-run
path for the same seed."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.batch import RunParameters, run_batch
from critmat.scenarios.montecarlo import (
    CHUNK_RUNS,
    QUANTILES,
    draw_parameters,
    evaluate_chunk,
    load_scenario_file,
    run_montecarlo,
    run_of_draw,
)
from tests.stress.networks import Network, networks, random_draws, uncertain_targets

FIELDS = ("imports", "redirected", "supply", "demand_reduction", "stock_draw", "shortfall", "stock")


@settings(max_examples=60, deadline=None)
@given(networks(), st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_batch_equals_the_engine_run_by_run(network: Network, seed: int, runs: int) -> None:
    scenario, baseline = network.scenario, network.baseline
    targets, draws = random_draws(uncertain_targets(scenario), runs, seed)
    batch = run_batch(scenario, baseline, RunParameters.of_draws(scenario, targets, draws))
    scale = max(float(baseline.flows.sum()), float(baseline.demand.max(initial=0.0)), 1.0)
    for k, row in enumerate(draws):
        single = run_of_draw(scenario, baseline, targets, row)
        for name in FIELDS:
            np.testing.assert_allclose(
                getattr(batch, name)[k],
                getattr(single, name),
                rtol=1e-9,
                atol=1e-9 * scale,
                err_msg=f"{name} of run {k}",
            )


@pytest.mark.parametrize("name", ["cobalt-drc-2025", "graphite-2023", "rare-earths-2025-04"])
def test_montecarlo_bands_equal_the_per_run_path(
    real_con: duckdb.DuckDBPyConnection, name: str
) -> None:
    """Same seed, same bands as stacking 300 single runs of the engine (the path before the
    batch), to 1e-9 of the largest shortfall."""
    scenario, uncertainty = load_scenario_file(name)
    baseline = build_baseline(real_con, scenario)
    result = run_montecarlo(scenario, baseline, uncertainty, 300, seed=3, workers=1)
    draws = draw_parameters(uncertainty, 300, 3)
    stacked = np.stack(
        [run_of_draw(scenario, baseline, uncertainty.targets, row).shortfall for row in draws]
    )
    assert stacked.max() > 0  # the scenario has a shortfall to compare
    atol = 1e-9 * stacked.max()
    np.testing.assert_allclose(
        result.shortfall_bands, np.percentile(stacked, QUANTILES, axis=0), rtol=1e-9, atol=atol
    )
    np.testing.assert_allclose(
        result.total_bands,
        np.percentile(stacked.sum(axis=2), QUANTILES, axis=0),
        rtol=1e-9,
        atol=atol * scenario.horizon_months,
    )
    np.testing.assert_allclose(result.mean_shortfall, stacked.mean(axis=0), rtol=1e-9, atol=atol)
    np.testing.assert_array_equal(result.p_short, (stacked > 1e-9).any(axis=2).mean(axis=0))


def test_a_large_chunk_is_evaluated_in_parts_with_the_same_answer(
    real_con: duckdb.DuckDBPyConnection,
) -> None:
    """More than CHUNK_RUNS draws in one call: the same shortfalls, exactly, as smaller calls."""
    scenario, uncertainty = load_scenario_file("cobalt-drc-2025")
    baseline = build_baseline(real_con, scenario)
    draws = draw_parameters(uncertainty, CHUNK_RUNS * 2 + 100, 4)
    whole = evaluate_chunk(scenario, baseline, uncertainty.targets, draws)
    parts = [
        evaluate_chunk(scenario, baseline, uncertainty.targets, draws[s])
        for s in (slice(0, 7), slice(7, 800), slice(800, None))
    ]
    np.testing.assert_array_equal(whole, np.concatenate(parts))
