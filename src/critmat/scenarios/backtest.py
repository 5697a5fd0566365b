"""Backtest: the engine's predicted change in EU imports from a restricting country, against BACI.

For each registry measure on goods (HS codes, a ban, suspension, quota or licensing regime) that
took effect before the end of the trade data, one row per *case* (``backtest_cases.yaml``: the
measure tested on chosen HS codes of one or more trade series, with its caveats), or one row on
the registry's HS92 codes for a measure without a case:

- *before* = the calendar year before the effective date; *after* = the first calendar year
  wholly under the measure (the effective year when it started on 1 January, else the next
  one), or — when the data end earlier — the effective year itself, partly covered
  (``months_in_force`` < 12);
- the codes read (:func:`choose_codes`): the first series of the case whose codes have rows in
  both years (like with like), else per year the first series with rows, else that year is
  "no data" — a change that needs it is missing (NaN, shown as "no data"), never 0;
- the scenario: baseline = the *before* year of the default trade series (HS92, the series the
  engine reads) over the codes read; the measure turned into a shock (ban/suspension →
  ``export_ban``; licensing → ``export_licensing`` with ``licensing_delay`` months without
  exports, then normal exports; quota → not modelled, the registry holds no quota fraction),
  from the effective month to ``ended``;
- predicted change = Σ_{months of *after*} modelled EU27 imports from the country /
  (12 × baseline monthly imports) − 1; observed change = BACI EU27 imports from the country in
  *after* / *before* − 1 (tonnes, extra-EU); ``error_pp`` = 100 × (predicted − observed), in
  percentage points of the change in EU27 imports (t) from the restricting country;
  ``share_before``, ``share_after``: the country's share of EU27 extra-EU imports (t) of the
  codes read (0-1; context, not compared);
- caveats: the catalogue's bundling note of every code read that holds several materials
  (:meth:`~critmat.reference.materials.Catalogue.bundle_note`), then the case's own;
- direction: fall, unchanged (within ±:data:`UNCHANGED_WITHIN`) or rise; ``direction_right``
  when predicted and observed agree. :meth:`BacktestResult.summary`: the mean absolute error
  and "direction right in N of M" over the rows with both changes.

Measures without HS codes, on technology, export taxes, or effective after the trade data are
listed with the reason they were left out.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from critmat.errors import InputFileError
from critmat.reference._common import HS6
from critmat.reference.countries import group_members
from critmat.reference.materials import HS_REVISIONS, load_catalogue
from critmat.reference.restrictions import Restriction, load_restrictions
from critmat.scenarios.baseline import build_baseline
from critmat.scenarios.engine import Params, run
from critmat.scenarios.spec import BaselineSpec, Responses, Scenario, Shock
from critmat.sources.base import DEFAULT_SERIES

__all__ = [
    "CASES",
    "UNCHANGED_WITHIN",
    "BacktestCase",
    "BacktestResult",
    "BacktestSummary",
    "YearCodes",
    "backtest",
    "bundle_notes",
    "choose_codes",
    "direction",
    "load_cases",
    "restriction_scenario",
]

DEFAULT_LICENSING_DELAY = 2
#: The shipped cases.
CASES = Path(__file__).parent / "backtest_cases.yaml"
#: A change smaller than this either way (a fraction: 1 % of the year-before tonnes) counts as
#: "unchanged" when directions are compared.
UNCHANGED_WITHIN = 0.01
#: The trade series the engine's baseline reads (the ``trade`` view).
MODEL_SERIES = DEFAULT_SERIES["trade"]
_SHOCK = {
    "export_ban": "export_ban",
    "export_suspension": "export_ban",
    "export_licensing": "export_licensing",
}
_SERIES_NAME = "HS92, HS17, HS22 (a BACI classification as stored)"


# ================================================================================ cases
@dataclass(frozen=True)
class BacktestCase:
    """One measure tested on chosen codes: ``codes`` = (trade series, HS6 codes) in order of
    preference; ``caveats`` go with every output line of the case."""

    case: str
    registry_id: str
    title: str
    codes: tuple[tuple[str, tuple[str, ...]], ...]
    caveats: tuple[str, ...] = ()

    @classmethod
    def of_registry(cls, restriction: Restriction) -> BacktestCase:
        """The case of a measure without one: its registry codes (HS92)."""
        codes = ((MODEL_SERIES, restriction.hs_codes),)
        return cls(restriction.id, restriction.id, restriction.title, codes)


def _text(raw: dict[str, Any], key: str, path: Path, row: int) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputFileError(path, f"case {row}: '{key}' must be a non-empty text", field=key)
    return " ".join(value.split())


def _codes(raw: Any, path: Path, row: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict) or not raw:
        raise InputFileError(
            path,
            f"case {row}: 'codes' must map a trade series to HS codes",
            field="codes",
            hint="e.g. codes: {HS92: ['811291'], HS17: ['811292']}",
        )
    found: list[tuple[str, tuple[str, ...]]] = []
    for series, codes in raw.items():
        if not isinstance(series, str) or not series.startswith("HS"):
            raise InputFileError(
                path,
                f"case {row}: '{series}' is not a trade series",
                field="codes",
                hint=f"one of {_SERIES_NAME}",
            )
        texts = [str(c) for c in codes] if isinstance(codes, list) else []
        if not texts or not all(HS6.match(c) for c in texts):
            raise InputFileError(
                path,
                f"case {row}: {series} codes must be a list of six-digit HS codes",
                field=f"codes.{series}",
                hint="e.g. ['250410', '250490'] (quoted)",
            )
        found.append((series, tuple(texts)))
    return tuple(found)


def load_cases(path: Path = CASES) -> tuple[BacktestCase, ...]:
    """The backtest cases of ``path`` (the shipped file by default), each validated: registry id
    known, codes six-digit per series, caveats texts. :class:`InputFileError` names the field."""
    return _load_cases(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load_cases(path: Path, _mtime: int) -> tuple[BacktestCase, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = raw.get("cases") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise InputFileError(path, "a backtest case file holds a list under 'cases:'")
    known = {r.id for r in load_restrictions()}
    cases: list[BacktestCase] = []
    for row, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InputFileError(path, f"case {row} must be a mapping")
        registry_id = _text(entry, "registry_id", path, row)
        if registry_id not in known:
            raise InputFileError(
                path,
                f"case {row}: no registry measure '{registry_id}'",
                field="registry_id",
                hint="an id of `critmat restrictions`",
            )
        caveats = entry.get("caveats") or []
        if not isinstance(caveats, list) or not all(isinstance(c, str) for c in caveats):
            raise InputFileError(
                path, f"case {row}: 'caveats' must be a list of texts", field="caveats"
            )
        cases.append(
            BacktestCase(
                _text(entry, "case", path, row),
                registry_id,
                _text(entry, "title", path, row),
                _codes(entry.get("codes"), path, row),
                tuple(" ".join(c.split()) for c in caveats),
            )
        )
    names = [c.case for c in cases]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputFileError(path, f"case names repeated: {', '.join(repeated)}", field="case")
    return tuple(cases)


# ================================================================================ codes
@dataclass(frozen=True)
class YearCodes:
    """What a case reads for one year: the trade series and its codes with rows, or no data
    (``series`` None)."""

    year: int
    series: str | None
    codes: tuple[str, ...]

    @property
    def label(self) -> str:
        """``HS92 250410;250490``, or ``no data``."""
        return f"{self.series} {';'.join(self.codes)}" if self.series else "no data"


#: (series, HS6, year) of the trade rows there are.
Present = set[tuple[str, str, int]]


def _first_with_rows(case: BacktestCase, present: Present, year: int) -> YearCodes:
    for series, codes in case.codes:
        held = tuple(c for c in codes if (series, c, year) in present)
        if held:
            return YearCodes(year, series, held)
    return YearCodes(year, None, ())


def choose_codes(
    case: BacktestCase, present: Present, before: int, after: int
) -> tuple[YearCodes, YearCodes]:
    """The codes a case reads in ``before`` and ``after`` (the rule in the module docstring)."""
    for series, codes in case.codes:
        both = tuple(c for c in codes if {(series, c, before), (series, c, after)} <= present)
        if both:
            return YearCodes(before, series, both), YearCodes(after, series, both)
    return _first_with_rows(case, present, before), _first_with_rows(case, present, after)


def _present(con: duckdb.DuckDBPyConnection, codes: Iterable[str], years: list[int]) -> Present:
    found = con.execute(
        "SELECT DISTINCT series, hs6, year FROM trade_all "
        "WHERE list_contains($codes, hs6) AND list_contains($years, year)",
        {"codes": sorted(set(codes)), "years": years},
    ).fetchall()
    return {(str(s), str(c), int(y)) for s, c, y in found}


def _tonnes(quantities: list[float | None]) -> float:
    """The sum of the quantities there are (math.fsum: the same digits every run); NaN when
    every row lacks its quantity; 0 for no rows (BACI leaves out flows of zero)."""
    known = [float(q) for q in quantities if q is not None]
    if quantities and not known:
        return math.nan
    return math.fsum(known)


def _eu_imports(
    con: duckdb.DuckDBPyConnection, origin: str, read: YearCodes
) -> tuple[float, float]:
    """EU27 extra-EU imports (t) over what ``read`` names: from ``origin``, and ``origin``'s
    share of them (0-1); NaN for no data (no series, or only rows without a quantity). No row
    from ``origin`` while the codes have rows that year is a real 0."""
    if read.series is None:
        return math.nan, math.nan
    # Summed here in a fixed order: DuckDB's parallel sums may differ in the last digits from
    # one run to the next, and the answers must not.
    eu = sorted(group_members("EU27"))
    found = con.execute(
        """
        SELECT exporter, quantity_t FROM trade_all
        WHERE series = $s AND list_contains($eu, importer) AND NOT list_contains($eu, exporter)
          AND list_contains($codes, hs6) AND year = $y
        ORDER BY exporter, importer, hs6
        """,
        {"s": read.series, "eu": eu, "codes": list(read.codes), "y": read.year},
    ).fetchall()
    from_origin = _tonnes([q for exporter, q in found if exporter == origin])
    total = _tonnes([q for _exporter, q in found])
    return from_origin, from_origin / total if total > 0 else math.nan


# ================================================================================ model
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


def _predicted(
    con: duckdb.DuckDBPyConnection,
    restriction: Restriction,
    before: YearCodes,
    after: int,
    delay: int,
) -> tuple[float, float, str | None]:
    """(modelled EU27 imports from the country in *after* (t), predicted change, why none)."""
    if before.series is None:
        return math.nan, math.nan, f"no prediction: no baseline ({before.year} has no data)"
    if before.series != MODEL_SERIES:
        why = f"no prediction: the engine's baseline reads {MODEL_SERIES}, {before.year} is in"
        return math.nan, math.nan, f"{why} {before.series}"
    scenario = restriction_scenario(restriction, before.codes, before.year, after, delay)
    baseline = build_baseline(con, scenario)
    result = run(scenario, baseline, Params.from_scenario(scenario))
    if restriction.country not in baseline.origins:
        return 0.0, math.nan, None
    o = baseline.origins.index(restriction.country)
    after_slice = slice((after - before.year - 1) * 12, None)  # month 0: the effective year
    predicted_after = float(result.eu_imports_by_origin[o, after_slice].sum())
    base_year = 12 * float(baseline.flows[o, :].sum())
    change = predicted_after / base_year - 1 if base_year > 0 else math.nan
    return predicted_after, change, None


def direction(change: float) -> int | None:
    """-1 (fall), 0 (unchanged within ±:data:`UNCHANGED_WITHIN`), 1 (rise); None for NaN."""
    if math.isnan(change):
        return None
    return 0 if abs(change) < UNCHANGED_WITHIN else int(np.sign(change))


# ================================================================================ results
@dataclass(frozen=True)
class BacktestSummary:
    """Over the rows with both a predicted and an observed change (``compared``): the mean
    absolute error in percentage points of the change in EU27 imports (t) from the restricting
    country, and in how many the direction was right; ``without_data``: the other cases (no
    data in a year, no baseline, or no imports from the country in the year before: the row's
    ``notes`` say which)."""

    cases: int
    compared: int
    mean_absolute_error_pp: float | None
    direction_right: int
    without_data: tuple[str, ...]

    def line(self) -> str:
        """The summary as one sentence (the CLI, the docs)."""
        if self.compared == 0:
            head = "no case has both a predicted and an observed change"
        else:
            head = (
                f"mean absolute error {self.mean_absolute_error_pp:.1f} pp of the change in EU27 "
                f"imports (t) from the restricting country over {self.compared} cases; "
                f"direction right in {self.direction_right} of {self.compared}"
            )
        if self.without_data:
            head += f"; not compared for {len(self.without_data)}: {', '.join(self.without_data)}"
        return head


@dataclass(frozen=True)
class BacktestResult:
    """``rows``: one row per tested case; ``skipped``: ``id, reason``."""

    rows: pd.DataFrame
    skipped: pd.DataFrame
    licensing_delay: int

    def summary(self) -> BacktestSummary:
        """MAE and direction over the rows with both changes (:class:`BacktestSummary`)."""
        frame = self.rows
        if frame.empty:
            return BacktestSummary(0, 0, None, 0, ())
        both = frame["error_pp"].notna()
        compared = frame[both]
        mae = float(compared["error_pp"].abs().mean()) if len(compared) else None
        right = sum(value is True for value in compared["direction_right"])
        return BacktestSummary(
            len(frame), len(compared), mae, right, tuple(frame.loc[~both, "case"])
        )


def _case_row(
    con: duckdb.DuckDBPyConnection,
    restriction: Restriction,
    case: BacktestCase,
    present: Present,
    years: tuple[int, int, int],
    delay: int,
) -> dict[str, object]:
    before_year, after_year, months = years
    before, after = choose_codes(case, present, before_year, after_year)
    observed_before, share_before = _eu_imports(con, restriction.country, before)
    observed_after, share_after = _eu_imports(con, restriction.country, after)
    predicted_after, predicted, why = _predicted(con, restriction, before, after_year, delay)
    observed = (
        observed_after / observed_before - 1 if observed_before > 0 else math.nan
    )  # NaN > 0 is False: no data stays no data
    notes = [
        f"{y.year}: no data (no trade rows for {_wanted(case)})"
        for y in (before, after)
        if y.series is None
    ]
    if before.series and after.series and before.series != after.series:
        notes.append(f"{before.year} in {before.series}, {after.year} in {after.series}")
    if why and before.series is not None:
        notes.append(why)
    if observed_before == 0:
        notes.append(f"no EU27 imports from {restriction.country} in {before_year}: no change")
    predicted_direction, observed_direction = direction(predicted), direction(observed)
    right = (
        None
        if predicted_direction is None or observed_direction is None
        else predicted_direction == observed_direction
    )
    label = before.label if before.label == after.label else f"{before.label} → {after.label}"
    return {
        "id": restriction.id,
        "country": restriction.country,
        "measure": restriction.measure,
        "case": case.case,
        "title": case.title,
        "targets": ";".join(restriction.targets),
        "hs_codes": label,
        "before": before_year,
        "after": after_year,
        "months_in_force": months,
        "before_series": before.series,
        "after_series": after.series,
        "eu_imports_before_t": observed_before,
        "predicted_after_t": predicted_after,
        "observed_after_t": observed_after,
        "share_before": share_before,
        "share_after": share_after,
        "predicted_change": predicted,
        "observed_change": observed,
        "error_pp": 100 * (predicted - observed),
        "direction_right": right,
        "caveats": " | ".join((*bundle_notes(before, after), *case.caveats)),
        "notes": "; ".join(notes),
    }


def bundle_notes(*read: YearCodes) -> list[str]:
    """The catalogue's note of each code read that bundles several materials (HS17 811292:
    gallium, germanium, hafnium, ...), once each, in the order read."""
    catalogue = load_catalogue()
    notes: list[str] = []
    for year in read:
        if year.series not in HS_REVISIONS:
            continue
        for code in year.codes:
            note = catalogue.bundle_note(code, year.series)
            if note and note not in notes:
                notes.append(note)
    return notes


def _wanted(case: BacktestCase) -> str:
    return " or ".join(f"{series} {';'.join(codes)}" for series, codes in case.codes)


def backtest(
    con: duckdb.DuckDBPyConnection,
    licensing_delay: int = DEFAULT_LICENSING_DELAY,
    cases: tuple[BacktestCase, ...] | None = None,
) -> BacktestResult:
    """Run every testable registry measure (see the module docstring); ``cases``: the shipped
    ones unless given."""
    chosen = load_cases() if cases is None else cases
    by_measure: dict[str, list[BacktestCase]] = {}
    for case in chosen:
        by_measure.setdefault(case.registry_id, []).append(case)
    last_row = con.execute("SELECT max(year) FROM trade_all").fetchone()
    last = int(last_row[0]) if last_row and last_row[0] is not None else 0
    rows: list[dict[str, object]] = []
    skipped: list[dict[str, str]] = []
    for restriction in load_restrictions():
        measure_cases = by_measure.get(restriction.id)
        if not restriction.hs_codes and not measure_cases:
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
        tested = measure_cases or [BacktestCase.of_registry(restriction)]
        codes = {c for case in tested for _series, group in case.codes for c in group}
        present = _present(con, codes, [years[0], years[1]])
        rows.extend(
            _case_row(con, restriction, case, present, years, licensing_delay) for case in tested
        )
    return BacktestResult(
        pd.DataFrame(rows), pd.DataFrame(skipped, columns=["id", "reason"]), licensing_delay
    )
