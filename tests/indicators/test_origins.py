"""Origin tracing on hand-made networks, recomputed by a plain iterative propagation.

The propagation below follows the physical story, not the linear algebra of
:mod:`critmat.indicators.origins`: every round, each country's stock of material of each origin
is what it produced plus what it received, and it ships the same mix. Repeating until nothing
changes gives the origin mix of every country's supply, which the solved system must match.
"""

from __future__ import annotations

import numpy as np
import pytest

from critmat.indicators.origins import (
    OriginSolution,
    TracedImports,
    importer_imports,
    solve_many,
    solve_network,
)

NaN = float("nan")


def propagate(flows: np.ndarray, production: np.ndarray, rounds: int = 20000) -> np.ndarray:
    """Origin mix of each country's supply by repeated shipping (rows: country, cols: origin,
    last col: unknown origin), for networks where supply covers exports."""
    n = len(production)
    produced = np.nan_to_num(production)
    imports, exports = flows.sum(axis=0), flows.sum(axis=1)
    supply = produced + imports
    assert (exports <= supply + 1e-9).all(), "hand-made networks here balance"
    mix = np.zeros((n, n))  # tonnes of origin k in i's supply
    for _ in range(rounds):
        share = np.divide(mix, supply[:, None], out=np.zeros_like(mix), where=supply[:, None] > 0)
        received = flows.T @ share  # received[i, k] = Σ_j Z[j, i] share[j, k]
        updated = np.diag(produced) + received
        if np.allclose(updated, mix, rtol=0.0, atol=1e-12):
            break
        mix = updated
    return mix / supply[:, None]


def traced_into(
    flows: np.ndarray, production: list[float], importer: str = "EEE"
) -> tuple[OriginSolution, TracedImports]:
    """Solve a network of countries AAA, BBB, ... (the last named ``importer``) and trace the
    importer's imports."""
    countries = [f"{chr(65 + i)}{chr(65 + i)}{chr(65 + i)}" for i in range(len(production))]
    countries[-1] = importer
    solution = solve_network(countries, flows, np.array(production))
    return solution, solution.origins_of(importer_imports(solution, {importer}))


def test_transit_country_passes_on_the_origins_of_its_imports() -> None:
    # A mines 100 t and ships 60 t to B (no production); B ships 50 t to the importer E.
    flows = np.zeros((3, 3))
    flows[0, 1], flows[1, 2] = 60.0, 50.0
    _, traced = traced_into(flows, [100.0, NaN, NaN])
    assert traced.by_origin_t[0] == pytest.approx(50.0)  # all of it from A, none credited to T
    assert traced.by_origin_t[1] == pytest.approx(0.0)
    assert float(traced.unknown_t) == pytest.approx(0.0)


def test_transit_country_mixes_its_own_production_with_its_imports() -> None:
    # B produces 40 t and imports 60 t from A: its 50 t export is 60 % A, 40 % B.
    flows = np.zeros((3, 3))
    flows[0, 1], flows[1, 2] = 60.0, 50.0
    _, traced = traced_into(flows, [100.0, 40.0, NaN])
    assert traced.by_origin_t[0] == pytest.approx(30.0)
    assert traced.by_origin_t[1] == pytest.approx(20.0)


def test_closed_loop_is_solved_and_matches_the_iterative_propagation() -> None:
    # A produces, B and C refine and ship back and forth (a loop B <-> C), D imports.
    countries = ["AAA", "BBB", "CCC", "DDD"]
    flows = np.zeros((4, 4))
    flows[0, 1] = 80.0  # A -> B
    flows[1, 2] = 50.0  # B -> C
    flows[2, 1] = 30.0  # C -> B (closes the loop)
    flows[2, 3] = 25.0  # C -> D
    flows[1, 3] = 40.0  # B -> D
    production = np.array([100.0, 10.0, 5.0, NaN])
    solution = solve_network(countries, flows, production)
    shares, unknown = solution.origin_matrix()
    expected = propagate(flows, production)
    np.testing.assert_allclose(shares, expected, atol=1e-9)
    np.testing.assert_allclose(unknown, 0.0, atol=1e-12)
    np.testing.assert_allclose(shares.sum(axis=1)[:3], 1.0)


