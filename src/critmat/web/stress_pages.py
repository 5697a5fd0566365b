"""The stress-test page: pick a library scenario or edit its YAML, run it, read the results.

- ``GET /stress?scenario=NAME``: the editor with the library file's YAML (HTMX: the body only);
- ``POST /stress/run`` (form: ``csrf_token, scenario, yaml, member, runs, seed, stocks``; the
  checkbox ``stocks=ledger`` runs on the stockpile ledger's positions as the user may see them,
  with a stock table: stock beside target, drawn, days of cover): validates the
  YAML like a scenario file, runs it once and, with ``runs`` > 0 and an ``uncertainty:`` block,
  as a Monte Carlo (≤ 5,000 runs, in-process); answers the page with the editor and the results
  — shortfall over time for EU27 and the chosen Member State (chart + table), the p5/p50/p95
  bands, the sector exposure and a summary of every importer. An invalid scenario is shown next
  to the editor, naming the field (status 422, or 200 to an HTMX request so that it is swapped);
- ``POST /stress/download/{table}.{fmt}`` (the same fields; ``table`` monthly, summary, bands,
  sectors or stocks; ``fmt`` csv or xlsx): the results as a download. A POST, because the
  scenario is the edited text; recomputing is cheap (the baseline is remembered) and the
  Monte Carlo is reproducible (same seed, same bands).

Nothing is stored. The answers come from :mod:`critmat.services.stress` (baselines remembered in
the app's one cache, ``app.state.services``), the figures from
:mod:`critmat.reports.charts.stress`. Add with :func:`install` (after
:func:`critmat.web.pages.install`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from critmat.errors import CritmatError, InputFileError
from critmat.reports.charts import stress as figures
from critmat.scenarios.engine import Result
from critmat.scenarios.montecarlo import MonteCarloResult
from critmat.server.deps import Principal, StoreDep, UserCaller
from critmat.services import stress
from critmat.services import stress_output as output
from critmat.services.context import ServiceContext
from critmat.web import pages
from critmat.web.pages import PageCall
from critmat.web.tables import Column, Kind, Table

Fmt = Literal["csv", "xlsx"]
TableName = Literal["monthly", "summary", "bands", "sectors", "stocks"]
MAX_YAML_CHARS = 20_000
DEFAULT_SCENARIO = "graphite-2023"
DEFAULT_RUNS = 500

ScenarioQ = Annotated[str, Query(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
YamlF = Annotated[str, Form(alias="yaml", max_length=MAX_YAML_CHARS)]
ScenarioF = Annotated[str, Form(max_length=80)]
MemberF = Annotated[str, Form(max_length=4)]
RunsF = Annotated[int, Form(ge=0, le=stress.MAX_RUNS)]
SeedF = Annotated[int, Form(ge=0, le=2**32 - 1)]
#: The checkbox "stocks from the ledger": ``ledger`` when ticked, absent (``""``) otherwise.
StocksF = Annotated[Literal["", "ledger"], Form()]


# ================================================================================ computing
class ScenarioProblem(Exception):
    """An edited scenario that cannot run: ``field`` (None = the whole text) and ``message``."""

    def __init__(self, field: str | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Outcome:
    """What the page shows of a run: the run, its Monte Carlo (or why none ran) and the Member
    State shown beside EU27."""

    result: Result
    montecarlo: MonteCarloResult | None
    mc_note: str | None  # why no Monte Carlo ran, if it did not
    member: str
    stocks: output.LedgerStocks | None = None  # the ledger's positions, if the run used them


def _ledger(
    request: Request, principal: Principal, prepared: stress.Prepared
) -> tuple[stress.Prepared, output.LedgerStocks]:
    """``prepared`` on the ledger's positions as ``principal`` may see them."""
    from critmat.services.stockpiles import StockViewer

    viewer = StockViewer(
        principal.organisation_id, principal.role.value, principal.email, principal.user_id
    )
    url = request.app.state.settings.platform_url
    try:
        return stress.with_ledger_stocks(prepared, viewer, database_url=url)
    except stress.EmptyLedger as exc:
        raise ScenarioProblem("stocks", str(exc), exc.hint) from None


