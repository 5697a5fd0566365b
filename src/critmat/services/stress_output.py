"""What a stress test answers, built once for the CLI, the API and the web page: the rows of
its tables (monthly, summary, sector exposure, Monte Carlo bands and summary, backtest), each
table with its provenance, and the JSON documents of a run and of a Monte Carlo
(:class:`RunOut`, :class:`MonteCarloOut`: the API's response models, the CLI's ``--format
json``). The presentations only choose what to show: columns and labels, figures, terminal
tables.

Units: tonnes (``_t``) over a month or the horizon as the table says; shares (``_pct``, ``share``)
as fractions 0-1. Values are plain JSON values: NaN and infinities are None
(:func:`critmat.exports.json_value`). Sources: the scenario's baseline (BACI trade, WMD output),
the shipped sector splits (``reference/data/sector_splits.csv``) or the user's file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from critmat import exports
from critmat.indicators.panel import country_name
from critmat.reference.sectors import SectorSplit, load_sector_splits
from critmat.scenarios.backtest import BacktestResult
from critmat.scenarios.baseline import Baseline
from critmat.scenarios.engine import DAYS_PER_MONTH, Result, sector_exposure, stock_levels
from critmat.scenarios.montecarlo import MonteCarloResult, describe
from critmat.scenarios.spec import Scenario

__all__ = [
    "BACKTEST_NOTES",
    "QUANTILES",
    "SHIPPED_SPLITS",
    "BacktestAnswer",
    "BacktestOut",
    "BacktestSummaryOut",
    "LedgerStocks",
    "MonteCarloOut",
    "Row",
    "RunOut",
    "ScenarioEntryOut",
    "StocksOut",
    "StressTable",
    "backtest_answer",
    "bands_table",
    "header",
    "importer_label",
    "montecarlo_document",
    "montecarlo_summary_table",
    "monthly_table",
    "most_affected_member",
    "rows",
    "run_document",
    "sectors_table",
    "source",
    "stocks_table",
    "summary_table",
]

Row = dict[str, Any]
#: The percentiles of the Monte Carlo bands.
QUANTILES = [5, 50, 95]
#: Where the shipped sector splits come from (named in the sector table's source).
SHIPPED_SPLITS = "reference/data/sector_splits.csv"


def rows(frame: pd.DataFrame) -> list[Row]:
    """Records of ``frame`` with plain JSON values (:func:`critmat.exports.json_value`: NaN and
    infinities become None). Converted a column at a time: a run's monthly table holds some
    9,000 numbers, and numpy converts a numeric column at once."""
    columns = [_plain_column(frame[name]) for name in frame.columns]
    keys = [str(name) for name in frame.columns]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def _plain_column(column: pd.Series) -> list[Any]:
    """The values of ``column`` as :func:`critmat.exports.json_value` gives them."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"
    if kind == "f":
        values = column.to_numpy()
        finite = np.isfinite(values).tolist()
        return [v if ok else None for v, ok in zip(values.tolist(), finite, strict=True)]
    if kind in "iub":
        plain: list[Any] = column.to_numpy().tolist()
        return plain
    return [exports.json_value(v) for v in column.tolist()]


def importer_label(importer: str) -> str:
    """``EU27``, or a Member State's name with its code: ``Germany (DEU)``."""
    return "EU27" if importer == "EU27" else f"{country_name(importer) or importer} ({importer})"


def most_affected_member(result: Result) -> str | None:
    """The Member State with the largest share of its demand short over the horizon (the first
    of equals), or None when none is short."""
    pct = result.summary()["shortfall_pct"].fillna(0.0).to_numpy(dtype=float)[1:]
    if pct.size == 0 or float(pct.max()) <= 0:
        return None
    return str(result.importers[1 + int(pct.argmax())])


# ================================================================================ tables
@dataclass(frozen=True)
class StressTable:
    """The rows of one stress-test table with what it is (``title``), where its figures come
    from (``source``), the period they cover and notes."""

    name: str
    title: str
    rows: list[Row]
    source: str
    period: str
    notes: tuple[str, ...] = ()

    def of(self, importers: Sequence[str] | None) -> list[Row]:
        """The rows of ``importers`` only (all rows for None)."""
        if importers is None:
            return list(self.rows)
        return [r for r in self.rows if r["importer"] in importers]

    def export(self) -> exports.Table:
        """Every column of the rows, with the provenance, for :mod:`critmat.exports`."""
        origin = exports.Provenance(self.title, [self.source], self.period, self.notes)
        return exports.Table.from_records(self.rows, provenance=origin)


