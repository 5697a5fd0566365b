"""Release allocation: who gets how much of a released stock (docs/stockpile-release.md).

Pure and deterministic: the same requests in the same order give the same answer.

**Inputs.** The stock available for release (tonnes of material content) and one
:class:`Request` per Member State and sector: the tonnes it asks for (a cap: nobody gets more
than it asked), its pre-crisis consumption (tonnes a year; the weight of ``proportional`` and
``equal_loss``), its priority tier (1 is served first) and whether it declines its share.

**Tiers.** Tier 1 is served first; a tier only receives stock when every request of the tiers
above it is met in full. Inside a tier one fairness rule shares the stock:

- ``proportional`` — each requester gets ``min(request, λ × consumption)``: shares proportional
  to pre-crisis consumption, the IEA rule of a collective action;
- ``maxmin`` — the max-min fill rate (constrained equal awards on the fill rate
  ``allocated / requested``): every request receives the same fraction ``min(1, stock /
  requests)``, the largest possible minimum fill rate;
- ``equal_loss`` — equal relative loss: each requester goes without the same share ``μ`` of its
  pre-crisis consumption, ``max(0, request − μ × consumption)``.

**Rounds.** Shares are computed among the requesters still unmet; a share above what a
requester asked is capped at its request, and the excess (like the share of a requester that
declines) is passed on to the others in the next round, until no stock or no unmet request is
left. Every :class:`Award` says its rule, tier, round and why.

**Exactness.** Amounts are computed in whole units of :data:`UNIT_T` (1 kg by default): the
stock and the requests are floored to units first, a partial share is floored to a unit, so no
allocation exceeds the stock or a request even by rounding; the units that flooring leaves are
reported as :attr:`Allocation.rounding_remainder_t` (at most one unit per requester).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from critmat.errors import CritmatError

__all__ = [
    "RULES",
    "UNIT_T",
    "Allocation",
    "AllocationInputError",
    "Award",
    "ProblemListError",
    "Request",
    "Rule",
    "TierOutcome",
    "allocate",
]

Rule = Literal["proportional", "maxmin", "equal_loss"]
#: The fairness rules inside a tier, in the order the CLI and the page list them.
RULES: tuple[Rule, ...] = get_args(Rule)
#: The unit amounts are rounded down to: 1 kg, in tonnes.
UNIT_T = 0.001
#: Relative tolerance of the float arithmetic before flooring to a unit.
_EPS = 1e-9

#: Why an award is what it is (:attr:`Award.reason`).
Reason = Literal[
    "full_request",
    "share_of_consumption",
    "equal_fill_rate",
    "equal_relative_loss",
    "loss_exceeds_request",
    "no_consumption",
    "declined",
    "stock_exhausted_above",
]
RULE_TEXT: dict[Rule, str] = {
    "proportional": "proportional to pre-crisis consumption (the IEA rule)",
    "maxmin": "max-min fill rate (equal share of every request)",
    "equal_loss": "equal relative loss (the same share of pre-crisis consumption foregone)",
}


class ProblemListError(CritmatError):
    """Input that cannot be used; ``problems`` lists each one as ``{"where", "problem"}``.
    The message names the first problem (and how many more); ``HINT`` says what to type."""

    HINT = ""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{first['where']}: {first['problem']}{more}", self.HINT)


class AllocationInputError(ProblemListError):
    """Requests or a stock that cannot be allocated; ``problems`` lists each one as
    ``{"where", "problem"}`` (``where``: ``requests[3].consumption_t``, ``stock_t``...)."""

    HINT = (
        "requests need a member_state, a sector, requested_t ≥ 0, tier ≥ 1 and, for "
        "proportional and equal_loss, consumption_t ≥ 0"
    )


@dataclass(frozen=True)
class Request:
    """One requester: a Member State (ISO3) and sector asking for ``requested_t`` tonnes.

    ``consumption_t``: pre-crisis consumption, tonnes a year (None: not known — refused by
    ``proportional`` and ``equal_loss``); ``tier``: 1 is served first; ``declines``: the
    requester takes no stock and its share is passed on to the others of its tier."""

    member_state: str
    sector: str
    requested_t: float
    consumption_t: float | None
    tier: int = 1
    declines: bool = False


@dataclass(frozen=True)
class Award:
    """What one requester gets (tonnes, rounded down to the unit) and why.

    ``round``: the round of its tier in which its amount was settled (0 when its tier got no
    stock); ``fill_rate``: allocated / requested (None when it asked for nothing);
    ``declined_t``: the share it declined and passed on."""

    member_state: str
    sector: str
    tier: int
    requested_t: float
    consumption_t: float | None
    allocated_t: float
    fill_rate: float | None
    declined_t: float
    round: int
    reason: Reason
    why: str


@dataclass(frozen=True)
class TierOutcome:
    """One tier: stock on arrival, requested and allocated tonnes, rounds, what it passed on
    to the tiers below, and the rule's level (λ t per t of consumption for proportional, the
    fill rate for maxmin, μ for equal_loss; None when the tier was met in full or got nothing)."""

    tier: int
    requesters: int
    stock_in_t: float
    requested_t: float
    allocated_t: float
    declined_t: float
    passed_on_t: float
    rounds: int
    level: float | None


@dataclass(frozen=True)
class Allocation:
    """The result: awards in the order of the requests, tiers from the first, totals (t)."""

    rule: Rule
    unit_t: float
    stock_t: float
    allocated_t: float
    requested_t: float
    unallocated_t: float  # stock left once every request is met (or declined)
    rounding_remainder_t: float  # units that flooring partial shares left over
    awards: tuple[Award, ...]
    tiers: tuple[TierOutcome, ...]

    @property
    def rule_text(self) -> str:
        return RULE_TEXT[self.rule]


def _tonnes(units: float, unit_t: float) -> float:
    """``units`` whole units in tonnes, without the float noise of the product."""
    return round(units * unit_t, max(0, -math.floor(math.log10(unit_t))) + 3)


# ================================================================================ checks
def _check(stock_t: float, requests: Sequence[Request], rule: str, unit_t: float) -> None:
    problems: list[dict[str, str]] = []
    if rule not in RULES:
        problems.append({"where": "rule", "problem": f"'{rule}' is not one of {', '.join(RULES)}"})
    if not (math.isfinite(stock_t) and stock_t >= 0):
        problems.append({"where": "stock_t", "problem": f"must be a number ≥ 0, got {stock_t}"})
    if not (math.isfinite(unit_t) and unit_t > 0):
        problems.append({"where": "unit_t", "problem": f"must be a number > 0, got {unit_t}"})
    seen: dict[tuple[str, str], int] = {}
    needs_weight = rule in ("proportional", "equal_loss")
    for i, r in enumerate(requests):
        where = f"requests[{i}]"
        if not r.member_state or not r.sector:
            problems.append({"where": where, "problem": "member_state and sector are required"})
        key = (r.member_state, r.sector)
        if key in seen:
            problems.append(
                {"where": where, "problem": f"{key[0]} {key[1]} repeats requests[{seen[key]}]"}
            )
        seen.setdefault(key, i)
        if not (math.isfinite(r.requested_t) and r.requested_t >= 0):
            problems.append(
                {"where": f"{where}.requested_t", "problem": f"must be ≥ 0, got {r.requested_t}"}
            )
        if r.consumption_t is None:
            if needs_weight:
                problems.append(
                    {
                        "where": f"{where}.consumption_t",
                        "problem": f"missing: rule {rule} weighs requesters by pre-crisis "
                        "consumption (use maxmin, or give consumption_t)",
                    }
                )
        elif not (math.isfinite(r.consumption_t) and r.consumption_t >= 0):
            problems.append(
                {
                    "where": f"{where}.consumption_t",
                    "problem": f"must be ≥ 0, got {r.consumption_t}",
                }
            )
        if isinstance(r.tier, bool) or not isinstance(r.tier, int) or r.tier < 1:
            problems.append(
                {"where": f"{where}.tier", "problem": f"must be 1, 2, ...; got {r.tier}"}
            )
    if problems:
        raise AllocationInputError(problems)


# ================================================================================ one tier
@dataclass
class _TierState:
    """Arrays of one tier in units: caps (requests), weights, what is settled and when."""

    cap: np.ndarray
    weight: np.ndarray
    declines: np.ndarray
    given: np.ndarray
    settled_round: np.ndarray
    declined: np.ndarray
    reason: list[Reason]


def _shares(
    rule: Rule, stock: float, cap: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, float]:
    """The rule's shares of ``stock`` among requesters with remaining ``cap`` (units) and
    ``weight``, uncapped, and the rule's level."""
    if rule == "maxmin":
        total = float(cap.sum())
        level = stock / total if total > 0 else 0.0
        return cap * level, level
    if rule == "proportional":
        total = float(weight.sum())
        level = stock / total if total > 0 else 0.0
        return weight * level, level
    # equal_loss: cap - mu * weight summing to the stock
    total_w = float(weight.sum())
    if total_w <= 0:  # no consumption anywhere: the loss is shared on requests instead
        level = stock / float(cap.sum()) if cap.sum() > 0 else 0.0
        return cap * level, level
    mu = (float(cap.sum()) - stock) / total_w
    return cap - mu * weight, mu


