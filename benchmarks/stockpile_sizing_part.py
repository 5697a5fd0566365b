"""The sizing half of ``benchmarks/stockpile.py``: stock sized for 34 materials × 1,000
scenario runs at 95 % confidence, with HiGHS (docs/stockpile-sizing.md).

Shortfall samples: for the five materials with library scenarios (cobalt, germanium, graphite,
nickel, rare earths) 1,000 Monte Carlo runs of the stress engine on the real store (every
scenario of the material, 1,000 runs pooled from them, seed 1), when the store is installed;
for the other 29 (and all 34 without a store) reproducible draws — seed 7, a gamma-distributed
shortfall in 70 % of runs and none in the rest, scaled per material. Prices are drawn too
(1,000–50,000 EUR/t), weights 1-3. Two solves: without a budget (every item at its α-quantile)
and with a budget of half the cost of every target (the weights decide; the hard case).
Prints the model size and the solve time of each (target < 2 s on the 2-core machine).
"""

from __future__ import annotations

import time

import numpy as np

from critmat.stockpiles.sizing import SizingItem, SizingSolution, size_stocks

MATERIALS = 34
RUNS = 1000
CONFIDENCE = 0.95
HORIZON = 24
SEED = 7


def _engine_samples() -> dict[str, np.ndarray]:
    """EU27 shortfall over the horizon of 1,000 engine runs per library material (real store),
    or nothing when no store is installed."""
    from critmat.cli_output import store_readonly
    from critmat.errors import CritmatError
    from critmat.services import stockpile_sizing as sizing
    from critmat.services import stress

    materials = sorted({e["material"] for e in stress.library_entries()})
    try:
        with store_readonly() as store:
            request = sizing.SizingRequest(tuple(materials), runs=RUNS, seed=1)
            answer = sizing.size(request, store, max_runs=None)
    except CritmatError as exc:
        print(f"  no engine samples ({exc}); all 34 materials drawn")
        return {}
    # pooled runs of a material's scenarios: take 1,000 of them, evenly spread
    return {item.sizing.material: _thin(item.shortfall_t) for item in answer.items}


def _thin(samples: np.ndarray) -> np.ndarray:
    """``RUNS`` of the pooled samples, evenly spread over their sorted order."""
    picks = np.linspace(0, len(samples) - 1, RUNS).round().astype(int)
    thinned: np.ndarray = np.sort(samples)[picks]
    return thinned


def _drawn(rng: np.random.Generator, scale: float) -> np.ndarray:
    short = rng.random(RUNS) < 0.7
    return np.where(short, rng.gamma(2.0, scale, RUNS), 0.0)


def _report(label: str, solution: SizingSolution) -> None:
    model = solution.model
    print(
        f"  {label}: {model.variables:,} variables ({model.binaries:,} binary), "
        f"{model.constraints:,} constraints, {model.nonzeros:,} non-zeros; "
        f"solved in {solution.solve_seconds:.3f} s; cost {solution.cost_eur:,.0f} EUR"
    )


def sizing_benchmark() -> None:
    """Size 34 materials × 1,000 runs twice (no budget; a binding budget) and print."""
    print(f"sizing: {MATERIALS} materials × {RUNS:,} scenario runs, {CONFIDENCE:.0%} confidence")
    started = time.perf_counter()
    engine = _engine_samples()
    print(f"  engine samples for {len(engine)} materials in {time.perf_counter() - started:.2f} s")
    rng = np.random.default_rng(SEED)
    items = []
    for k in range(MATERIALS):
        name = sorted(engine)[k] if k < len(engine) else f"drawn_{k:02d}"
        samples = engine[name] if name in engine else _drawn(rng, float(rng.uniform(10, 2_000)))
        items.append(
            SizingItem(
                name,
                "EU27",
                samples,
                weight=float(rng.choice([1.0, 2.0, 3.0])),
                price_eur_t=float(rng.uniform(1_000, 50_000)),
            )
        )
    free = size_stocks(items, CONFIDENCE, HORIZON)
    _report("no budget", free)
    assert free.target_cost_eur is not None
    budget = 0.5 * free.target_cost_eur
    bound = size_stocks(items, CONFIDENCE, HORIZON, budget_eur=budget)
    _report(f"budget {budget:,.0f} EUR (binding: {bound.budget_binding})", bound)


if __name__ == "__main__":
    sizing_benchmark()