def source(result: Result | MonteCarloResult) -> str:
    """The provenance line of a stress test's tables: scenario, material, stage, HS codes and
    baseline years."""
    b = result.baseline
    return (
        f"critmat stress test '{result.scenario.name}' — {b.material}, {b.stage} (HS "
        f"{', '.join(b.hs_codes)}); baseline BACI {'/'.join(map(str, b.years))}; model and "
        "assumptions: docs/stress-tests.md"
    )


#: The title of each table after the scenario's: ``<scenario title>: <this>``.
_TITLES = {
    "stress-monthly": "supply and shortfall by month",
    "stress-summary": "summary per importer",
    "stress-sectors": "exposure of downstream sectors",
    "stress-bands": "Monte Carlo shortfall bands",
    "stress-montecarlo-summary": "Monte Carlo summary per importer",
    "stress-stocks": "stock from the ledger, drawn, and days of cover",
}


def _table(
    of: Result | MonteCarloResult,
    name: str,
    frame: pd.DataFrame,
    period: str,
    notes: tuple[str, ...],
) -> StressTable:
    """Table ``name`` of a run or Monte Carlo: ``frame``'s rows under its title and source."""
    return StressTable(
        name, f"{of.scenario.title}: {_TITLES[name]}", rows(frame), source(of), period, notes
    )


def monthly_table(result: Result) -> StressTable:
    """One row per importer and month: demand, imports, redirected, supply, demand reduction,
    stock draw, shortfall (t and share), stock at the month's end (t), days of cover."""
    period = f"{result.scenario.horizon_months} months from {result.months[0]}"
    return _table(result, "stress-monthly", result.monthly(), period, result.baseline.notes)


def summary_table(result: Result) -> StressTable:
    """One row per importer (EU27 first): totals over the horizon and the worst month."""
    period = f"totals over {result.scenario.horizon_months} months"
    return _table(result, "stress-summary", result.summary(), period, result.baseline.notes)


def sectors_table(
    result: Result,
    splits: Sequence[SectorSplit] | None = None,
    splits_source: str = SHIPPED_SPLITS,
) -> StressTable:
    """The shortfall over the horizon shared pro rata over the material's applications, per
    importer with a shortfall (``splits``: the shipped ones unless given)."""
    chosen = load_sector_splits() if splits is None else splits
    period = f"totals over {result.scenario.horizon_months} months"
    notes = ("the shortfall is shared pro rata over the material's applications",)
    found = _table(result, "stress-sectors", sector_exposure(result, chosen), period, notes)
    return replace(found, source=f"{found.source}; sector splits: {splits_source}")


def _drawn(mc: MonteCarloResult) -> str:
    return "; ".join(f"{p.key} ~ {p.dist.describe()}" for p in mc.uncertainty.parameters)


def bands_table(mc: MonteCarloResult) -> StressTable:
    """One row per importer and month: demand, p5/p50/p95 shortfall (t and share), the mean."""
    notes = (f"drawn: {_drawn(mc)}", "monthly bands are per month, not one path")
    return _table(mc, "stress-bands", mc.bands(), f"{mc.runs:,} runs, seed {mc.seed}", notes)


def montecarlo_summary_table(mc: MonteCarloResult) -> StressTable:
    """One row per importer: bands of the shortfall over the horizon, share of runs short."""
    period = f"{mc.runs:,} runs, seed {mc.seed}; totals over {mc.scenario.horizon_months} months"
    notes = (f"drawn: {_drawn(mc)}",)
    return _table(mc, "stress-montecarlo-summary", mc.summary(), period, notes)


@dataclass(frozen=True)
class LedgerStocks:
    """The stockpile ledger's positions a run starts from: stock and target per importer code,
    tonnes (from :func:`critmat.services.stockpiles.stress_positions`), and notes on them."""

    material: str
    stock_t: dict[str, float]  # EU27 (EU-level and pooled holdings) and Member States' ISO3
    target_t: dict[str, float]  # absent key: no target stored
    as_of: date
    notes: tuple[str, ...]


def _days(tonnes: np.ndarray, monthly_demand: np.ndarray) -> np.ndarray:
    """Days of consumption ``tonnes`` cover at ``monthly_demand`` (t/month); NaN (no data)
    where there is no demand."""
    with np.errstate(divide="ignore", invalid="ignore"):
        daily = monthly_demand / DAYS_PER_MONTH
        return np.where(daily > 0, tonnes / daily, np.nan)


