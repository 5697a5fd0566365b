"""The trade networks and production sources that origin tracing solves (reads the store).

:mod:`critmat.indicators.origins` holds the maths; this module builds its inputs from the
canonical tables and runs it, for one question (:func:`trace_stage`) or for every material
stage, year and importer at once (:func:`origins_all`, part of the full refresh).

* **Goods and origin stage.** A catalogue stage's HS92 codes are the traded goods (tonnes of all
  its codes added, flows without a quantity left out). Their origin is the stage's own
  production series when it has one; otherwise the nearest earlier stage of the material that
  has one (the catalogue lists stages in value-chain order): cobalt mattes and unwrought cobalt
  (``intermediate``) are traced to the countries that *mined* the cobalt.
* **Network.** Every flow of those codes between any two countries in the year (the trade of
  the whole world, not only the importer's), from the ``trade`` table (BACI HS92).
* **Source term.** Production by country of the origin stage and year
  (:func:`critmat.indicators.stage_production.stage_production_all`: each year from the first
  series of the stage's preference order). The publisher's "other countries" (ROW) have no
  node in the network: their exports show as unattributed.
* **Importers.** EU27 as one economy (its members' imports from outside the EU; flows between
  members stay in the network but are not imports of the EU), or one country (imports from
  every partner, other Member States included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.origins import (
    UNATTRIBUTED,
    ExporterSystem,
    OriginSolution,
    TracedImports,
    importer_imports,
    imports_into,
    single_blas_thread,
    solve_many,
    solve_network,
)
from critmat.indicators.stage_production import stage_production_all
from critmat.reference.materials import Material, Stage

#: Columns of :func:`origins_all`.
ORIGIN_COLUMNS = (
    "material_id",
    "stage",
    "origin_stage",
    "year",
    "importer",
    "origin",
    "quantity_t",
    "share",
    "production_series",
    "production_release_id",
)


@dataclass(frozen=True)
class TracedStage:
    """Which goods are traced to which production: ``stage``'s HS92 ``hs_codes`` to the
    producers of ``origin_stage`` (the stage itself or the nearest earlier one with a series)."""

    material_id: str
    stage: str
    hs_codes: tuple[str, ...]
    origin_stage: str


def origin_stage_of(material: Material, stage: Stage) -> Stage | None:
    """The stage whose producers are the origin of ``stage``'s goods: the stage itself when it
    has production series, else the nearest earlier stage that has; ``None`` when none has."""
    chosen: Stage | None = None
    for candidate in material.stages:
        if candidate.production:
            chosen = candidate
        if candidate.name == stage.name:
            return chosen
    return None


def traced_stages(materials: Iterable[Material]) -> list[TracedStage]:
    """Every stage with HS92 codes and an origin stage, in catalogue order."""
    out = []
    for material in materials:
        for stage in material.stages:
            origin = origin_stage_of(material, stage)
            if stage.hs_codes and origin is not None:
                out.append(TracedStage(material.id, stage.name, stage.hs_codes, origin.name))
    return out


@dataclass(frozen=True)
class TradeNetworks:
    """Trade rows with a quantity, as numpy columns indexed by (HS6 code, year).

    ``countries`` is the code table of ``exporter`` and ``importer`` (integer positions).
    """

    countries: np.ndarray
    exporter: np.ndarray
    importer: np.ndarray
    quantity_t: np.ndarray
    positions: Mapping[tuple[str, int], np.ndarray]

    def years_of(self, hs_codes: Iterable[str]) -> list[int]:
        """Years with at least one flow of one of ``hs_codes``."""
        codes = set(hs_codes)
        return sorted({year for code, year in self.positions if code in codes})

    def nodes(self, hs_codes: Iterable[str], year: int) -> Network | None:
        """The network of the codes in ``year`` (codes added); ``None`` without flows."""
        found = [self.positions[key] for c in hs_codes if (key := (c, int(year))) in self.positions]
        if not found:
            return None
        rows = np.concatenate(found) if len(found) > 1 else found[0]
        exporter, importer = self.exporter[rows], self.importer[rows]
        nodes, local = np.unique(np.concatenate([exporter, importer]), return_inverse=True)
        size = len(nodes)
        flat = local[: len(rows)] * size + local[len(rows) :]
        flows = np.bincount(flat, weights=self.quantity_t[rows], minlength=size * size)
        countries = tuple(self.countries[nodes].tolist())
        return Network(nodes, countries, flows.reshape(size, size))

    def network(
        self, hs_codes: Iterable[str], year: int
    ) -> tuple[tuple[str, ...], np.ndarray] | None:
        """``(countries, flows_t)`` of the codes in ``year``: the countries with a flow and the
        tonnes ``flows_t[j, i]`` j shipped to i (codes added); ``None`` without flows."""
        found = self.nodes(hs_codes, year)
        return None if found is None else (found.countries, found.flows_t)


@dataclass(frozen=True)
class Network:
    """One product-year network: ``ids`` the nodes' positions in :attr:`TradeNetworks.countries`,
    ``countries`` their ISO3 codes, ``flows_t[j, i]`` tonnes j shipped to i."""

    ids: np.ndarray
    countries: tuple[str, ...]
    flows_t: np.ndarray


def read_trade(
    con: duckdb.DuckDBPyConnection,
    hs_codes: Iterable[str],
    years: Iterable[int] | None = None,
) -> TradeNetworks:
    """Every ``trade`` row of ``hs_codes`` (and ``years``; all when ``None``) with a quantity.

    DuckDB numbers the countries and orders the rows by (code, year), so that only numbers
    cross into numpy and each (code, year) is one slice."""
    params = {
        "codes": sorted(set(hs_codes)),
        "years": None if years is None else sorted({int(y) for y in years}),
    }
    picked = """
        SELECT hs6, year, exporter, importer, quantity_t FROM trade
        WHERE quantity_t > 0 AND list_contains($codes, hs6)
          AND ($years IS NULL OR list_contains($years, year))
    """
    numbered = f"""
        WITH picked AS ({picked}),
        ids AS (
            SELECT country, row_number() OVER (ORDER BY country) - 1 AS id FROM (
                SELECT exporter AS country FROM picked UNION SELECT importer FROM picked
            )
        )
    """
    countries = con.execute(f"{numbered} SELECT country FROM ids ORDER BY id", params).fetchall()
    rows = con.execute(
        f"""{numbered}
        SELECT e.id AS exporter, i.id AS importer, p.quantity_t
        FROM picked p JOIN ids e ON e.country = p.exporter JOIN ids i ON i.country = p.importer
        ORDER BY p.hs6, p.year
        """,
        params,
    ).fetchnumpy()
    groups = con.execute(
        f"WITH picked AS ({picked}) "
        "SELECT hs6, year, count(*) FROM picked GROUP BY ALL ORDER BY hs6, year",
        params,
    ).fetchall()
    bounds = np.cumsum([0] + [int(g[2]) for g in groups])
    positions = {
        (str(g[0]), int(g[1])): np.arange(bounds[k], bounds[k + 1]) for k, g in enumerate(groups)
    }
    return TradeNetworks(
        countries=np.array([c[0] for c in countries], dtype=object),
        exporter=np.asarray(rows["exporter"], dtype=np.int64),
        importer=np.asarray(rows["importer"], dtype=np.int64),
        quantity_t=np.asarray(rows["quantity_t"], dtype=float),
        positions=positions,
    )


@dataclass(frozen=True)
class Source:
    """Production of one origin stage and year: tonnes by country and where they come from."""

    tonnes: dict[str, float]
    series: str
    release_id: str

    @property
    def label(self) -> tuple[str, str]:
        """``(series, release id)``."""
        return self.series, self.release_id


def production_sources(production: pd.DataFrame) -> dict[tuple[str, str, int], Source]:
    """:func:`stage_production_all` rows as sources by (material id, stage, year); rows without
    a quantity (withheld, not available) and the publisher's ROW are left out."""
    known = production.loc[production["quantity_t"].notna() & (production["country"] != "ROW")]
    countries = known["country"].astype(str).tolist()
    tonnes = known["quantity_t"].astype(float).tolist()
    series = known["series"].astype(str).tolist()
    releases = known["release_id"].astype(str).tolist()
    keys = zip(
        known["material_id"].astype(str), known["stage"].astype(str), known["year"], strict=True
    )
    out: dict[tuple[str, str, int], Source] = {}
    for row, (material_id, stage, year) in enumerate(keys):
        key = (material_id, stage, int(year))
        found = out.get(key)
        if found is None:
            found = out[key] = Source({}, series[row], releases[row])
        found.tonnes[countries[row]] = found.tonnes.get(countries[row], 0.0) + tonnes[row]
    return out