def compute(
    call: PageCall, text: str, member: str, runs: int, seed: int, from_ledger: bool = False
) -> Outcome:
    """Validate and run ``text`` (on the ledger's stock if ``from_ledger``);
    :class:`ScenarioProblem` for what the user can fix."""
    request, store = call.request, call.store
    try:
        prepared = stress.prepare_text(text)
    except InputFileError as exc:
        raise ScenarioProblem(exc.field, exc.reason, exc.hint) from None
    stocks = None
    if from_ledger:
        prepared, stocks = _ledger(request, call.principal, prepared)
    services: ServiceContext = request.app.state.services
    try:
        baseline = stress.baseline(store, prepared.scenario, services)
    except CritmatError as exc:
        raise ScenarioProblem("baseline", str(exc), exc.hint) from None
    result = stress.run(prepared, baseline)
    chosen = member if member in baseline.members else _most_affected(result)
    bands = stress.montecarlo_if_uncertain(prepared, baseline, runs, seed)
    return Outcome(result, bands.result, bands.note, chosen, stocks)


def _most_affected(result: Result) -> str:
    """The most affected Member State; Germany (else the first) when none is short."""
    members = result.baseline.members
    return output.most_affected_member(result) or ("DEU" if "DEU" in members else members[0])


# ================================================================================ tables
BAND_PERCENTILES = ("p5", "p50", "p95")
#: Label and kind of every column the stress tables show, by row key: a key reads the same in
#: every table.
STRESS_COLUMNS: dict[str, tuple[str, Kind]] = {
    "importer": ("Importer", "text"),
    "month": ("Month", "text"),
    "demand_source": ("Demand from", "text"),
    "application": ("Application", "text"),
    "sector": ("Sector", "text"),
    "source": ("Source", "text"),
    "estimate": ("Estimate", "bool"),
    "months_short": ("Months short", "int"),
    "demand_t": ("Demand (t)", "num"),
    "supply_t": ("Supply (t)", "num"),
    "redirected_t": ("Redirected (t)", "num"),
    "demand_reduction_t": ("Demand cut (t)", "num"),
    "stock_draw_t": ("Stock drawn (t)", "num"),
    "stock_drawn_t": ("Stock drawn (t)", "num"),
    "shortfall_t": ("Shortfall (t)", "num"),
    "stock_t": ("Stock (t)", "num"),
    "days_of_cover": ("Days of cover", "num"),
    "shortfall_mean_t": ("Mean (t)", "num"),
    **{f"shortfall_{p}_t": (f"{p} (t)", "num") for p in BAND_PERCENTILES},
    "stock_start_t": ("Stock at start (t)", "num"),
    "target_t": ("Target (t)", "num"),
    "stock_minus_target_t": ("Stock − target (t)", "num"),
    "stock_end_t": ("Stock left (t)", "num"),
    "days_of_cover_start": ("Days of cover at start", "num"),
    "days_of_cover_min": ("Lowest days of cover", "num"),
    "days_of_cover_end": ("Days of cover at end", "num"),
    "target_days_of_cover": ("Days of cover of target", "num"),
    "shortfall_pct": ("Shortfall", "share"),
    "peak_shortfall_pct": ("Worst month", "share"),
    "share": ("Share of use", "share"),
    **{f"shortfall_{p}_pct": (p, "share") for p in BAND_PERCENTILES},
}


def _column(key: str) -> Column:
    """The column of row key ``key``: a download heads a number by its key and a share by its
    key without ``_pct``, as a fraction (``shortfall (0-1)``); text by its label."""
    label, kind = STRESS_COLUMNS[key]
    download = {"num": key, "share": f"{key.removesuffix('_pct')} (0-1)"}.get(kind)
    return Column(key, label, kind, export_label=download)


def _columns(*keys: str) -> tuple[Column, ...]:
    """The columns of ``keys``, in their order."""
    return tuple(_column(key) for key in keys)


