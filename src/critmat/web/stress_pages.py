"""The stress-test page: pick a library scenario or edit its YAML, run it, read the results.

- ``GET /stress?scenario=NAME``: the editor with the library file's YAML (HTMX: the body only);
- ``POST /stress/run`` (form: ``csrf_token, scenario, yaml, member, runs, seed``): validates the
  YAML like a scenario file, runs it once and, with ``runs`` > 0 and an ``uncertainty:`` block,
  as a Monte Carlo (≤ 5,000 runs, in-process); answers the page with the editor and the results
  — shortfall over time for EU27 and the chosen Member State (chart + table), the p5/p50/p95
  bands, the sector exposure and a summary of every importer. An invalid scenario is shown next
  to the editor, naming the field (status 422, or 200 to an HTMX request so that it is swapped);
- ``POST /stress/download/{table}.{fmt}`` (the same fields; ``table`` monthly, summary, bands or
  sectors; ``fmt`` csv or xlsx): the results as a download. A POST, because the scenario is the
  edited text; recomputing is cheap (the baseline is cached) and the Monte Carlo is
  reproducible (same seed, same bands).

Nothing is stored. The computing and bounds live in :mod:`critmat.api.routes.stress`, shared
with the API. Add with :func:`install` (after :func:`critmat.web.pages.install`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml
from fastapi import FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from critmat.api.routes import stress as st
from critmat.errors import CritmatError, InputFileError
from critmat.indicators.panel import country_name
from critmat.reference.sectors import load_sector_splits
from critmat.reports import charts
from critmat.scenarios.engine import Result, run, sector_exposure
from critmat.scenarios.montecarlo import MonteCarloResult
from critmat.scenarios.spec import library_names
from critmat.server.deps import Principal, StoreDep, UserCaller
from critmat.store import Store
from critmat.web import pages
from critmat.web.tables import Column, Table

Fmt = Literal["csv", "xlsx"]
TableName = Literal["monthly", "summary", "bands", "sectors"]
Figure = dict[str, Any]
MAX_YAML_CHARS = 20_000
DEFAULT_SCENARIO = "graphite-2023"
DEFAULT_RUNS = 500
EU_COLOUR = charts.OK_COLOUR
MEMBER_COLOUR = charts.OVER_COLOUR

ScenarioQ = Annotated[str, Query(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
YamlF = Annotated[str, Form(max_length=MAX_YAML_CHARS)]
ScenarioF = Annotated[str, Form(max_length=80)]
MemberF = Annotated[str, Form(max_length=4)]
RunsF = Annotated[int, Form(ge=0, le=st.MAX_RUNS)]
SeedF = Annotated[int, Form(ge=0, le=2**32 - 1)]


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
    result: Result
    montecarlo: MonteCarloResult | None
    mc_note: str | None  # why no Monte Carlo ran, if it did not
    member: str


def compute(
    request: Request, store: Store, text: str, member: str, runs: int, seed: int
) -> Outcome:
    """Parse, validate and run ``text``; :class:`ScenarioProblem` for what the user can fix."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ScenarioProblem(None, f"not valid YAML ({where}{problem})") from None
    try:
        prepared = st.prepare(None, raw)
    except InputFileError as exc:
        raise ScenarioProblem(exc.field, exc.reason, exc.hint) from None
    scenario = prepared.scenario
    try:
        baseline = st.baseline_for(request, store, scenario)
    except CritmatError as exc:
        raise ScenarioProblem("baseline", str(exc), exc.hint) from None
    result = run(scenario, baseline)
    chosen = member if member in baseline.members else _most_affected(result)
    mc: MonteCarloResult | None = None
    note: str | None = None
    if runs <= 0:
        note = "Monte Carlo not run (runs = 0)."
    elif not prepared.uncertainty.parameters:
        note = "Monte Carlo not run: the scenario has no `uncertainty:` block."
    else:
        mc = st.run_montecarlo_bounded(prepared, baseline, runs, seed)
    return Outcome(result, mc, note, chosen)