def test_mass_balance_origins_sum_to_imports_for_several_importers() -> None:
    rng = np.random.default_rng(7)
    n = 12
    flows = rng.uniform(0, 10, (n, n)) * (rng.uniform(size=(n, n)) < 0.4)
    production = np.where(rng.uniform(size=n) < 0.5, rng.uniform(0, 50, n), NaN)
    countries = [f"C{i:02d}" for i in range(n)]
    solution = solve_network(countries, flows, production)
    groups = [{"C00"}, {"C01", "C02", "C03"}, {"C11"}]
    imports = np.column_stack([importer_imports(solution, g) for g in groups])
    traced = solution.origins_of(imports)
    total = traced.by_origin_t.sum(axis=0) + traced.unknown_t
    np.testing.assert_allclose(total, imports.sum(axis=0))
    assert (traced.by_origin_t >= -1e-9).all()
    # members of a group never ship to it (intra-group flows are left out)
    assert imports[[1, 2, 3], 1].sum() == 0.0


def test_random_balanced_network_matches_the_propagation() -> None:
    rng = np.random.default_rng(11)
    n = 9
    production = rng.uniform(20, 100, n)
    production[[2, 5]] = NaN  # two pure transit countries
    raw = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.5)
    np.fill_diagonal(raw, 0.0)
    # scale exports to 40 % of what production alone could cover: supply covers exports
    flows = raw / raw.sum() * 0.4 * np.nansum(production) / n
    solution = solve_network([f"C{i}" for i in range(n)], flows, production)
    # the seeded draw is balanced (supply covers exports everywhere): the propagation's case
    assert not (solution.unattributed_t > 0).any() and not (solution.credited_t > 0).any()
    shares, _ = solution.origin_matrix()
    np.testing.assert_allclose(shares, propagate(flows, production), atol=1e-8)


def test_exports_without_production_or_imports_are_unattributed_never_dropped() -> None:
    # B exports 30 t to E with no production and no imports; A ships 20 t to E.
    flows = np.zeros((3, 3))
    flows[0, 2], flows[1, 2] = 20.0, 30.0
    _, traced = traced_into(flows, [100.0, NaN, NaN])
    assert traced.by_origin_t[0] == pytest.approx(20.0)
    assert traced.by_origin_t[1] == pytest.approx(0.0)
    assert float(traced.unknown_t) == pytest.approx(30.0)
    assert traced.unattributed_t[1] == pytest.approx(30.0)  # entered at B


def test_surplus_of_a_producer_is_credited_to_it() -> None:
    # A records 10 t of production but ships 40 t to E: the 30 t surplus is credited to A.
    flows = np.array([[0.0, 40.0], [0.0, 0.0]])
    solution, traced = traced_into(flows, [10.0, NaN])
    assert traced.by_origin_t[0] == pytest.approx(40.0)
    assert traced.produced_t[0] == pytest.approx(10.0)
    assert solution.credited_t[0] == pytest.approx(30.0)
    assert float(traced.unknown_t) == pytest.approx(0.0)


def test_circulation_no_source_reaches_is_unattributed() -> None:
    # A and B ship 10 t to each other, B 5 t to E; nothing is produced anywhere.
    flows = np.zeros((3, 3))
    flows[0, 1] = flows[1, 0] = 10.0
    flows[1, 2] = 5.0
    _, traced = traced_into(flows, [NaN, NaN, NaN])
    assert traced.by_origin_t.sum() == pytest.approx(0.0)
    assert float(traced.unknown_t) == pytest.approx(5.0)


def test_bad_shapes_and_negative_flows_are_refused() -> None:
    with pytest.raises(ValueError, match="3×3"):
        solve_network(["A", "B", "C"], np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="negative"):
        solve_network(["A", "B"], np.array([[0.0, -1.0], [0.0, 0.0]]), np.zeros(2))


def test_batched_solves_equal_one_solve_per_network() -> None:
    rng = np.random.default_rng(3)
    systems, expected = [], []
    for n in (3, 9, 17, 17, 30):
        flows = rng.uniform(0, 5, (n, n)) * (rng.uniform(size=(n, n)) < 0.5)
        production = np.where(rng.uniform(size=n) < 0.6, rng.uniform(1, 40, n), NaN)
        solution = solve_network([f"C{i:02d}" for i in range(n)], flows, production)
        imports = np.column_stack([importer_imports(solution, {"C00"}), flows[:, 1]])
        system = solution.exporter_system(imports)
        systems.append((solution, system))
        expected.append(solution.origins_of(imports).by_origin_t)
    solved = solve_many([system for _, system in systems])
    for (solution, system), z, wanted in zip(systems, solved, expected, strict=True):
        np.testing.assert_allclose(solution.traced(system, z).by_origin_t, wanted, atol=1e-10)
