"""Backtest: the engine's predicted change in EU imports from a restricting country, against BACI.

For each registry measure on goods (HS codes, a ban, suspension, quota or licensing regime) that
took effect before the end of the trade data:

- *before* = the calendar year before the effective date; *after* = the first calendar year
  wholly under the measure (the effective year when it started on 1 January, else the next
  one), or — when the data end earlier — the effective year itself, partly covered
  (``months_in_force`` < 12);
- the scenario: baseline = BACI *before* year over the measure's HS codes that have data; the
  measure turned into a shock (ban/suspension → ``export_ban``; licensing → ``export_licensing``
  with ``licensing_delay`` months without exports, then normal exports; quota → not modelled,
  the registry holds no quota fraction), from the effective month to ``ended``;
- predicted change = Σ_{months of *after*} modelled EU27 imports from the country /
  (12 × baseline monthly imports) − 1; observed change = BACI EU27 imports from the country in
  *after* / *before* − 1 (tonnes, extra-EU).

Measures without HS codes, on technology, export taxes, or without trade data after them are
listed with the reason they were left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from critmat.reference.countries import group_members
from critmat.reference.restrictions import Restriction, load_restrictions
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import Params, run
from critmat.scenarios.spec import BaselineSpec, Responses, Scenario, Shock

__all__ = ["BacktestResult", "backtest", "restriction_scenario"]

DEFAULT_LICENSING_DELAY = 2
_SHOCK = {
    "export_ban": "export_ban",
    "export_suspension": "export_ban",
    "export_licensing": "export_licensing",
}


@dataclass(frozen=True)
class BacktestResult:
    """``rows``: one row per tested measure; ``skipped``: ``id, reason``."""

    rows: pd.DataFrame
    skipped: pd.DataFrame
    licensing_delay: int


def _years(restriction: Restriction, last: int) -> tuple[int, int, int] | None:
    """(before, after, months in force during *after*), or None without data after it."""
    effective = restriction.effective
    if effective is None or effective.year > last:
        return None
    full = effective.year if (effective.month, effective.day) == (1, 1) else effective.year + 1
    after = full if full <= last else effective.year
    start = max(effective, date(after, 1, 1))
    end = (
        date(after, 12, 31)
        if restriction.ended is None
        else min(restriction.ended, date(after, 12, 31))
    )
    months = (
        max(0, (end.year - start.year) * 12 + end.month - start.month + 1) if end >= start else 0
    )
    return effective.year - 1, after, months


def restriction_scenario(
    restriction: Restriction, codes: tuple[str, ...], before: int, after: int, delay: int
) -> Scenario:
    """The scenario that stands for ``restriction``: month 0 = January of the effective year."""
    assert restriction.effective is not None
    effective = restriction.effective
    start_month = effective.month - 1
    horizon = (after - effective.year + 1) * 12
    duration = None
    if restriction.ended is not None:
        end = restriction.ended
        duration = max(1, (end.year - effective.year) * 12 + end.month - effective.month + 1)
    kind = _SHOCK[restriction.measure]
    shock = Shock(
        type=kind,  # type: ignore[arg-type]
        country=restriction.country,
        destinations="all" if restriction.targets_all else restriction.targets,
        delay_months=delay if kind == "export_licensing" else None,
        start_month=start_month,
        duration_months=duration,
        registry_id=restriction.id,
    )
    return Scenario(
        name=f"backtest-{restriction.id.lower()}",
        title=f"Backtest of {restriction.id}",
        material=restriction.materials[0],
        registry_ids=(restriction.id,),
        start=f"{effective.year:04d}-01",
        horizon_months=horizon,
        baseline=BaselineSpec(years=(before,), hs_codes=codes),
        shocks=(shock,),
        responses=Responses(spare_capacity_fraction=0.0, ramp_up_months=0),
    )


def _eu_imports(con: duckdb.DuckDBPyConnection, origin: str, codes: list[str], year: int) -> float:
    eu = sorted(group_members("EU27"))
    value = con.execute(
        """
        SELECT coalesce(sum(quantity_t), 0) FROM trade
        WHERE exporter = $o AND list_contains($eu, importer) AND list_contains($codes, hs6)
          AND year = $y
        """,
        {"o": origin, "eu": eu, "codes": codes, "y": year},
    ).fetchone()
    return float(value[0]) if value else 0.0


def backtest(
    con: duckdb.DuckDBPyConnection, licensing_delay: int = DEFAULT_LICENSING_DELAY
) -> BacktestResult:
    """Run every testable registry measure (see the module docstring)."""
    last_row = con.execute("SELECT max(year) FROM trade").fetchone()
    last = int(last_row[0]) if last_row and last_row[0] is not None else 0
    rows: list[dict[str, object]] = []
    skipped: list[dict[str, str]] = []
    for restriction in load_restrictions():
        if not restriction.hs_codes:
            skipped.append(
                {"id": restriction.id, "reason": "no HS codes (technology or equipment)"}
            )
            continue
        if restriction.measure not in _SHOCK:
            skipped.append({"id": restriction.id, "reason": f"{restriction.measure} not modelled"})
            continue
        years = _years(restriction, last)
        if years is None:
            skipped.append(
                {"id": restriction.id, "reason": f"effective after the trade data end ({last})"}
            )
            continue
        before, after, months = years
        present = con.execute(
            """
            SELECT DISTINCT hs6 FROM trade
            WHERE list_contains($codes, hs6) AND year IN ($b, $a)
            GROUP BY hs6 HAVING count(DISTINCT year) = 2
            """,
            {"codes": list(restriction.hs_codes), "b": before, "a": after},
        ).fetchall()
        codes = tuple(c for c in restriction.hs_codes if (c,) in present)
        if not codes:
            skipped.append(
                {
                    "id": restriction.id,
                    "reason": f"no trade rows for its HS codes in both {before} and {after}",
                }
            )
            continue
        scenario = restriction_scenario(restriction, codes, before, after, licensing_delay)
        baseline = build_baseline(con, scenario)
        result = run(scenario, baseline, Params.from_scenario(scenario))
        o = (
            baseline.origins.index(restriction.country)
            if restriction.country in baseline.origins
            else None
        )
        observed_before = _eu_imports(con, restriction.country, list(codes), before)
        observed_after = _eu_imports(con, restriction.country, list(codes), after)
        after_slice = slice((after - restriction.effective.year) * 12, None)  # type: ignore[union-attr]
        predicted_after = (
            float(result.eu_imports_by_origin[o, after_slice].sum()) if o is not None else 0.0
        )
        base_year = 12 * float(baseline.flows[o, :].sum()) if o is not None else 0.0
        predicted = predicted_after / base_year - 1 if base_year > 0 else np.nan
        observed = observed_after / observed_before - 1 if observed_before > 0 else np.nan
        rows.append(
            {
                "id": restriction.id,
                "country": restriction.country,
                "measure": restriction.measure,
                "targets": ";".join(restriction.targets),
                "hs_codes": ";".join(codes),
                "before": before,
                "after": after,
                "months_in_force": months,
                "eu_imports_before_t": observed_before,
                "predicted_after_t": predicted_after,
                "observed_after_t": observed_after,
                "predicted_change": predicted,
                "observed_change": observed,
                "error_pp": 100 * (predicted - observed),
            }
        )
    return BacktestResult(
        pd.DataFrame(rows), pd.DataFrame(skipped, columns=["id", "reason"]), licensing_delay
    )