def stocks_table(result: Result, stocks: LedgerStocks) -> StressTable:
    """Per importer with stock or a target in the ledger (EU27 first): stock at month 0, the
    stored target beside it, stock drawn and left (t), and days of consumption covered at the
    start, at the lowest and at the end (at baseline demand), and by the target."""
    start = stock_levels(result.params, result.baseline.members)
    targets = np.array([stocks.target_t.get(i, np.nan) for i in result.importers])
    demand = np.asarray(result.baseline.demand, dtype=float)
    keep = [
        k for k, i in enumerate(result.importers) if k == 0 or start[k] > 0 or i in stocks.target_t
    ]
    cover = result.days_of_cover
    frame = pd.DataFrame(
        {
            "importer": [result.importers[k] for k in keep],
            "stock_start_t": start[keep],
            "target_t": targets[keep],
            "stock_minus_target_t": (start - targets)[keep],
            "stock_drawn_t": result.stock_draw.sum(axis=1)[keep],
            "stock_end_t": result.stock[keep, -1],
            "days_of_cover_start": _days(start, demand)[keep],
            "days_of_cover_min": np.where(
                np.isnan(cover).all(axis=1), np.nan, np.nan_to_num(cover, nan=np.inf).min(axis=1)
            )[keep],
            "days_of_cover_end": cover[keep, -1],
            "target_days_of_cover": _days(targets, demand)[keep],
        }
    )
    period = f"{result.scenario.horizon_months} months from {result.months[0]}"
    found = _table(result, "stress-stocks", frame, period, stocks.notes)
    return replace(
        found,
        source=f"{found.source}; stock and targets: stockpile ledger as of "
        f"{stocks.as_of.isoformat()}",
    )


# ================================================================================ documents
class ScenarioEntryOut(BaseModel):
    name: str
    title: str
    material: str = Field(description="catalogue id")
    stage: str | None
    start: str | None = Field(description="calendar month of month 0, YYYY-MM")
    horizon_months: int
    registry_ids: list[str] = Field(description="export-restriction registry ids")


class _MetaOut(BaseModel):
    scenario: str
    title: str
    material: str
    stage: str
    hs_codes: list[str]
    baseline_years: list[int]
    registry_ids: list[str]
    horizon_months: int
    months: list[str]
    importers: list[str] = Field(description="EU27, then the 27 Member States (ISO3)")
    notes: list[str]


class StocksOut(BaseModel):
    source: str = Field(description="where stock and targets come from (ledger, as of)")
    as_of: str = Field(description="date of the ledger positions, YYYY-MM-DD")
    notes: list[str] = Field(description="what is pooled as EU27, what was replaced")
    rows: list[Row] = Field(
        description="per importer with stock or a target: stock at month 0, target (null: "
        "none stored), stock drawn and left (t), days of cover at start, lowest, end and by "
        "the target (null: no demand)"
    )


class RunOut(_MetaOut):
    params: dict[str, Any]
    shocked_world_output_share: float | None
    summary: list[Row] = Field(description="one row per importer: horizon totals, worst month")
    monthly: list[Row] = Field(description="one row per importer and month (tonnes, shares)")
    sectors: list[Row] = Field(description="shortfall shared pro rata over the applications")
    stocks: StocksOut | None = Field(
        default=None,
        description="only with stocks: ledger — the ledger positions the run started from",
    )


class MonteCarloOut(_MetaOut):
    runs: int
    seed: int
    quantiles: list[int]
    parameters: list[dict[str, str]] = Field(description="the drawn parameters")
    summary: list[Row] = Field(description="per importer: bands of the horizon total, p_short")
    bands: list[Row] = Field(description="per importer and month: p5/p50/p95, t and share")


def header(scenario: Scenario, baseline: Baseline) -> dict[str, Any]:
    """What every stress-test document starts with: the scenario, its baseline (material,
    stage, HS codes, BACI years, importers), registry ids, horizon and months, and notes."""
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "material": baseline.material,
        "stage": baseline.stage,
        "hs_codes": list(baseline.hs_codes),
        "baseline_years": list(baseline.years),
        "registry_ids": list(scenario.registry_ids),
        "horizon_months": scenario.horizon_months,
        "months": list(scenario.month_labels()),
        "importers": list(baseline.importers),
        "notes": list(baseline.notes),
    }


