"""Full refresh: every indicator for every material, stage, year and importer at once.

This is what the report (and later the service's cache) reads. It runs a handful of set-based
queries rather than one query per material, so a full refresh over the default data takes about
a second (see ``benchmarks/indicators.py``). Origin tracing
(:func:`critmat.indicators.origin_networks.origins_all`: every traced stage, year and importer)
is part of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb
import pandas as pd

from critmat.indicators.consumption import apparent_consumption_many
from critmat.indicators.imports import (
    BASES,
    ImporterSet,
    import_flows,
    sources_and_concentration,
)
from critmat.indicators.origin_networks import origins_all
from critmat.indicators.production import production_concentration, production_shares
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.indicators.restrictions import exposure_from_sources, restriction_sources
from critmat.indicators.stage_production import stage_production_all
from critmat.indicators.unit_values import unit_values
from critmat.reference.countries import group_members
from critmat.reference.materials import Catalogue, Material
from critmat.reference.restrictions import Restriction


def default_importers() -> list[ImporterSet]:
    """EU27 as one economy, then each Member State."""
    eu = group_members("EU27")
    return [ImporterSet("EU27", eu, inside_eu=True)] + [
        ImporterSet.country(iso3, eu) for iso3 in sorted(eu)
    ]


def stage_code_groups(materials: Sequence[Material]) -> dict[str, tuple[str, ...]]:
    """``"material/stage"`` → HS6 codes, for every catalogued stage that has codes."""
    return {f"{m.id}/{s.name}": s.hs_codes for m in materials for s in m.stages if s.hs_codes}


#: The text columns of :func:`import_flows` that the refresh hands on as categories.
_CODED = ("hs6", "importer", "origin")


def with_categories(flows: pd.DataFrame) -> pd.DataFrame:
    """``flows`` with its country and code columns as pandas categories: DuckDB reads them as
    ENUMs and returns categories, so grouping, sorting and the results' conversion to pandas
    handle small integers instead of strings (about a third less CPU time for the indicators
    built from the flows; the figures are the same)."""
    return flows.astype({c: "category" for c in _CODED if c in flows.columns})


def plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its categorical columns, and the object columns that merging them left
    holding text, back as text: the dtypes the string path gives."""
    coded = [
        c
        for c in frame.columns
        if isinstance(frame[c].dtype, pd.CategoricalDtype)
        or (frame[c].dtype == object and pd.api.types.infer_dtype(frame[c]) == "string")
    ]
    return frame.astype(dict.fromkeys(coded, str)) if coded else frame


def exposure_both_bases(
    flows: pd.DataFrame,
    importers: Sequence[ImporterSet],
    restrictions: Sequence[Restriction],
    eu_members: Iterable[str],
) -> pd.DataFrame:
    """:func:`~critmat.indicators.restrictions.exposure_series` on both bases (column
    ``basis``), from the flows grouped by restriction once (the grouping is the same for both)."""
    sources = restriction_sources(flows, restrictions)
    return pd.concat(
        [
            exposure_from_sources(sources, importers, restrictions, basis, eu_members).assign(
                basis=basis
            )
            for basis in BASES
        ],
        ignore_index=True,
    )


#: What a step of the refresh returns (a table, or two).
Result = TypeVar("Result")


@dataclass
class Indicators:
    """All indicator tables of one refresh (column meanings: the functions that built them).

    ``import_flows`` has imports by HS6 code, importer, year and origin (every code in the
    store); ``imports`` has one row per code group (``material/stage``), importer, year and
    basis; ``import_sources`` the origins behind it; ``consumption`` apparent consumption and import
    reliance per material, importer and year; ``exposure`` yearly restriction exposure;
    ``origins`` the importers' imports of each traced stage by country of origin (re-export
    correction, :func:`~critmat.indicators.origin_networks.origins_all`).
    """

    production: pd.DataFrame
    production_shares: pd.DataFrame
    import_flows: pd.DataFrame
    import_sources: pd.DataFrame
    imports: pd.DataFrame
    consumption: pd.DataFrame
    unit_values: pd.DataFrame
    exposure: pd.DataFrame
    origins: pd.DataFrame
    provenance: list[Provenance]
    timings: dict[str, float] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {
            name: len(getattr(self, name))
            for name in (
                "production",
                "production_shares",
                "import_sources",
                "imports",
                "consumption",
                "unit_values",
                "exposure",
                "origins",
            )
        }


def refresh_all(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    restrictions: Sequence[Restriction],
    importers: Sequence[ImporterSet] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Indicators:
    """Compute every indicator for all materials × years × importers (default: EU27 + MS)."""
    chosen = list(importers) if importers is not None else default_importers()
    eu = group_members("EU27")
    inside = {s.name: s.inside_eu for s in chosen}
    timings: dict[str, float] = {}

    def step(name: str, work: Callable[[], Result]) -> Result:
        if progress:
            progress(name)
        started = time.perf_counter()
        result = work()
        timings[name] = time.perf_counter() - started
        return result

    groups = stage_code_groups(catalogue.materials)
    # a query first: it completes any result a caller left unfetched on ``con``, which
    # DuckDB would otherwise refuse the flows' registration for
    prod = step("production", lambda: production_concentration(con))
    prod_shares = step("production shares", lambda: production_shares(con))
    flows = step("import flows", lambda: import_flows(con, chosen))
    # Production by stage takes hundreds of small queries, each giving up the GIL: read it
    # before the worker starts, which would hold the GIL in between.
    stage_table = step("stage production", lambda: stage_production_all(con, catalogue.materials))
    coded = with_categories(flows)
    restricted_codes = {code for r in restrictions for code in r.hs_codes}
    restricted = coded.loc[coded["hs6"].isin(restricted_codes)]  # filtered once for both bases

    def from_flows() -> tuple[pd.DataFrame, pd.DataFrame]:
        """Import sources and concentration, from the flows alone (scratch DuckDB, no ``con``)."""
        sources, imports = step(
            "import sources and concentration",
            lambda: sources_and_concentration(coded, groups, eu, inside),
        )
        return plain_text(sources), plain_text(imports)

    # Two threads: import sources and concentration on a worker while this thread reads the
    # store through ``con`` (which only it uses) and computes the rest; DuckDB and numpy's
    # LAPACK release the GIL while they work. The two halves take about the same CPU time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="refresh") as pool:
        trade_side = pool.submit(from_flows)
        consumption = step(
            "apparent consumption",
            lambda: apparent_consumption_many(con, chosen, catalogue.materials),
        )
        origins = step(
            "origin tracing", lambda: origins_all(con, catalogue.materials, chosen, stage_table)
        )
        uv = step("unit values", lambda: unit_values(flows))
        exposure = step(
            "restriction exposure",
            lambda: exposure_both_bases(restricted, chosen, restrictions, eu),
        )
        exposure = plain_text(exposure)
        sources, imports = trade_side.result()
    return Indicators(
        production=prod,
        production_shares=prod_shares,
        import_flows=flows,
        import_sources=sources,
        imports=imports,
        consumption=consumption,
        unit_values=uv,
        exposure=exposure,
        origins=origins,
        provenance=provenance_for(con, ["production"], prod["year"].unique().tolist())
        + provenance_for(con, ["trade"], flows["year"].unique().tolist()),
        timings=timings,
    )
