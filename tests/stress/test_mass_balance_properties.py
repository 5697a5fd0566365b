"""Mass balance of the stress engine on random networks (hypothesis), single runs and batches.

The identities, in the engine's own terms (:mod:`critmat.scenarios.engine`), every month t and
every importer i (EU27 and the 27 Member States), tonnes per month:

1. demand is met, cut, drawn from stock or left unserved:
   ``supply + demand_reduction + stock_draw + shortfall = demand``, each term ≥ 0;
2. what is met comes from deliveries and domestic output:
   ``supply = clip(imports + (demand − baseline imports), 0, demand)`` (domestic output net of
   exports is demand minus baseline imports), and ``demand_reduction = ε · (demand − supply)``;
3. the stock only falls by what is drawn: ``stock[t] = stock[t−1] − stock_draw[t]`` from the
   holdings at month 0 (EU27: the Member States' together unless given), ``stock ≥ 0``;
4. deliveries from outside the EU are the shocked flows plus what arrives through third
   countries plus what is redirected: ``imports[EU27] = Σ_{o∉EU, m} F·K + transshipped +
   redirected[EU27]``, ``Σ_m redirected[m] = redirected[EU27] ≤ min(supply lost,
   α · Σ_o X_o · s_o)``;
5. deliveries to all Member States = extra-EU deliveries + the intra-EU flows scaled by the
   Union's extra-EU supply ratio: ``Σ_m imports[m] = imports[EU27] + ρ · Σ_{o∈EU, m} F·K``
   with ``ρ = imports[EU27] / Σ_{o∉EU, m} F``.

So deliveries to all importers + unserved demand + demand reduction + stock change (−draw) =
the flows let through + redirection + domestic output, every month. The batched engine
(:func:`critmat.scenarios.batch.run_batch`) satisfies 1-3 and the redirection bounds of 4 in
every run and equals :func:`critmat.scenarios.engine.run` run by run (test_batch_engine.py).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from critmat.scenarios.batch import RunParameters, run_batch
from critmat.scenarios.engine import Params, kept_fractions, run, stock_levels
from critmat.scenarios.montecarlo import apply_draw
from tests.stress.networks import Network, networks, random_draws, uncertain_targets

TOL = 1e-9


def _close(a: np.ndarray, b: np.ndarray, scale: float) -> None:
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL * max(scale, 1.0))


def _check_demand_side(
    network: Network,
    params: Params,
    demand: np.ndarray,
    imports: np.ndarray,
    supply: np.ndarray,
    cut: np.ndarray,
    draw: np.ndarray,
    shortfall: np.ndarray,
    stock: np.ndarray,
) -> None:
    """Identities 1-3 for one run (arrays importer × month)."""
    b = network.baseline
    scale = float(max(demand.max(initial=0.0), imports.max(initial=0.0)))
    for part in (supply, cut, draw, shortfall, stock):
        assert (part >= -TOL * max(scale, 1.0)).all()
    _close(supply + cut + draw + shortfall, demand, scale)
    domestic = (b.demand - b.imports())[:, None]
    _close(supply, np.clip(imports + domestic, 0.0, demand), scale)
    _close(cut, params.demand_elasticity * (demand - supply), scale)
    start = stock_levels(params, b.members)
    before = np.concatenate([start[:, None], stock[:, :-1]], axis=1)
    _close(stock, before - draw, float(start.max(initial=0.0)) + scale)


def _transshipped(network: Network, kept_targeted: np.ndarray, params: Params) -> np.ndarray:
    """τ · Σ_{o∉EU, m} F · (1 − K_targeted) from the lag after the first targeted measure."""
    b, n_t = network.baseline, network.scenario.horizon_months
    targeted = [
        s
        for s in network.scenario.shocks
        if s.type != "production_outage" and s.destinations != "all"
    ]
    if params.transshipment_fraction <= 0 or not targeted:
        return np.zeros(n_t)
    lost = (b.flows[~b.eu_origin, :, None] * (1.0 - kept_targeted[~b.eu_origin])).sum(axis=(0, 1))
    first = min(s.start_month for s in targeted)
    opened = np.arange(n_t) >= first + params.transshipment_lag_months
    result: np.ndarray = params.transshipment_fraction * lost * opened
    return result


@settings(max_examples=80, deadline=None)
@given(networks())
def test_engine_balances_every_month_for_every_importer(network: Network) -> None:
    scenario, b = network.scenario, network.baseline
    params = Params.from_scenario(scenario)
    r = run(scenario, b, params)
    _check_demand_side(
        network,
        params,
        r.demand,
        r.imports,
        r.supply,
        r.demand_reduction,
        r.stock_draw,
        r.shortfall,
        r.stock,
    )
    n_t = scenario.horizon_months
    kept, spare = kept_fractions(scenario.shocks, b, n_t)
    targeted = [
        s for s in scenario.shocks if s.type != "production_outage" and s.destinations != "all"
    ]
    kept_targeted, _spare = kept_fractions(targeted, b, n_t)
    shocked = b.flows[:, :, None] * kept
    extra, intra = ~b.eu_origin, b.eu_origin
    scale = float(b.flows.sum()) + 1.0
    # 4: extra-EU deliveries
    through = _transshipped(network, kept_targeted, params)
    _close(r.imports[0], shocked[extra].sum(axis=(0, 1)) + through + r.redirected[0], scale)
    _close(r.eu_imports_by_origin.sum(axis=0), shocked[extra].sum(axis=(0, 1)), scale)
    _close(r.redirected[1:].sum(axis=0), r.redirected[0], scale)
    lost = b.flows[extra].sum() - (shocked[extra].sum(axis=(0, 1)) + through)
    capacity = params.spare_capacity_fraction * (b.other_exports[:, None] * spare).sum(axis=0)
    assert (r.redirected >= 0).all()
    assert (r.redirected[0] <= np.maximum(lost, 0.0) + TOL * scale).all()
    assert (r.redirected[0] <= capacity + TOL * scale).all()
    # 5: deliveries to all Member States
    base_extra = b.flows[extra].sum()
    rho = r.imports[0] / base_extra if base_extra > 0 else np.ones(n_t)
    _close(r.imports[1:].sum(axis=0), r.imports[0] + rho * shocked[intra].sum(axis=(0, 1)), scale)
    # no flow grows under a shock
    assert (shocked <= b.flows[:, :, None] * (1 + TOL)).all()


@settings(max_examples=40, deadline=None)
@given(networks(), st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_batched_engine_balances_in_every_run(network: Network, seed: int, runs: int) -> None:
    scenario, b = network.scenario, network.baseline
    targets, draws = random_draws(uncertain_targets(scenario), runs, seed)
    batch = run_batch(scenario, b, RunParameters.of_draws(scenario, targets, draws))
    scale = float(b.flows.sum()) + float(b.demand.max(initial=0.0)) + 1.0
    for k, row in enumerate(draws):
        _spec, params = apply_draw(scenario, Params.from_scenario(scenario), targets, row)
        demand = np.broadcast_to(batch.demand[:, None], batch.supply[k].shape)
        _check_demand_side(
            network,
            params,
            demand,
            batch.imports[k],
            batch.supply[k],
            batch.demand_reduction[k],
            batch.stock_draw[k],
            batch.shortfall[k],
            batch.stock[k],
        )
        _close(batch.redirected[k, 1:].sum(axis=0), batch.redirected[k, 0], scale)
        assert (batch.redirected[k] >= 0).all()
        assert (batch.redirected[k, 0] <= batch.capacity[k] + TOL * scale).all()