MONTHLY_COLUMNS = _columns(
    *("importer", "month", "demand_t", "supply_t", "redirected_t", "demand_reduction_t"),
    *("stock_draw_t", "shortfall_t", "shortfall_pct", "stock_t", "days_of_cover"),
)
SUMMARY_COLUMNS = _columns(
    *("importer", "demand_source", "demand_t", "shortfall_t", "shortfall_pct"),
    *("peak_shortfall_pct", "months_short", "redirected_t", "stock_drawn_t"),
)
SECTOR_COLUMNS = _columns(
    "importer", "application", "sector", "share", "shortfall_t", "estimate", "source"
)
STOCK_COLUMNS = _columns(
    *("importer", "stock_start_t", "target_t", "stock_minus_target_t", "stock_drawn_t"),
    *("stock_end_t", "days_of_cover_start", "days_of_cover_min", "target_days_of_cover"),
)
BAND_COLUMNS = _columns(
    *("importer", "month", "demand_t"),
    *(f"shortfall_{p}_t" for p in BAND_PERCENTILES),
    *(f"shortfall_{p}_pct" for p in BAND_PERCENTILES),
    "shortfall_mean_t",
)


def _shown(
    table: output.StressTable, columns: Sequence[Column], importers: Sequence[str] | None = None
) -> Table:
    """The service's table with the page's columns (rows of ``importers`` only, if given)."""
    return Table(
        name=table.name,
        title=table.title,
        columns=columns,
        rows=table.of(importers),
        source=table.source,
        year=table.period,
        notes=list(table.notes),
    )


def monthly_table(result: Result, importers: Sequence[str] | None = None) -> Table:
    return _shown(output.monthly_table(result), MONTHLY_COLUMNS, importers)


def summary_table(result: Result) -> Table:
    return _shown(output.summary_table(result), SUMMARY_COLUMNS)


def sectors_table(result: Result) -> Table:
    return _shown(output.sectors_table(result), SECTOR_COLUMNS)


def bands_table(mc: MonteCarloResult, importers: Sequence[str] | None = None) -> Table:
    return _shown(output.bands_table(mc), BAND_COLUMNS, importers)


def stocks_table(result: Result, stocks: output.LedgerStocks) -> Table:
    return _shown(output.stocks_table(result, stocks), STOCK_COLUMNS)


# ================================================================================ rendering
def _member_choices(members: Sequence[str]) -> list[tuple[str, str]]:
    return sorted(((m, output.importer_label(m)) for m in members), key=lambda item: item[1])


def _results(outcome: Outcome) -> dict[str, Any]:
    """The results part of the page: KPIs, tables and figures for EU27 and the Member State."""
    result, chosen = outcome.result, outcome.member
    summary = summary_table(result)
    sectors = sectors_table(result)
    by_importer = {r["importer"]: r for r in summary.rows}
    context: dict[str, Any] = {
        "member": chosen,
        "member_label": output.importer_label(chosen),
        "monthly": monthly_table(result, ["EU27", chosen]),
        "summary": summary,
        "sectors": sectors,
        "shortfall_fig": figures.shortfall_figure(result, chosen),
        "sectors_fig": figures.sectors_figure(sectors.rows, chosen),
        "kpi": {"eu": by_importer["EU27"], "member": by_importer[chosen]},
    }
    if outcome.stocks is not None:
        context["stock_table"] = stocks_table(result, outcome.stocks)
    if outcome.montecarlo is not None:
        context["bands"] = bands_table(outcome.montecarlo, ["EU27", chosen])
        context["bands_fig"] = figures.bands_figure(outcome.montecarlo, chosen)
    return context


@dataclass(frozen=True)
class Editor:
    """What the editor holds: the library scenario's name, the YAML text, the Member State
    asked for ("" = the most affected), the Monte Carlo runs and its seed."""

    scenario: str
    text: str
    member: str
    runs: int
    seed: int
    stocks: str = ""  # "ledger": stock from the stockpile ledger


