"""Strategic stockpiles over the API: the holdings ledger (docs/stockpiles.md).

Access: an organisation's holdings (``/orgs/{org_id}/…``: holders, lots, journal, bookings and
the positions as that organisation sees them) follow ``stockpile-holdings`` — its own members of
the roles that hold stock, and admins. The aggregate positions and stock targets
(``/positions``, ``/targets``) follow ``stockpile-analysis``; there another organisation's
holdings that are not shared appear only pooled into the EU27 figure. Refusals of the ledger
answer ``{"error", "hint", "problems": [{"where", "problem"}]}`` with 404, 409 or 422.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from critmat.config import Settings
from critmat.server.access import STOCKPILE_ANALYSIS, STOCKPILE_HOLDINGS
from critmat.server.deps import Principal, require
from critmat.server.errors import responses
from critmat.server.params import NO_NUL, DbId, DbIdField, Limit
from critmat.services import stockpiles as service
from critmat.stockpiles.ledger import BookingKind, BookingRequest, LedgerError, LotSpec

router = APIRouter(prefix="/api/v1/stockpiles", tags=["stockpiles"])
HoldingsCaller = Annotated[Principal, require(STOCKPILE_HOLDINGS)]
AnalysisCaller = Annotated[Principal, require(STOCKPILE_ANALYSIS)]
MaterialQ = Annotated[str | None, Query(max_length=100, pattern=NO_NUL, description="Material.")]
Text = Annotated[str, Field(max_length=200, pattern=NO_NUL)]
T = TypeVar("T")


class HolderIn(BaseModel):
    name: Text
    level: Literal["eu", "member_state", "company"]
    country: Annotated[str | None, Field(max_length=3, description="Member State ISO3.")] = None
    shared: bool = Field(False, description="Let every stockpile user see its lots and journal.")


class NewLotIn(BaseModel):
    """The lot a purchase opens."""

    holder_id: DbIdField
    material: Text
    form: Text = Field(description="oxide, metal, alloy, concentrate, …")
    location: Text
    acquired_on: date
    purity_pct: float | None = Field(None, gt=0, le=100)
    cost_eur: float | None = Field(None, ge=0, description="Cost of the whole lot, EUR.")
    retest_on: date | None = Field(None, description="Shelf-life or re-test day.")


class BookingIn(BaseModel):
    """A booking; the idempotency key comes in the ``Idempotency-Key`` header or here."""

    kind: Literal["purchase", "transfer", "rotation", "release", "write-off"]
    quantity_t: float = Field(gt=0, le=1e12, description="Tonnes moved (> 0).")
    lot_id: DbIdField | None = Field(None, description="The lot (omit when new_lot opens one).")
    into_lot_id: DbIdField | None = Field(None, description="Receiving lot (transfer, rotation).")
    reason: Annotated[str, Field(max_length=1000, pattern=NO_NUL)] = ""
    new_lot: NewLotIn | None = None
    idempotency_key: Text | None = None


class TargetIn(BaseModel):
    material: Text
    importer: Annotated[str, Field(max_length=10, description="EU27 or a Member State ISO3.")]
    target_t: float = Field(ge=0, le=1e12, description="Stock target, tonnes.")
    source: Annotated[str, Field(min_length=1, max_length=1000, pattern=NO_NUL)]


def platform_url(request: Request) -> str:
    """The platform database (holdings ledger, audit) the app is configured with."""
    settings: Settings = request.app.state.settings
    return settings.platform_url


def stock_viewer(principal: Principal, org_id: int | None = None) -> service.StockViewer:
    """The service's viewer: the caller, seeing as ``org_id`` when an admin acts for it."""
    own = principal.organisation_id if org_id is None else org_id
    return service.StockViewer(own, principal.role.value, principal.email, principal.user_id)


def _refusal(exc: LedgerError) -> JSONResponse:
    body = {"error": str(exc), "hint": exc.hint, "problems": exc.problems()}
    return JSONResponse(body, status_code=exc.status)


def _answer(call: Callable[[], T]) -> Any:
    """``call()``'s answer as JSON-ready data, or the ledger's refusal."""
    try:
        result = call()
    except LedgerError as exc:
        return _refusal(exc)
    if isinstance(result, list):
        return [asdict(item) for item in result]
    return asdict(result)  # type: ignore[call-overload]


LEDGER_ERRORS = responses(403, 404, 409, 422)


@router.get("/orgs/{org_id}/holders", responses=LEDGER_ERRORS)
def list_holders(org_id: DbId, request: Request, principal: HoldingsCaller) -> Any:
    """The organisation's stock holders."""
    return _answer(
        lambda: service.list_holders(
            stock_viewer(principal, org_id),
            organisation_id=org_id,
            database_url=platform_url(request),
        )
    )


