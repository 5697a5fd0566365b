"""Origin tracing: an importer's imports by the country where the material was produced.

Trade statistics name the last shipping country. Re-export correction (Kastner, Kastner &
Nonhebel 2011, *Ecological Economics* 70(6):1032-1040, the method of trade-linked material
footprints) solves the trade network of one product and year as a linear system whose source
term is domestic production. For countries i = 1..n, with ``Z[j, i]`` the tonnes j exported to
i and ``p_i`` the tonnes i produced:

    x_i  = s_i + Σ_j Z[j, i]                    total supply = own sources + imports
    A[i, j] = Z[j, i] / x_j                       share of j's supply that goes to i
    (I − A) x = s                                 the balance of every country at once
    R = x̂⁻¹ (I − A)⁻¹ ŝ                           R[i, k]: share of i's supply produced in k

Each country's exports carry the origin mix of its total supply (proportionality); every row of
R sums to 1. An importer's imports ``m_j`` from each partner j decompose into origins as
``o = Σ_j m_j R[j, ·]``, computed without forming R: solve ``(I − A)ᵀ z = m / x`` and take
``o_k = z_k s_k`` (so Σ_k o_k = Σ_j m_j: mass balance holds exactly).

The source term ``s`` is production, plus two corrections that keep the system consistent:

* **surplus**: a country that exports more than its production plus imports (stocks drawn,
  production on another basis than the trade's gross weight, reporting gaps) gets the
  difference ``max(0, e_i − p_i − Σ_j Z[j, i])`` as extra source. When it has recorded
  production the surplus is credited to it (``credited_t``); when it has none the surplus is
  **unattributed** (``unattributed_t``): its origin is unknown, and it is never dropped;
* **circulation**: a set of countries that trade among themselves but that no source reaches
  would make ``I − A`` singular; their exports are unattributed too.

With these, every column of A sums to at most 1 and no closed set is without a source, so
``I − A`` is non-singular (an M-matrix): the system is solved directly (LU, numpy), not
iterated, and closed loops need no convergence tolerance. Only countries with a flow are in the
system (a few hundred at most), so dense LU is fast. Quantities are tonnes as traded (gross
weight of the HS codes) and as produced (the production series' unit, often metal content):
where the two differ, a producing country's own output weighs less against its imports than it
should, and its exports above production are credited to it as surplus.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UNATTRIBUTED = "unattributed"


@functools.cache
def _thread_local_blas_setter() -> Callable[[int], int] | None:
    """OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+) of numpy's bundled library,
    or ``None`` when numpy uses another BLAS."""
    bundled = Path(np.__file__).parent.parent / "numpy.libs"
    for library in sorted(bundled.glob("libscipy_openblas*.so*")):
        try:
            setter = ctypes.CDLL(str(library)).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
        return setter  # type: ignore[no-any-return]
    return None


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run numpy's linear algebra in the calling thread on one BLAS thread, then restore.

    The systems here are small (a hundred countries): OpenBLAS's threads cost more than they
    give, and on a busy machine their spinning quadrupled the CPU time of a full refresh's
    tracing (0.8 s against 3.9 s, measured). The setting is OpenBLAS's thread-local one, so
    other threads of the process keep theirs; where numpy has another BLAS nothing changes.
    """
    setter = _thread_local_blas_setter()
    previous = setter(1) if setter is not None else None
    try:
        yield
    finally:
        if setter is not None and previous is not None:
            setter(previous)


@dataclass(frozen=True)
class TracedImports:
    """Imports by the node where their source entered the network (tonnes; arrays shaped like
    the imports given to :meth:`OriginSolution.origins_of`).

    ``produced_t[k]``: produced in k (its recorded production); ``credited_t[k]``: credited to
    k as surplus over its production; ``unattributed_t[k]``: of unknown origin, entered at k (a
    country exporting more than it produced and imported). The three add up to the imports.
    """

    produced_t: np.ndarray
    credited_t: np.ndarray
    unattributed_t: np.ndarray

    @property
    def by_origin_t(self) -> np.ndarray:
        """Tonnes by country of origin: production plus credited surplus."""
        total: np.ndarray = self.produced_t + self.credited_t
        return total

    @property
    def unknown_t(self) -> np.ndarray:
        """Tonnes of unknown origin (summed over nodes; one value per importer column)."""
        total: np.ndarray = self.unattributed_t.sum(axis=0)
        return total


