"""Stock targets sized against simulated shortfalls, solved with HiGHS (docs/stockpile-sizing.md).

Pure: numbers in, numbers out; the service (:mod:`critmat.services.stockpile_sizing`) draws the
shortfall samples from the stress-test engine. Units: tonnes of material content (``_t``), euro
(``_eur``), prices in EUR/t, the holding cost as a fraction of the price per year.

**The model (a chance-constrained MILP).** Items *k* are (material, importer) pairs, each with
*S* shortfall samples ``s[k, j]`` — tonnes short over the horizon in scenario run *j* when no
stock is held. A stock ``x_k`` covers run *j* when ``x_k ≥ s[k, j]`` (the engine draws a stock
until it is empty, so unserved = max(0, s − x)). With the distinct positive sample values of
item *k* up to its confidence target, ``0 = v_0 < v_1 < … < v_M`` (``v_M`` the smallest value
that covers ⌈α·S⌉ runs), binaries ``y_km`` say "level *m* bought":

    x_k        = Σ_m (v_m − v_{m−1}) · y_km,        y_k1 ≥ y_k2 ≥ … ≥ y_kM
    covered_k  = g_k0 + Σ_m g_km · y_km           (g_km: runs with v_{m−1} < s ≤ v_m)
    b_k        ≥ x_k − held_k,  b_k ≥ 0            (tonnes to buy)
    cost_k     = p_k · b_k + p_k · h · (H / 12) · x_k
    Σ_k cost_k ≤ B                                 (only with a budget)
    maximise   Σ_k w_k · covered_k / S  −  ε · Σ_k cost_k / C

Each item can cover at most its target ⌈α·S⌉ runs (levels stop at ``v_M``), so without a binding
budget every ``y`` is 1 and ``x_k`` is the empirical α-quantile of its samples, the least-cost
stock for which Σ_j 1[s_kj > x_k] ≤ (1 − α)·S. With a binding budget the priority weights
``w_k`` decide which items keep their runs covered; ε (a hundredth of the smallest gain, over the
full-coverage cost C) then picks the cheapest of equal-coverage answers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from critmat.errors import CritmatError
from critmat.reference.sectors import SectorSplit

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_RULES",
    "DEFAULT_SECTOR_WEIGHTS",
    "CurvePoint",
    "ItemSizing",
    "ModelSize",
    "SizingError",
    "SizingItem",
    "SizingSolution",
    "check_confidence",
    "check_runs",
    "cost_curve",
    "material_weight",
    "shortfall_covered",
    "size_stocks",
    "target_count",
]

#: Days in a month on average (as the stress engine counts them).
DAYS_PER_MONTH = 365.25 / 12
#: Days-of-consumption rules the answer sets itself beside: JOGMEC's general target (Japan) and
#: KOMIR's rare-metal target (Korea), days of apparent consumption.
DAYS_RULES: Mapping[str, int] = {"JOGMEC 60 days": 60, "KOMIR 100 days": 100}
#: Priority of downstream sectors (defence and aerospace first); other sectors weigh 1. A split
#: row whose sector names a key (case-insensitive) takes its weight.
DEFAULT_SECTOR_WEIGHTS: Mapping[str, float] = {"defence": 3.0, "aerospace": 3.0}


class SizingError(CritmatError):
    """Parameters a sizing cannot be run with (the CLI exits 2, the API answers 400)."""


@dataclass(frozen=True)
class SizingItem:
    """One (material, importer) to size: its shortfall samples and what stock costs there."""

    material: str
    importer: str  # "EU27" or a Member State's ISO3
    shortfall_t: np.ndarray  # one per scenario run: tonnes short over the horizon, no stock
    weight: float = 1.0  # priority (sector × Member State), > 0
    price_eur_t: float | None = None  # None: cost counted in tonnes, reported as no price
    held_t: float = 0.0  # stock already held (bought before), tonnes

    @property
    def key(self) -> str:
        return f"{self.material}/{self.importer}"


@dataclass(frozen=True)
class ModelSize:
    """Size of the MILP handed to HiGHS."""

    variables: int
    binaries: int
    constraints: int
    nonzeros: int


@dataclass(frozen=True)
class ItemSizing:
    """The sized stock of one item (tonnes; euro None where the item has no price)."""

    material: str
    importer: str
    weight: float
    stock_t: float
    buy_t: float
    held_t: float
    target_t: float  # the α-quantile: the stock the confidence level asks for, budget aside
    runs: int
    runs_covered: int
    share_runs_covered: float
    share_shortfall_covered: float | None  # None when no run is short
    mean_shortfall_t: float
    cost_eur: float | None
    target_cost_eur: float | None


@dataclass(frozen=True)
class SizingSolution:
    """The answer of :func:`size_stocks`."""

    items: tuple[ItemSizing, ...]
    confidence: float
    horizon_months: int
    holding_cost: float
    budget_eur: float | None
    cost_eur: float | None  # purchase plus holding over the horizon; None without prices
    target_cost_eur: float | None  # what every item's α-target would cost
    budget_binding: bool
    model: ModelSize
    solve_seconds: float
    solver: str


@dataclass(frozen=True)
class CurvePoint:
    """One point of an item's cost curve."""

    stock_t: float
    share_shortfall_covered: float | None
    share_runs_covered: float
    cost_eur: float | None