def _settle_tier(rule: Rule, stock: float, state: _TierState) -> tuple[int, float | None]:
    """Share ``stock`` units among the tier in rounds; returns (rounds, level of the last)."""
    take = ~state.declines
    decl = np.flatnonzero(state.declines)
    if len(decl):
        # Round 1 computes every share, the decliners' included; theirs are passed on.
        shares, _ = _shares(rule, stock, state.cap, state.weight)
        state.declined[decl] = np.clip(shares[decl], 0.0, state.cap[decl])
        state.settled_round[decl] = 1
    rounds = 1 if len(decl) else 0
    if stock >= float(state.cap[take].sum()):
        # Enough for every request: each gets its request in the first round.
        state.given[take] = state.cap[take]
        state.settled_round[take] = rounds + 1
        for i in np.flatnonzero(take):
            state.reason[i] = "full_request"
        return rounds + 1, None
    active = take.copy()
    remaining = stock
    level: float | None = None
    tol = _EPS * max(1.0, stock)
    settled_as: Reason = {
        "proportional": "share_of_consumption",
        "maxmin": "equal_fill_rate",
        "equal_loss": "equal_relative_loss",
    }[rule]  # type: ignore[assignment]
    while active.any():
        rounds += 1
        idx = np.flatnonzero(active)
        shares, level = _shares(rule, remaining, state.cap[idx], state.weight[idx])
        over = shares >= state.cap[idx] - tol
        if over.any():
            capped = idx[over]
            state.given[capped] = state.cap[capped]
            state.settled_round[capped] = rounds
            for i in capped:
                state.reason[i] = "full_request"
            active[capped] = False
            remaining -= float(state.cap[capped].sum())
            continue
        under = shares <= tol
        if rule == "equal_loss" and under.any():
            dropped = idx[under]
            state.settled_round[dropped] = rounds
            for i in dropped:
                state.reason[i] = "loss_exceeds_request"
            active[dropped] = False
            continue
        state.given[idx] = np.maximum(shares, 0.0)
        state.settled_round[idx] = rounds
        for i in idx:
            no_weight = rule == "proportional" and state.weight[i] <= 0
            state.reason[i] = "no_consumption" if no_weight else settled_as
        break
    return rounds, level


