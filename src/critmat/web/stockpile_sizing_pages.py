"""The stockpile sizing page (docs/stockpile-sizing.md), for stockpile analysis (analysts,
Member State users, admins):

- ``GET /stockpiles/sizing``: the form; with ``materials`` in the query, the result — the sized
  stock per material and importer beside the 60- and 100-day rules, the cost curves (chart and
  table), the MILP's size, the scenarios, runs, seed and releases read;
- ``GET /stockpiles/sizing/{stocks|curve}.{csv|xlsx}?…``: the same query's tables as downloads;
- ``POST /stockpiles/sizing/target?…`` (the same query; form: ``csrf_token``): stores each sized
  stock as its stock target through the holdings ledger (audited; a Member State user may only
  set its own country's), then shows the result with a notice.

Everything is computed by :mod:`critmat.services.stockpile_sizing`; the figure comes from
:mod:`critmat.reports.charts.stockpile_sizing`. Add with :func:`install` (after
:func:`critmat.web.pages.install`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from critmat.reports.charts.stockpile_sizing import cost_curve_figure
from critmat.services import stockpile_sizing as sizing
from critmat.stockpiles.sizing import SizingError
from critmat.web.pages import PageCall
from critmat.web.render import Fmt, download
from critmat.web.stockpile_pages import AnalysisCall, platform_url, stock_viewer
from critmat.web.tables import Column, Table

BASE = "/stockpiles/sizing"
DEFAULT_MATERIALS = "rare_earths cobalt"
DEFAULT_RUNS = 500
#: The most materials one page request sizes.
MAX_MATERIALS = 8
#: The most runs of every scenario together one page request computes.
MAX_TOTAL_RUNS = 10_000

STOCK_COLUMNS = (
    Column("material", "Material", "material"),
    Column("importer", "Importer"),
    Column("stock_t", "Stock t", "num", "Sized stock (t)"),
    Column("held_t", "Held t", "num", "Held (t)"),
    Column("buy_t", "To buy t", "num", "To buy (t)"),
    Column("share_runs_covered", "Runs covered", "share"),
    Column("share_shortfall_covered", "Shortfall covered", "share"),
    Column("cost_eur", "Cost EUR", "num", "Cost, purchase plus holding (EUR)"),
    Column("stock_days", "Days of demand", "num"),
    Column("days60_t", "60 days t", "num", "60 days of demand, JOGMEC (t)"),
    Column("days100_t", "100 days t", "num", "100 days of demand, KOMIR (t)"),
    Column("demand_basis", "Demand from"),
    Column("share_demand_apparent_consumption", "MS demand from consumption", "share"),
    Column("weight", "Weight", "num"),
)
CURVE_COLUMNS = (
    Column("material", "Material", "material"),
    Column("importer", "Importer"),
    Column("stock_t", "Stock t", "num", "Stock (t)"),
    Column("share_shortfall_covered", "Shortfall covered", "share"),
    Column("share_runs_covered", "Runs fully covered", "share"),
    Column("cost_eur", "Cost EUR", "num", "Cost, purchase plus holding (EUR)"),
)
TableName = Literal["stocks", "curve"]


@dataclass(frozen=True)
class SizingForm:
    """The page's fields (query string of the GET, form of the POST)."""

    materials: str = DEFAULT_MATERIALS  # names separated by spaces or commas
    scenarios: str = ""  # library names separated by spaces or commas ("" = all of each)
    runs: int = DEFAULT_RUNS
    seed: int = 1
    confidence: float = 0.95
    horizon: int = 24
    budget: float | None = None
    price: str = ""  # "30000" or "cobalt=33000, rare_earths=60000"
    holding_cost: float = 0.02
    member_states: bool = False

    def query(self) -> dict[str, object]:
        """The fields as a query string holds them (empty ones left out)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "", False)}

    def request(self) -> sizing.SizingRequest:
        if len(_words(self.materials)) > MAX_MATERIALS:
            raise SizingError(f"at most {MAX_MATERIALS} materials on the page")
        return sizing.SizingRequest(
            materials=_words(self.materials),
            scenarios=_words(self.scenarios),
            runs=self.runs,
            seed=self.seed,
            confidence=self.confidence,
            horizon_months=self.horizon,
            budget_eur=self.budget,
            prices_eur_t=sizing.parse_prices(_words(self.price)),
            holding_cost=self.holding_cost,
            member_states=self.member_states,
        )


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in text.replace(",", " ").split() if w)


Text = Annotated[str, Query(max_length=400)]


def _form(
    materials: Text = "",
    scenarios: Text = "",
    runs: Annotated[int, Query(ge=1, le=sizing.MAX_RUNS)] = DEFAULT_RUNS,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 1,
    confidence: Annotated[float, Query(gt=0, le=1)] = 0.95,
    horizon: Annotated[int, Query(ge=1, le=sizing.MAX_HORIZON)] = 24,
    budget: Annotated[float | None, Query(gt=0, le=1e15)] = None,
    price: Text = "",
    holding_cost: Annotated[float, Query(ge=0, le=1)] = 0.02,
    member_states: bool = False,
) -> SizingForm:
    return SizingForm(
        materials,
        scenarios,
        runs,
        seed,
        confidence,
        horizon,
        budget,
        price,
        holding_cost,
        member_states,
    )


FormQ = Annotated[SizingForm, Depends(_form)]


def _answer(call: PageCall, form: SizingForm) -> sizing.SizingAnswer:
    return sizing.size(
        form.request(), call.store, context=call.services, max_total_runs=MAX_TOTAL_RUNS
    )


def tables(answer: sizing.SizingAnswer) -> dict[str, Table]:
    """The page's two tables (and downloads), with their provenance."""
    document = sizing.document(answer)
    names = ", ".join(s["name"] for s in answer.scenarios)
    releases = "; ".join(f"{r['source']} {r['version']}" for r in answer.releases)
    source = (
        f"critmat stress engine, scenarios {names}; {answer.request.runs:,} runs each, seed "
        f"{answer.request.seed}; {releases}"
    )
    period = f"{answer.request.horizon_months} months"
    return {
        "stocks": Table(
            "stocks",
            "Sized stocks",
            STOCK_COLUMNS,
            document["items"],
            source,
            period,
            list(document["notes"]),
        ),
        "curve": Table("curve", "Cost curves", CURVE_COLUMNS, document["curve"], source, period),
    }


