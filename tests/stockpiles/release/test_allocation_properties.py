"""Properties of release allocation (issue 11, Must hold 1), tested with hypothesis.

- no allocation exceeds the stock or its request (not even by rounding);
- proportional is proportional to consumption within a tier, among requesters not capped;
- max-min reaches the optimal minimum fill rate of an LP solved here with HiGHS;
- higher tiers are served first: a lower tier gets nothing while a higher one is unmet;
- a declined share is passed on: the others get what they would get without the decliner.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from critmat.stockpiles.allocation import RULES, UNIT_T, Allocation, Request, Rule, allocate

SETTINGS = settings(max_examples=60, deadline=None)
MS = ("DEU", "FRA", "ITA", "ESP", "POL", "NLD", "BEL", "AUT")
SECTORS = ("defence", "aerospace", "automotive", "energy")


@st.composite
def cases(draw: st.DrawFn, *, tiers: int = 3, declines: bool = True) -> tuple[float, list[Request]]:
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(MS), st.sampled_from(SECTORS)),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    requests = [
        Request(
            member_state=ms,
            sector=sector,
            requested_t=draw(st.floats(0, 5_000, allow_nan=False).map(lambda x: round(x, 4))),
            consumption_t=draw(st.floats(0.5, 20_000, allow_nan=False)),
            tier=draw(st.integers(1, tiers)),
            declines=draw(st.booleans()) if declines else False,
        )
        for ms, sector in pairs
    ]
    total = sum(r.requested_t for r in requests)
    stock = draw(st.floats(0, max(total * 1.3, 1.0), allow_nan=False))
    return stock, requests


def _units(tonnes: float) -> int:
    return round(tonnes / UNIT_T)


def _floored_units(tonnes: float) -> int:
    """Whole units as the allocation counts a request or the stock (rounded down)."""
    return math.floor(tonnes / UNIT_T + 1e-9)


@SETTINGS
@given(cases(), st.sampled_from(RULES))
def test_never_more_than_stock_or_request(case: tuple[float, list[Request]], rule: Rule) -> None:
    stock, requests = case
    result = allocate(stock, requests, rule)
    assert _units(result.allocated_t) <= _units(stock + 1e-12)
    assert sum(_units(a.allocated_t) for a in result.awards) == _units(result.allocated_t)
    for request, award in zip(requests, result.awards, strict=True):
        assert award.allocated_t >= 0
        assert _units(award.allocated_t) <= _units(request.requested_t) + 0  # in whole units
        assert award.allocated_t <= request.requested_t + 1e-9
        if request.declines:
            assert award.allocated_t == 0
    # Every unit is accounted for: allocated + unallocated + rounding = stock (in units).
    parts = result.allocated_t + result.unallocated_t + result.rounding_remainder_t
    assert _units(parts) == _units(result.stock_t)
    assert result.rounding_remainder_t <= len(requests) * UNIT_T + 1e-12


def _served(result: Allocation, requests: list[Request], tier: int) -> list[tuple[Request, float]]:
    return [
        (r, a.allocated_t)
        for r, a in zip(requests, result.awards, strict=True)
        if r.tier == tier and not r.declines
    ]


@SETTINGS
@given(cases())
def test_proportional_within_a_tier(case: tuple[float, list[Request]]) -> None:
    stock, requests = case
    result = allocate(stock, requests, "proportional")
    for tier in {r.tier for r in requests}:
        uncapped = [
            (r, x) for r, x in _served(result, requests, tier) if x < r.requested_t - UNIT_T
        ]
        ratios = [x / r.consumption_t for r, x in uncapped if r.consumption_t]
        if len(ratios) < 2:
            continue
        # The same tonnes per tonne of consumption, up to one unit of rounding each.
        spread = max(ratios) - min(ratios)
        slack = max(UNIT_T / r.consumption_t for r, _ in uncapped if r.consumption_t)
        assert spread <= slack + 1e-9
        # A capped requester's share would have been at least its request.
        level = max(ratios)
        for r, x in _served(result, requests, tier):
            if x >= r.requested_t - UNIT_T and r.consumption_t:
                assert level * r.consumption_t >= r.requested_t - 2 * UNIT_T - 1e-6 or not uncapped


def _lp_max_min_fill(stock: float, caps: list[float]) -> float:
    """max z s.t. x_i >= z * r_i, sum x <= stock, 0 <= x_i <= r_i (variables x..., z)."""
    n = len(caps)
    c = np.zeros(n + 1)
    c[-1] = -1.0  # maximise z
    a_ub = []
    b_ub = []
    for i, r in enumerate(caps):  # z * r_i - x_i <= 0
        row = np.zeros(n + 1)
        row[i] = -1.0
        row[-1] = r
        a_ub.append(row)
        b_ub.append(0.0)
    total = np.ones(n + 1)
    total[-1] = 0.0
    a_ub.append(total)
    b_ub.append(stock)
    bounds = [(0.0, r) for r in caps] + [(0.0, 1.0)]
    solved = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    assert solved.status == 0, solved.message
    return float(solved.x[-1])


@SETTINGS
@given(cases(tiers=1))
def test_maxmin_reaches_the_lp_optimum(case: tuple[float, list[Request]]) -> None:
    stock, requests = case
    result = allocate(stock, requests, "maxmin")
    served = [(r, x) for r, x in _served(result, requests, 1) if r.requested_t >= UNIT_T]
    if not served:
        return
    caps = [_floored_units(r.requested_t) * UNIT_T for r, _ in served]
    if min(caps) <= 0:
        return
    optimum = _lp_max_min_fill(_floored_units(stock) * UNIT_T, caps)
    reached = min(x / cap for (_, x), cap in zip(served, caps, strict=True))
    # Rounding down to whole units costs at most one unit of the smallest request.
    assert reached <= optimum + 1e-7
    assert reached >= optimum - UNIT_T / min(caps) - 1e-7


@SETTINGS
@given(cases(), st.sampled_from(RULES))
def test_higher_tiers_first(case: tuple[float, list[Request]], rule: Rule) -> None:
    stock, requests = case
    result = allocate(stock, requests, rule)
    for higher in {r.tier for r in requests}:
        unmet = any(x < r.requested_t - UNIT_T for r, x in _served(result, requests, higher))
        if not unmet:
            continue
        lower = [x for r, x in zip(requests, result.awards, strict=True) if r.tier > higher]
        assert all(a.allocated_t == 0 for a in lower)


@SETTINGS
@given(cases(declines=False), st.sampled_from(RULES), st.data())
def test_declined_share_is_passed_on(
    case: tuple[float, list[Request]], rule: Rule, data: st.DataObject
) -> None:
    stock, requests = case
    k = data.draw(st.integers(0, len(requests) - 1))
    declining = [
        Request(r.member_state, r.sector, r.requested_t, r.consumption_t, r.tier, i == k)
        for i, r in enumerate(requests)
    ]
    with_decline = allocate(stock, declining, rule)
    without = allocate(stock, [r for i, r in enumerate(requests) if i != k], rule)
    others = [a for i, a in enumerate(with_decline.awards) if i != k]
    assert with_decline.awards[k].allocated_t == 0
    assert [a.allocated_t for a in others] == [a.allocated_t for a in without.awards]
    assert with_decline.allocated_t == without.allocated_t
