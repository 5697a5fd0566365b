"""Web pages of the supply-risk methods: GeoPolRisk and EU supply-risk (criticality) rankings,
each with a term-by-term breakdown page.

- ``/risk/geopolrisk?importer=&year=&basis=&sort=score|cf``: ranking of the WMD commodities
  by GeoPolRisk score or characterization factor; ``/risk/geopolrisk/{commodity}``: the
  production HHI by producer, the import risk by origin (amount × governance weight =
  contribution), price and CF.
- ``/risk/criticality?year=&published_si=``: materials ranked by SR against the SR = 1
  threshold, and "the next assessment": the window against the 2023 list, which materials
  would cross the thresholds; ``/risk/criticality/{material}``: every stage, every supplier
  country with share, WGI, t and contribution; IR, EoL-RIR, SI_SR with sources and
  approximations.

Every chart has a table view and CSV/XLSX downloads of the same table
(:mod:`critmat.web.risk_tables`); figures are drawn by :mod:`critmat.reports.charts.risk`.
:mod:`critmat.services.risk` and :mod:`critmat.services.risk_criticality` answer, once per
release, in the app's one :class:`~critmat.services.context.ServiceContext`. Add with
:func:`install`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmat.errors import NoDataError, UnknownNameError
from critmat.indicators.panel import country_name
from critmat.indicators.refresh import default_importers
from critmat.reference.materials import load_catalogue
from critmat.reports.charts import Figure
from critmat.reports.charts import risk as figures
from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.server.deps import UserCaller
from critmat.services import risk
from critmat.services import risk_criticality as crit
from critmat.services.context import ServiceContext
from critmat.web import pages
from critmat.web.criticality_view import outlook_table
from critmat.web.render import unknown_name_page
from critmat.web.risk_tables import (
    breakdown_tables,
    criticality_table,
    geopolrisk_table,
    gpr_href,
    origins_table,
    pages_query,
    producers_table,
)

Fmt = Literal["csv", "xlsx"]
YearQ = Annotated[int | None, Query(ge=1900, le=2100, description="year (default: latest)")]
ImporterQ = Annotated[str, Query(min_length=2, max_length=200)]
BasisQ = Literal["mass", "value"]
SortQ = Literal["score", "cf"]
CommodityPath = Annotated[str, PathParam(min_length=1, max_length=100)]
MaterialPath = Annotated[str, PathParam(min_length=1, max_length=100)]


@dataclass(frozen=True)
class GprAsk:
    """What a GeoPolRisk page asks: the importer (ISO3, group or ``EU27``), the year (None: the
    latest with data) and the basis of the amounts (mass or value)."""

    importer: str
    year: int | None
    basis: BasisQ

    def query(self, importer: str, year: int | None) -> dict[str, Any]:
        """The pages' query parameters with the importer and year the answer names."""
        return {"importer": importer, "year": year, "basis": self.basis}


def _gpr_ask(importer: ImporterQ = "EU27", year: YearQ = None, basis: BasisQ = "mass") -> GprAsk:
    return GprAsk(importer, year, basis)


@dataclass(frozen=True)
class CritAsk:
    """What a criticality page asks: the year (None: the latest) and whether the 2023
    assessment's SI_SR, EoL-RIR and stage choice are used (the default) or SI_SR 1, the
    catalogue's EoL-RIR and the highest stage (``published_si=false``)."""

    year: int | None
    published_si: bool

    @property
    def suffix(self) -> str:
        """The download names' ending without the 2023 inputs."""
        return "" if self.published_si else "-no-published"

    def query(self, year: int | None) -> dict[str, Any]:
        return {"year": year, "published_si": None if self.published_si else "false"}


def _crit_ask(year: YearQ = None, published_si: bool = True) -> CritAsk:
    return CritAsk(year, published_si)


GprQuery = Annotated[GprAsk, Depends(_gpr_ask)]
CritQuery = Annotated[CritAsk, Depends(_crit_ask)]


# ================================================================================ helpers
def _services(request: Request) -> ServiceContext:
    services: ServiceContext = request.app.state.services
    return services


def _importer_choices(current: str) -> list[tuple[str, str]]:
    choices = [
        (s.name, "EU27 (as one economy)" if s.name == "EU27" else country_name(s.name))
        for s in default_importers()
    ]
    if current not in {c for c, _l in choices}:
        label = current if "+" in current else country_name(current)
        choices.insert(1, (current, label))
    return choices


def _unknown(call: pages.PageCall, exc: UnknownNameError, base: str, suffix: str) -> Response:
    """A 404 page whose suggestions open the same risk page for the suggested material."""
    links = [(f"{base}/{quote(s, safe='')}{suffix}", s) for s in exc.suggestions]
    return unknown_name_page(call.request, exc, links, call.principal)


def _material_name(material_id: str | None) -> str | None:
    if material_id is None:
        return None
    catalogue = load_catalogue()
    return catalogue.get(material_id).name if material_id in catalogue else material_id


