"""The stress-test engine: a pure function ``run(scenario, baseline, params) -> Result``.

Axes: *origin* o × *member* m (27 Member States) × *month* t; *importer* i = (EU27, members).
With ``F[o, m]`` the baseline monthly flow and ``K[o, m, t]`` the fraction of it the shocks let
through (shocks multiply):

    A[o, m, t]   = F[o, m] · K[o, m, t]                    shocked flows
    lost[m, t]   = Σ_{o∉EU} (F[o, m] − A[o, m, t])          extra-EU supply lost by m
    cap[t]       = α · Σ_{o∉EU} X_o · s[o, t] · 1[t ≥ t0 + L]
                   spare capacity: α = spare_capacity_fraction, X_o = o's exports to non-EU
                   destinations, s = 0 for origins whose exports to the EU are shocked,
                   1 − fraction_lost under an outage; t0 = first shock start, L = ramp-up lag
    (optional) transshipment: τ of the flows cut by measures aimed at the EU or named countries
                   (not all destinations) arrives through third countries after a lag and
                   counts as extra-EU supply again (τ = transshipment_fraction, default 0)
    red_EU[t]    = min(Σ_m lost[m, t], cap[t]);  red[m, t] = red_EU[t] · lost[m, t] / Σ_m lost
    ρ[t]         = (Σ_{o∉EU,m} A + red_EU) / Σ_{o∉EU,m} F    EU27 extra-EU supply ratio
    M[EU27, t]   = Σ_{o∉EU, m} A[o, m, t] + red_EU[t]
    M[m, t]      = Σ_{o∉EU} A[o, m, t] + red[m, t] + ρ[t] · Σ_{o∈EU} A[o, m, t]
                   (intra-EU deliveries shrink with the Union's extra-EU supply)
    gap[i, t]    = clip(D_i − (M[i, t] + D_i − M0_i), 0, D_i)   D demand, M0 baseline imports
    cut          = ε · gap                                   demand reduction / substitution
    draw         = min(stock[i, t−1], gap − cut)              stockpile drawdown
    shortfall    = gap − cut − draw
    supply       = D − gap   so that   supply + cut + draw + shortfall = D   every month

Nothing here is random: ``params`` carries every number a Monte Carlo layer would draw (with
``numpy.random.default_rng(seed)``) and ``run`` is deterministic given them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from critmat.reference.sectors import SectorSplit
from critmat.scenarios.baseline import Baseline
from critmat.scenarios.spec import Scenario, Shock

__all__ = [
    "DAYS_PER_MONTH",
    "MonthlyFlows",
    "Params",
    "Result",
    "kept_fractions",
    "run",
    "sector_exposure",
    "stock_levels",
]

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Params:
    """The numbers of a run that are not read from data (defaults: the scenario's responses)."""

    spare_capacity_fraction: float
    ramp_up_months: int
    demand_elasticity: float
    stockpiles: Mapping[str, float] = field(default_factory=dict)  # t, EU27 or ISO3
    transshipment_fraction: float = 0.0
    transshipment_lag_months: int = 3

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Params:
        r = scenario.responses
        return cls(
            r.spare_capacity_fraction,
            r.ramp_up_months,
            r.demand_elasticity,
            dict(r.stockpiles),
            r.transshipment_fraction,
            r.transshipment_lag_months,
        )

    def with_(self, **changes: object) -> Params:
        return replace(self, **changes)  # type: ignore[arg-type]


def _profile(shock: Shock, months: int) -> np.ndarray:
    """Fraction of normal exports (or output) kept in each month under ``shock``."""
    profile = np.ones(months)
    start = shock.start_month
    end = months if shock.duration_months is None else min(months, start + shock.duration_months)
    if shock.type == "export_ban":
        profile[start:end] = 0.0
    elif shock.type == "export_quota":
        profile[start:end] = float(shock.fraction_kept or 0.0)
    elif shock.type == "export_licensing":
        stop = min(end, start + int(shock.delay_months or 0))
        profile[start:stop] = 0.0
        profile[stop:end] = shock.fraction_after
    else:  # production_outage
        profile[start:end] = 1.0 - float(shock.fraction_lost or 0.0)
    return profile


def kept_fractions(
    shocks: Sequence[Shock], baseline: Baseline, months: int
) -> tuple[np.ndarray, np.ndarray]:
    """``K[o, m, t]`` (share of each flow let through) and ``s[o, t]`` (spare-capacity factor)."""
    origins = np.array(baseline.origins)
    kept = np.ones((len(origins), len(baseline.members), months))
    spare = np.ones((len(origins), months))
    for shock in shocks:
        o_idx = np.flatnonzero(np.isin(origins, sorted(shock.origins())))
        m_idx = np.flatnonzero([shock.targets(m) for m in baseline.members])
        if o_idx.size == 0 or m_idx.size == 0:
            continue
        profile = _profile(shock, months)
        kept[np.ix_(o_idx, m_idx)] *= profile
        if shock.type == "production_outage":
            spare[o_idx] *= profile
        else:
            spare[o_idx] = 0.0
    return kept, spare


@dataclass(frozen=True)
class MonthlyFlows:
    """What the engine computes per importer and month, tonnes per month (arrays importer ×
    month; with a leading run axis in :class:`critmat.scenarios.batch.BatchResult`)."""

    importers: tuple[str, ...]
    imports: np.ndarray
    redirected: np.ndarray
    supply: np.ndarray
    demand_reduction: np.ndarray
    stock_draw: np.ndarray
    shortfall: np.ndarray
    stock: np.ndarray  # at the end of each month


@dataclass(frozen=True)
class Result(MonthlyFlows):
    """Monthly results per importer (arrays: importer × month, tonnes unless said otherwise)."""

    scenario: Scenario
    baseline: Baseline
    params: Params
    months: tuple[str, ...]
    demand: np.ndarray
    eu_imports_by_origin: np.ndarray  # origin × month, EU27 extra-EU, before redirection
    shocked_output_share: float | None  # share of world output in shocked origins (WMD)

    @property
    def shortfall_pct(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.demand > 0, self.shortfall / self.demand, np.nan)

    @property
    def days_of_cover(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            daily = self.demand / DAYS_PER_MONTH
            return np.where(daily > 0, self.stock / daily, np.nan)

    def monthly(self) -> pd.DataFrame:
        """One row per importer and month."""
        n_i, n_t = self.demand.shape
        return pd.DataFrame(
            {
                "importer": np.repeat(self.importers, n_t),
                "month_index": np.tile(np.arange(n_t), n_i),
                "month": np.tile(self.months, n_i),
                "demand_t": self.demand.ravel(),
                "imports_t": self.imports.ravel(),
                "redirected_t": self.redirected.ravel(),
                "supply_t": self.supply.ravel(),
                "demand_reduction_t": self.demand_reduction.ravel(),
                "stock_draw_t": self.stock_draw.ravel(),
                "shortfall_t": self.shortfall.ravel(),
                "shortfall_pct": self.shortfall_pct.ravel(),
                "stock_t": self.stock.ravel(),
                "days_of_cover": self.days_of_cover.ravel(),
            }
        )

    def summary(self) -> pd.DataFrame:
        """One row per importer: totals over the horizon and the worst month."""
        pct = np.nan_to_num(self.shortfall_pct, nan=0.0)
        return pd.DataFrame(
            {
                "importer": self.importers,
                "demand_source": self.baseline.demand_source,
                "demand_t": self.demand.sum(axis=1),
                "shortfall_t": self.shortfall.sum(axis=1),
                "shortfall_pct": np.where(
                    self.demand.sum(axis=1) > 0,
                    self.shortfall.sum(axis=1) / np.maximum(self.demand.sum(axis=1), 1e-300),
                    np.nan,
                ),
                "peak_shortfall_pct": np.where(
                    self.demand.sum(axis=1) > 0, pct.max(axis=1), np.nan
                ),
                "months_short": (self.shortfall > 1e-9).sum(axis=1),
                "redirected_t": self.redirected.sum(axis=1),
                "stock_drawn_t": self.stock_draw.sum(axis=1),
                "stock_end_t": self.stock[:, -1],
            }
        )


def stock_levels(params: Params, members: Sequence[str]) -> np.ndarray:
    """Stock held at month 0 per importer (EU27, then ``members``), tonnes; EU27 defaults to
    the Member States' holdings together."""
    given = dict(params.stockpiles)
    ms = np.array([given.get(m, 0.0) for m in members])
    eu = given.get("EU27", float(ms.sum()))  # default: the Member States' holdings together
    return np.concatenate([[eu], ms])


def run(scenario: Scenario, baseline: Baseline, params: Params | None = None) -> Result:
    """Propagate the scenario's shocks through the baseline (equations: module docstring)."""
    p = params or Params.from_scenario(scenario)
    n_t = scenario.horizon_months
    kept, spare = kept_fractions(scenario.shocks, baseline, n_t)
    flows = baseline.flows  # origin × member
    eu_o = baseline.eu_origin
    shocked = flows[:, :, None] * kept  # origin × member × month

    extra_base_m = flows[~eu_o].sum(axis=0)  # member
    extra_m = shocked[~eu_o].sum(axis=0) + _transshipped(scenario, baseline, p, n_t)
    lost_m = np.maximum(extra_base_m[:, None] - extra_m, 0.0)
    lost_eu = lost_m.sum(axis=0)  # month

    first = min((s.start_month for s in scenario.shocks), default=n_t)
    ramp = (np.arange(n_t) >= first + p.ramp_up_months).astype(float)
    capacity = p.spare_capacity_fraction * (baseline.other_exports[:, None] * spare).sum(axis=0)
    redirect_eu = np.minimum(lost_eu, capacity * ramp)
    with np.errstate(divide="ignore", invalid="ignore"):
        allocation = np.where(lost_eu > 0, lost_m / lost_eu, 0.0)
        extra_eu = extra_m.sum(axis=0) + redirect_eu
        base_extra_eu = extra_base_m.sum()
        rho = extra_eu / base_extra_eu if base_extra_eu > 0 else np.ones(n_t)
    redirect_m = allocation * redirect_eu
    intra_m = shocked[eu_o].sum(axis=0) * rho

    imports = np.vstack([extra_eu, extra_m + redirect_m + intra_m])  # importer × month
    redirected = np.vstack([redirect_eu, redirect_m])
    demand_i = baseline.demand
    domestic = demand_i - baseline.imports()  # production net of exports (may be negative)
    demand = np.repeat(demand_i[:, None], n_t, axis=1)
    gap = np.clip(demand - (imports + domestic[:, None]), 0.0, demand)
    supply = demand - gap

    cut = p.demand_elasticity * gap
    draw = np.zeros_like(gap)
    stock = np.zeros_like(gap)
    level = stock_levels(p, baseline.members)
    for t in range(n_t):  # the stock carries over: sequential in time, vectorised over importers
        draw[:, t] = np.minimum(level, gap[:, t] - cut[:, t])
        level = level - draw[:, t]
        stock[:, t] = level
    shortfall = gap - cut - draw

    eu_by_origin = np.where(eu_o[:, None], 0.0, shocked.sum(axis=1))
    output = np.nan_to_num(baseline.world_output, nan=0.0)
    shocked_origins = set().union(*(s.origins() for s in scenario.shocks))
    touched = np.array([o in shocked_origins for o in baseline.origins], dtype=bool)
    share = float(output[touched].sum() / output.sum()) if output.sum() > 0 else None
    return Result(
        scenario=scenario,
        baseline=baseline,
        params=p,
        months=tuple(scenario.month_labels()),
        importers=baseline.importers,
        demand=demand,
        imports=imports,
        redirected=redirected,
        supply=supply,
        demand_reduction=cut,
        stock_draw=draw,
        shortfall=shortfall,
        stock=stock,
        eu_imports_by_origin=eu_by_origin,
        shocked_output_share=share,
    )


def _transshipped(scenario: Scenario, baseline: Baseline, p: Params, n_t: int) -> np.ndarray:
    """Flows (member × month) that reach Member States through third countries.

    Only measures aimed at the EU or at named countries can be circumvented that way (an export
    ban towards all destinations cannot): τ · Σ_{o∉EU} F[o, m] · (1 − K_targeted[o, m, t]) from
    ``transshipment_lag_months`` after each such measure's start.
    """
    targeted = [
        s for s in scenario.shocks if s.type != "production_outage" and s.destinations != "all"
    ]
    if p.transshipment_fraction <= 0 or not targeted:
        return np.zeros((len(baseline.members), n_t))
    kept, _spare = kept_fractions(targeted, baseline, n_t)
    lost = baseline.flows[:, :, None] * (1.0 - kept)  # origin × member × month
    first = min(s.start_month for s in targeted)
    open_ = (np.arange(n_t) >= first + p.transshipment_lag_months).astype(float)
    result: np.ndarray = p.transshipment_fraction * lost[~baseline.eu_origin].sum(axis=0) * open_
    return result


def sector_exposure(result: Result, splits: Sequence[SectorSplit]) -> pd.DataFrame:
    """Shortfall passed to downstream sectors pro rata to each application's share of use.

    One row per importer with a shortfall and per split row of the material: ``importer,
    application, sector, share, shortfall_t`` (horizon total × share), ``peak_shortfall_pct``
    (the material's: a pro-rata split gives every sector the same percentage), ``estimate,
    source``. Empty when the material has no split.
    """
    own = [s for s in splits if s.material == result.baseline.material]
    summary = result.summary()
    totals = summary["shortfall_t"].to_numpy(dtype=float)
    peaks = summary["peak_shortfall_pct"].to_numpy(dtype=float)
    rows = [
        {
            "importer": importer,
            "application": split.application,
            "sector": split.sector,
            "share": split.share,
            "shortfall_t": float(total) * split.share,
            "peak_shortfall_pct": float(peak),
            "estimate": split.estimate,
            "source": split.source,
        }
        for importer, total, peak in zip(result.importers, totals, peaks, strict=True)
        if total > 0
        for split in own
    ]
    columns = [
        "importer",
        "application",
        "sector",
        "share",
        "shortfall_t",
        "peak_shortfall_pct",
        "estimate",
        "source",
    ]
    return pd.DataFrame(rows, columns=columns)