def _most_affected(result: Result) -> str:
    summary = result.summary()
    pct = summary["shortfall_pct"].fillna(0.0).to_numpy(dtype=float)[1:]
    if pct.size == 0 or float(pct.max()) <= 0:
        return "DEU" if "DEU" in result.baseline.members else result.baseline.members[0]
    return str(result.importers[1 + int(pct.argmax())])


# ================================================================================ tables
def _label(importer: str) -> str:
    return "EU27" if importer == "EU27" else f"{country_name(importer) or importer} ({importer})"


def _source(result: Result | MonteCarloResult) -> str:
    b = result.baseline
    return (
        f"critmat stress test '{result.scenario.name}' — {b.material}, {b.stage} (HS "
        f"{', '.join(b.hs_codes)}); baseline BACI {'/'.join(map(str, b.years))}; model and "
        "assumptions: docs/stress-tests.md"
    )


def _records(frame: Any) -> list[dict[str, Any]]:
    return st.rows(frame)


def monthly_table(result: Result, importers: Sequence[str] | None = None) -> Table:
    rows = _records(result.monthly())
    if importers is not None:
        rows = [r for r in rows if r["importer"] in importers]
    return Table(
        name="stress-monthly",
        title=f"{result.scenario.title}: supply and shortfall by month",
        columns=[
            Column("importer", "Importer"),
            Column("month", "Month"),
            Column("demand_t", "Demand (t)", "num", export_label="demand_t"),
            Column("supply_t", "Supply (t)", "num", export_label="supply_t"),
            Column("redirected_t", "Redirected (t)", "num", export_label="redirected_t"),
            Column(
                "demand_reduction_t", "Demand cut (t)", "num", export_label="demand_reduction_t"
            ),
            Column("stock_draw_t", "Stock drawn (t)", "num", export_label="stock_draw_t"),
            Column("shortfall_t", "Shortfall (t)", "num", export_label="shortfall_t"),
            Column("shortfall_pct", "Shortfall", "share", export_label="shortfall (0-1)"),
            Column("stock_t", "Stock (t)", "num", export_label="stock_t"),
            Column("days_of_cover", "Days of cover", "num", export_label="days_of_cover"),
        ],
        rows=rows,
        source=_source(result),
        year=f"{result.scenario.horizon_months} months from {result.months[0]}",
        notes=list(result.baseline.notes),
    )


def summary_table(result: Result) -> Table:
    return Table(
        name="stress-summary",
        title=f"{result.scenario.title}: summary per importer",
        columns=[
            Column("importer", "Importer"),
            Column("demand_source", "Demand from"),
            Column("demand_t", "Demand (t)", "num", export_label="demand_t"),
            Column("shortfall_t", "Shortfall (t)", "num", export_label="shortfall_t"),
            Column("shortfall_pct", "Shortfall", "share", export_label="shortfall (0-1)"),
            Column(
                "peak_shortfall_pct", "Worst month", "share", export_label="peak_shortfall (0-1)"
            ),
            Column("months_short", "Months short", "int"),
            Column("redirected_t", "Redirected (t)", "num", export_label="redirected_t"),
            Column("stock_drawn_t", "Stock drawn (t)", "num", export_label="stock_drawn_t"),
        ],
        rows=_records(result.summary()),
        source=_source(result),
        year=f"totals over {result.scenario.horizon_months} months",
        notes=list(result.baseline.notes),
    )


