"""Benchmark: Monte Carlo stress test, 10,000 runs × 24 months, one material with all its
origins and the 27 Member States (issue 11, item 4). Target on this machine: < 5 s in-process.

On the store's data (``make data``) and a library scenario with an ``uncertainty:`` block
(default ``cobalt-drc-2025``: DR Congo's export suspension then quota, five drawn parameters),
it times:

1. ``run_montecarlo`` in-process: the run-batched engine (:mod:`critmat.scenarios.batch`) over
   chunks of runs, then the bands (best of ``--repeat``);
2. a plain per-run Python loop of the same model written below (:func:`reference_run`: lists
   and floats, one run after the other, nothing vectorised across runs, nothing from
   critmat's engine), on ``--reference-runs`` runs, as time per run; it checks its shortfalls
   equal the batched engine's to 1e-9;
3. the engine's own single run (:func:`critmat.scenarios.engine.run`, numpy over origins ×
   members × months) called once per run: the path Monte Carlo took before the batch;
4. the same Monte Carlo on a 2-worker ``dask.distributed.LocalCluster`` (the Dask path of
   ``run_montecarlo``; cluster start-up timed apart), checking its bands equal the local ones.

    .venv/bin/python benchmarks/stress.py [--scenario NAME] [--runs 10000] [--repeat 3]
        [--reference-runs 100] [--no-dask]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb
import numpy as np

from critmat.config import get_settings
from critmat.scenarios.baseline import Baseline, build_baseline
from critmat.scenarios.engine import Params
from critmat.scenarios.montecarlo import (
    MonteCarloResult,
    apply_draw,
    draw_parameters,
    evaluate_chunk,
    load_scenario_file,
    run_montecarlo,
    run_of_draw,
)
from critmat.scenarios.spec import Scenario, Shock

T = TypeVar("T")
TARGET_SECONDS = 5.0


# ------------------------------------------------------------------ the plain per-run reference
def _profile(shock: Shock, months: int) -> list[float]:
    """Share of normal exports (or output) ``shock`` keeps in each month."""
    start = shock.start_month
    end = months if shock.duration_months is None else min(months, start + shock.duration_months)
    out = [1.0] * months
    for t in range(start, end):
        if shock.type == "export_ban":
            out[t] = 0.0
        elif shock.type == "export_quota":
            out[t] = float(shock.fraction_kept or 0.0)
        elif shock.type == "export_licensing":
            stop = min(end, start + int(shock.delay_months or 0))
            out[t] = 0.0 if t < stop else shock.fraction_after
        else:
            out[t] = 1.0 - float(shock.fraction_lost or 0.0)
    return out


class PlainNetwork:
    """The baseline as Python lists (converted once, outside the timed loop)."""

    def __init__(self, baseline: Baseline) -> None:
        self.origins = list(baseline.origins)
        self.members = list(baseline.members)
        self.flows = baseline.flows.tolist()
        self.eu = baseline.eu_origin.tolist()
        self.exports = baseline.other_exports.tolist()
        self.demand = baseline.demand.tolist()
        self.base_imports = baseline.imports().tolist()


def _kept(
    shocks: list[Shock], net: PlainNetwork, months: int
) -> tuple[list[list[list[float]]], list[list[float]]]:
    """K[o][m][t] and s[o][t] (module docstring of critmat.scenarios.engine)."""
    kept = [[[1.0] * months for _m in net.members] for _o in net.origins]
    spare = [[1.0] * months for _o in net.origins]
    for shock in shocks:
        origins = [k for k, o in enumerate(net.origins) if o in shock.origins()]
        members = [k for k, m in enumerate(net.members) if shock.targets(m)]
        if not origins or not members:
            continue
        profile = _profile(shock, months)
        for o in origins:
            for m in members:
                row = kept[o][m]
                for t in range(months):
                    row[t] *= profile[t]
            for t in range(months):
                spare[o][t] = spare[o][t] * profile[t] if shock.type == "production_outage" else 0.0
    return kept, spare


def reference_run(scenario: Scenario, net: PlainNetwork, p: Params) -> list[list[float]]:
    """Shortfall[importer][month] of one run, in plain Python (the engine's equations)."""
    n_t, n_o, n_m = scenario.horizon_months, len(net.origins), len(net.members)
    kept, spare = _kept(list(scenario.shocks), net, n_t)
    targeted = [
        s for s in scenario.shocks if s.type != "production_outage" and s.destinations != "all"
    ]
    through = [[0.0] * n_t for _m in range(n_m)]
    if p.transshipment_fraction > 0 and targeted:
        kept_t, _ = _kept(targeted, net, n_t)
        opens = min(s.start_month for s in targeted) + p.transshipment_lag_months
        for m in range(n_m):
            for t in range(opens, n_t):
                lost = sum(
                    net.flows[o][m] * (1.0 - kept_t[o][m][t]) for o in range(n_o) if not net.eu[o]
                )
                through[m][t] = p.transshipment_fraction * lost
    first = min((s.start_month for s in scenario.shocks), default=n_t)
    base_m = [sum(net.flows[o][m] for o in range(n_o) if not net.eu[o]) for m in range(n_m)]
    base_eu = sum(base_m)
    stock = [float(p.stockpiles.get(m, 0.0)) for m in net.members]
    stock.insert(0, float(p.stockpiles.get("EU27", sum(stock))))
    shortfall = [[0.0] * n_t for _i in range(n_m + 1)]
    for t in range(n_t):
        extra = [
            sum(net.flows[o][m] * kept[o][m][t] for o in range(n_o) if not net.eu[o])
            + through[m][t]
            for m in range(n_m)
        ]
        intra = [
            sum(net.flows[o][m] * kept[o][m][t] for o in range(n_o) if net.eu[o])
            for m in range(n_m)
        ]
        lost = [max(base_m[m] - extra[m], 0.0) for m in range(n_m)]
        lost_eu = sum(lost)
        capacity = p.spare_capacity_fraction * sum(net.exports[o] * spare[o][t] for o in range(n_o))
        redirect = min(lost_eu, capacity if t >= first + p.ramp_up_months else 0.0)
        eu_supply = sum(extra) + redirect
        rho = eu_supply / base_eu if base_eu > 0 else 1.0
        imports = [eu_supply] + [
            extra[m] + (lost[m] / lost_eu * redirect if lost_eu > 0 else 0.0) + intra[m] * rho
            for m in range(n_m)
        ]
        for i, demand in enumerate(net.demand):
            domestic = demand - net.base_imports[i]
            gap = min(max(demand - (imports[i] + domestic), 0.0), demand)
            need = gap - p.demand_elasticity * gap
            draw = min(stock[i], need)
            stock[i] -= draw
            shortfall[i][t] = need - draw
    return shortfall


# ------------------------------------------------------------------ timing
def best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """The shortest of ``repeat`` wall-clock times of ``work()`` (seconds) and its result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    assert result is not None
    return min(times), result


def line(label: str, runs: int, seconds: float, extra: str = "") -> None:
    print(
        f"  {label:<46} {runs:>7,} runs {seconds:>8.3f} s {runs / seconds:>10,.0f} runs/s {extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="cobalt-drc-2025")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()

    scenario, uncertainty = load_scenario_file(args.scenario)
    con = duckdb.connect(str(get_settings().store_path), read_only=True)
    baseline = build_baseline(con, scenario)
    con.close()
    months = scenario.horizon_months
    print(
        f"{args.scenario}: {baseline.material} {baseline.stage}, baseline "
        f"{'/'.join(map(str, baseline.years))}; {len(baseline.origins)} origins, "
        f"{len(baseline.members)} Member States (+ EU27), {months} months, "
        f"{len(uncertainty.parameters)} drawn parameters ({', '.join(uncertainty.keys)})"
    )

    def local() -> MonteCarloResult:
        return run_montecarlo(scenario, baseline, uncertainty, args.runs, seed=args.seed, workers=1)

    batched, result = best_of(args.repeat, local)
    verdict = "ok" if batched < TARGET_SECONDS else "OVER TARGET"
    line(
        "batched engine, in-process (run_montecarlo)",
        args.runs,
        batched,
        f"(target < {TARGET_SECONDS:g} s: {verdict})",
    )
    per_batched = batched / args.runs

    draws = draw_parameters(uncertainty, args.reference_runs, args.seed)
    net = PlainNetwork(baseline)
    base = Params.from_scenario(scenario)
    specs = [apply_draw(scenario, base, uncertainty.targets, row) for row in draws]

    def plain() -> list[list[list[float]]]:
        return [reference_run(spec, net, params) for spec, params in specs]

    plain_s, plain_out = best_of(1, plain)
    batch_out = evaluate_chunk(scenario, baseline, uncertainty.targets, draws)
    scale = max(1.0, float(batch_out.max()))
    assert np.allclose(np.array(plain_out), batch_out, rtol=1e-9, atol=1e-9 * scale)
    ratio = plain_s / args.reference_runs / per_batched
    line(
        "plain per-run Python loop (reference_run)",
        args.reference_runs,
        plain_s,
        f"→ batched is {ratio:,.0f}× faster per run (same shortfalls to 1e-9)",
    )

    def engine_loop() -> list[np.ndarray]:
        return [
            run_of_draw(scenario, baseline, uncertainty.targets, row).shortfall for row in draws
        ]

    engine_s, _ = best_of(args.repeat, engine_loop)
    ratio = engine_s / args.reference_runs / per_batched
    line(
        "engine.run once per run (numpy per run)",
        args.reference_runs,
        engine_s,
        f"→ batched is {ratio:,.1f}× faster per run",
    )

    if args.no_dask:
        return
    from distributed import LocalCluster

    started = time.perf_counter()
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True
    ) as cluster:
        startup = time.perf_counter() - started

        def on_dask() -> MonteCarloResult:
            return run_montecarlo(
                scenario,
                baseline,
                uncertainty,
                args.runs,
                seed=args.seed,
                scheduler=cluster.scheduler_address,
            )

        dask_s, dask_result = best_of(args.repeat, on_dask)
    same = np.array_equal(dask_result.shortfall_bands, result.shortfall_bands)
    line(
        "Dask LocalCluster, 2 workers × 1 thread",
        args.runs,
        dask_s,
        f"(cluster start {startup:.1f} s apart; bands identical: {same}; "
        f"{dask_s / batched:.1f}× the in-process time)",
    )


if __name__ == "__main__":
    main()
