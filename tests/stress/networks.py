"""Random supply networks for the property tests of the stress engine (hypothesis strategies).

A network: some non-EU origins (real ISO3 codes) and some Member States as origins, the 27
Member States as importers, a sparse random matrix of monthly flows (t/month), exports to
non-EU destinations, demand per importer (imports, or apparent consumption above or below them),
and a scenario with 0-3 random shocks (every kind, towards all, the EU or named Member States),
random responses, stockpiles and transshipment. Drawn numbers come from hypothesis; the flow
matrix from ``numpy.random.default_rng`` seeded by hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from critmat.reference.countries import group_members
from critmat.scenarios.baseline import Baseline
from critmat.scenarios.batch import Target
from critmat.scenarios.spec import Scenario, parse_scenario

MEMBERS = tuple(sorted(group_members("EU27")))
NON_EU = ("AUS", "BRA", "CAN", "CHN", "COD", "IDN", "IND", "JPN", "NOR", "RUS", "USA", "ZAF")
KINDS = ("export_ban", "export_quota", "export_licensing", "production_outage")


@dataclass(frozen=True)
class Network:
    scenario: Scenario
    baseline: Baseline


def _baseline(seed: int, n_extra: int, n_intra: int, demand_factor: float) -> Baseline:
    rng = np.random.default_rng(seed)
    origins = tuple(sorted((*NON_EU[:n_extra], *MEMBERS[:n_intra])))
    eu = np.array([o in MEMBERS for o in origins])
    flows = rng.gamma(1.0, 50.0, (len(origins), len(MEMBERS)))
    flows *= rng.random(flows.shape) < 0.4  # sparse
    flows[eu[:, None] & (np.array(origins)[:, None] == np.array(MEMBERS)[None, :])] = 0.0
    other = np.where(eu, 0.0, rng.gamma(1.0, 200.0, len(origins)))
    imports = np.concatenate([[flows[~eu].sum()], flows.sum(axis=0)])
    demand = imports * demand_factor * rng.uniform(0.5, 1.5, len(imports))
    demand[rng.random(len(demand)) < 0.2] = 0.0  # some importers without demand
    return Baseline(
        material="cobalt",
        stage="intermediate",
        hs_codes=("810510",),
        years=(2022,),
        origins=origins,
        members=MEMBERS,
        flows=flows,
        demand=demand,
        demand_source=("imports",) * len(demand),
        other_exports=other,
        world_output=np.where(eu, np.nan, rng.gamma(1.0, 300.0, len(origins))),
        commodity=None,
    )


@st.composite
def shocks(draw: st.DrawFn, origins: tuple[str, ...], horizon: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    shock: dict[str, Any] = {
        "type": kind,
        "country": draw(st.sampled_from(origins)),
        "destinations": draw(
            st.one_of(
                st.just("all"),
                st.just("EU"),
                st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=4, unique=True),
            )
        ),
        "start_month": draw(st.integers(0, horizon - 1)),
        "duration_months": draw(st.none() | st.integers(1, horizon)),
    }
    fraction = st.floats(0.0, 1.0)
    if kind == "export_quota":
        shock["fraction_kept"] = draw(fraction)
    elif kind == "export_licensing":
        shock["delay_months"] = draw(st.integers(0, horizon))
        shock["fraction_after"] = draw(fraction)
    elif kind == "production_outage":
        shock["fraction_lost"] = draw(fraction)
    return shock


@st.composite
def networks(draw: st.DrawFn) -> Network:
    """A random baseline and scenario on it."""
    n_extra = draw(st.integers(1, len(NON_EU)))
    n_intra = draw(st.integers(0, 6))
    baseline = _baseline(
        draw(st.integers(0, 2**32 - 1)), n_extra, n_intra, draw(st.sampled_from([0.6, 1.0, 1.4]))
    )
    horizon = draw(st.integers(1, 24))
    holders = st.sampled_from(("EU27", *MEMBERS))
    stockpiles = draw(st.dictionaries(holders, st.floats(0.0, 5_000.0), max_size=5))
    raw = {
        "name": "random",
        "title": "random network",
        "material": "cobalt",
        "stage": "intermediate",
        "horizon_months": horizon,
        "baseline": {"years": [2022]},
        "shocks": draw(st.lists(shocks(baseline.origins, horizon), max_size=3)),
        "responses": {
            "spare_capacity_fraction": draw(st.floats(0.0, 1.0)),
            "ramp_up_months": draw(st.integers(0, 12)),
            "demand_elasticity": draw(st.floats(0.0, 1.0)),
            "stockpiles": stockpiles,
            "transshipment_fraction": draw(st.sampled_from([0.0, 0.0, 0.3, 1.0])),
            "transshipment_lag_months": draw(st.integers(0, 6)),
        },
    }
    return Network(parse_scenario(raw, "random.yaml"), baseline)


def uncertain_targets(scenario: Scenario) -> list[tuple[Target, float, float]]:
    """Every parameter Monte Carlo can draw for ``scenario``, with a range to draw it from."""
    horizon = float(scenario.horizon_months)
    out = [
        (Target("spare_capacity_fraction"), 0.0, 1.0),
        (Target("ramp_up_months", None, True), 0.0, 12.0),
        (Target("demand_elasticity"), 0.0, 1.0),
    ]
    for i, shock in enumerate(scenario.shocks):
        out.append((Target("duration_months", i, True), 1.0, horizon))
        if shock.type == "export_quota":
            out.append((Target("fraction_kept", i), 0.0, 1.0))
        elif shock.type == "export_licensing":
            out.append((Target("delay_months", i, True), 0.0, horizon))
            out.append((Target("fraction_after", i), 0.0, 1.0))
        elif shock.type == "production_outage":
            out.append((Target("fraction_lost", i), 0.0, 1.0))
    return out


def random_draws(
    ranges: list[tuple[Target, float, float]], runs: int, seed: int
) -> tuple[tuple[Target, ...], np.ndarray]:
    """``runs`` parameter sets drawn uniformly in the ranges (whole numbers where integer)."""
    rng = np.random.default_rng(seed)
    draws = np.empty((runs, len(ranges)))
    for j, (target, low, high) in enumerate(ranges):
        values = rng.uniform(low, high, runs)
        draws[:, j] = np.rint(values) if target.integer else values
    return tuple(t for t, _low, _high in ranges), draws