def sectors_table(result: Result) -> Table:
    return Table(
        name="stress-sectors",
        title=f"{result.scenario.title}: exposure of downstream sectors",
        columns=[
            Column("importer", "Importer"),
            Column("application", "Application"),
            Column("sector", "Sector"),
            Column("share", "Share of use", "share", export_label="share (0-1)"),
            Column("shortfall_t", "Shortfall (t)", "num", export_label="shortfall_t"),
            Column("estimate", "Estimate", "bool"),
            Column("source", "Source"),
        ],
        rows=_records(sector_exposure(result, load_sector_splits())),
        source=_source(result) + "; sector splits: reference/data/sector_splits.csv",
        year=f"totals over {result.scenario.horizon_months} months",
        notes=["the shortfall is shared pro rata over the material's applications"],
    )


def bands_table(mc: MonteCarloResult, importers: Sequence[str] | None = None) -> Table:
    rows = _records(mc.bands())
    if importers is not None:
        rows = [r for r in rows if r["importer"] in importers]
    drawn = "; ".join(f"{p.key} ~ {p.dist.describe()}" for p in mc.uncertainty.parameters)
    return Table(
        name="stress-bands",
        title=f"{mc.scenario.title}: Monte Carlo shortfall bands",
        columns=[
            Column("importer", "Importer"),
            Column("month", "Month"),
            Column("demand_t", "Demand (t)", "num", export_label="demand_t"),
            Column("shortfall_p5_t", "p5 (t)", "num", export_label="shortfall_p5_t"),
            Column("shortfall_p50_t", "p50 (t)", "num", export_label="shortfall_p50_t"),
            Column("shortfall_p95_t", "p95 (t)", "num", export_label="shortfall_p95_t"),
            Column("shortfall_p5_pct", "p5", "share", export_label="shortfall_p5 (0-1)"),
            Column("shortfall_p50_pct", "p50", "share", export_label="shortfall_p50 (0-1)"),
            Column("shortfall_p95_pct", "p95", "share", export_label="shortfall_p95 (0-1)"),
            Column("shortfall_mean_t", "Mean (t)", "num", export_label="shortfall_mean_t"),
        ],
        rows=rows,
        source=_source(mc),
        year=f"{mc.runs:,} runs, seed {mc.seed}",
        notes=[f"drawn: {drawn}", "monthly bands are per month, not one path"],
    )


# ================================================================================ figures
def _layout(height: int, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "font": {"family": charts.FONT, "size": 12, "color": "#1f2933"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": charts.FONT}},
        "hovermode": "x unified",
        "separators": ".,",
        "legend": {"orientation": "h", "y": -0.15},
        "xaxis": {"gridcolor": "#e5e7eb", "linecolor": "#cbd2d9", "automargin": True},
        "yaxis": {
            "title": {"text": y_title},
            "gridcolor": "#e5e7eb",
            "zerolinecolor": "#cbd2d9",
            "rangemode": "tozero",
            "automargin": True,
        },
    }
    layout.update(extra)
    return layout


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def shortfall_figure(result: Result, member: str) -> Figure:
    """Shortfall (% of demand) by month for EU27 and the Member State; tonnes in the hover."""
    traces = []
    for importer, colour in (("EU27", EU_COLOUR), (member, MEMBER_COLOUR)):
        k = result.importers.index(importer)
        pct = [_num(v) for v in result.shortfall_pct[k]]
        tonnes = [float(v) for v in result.shortfall[k]]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _label(importer),
                "x": list(result.months),
                "y": pct,
                "line": {"color": colour, "width": 2},
                "customdata": tonnes,
                "hovertemplate": "%{y:.1%} of demand (%{customdata:,.0f} t)<extra>"
                + _label(importer)
                + "</extra>",
            }
        )
    return {
        "data": traces,
        "layout": _layout(340, "shortfall, % of demand", yaxis=_pct_axis()),
    }


def _pct_axis() -> dict[str, Any]:
    return {
        "title": {"text": "shortfall, % of demand"},
        "tickformat": ".0%",
        "gridcolor": "#e5e7eb",
        "zerolinecolor": "#cbd2d9",
        "rangemode": "tozero",
        "automargin": True,
    }


