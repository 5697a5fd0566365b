"""The stockpile holdings page (docs/stockpiles.md), for stockpile analysis (analysts, Member
State users, admins):

- ``GET /stockpiles?material=``: stock against target per material and importer (bar chart and
  table; other organisations' unshared holdings pooled into EU27, with a note saying how much),
  and the journal of the holdings the caller sees in detail (its own and shared ones);
- ``GET /stockpiles/{positions|journal}.{csv|xlsx}?material=``: the same tables as downloads;
- ``GET /stockpiles/orgs/{org_id}`` (stockpile holdings: the organisation's own members of the
  roles that hold stock, and admins): its holders, lots with balances and journal;
  ``/stockpiles/orgs/{org_id}/{lots|journal}.{csv|xlsx}`` the tables as downloads.

Links to the sizing (``/stockpiles/sizing``) and release (``/stockpiles/release``) pages.
Everything comes from :mod:`critmat.services.stockpiles`; the figure from
:mod:`critmat.reports.charts.stockpiles`. Add with :func:`install` (after
:func:`critmat.web.pages.install`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from critmat.reports.charts.stockpiles import stock_against_target_figure
from critmat.server.access import STOCKPILE_ANALYSIS, STOCKPILE_HOLDINGS, AccessRule
from critmat.server.deps import Principal, StoreDep, allow
from critmat.server.params import DbId
from critmat.services import stockpiles as service
from critmat.web.pages import PageCall
from critmat.web.render import Fmt, download
from critmat.web.tables import Column, Table

BASE = "/stockpiles"
#: Journal entries the page shows (downloads: the service's page size).
JOURNAL_SHOWN = 50
POSITION_COLUMNS = (
    Column("material", "Material", "material"),
    Column("importer", "Importer"),
    Column("stock_t", "Stock t", "num", "Stock held (t)"),
    Column("target_t", "Target t", "num", "Stock target (t)"),
    Column("gap_t", "Stock − target t", "num", "Stock minus target (t)"),
    Column("holders", "Holders", "num"),
    Column("pooled_t", "Pooled t", "num", "Pooled from holdings shown as aggregates only (t)"),
    Column("target_source", "Target from"),
)
JOURNAL_COLUMNS = (
    Column("at", "When (UTC)"),
    Column("kind", "Kind"),
    Column("lot_id", "Lot", "num"),
    Column("material", "Material", "material"),
    Column("holder", "Holder"),
    Column("quantity_t", "t", "num", "Tonnes (+ into the lot, − out of it)"),
    Column("actor", "Who"),
    Column("reason", "Reason"),
    Column("idempotency_key", "Key"),
)
LOT_COLUMNS = (
    Column("id", "Lot", "int"),
    Column("holder", "Holder"),
    Column("material", "Material", "material"),
    Column("form", "Form"),
    Column("purity_pct", "Purity %", "num"),
    Column("location", "Location"),
    Column("acquired_on", "Acquired"),
    Column("cost_eur", "Cost EUR", "num", "Acquisition cost (EUR)"),
    Column("retest_on", "Re-test"),
    Column("balance_t", "Balance t", "num", "Balance, the sum of the journal (t)"),
)
TableName = Literal["positions", "journal"]
OrgTableName = Literal["lots", "journal"]
MaterialQ = Annotated[str | None, Query(max_length=100)]


def _page_call(rule: AccessRule) -> Callable[..., PageCall]:
    """The page dependency of a caller ``rule`` allows (its request, store and principal)."""

    # The check goes in as a default: the annotations are strings, read without this scope.
    checked = Depends(allow(rule))

    def call(request: Request, store: StoreDep, principal: Principal = checked) -> PageCall:
        return PageCall(request, store, principal)

    return call


AnalysisCall = Annotated[PageCall, Depends(_page_call(STOCKPILE_ANALYSIS))]
HoldingsCall = Annotated[PageCall, Depends(_page_call(STOCKPILE_HOLDINGS))]


def stock_viewer(call: PageCall, org_id: int | None = None) -> service.StockViewer:
    """The ledger's viewer: the caller, seeing as ``org_id`` when given (an admin acting for
    that organisation), else as its own organisation."""
    p = call.principal
    own = p.organisation_id if org_id is None else org_id
    return service.StockViewer(own, p.role.value, p.email, p.user_id)


def platform_url(call: PageCall) -> str:
    """The platform database (holdings ledger, audit) the app is configured with."""
    return str(call.request.app.state.settings.platform_url)


def tables(call: PageCall, material: str | None, journal_rows: int) -> dict[str, Table]:
    """The page's two tables (and downloads) with their provenance."""
    viewer = stock_viewer(call)
    answer = service.positions(viewer, material=material, database_url=platform_url(call))
    entries = service.journal(
        viewer, material=material, limit=journal_rows, database_url=platform_url(call)
    )
    day = f"as of {answer.as_of.isoformat()}"
    return {
        "positions": Table(
            "positions",
            "Stock against target",
            POSITION_COLUMNS,
            [asdict(r) for r in answer.rows],
            answer.provenance,
            day,
            list(answer.notes),
        ),
        "journal": Table(
            "journal",
            "Journal of the holdings you see in detail",
            JOURNAL_COLUMNS,
            [asdict(e) for e in entries],
            answer.provenance,
            day,
        ),
    }