def _render(
    call: PageCall,
    editor: Editor,
    outcome: Outcome | None = None,
    problem: ScenarioProblem | None = None,
    status: int = 200,
) -> Response:
    members = outcome.result.baseline.members if outcome else stress.member_states()
    context: dict[str, Any] = {
        "library": stress.library_entries(),
        "scenario": editor.scenario,
        "yaml_text": editor.text,
        "member": editor.member,
        "members": _member_choices(members),
        "runs": editor.runs,
        "seed": editor.seed,
        "stocks": editor.stocks,
        "max_runs": stress.MAX_RUNS,
        "max_chars": MAX_YAML_CHARS,
        "problem": problem,
        "outcome": outcome,
    }
    if outcome is not None:
        context.update(_results(outcome))
    htmx = pages.is_htmx(call.request)
    return pages.page(
        call.request,
        "stress_body.html" if htmx else "stress.html",
        call.principal,
        status=status,
        snap=None if htmx else call.snap,
        **context,
    )


def _download_table(outcome: Outcome, table: TableName) -> Table:
    if table == "monthly":
        return monthly_table(outcome.result)
    if table == "summary":
        return summary_table(outcome.result)
    if table == "sectors":
        return sectors_table(outcome.result)
    if table == "stocks":
        if outcome.stocks is None:
            raise CritmatError("no stock table: tick 'stock from the ledger' and run again")
        return stocks_table(outcome.result, outcome.stocks)
    if outcome.montecarlo is None:
        raise CritmatError(outcome.mc_note or "Monte Carlo not run")
    return bands_table(outcome.montecarlo)


# ================================================================================ routes
def _stress_call(request: Request, principal: UserCaller, store: StoreDep) -> PageCall:
    return PageCall(request, store, principal)


#: The stress pages' request, caller and store (the caller is checked before the store opens).
StressCall = Annotated[PageCall, Depends(_stress_call)]


def install(app: FastAPI) -> None:
    """Add the stress-test page and its downloads to ``app`` (after :func:`pages.install`)."""

    @app.get("/stress", response_class=HTMLResponse, include_in_schema=False)
    def stress_page(call: StressCall, scenario: ScenarioQ = DEFAULT_SCENARIO) -> Response:
        name = scenario if scenario in stress.library().names else DEFAULT_SCENARIO
        return _render(call, Editor(name, stress.library_text(name), "", DEFAULT_RUNS, 0))

    @app.post("/stress/run", response_class=HTMLResponse, include_in_schema=False)
    def stress_run(
        call: StressCall,
        yaml_text: YamlF,
        scenario: ScenarioF = "",
        member: MemberF = "",
        runs: RunsF = DEFAULT_RUNS,
        seed: SeedF = 0,
        stocks: StocksF = "",
    ) -> Response:
        """Computes only; nothing is stored (no audit record)."""
        editor = Editor(scenario, yaml_text, member, runs, seed, stocks)
        try:
            outcome = compute(call, yaml_text, member, runs, seed, stocks == "ledger")
        except ScenarioProblem as problem:
            code = 200 if pages.is_htmx(call.request) else 422
            return _render(call, editor, problem=problem, status=code)
        return _render(call, editor, outcome=outcome)

    @app.post("/stress/download/{table}.{fmt}", include_in_schema=False)
    def stress_download(
        call: StressCall,
        table: Annotated[TableName, PathParam()],
        fmt: Annotated[Fmt, PathParam()],
        yaml_text: YamlF,
        member: MemberF = "",
        runs: RunsF = DEFAULT_RUNS,
        seed: SeedF = 0,
        stocks: StocksF = "",
    ) -> Response:
        """The results as CSV or XLSX (recomputed; the Monte Carlo is reproducible)."""
        bands_runs = runs if table == "bands" else 0
        try:
            outcome = compute(call, yaml_text, member, bands_runs, seed, stocks == "ledger")
        except ScenarioProblem as problem:
            where = f"field '{problem.field}': " if problem.field else ""
            raise CritmatError(f"the scenario cannot run: {where}{problem.message}") from None
        data = _download_table(outcome, table)
        return pages.download(data, fmt, f"stress-{outcome.result.scenario.name}-{table}")
