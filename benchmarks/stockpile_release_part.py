"""The release half of ``benchmarks/stockpile.py``: allocation for 27 Member States × 50
sectors × 34 materials under every rule (docs/stockpile-release.md).

Each material gets 1,350 requests (27 × 50) in three priority tiers with a seeded random
request, consumption and a few decliners, and a stock of 40 % of its requests; one
:func:`critmat.stockpiles.allocation.allocate` per material and rule. Prints the model size
and the time of each rule over the 34 materials (target < 2 s each on the 2-core machine).
"""

from __future__ import annotations

import time

import numpy as np

from critmat.stockpiles.allocation import RULES, Request, allocate

MEMBER_STATES = 27
SECTORS = 50
MATERIALS = 34
SEED = 11


def _requests(rng: np.random.Generator) -> list[Request]:
    n = MEMBER_STATES * SECTORS
    requested = rng.lognormal(3.0, 1.2, n)
    consumption = requested * rng.uniform(2.0, 12.0, n)
    tiers = rng.choice([1, 2, 3], size=n, p=[0.1, 0.3, 0.6])
    declines = rng.random(n) < 0.02
    return [
        Request(
            member_state=f"M{i // SECTORS:02d}",
            sector=f"S{i % SECTORS:02d}",
            requested_t=float(requested[i]),
            consumption_t=float(consumption[i]),
            tier=int(tiers[i]),
            declines=bool(declines[i]),
        )
        for i in range(n)
    ]


def release_benchmark() -> None:
    """Time every rule over 34 materials × 1,350 requests and print the figures."""
    rng = np.random.default_rng(SEED)
    cases = []
    for _ in range(MATERIALS):
        requests = _requests(rng)
        cases.append((0.4 * sum(r.requested_t for r in requests), requests))
    rows = MATERIALS * MEMBER_STATES * SECTORS
    print(
        f"release allocation: {MATERIALS} materials × {MEMBER_STATES} Member States × "
        f"{SECTORS} sectors = {rows:,} requests, 3 tiers, stock 40 % of requests"
    )
    for rule in RULES:
        start = time.perf_counter()
        rounds = 0
        for stock, requests in cases:
            result = allocate(stock, requests, rule)
            rounds = max(rounds, max(t.rounds for t in result.tiers))
        elapsed = time.perf_counter() - start
        verdict = "ok" if elapsed < 2.0 else "OVER the 2 s target"
        print(f"  {rule:<12} {elapsed:6.3f} s  (most rounds in a tier: {rounds})  {verdict}")


if __name__ == "__main__":
    release_benchmark()