def _origins(request: Request, commodity: str, ask: GprAsk) -> risk.GeoPolRiskBreakdown:
    return risk.geopolrisk_origins(_services(request), commodity, ask.importer, ask.year, ask.basis)


def _safe_stem(stem: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("_")


# ================================================================================ routes
def install(app: FastAPI) -> None:
    """Add the risk pages and their downloads to ``app`` (after :func:`pages.install`)."""
    _geopolrisk_routes(app)
    _criticality_routes(app)


def _geopolrisk_routes(app: FastAPI) -> None:
    @app.get("/risk/geopolrisk", response_class=HTMLResponse, include_in_schema=False)
    def geopolrisk_page(
        call: pages.Call,
        ask: GprQuery,
        sort: SortQ = "score",
    ) -> Response:
        answer = risk.geopolrisk_year(call.services, [ask.importer], ask.year, basis=ask.basis)
        name, chosen = answer.importer, answer.year
        query = ask.query(name, chosen)
        table = geopolrisk_table(answer, sort, query)
        return call.page(
            "risk_geopolrisk.html",
            "risk_geopolrisk_body.html",
            t=table,
            figure=figures.geopolrisk_ranking(table.rows, sort, name, chosen),
            links={str(r["wmd_commodity"]): r["_href"] for r in table.rows},
            importer=name,
            importers=_importer_choices(name),
            year=chosen,
            years=sorted(answer.result.years, reverse=True),
            basis=ask.basis,
            sort=sort,
            metric=figures.GPR_METRICS[sort],
            query={**query, "sort": sort},
            defined=[r for r in table.rows if r["score"] is not None],
        )

    @app.get("/risk/geopolrisk/{commodity}", response_class=HTMLResponse, include_in_schema=False)
    def geopolrisk_breakdown_page(
        call: pages.Call,
        commodity: CommodityPath,
        ask: GprQuery,
    ) -> Response:
        asked = ask.query(ask.importer, ask.year)
        try:
            names = risk.canonical_commodity(commodity)
        except UnknownNameError as exc:
            return _unknown(call, exc, "/risk/geopolrisk", pages_query(asked))
        if len(names) > 1:
            return call.page(
                "risk_choose.html",
                title=f"GeoPolRisk: {commodity}",
                message=f"“{commodity}” has several World Mining Data series with a GeoPolRisk "
                "score; choose one.",
                links=[(gpr_href(n, asked), n) for n in names],
            )
        if names[0] != commodity:
            return RedirectResponse(gpr_href(names[0], asked), status_code=307)
        bd = _origins(call.request, commodity, ask)
        name = bd.importer.name
        query = ask.query(name, bd.year)
        return call.page(
            "risk_gpr_breakdown.html",
            "risk_gpr_breakdown_body.html",
            bd=bd,
            origins=origins_table(bd),
            producers=producers_table(bd),
            origins_figure=figures.geopolrisk_origins(bd) if bd.origins else None,
            producers_figure=figures.geopolrisk_producers(bd) if bd.producers else None,
            base=f"/risk/geopolrisk/{quote(commodity, safe='')}",
            importer=name,
            importers=_importer_choices(name),
            year=bd.year,
            years=sorted(bd.years_available, reverse=True),
            basis=ask.basis,
            query=query,
            ranking=pages_query(query),
            cf_copper=gpr.CF_COPPER,
            material_name=_material_name(bd.material),
        )

    @app.get("/risk/geopolrisk/{commodity}/{table}.{fmt}", include_in_schema=False)
    def geopolrisk_breakdown_download(
        request: Request,
        principal: UserCaller,
        commodity: CommodityPath,
        table: Literal["origins", "producers"],
        fmt: Fmt,
        ask: GprQuery,
    ) -> Response:
        names = risk.canonical_commodity(commodity)
        bd = _origins(request, names[0], ask)
        data = origins_table(bd) if table == "origins" else producers_table(bd)
        stem = f"geopolrisk-{names[0]}-{bd.importer.name}-{bd.year}-{ask.basis}-{table}"
        return pages.download(data, fmt, _safe_stem(stem))

    @app.get("/risk/downloads/geopolrisk.{fmt}", include_in_schema=False)
    def geopolrisk_download(
        request: Request,
        principal: UserCaller,
        fmt: Fmt,
        ask: GprQuery,
        sort: SortQ = "score",
    ) -> Response:
        answer = risk.geopolrisk_year(_services(request), [ask.importer], ask.year, basis=ask.basis)
        data = geopolrisk_table(answer, sort, {})
        stem = f"geopolrisk-{answer.importer}-{answer.year}-{ask.basis}"
        return pages.download(data, fmt, _safe_stem(stem))


def _criticality_routes(app: FastAPI) -> None:
    @app.get("/risk/criticality", response_class=HTMLResponse, include_in_schema=False)
    def criticality_page(
        call: pages.Call,
        ask: CritQuery,
    ) -> Response:
        services = call.services
        assessment = crit.criticality(services, ask.year, ask.published_si)
        query = ask.query(assessment.year)
        table = criticality_table(assessment, query)
        years = f"{assessment.years[0]}–{assessment.years[-1]}"
        scored = [r for r in table.rows if r["sr"] is not None]
        outlook = outlook_table(crit.criticality_outlook(services, ask.year), query)
        return call.page(
            "risk_criticality.html",
            "risk_criticality_body.html",
            t=table,
            figure=figures.criticality_ranking(table.rows, years),
            scatter=figures.sr_ei(table.rows, years),
            links={str(r["name"]): r["_href"] for r in scored},
            a=assessment,
            window=years,
            year=assessment.year,
            years=crit.criticality_years(services),
            published_si=ask.published_si,
            query=query,
            scored=scored,
            over=[r for r in scored if r["sr_meets_threshold"]],
            with_ei=[r for r in table.rows if r["ei"] is not None],
            outlook=outlook,
            crossing=[
                r
                for r in outlook.rows
                if "enters" in (r["change"], r["sr_change"])
                or "leaves" in (r["change"], r["sr_change"])
            ],
            sr_threshold=euc.SR_THRESHOLD,
            ei_threshold=euc.EI_THRESHOLD,
        )

    @app.get("/risk/downloads/criticality.{fmt}", include_in_schema=False)
    def criticality_download(
        request: Request,
        principal: UserCaller,
        fmt: Fmt,
        ask: CritQuery,
    ) -> Response:
        assessment = crit.criticality(_services(request), ask.year, ask.published_si)
        data = criticality_table(assessment, {})
        return pages.download(data, fmt, f"criticality-{assessment.year}{ask.suffix}")

    @app.get("/risk/downloads/criticality-next.{fmt}", include_in_schema=False)
    def criticality_next_download(
        request: Request, principal: UserCaller, fmt: Fmt, ask: CritQuery
    ) -> Response:
        found = crit.criticality_outlook(_services(request), ask.year)
        data = outlook_table(found, {})
        return pages.download(data, fmt, f"criticality-next-{found.assessment.year}")

    @app.get("/risk/criticality/{material}", response_class=HTMLResponse, include_in_schema=False)
    def criticality_breakdown_page(
        call: pages.Call,
        material: MaterialPath,
        ask: CritQuery,
    ) -> Response:
        services = call.services
        query = ask.query(ask.year)
        try:
            found = crit.criticality_breakdown(services, material, ask.year, ask.published_si)
        except UnknownNameError as exc:
            return _unknown(call, exc, "/risk/criticality", pages_query(query))
        b, assessment = found.breakdown, found.assessment
        if b.material_id != material:  # a name or an alias: go to the canonical address
            target = f"/risk/criticality/{b.material_id}" + pages_query(query)
            return RedirectResponse(target, status_code=307)
        query["year"] = assessment.year
        tables = breakdown_tables(found)
        charts: dict[str, Figure] = {}
        for stage in b.stages:
            for conc in (stage.global_supply, stage.eu_sourcing):
                name = f"{stage.stage}-{conc.scope.lower()}" if conc is not None else ""
                if conc is not None and tables[name].rows:
                    charts[name] = figures.concentration(tables[name].rows, conc.scope, stage.stage)
        return call.page(
            "risk_crit_breakdown.html",
            "risk_crit_breakdown_body.html",
            b=b,
            a=assessment,
            tables=tables,
            figures=charts,
            equations={
                row["stage"]: row["inputs"]
                for row in tables["terms"].rows
                if row["symbol"] == "SR" and row["stage"]
            },
            base=f"/risk/criticality/{b.material_id}",
            window=f"{b.years[0]}–{b.years[-1]}" if b.years else "",
            year=assessment.year,
            years=crit.criticality_years(services),
            published_si=ask.published_si,
            query=query,
            ranking=pages_query(query),
            sr_threshold=euc.SR_THRESHOLD,
            ei_threshold=euc.EI_THRESHOLD,
            sources=[p.citation() for p in assessment.provenance],
        )

    @app.get("/risk/criticality/{material}/{table}.{fmt}", include_in_schema=False)
    def criticality_breakdown_download(
        request: Request,
        principal: UserCaller,
        material: MaterialPath,
        table: Annotated[str, PathParam(min_length=1, max_length=60)],
        fmt: Fmt,
        ask: CritQuery,
    ) -> Response:
        found = crit.criticality_breakdown(_services(request), material, ask.year, ask.published_si)
        b, assessment = found.breakdown, found.assessment
        tables = breakdown_tables(found)
        if table not in tables:
            raise NoDataError(
                f"no table '{table}' for {b.name}", hint="available: " + ", ".join(tables)
            )
        stem = f"criticality-{b.material_id}-{table}-{assessment.year}{ask.suffix}"
        return pages.download(tables[table], fmt, _safe_stem(stem))
