"""``critmat stress``: supply-disruption stress tests (critmat.scenarios).

Register with ``from critmat.commands import stress; stress.register(app)``.
"""

# Annotations are evaluated when the functions are defined (no ``from __future__ import
# annotations``): Typer reads every command's annotations on every start, and string
# annotations would be compiled and evaluated anew each time (critmat.commands).

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from critmat.cli_output import (
    Format,
    emit_document,
    emit_rows,
    fmt_number,
    out,
    status,
    store_readonly,
    table,
    user_errors,
)
from critmat.commands.columns import columns
from critmat.commands.options import FormatOpt, output_option

if TYPE_CHECKING:  # annotations only: the service loads when a command runs
    from critmat.scenarios.baseline import Baseline
    from critmat.scenarios.spec import Scenario

stress_app = typer.Typer(help="Stress tests: export bans, quotas, outages.", no_args_is_help=True)

SUMMARY_COLUMNS = columns(
    *("importer", "demand_source", "demand_t", "shortfall_t", "shortfall_pct"),
    *("peak_shortfall_pct", "months_short", "redirected_t", "stock_drawn_t"),
)
BACKTEST_COLUMNS = columns(
    *(("case", "case", "text"), ("hs_codes", "HS codes read", "text")),
    *(("years", "years", "text"), ("months_in_force", "months", "")),
    *("eu_imports_before_t", ("observed_after_t", "EU imports after t", "")),
    *("predicted_change", "observed_change", "error_pp"),
    *(("direction_right", "direction right", "text"), ("note_refs", "notes", "text")),
)
#: The cells of a backtest row the table shows as "no data" when missing (never 0).
_BACKTEST_VALUES = (
    *("eu_imports_before_t", "observed_after_t", "predicted_change", "observed_change"),
    *("error_pp", "direction_right"),
)
MONTH_COLUMNS = columns(
    *("month", "demand_t", "supply_t", "redirected_t", "shortfall_t", "shortfall_pct"),
    *("stock_t", "days_of_cover"),
)
STOCK_COLUMNS = columns(
    "importer",
    ("stock_start_t", "stock at start t", ""),
    ("target_t", "target t", ""),
    ("stock_drawn_t", "drawn t", ""),
    ("stock_end_t", "left t", ""),
    ("days_of_cover_start", "days of cover at start", ""),
    ("days_of_cover_min", "lowest days of cover", ""),
    ("target_days_of_cover", "days of cover of target", ""),
)
#: The cells of a stock row the table shows as "no data" (no target, no demand), never 0.
_STOCK_VALUES = ("target_t", "days_of_cover_start", "days_of_cover_min", "target_days_of_cover")
SECTOR_COLUMNS = columns(
    "application", "sector", ("share", "share of use"), "shortfall_t", "estimate"
)


ScenarioArg = Annotated[str, typer.Argument(help="A scenario YAML file or a library name.")]
StocksOpt = Annotated[
    str,
    typer.Option(
        "--stocks",
        help="Where stockpiles come from: 'scenario' (the file's responses.stockpiles) or "
        "'ledger' (the stockpile ledger's holdings and targets of the material).",
    ),
]
STOCK_SOURCES = ("scenario", "ledger")


