"""The sizing MILP (critmat.stockpiles.sizing) against independent computations: the α-quantile
of the shortfall for one material, brute force over every level on tiny budgeted instances,
priority weights, and the errors for parameters it cannot run with."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmat.reference.sectors import SectorSplit
from critmat.stockpiles.sizing import (
    SizingError,
    SizingItem,
    cost_curve,
    material_weight,
    size_stocks,
)

HORIZON = 24


def _item(samples: list[float] | np.ndarray, **kw: object) -> SizingItem:
    return SizingItem(str(kw.pop("material", "cobalt")), "EU27", np.asarray(samples, float), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.999, 1.0])
def test_one_material_without_budget_is_the_alpha_quantile(confidence: float) -> None:
    rng = np.random.default_rng(7)
    samples = rng.gamma(2.0, 150.0, 1000) * (rng.random(1000) < 0.6)
    solution = size_stocks([_item(samples, price_eur_t=30_000.0)], confidence, HORIZON)
    sized = solution.items[0]
    assert sized.stock_t == pytest.approx(np.quantile(samples, confidence, method="inverted_cdf"))
    # the chance constraint: at most (1 − α)·S runs left short, and one level less would break it
    short = int((samples > sized.stock_t + 1e-9).sum())
    assert short <= (1 - confidence) * len(samples) + 1e-9
    below = samples[samples < sized.stock_t - 1e-9]
    if below.size:
        assert int((samples > below.max()).sum()) > (1 - confidence) * len(samples)
    assert sized.cost_eur == pytest.approx(30_000.0 * sized.stock_t * (1 + 0.02 * HORIZON / 12))


def _cost(items: list[SizingItem], stocks: tuple[float, ...], hold: float) -> float:
    """Purchase plus holding (EUR) of ``stocks``, nothing held before."""
    return sum((i.price_eur_t or 0.0) * x * (1 + hold) for i, x in zip(items, stocks, strict=True))


def _gain(items: list[SizingItem], stocks: tuple[float, ...]) -> float:
    """Σ weight × share of runs a stock covers."""
    return sum(
        i.weight * float((i.shortfall_t <= x).mean()) for i, x in zip(items, stocks, strict=True)
    )


def _brute_force(
    items: list[SizingItem], confidence: float, budget: float, hold: float
) -> tuple[float, ...]:
    """Every combination of sample values (or none) up to each item's target: the feasible one
    with the most weighted covered runs, then the least cost."""
    options = []
    for item in items:
        values = np.sort(item.shortfall_t)
        target = math.ceil(confidence * len(values) - 1e-9)
        options.append(sorted({0.0, *values[:target].tolist()}))
    best: tuple[float, float, tuple[float, ...]] | None = None
    for stocks in itertools.product(*options):
        cost = _cost(items, stocks, hold)
        if cost > budget + 1e-6:
            continue
        key = (round(_gain(items, stocks), 9), -cost, stocks)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return best[2]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 40), min_size=4, max_size=6),
            st.integers(1, 5),
            st.integers(1, 4),
        ),
        min_size=2,
        max_size=3,
    ),
    st.floats(0.1, 0.9),
    st.sampled_from([0.6, 0.8, 1.0]),
)
def test_budget_binding_matches_brute_force(
    spec: list[tuple[list[int], int, int]], budget_share: float, confidence: float
) -> None:
    items = [
        _item([float(v) for v in samples], material=f"m{k}", weight=float(w), price_eur_t=float(p))
        for k, (samples, w, p) in enumerate(spec)
    ]
    hold = 0.02 * HORIZON / 12
    full = size_stocks(items, confidence, HORIZON).cost_eur
    assert full is not None
    budget = max(full * budget_share, 1.0)
    solution = size_stocks(items, confidence, HORIZON, budget_eur=budget, mip_gap=0.0)
    expected = _brute_force(items, confidence, budget, hold)
    got = tuple(s.stock_t for s in solution.items)
    assert solution.cost_eur is not None and solution.cost_eur <= budget + 1e-6
    assert _gain(items, got) == pytest.approx(_gain(items, expected))
    assert solution.cost_eur == pytest.approx(_cost(items, expected, hold), rel=1e-6, abs=1e-6)
    shares = tuple(s.share_runs_covered for s in solution.items)
    assert shares == pytest.approx(
        tuple(float((i.shortfall_t <= x).mean()) for i, x in zip(items, got, strict=True))
    )


def test_priority_weight_moves_stock_to_the_weighted_material() -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(50, 150, 200)  # a run of a costs more to cover than a run of b
    b = rng.uniform(0, 100, 200)

    def stocks(weight_a: float, weight_b: float) -> tuple[float, float]:
        items = [
            _item(a, material="a", weight=weight_a, price_eur_t=1000.0),
            _item(b, material="b", weight=weight_b, price_eur_t=1000.0),
        ]
        full = size_stocks(items, 0.95, HORIZON).cost_eur
        assert full is not None
        found = size_stocks(items, 0.95, HORIZON, budget_eur=0.55 * full)
        assert found.budget_binding
        return found.items[0].stock_t, found.items[1].stock_t

    even_a, even_b = stocks(1.0, 1.0)
    heavy_a, heavy_b = stocks(3.0, 1.0)
    target_a = np.quantile(a, 0.95, method="inverted_cdf")
    assert even_a < target_a and even_b == pytest.approx(
        np.quantile(b, 0.95, method="inverted_cdf")
    )
    assert heavy_a > even_a and heavy_b < even_b


def test_stock_already_held_is_not_bought_again() -> None:
    samples = np.arange(1.0, 101.0)
    solution = size_stocks([_item(samples, price_eur_t=10.0, held_t=40.0)], 0.9, 12)
    sized = solution.items[0]
    assert sized.stock_t == pytest.approx(90.0)
    assert sized.buy_t == pytest.approx(50.0)
    assert sized.cost_eur == pytest.approx(10.0 * (50.0 + 0.02 * 90.0))


def test_cost_curve_is_monotone_and_reaches_full_cover() -> None:
    rng = np.random.default_rng(5)
    item = _item(rng.gamma(2.0, 10.0, 500), price_eur_t=100.0)
    curve = cost_curve(item, HORIZON, 0.02)
    assert curve[0].stock_t == 0.0 and curve[0].share_shortfall_covered == 0.0
    assert curve[-1].share_runs_covered == 1.0 and curve[-1].share_shortfall_covered == 1.0
    for before, after in itertools.pairwise(curve):
        assert after.stock_t > before.stock_t
        assert after.share_runs_covered >= before.share_runs_covered
        assert after.share_shortfall_covered >= before.share_shortfall_covered  # type: ignore[operator]
    no_short = cost_curve(_item([0.0, 0.0]), HORIZON, 0.02)
    assert no_short[0].share_shortfall_covered is None and no_short[0].cost_eur is None


def test_sector_weight_of_a_split() -> None:
    splits = [
        SectorSplit(
            "rare_earths", "magnets", "automotive and defence (not split)", 0.6, True, "s", ""
        ),
        SectorSplit("rare_earths", "other", "other", 0.3, True, "s", ""),
    ]
    weight, notes = material_weight("rare_earths", splits, {"defence": 3.0})
    assert weight == pytest.approx(0.1 + 0.6 * 3.0 + 0.3)
    assert "not split" in notes[0]
    assert material_weight("cobalt", splits, {"defence": 3.0})[0] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 0.0}, "outside (0, 1]"),
        ({"confidence": 1.5}, "outside (0, 1]"),
        ({"confidence": float("nan")}, "outside (0, 1]"),
        ({"budget_eur": -5.0}, "positive amount"),
        ({"budget_eur": 1e6, "price": None}, "needs a price"),
        ({"price": 0.0}, "must be above 0"),
        ({"weight": 0.0}, "weight 0.0 must be above 0"),
        ({"holding_cost": -0.1}, "at least 0"),
        ({"horizon_months": 0}, "at least 1"),
    ],
)
def test_impossible_parameters_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    price = kwargs.pop("price", 100.0)
    weight = kwargs.pop("weight", 1.0)
    item = _item([1.0, 2.0, 3.0], price_eur_t=price, weight=weight)
    args: dict[str, object] = {"confidence": 0.95, "horizon_months": 24, **kwargs}
    with pytest.raises(SizingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        size_stocks([item], **args)  # type: ignore[arg-type]