@dataclass(frozen=True)
class ExporterSystem:
    """``matrix · z = weights`` over the exporting nodes (``exporting``) of one solution; ``shape``
    is the shape of the full z (nodes, or nodes × importers)."""

    exporting: np.ndarray
    matrix: np.ndarray
    weights: np.ndarray
    shape: tuple[int, ...]


def solve_many(systems: Sequence[ExporterSystem], step: int = 16) -> list[np.ndarray]:
    """Solve many small systems (each ``weights`` a nodes × importers matrix) in a few batched
    LAPACK calls: grouped by size rounded up to ``step``, padded with identity rows and zero
    weights (which leave the solution unchanged). One call per group instead of one per system
    keeps a refresh from giving up the GIL hundreds of times while another thread works."""
    out: list[np.ndarray] = [np.empty(0)] * len(systems)
    groups: dict[tuple[int, int], list[int]] = {}
    for position, system in enumerate(systems):
        size = -(-max(len(system.matrix), 1) // step) * step
        groups.setdefault((size, system.weights.shape[1]), []).append(position)
    for (size, width), members in groups.items():
        matrices = np.broadcast_to(np.eye(size), (len(members), size, size)).copy()
        weights = np.zeros((len(members), size, width))
        for k, position in enumerate(members):
            n = len(systems[position].matrix)
            matrices[k, :n, :n] = systems[position].matrix
            weights[k, :n] = systems[position].weights
        solved = np.linalg.solve(matrices, weights)
        for k, position in enumerate(members):
            out[position] = solved[k, : len(systems[position].matrix)]
    return out


@dataclass(frozen=True)
class OriginSolution:
    """The solved trade network of one product and year (see the module docstring).

    ``countries`` label the nodes; ``flows_t[j, i]`` are tonnes from j to i; ``production_t``
    recorded production (0 where none is recorded), ``credited_t`` the surplus credited to
    producing countries, ``unattributed_t`` the source of unknown origin at each node,
    ``supply_t`` total supply x. ``has_production`` marks nodes with a production figure.
    """

    countries: tuple[str, ...]
    flows_t: np.ndarray
    production_t: np.ndarray
    has_production: np.ndarray
    credited_t: np.ndarray
    unattributed_t: np.ndarray
    supply_t: np.ndarray
    _system_t: np.ndarray  # (I − A)ᵀ

    @property
    def attributed_source_t(self) -> np.ndarray:
        """Source credited to each node as its own origin: production plus credited surplus."""
        total: np.ndarray = self.production_t + self.credited_t
        return total

    def index(self, country: str) -> int | None:
        """The node of ``country`` (ISO3), ``None`` when it has no flow in the network."""
        try:
            return self.countries.index(country)
        except ValueError:
            return None

    def exporter_system(self, imports_t: np.ndarray) -> ExporterSystem:
        """The system :meth:`origins_of` solves for ``imports_t``: only exporting nodes pass
        material on (for the others z = weights = 0) and the exporters' equations involve no
        other z, so their subsystem is solved alone."""
        supply = np.where(self.supply_t > 0, self.supply_t, 1.0)
        weights = imports_t / (supply[:, None] if imports_t.ndim == 2 else supply)
        exporting = self.flows_t.sum(axis=1) > 0
        inner = np.ix_(exporting, exporting)
        return ExporterSystem(exporting, self._system_t[inner], weights[exporting], weights.shape)

    def traced(self, system: ExporterSystem, solved: np.ndarray) -> TracedImports:
        """The imports split by source, from the solution ``solved`` of ``system``."""
        z = np.zeros(system.shape)
        z[system.exporting] = solved
        sources = np.column_stack([self.production_t, self.credited_t, self.unattributed_t])
        if z.ndim == 2:
            return TracedImports(*(z * sources[:, part, None] for part in range(3)))
        return TracedImports(*(z * sources[:, part] for part in range(3)))

    def origins_of(self, imports_t: np.ndarray) -> TracedImports:
        """Origins of imports ``imports_t[j]`` (tonnes from each node j; a matrix: one column per
        importer), split by the source that entered at each node (see :class:`TracedImports`)."""
        system = self.exporter_system(imports_t)
        return self.traced(system, np.linalg.solve(system.matrix, system.weights))

    def origin_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """``(R, r_u)``: ``R[i, k]`` the share of node i's supply produced in k and ``r_u[i]``
        the share of unknown origin (each row of R plus r_u sums to 1 for nodes with supply)."""
        inverse = np.linalg.inv(self._system_t.T)
        supply = np.where(self.supply_t > 0, self.supply_t, 1.0)[:, None]
        shares = inverse * self.attributed_source_t[None, :] / supply
        return shares, (inverse @ self.unattributed_t) / supply[:, 0]


def _reached_from_sources(flows_t: np.ndarray, source_t: np.ndarray) -> np.ndarray:
    """Nodes whose supply some source reaches along the flows (breadth-first, in numpy)."""
    linked = flows_t > 0
    reached = source_t > 0
    frontier = reached.copy()
    while frontier.any():
        step = linked[frontier].any(axis=0) & ~reached
        reached |= step
        frontier = step
    return reached


def solve_network(
    countries: Sequence[str], flows_t: np.ndarray, production_t: np.ndarray
) -> OriginSolution:
    """Solve the network ``flows_t[j, i]`` (tonnes j → i) with production ``production_t``
    (tonnes; NaN = no recorded production) for the origin of every node's supply.

    Raises ``ValueError`` for a negative flow or production, or mismatched shapes.
    """
    flows = np.array(flows_t, dtype=float)
    n = len(countries)
    if flows.shape != (n, n) or np.shape(production_t) != (n,):
        raise ValueError(f"flows must be {n}×{n} and production {n} long for {n} countries")
    np.fill_diagonal(flows, 0.0)
    recorded = np.asarray(production_t, dtype=float)
    has_production = ~np.isnan(recorded)
    production = np.where(has_production, recorded, 0.0)
    if (flows < 0).any() or (production < 0).any():
        raise ValueError("flows and production must not be negative")
    imports, exports = flows.sum(axis=0), flows.sum(axis=1)
    surplus = np.maximum(0.0, exports - production - imports)
    credited = np.where(has_production & (production > 0), surplus, 0.0)
    unattributed = surplus - credited
    unreached = ~_reached_from_sources(flows, production + surplus) & (exports > 0)
    unattributed = unattributed + np.where(unreached, exports, 0.0)
    supply = production + credited + unattributed + imports
    safe = np.where(supply > 0, supply, 1.0)
    technical = flows.T / safe[None, :]  # A[i, j] = Z[j, i] / x_j
    system_t = (np.eye(n) - technical).T
    return OriginSolution(
        countries=tuple(countries),
        flows_t=flows,
        production_t=production,
        has_production=has_production,
        credited_t=credited,
        unattributed_t=unattributed,
        supply_t=supply,
        _system_t=system_t,
    )


def imports_into(solution: OriginSolution, inside: np.ndarray) -> np.ndarray:
    """Tonnes each node ships into importer sets given as membership masks (``inside[j]``, or
    ``inside[j, s]`` for several sets): one economy per set, so flows between its members are
    left out, as in :func:`critmat.indicators.imports.import_flows`."""
    # einsum's own loop rather than BLAS: no GIL hand-over and no BLAS threads for these sizes
    mask = inside.astype(float)
    shipped: np.ndarray = np.einsum("ji,i...->j...", solution.flows_t, mask)
    return np.where(inside, 0.0, shipped)


def importer_imports(
    solution: OriginSolution, members: Sequence[str] | frozenset[str]
) -> np.ndarray:
    """Tonnes each node ships to the importer set ``members`` (:func:`imports_into`)."""
    return imports_into(solution, np.array([c in members for c in solution.countries], bool))