def org_tables(call: PageCall, org_id: int) -> dict[str, Table]:
    """An organisation's lots and journal (the caller is one of its members, or an admin)."""
    viewer = stock_viewer(call, org_id)
    url = platform_url(call)
    lots = service.list_lots(viewer, organisation_id=org_id, database_url=url)
    entries = service.journal(viewer, organisation_id=org_id, database_url=url)
    source = service.PROVENANCE
    return {
        "lots": Table("lots", "Lots", LOT_COLUMNS, [asdict(x) for x in lots], source),
        "journal": Table(
            "journal", "Journal", JOURNAL_COLUMNS, [asdict(e) for e in entries], source
        ),
    }


def install(app: FastAPI) -> None:
    """Add the holdings page and its downloads to ``app``."""

    @app.get(BASE, response_class=HTMLResponse, include_in_schema=False)
    def stockpiles_page(call: AnalysisCall, material: MaterialQ = None) -> Response:
        shown = tables(call, material or None, JOURNAL_SHOWN)
        return call.page(
            "stockpiles.html",
            base=BASE,
            query={"material": material} if material else {},
            material=material or "",
            positions=shown["positions"],
            journal=shown["journal"],
            figure=stock_against_target_figure(shown["positions"].rows),
        )

    @app.get(BASE + "/{name}.{fmt}", include_in_schema=False)
    def stockpiles_download(
        call: AnalysisCall, name: TableName, fmt: Fmt, material: MaterialQ = None
    ) -> Response:
        table = tables(call, material or None, service.JOURNAL_PAGE)[name]
        return download(table, fmt, f"stockpiles-{name}-{material or 'all'}")

    @app.get(BASE + "/orgs/{org_id}", response_class=HTMLResponse, include_in_schema=False)
    def holdings_page(call: HoldingsCall, org_id: DbId) -> Response:
        shown = org_tables(call, org_id)
        holders = service.list_holders(
            stock_viewer(call), organisation_id=org_id, database_url=platform_url(call)
        )
        return call.page(
            "stockpile_holdings.html",
            base=f"{BASE}/orgs/{org_id}",
            holders=holders,
            lots=shown["lots"],
            journal=shown["journal"],
        )

    @app.get(BASE + "/orgs/{org_id}/{name}.{fmt}", include_in_schema=False)
    def holdings_download(
        call: HoldingsCall, org_id: DbId, name: OrgTableName, fmt: Fmt
    ) -> Response:
        return download(org_tables(call, org_id)[name], fmt, f"stockpiles-org{org_id}-{name}")
