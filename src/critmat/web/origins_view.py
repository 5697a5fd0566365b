"""The origin-tracing card of the material and Member State pages, and its own page.

The answer is :func:`critmat.services.origins.origins` (by shipping country and by country of
origin, each naming its release, stage and year), remembered in the app's one
:class:`~critmat.services.context.ServiceContext`. The material page (importer EU27) and the
country page (importer: that country) include ``_origins.html``, a placeholder that HTMX fills
with the card from ``GET /origins`` once the page is shown (without JavaScript: a link to the
same address, which then answers the whole page). ``GET /origins/table.csv|xlsx`` downloads the
side-by-side table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from critmat.errors import CritmatError
from critmat.indicators.origin_networks import traced_stages
from critmat.reference.materials import load_catalogue
from critmat.services.origins import OriginRowOut, OriginsOut
from critmat.services.origins import origins as trace
from critmat.web.pages import Call, PageCall
from critmat.web.render import Fmt, download
from critmat.web.tables import Column, Table

__all__ = ["OriginsCard", "install", "origins_card", "origins_table", "traceable_materials"]

MaterialQ = Annotated[str | None, Query(max_length=100)]
ImporterQ = Annotated[str, Query(min_length=2, max_length=80)]
StageQ = Annotated[str | None, Query(max_length=40)]
YearQ = Annotated[int | None, Query(ge=1900, le=2100)]

_COLUMNS = (
    Column("rank", "#", "int"),
    Column("shipping", "By shipping country", "country"),
    Column("shipping_t", "t", "num", "shipped (t)"),
    Column("shipping_share", "Share", "share"),
    Column("origin", "By country of origin", "country"),
    Column("origin_t", "t", "num", "produced (t)"),
    Column("origin_share", "Share", "share"),
)


@dataclass(frozen=True)
class OriginsCard:
    """What the card shows: the answer (``None`` with ``problem`` when there is none), its
    side-by-side table, the materials one may pick, and a note when another year is shown."""

    material: str | None
    importer: str
    answer: OriginsOut | None
    table: Table | None
    choices: list[tuple[str, str]]
    problem: str | None = None
    year_note: str | None = None


def traceable_materials() -> list[tuple[str, str]]:
    """(id, name) of the materials with a stage that can be traced, in catalogue order."""
    catalogue = load_catalogue()
    ids = dict.fromkeys(s.material_id for s in traced_stages(catalogue.materials))
    return [(material_id, catalogue.get(material_id).name) for material_id in ids]


def _cell(row: OriginRowOut | None, key: str) -> Any:
    return None if row is None else getattr(row, key)


def origins_table(answer: OriginsOut) -> Table:
    """Both views side by side, largest first (the unattributed row is a row of its own)."""
    rows = []
    shipping, origin = answer.by_shipping, answer.by_origin
    for i in range(max(len(shipping), len(origin))):
        ship = shipping[i] if i < len(shipping) else None
        made = origin[i] if i < len(origin) else None
        rows.append(
            {
                "rank": i + 1,
                "shipping": _cell(ship, "country"),
                "shipping_t": _cell(ship, "quantity_t"),
                "shipping_share": _cell(ship, "share"),
                "origin": _cell(made, "country"),
                "origin_t": _cell(made, "quantity_t"),
                "origin_share": _cell(made, "share"),
            }
        )
    trade, made_in = answer.trade_release, answer.production_release
    source = (
        f"BACI {trade.series} release {trade.release_id} ({trade.version}); "
        f"{made_in.series} release {made_in.release_id} ({made_in.version}), "
        f"{answer.origin_stage} stage"
    )
    title = (
        f"{answer.importer} imports of {answer.material} · {answer.stage}, {answer.year}: "
        "by shipping country and by country of origin"
    )
    return Table("origins", title, _COLUMNS, rows, source, str(answer.year), answer.notes)


def _answer(
    call: PageCall, material: str, importer: str, stage: str | None, year: int | None
) -> OriginsOut:
    params = (material, importer, stage, year)
    computed = call.services.remember(
        "web-origins", params, lambda: trace(call.store, material, importer, stage, year)
    )
    return cast(OriginsOut, computed.model)


def origins_card(
    call: PageCall, material: str | None, importer: str, stage: str | None, year: int | None
) -> OriginsCard:
    """The card for ``material`` (default: the first traceable one) and ``importer``; the
    year asked when it can be traced, else the latest that can (with a note)."""
    choices = traceable_materials()
    chosen = material or (choices[0][0] if choices else None)
    if chosen is None:
        return OriginsCard(None, importer, None, None, choices, "no material can be traced")
    year_note = None
    try:
        try:
            answer = _answer(call, chosen, importer, stage, year)
        except CritmatError:
            if year is None:
                raise
            answer = _answer(call, chosen, importer, stage, None)
            year_note = f"origins cannot be traced for {year}: {answer.year} is shown"
    except CritmatError as exc:
        problem = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        return OriginsCard(chosen, importer, None, None, choices, problem)
    return OriginsCard(chosen, importer, answer, origins_table(answer), choices, None, year_note)


@dataclass(frozen=True)
class OriginsAsk:
    """The question of the card, the page and the download (query parameters)."""

    material: str | None
    importer: str
    stage: str | None
    year: int | None


def _ask(
    material: MaterialQ = None,
    importer: ImporterQ = "EU27",
    stage: StageQ = None,
    year: YearQ = None,
) -> OriginsAsk:
    return OriginsAsk(material or None, importer, stage or None, year)


Ask = Annotated[OriginsAsk, Depends(_ask)]


def install(app: FastAPI) -> None:
    """Add ``/origins`` (card or page) and its download to ``app`` (after ``pages.install``)."""

    @app.get("/origins", response_class=HTMLResponse, include_in_schema=False)
    def origins_page(call: Call, ask: Ask) -> Response:
        card = origins_card(call, ask.material, ask.importer, ask.stage, ask.year)
        return call.page("origins.html", "_origins_card.html", card=card, year=ask.year)

    @app.get("/origins/table.{fmt}", include_in_schema=False)
    def origins_download(call: Call, fmt: Fmt, ask: Ask) -> Response:
        chosen = ask.material or (traceable_materials() or [("", "")])[0][0]
        answer = _answer(call, chosen, ask.importer, ask.stage, ask.year)
        stem = f"{answer.material}-origins-{answer.importer}-{answer.stage}-{answer.year}"
        return download(origins_table(answer), fmt, stem)
