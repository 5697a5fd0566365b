"""The baseline a stress test starts from, read from the store (BACI trade, WMD production).

Axes (numpy): *origin* (every exporting or producing country in the data, ISO3, sorted) ×
*member* (the 27 Member States, sorted). EU27 is the Union as one economy: its supply from an
origin outside the EU is the sum over Member States (extra-EU trade only, as in
``docs/methods.md``), so the two views agree by construction.

- ``flows[o, m]``: tonnes per month that Member State m imports from origin o (all partners,
  including other Member States) = mean annual BACI quantity over the baseline years / 12;
- ``demand[i]``: tonnes per month for importer i in (EU27, Member States): apparent consumption
  (``P + M − X``, :func:`critmat.indicators.consumption.apparent_consumption`) where the stage
  is the one that matches the material's WMD series and the value is positive, else imports;
  ``baseline.demand`` in the scenario overrides either (t/year);
- ``other_exports[o]``: tonnes per month that a non-EU origin exports to destinations outside
  the EU (the pool from which it could redirect supply to the EU; zero for EU origins);
- ``world_output[o]``: WMD output per month where the stage matches the WMD series (NaN
  elsewhere), used to report how much of world output the shocks touch.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from critmat.errors import NoDataError
from critmat.indicators.consumption import apparent_consumption, consumption_pairs
from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.refresh import default_importers
from critmat.reference.countries import group_members
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.scenarios.spec import Scenario

__all__ = ["Baseline", "build_baseline"]


@dataclass(frozen=True)
class Baseline:
    """Baseline arrays of one material stage (see the module docstring for the axes)."""

    material: str
    stage: str
    hs_codes: tuple[str, ...]
    years: tuple[int, ...]
    origins: tuple[str, ...]
    members: tuple[str, ...]
    flows: np.ndarray  # origin × member, t/month
    demand: np.ndarray  # importer (EU27, members...), t/month
    demand_source: tuple[str, ...]  # per importer: apparent_consumption | imports | scenario
    other_exports: np.ndarray  # origin, t/month
    world_output: np.ndarray  # origin, t/month (NaN where no WMD series matches)
    commodity: str | None
    notes: tuple[str, ...] = ()

    @property
    def importers(self) -> tuple[str, ...]:
        return ("EU27", *self.members)

    @property
    def eu_origin(self) -> np.ndarray:
        eu = group_members("EU27")
        return np.array([o in eu for o in self.origins], dtype=bool)

    def imports(self) -> np.ndarray:
        """Baseline imports per importer (EU27 extra-EU, then each Member State), t/month."""
        extra = self.flows[~self.eu_origin].sum(axis=0)
        return np.concatenate([[extra.sum()], self.flows.sum(axis=0)])


def _stage(material: Material, name: str | None, codes_present: set[str]) -> Stage:
    """The stage a stress test runs on: the scenario's ``stage``, else the first catalogued
    stage with trade rows in the baseline years.

    This differs from the one stage rule
    (:meth:`~critmat.reference.materials.Catalogue.choose_stage`) on purpose: it does not
    prefer a stage whose HS codes no other material shares. The default is part of the
    scenario file format ("default the first stage with trade data", docs/stress-tests.md), so
    a scenario file, a library scenario or a saved run without ``stage`` keeps the stage it was
    written for; a scenario that wants another stage names it.
    """
    if name is not None:
        return material.stage(name)
    with_data = [s for s in material.stages if set(s.hs_codes) & codes_present]
    if not with_data:
        raise NoDataError(
            f"the trade data have no rows for any HS code of {material.name}",
            hint="import the full BACI with `critmat data import baci FILE`",
        )
    return with_data[0]


def _sums_in_order(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` added up per ``origin``, in the order of ``rows`` (sorted by the caller)."""
    return rows.groupby("origin", sort=True)[column].sum().reset_index()