def solve_with(countries: tuple[str, ...], flows_t: np.ndarray, source: Source) -> OriginSolution:
    """Solve one network with one production source (NaN where a country has no figure)."""
    production = np.array([source.tonnes.get(c, np.nan) for c in countries], dtype=float)
    return solve_network(countries, flows_t, production)


def _origin_rows(
    solution: OriginSolution, imports: np.ndarray, active: np.ndarray, traced: TracedImports
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(importer position, origin label, tonnes, share)`` arrays of the importers ``active``
    (columns of ``imports`` with imports), from their traced imports."""
    totals = imports.sum(axis=0)[active]
    table = np.vstack([traced.by_origin_t, traced.unknown_t[None, :]])
    kept_row, kept_col = np.nonzero(table > 1e-9 * totals[None, :])
    order = np.lexsort((kept_row, kept_col))  # by importer, then origin node
    kept_row, kept_col = kept_row[order], kept_col[order]
    labels = np.array((*solution.countries, UNATTRIBUTED), dtype=object)
    amounts = table[kept_row, kept_col]
    return active[kept_col], labels[kept_row], amounts, amounts / totals[kept_col]


def origins_all(
    con: duckdb.DuckDBPyConnection,
    materials: Sequence[Material],
    importers: Sequence[ImporterSet],
    production: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Imports by country of origin for every traced stage, year with production and trade,
    and importer: columns :data:`ORIGIN_COLUMNS` (``origin`` is ISO3 or ``"unattributed"``;
    ``share`` of the importer's imports of the stage's goods in tonnes, summing to 1).

    ``production`` is :func:`stage_production_all` of ``materials`` (read when ``None``).
    """
    stages = traced_stages(materials)
    table = stage_production_all(con, materials) if production is None else production
    sources = production_sources(table)
    years = sorted({key[2] for key in sources})
    trade = read_trade(con, {c for s in stages for c in s.hs_codes}, years)
    member = np.array([[c in s.members for s in importers] for c in trade.countries], bool)
    member = member.reshape(len(trade.countries), len(importers))
    networks: list[tuple[OriginSolution, np.ndarray, np.ndarray, ExporterSystem]] = []
    labels: list[tuple[str, str, str, int, str, str]] = []
    with single_blas_thread():
        for traced in stages:
            for year in years:
                source = sources.get((traced.material_id, traced.origin_stage, year))
                network = trade.nodes(traced.hs_codes, year) if source is not None else None
                if source is None or network is None:
                    continue
                solution = solve_with(network.countries, network.flows_t, source)
                imports = imports_into(solution, member[network.ids])
                active = np.flatnonzero(imports.sum(axis=0) > 0)
                if not len(active):
                    continue
                system = solution.exporter_system(imports[:, active])
                networks.append((solution, imports, active, system))
                labels.append(
                    (traced.material_id, traced.stage, traced.origin_stage, year, *source.label)
                )
        solved = solve_many([network[3] for network in networks])
    parts = [
        _origin_rows(solution, imports, active, solution.traced(system, z))
        for (solution, imports, active, system), z in zip(networks, solved, strict=True)
    ]
    counts = [len(part[0]) for part in parts]
    names = np.array([s.name for s in importers], dtype=object)

    def repeated(position: int) -> np.ndarray:
        return np.repeat(np.array([label[position] for label in labels], dtype=object), counts)

    def joined(position: int) -> np.ndarray:
        return np.concatenate([part[position] for part in parts]) if parts else np.array([])

    frame = pd.DataFrame(
        {
            "material_id": repeated(0),
            "stage": repeated(1),
            "origin_stage": repeated(2),
            "year": repeated(3).astype(int),
            "importer": names[joined(0).astype(int)],
            "origin": joined(1),
            "quantity_t": joined(2).astype(float),
            "share": joined(3).astype(float),
            "production_series": repeated(4),
            "production_release_id": repeated(5),
        },
        columns=list(ORIGIN_COLUMNS),
    )
    return frame


@dataclass(frozen=True)
class StageOrigins:
    """One importer's imports of one material stage in one year, by shipping country and by
    country of origin (tonnes; see the module docstring for what is traced to what).

    ``by_shipping`` and ``by_origin`` have columns ``country, quantity_t, share`` (largest
    first; ``by_origin`` ends with ``"unattributed"`` when some origin is unknown);
    ``unattributed_via`` says where the tonnes of unknown origin entered the network (countries
    exporting more than they produced and imported), ``credited`` which producers were credited
    with exports above their recorded production. ``missing_quantity_value_share`` is the share
    of the import value whose flows have no quantity (left out of the tonnes).
    """

    material_id: str
    stage: str
    origin_stage: str
    year: int
    importer: ImporterSet
    hs_codes: tuple[str, ...]
    imports_t: float
    by_shipping: pd.DataFrame
    by_origin: pd.DataFrame
    unattributed_t: float
    unattributed_via: pd.DataFrame
    credited: pd.DataFrame
    production_series: str
    production_release_id: str
    missing_quantity_value_share: float | None


def _ranked(labels: Sequence[str], tonnes: np.ndarray, total: float) -> pd.DataFrame:
    """Rows with tonnes above zero, largest first (ties: code), with shares of ``total``."""
    frame = pd.DataFrame({"country": list(labels), "quantity_t": np.asarray(tonnes, float)})
    frame = frame.loc[frame["quantity_t"] > 1e-9 * max(total, 1.0)]
    frame = frame.sort_values(["quantity_t", "country"], ascending=[False, True])
    frame["share"] = frame["quantity_t"] / total if total > 0 else np.nan
    return frame.reset_index(drop=True)


def traced_years_all(
    con: duckdb.DuckDBPyConnection, material: Material
) -> dict[str, tuple[Stage | None, list[int]]]:
    """For each stage of ``material``: its origin stage and the years with both the origin
    stage's production and trade flows of the stage's codes (one read of each)."""
    produced = stage_production_all(con, [material])
    known = produced.loc[produced["quantity_t"].notna()]
    with_source: dict[str, set[int]] = {}
    for stage_name, year in zip(known["stage"], known["year"], strict=True):
        with_source.setdefault(str(stage_name), set()).add(int(year))
    rows = con.execute(
        "SELECT DISTINCT hs6, year FROM trade WHERE quantity_t > 0 AND list_contains(?, hs6)",
        [list(material.hs_codes)],
    ).fetchall()
    traded: dict[str, set[int]] = {}
    for code, year in rows:
        traded.setdefault(str(code), set()).add(int(year))
    out: dict[str, tuple[Stage | None, list[int]]] = {}
    for stage in material.stages:
        origin = origin_stage_of(material, stage)
        years: set[int] = set()
        for code in stage.hs_codes:
            years |= traded.get(code, set())
        source = with_source.get(origin.name, set()) if origin is not None else set()
        out[stage.name] = (origin, sorted(years & source))
    return out


def trace_stage(
    con: duckdb.DuckDBPyConnection,
    material: Material,
    stage: Stage,
    year: int,
    importer: ImporterSet,
) -> StageOrigins | None:
    """Trace ``importer``'s imports of ``stage``'s goods in ``year`` to their origins;
    ``None`` when the stage has no origin stage, no production or no trade that year."""
    origin = origin_stage_of(material, stage)
    if origin is None or not stage.hs_codes:
        return None
    produced = stage_production_all(con, [material], [year])
    source = production_sources(produced).get((material.id, origin.name, int(year)))
    network = read_trade(con, stage.hs_codes, [year]).network(stage.hs_codes, year)
    if source is None or network is None:
        return None
    with single_blas_thread():
        solution = solve_with(*network, source)
        imports = importer_imports(solution, importer.members)
        total = float(imports.sum())
        traced = solution.origins_of(imports)
    labels = list(solution.countries)
    by_origin = _ranked([*labels, UNATTRIBUTED], np.append(traced.by_origin_t, 0.0), total)
    unknown = float(traced.unknown_t)
    if unknown > 1e-9 * max(total, 1.0):
        extra = pd.DataFrame(
            {"country": [UNATTRIBUTED], "quantity_t": [unknown], "share": [unknown / total]}
        )
        by_origin = pd.concat([by_origin, extra], ignore_index=True)
    value = import_flows(con, [importer], stage.hs_codes, [year])
    value_total = float(value["value_kusd"].sum())
    missing = float(value["value_kusd_no_quantity"].sum()) / value_total if value_total else None
    return StageOrigins(
        material_id=material.id,
        stage=stage.name,
        origin_stage=origin.name,
        year=int(year),
        importer=importer,
        hs_codes=tuple(stage.hs_codes),
        imports_t=total,
        by_shipping=_ranked(labels, imports, total),
        by_origin=by_origin,
        unattributed_t=unknown,
        unattributed_via=_ranked(labels, traced.unattributed_t, total),
        credited=_ranked(labels, traced.credited_t, total),
        production_series=source.series,
        production_release_id=source.release_id,
        missing_quantity_value_share=missing,
    )