def bands_figure(mc: MonteCarloResult, member: str) -> Figure:
    """p5–p95 band and p50 line of the shortfall (% of demand) for EU27 and the Member State."""
    pct = mc.shortfall_pct_bands  # quantile × importer × month
    months = list(mc.months)
    traces: list[dict[str, Any]] = []
    for importer, colour, fill in (
        ("EU27", EU_COLOUR, "rgba(59,110,168,0.18)"),
        (member, MEMBER_COLOUR, "rgba(194,65,12,0.18)"),
    ):
        k = mc.importers.index(importer)
        label = _label(importer)
        p5, p50, p95 = ([_num(v) for v in pct[q, k]] for q in range(3))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": months,
                "y": p95,
                "line": {"width": 0, "color": colour},
                "name": f"{label} p95",
                "showlegend": False,
                "hovertemplate": "p95 %{y:.1%}<extra>" + label + "</extra>",
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": months,
                "y": p5,
                "fill": "tonexty",
                "fillcolor": fill,
                "line": {"width": 0, "color": colour},
                "name": f"{label} p5–p95",
                "hovertemplate": "p5 %{y:.1%}<extra>" + label + "</extra>",
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": months,
                "y": p50,
                "line": {"color": colour, "width": 2},
                "name": f"{label} p50",
                "hovertemplate": "p50 %{y:.1%}<extra>" + label + "</extra>",
            }
        )
    return {"data": traces, "layout": _layout(360, "", yaxis=_pct_axis())}


