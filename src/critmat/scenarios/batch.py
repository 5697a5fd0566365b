"""The stress-test engine evaluated for many runs at once: arrays with a leading *run* axis.

:func:`run_batch` computes, for R parameter sets, what R calls of
:func:`critmat.scenarios.engine.run` compute one by one (the equations are in that module's
docstring), to floating-point rounding (the test asks 1e-9 relative). Monte Carlo
(:mod:`critmat.scenarios.montecarlo`) evaluates its chunks with it.

Why it is cheap: what a run draws (response parameters, shock durations, delays and fractions)
changes *when* and *how much* each shock lets through, never *which* flows it touches (origins
and destinations are not drawn). So the origin × member pairs fall into a few groups, one per
set of shocks that touch them, and the shocked flows are

    Σ_o F[o, m] · K[r, o, m, t] = Σ_g W_g[m] · Π_{s∈g} p_s[r, t]

with ``W_g[m]`` the baseline flows of group g into Member State m and ``p_s[r, t]`` shock s's
profile (share kept) in run r. The same grouping gives the spare capacity (origins by the
shocks touching them) and the transshipped flows (by the targeted shocks). Arrays are then
run × importer × month (tonnes per month); only the stock carries over from month to month, a
loop over the months vectorised over runs and importers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from critmat.scenarios.baseline import Baseline
from critmat.scenarios.engine import MonthlyFlows, Params, stock_levels
from critmat.scenarios.spec import Scenario, Shock

__all__ = ["BatchResult", "RunParameters", "Target", "run_batch"]


@dataclass(frozen=True)
class Target:
    """Where a drawn value goes: a response (``shock`` None) or a field of ``shocks[shock]``."""

    attr: str
    shock: int | None = None
    integer: bool = False


@dataclass(frozen=True)
class RunParameters:
    """The numbers of R runs, each an array of length R (``shock_fields[(i, attr)]``: a drawn
    field of ``shocks[i]``; fields not in it keep the scenario's value)."""

    spare_capacity_fraction: np.ndarray  # fraction of non-EU exports that can be redirected
    ramp_up_months: np.ndarray  # whole months
    demand_elasticity: np.ndarray  # fraction of the gap met by demand reduction
    shock_fields: dict[tuple[int, str], np.ndarray]
    base: Params  # stockpiles and transshipment (not drawn)

    @property
    def runs(self) -> int:
        return len(self.spare_capacity_fraction)

    @classmethod
    def of_draws(
        cls, scenario: Scenario, targets: Sequence[Target], draws: np.ndarray
    ) -> RunParameters:
        """The runs of ``draws`` (runs × parameters, one column per target) on the scenario's
        own values (:meth:`Params.from_scenario`) for everything not drawn."""
        base = Params.from_scenario(scenario)
        runs = len(draws)
        responses = {
            "spare_capacity_fraction": np.full(runs, float(base.spare_capacity_fraction)),
            "ramp_up_months": np.full(runs, float(base.ramp_up_months)),
            "demand_elasticity": np.full(runs, float(base.demand_elasticity)),
        }
        fields: dict[tuple[int, str], np.ndarray] = {}
        for j, target in enumerate(targets):
            column = np.asarray(draws[:, j], dtype=float)
            if target.integer:
                column = np.trunc(column)  # as int(value) in a single run
            if target.shock is None:
                responses[target.attr] = column
            else:
                fields[(target.shock, target.attr)] = column
        return cls(
            responses["spare_capacity_fraction"],
            responses["ramp_up_months"],
            responses["demand_elasticity"],
            fields,
            base,
        )

    def field(self, index: int, shock: Shock, attr: str) -> np.ndarray | None:
        """Field ``attr`` of ``shocks[index]`` in each run (None where the shock has none)."""
        drawn = self.shock_fields.get((index, attr))
        if drawn is not None:
            return drawn
        value = getattr(shock, attr)
        return None if value is None else np.full(self.runs, float(value))


@dataclass(frozen=True)
class BatchResult(MonthlyFlows):
    """The engine's monthly results for R runs: run × importer × month, tonnes per month
    (``demand``: importer; ``capacity``: run × month, the redirectable spare capacity)."""

    demand: np.ndarray
    capacity: np.ndarray


def _profiles(scenario: Scenario, runs: RunParameters) -> list[np.ndarray]:
    """Each shock's share of normal exports (or output) kept: run × month (engine._profile)."""
    n_t = scenario.horizon_months
    month = np.arange(n_t)[None, :]
    out = []
    for index, shock in enumerate(scenario.shocks):
        start = shock.start_month
        duration = runs.field(index, shock, "duration_months")
        end = np.full(runs.runs, n_t) if duration is None else np.minimum(n_t, start + duration)
        active = (month >= start) & (month < end[:, None])
        profile = np.ones((runs.runs, n_t))
        if shock.type == "export_ban":
            profile[active] = 0.0
        elif shock.type == "export_quota":
            kept = runs.field(index, shock, "fraction_kept")
            value = np.zeros(runs.runs) if kept is None else kept
            profile = np.where(active, value[:, None], 1.0)
        elif shock.type == "export_licensing":
            delay = runs.field(index, shock, "delay_months")
            stop = np.minimum(end, start + (np.zeros(runs.runs) if delay is None else delay))
            after = runs.field(index, shock, "fraction_after")
            assert after is not None  # fraction_after has a default
            profile = np.where(active & (month >= stop[:, None]), after[:, None], profile)
            profile[active & (month < stop[:, None])] = 0.0
        else:  # production_outage
            lost = runs.field(index, shock, "fraction_lost")
            value = np.zeros(runs.runs) if lost is None else lost
            profile = np.where(active, 1.0 - value[:, None], 1.0)
        out.append(profile)
    return out


def _touching(
    shocks: Sequence[tuple[int, Shock]], baseline: Baseline
) -> list[tuple[int, np.ndarray]]:
    """(index, origin × member mask) of each shock that touches a flow (engine.kept_fractions
    skips a shock with no origin or no member in the baseline)."""
    origins = np.array(baseline.origins)
    out = []
    for index, shock in shocks:
        o_mask = np.isin(origins, sorted(shock.origins()))
        m_mask = np.array([shock.targets(m) for m in baseline.members], dtype=bool)
        if o_mask.any() and m_mask.any():
            out.append((index, o_mask[:, None] & m_mask[None, :]))
    return out


def _kept(
    key: int,
    touching: Sequence[tuple[int, np.ndarray]],
    profiles: Sequence[np.ndarray],
    shape: tuple[int, int],
) -> np.ndarray:
    """Π p_s[r, t] over the touching shocks whose bit is set in ``key``: run × month."""
    kept = np.ones(shape)
    for bit, (index, _mask) in enumerate(touching):
        if key >> bit & 1:
            kept = kept * profiles[index]
    return kept


def _grouped_flows(
    weights: np.ndarray,
    touching: Sequence[tuple[int, np.ndarray]],
    profiles: Sequence[np.ndarray],
    shape: tuple[int, int],
) -> np.ndarray:
    """Σ_o weights[o, m] · Π_{s touching (o, m)} p_s[r, t]: run × member × month.

    ``weights``: origin × member, tonnes per month (flows of the origins wanted, zero elsewhere);
    ``shape``: (runs, months).
    """
    keys = np.zeros(weights.shape, dtype=np.int64)  # bit k set: the k-th touching shock
    for bit, (_index, mask) in enumerate(touching):
        keys |= mask.astype(np.int64) << bit
    out = np.zeros((shape[0], weights.shape[1], shape[1]))
    for key in np.unique(keys):
        w = np.where(keys == key, weights, 0.0).sum(axis=0)  # member
        if w.any():
            out += w[None, :, None] * _kept(int(key), touching, profiles, shape)[:, None, :]
    return out


def _spare(
    baseline: Baseline,
    scenario: Scenario,
    touching: Sequence[tuple[int, np.ndarray]],
    profiles: Sequence[np.ndarray],
    shape: tuple[int, int],
) -> np.ndarray:
    """Σ_o X_o · s[r, o, t]: run × month (s = 0 once an export measure touches o, else the
    product of its outage profiles)."""
    exports = baseline.other_exports
    total = np.zeros(shape)
    hit = np.zeros(len(exports), dtype=bool)
    keys = np.zeros(len(exports), dtype=np.int64)
    for bit, (index, mask) in enumerate(touching):
        o_mask = mask.any(axis=1)
        if scenario.shocks[index].type == "production_outage":
            keys |= o_mask.astype(np.int64) << bit
        else:
            hit |= o_mask
    for key in np.unique(keys[~hit]):
        x = exports[~hit & (keys == key)].sum()
        total += x * _kept(int(key), touching, profiles, shape)
    return total


def _transshipped(
    scenario: Scenario,
    baseline: Baseline,
    params: Params,
    profiles: Sequence[np.ndarray],
    runs: int,
) -> np.ndarray:
    """Flows reaching Member States through third countries: run × member × month
    (engine._transshipped)."""
    n_t = scenario.horizon_months
    targeted = [
        (i, s)
        for i, s in enumerate(scenario.shocks)
        if s.type != "production_outage" and s.destinations != "all"
    ]
    if params.transshipment_fraction <= 0 or not targeted:
        return np.zeros((runs, len(baseline.members), n_t))
    extra = np.where(baseline.eu_origin[:, None], 0.0, baseline.flows)
    touching = _touching(targeted, baseline)
    shape = (runs, n_t)
    lost = extra.sum(axis=0)[None, :, None] - _grouped_flows(extra, touching, profiles, shape)
    first = min(s.start_month for _i, s in targeted)
    open_ = (np.arange(n_t) >= first + params.transshipment_lag_months).astype(float)
    result: np.ndarray = params.transshipment_fraction * lost * open_
    return result


def run_batch(scenario: Scenario, baseline: Baseline, runs: RunParameters) -> BatchResult:
    """The engine for every run of ``runs`` at once (equations: :mod:`critmat.scenarios.engine`)."""
    n_r, n_t = runs.runs, scenario.horizon_months
    profiles = _profiles(scenario, runs)
    touching = _touching(list(enumerate(scenario.shocks)), baseline)
    flows, eu_o = baseline.flows, baseline.eu_origin
    extra_flows = np.where(eu_o[:, None], 0.0, flows)
    intra_flows = np.where(eu_o[:, None], flows, 0.0)
    shape = (n_r, n_t)
    extra_m = _grouped_flows(extra_flows, touching, profiles, shape)
    intra_shocked = _grouped_flows(intra_flows, touching, profiles, shape)
    spare = _spare(baseline, scenario, touching, profiles, shape)
    extra_m = extra_m + _transshipped(scenario, baseline, runs.base, profiles, n_r)

    extra_base_m = flows[~eu_o].sum(axis=0)  # member
    lost_m = np.maximum(extra_base_m[None, :, None] - extra_m, 0.0)
    lost_eu = lost_m.sum(axis=1)  # run × month

    first = min((s.start_month for s in scenario.shocks), default=n_t)
    month = np.arange(n_t)[None, :]
    ramp = (month >= first + runs.ramp_up_months[:, None]).astype(float)
    capacity = runs.spare_capacity_fraction[:, None] * spare
    redirect_eu = np.minimum(lost_eu, capacity * ramp)
    with np.errstate(divide="ignore", invalid="ignore"):
        allocation = np.where(lost_eu[:, None, :] > 0, lost_m / lost_eu[:, None, :], 0.0)
        extra_eu = extra_m.sum(axis=1) + redirect_eu
        base_extra_eu = extra_base_m.sum()
        rho = extra_eu / base_extra_eu if base_extra_eu > 0 else np.ones((n_r, n_t))
    redirect_m = allocation * redirect_eu[:, None, :]
    intra_m = intra_shocked * rho[:, None, :]

    imports = np.concatenate([extra_eu[:, None, :], extra_m + redirect_m + intra_m], axis=1)
    redirected = np.concatenate([redirect_eu[:, None, :], redirect_m], axis=1)
    demand_i = np.asarray(baseline.demand, dtype=float)
    domestic = demand_i - baseline.imports()
    demand = np.broadcast_to(demand_i[None, :, None], imports.shape)
    gap = np.clip(demand - (imports + domestic[None, :, None]), 0.0, demand)
    supply = demand - gap

    cut = runs.demand_elasticity[:, None, None] * gap
    draw = np.zeros_like(gap)
    stock = np.zeros_like(gap)
    level = np.broadcast_to(stock_levels(runs.base, baseline.members), (n_r, gap.shape[1]))
    for t in range(n_t):  # the stock carries over: sequential in time, vectorised over runs
        draw[:, :, t] = np.minimum(level, gap[:, :, t] - cut[:, :, t])
        level = level - draw[:, :, t]
        stock[:, :, t] = level
    return BatchResult(
        importers=baseline.importers,
        demand=demand_i,
        imports=imports,
        redirected=redirected,
        supply=supply,
        demand_reduction=cut,
        stock_draw=draw,
        shortfall=gap - cut - draw,
        stock=stock,
        capacity=capacity,
    )