@router.post("/orgs/{org_id}/holders", status_code=201, responses=LEDGER_ERRORS)
def add_holder(org_id: DbId, body: HolderIn, request: Request, principal: HoldingsCaller) -> Any:
    """Register a holder owned by the organisation."""
    return _answer(
        lambda: service.add_holder(
            body.name,
            body.level,
            org_id,
            country=body.country,
            shared=body.shared,
            viewer=stock_viewer(principal, org_id),
            database_url=platform_url(request),
        )
    )


@router.get("/orgs/{org_id}/lots", responses=LEDGER_ERRORS)
def list_lots(
    org_id: DbId, request: Request, principal: HoldingsCaller, material: MaterialQ = None
) -> Any:
    """The organisation's lots with their balances (the sum of their journal), tonnes."""
    return _answer(
        lambda: service.list_lots(
            stock_viewer(principal, org_id),
            material=material,
            organisation_id=org_id,
            database_url=platform_url(request),
        )
    )


@router.get("/orgs/{org_id}/journal", responses=LEDGER_ERRORS)
def journal(
    org_id: DbId,
    request: Request,
    principal: HoldingsCaller,
    material: MaterialQ = None,
    lot_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Limit = 100,
) -> Any:
    """One page of the organisation's journal, newest entry first (``before_id`` pages on)."""
    return _answer(
        lambda: service.journal(
            stock_viewer(principal, org_id),
            material=material,
            lot_id=lot_id,
            before_id=before_id,
            limit=limit,
            organisation_id=org_id,
            database_url=platform_url(request),
        )
    )


@router.post(
    "/orgs/{org_id}/bookings",
    status_code=201,
    responses={**LEDGER_ERRORS, 200: {"description": "A retry: the first booking of this key."}},
)
def book(
    org_id: DbId,
    body: BookingIn,
    request: Request,
    principal: HoldingsCaller,
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="Books a retried request once.")
    ] = None,
) -> Any:
    """Book a purchase, transfer, rotation, release or write-off on the organisation's lots.
    A retry with the same key and body answers 200 with the first booking."""
    key = idempotency_key or body.idempotency_key
    if not key or (idempotency_key and body.idempotency_key not in (None, idempotency_key)):
        problem = "missing" if not key else "differs between the header and the body"
        return _refusal(
            LedgerError(
                "header.Idempotency-Key",
                problem,
                "send one key per booking in the Idempotency-Key header, e.g. a UUID",
            )
        )
    new_lot = None
    if body.new_lot is not None:
        new_lot = LotSpec(**body.new_lot.model_dump())
    request_ = BookingRequest(
        BookingKind(body.kind),
        body.lot_id or 0,
        body.quantity_t,
        body.into_lot_id,
        body.reason,
        new_lot,
    )
    answer = _answer(
        lambda: service.book(
            request_,
            key,
            stock_viewer(principal, org_id),
            organisation_id=org_id,
            database_url=platform_url(request),
        )
    )
    if isinstance(answer, dict) and answer["replayed"]:
        return JSONResponse(_entries_as_lists(answer), status_code=200)
    return _entries_as_lists(answer) if isinstance(answer, dict) else answer


def _entries_as_lists(answer: dict[str, Any]) -> dict[str, Any]:
    """A booking's JSON: entries as ``{"lot_id", "quantity_t"}``, balances keyed by lot id."""
    return {
        **answer,
        "entries": [{"lot_id": lot, "quantity_t": t} for lot, t in answer["entries"]],
        "balances_t": {str(lot): t for lot, t in answer["balances_t"].items()},
    }


@router.get("/orgs/{org_id}/positions", responses=LEDGER_ERRORS)
def own_positions(
    org_id: DbId, request: Request, principal: HoldingsCaller, material: MaterialQ = None
) -> Any:
    """Stock against target per material and importer as the organisation sees it (its own
    and shared holdings per Member State, the rest pooled into EU27)."""
    return _answer(
        lambda: service.positions(
            stock_viewer(principal, org_id),
            material=material,
            organisation_id=org_id,
            database_url=platform_url(request),
        )
    )


@router.get("/positions", responses=LEDGER_ERRORS)
def positions(request: Request, principal: AnalysisCaller, material: MaterialQ = None) -> Any:
    """Stock against target per material and importer, with the aggregation rule applied for
    the caller (docs/stockpiles.md, who sees what)."""
    return _answer(
        lambda: service.positions(
            stock_viewer(principal), material=material, database_url=platform_url(request)
        )
    )


@router.put(
    "/targets",
    status_code=204,
    response_class=Response,
    response_model=None,
    responses=LEDGER_ERRORS,
)
def set_target(body: TargetIn, request: Request, principal: AnalysisCaller) -> Response:
    """Store a stock target (earlier ones stay as history). Analysts and admins set any; a
    Member State user its own country's."""
    try:
        service.set_target(
            body.material,
            body.importer,
            body.target_t,
            source=body.source,
            viewer=stock_viewer(principal),
            database_url=platform_url(request),
        )
    except LedgerError as exc:
        return _refusal(exc)
    return Response(status_code=204)