def sectors_figure(table: Table, member: str) -> Figure | None:
    """Shortfall (t over the horizon) per application, EU27 and the Member State side by side."""
    if not table.rows:
        return None
    applications: list[str] = []
    for row in table.rows:
        label = f"{row['application']} ({row['sector']})"
        if label not in applications:
            applications.append(label)
    traces = []
    for importer, colour in (("EU27", EU_COLOUR), (member, MEMBER_COLOUR)):
        values = {
            f"{r['application']} ({r['sector']})": r["shortfall_t"]
            for r in table.rows
            if r["importer"] == importer
        }
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": _label(importer),
                "y": applications,
                "x": [values.get(a, 0.0) for a in applications],
                "marker": {"color": colour},
                "hovertemplate": "%{x:,.0f} t<extra>" + _label(importer) + "</extra>",
            }
        )
    layout = _layout(
        90 + 36 * len(applications),
        "",
        barmode="group",
        hovermode="closest",
        xaxis={
            "title": {"text": "shortfall over the horizon, t"},
            "gridcolor": "#e5e7eb",
            "rangemode": "tozero",
            "automargin": True,
        },
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return {"data": traces, "layout": layout}


# ================================================================================ rendering
def _library() -> list[dict[str, Any]]:
    return st.library_entries()


def _member_choices(members: Sequence[str]) -> list[tuple[str, str]]:
    return sorted(((m, _label(m)) for m in members), key=lambda item: item[1])


def _render(
    request: Request,
    principal: Principal,
    store: Store,
    *,
    scenario: str,
    text: str,
    member: str,
    runs: int,
    seed: int,
    outcome: Outcome | None = None,
    problem: ScenarioProblem | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "library": _library(),
        "scenario": scenario,
        "yaml_text": text,
        "member": member,
        "runs": runs,
        "seed": seed,
        "max_runs": st.MAX_RUNS,
        "max_chars": MAX_YAML_CHARS,
        "problem": problem,
        "outcome": outcome,
    }
    members = outcome.result.baseline.members if outcome else _default_members()
    context["members"] = _member_choices(members)
    if outcome is not None:
        result, chosen = outcome.result, outcome.member
        context["member"] = chosen
        context["member_label"] = _label(chosen)
        context["monthly"] = monthly_table(result, ["EU27", chosen])
        context["summary"] = summary_table(result)
        sectors = sectors_table(result)
        context["sectors"] = sectors
        context["shortfall_fig"] = shortfall_figure(result, chosen)
        context["sectors_fig"] = sectors_figure(sectors, chosen)
        context["kpi"] = _kpis(result, chosen)
        if outcome.montecarlo is not None:
            context["bands"] = bands_table(outcome.montecarlo, ["EU27", chosen])
            context["bands_fig"] = bands_figure(outcome.montecarlo, chosen)
    template = "stress_body.html" if pages.is_htmx(request) else "stress.html"
    return pages.page(
        request,
        template,
        principal,
        status=status,
        snap=None if pages.is_htmx(request) else pages.snapshot(request, store),
        **context,
    )


def _default_members() -> tuple[str, ...]:
    from critmat.indicators.refresh import default_importers

    return tuple(s.name for s in default_importers()[1:])


def _kpis(result: Result, member: str) -> dict[str, Any]:
    summary = {r["importer"]: r for r in _records(result.summary())}
    return {"eu": summary["EU27"], "member": summary[member]}


# ================================================================================ routes
def install(app: FastAPI) -> None:
    """Add the stress-test page and its downloads to ``app`` (after :func:`pages.install`)."""

    @app.get("/stress", response_class=HTMLResponse, include_in_schema=False)
    def stress_page(
        request: Request,
        principal: UserCaller,
        store: StoreDep,
        scenario: ScenarioQ = DEFAULT_SCENARIO,
    ) -> Response:
        name = scenario if scenario in library_names() else DEFAULT_SCENARIO
        return _render(
            request,
            principal,
            store,
            scenario=name,
            text=st.library_text(name),
            member="",
            runs=DEFAULT_RUNS,
            seed=0,
        )

    @app.post("/stress/run", response_class=HTMLResponse, include_in_schema=False)
    def stress_run(
        request: Request,
        principal: UserCaller,
        store: StoreDep,
        yaml_text: Annotated[str, Form(alias="yaml", max_length=MAX_YAML_CHARS)],
        scenario: ScenarioF = "",
        member: MemberF = "",
        runs: RunsF = DEFAULT_RUNS,
        seed: SeedF = 0,
    ) -> Response:
        """Computes only; nothing is stored (no audit record)."""
        common: dict[str, Any] = {
            "scenario": scenario,
            "text": yaml_text,
            "member": member,
            "runs": runs,
            "seed": seed,
        }
        try:
            outcome = compute(request, store, yaml_text, member, runs, seed)
        except ScenarioProblem as problem:
            code = 200 if pages.is_htmx(request) else 422
            return _render(request, principal, store, problem=problem, status=code, **common)
        return _render(request, principal, store, outcome=outcome, **common)

    @app.post("/stress/download/{table}.{fmt}", include_in_schema=False)
    def stress_download(
        request: Request,
        principal: UserCaller,
        store: StoreDep,
        table: Annotated[TableName, PathParam()],
        fmt: Annotated[Fmt, PathParam()],
        yaml_text: Annotated[str, Form(alias="yaml", max_length=MAX_YAML_CHARS)],
        member: MemberF = "",
        runs: RunsF = DEFAULT_RUNS,
        seed: SeedF = 0,
    ) -> Response:
        """The results as CSV or XLSX (recomputed; the Monte Carlo is reproducible)."""
        try:
            outcome = compute(
                request, store, yaml_text, member, runs if table == "bands" else 0, seed
            )
        except ScenarioProblem as problem:
            where = f"field '{problem.field}': " if problem.field else ""
            raise CritmatError(f"the scenario cannot run: {where}{problem.message}") from None
        result = outcome.result
        if table == "monthly":
            data = monthly_table(result)
        elif table == "summary":
            data = summary_table(result)
        elif table == "sectors":
            data = sectors_table(result)
        else:
            if outcome.montecarlo is None:
                raise CritmatError(outcome.mc_note or "Monte Carlo not run")
            data = bands_table(outcome.montecarlo)
        return pages.download(data, fmt, f"stress-{result.scenario.name}-{table}")