def _render(
    call: PageCall, form: SizingForm, answer: sizing.SizingAnswer | None, notice: str = ""
) -> HTMLResponse:
    context: dict[str, Any] = {"form": form, "query": form.query(), "base": BASE, "a": None}
    if answer is not None:
        shown = tables(answer)
        context.update(
            a=answer,
            stocks=shown["stocks"],
            curve=shown["curve"],
            figure=cost_curve_figure(shown["curve"].rows, shown["stocks"].rows),
            target_source=sizing.target_source(answer),
        )
    return call.page("stockpile_sizing.html", notice=notice, max_runs=sizing.MAX_RUNS, **context)


def install(app: FastAPI) -> None:
    """Add the sizing page, its downloads and "save as target" to ``app``."""

    @app.get(BASE, response_class=HTMLResponse, include_in_schema=False)
    def sizing_page(call: AnalysisCall, form: FormQ) -> Response:
        if not form.materials:
            return _render(call, SizingForm(), None)
        return _render(call, form, _answer(call, form))

    @app.get(BASE + "/{table}.{fmt}", include_in_schema=False)
    def sizing_download(call: AnalysisCall, table: TableName, fmt: Fmt, form: FormQ) -> Response:
        answer = _answer(call, form)
        return download(tables(answer)[table], fmt, f"stockpile-sizing-{table}")

    @app.post(BASE + "/target", response_class=HTMLResponse, include_in_schema=False)
    def sizing_target(call: AnalysisCall, form: FormQ) -> Response:
        """Stores the targets (audited by the ledger); the sizing's fields are in the query,
        the CSRF token in the form."""
        answer = _answer(call, form)
        viewer = stock_viewer(call)
        saved = sizing.save_targets(answer, viewer, database_url=platform_url(call))
        notice = f"Stored {len(saved)} stock target(s): {sizing.target_source(answer)}."
        return _render(call, form, answer, notice)