def _floored(state: _TierState, stock: float) -> np.ndarray:
    """The tier's awards in whole units: a full request stays whole, a partial share is
    floored; never above the request, and never above ``stock`` together."""
    tol = _EPS * max(1.0, stock)
    full = state.given >= state.cap - tol
    given = np.where(full, state.cap, np.floor(state.given + tol))
    given = np.clip(given, 0.0, state.cap)
    given[state.declines] = 0.0
    excess = float(given.sum()) - stock
    if excess > 0:  # float noise on a cap: take whole units back from the largest partials
        for i in np.argsort(-(state.cap - given) * (~full)):
            if excess <= 0:
                break
            back = min(excess, given[i])
            given[i] -= back
            excess -= back
    return given


# ================================================================================ allocate
def allocate(
    stock_t: float,
    requests: Sequence[Request],
    rule: Rule,
    *,
    unit_t: float = UNIT_T,
) -> Allocation:
    """Allocate ``stock_t`` tonnes to ``requests`` tier by tier under ``rule`` (module
    docstring). Raises :class:`AllocationInputError` listing every problem of the input."""
    _check(stock_t, requests, rule, unit_t)
    n = len(requests)
    cap_all = np.array([math.floor(r.requested_t / unit_t + _EPS) for r in requests], dtype=float)
    weight_all = np.array([r.consumption_t or 0.0 for r in requests], dtype=float)
    tier_all = np.array([r.tier for r in requests], dtype=int)
    declines_all = np.array([r.declines for r in requests], dtype=bool)
    given_all = np.zeros(n)
    declined_all = np.zeros(n)
    round_all = np.zeros(n, dtype=int)
    reason_all: list[Reason] = [
        "declined" if r.declines else "stock_exhausted_above" for r in requests
    ]
    level_of_tier: dict[int, float | None] = {}
    stock_u = float(math.floor(stock_t / unit_t + _EPS))
    remaining = stock_u
    rounding_u = 0.0
    tiers: list[TierOutcome] = []
    for tier in sorted(set(tier_all.tolist())):
        idx = np.flatnonzero(tier_all == tier)
        state = _TierState(
            cap=cap_all[idx],
            weight=weight_all[idx],
            declines=declines_all[idx],
            given=np.zeros(len(idx)),
            settled_round=np.zeros(len(idx), dtype=int),
            declined=np.zeros(len(idx)),
            reason=[reason_all[i] for i in idx],
        )
        stock_in = remaining
        rounds, level = (0, None) if remaining <= 0 else _settle_tier(rule, remaining, state)
        given = _floored(state, remaining)
        rounding_u += float(np.maximum(state.given - given, 0.0)[~state.declines].sum())
        given_all[idx] = given
        declined_all[idx] = np.floor(state.declined)
        round_all[idx] = state.settled_round
        for k, i in enumerate(idx):
            reason_all[i] = state.reason[k]
        used = float(given.sum())
        met = bool(np.all((given >= state.cap) | state.declines))
        # A tier passes stock on only when every request of it is met in full.
        remaining = remaining - used if met else 0.0
        if level is not None and rule != "maxmin":
            level *= unit_t  # units per tonne of consumption -> tonnes per tonne
        level_of_tier[tier] = level
        tiers.append(
            TierOutcome(
                tier=tier,
                requesters=len(idx),
                stock_in_t=_tonnes(stock_in, unit_t),
                requested_t=_tonnes(float(state.cap.sum()), unit_t),
                allocated_t=_tonnes(used, unit_t),
                declined_t=_tonnes(float(declined_all[idx].sum()), unit_t),
                passed_on_t=_tonnes(remaining, unit_t),
                rounds=rounds,
                level=level,
            )
        )
    allocated_u = float(given_all.sum())
    rounding_u = min(math.floor(rounding_u + 0.5), stock_u - allocated_u)
    awards = tuple(
        _award(
            requests[i],
            rule,
            given_all[i],
            cap_all[i],
            declined_all[i],
            int(round_all[i]),
            reason_all[i],
            level_of_tier.get(requests[i].tier),
            unit_t,
        )
        for i in range(n)
    )
    return Allocation(
        rule=rule,
        unit_t=unit_t,
        stock_t=_tonnes(stock_u, unit_t),
        allocated_t=_tonnes(allocated_u, unit_t),
        requested_t=_tonnes(float(cap_all.sum()), unit_t),
        unallocated_t=_tonnes((stock_u - allocated_u - rounding_u), unit_t),
        rounding_remainder_t=_tonnes(rounding_u, unit_t),
        awards=awards,
        tiers=tuple(tiers),
    )