def build_baseline(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> Baseline:
    """Read the baseline of ``scenario`` (material, stage, years, overrides) from the store."""
    material = load_catalogue().get(scenario.material)
    years = list(scenario.baseline.years)
    present = {
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT hs6 FROM trade WHERE list_contains($years, year)", {"years": years}
        ).fetchall()
    }
    custom = scenario.baseline.hs_codes
    stage = None if custom and scenario.stage is None else _stage(material, scenario.stage, present)
    wanted = custom or (stage.hs_codes if stage is not None else ())
    stage_name = stage.name if stage is not None else "HS " + ", ".join(wanted)
    codes = tuple(c for c in wanted if c in present)
    notes = [
        f"HS {c} has no trade rows in {'/'.join(map(str, years))} and is left out"
        for c in wanted
        if c not in present
    ]
    if not codes:
        raise NoDataError(
            f"no trade rows for HS {', '.join(wanted)} ({material.name}, {stage_name}) in "
            f"{'/'.join(map(str, years))}",
            hint="choose baseline years with trade data, or import the full BACI",
        )
    n_years = len(years)
    importers = default_importers()
    members = tuple(s.name for s in importers[1:])
    eu = group_members("EU27")

    # Sums are taken here, over rows in a fixed order: DuckDB's parallel scans and aggregates
    # return rows and add floats in an order that varies between runs, and the answers (and
    # the API's cached bytes) must not change in their last digits from one run to the next.
    flows_df = import_flows(con, [ImporterSet.country(m, eu) for m in members], codes, years)
    flows_df = flows_df.sort_values(["origin", "importer", "hs6", "year"], kind="stable")
    exports_df = _sums_in_order(
        con.execute(
            """
            SELECT exporter AS origin, coalesce(quantity_t, 0) AS t
            FROM trade
            WHERE list_contains($codes, hs6) AND list_contains($years, year)
              AND NOT list_contains($eu, importer) AND NOT list_contains($eu, exporter)
              AND importer <> exporter
            ORDER BY exporter, importer, hs6, year
            """,
            {"codes": list(codes), "years": years, "eu": sorted(eu)},
        ).df(),
        "t",
    )
    pairs = {s.name: c for c, s in consumption_pairs(material)}
    commodity = pairs.get(stage.name) if stage is not None else None
    output_df = pd.DataFrame(columns=["origin", "q"])
    if commodity is not None:
        output_df = con.execute(
            """
            SELECT country AS origin, quantity AS q FROM production
            WHERE commodity = $c AND list_contains($years, year) AND quantity IS NOT NULL
              AND unit IN ('metr. t', 't')
            ORDER BY country, year
            """,
            {"c": commodity, "years": years},
        ).df()
        output_df = output_df.groupby("origin", sort=True)["q"].mean().reset_index()

    origins = tuple(
        sorted(
            set(flows_df["origin"])
            | set(exports_df["origin"])
            | set(output_df["origin"])
            | set(members)
        )
    )
    o_index = {o: k for k, o in enumerate(origins)}
    m_index = {m: k for k, m in enumerate(members)}
    flows = np.zeros((len(origins), len(members)))
    quantities = np.nan_to_num(flows_df["quantity_t"].to_numpy(dtype=float), nan=0.0)
    for origin, importer, q in zip(
        flows_df["origin"], flows_df["importer"], quantities, strict=True
    ):
        flows[o_index[str(origin)], m_index[str(importer)]] += q / n_years / 12.0
    other_exports = np.zeros(len(origins))
    for origin, t in zip(exports_df["origin"], exports_df["t"].to_numpy(dtype=float), strict=True):
        other_exports[o_index[str(origin)]] = t / n_years / 12.0
    world_output = np.full(len(origins), np.nan)
    for origin, q in zip(output_df["origin"], output_df["q"].to_numpy(dtype=float), strict=True):
        world_output[o_index[str(origin)]] = q / 12.0

    eu_origin = np.array([o in eu for o in origins])
    imports = np.concatenate([[flows[~eu_origin].sum()], flows.sum(axis=0)])
    demand = imports.copy()
    source = ["imports"] * len(imports)
    if commodity is not None:
        ac = apparent_consumption(con, importers, commodity, codes, years)
        mean_ac = ac.groupby("importer")["apparent_consumption"].mean()
        for k, name in enumerate(("EU27", *members)):
            value = mean_ac.get(name)
            if value is not None and pd.notna(value) and value > 0:
                demand[k] = float(value) / 12.0
                source[k] = "apparent_consumption"
        notes.append(
            "demand = apparent consumption (WMD content + BACI gross weight: an estimate) where "
            "positive, else imports"
        )
    for k, name in enumerate(("EU27", *members)):
        if name in scenario.baseline.demand:
            demand[k] = scenario.baseline.demand[name] / 12.0
            source[k] = "scenario"
    return Baseline(
        material=material.id,
        stage=stage_name,
        hs_codes=codes,
        years=tuple(years),
        origins=origins,
        members=members,
        flows=flows,
        demand=demand,
        demand_source=tuple(source),
        other_exports=np.where(eu_origin, 0.0, other_exports),
        world_output=world_output,
        commodity=commodity,
        notes=tuple(notes),
    )