def _stock_source(text: str) -> bool:
    """True for ``--stocks ledger``; a user error naming the option otherwise."""
    from critmat.errors import CritmatError

    chosen = text.strip().lower()
    if chosen not in STOCK_SOURCES:
        raise CritmatError(
            f"--stocks '{text}': not a stock source",
            hint="type --stocks ledger or --stocks scenario",
        )
    return chosen == "ledger"


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` to ``path`` as CSV (columns: the first row's keys), every cell through
    :mod:`critmat.exports`, which neutralises formula-like text."""
    from critmat import exports

    exports.write_csv(path, exports.Table.from_records(rows))


def _save_and_emit(
    output: Path | None, rows: list[dict[str, Any]], what: str, fmt: Format, document: Any
) -> bool:
    """Write ``rows`` (``what``: their name in the message) to ``--output`` if given, then print
    ``document`` (JSON) or ``rows`` (CSV); False for a table, which the command prints."""
    if output is not None:
        _write_csv(output, rows)
        status(f"wrote {len(rows)} {what} rows to {output}")
    return emit_document(fmt, document, rows)


def _baseline(scenario: "Scenario") -> "Baseline":
    """The scenario's baseline (trade and production years) from the store."""
    from critmat.services import stress

    with store_readonly() as store:
        return stress.baseline(store, scenario)


#: What both JSON answers start with, from the service's document.
_HEADER_FIELDS = ("scenario", "title", "material", "stage", "hs_codes", "baseline_years")
#: The fields of ``stress run --format json``, in their order (the service's run document
#: holds more: horizon, months and importers).
RUN_JSON_FIELDS = (
    *_HEADER_FIELDS,
    "registry_ids",
    "params",
    "shocked_world_output_share",
    "notes",
    "summary",
    "monthly",
    "sectors",
    "stocks",
)
#: The fields of ``stress montecarlo --format json`` taken from the service's document (then
#: the backend and the seconds it took, then ``summary`` and ``bands``).
MONTECARLO_JSON_FIELDS = (*_HEADER_FIELDS, "runs", "seed", "quantiles", "parameters")


@stress_app.command("list")
def list_command(fmt: FormatOpt = Format.table) -> None:
    """List the scenario library (derived from the export-restriction registry)."""
    from critmat.services import stress

    with user_errors():
        entries = stress.library_entries()
    rows = [
        {
            "name": e["name"],
            "material": e["material"],
            "stage": e["stage"],
            "start": e["start"],
            "horizon_months": e["horizon_months"],
            "registry_ids": ";".join(e["registry_ids"]),
            "title": e["title"],
        }
        for e in entries
    ]
    emit_rows(
        rows,
        fmt,
        "Stress-test library",
        columns("name", "material", "stage", "start", "registry_ids", "title"),
        "run one with `critmat stress run NAME`",
    )


@stress_app.command("run")
def run_command(
    scenario: ScenarioArg,
    fmt: FormatOpt = Format.table,
    output: Annotated[
        Path | None, output_option("Write the monthly results (CSV) to this file.")
    ] = None,
    sectors: Annotated[
        Path | None,
        typer.Option("--sectors", help="Sector splits CSV (default: the shipped reference)."),
    ] = None,
    stocks: StocksOpt = "scenario",
) -> None:
    """Run a stress test: monthly supply, shortfall, stocks and cover, EU27 and Member States.

    Table: a summary per importer and the EU27 months; JSON: summary, monthly rows and sector
    exposure; CSV: the monthly rows. With --stocks ledger the stockpiles are the ledger's
    holdings (targets beside them; a stock table). See docs/stress-tests.md.
    """
    from critmat.reference.sectors import load_sector_splits
    from critmat.services import stress, stress_output

    ledger = None
    with user_errors():
        from_ledger = _stock_source(stocks)
        prepared = stress.load(scenario)  # the uncertainty block is for montecarlo
        if from_ledger:
            prepared, ledger = stress.with_ledger_stocks(prepared, None)
        splits = load_sector_splits(sectors)
        baseline = _baseline(prepared.scenario)
        result = stress.run(prepared, baseline)
    spec = prepared.scenario
    splits_source = str(sectors) if sectors is not None else stress_output.SHIPPED_SPLITS
    answer = stress_output.run_document(result, splits, splits_source, ledger)
    document = answer.model_dump(exclude_unset=True)
    monthly, summary, exposure = document["monthly"], document["summary"], document["sectors"]
    notes = document["notes"]
    shown = {k: document[k] for k in RUN_JSON_FIELDS if k in document}
    if _save_and_emit(output, monthly, "monthly", fmt, shown):
        return
    caption = (
        f"{baseline.material} · {baseline.stage} (HS {', '.join(baseline.hs_codes)}), baseline "
        f"{'/'.join(map(str, baseline.years))}, tonnes over {spec.horizon_months} months; "
        f"registry: {', '.join(spec.registry_ids) or '–'}"
    )
    if result.shocked_output_share is not None:
        caption += f"; shocked countries hold {result.shocked_output_share:.0%} of world output"
    if notes:
        caption += "\nnotes: " + "; ".join(notes)
    out.print(table(spec.title, SUMMARY_COLUMNS, summary, caption))
    if ledger is not None:
        stock_rows = [
            {**r, **{k: "no data" if r[k] is None else r[k] for k in _STOCK_VALUES}}
            for r in document["stocks"]["rows"]
        ]
        out.print(
            table("Stock from the ledger", STOCK_COLUMNS, stock_rows, document["stocks"]["source"])
        )
    eu_rows = [r for r in monthly if r["importer"] == "EU27"]
    out.print(table("EU27 by month", MONTH_COLUMNS, eu_rows))
    eu_sectors = [r for r in exposure if r["importer"] == "EU27"]
    if eu_sectors:
        out.print(
            table(
                "EU27 exposure of downstream sectors (shortfall shared pro rata)",
                SECTOR_COLUMNS,
                eu_sectors,
            )
        )
    else:
        out.print(f"no sourced sector split for {baseline.material}; add one with --sectors FILE")
    if baseline.members:  # none short: the first Member State, at 0 %
        worst = stress_output.most_affected_member(result) or baseline.members[0]
        share = next(r["shortfall_pct"] for r in summary if r["importer"] == worst)
        out.print(
            f"most affected Member State: {worst} "
            f"({fmt_number(share, 'share')} of demand short over the horizon)"
        )


@stress_app.command("backtest")
def backtest_command(
    fmt: FormatOpt = Format.table,
    licensing_delay: Annotated[
        int, typer.Option(min=0, help="Months without exports assumed for a licensing regime.")
    ] = 2,
) -> None:
    """Predicted vs observed change in EU imports from the restricting country (registry).

    One row per case (scenarios/backtest_cases.yaml) with its codes, releases and caveats, and
    a summary: mean absolute error (pp) and direction right in N of M. JSON: summary, rows,
    skipped, releases; CSV: the rows (the summary on stderr). See docs/stress-tests.md.
    """
    from critmat.services import stress

    with user_errors(), store_readonly() as store:
        answer = stress.backtest_answer(store, licensing_delay)
    rows, summary = answer.rows, answer.summary
    if fmt is Format.csv:
        status(summary["line"])
    if emit_document(fmt, answer.document(), rows):
        return
    shown, notes = _backtest_table_rows(rows)
    releases = "; ".join(f"{r['series']}: {r['source']} {r['version']}" for r in answer.releases)
    caption = "\n".join(
        [
            summary["line"],
            f"licensing = {licensing_delay} months without exports, then normal",
            *answer.document()["notes"],
            f"trade releases read: {releases}",
            *notes,
            "left out: " + "; ".join(f"{r['id']} ({r['reason']})" for r in answer.skipped),
        ]
    )
    out.print(table("Stress-test backtest", BACKTEST_COLUMNS, shown, caption))


def _backtest_table_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows as the table shows them (missing values read "no data"; each row's caveats and
    notes as numbered references) and the numbered lines under the table."""
    shown: list[dict[str, Any]] = []
    lines: list[str] = []
    for row in rows:
        refs: list[str] = []
        for text in (t for t in (row["notes"], *row["caveats"].split(" | ")) if t):
            lines.append(f"[{len(lines) + 1}] {row['case']}: {text}")
            refs.append(str(len(lines)))
        cells = {key: "no data" if row[key] is None else row[key] for key in _BACKTEST_VALUES}
        extra = {
            "case": row["case"].replace("/", "/\n"),  # wraps in a narrow column
            "years": f"{row['before']}→{row['after']}",
            "note_refs": ",".join(refs),
        }
        shown.append({**row, **cells, **extra})
    return shown, lines


_BAND_COLUMNS = columns(
    *("demand_t", "shortfall_p5_t", "shortfall_p50_t", "shortfall_p95_t"),
    *("shortfall_p5_pct", "shortfall_p50_pct", "shortfall_p95_pct"),
)
MC_SUMMARY_COLUMNS = (*columns("importer"), *_BAND_COLUMNS, *columns("p_short"))
MC_MONTH_COLUMNS = (*columns("month"), *_BAND_COLUMNS)
PROGRESS_MIN_RUNS = 500
NO_UNCERTAINTY_HINT = (
    "add an `uncertainty:` block to the file or give --param, e.g. "
    "--param spare_capacity_fraction=uniform:0.05,0.2"
)


@stress_app.command("montecarlo")
def montecarlo_command(
    scenario: ScenarioArg,
    runs: Annotated[int, typer.Option("--runs", "-n", min=1, help="Number of runs.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of numpy's default_rng.")] = 0,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="An uncertain parameter KEY=KIND:a,b,... (uniform:low,high; "
            "triangular:low,mode,high; normal:mean,sd,low,high; choice:v1,v2,...); replaces the "
            "file's entry for KEY. Repeatable.",
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Dask distributed scheduler address (tcp://host:port); default "
            "CRITMAT_DASK_SCHEDULER, else local cores.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Local processes (default: 1 below 200,000 runs, else all)."
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    output: Annotated[
        Path | None, output_option("Write the bands per importer and month (CSV).")
    ] = None,
    stocks: StocksOpt = "scenario",
) -> None:
    """Monte Carlo: draw uncertain parameters, run N times, report p5/p50/p95 shortfall bands.

    Distributions come from the scenario's `uncertainty:` block and --param. Same seed, same
    bands, locally or on Dask. Table: summary per importer and EU27 by month; JSON: parameters,
    summary and bands; CSV: the bands. See docs/stress-tests.md.
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from critmat.cli_output import err
    from critmat.config import get_settings
    from critmat.services import stress, stress_output

    address = dask or get_settings().dask_scheduler
    stock_notes: tuple[str, ...] = ()
    with user_errors():
        from_ledger = _stock_source(stocks)
        prepared = stress.with_parameters(stress.load(scenario), param or [])
        if from_ledger:
            prepared, ledger = stress.with_ledger_stocks(prepared, None)
            stock_notes = ledger.notes
        stress.require_uncertainty(prepared, NO_UNCERTAINTY_HINT)
        baseline = _baseline(prepared.scenario)
        options: dict[str, Any] = {"scheduler": address, "workers": workers, "max_runs": None}
        started = time.perf_counter()
        if runs >= PROGRESS_MIN_RUNS and err.is_terminal:
            columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("runs", total=runs)
                result = stress.montecarlo(
                    prepared,
                    baseline,
                    runs,
                    seed,
                    progress=lambda done: bar.update(task, completed=done),
                    **options,
                )
        else:
            result = stress.montecarlo(prepared, baseline, runs, seed, **options)
        seconds = time.perf_counter() - started
    spec = prepared.scenario
    document = stress_output.montecarlo_document(result).model_dump()
    bands, summary, parameters = document["bands"], document["summary"], document["parameters"]
    meta = {
        **{key: document[key] for key in MONTECARLO_JSON_FIELDS},
        "backend": result.backend,
        "seconds": round(seconds, 3),
        "notes": [*document["notes"], *stock_notes],
    }
    if _save_and_emit(output, bands, "band", fmt, {**meta, "summary": summary, "bands": bands}):
        return
    caption = (
        f"{result.runs:,} runs, seed {seed}, {result.backend}, {seconds:.1f} s; "
        f"{baseline.material} · {baseline.stage}, tonnes over {spec.horizon_months} months\n"
        "drawn: " + "; ".join(f"{p['parameter']} ~ {p['distribution']}" for p in parameters)
    )
    if stock_notes:
        caption += "\nstock: " + "; ".join(stock_notes)
    out.print(table(f"{spec.title} — Monte Carlo", MC_SUMMARY_COLUMNS, summary, caption))
    eu_rows = [r for r in bands if r["importer"] == "EU27"]
    out.print(table("EU27 by month (bands over the runs)", MC_MONTH_COLUMNS, eu_rows))


def register(app: typer.Typer) -> None:
    """Add ``critmat stress`` (list, run, montecarlo, backtest) to ``app``."""
    app.add_typer(stress_app, name="stress")