def run_document(
    result: Result,
    splits: Sequence[SectorSplit] | None = None,
    splits_source: str = SHIPPED_SPLITS,
    stocks: LedgerStocks | None = None,
) -> RunOut:
    """A run: the header, the parameters used, the shocked countries' share of world output,
    and the summary, monthly and sector rows; with ``stocks`` (a run on the ledger's
    positions) the stock table too, its notes added to the document's (``stocks`` is left
    unset otherwise, so that a serialisation ``exclude_unset`` leaves it out)."""
    p = result.params
    extra: dict[str, Any] = {}
    if stocks is not None:
        table = stocks_table(result, stocks)
        extra["stocks"] = {
            "source": table.source,
            "as_of": stocks.as_of.isoformat(),
            "notes": list(stocks.notes),
            "rows": table.rows,
        }
    document = header(result.scenario, result.baseline)
    if stocks is not None:
        document["notes"] = [*document["notes"], *stocks.notes]
    return RunOut.model_validate(
        {
            **document,
            "params": {
                "spare_capacity_fraction": p.spare_capacity_fraction,
                "ramp_up_months": p.ramp_up_months,
                "demand_elasticity": p.demand_elasticity,
                "stockpiles": dict(p.stockpiles),
            },
            "shocked_world_output_share": result.shocked_output_share,
            "summary": summary_table(result).rows,
            "monthly": monthly_table(result).rows,
            "sectors": sectors_table(result, splits, splits_source).rows,
            **extra,
        }
    )


def montecarlo_document(mc: MonteCarloResult) -> MonteCarloOut:
    """A Monte Carlo: the header, runs, seed, quantiles, the drawn parameters, and the summary
    and band rows."""
    return MonteCarloOut.model_validate(
        {
            **header(mc.scenario, mc.baseline),
            "runs": mc.runs,
            "seed": mc.seed,
            "quantiles": QUANTILES,
            "parameters": describe(mc.uncertainty),
            "summary": montecarlo_summary_table(mc).rows,
            "bands": bands_table(mc).rows,
        }
    )


class BacktestSummaryOut(BaseModel):
    cases: int = Field(description="backtest rows (one per case)")
    compared: int = Field(description="rows with both a predicted and an observed change")
    mean_absolute_error_pp: float | None = Field(
        description="mean |predicted − observed| in percentage points of the change in EU27 "
        "imports (t) from the restricting country, over the compared rows; null if none"
    )
    direction_right: int = Field(description="compared rows whose direction was right")
    without_data: list[str] = Field(description="cases without a predicted or observed change")
    line: str = Field(description="the summary as one sentence")


class BacktestOut(BaseModel):
    licensing_delay: int = Field(description="months without exports assumed for licensing")
    summary: BacktestSummaryOut
    rows: list[Row] = Field(
        description="one row per case: registry id, codes read per year (series), EU27 "
        "imports from the restricting country (t), predicted and observed change (fractions), "
        "error_pp, direction_right, caveats and notes; null = no data"
    )
    skipped: list[Row] = Field(description="registry measures left out: id, reason")
    releases: list[dict[str, Any]] = Field(
        description="the trade release of each series read: series, release_id, version, years"
    )
    notes: list[str]


#: What every backtest answer says of its method (the CLI's caption, the API, the docs).
BACKTEST_NOTES = (
    "change in EU27 imports (t, extra-EU) from the restricting country, year after vs year "
    "before; error_pp = 100 × (predicted − observed)",
    "direction: fall, unchanged (within ±1 %) or rise; no data is null, never 0",
    "model and cases: docs/stress-tests.md (Backtest), scenarios/backtest_cases.yaml",
)


@dataclass(frozen=True)
class BacktestAnswer:
    """The backtest's rows (one per case: predicted and observed change in EU27 imports from
    the restricting country), its summary (MAE, direction right in N of M), the measures left
    out (``id, reason``) and the trade releases read."""

    licensing_delay: int
    rows: list[Row]
    skipped: list[Row]
    summary: dict[str, Any]
    releases: list[dict[str, Any]]

    def document(self) -> dict[str, Any]:
        """The JSON answer (CLI ``--format json`` and the API's :class:`BacktestOut`)."""
        return {
            "licensing_delay": self.licensing_delay,
            "summary": self.summary,
            "rows": self.rows,
            "skipped": self.skipped,
            "releases": self.releases,
            "notes": list(BACKTEST_NOTES),
        }


def backtest_answer(
    result: BacktestResult, releases: Sequence[dict[str, Any]] = ()
) -> BacktestAnswer:
    """The backtest as rows of plain values, with its summary and ``releases``."""
    summary = result.summary()
    return BacktestAnswer(
        result.licensing_delay,
        rows(result.rows),
        rows(result.skipped),
        {
            "cases": summary.cases,
            "compared": summary.compared,
            "mean_absolute_error_pp": summary.mean_absolute_error_pp,
            "direction_right": summary.direction_right,
            "without_data": list(summary.without_data),
            "line": summary.line(),
        },
        [dict(r) for r in releases],
    )
