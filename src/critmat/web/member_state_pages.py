"""The page comparing the 27 Member States for one material stage (issue 10, Build 9):

- ``GET /member-states?material=NAME``: to the page of that material (default: cobalt);
- ``GET /member-states/{material}?stage=&year=&basis=``: the chart and table of the 27 — tonnes,
  value, top supplier, extra-EU share, the largest third country and the CRMA 65 % flag (HTMX:
  the body only);
- ``GET /member-states/{material}/table.{csv|xlsx}``: the table as a download;
- ``GET /member-states/{country}/dependencies.{csv|xlsx}?year=``: a Member State's own
  dependencies (the table its country page shows first) as a download.

The answers come from :func:`critmat.services.member_states.comparison` (remembered in the
app's one cache), the tables and the figure from :mod:`critmat.web.member_state_view`. Linked
from the material pages and from a Member State's country page. Add with :func:`install`
(after :func:`critmat.web.pages.install`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmat.reference.materials import load_catalogue
from critmat.services import member_states
from critmat.web.member_state_view import (
    comparison_figure,
    comparison_table,
    dependencies_table,
)
from critmat.web.pages import Call, PageCall, download
from critmat.web.render import Fmt

DEFAULT_MATERIAL = "cobalt"
MaterialP = Annotated[str, PathParam(min_length=1, max_length=100)]
StageQ = Annotated[str | None, Query(max_length=40)]
YearQ = Annotated[int | None, Query(ge=1900, le=2100)]
BasisQ = Annotated[Literal["mass", "value"], Query()]


@dataclass(frozen=True)
class CompareAsk:
    """What the comparison page asks besides the material: the stage (None: the catalogue's
    choice), the year (None: the latest the stage's data hold) and the basis of the shares."""

    stage: str | None
    year: int | None
    basis: str


def _compare_ask(stage: StageQ = None, year: YearQ = None, basis: BasisQ = "mass") -> CompareAsk:
    return CompareAsk(stage or None, year, basis)


Ask = Annotated[CompareAsk, Depends(_compare_ask)]


def _comparison(
    call: PageCall, material: str, ask: CompareAsk
) -> member_states.MemberStatesComparison:
    return member_states.comparison(
        call.store, material, stage=ask.stage, year=ask.year, basis=ask.basis, ctx=call.services
    )


def install(app: FastAPI) -> None:
    """Add the Member States comparison page and its download to ``app``."""

    @app.get("/member-states", include_in_schema=False)
    def member_states_index(
        call: Call, material: Annotated[str, Query(max_length=100)] = DEFAULT_MATERIAL
    ) -> Response:
        resolved = load_catalogue().resolve(material or DEFAULT_MATERIAL)
        return RedirectResponse(f"/member-states/{resolved.material.id}", status_code=303)

    @app.get("/member-states/{material}", response_class=HTMLResponse, include_in_schema=False)
    def member_states_page(call: Call, material: MaterialP, ask: Ask) -> Response:
        answer = _comparison(call, material, ask)
        catalogue_material = load_catalogue().get(answer.material)
        context = {
            "a": answer,
            "stages": [(s.name, s.label) for s in catalogue_material.stages],
            "table": comparison_table(answer),
            "figure": comparison_figure(answer),
            "query": {"stage": answer.stage, "year": answer.year, "basis": answer.basis},
        }
        return call.page("member_states.html", "_member_states_body.html", **context)

    @app.get("/member-states/{material}/table.{fmt}", include_in_schema=False)
    def member_states_download(call: Call, material: MaterialP, fmt: Fmt, ask: Ask) -> Response:
        answer = _comparison(call, material, ask)
        stem = f"member-states-{answer.material}-{answer.stage}-{answer.year}-{answer.basis}"
        return download(comparison_table(answer), fmt, stem)

    @app.get("/member-states/{country}/dependencies.{fmt}", include_in_schema=False)
    def member_state_download(
        call: Call,
        country: Annotated[str, PathParam(min_length=2, max_length=80)],
        fmt: Fmt,
        year: YearQ = None,
        basis: BasisQ = "mass",
    ) -> Response:
        answer = member_states.dependencies(
            call.store, country, year=year, basis=basis, ctx=call.services
        )
        stem = f"{answer.country}-dependencies-{year or 'latest'}-{answer.basis}"
        return download(dependencies_table(answer), fmt, stem)