def check_confidence(confidence: float) -> float:
    """``confidence`` if in (0, 1]; else a :class:`SizingError` saying what to type."""
    if not (isinstance(confidence, int | float) and 0.0 < confidence <= 1.0):
        raise SizingError(
            f"confidence {confidence} is outside (0, 1]",
            hint="give the share of runs to cover, e.g. --confidence 0.95",
        )
    return float(confidence)


def check_runs(runs: int, most: int | None = None) -> int:
    """``runs`` if at least 1 (and at most ``most``); else a :class:`SizingError`."""
    if runs < 1 or (most is not None and runs > most):
        top = f" and at most {most:,}" if most is not None else ""
        raise SizingError(f"runs must be at least 1{top}; got {runs}", hint="e.g. --runs 1000")
    return runs


def target_count(confidence: float, runs: int) -> int:
    """Runs to cover: ⌈α·S⌉ (so that at most (1 − α)·S runs are left short)."""
    return min(runs, max(1, math.ceil(confidence * runs - 1e-9)))


def material_weight(
    material: str, splits: Sequence[SectorSplit], sector_weights: Mapping[str, float]
) -> tuple[float, tuple[str, ...]]:
    """The priority weight of a material: Σ share × sector weight over its split rows, the
    unsplit rest at 1 (weight 1 without a split). Returns the weight and notes naming the
    rows a sector weight applied to."""
    own = [s for s in splits if s.material == material]
    notes: list[str] = []
    weight = 1.0 - sum(s.share for s in own)
    for split in own:
        matched = [w for key, w in sector_weights.items() if key.lower() in split.sector.lower()]
        row_weight = max(matched) if matched else 1.0
        weight += split.share * row_weight
        if matched:
            not_split = " (a row not split between its sectors: the weight takes it whole)"
            notes.append(
                f"{material}: weight {row_weight:g} on {split.share:.0%} of use "
                f"({split.application}: {split.sector})"
                + (not_split if "not split" in split.sector else "")
            )
    if not own:
        notes.append(f"{material}: no sourced sector split, sector weight 1")
    return weight, tuple(notes)


