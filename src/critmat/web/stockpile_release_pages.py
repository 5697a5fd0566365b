"""The stockpile release page (docs/stockpile-release.md), for stockpile analysis (analysts,
Member State users, admins):

- ``GET /stockpiles/release``: the form — stock (t), rule, and the requests: by default the
  Member States' shortfall per sector in a library stress run, with their pre-crisis
  consumption from the run's baseline (the store's data); with ``scenario`` and ``stock_t`` in
  the query, the result: a chart and a table per Member State and sector (audited);
- ``POST /stockpiles/release``: the same with an uploaded requests CSV (audited);
- ``GET /stockpiles/release/table.{csv|xlsx}?scenario=&stock_t=&rule=``: the table of a
  scenario's allocation as a download.

Everything is computed by :mod:`critmat.services.stockpile_release`; the figure comes from
:mod:`critmat.reports.charts.stockpile_release`. Add with :func:`install` (after
:func:`critmat.web.pages.install`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, Response

from critmat.errors import InputFileError
from critmat.reports.charts.stockpile_release import allocation_figure
from critmat.services import stockpile_release as service
from critmat.services import stress
from critmat.web.pages import PageCall
from critmat.web.render import Fmt, download
from critmat.web.stockpile_pages import AnalysisCall
from critmat.web.tables import Column, Table

BASE = "/stockpiles/release"
DEFAULT_SCENARIO = "rare-earths-2025-04"
DEFAULT_STOCK_T = 500.0
#: The largest requests file the page takes, bytes.
MAX_UPLOAD_BYTES = 2_000_000
COLUMNS = (
    Column("member_state", "Member State", "country"),
    Column("sector", "Sector"),
    Column("tier", "Tier", "int"),
    Column("requested_t", "Requested t", "num", "Requested (t)"),
    Column("consumption_t", "Consumption t/yr", "num", "Pre-crisis consumption (t/year)"),
    Column("allocated_t", "Allocated t", "num", "Allocated (t)"),
    Column("fill_rate", "Fill rate", "share"),
    Column("declined_t", "Declined t", "num", "Declined and passed on (t)"),
    Column("why", "Why"),
)
StockQ = Annotated[float | None, Query(ge=0, le=1e12)]
RuleQ = Annotated[service.Rule, Query()]
ScenarioQ = Annotated[str | None, Query(max_length=120)]


def _actor(call: PageCall) -> service.Actor:
    p = call.principal
    ip = call.request.client.host if call.request.client else None
    return service.Actor(p.email, p.user_id, p.organisation_id, ip)


def release_table(answer: service.ReleaseAnswer) -> Table:
    """The awards of ``answer`` as the page and the downloads show them."""
    return Table(
        name="release",
        title=f"Release of {answer.stock_t:,.3f} t — {answer.rule_text}",
        columns=COLUMNS,
        rows=[a.model_dump() for a in answer.awards],
        source=answer.source,
        notes=list(answer.notes),
    )


def _scenario_answer(
    call: PageCall, scenario: str, stock_t: float, rule: str, *, audited: bool
) -> service.ReleaseAnswer:
    return service.allocate_for_scenario(
        scenario,
        call.store,
        stock_t,
        rule,
        context=call.services,
        actor=_actor(call),
        database_url=call.request.app.state.settings.platform_url,
        audit_mode="required" if audited else "off",
    )


def _render(
    call: PageCall,
    answer: service.ReleaseAnswer | None,
    query: dict[str, object],
    *,
    uploaded: bool = False,
) -> HTMLResponse:
    return call.page(
        "stockpile_release.html",
        a=answer,
        table=release_table(answer) if answer else None,
        figure=allocation_figure(answer.member_states) if answer else None,
        scenarios=[e["name"] for e in stress.library_entries()],
        rules=[(r, service.RULE_TEXT[r]) for r in service.RULES],
        query=query,
        uploaded=uploaded,
        base=BASE,
    )


def install(app: FastAPI) -> None:
    """Add the release page and its download to ``app``."""

    @app.get(BASE, response_class=HTMLResponse, include_in_schema=False)
    def release_page(
        call: AnalysisCall,
        scenario: ScenarioQ = None,
        stock_t: StockQ = None,
        rule: RuleQ = "proportional",
    ) -> Response:
        query: dict[str, object] = {
            "scenario": scenario or DEFAULT_SCENARIO,
            "stock_t": DEFAULT_STOCK_T if stock_t is None else stock_t,
            "rule": rule,
        }
        answer = None
        if scenario and stock_t is not None:
            answer = _scenario_answer(call, scenario, stock_t, rule, audited=True)
        return _render(call, answer, query)

    @app.post(BASE, response_class=HTMLResponse, include_in_schema=False)
    async def release_upload(
        call: AnalysisCall,
        requests: Annotated[UploadFile, File()],
        stock_t: Annotated[float, Form(ge=0, le=1e12)],
        rule: Annotated[service.Rule, Form()] = "proportional",
    ) -> Response:
        raw = await requests.read(MAX_UPLOAD_BYTES + 1)
        name = requests.filename or "requests.csv"
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InputFileError(name, f"is larger than {MAX_UPLOAD_BYTES:,} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputFileError(name, "is not UTF-8 text", hint="save it as CSV UTF-8") from None
        answer = service.allocate_release(
            stock_t,
            service.read_requests(text, name),
            rule,
            source=f"uploaded file {name}",
            actor=_actor(call),
            database_url=call.request.app.state.settings.platform_url,
        )
        query: dict[str, object] = {"scenario": DEFAULT_SCENARIO, "stock_t": stock_t, "rule": rule}
        return _render(call, answer, query, uploaded=True)

    @app.get(BASE + "/table.{fmt}", include_in_schema=False)
    def release_download(
        call: AnalysisCall,
        fmt: Fmt,
        scenario: Annotated[str, Query(min_length=1, max_length=120)],
        stock_t: Annotated[float, Query(ge=0, le=1e12)],
        rule: RuleQ = "proportional",
    ) -> Response:
        answer = _scenario_answer(call, scenario, stock_t, rule, audited=False)
        return download(release_table(answer), fmt, f"release-{scenario}-{stock_t:g}t-{rule}")