def _award(
    request: Request,
    rule: Rule,
    given_u: float,
    cap_u: float,
    declined_u: float,
    round_: int,
    reason: Reason,
    level: float | None,
    unit_t: float,
) -> Award:
    allocated = _tonnes(given_u, unit_t)
    requested = _tonnes(cap_u, unit_t)
    return Award(
        member_state=request.member_state,
        sector=request.sector,
        tier=request.tier,
        requested_t=requested,
        consumption_t=request.consumption_t,
        allocated_t=allocated,
        fill_rate=(given_u / cap_u) if cap_u > 0 else None,
        declined_t=_tonnes(declined_u, unit_t),
        round=round_,
        reason=reason,
        why=_why(
            reason,
            rule,
            request.tier,
            round_,
            allocated,
            requested,
            _tonnes(declined_u, unit_t),
            level,
        ),
    )


def _why(
    reason: Reason,
    rule: Rule,
    tier: int,
    round_: int,
    allocated: float,
    requested: float,
    declined: float,
    level: float | None,
) -> str:
    where = f"tier {tier}, round {round_}"
    if reason == "full_request":
        return (
            f"{where}: request met in full ({requested:,.3f} t); any excess of its share passed on"
        )
    if reason == "declined":
        return f"tier {tier}: declined; its share of {declined:,.3f} t passed on to the others"
    if reason == "stock_exhausted_above":
        return f"tier {tier}: no stock left once the higher tiers were served"
    if reason == "loss_exceeds_request":
        return (
            f"{where}: the common loss ({(level or 0.0):.6f} t per t of consumption) is larger "
            "than its request; nothing allocated"
        )
    if reason == "no_consumption":
        return f"{where}: no pre-crisis consumption, so no share under {rule}"
    if reason == "share_of_consumption":
        return (
            f"{where}: {(level or 0.0):.6f} t per t of pre-crisis consumption, "
            "the tier's common share (rounded down to the unit)"
        )
    if reason == "equal_fill_rate":
        return f"{where}: the tier's common fill rate {(level or 0.0):.2%} of its request"
    return (
        f"{where}: goes without {(level or 0.0):.6f} t per t of pre-crisis consumption, "
        "like every requester still served (rounded down to the unit)"
    )