def _levels(
    samples: np.ndarray, confidence: float, steps: int
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The stock levels of one item, ``v_1..v_M``: the sample values that cover ``n`` runs for
    ``n`` in ``steps`` even steps up to the target ⌈α·S⌉ (every distinct value when S is
    small), positive only; the runs each level adds (``g_1..g_M``), the runs covered with no
    stock (``g_0``) and the α-quantile (the top level)."""
    values = np.sort(np.maximum(samples, 0.0))
    target = target_count(confidence, len(values))
    counts = np.unique(np.ceil(np.arange(1, steps + 1) / steps * target).astype(int))
    levels = np.unique(values[counts - 1])
    covered = np.searchsorted(values, levels, side="right")
    free = int((values <= 0).sum())
    keep = levels > 0
    gains = np.diff(covered[keep], prepend=free)
    return levels[keep], gains, free, float(values[target - 1])


def _check_items(items: Sequence[SizingItem], budget_eur: float | None) -> None:
    if not items:
        raise SizingError("nothing to size: no material with shortfall samples")
    for item in items:
        if item.shortfall_t.ndim != 1 or len(item.shortfall_t) == 0:
            raise SizingError(f"{item.key}: no shortfall samples")
        if not np.all(np.isfinite(item.shortfall_t)):
            raise SizingError(f"{item.key}: a shortfall sample is not a number")
        if not item.weight > 0:
            raise SizingError(f"{item.key}: priority weight {item.weight} must be above 0")
        if item.price_eur_t is not None and not item.price_eur_t > 0:
            raise SizingError(
                f"{item.key}: price {item.price_eur_t} EUR/t must be above 0",
                hint="e.g. --price 30000",
            )
    if budget_eur is not None:
        if not (math.isfinite(budget_eur) and budget_eur > 0):
            raise SizingError(
                f"budget {budget_eur} EUR must be a positive amount", hint="e.g. --budget 5e8"
            )
        missing = [i.key for i in items if i.price_eur_t is None]
        if missing:
            raise SizingError(
                f"a budget needs a price for every material; none for {', '.join(missing)}",
                hint="give --price EUR/t (or --price MATERIAL=EUR/t for each)",
            )


def size_stocks(
    items: Sequence[SizingItem],
    confidence: float,
    horizon_months: int,
    *,
    holding_cost: float = 0.02,
    budget_eur: float | None = None,
    time_limit_s: float = 30.0,
    mip_gap: float = 1e-4,
    steps: int = 100,
) -> SizingSolution:
    """Solve the sizing MILP (module docstring) with HiGHS (``scipy.optimize.milp``).

    ``steps``: how finely a binding budget may cut an item's coverage (levels at every
    1/``steps`` of its target runs; the top level is always the α-quantile itself);
    ``mip_gap``: HiGHS's relative MIP gap; ``time_limit_s``: HiGHS's time limit."""
    check_confidence(confidence)
    if horizon_months < 1:
        raise SizingError(f"horizon {horizon_months} months must be at least 1")
    if not (math.isfinite(holding_cost) and holding_cost >= 0):
        raise SizingError(
            f"holding cost {holding_cost} must be a fraction of the price per year, at least 0",
            hint="e.g. --holding-cost 0.02 (2 % a year)",
        )
    _check_items(items, budget_eur)
    hold = holding_cost * horizon_months / 12.0
    levels = [_levels(item.shortfall_t, confidence, steps) for item in items]
    prices = np.array([i.price_eur_t if i.price_eur_t is not None else 1.0 for i in items])
    widths = [np.diff(v, prepend=0.0) for v, _g, _f, _q in levels]
    target_cost = np.array(
        [
            p * (max(0.0, q - it.held_t) + hold * q)
            for p, it, (_v, _g, _f, q) in zip(prices, items, levels, strict=True)
        ]
    )
    runs = np.array([len(i.shortfall_t) for i in items])
    n_y = np.array([len(v) for v, *_ in levels])
    offsets = np.concatenate([[0], np.cumsum(n_y)])
    total_y, n_items = int(offsets[-1]), len(items)
    n_var = total_y + n_items  # y levels, then b (tonnes to buy) per item

    scale = max(float(target_cost.sum()), 1e-9)
    gains = [it.weight * g / s for it, (_v, g, _f, _q), s in zip(items, levels, runs, strict=True)]
    smallest = min((float(g.min()) for g in gains if len(g)), default=1.0)
    eps = 0.01 * smallest
    c = np.zeros(n_var)
    cost_row = np.zeros(n_var)
    for k in range(n_items):
        sl = slice(offsets[k], offsets[k + 1])
        cost_row[sl] = prices[k] * hold * widths[k]
        cost_row[total_y + k] = prices[k]
        c[sl] = -gains[k]
    c += eps * cost_row / scale

    rows, cols, vals, lower, upper = [], [], [], [], []
    r = 0
    for k in range(n_items):
        start = offsets[k]
        for m in range(n_y[k] - 1):  # y_km − y_k,m+1 ≥ 0
            rows += [r, r]
            cols += [start + m, start + m + 1]
            vals += [1.0, -1.0]
            lower.append(0.0)
            upper.append(np.inf)
            r += 1
        # b_k − x_k ≥ −held_k
        rows += [r] * (n_y[k] + 1)
        cols += [*range(start, start + n_y[k]), total_y + k]
        vals += [*(-widths[k]), 1.0]
        lower.append(-items[k].held_t)
        upper.append(np.inf)
        r += 1
    if budget_eur is not None:
        nz = np.flatnonzero(cost_row)
        rows += [r] * len(nz)
        cols += nz.tolist()
        vals += cost_row[nz].tolist()
        lower.append(-np.inf)
        upper.append(budget_eur)
        r += 1
    matrix = sparse.csr_array((vals, (rows, cols)), shape=(r, n_var))
    integrality = np.concatenate([np.ones(total_y), np.zeros(n_items)])
    ub = np.concatenate([np.ones(total_y), np.full(n_items, np.inf)])
    started = time.perf_counter()
    result = milp(
        c,
        constraints=[LinearConstraint(matrix, lower, upper)] if r else [],
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), ub),
        options={"time_limit": time_limit_s, "mip_rel_gap": mip_gap},
    )
    seconds = time.perf_counter() - started
    if result.x is None:
        raise SizingError(f"HiGHS found no solution: {result.message}")
    y = np.rint(result.x[:total_y])
    sized: list[ItemSizing] = []
    for k, item in enumerate(items):
        quantile = levels[k][3]
        chosen = y[offsets[k] : offsets[k + 1]]
        stock = float(widths[k] @ chosen)
        buy = max(0.0, stock - item.held_t)
        samples = np.maximum(item.shortfall_t, 0.0)
        covered = int((samples <= stock + 1e-9 * max(1.0, stock)).sum())
        priced = item.price_eur_t is not None
        sized.append(
            ItemSizing(
                material=item.material,
                importer=item.importer,
                weight=item.weight,
                stock_t=stock,
                buy_t=buy,
                held_t=item.held_t,
                target_t=quantile,
                runs=int(runs[k]),
                runs_covered=covered,
                share_runs_covered=float(covered / runs[k]),
                share_shortfall_covered=shortfall_covered(samples, stock),
                mean_shortfall_t=float(samples.mean()),
                cost_eur=float(prices[k] * (buy + hold * stock)) if priced else None,
                target_cost_eur=float(target_cost[k]) if priced else None,
            )
        )
    all_priced = all(i.price_eur_t is not None for i in items)
    cost = sum(s.cost_eur or 0.0 for s in sized) if all_priced else None
    full = float(target_cost.sum()) if all_priced else None
    binding = budget_eur is not None and full is not None and full > budget_eur * (1 + 1e-9)
    return SizingSolution(
        items=tuple(sized),
        confidence=confidence,
        horizon_months=horizon_months,
        holding_cost=holding_cost,
        budget_eur=budget_eur,
        cost_eur=cost,
        target_cost_eur=full,
        budget_binding=binding,
        model=ModelSize(n_var, total_y, r, int(matrix.nnz)),
        solve_seconds=seconds,
        solver=f"HiGHS (scipy {_scipy_version()} milp): {result.message}",
    )


def shortfall_covered(samples: np.ndarray, stock_t: float) -> float | None:
    """Share of the samples' shortfall tonnes a stock of ``stock_t`` covers,
    Σ min(x, s) / Σ s; None when no run is short."""
    total = float(samples.sum())
    return float(np.minimum(samples, stock_t).sum() / total) if total > 0 else None


def _scipy_version() -> str:
    import scipy

    return str(scipy.__version__)


def cost_curve(
    item: SizingItem, horizon_months: int, holding_cost: float, points: int = 41
) -> list[CurvePoint]:
    """Stock level against the share of shortfall covered and the share of runs fully
    covered, from no stock to the largest sample (``points`` levels, evenly spaced in the share
    of runs, plus both ends); cost (purchase plus holding) None without a price."""
    samples = np.sort(np.maximum(item.shortfall_t, 0.0))
    picks = np.unique(np.linspace(0, len(samples) - 1, max(2, points)).round().astype(int))
    levels = np.unique(np.concatenate([[0.0], samples[picks]]))
    hold = holding_cost * horizon_months / 12.0
    curve = []
    for stock in levels:
        cost = None
        if item.price_eur_t is not None:
            cost = item.price_eur_t * (max(0.0, stock - item.held_t) + hold * stock)
        curve.append(
            CurvePoint(
                stock_t=float(stock),
                share_shortfall_covered=shortfall_covered(samples, float(stock)),
                share_runs_covered=float((samples <= stock).mean()),
                cost_eur=cost,
            )
        )
    return curve
