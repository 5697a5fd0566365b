"""Web pages of the supply-risk methods: GeoPolRisk and EU supply-risk (criticality) rankings,
each with a term-by-term breakdown page.

- ``/risk/geopolrisk?importer=&year=&basis=&sort=score|cf``: ranking of the WMD commodities
  by GeoPolRisk score or characterization factor; ``/risk/geopolrisk/{commodity}``: the
  production HHI by producer, the import risk by origin (amount × governance weight =
  contribution), price and CF.
- ``/risk/criticality?year=&published_si=``: materials ranked by SR against the SR = 1
  threshold; ``/risk/criticality/{material}``: every stage, every supplier country with share,
  WGI, t and contribution; IR, EoL-RIR, SI_SR with sources and approximations.

Every chart has a table view and CSV/XLSX downloads of the same :class:`Table`. The library
(:mod:`critmat.risk`) computes; results are cached per release in
:class:`critmat.api.routes.risk.RiskResults`. Add with :func:`install`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from critmat.api.routes import risk as rk
from critmat.errors import NoDataError, UnknownNameError
from critmat.indicators.panel import country_name
from critmat.indicators.refresh import default_importers
from critmat.reports import charts
from critmat.risk import eu_criticality as euc
from critmat.risk import geopolrisk as gpr
from critmat.server.deps import SESSION_COOKIE, Principal, StoreDep, UserCaller
from critmat.store import Store
from critmat.web import pages
from critmat.web.tables import Column, Table

Fmt = Literal["csv", "xlsx"]
Figure = dict[str, Any]
YearQ = Annotated[int | None, Query(ge=1900, le=2100, description="year (default: latest)")]
ImporterQ = Annotated[str, Query(min_length=2, max_length=200)]
BasisQ = Literal["mass", "value"]
CommodityPath = Annotated[str, PathParam(min_length=1, max_length=100)]
MaterialPath = Annotated[str, PathParam(min_length=1, max_length=100)]
TOP = 15


# ================================================================================ figures
def _layout(height: int, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 50, "t": 30, "b": 40},
        "font": {"family": charts.FONT, "size": 12, "color": "#1f2933"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": charts.FONT}},
        "separators": ".,",
        "bargap": 0.25,
        "yaxis": {
            "autorange": "reversed",
            "gridcolor": "rgba(0,0,0,0)",
            "ticksuffix": " ",
            "automargin": True,
        },
    }
    layout.update(extra)
    return layout


def _axis(**extra: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "gridcolor": "#e5e7eb",
        "zerolinecolor": "#cbd2d9",
        "linecolor": "#cbd2d9",
        "automargin": True,
    }
    axis.update(extra)
    return axis


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _sig(value: float | None, figures: int = 4) -> float | None:
    if value is None or value == 0:
        return value
    digits = figures - 1 - math.floor(math.log10(abs(value)))
    return round(value, max(digits, -9))


def _short(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    axis_title: str,
    hover: Sequence[str],
    colours: Sequence[str] | None = None,
    log: bool = False,
    threshold: tuple[float, str] | None = None,
    tickformat: str | None = None,
    percent: bool = False,
) -> Figure:
    """Horizontal bars in the given order; a missing value is a grey stub saying so."""
    shown = [(_sig(v) if v is not None and (v > 0 or not log) else None) for v in values]
    present = [v for v in shown if v is not None]
    stub = (min(present) if log and present else 0.0) or 0.0
    colour = list(colours) if colours else [charts.OK_COLOUR] * len(labels)
    texts = []
    for v, raw in zip(shown, values, strict=True):
        if raw is None:
            texts.append("undefined")
        elif v is None:
            texts.append("0")
        else:
            texts.append(f"{v:.1%}" if percent else _short(v))
    axis = _axis(title={"text": axis_title})
    if log:
        axis["type"] = "log"
    else:
        axis["rangemode"] = "tozero"
    if tickformat:
        axis["tickformat"] = tickformat
    layout = _layout(70 + 22 * max(len(labels), 3), xaxis=axis)
    if threshold is not None:
        x, label = threshold
        layout["shapes"] = [
            {
                "type": "line",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": charts.THRESHOLD_COLOUR, "width": 2, "dash": "dash"},
            }
        ]
        layout["annotations"] = [
            {
                "x": x,
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "text": label,
                "showarrow": False,
                "font": {"color": charts.THRESHOLD_COLOUR, "size": 11},
            }
        ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": list(labels),
                "x": [stub if v is None else v for v in shown],
                "text": texts,
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {
                    "color": [
                        charts.NO_DATA_COLOUR if v is None else c
                        for v, c in zip(shown, colour, strict=True)
                    ]
                },
                "hovertext": list(hover),
                "hoverinfo": "text",
                "showlegend": False,
            }
        ],
        "layout": layout,
    }


def _top_with_rest(
    items: Sequence[tuple[str, str, float]], top: int = TOP
) -> list[tuple[str, str, float]]:
    """``(code, label, value)`` items: the first ``top`` and one 'other' bar for the rest."""
    head = list(items[:top])
    rest = items[top:]
    if rest:
        head.append(("", f"{len(rest)} others", sum(v for _c, _l, v in rest)))
    return head


# ================================================================================ GeoPolRisk
GPR_METRICS = {"score": "GeoPolRisk score", "cf": "characterization factor (kg Cu-eq/kg)"}


def _gpr_href(commodity: str, query: dict[str, Any]) -> str:
    return f"/risk/geopolrisk/{quote(commodity, safe='')}" + pages_query(query)


def pages_query(query: dict[str, Any]) -> str:
    clean = {k: v for k, v in query.items() if v is not None and v != ""}
    return "?" + urlencode(clean) if clean else ""


def _amount_label(basis: str) -> str:
    return "t" if basis == "mass" else "thousand USD"


def geopolrisk_table(
    result: gpr.GeoPolRiskResult, year: int, sort: str, query: dict[str, Any]
) -> Table:
    """The ranking: one row per WMD commodity, by ``sort`` (score or cf), undefined last."""
    frame = rk.geopolrisk_rows(result, year)
    unit = _amount_label(result.basis)
    records = []
    for row in frame.to_dict(orient="records"):
        record = {str(k): rk.plain(v) for k, v in row.items()}
        record["_href"] = _gpr_href(str(record["wmd_commodity"]), query)
        records.append(record)
    records.sort(key=lambda r: (r[sort] is None, -(r[sort] or 0.0), r["wmd_commodity"]))
    for rank, record in enumerate(records, start=1):
        record["rank"] = rank if record[sort] is not None else None
    importer = result.importers[0].name
    return Table(
        name="geopolrisk",
        title=f"GeoPolRisk of {importer}'s supply, {year} ({result.basis} basis), by "
        f"{GPR_METRICS[sort]}",
        columns=[
            Column("rank", "#", "int"),
            Column("wmd_commodity", "Commodity (WMD)", export_label="wmd_commodity"),
            Column("material", "Material", "material", export_label="material id"),
            Column("hhi", "HHI (world production)", "num", export_label="hhi (0-1)"),
            Column("import_risk", "Import risk", "num", export_label="import_risk (0-1)"),
            Column("score", "Score", "num", export_label="score (0-1)"),
            Column("cf", "CF (kg Cu-eq/kg)", "num", export_label="cf (kg Cu-eq/kg)"),
            Column(
                "price_usd_per_kg", "Import price (USD/kg)", "num", export_label="price (USD/kg)"
            ),
            Column("imports", f"Imports ({unit})", "num", export_label=f"imports ({unit})"),
            Column(
                "domestic_production",
                f"Own production ({unit})",
                "num",
                export_label=f"domestic_production ({unit})",
            ),
        ],
        rows=records,
        source=rk.citation(result.provenance).replace(
            "years used: " + ", ".join(str(y) for y in result.years), f"years used: {year}"
        ),
        year=str(year),
        notes=[
            *result.notes,
            "score = HHI × import risk; import risk = Σ imports × instability / "
            "(imports + own production); undefined where the importer neither imports nor "
            "produces",
        ],
    )


def geopolrisk_figure(table: Table, sort: str, importer: str, year: int) -> Figure:
    rows = table.rows
    metric = GPR_METRICS[sort]
    hover = [
        f"<b>{r['wmd_commodity']}</b><br>score {_short(r['score'])} = HHI {_short(r['hhi'])}"
        f" × import risk {_short(r['import_risk'])}<br>CF {_short(r['cf'])} kg Cu-eq/kg · "
        f"price {_short(r['price_usd_per_kg'])} USD/kg"
        for r in rows
    ]
    return bars(
        [str(r["wmd_commodity"]) for r in rows],
        [_finite(r[sort]) for r in rows],
        axis_title=f"{metric}, {importer}, {year}" + (" (log scale)" if sort == "cf" else ""),
        hover=hover,
        log=sort == "cf",
    )


def origins_table(bd: rk.GeoPolRiskBreakdown) -> Table:
    unit = bd.amount_unit
    rows = [
        {
            "origin": o.origin,
            "amount": o.amount,
            "share": o.share_of_imports,
            "pv": o.pv,
            "weight": o.weight,
            "weighted": o.weighted,
            "ir_contribution": o.ir_contribution,
            "score_contribution": o.score_contribution,
            "quantity_t": o.quantity_t,
            "value_kusd": o.value_kusd,
            "unit_value": o.unit_value,
            "note": o.weight_note,
        }
        for o in bd.origins
    ]
    return Table(
        name="origins",
        title=f"Import risk of {bd.importer.name} for {bd.commodity}, {bd.year}, by origin",
        columns=[
            Column("origin", "Origin", "country", export_label="origin (ISO3)"),
            Column("amount", f"Imports ({unit})", "num", export_label=f"imports ({unit})"),
            Column("share", "Share of imports", "share"),
            Column("pv", "WGI PV estimate", "num", export_label="WGI political stability (PV)"),
            Column("weight", "Instability weight", "num", export_label="weight w (0-1)"),
            Column("weighted", f"Imports × weight ({unit})", "num"),
            Column("ir_contribution", "Contribution to import risk", "num"),
            Column("score_contribution", "Contribution to score", "num"),
            Column("quantity_t", "Tonnes", "num", export_label="quantity (t)"),
            Column("value_kusd", "Value (thousand USD)", "num"),
            Column("unit_value", "Unit value (USD/kg)", "num"),
            Column("note", "Note"),
        ],
        rows=rows,
        source=rk.citation(list(bd.provenance), ["trade", "governance"]),
        year=str(bd.year),
        notes=[
            f"HS92 codes: {', '.join(bd.hs_codes)}",
            f"denominator = imports {_short(bd.imports)} + own production "
            f"{_short(bd.domestic_production)} = {_short(bd.denominator)} {unit}",
            *bd.notes,
        ],
    )


def origins_figure(bd: rk.GeoPolRiskBreakdown) -> Figure:
    items = _top_with_rest(
        [(o.origin, country_name(o.origin), o.score_contribution or 0.0) for o in bd.origins]
    )
    by_code = {o.origin: o for o in bd.origins}
    hover = []
    for code, label, value in items:
        o = by_code.get(code)
        if o is None:
            hover.append(f"<b>{label}</b><br>contribution {_short(value)}")
        else:
            hover.append(
                f"<b>{label}</b><br>{_short(o.amount)} {bd.amount_unit} × weight "
                f"{o.weight:.3f} / {_short(bd.denominator)} × HHI {_short(bd.hhi)} "
                f"= {_short(value)}"
            )
    return bars(
        [label for _c, label, _v in items],
        [value for _c, _l, value in items],
        axis_title=f"contribution to the GeoPolRisk score, {bd.importer.name}, {bd.year}",
        hover=hover,
        colours=[charts.country_colour(c) if c else charts.OTHER_COLOUR for c, _l, _v in items],
    )


def producers_table(bd: rk.GeoPolRiskBreakdown) -> Table:
    return Table(
        name="producers",
        title=f"World production of {bd.commodity}, {bd.year}: HHI = Σ share²",
        columns=[
            Column("country", "Producer", "country", export_label="country (ISO3)"),
            Column("quantity", f"Production ({bd.production_unit})", "num"),
            Column("share", "Share", "share"),
            Column("hhi_contribution", "Share² (HHI part)", "num"),
            Column("member", f"Member of {bd.importer.name}", "bool"),
        ],
        rows=[
            {
                "country": p.country,
                "quantity": p.quantity,
                "share": p.share,
                "hhi_contribution": p.hhi_contribution,
                "member": p.member,
            }
            for p in bd.producers
        ],
        source=rk.citation(list(bd.provenance), ["production"]),
        year=str(bd.year),
        notes=[f"world total {_short(bd.production_total)} {bd.production_unit}"],
    )


def producers_figure(bd: rk.GeoPolRiskBreakdown) -> Figure:
    items = _top_with_rest([(p.country, country_name(p.country), p.share) for p in bd.producers])
    return bars(
        [label for _c, label, _v in items],
        [value for _c, _l, value in items],
        axis_title=f"share of world production of {bd.commodity}, {bd.year}",
        hover=[f"<b>{label}</b><br>{value:.1%}" for _c, label, value in items],
        colours=[charts.country_colour(c) if c else charts.OTHER_COLOUR for c, _l, _v in items],
        tickformat=".0%",
        percent=True,
    )


# ================================================================================ criticality
def criticality_table(assessment: euc.Assessment, query: dict[str, Any]) -> Table:
    rows = rk.criticality_rows(assessment)
    for row in rows:
        row["_href"] = f"/risk/criticality/{row['material']}" + pages_query(query)
    years = f"{assessment.years[0]}–{assessment.years[-1]}"
    return Table(
        name="criticality",
        title=f"EU supply risk (SR) by material, data {years}",
        columns=[
            Column("rank", "#", "int"),
            Column("name", "Material", export_label="name"),
            Column("material", "Id", export_label="material id"),
            Column("sr", "SR", "num", export_label="sr"),
            Column("stage", "Stage"),
            Column("basis", "Basis"),
            Column("import_reliance", "EU import reliance", "share"),
            Column("eol_rir", "EoL-RIR", "share"),
            Column("si_sr", "SI_SR", "num"),
            Column("ei", "EI", "num"),
            Column("sr_meets_threshold", "SR ≥ 1", "bool"),
            Column("critical", "Critical (SR ≥ 1 and EI ≥ 2.8)", "bool"),
            Column("crma_critical", "CRMA Annex II", "bool"),
            Column("notes", "Notes"),
        ],
        rows=rows,
        source=rk.citation(list(assessment.provenance)),
        year=years,
        notes=list(assessment.notes),
    )


def criticality_figure(table: Table, years: str) -> Figure:
    rows = [r for r in table.rows if r["sr"] is not None]
    colours = [
        charts.OVER_COLOUR if r["sr"] >= euc.SR_THRESHOLD else charts.OK_COLOUR for r in rows
    ]
    hover = [
        f"<b>{r['name']}</b><br>SR {r['sr']:.2f} ({r['stage']}, {r['basis']})"
        + (f"<br>EI {r['ei']:.2f}" if r["ei"] is not None else "")
        for r in rows
    ]
    return bars(
        [str(r["name"]) for r in rows],
        [float(r["sr"]) for r in rows],
        axis_title=f"EU supply risk (SR), data {years}",
        hover=hover,
        colours=colours,
        threshold=(euc.SR_THRESHOLD, "SR = 1 (CRMA threshold)"),
    )


def sr_ei_figure(table: Table, years: str) -> Figure | None:
    """SR against EI with both thresholds, when any material has an EI."""
    rows = [r for r in table.rows if r["sr"] is not None and r["ei"] is not None]
    if not rows:
        return None
    line = {"color": charts.THRESHOLD_COLOUR, "width": 2, "dash": "dash"}
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [_sig(float(r["ei"])) for r in rows],
                "y": [_sig(float(r["sr"])) for r in rows],
                "text": [str(r["name"]) for r in rows],
                "textposition": "top center",
                "marker": {
                    "color": [
                        charts.OVER_COLOUR if r["critical"] else charts.OK_COLOUR for r in rows
                    ],
                    "size": 9,
                },
                "hoverinfo": "text",
                "showlegend": False,
            }
        ],
        "layout": _layout(
            420,
            xaxis=_axis(title={"text": f"economic importance (EI), data {years}"}, range=[0, 10]),
            yaxis=_axis(title={"text": "supply risk (SR)"}, rangemode="tozero"),
            shapes=[
                {
                    "type": "line",
                    "x0": euc.EI_THRESHOLD,
                    "x1": euc.EI_THRESHOLD,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": line,
                },
                {
                    "type": "line",
                    "y0": euc.SR_THRESHOLD,
                    "y1": euc.SR_THRESHOLD,
                    "x0": 0,
                    "x1": 1,
                    "xref": "paper",
                    "line": line,
                },
            ],
        ),
    }


def terms_table(b: euc.Breakdown, assessment: euc.Assessment) -> Table:
    rows = euc.explain_rows(b)
    for row in rows:
        value = row["value"]
        row["value"] = (
            value if value is None or isinstance(value, bool | int | float) else str(value)
        )
    years = f"{b.years[0]}–{b.years[-1]}" if b.years else ""
    return Table(
        name="terms",
        title=f"EU supply risk of {b.name}, data {years}, term by term",
        columns=[
            Column("stage", "Stage"),
            Column("term", "Term"),
            Column("symbol", "Symbol"),
            Column("value", "Value"),
            Column("unit", "Unit"),
            Column("inputs", "Inputs"),
            Column("source", "Source"),
            Column("note", "Note"),
        ],
        rows=rows,
        source=rk.citation(list(assessment.provenance)),
        year=years,
        notes=[b.wgi_note, *b.notes],
    )


def concentration_table(
    b: euc.Breakdown, stage: euc.StageSupplyRisk, conc: euc.Concentration
) -> Table:
    label = "global supply" if conc.scope == "GS" else "EU sourcing"
    years = f"{b.years[0]}–{b.years[-1]}" if b.years else ""
    return Table(
        name=f"{stage.stage}-{conc.scope.lower()}",
        title=f"{b.name}, {stage.stage}: (HHI_WGI,t)_{conc.scope} of {label} = Σ share² · WGI · t",
        columns=[
            Column("country", "Country", "country", export_label="country (ISO3)"),
            Column("kind", "Supply"),
            Column("amount", f"Amount ({conc.amount_unit})", "num"),
            Column("share", "Share", "share"),
            Column("wgi_estimate", "WGI estimate", "num"),
            Column("wgi_scaled", "WGI scaled (0–10)", "num"),
            Column("t", "t", "num"),
            Column("contribution", "Contribution", "num"),
            Column("t_reason", "Why t"),
        ],
        rows=[
            {
                "country": c.country,
                "kind": c.kind,
                "amount": c.amount,
                "share": c.share,
                "wgi_estimate": c.wgi_estimate,
                "wgi_scaled": c.wgi_scaled,
                "t": c.t,
                "contribution": c.contribution,
                "t_reason": c.t_reason,
            }
            for c in conc.countries
        ],
        source=conc.source,
        year=years,
        notes=[*conc.notes, f"WGI indicators: {'+'.join(b.wgi_indicators) or 'none'}"],
    )


def concentration_figure(table: Table, conc: euc.Concentration, stage: str) -> Figure:
    items = _top_with_rest(
        [
            (str(r["country"]), country_name(str(r["country"])), float(r["contribution"] or 0.0))
            for r in sorted(table.rows, key=lambda r: -(r["contribution"] or 0.0))
        ]
    )
    by_code = {str(r["country"]): r for r in table.rows}
    hover = []
    for code, label, value in items:
        r = by_code.get(code)
        if r is None or r["wgi_scaled"] is None:
            hover.append(f"<b>{label}</b><br>contribution {_short(value)}")
        else:
            hover.append(
                f"<b>{label}</b><br>{r['share']:.1%}² × WGI {r['wgi_scaled']:.2f} × t "
                f"{r['t']:.2f} = {_short(value)}"
            )
    scope = "global supply" if conc.scope == "GS" else "EU sourcing"
    return bars(
        [label for _c, label, _v in items],
        [value for _c, _l, value in items],
        axis_title=f"contribution to (HHI_WGI,t)_{conc.scope}, {scope}, {stage}",
        hover=hover,
        colours=[charts.country_colour(c) if c else charts.OTHER_COLOUR for c, _l, _v in items],
    )


def ei_table(b: euc.Breakdown) -> Table | None:
    if b.ei is None:
        return None
    years = f"{b.years[0]}–{b.years[-1]}" if b.years else ""
    return Table(
        name="ei",
        title=f"Economic importance of {b.name}: Σ A_s · Q_s / Q_max × 10 × SI_EI",
        columns=[
            Column("sector", "NACE sector"),
            Column("end_use_share", "End-use share A_s", "share"),
            Column("value_added", "Value added Q_s", "num"),
            Column("product", "A_s · Q_s", "num"),
            Column("source", "Source"),
        ],
        rows=[
            {
                "sector": s.sector,
                "end_use_share": s.end_use_share,
                "value_added": s.value_added,
                "product": s.product,
                "source": s.source,
            }
            for s in b.ei.sectors
        ],
        source=b.ei.source,
        year=years,
        notes=list(b.ei.notes),
    )


def breakdown_tables(b: euc.Breakdown, assessment: euc.Assessment) -> dict[str, Table]:
    """Every table of the breakdown page, by download name."""
    tables = {"terms": terms_table(b, assessment)}
    for stage in b.stages:
        for conc in (stage.global_supply, stage.eu_sourcing):
            if conc is not None:
                table = concentration_table(b, stage, conc)
                tables[table.name] = table
    ei = ei_table(b)
    if ei is not None:
        tables["ei"] = ei
    return tables


# ================================================================================ helpers
def _importer_choices(current: str) -> list[tuple[str, str]]:
    choices = [
        (s.name, "EU27 (as one economy)" if s.name == "EU27" else country_name(s.name))
        for s in default_importers()
    ]
    if current not in {c for c, _l in choices}:
        label = current if "+" in current else country_name(current)
        choices.insert(1, (current, label))
    return choices


def _render(
    request: Request,
    principal: Principal,
    store: Store,
    template: str,
    fragment: str,
    **context: Any,
) -> Response:
    snap = pages.snapshot(request, store)
    chosen = fragment if pages.is_htmx(request) else template
    return pages.page(request, chosen, principal, snap=snap, **context)


def _unknown(
    request: Request, principal: Principal, exc: UnknownNameError, base: str, suffix: str
) -> Response:
    """A 404 page whose suggestions open the same risk page for the suggested material."""
    links = [(f"{base}/{quote(s, safe='')}{suffix}", s) for s in exc.suggestions]
    return pages.page(
        request,
        "error.html",
        principal,
        status=404,
        status_code=404,
        title=f"Unknown {exc.kind}",
        message=f"critmat does not know the {exc.kind} “{exc.name}”.",
        hint="Did you mean one of these?" if links else "Try the search box above.",
        links=links or [(f"/search?q={quote(exc.name)}", f"Search for “{exc.name}”")],
        problems=[],
        incident=None,
        logged_in=SESSION_COOKIE in request.cookies,
    )


def _gpr_breakdown(
    request: Request, store: Store, commodity: str, importer: str, year: int | None, basis: str
) -> tuple[rk.GeoPolRiskBreakdown, gpr.GeoPolRiskResult, int]:
    result = rk.geopolrisk_result(request, store, [importer], (), basis, "critmat")
    chosen = rk.choose_year(result.years, year)
    key = ("geopolrisk-breakdown", commodity, importer, chosen, basis, rk.releases_now(request))
    bd = rk.risk_results(request).get_or_compute(
        key, lambda: rk.geopolrisk_breakdown(store, result, commodity, chosen)
    )
    return bd, result, chosen


# ================================================================================ routes
def install(app: FastAPI) -> None:
    """Add the risk pages and their downloads to ``app`` (after :func:`pages.install`)."""
    _geopolrisk_routes(app)
    _criticality_routes(app)


def _geopolrisk_routes(app: FastAPI) -> None:
    @app.get("/risk/geopolrisk", response_class=HTMLResponse, include_in_schema=False)
    def geopolrisk_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        importer: ImporterQ = "EU27",
        year: YearQ = None,
        basis: BasisQ = "mass",
        sort: Literal["score", "cf"] = "score",
    ) -> Response:
        result = rk.geopolrisk_result(request, store, [importer], (), basis, "critmat")
        chosen = rk.choose_year(result.years, year)
        name = result.importers[0].name
        query = {"importer": name, "year": chosen, "basis": basis}
        table = geopolrisk_table(result, chosen, sort, query)
        return _render(
            request,
            principal,
            store,
            "risk_geopolrisk.html",
            "risk_geopolrisk_body.html",
            t=table,
            figure=geopolrisk_figure(table, sort, name, chosen),
            links={str(r["wmd_commodity"]): r["_href"] for r in table.rows},
            importer=name,
            importers=_importer_choices(name),
            year=chosen,
            years=sorted(result.years, reverse=True),
            basis=basis,
            sort=sort,
            metric=GPR_METRICS[sort],
            query={**query, "sort": sort},
            defined=[r for r in table.rows if r["score"] is not None],
        )

    @app.get("/risk/geopolrisk/{commodity}", response_class=HTMLResponse, include_in_schema=False)
    def geopolrisk_breakdown_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        commodity: CommodityPath,
        importer: ImporterQ = "EU27",
        year: YearQ = None,
        basis: BasisQ = "mass",
    ) -> Response:
        suffix = pages_query({"importer": importer, "year": year, "basis": basis})
        try:
            names = rk.canonical_commodity(commodity)
        except UnknownNameError as exc:
            return _unknown(request, principal, exc, "/risk/geopolrisk", suffix)
        if len(names) > 1:
            return pages.page(
                request,
                "risk_choose.html",
                principal,
                snap=pages.snapshot(request, store),
                title=f"GeoPolRisk: {commodity}",
                message=f"“{commodity}” has several World Mining Data series with a GeoPolRisk "
                "score; choose one.",
                links=[
                    (_gpr_href(n, {"importer": importer, "year": year, "basis": basis}), n)
                    for n in names
                ],
            )
        if names[0] != commodity:
            return RedirectResponse(
                _gpr_href(names[0], {"importer": importer, "year": year, "basis": basis}),
                status_code=307,
            )
        bd, result, chosen = _gpr_breakdown(request, store, commodity, importer, year, basis)
        name = result.importers[0].name
        query = {"importer": name, "year": chosen, "basis": basis}
        origins = origins_table(bd)
        producers = producers_table(bd)
        return _render(
            request,
            principal,
            store,
            "risk_gpr_breakdown.html",
            "risk_gpr_breakdown_body.html",
            bd=bd,
            origins=origins,
            producers=producers,
            origins_figure=origins_figure(bd) if bd.origins else None,
            producers_figure=producers_figure(bd) if bd.producers else None,
            base=f"/risk/geopolrisk/{quote(commodity, safe='')}",
            importer=name,
            importers=_importer_choices(name),
            year=chosen,
            years=sorted(result.years, reverse=True),
            basis=basis,
            query=query,
            ranking=pages_query(query),
            cf_copper=gpr.CF_COPPER,
            material_name=pages_material_name(bd.material),
        )

    @app.get("/risk/geopolrisk/{commodity}/{table}.{fmt}", include_in_schema=False)
    def geopolrisk_breakdown_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        commodity: CommodityPath,
        table: Literal["origins", "producers"],
        fmt: Fmt,
        importer: ImporterQ = "EU27",
        year: YearQ = None,
        basis: BasisQ = "mass",
    ) -> Response:
        names = rk.canonical_commodity(commodity)
        bd, result, chosen = _gpr_breakdown(request, store, names[0], importer, year, basis)
        data = origins_table(bd) if table == "origins" else producers_table(bd)
        stem = f"geopolrisk-{names[0]}-{result.importers[0].name}-{chosen}-{basis}-{table}"
        return pages.download(data, fmt, _safe_stem(stem))

    @app.get("/risk/downloads/geopolrisk.{fmt}", include_in_schema=False)
    def geopolrisk_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        fmt: Fmt,
        importer: ImporterQ = "EU27",
        year: YearQ = None,
        basis: BasisQ = "mass",
        sort: Literal["score", "cf"] = "score",
    ) -> Response:
        result = rk.geopolrisk_result(request, store, [importer], (), basis, "critmat")
        chosen = rk.choose_year(result.years, year)
        name = result.importers[0].name
        data = geopolrisk_table(result, chosen, sort, {})
        return pages.download(data, fmt, _safe_stem(f"geopolrisk-{name}-{chosen}-{basis}"))


def _criticality_routes(app: FastAPI) -> None:
    @app.get("/risk/criticality", response_class=HTMLResponse, include_in_schema=False)
    def criticality_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        year: YearQ = None,
        published_si: bool = False,
    ) -> Response:
        assessment = rk.criticality_result(request, store, year, published_si)
        query = {"year": assessment.year, "published_si": "true" if published_si else None}
        table = criticality_table(assessment, query)
        years = f"{assessment.years[0]}–{assessment.years[-1]}"
        scored = [r for r in table.rows if r["sr"] is not None]
        return _render(
            request,
            principal,
            store,
            "risk_criticality.html",
            "risk_criticality_body.html",
            t=table,
            figure=criticality_figure(table, years),
            scatter=sr_ei_figure(table, years),
            links={str(r["name"]): r["_href"] for r in scored},
            a=assessment,
            window=years,
            year=assessment.year,
            years=_criticality_years(store),
            published_si=published_si,
            query=query,
            scored=scored,
            over=[r for r in scored if r["sr_meets_threshold"]],
            with_ei=[r for r in table.rows if r["ei"] is not None],
            sr_threshold=euc.SR_THRESHOLD,
            ei_threshold=euc.EI_THRESHOLD,
        )

    @app.get("/risk/downloads/criticality.{fmt}", include_in_schema=False)
    def criticality_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        fmt: Fmt,
        year: YearQ = None,
        published_si: bool = False,
    ) -> Response:
        assessment = rk.criticality_result(request, store, year, published_si)
        data = criticality_table(assessment, {})
        suffix = "-published-si" if published_si else ""
        return pages.download(data, fmt, f"criticality-{assessment.year}{suffix}")

    @app.get("/risk/criticality/{material}", response_class=HTMLResponse, include_in_schema=False)
    def criticality_breakdown_page(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        material: MaterialPath,
        year: YearQ = None,
        published_si: bool = False,
    ) -> Response:
        query: dict[str, Any] = {"year": year, "published_si": "true" if published_si else None}
        try:
            b, assessment = rk.criticality_breakdown(request, store, material, year, published_si)
        except UnknownNameError as exc:
            return _unknown(request, principal, exc, "/risk/criticality", pages_query(query))
        if b.material_id != material:  # a name or an alias: go to the canonical address
            target = f"/risk/criticality/{b.material_id}" + pages_query(query)
            return RedirectResponse(target, status_code=307)
        query["year"] = assessment.year
        tables = breakdown_tables(b, assessment)
        figures: dict[str, Figure] = {}
        for stage in b.stages:
            for conc in (stage.global_supply, stage.eu_sourcing):
                name = f"{stage.stage}-{conc.scope.lower()}" if conc is not None else ""
                if conc is not None and tables[name].rows:
                    figures[name] = concentration_figure(tables[name], conc, stage.stage)
        return _render(
            request,
            principal,
            store,
            "risk_crit_breakdown.html",
            "risk_crit_breakdown_body.html",
            b=b,
            a=assessment,
            tables=tables,
            figures=figures,
            equations={
                row["stage"]: row["inputs"]
                for row in tables["terms"].rows
                if row["symbol"] == "SR" and row["stage"]
            },
            base=f"/risk/criticality/{b.material_id}",
            window=f"{b.years[0]}–{b.years[-1]}" if b.years else "",
            year=assessment.year,
            years=_criticality_years(store),
            published_si=published_si,
            query=query,
            ranking=pages_query(query),
            sr_threshold=euc.SR_THRESHOLD,
            ei_threshold=euc.EI_THRESHOLD,
            sources=[p.citation() for p in assessment.provenance],
        )

    @app.get("/risk/criticality/{material}/{table}.{fmt}", include_in_schema=False)
    def criticality_breakdown_download(
        request: Request,
        store: StoreDep,
        principal: UserCaller,
        material: MaterialPath,
        table: Annotated[str, PathParam(min_length=1, max_length=60)],
        fmt: Fmt,
        year: YearQ = None,
        published_si: bool = False,
    ) -> Response:
        b, assessment = rk.criticality_breakdown(request, store, material, year, published_si)
        tables = breakdown_tables(b, assessment)
        if table not in tables:
            raise NoDataError(
                f"no table '{table}' for {b.name}", hint="available: " + ", ".join(tables)
            )
        suffix = "-published-si" if published_si else ""
        return pages.download(
            tables[table],
            fmt,
            _safe_stem(f"criticality-{b.material_id}-{table}-{assessment.year}{suffix}"),
        )


def _criticality_years(store: Store) -> list[int]:
    """Reference years a criticality page can offer: those with production and trade data
    (the rule of :func:`critmat.risk.eu_criticality.assess`), newest first."""
    row = store.con.execute(
        "SELECT (SELECT min(year) FROM production), (SELECT max(year) FROM production), "
        "(SELECT min(year) FROM trade), (SELECT max(year) FROM trade)"
    ).fetchone()
    if row is None or any(v is None for v in row):
        return []
    first, last = max(int(row[0]), int(row[2])), min(int(row[1]), int(row[3]))
    return list(range(last, first - 1, -1))


def pages_material_name(material_id: str | None) -> str | None:
    if material_id is None:
        return None
    from critmat.reference.materials import load_catalogue

    catalogue = load_catalogue()
    return catalogue.get(material_id).name if material_id in catalogue else material_id


def _safe_stem(stem: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("_")
