"""Plotly figures of the supply-risk methods (GeoPolRisk and the EU criticality assessment), as
plain JSON-ready dicts like the rest of :mod:`critmat.reports.charts`.

Every figure is built from rows (mappings of a table's columns) or a breakdown of
:mod:`critmat.services.risk`, so the web pages (:mod:`critmat.web.risk_pages`) and a report draw
the same figure from the same numbers. Bars run top-down in the order given; a missing value is
a grey stub saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from critmat.indicators.panel import country_name
from critmat.reports.charts import (
    NO_DATA_COLOUR,
    OK_COLOUR,
    OTHER_COLOUR,
    OVER_COLOUR,
    THRESHOLD_COLOUR,
    Figure,
    _axis,
    _base_layout,
    _sig,
    country_colour,
    labelled_bars,
)
from critmat.risk.eu_criticality import EI_THRESHOLD, SR_THRESHOLD

if TYPE_CHECKING:
    from critmat.services.risk import GeoPolRiskBreakdown

Row = Mapping[str, Any]

#: Bars shown before the rest is summed into one "N others" bar.
TOP = 15
GPR_METRICS = {"score": "GeoPolRisk score", "cf": "characterization factor (kg Cu-eq/kg)"}


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    """The risk charts' layout: wider right margin for the bar labels, bars top-down."""
    options: dict[str, Any] = {
        "margin": {"l": 10, "r": 50, "t": 30, "b": 40},
        "bargap": 0.25,
        "yaxis": {
            "autorange": "reversed",
            "gridcolor": "rgba(0,0,0,0)",
            "ticksuffix": " ",
            "automargin": True,
        },
    }
    options.update(extra)
    return _base_layout(height, **options)


def short(value: float | None) -> str:
    """A number as a bar label or hover shows it: thousands separated above 100, two decimals
    above 1, three significant figures below; "–" for a missing value."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _threshold(x: float, label: str) -> dict[str, Any]:
    """A dashed vertical line at ``x`` with its label on top."""
    return {
        "shapes": [
            {
                "type": "line",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": THRESHOLD_COLOUR, "width": 2, "dash": "dash"},
            }
        ],
        "annotations": [
            {
                "x": x,
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "text": label,
                "showarrow": False,
                "font": {"color": THRESHOLD_COLOUR, "size": 11},
            }
        ],
    }


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
    colour = list(colours) if colours else [OK_COLOUR] * len(labels)
    texts = []
    for v, raw in zip(shown, values, strict=True):
        if raw is None:
            texts.append("undefined")
        elif v is None:
            texts.append("0")
        else:
            texts.append(f"{v:.1%}" if percent else short(v))
    axis = _axis(title={"text": axis_title})
    if log:
        axis["type"] = "log"
    else:
        axis["rangemode"] = "tozero"
    if tickformat:
        axis["tickformat"] = tickformat
    layout = _layout(70 + 22 * max(len(labels), 3), xaxis=axis)
    if threshold is not None:
        layout.update(_threshold(*threshold))
    return {
        "data": [
            labelled_bars(
                list(labels),
                [stub if v is None else v for v in shown],
                texts,
                {
                    "color": [
                        NO_DATA_COLOUR if v is None else c
                        for v, c in zip(shown, colour, strict=True)
                    ]
                },
                list(hover),
            )
        ],
        "layout": layout,
    }


def top_with_rest(
    items: Sequence[tuple[str, str, float]], top: int = TOP
) -> list[tuple[str, str, float]]:
    """``(code, label, value)`` items: the first ``top`` and one 'other' bar for the rest."""
    head = list(items[:top])
    rest = items[top:]
    if rest:
        head.append(("", f"{len(rest)} others", sum(v for _c, _l, v in rest)))
    return head


def _country_bars(
    items: Sequence[tuple[str, str, float]], axis_title: str, hover: Sequence[str], **extra: Any
) -> Figure:
    """Bars of countries (and one 'others' bar), each in its country's colour."""
    return bars(
        [label for _c, label, _v in items],
        [value for _c, _l, value in items],
        axis_title=axis_title,
        hover=hover,
        colours=[country_colour(c) if c else OTHER_COLOUR for c, _l, _v in items],
        **extra,
    )


# ================================================================================ GeoPolRisk
def geopolrisk_ranking(rows: Sequence[Row], sort: str, importer: str, year: int) -> Figure:
    """The commodities by GeoPolRisk ``sort`` (score, or CF on a log scale), in row order."""
    hover = [
        f"<b>{r['wmd_commodity']}</b><br>score {short(r['score'])} = HHI {short(r['hhi'])}"
        f" × import risk {short(r['import_risk'])}<br>CF {short(r['cf'])} kg Cu-eq/kg · "
        f"price {short(r['price_usd_per_kg'])} USD/kg"
        for r in rows
    ]
    return bars(
        [str(r["wmd_commodity"]) for r in rows],
        [None if r[sort] is None else float(r[sort]) for r in rows],
        axis_title=f"{GPR_METRICS[sort]}, {importer}, {year}"
        + (" (log scale)" if sort == "cf" else ""),
        hover=hover,
        log=sort == "cf",
    )


def geopolrisk_origins(bd: GeoPolRiskBreakdown) -> Figure:
    """Each origin's contribution to the score (the largest :data:`TOP` and the rest)."""
    items = top_with_rest(
        [(o.origin, country_name(o.origin), o.score_contribution or 0.0) for o in bd.origins]
    )
    by_code = {o.origin: o for o in bd.origins}
    hover = []
    for code, label, value in items:
        o = by_code.get(code)
        if o is None:
            hover.append(f"<b>{label}</b><br>contribution {short(value)}")
        else:
            hover.append(
                f"<b>{label}</b><br>{short(o.amount)} {bd.amount_unit} × weight "
                f"{o.weight:.3f} / {short(bd.denominator)} × HHI {short(bd.hhi)} "
                f"= {short(value)}"
            )
    return _country_bars(
        items, f"contribution to the GeoPolRisk score, {bd.importer.name}, {bd.year}", hover
    )


def geopolrisk_producers(bd: GeoPolRiskBreakdown) -> Figure:
    """Shares of world production (the largest :data:`TOP` and the rest)."""
    items = top_with_rest([(p.country, country_name(p.country), p.share) for p in bd.producers])
    return _country_bars(
        items,
        f"share of world production of {bd.commodity}, {bd.year}",
        [f"<b>{label}</b><br>{value:.1%}" for _c, label, value in items],
        tickformat=".0%",
        percent=True,
    )


# ================================================================================ criticality
def criticality_ranking(rows: Sequence[Row], years: str) -> Figure:
    """Materials with an SR, in row order, against the SR = 1 line."""
    scored = [r for r in rows if r["sr"] is not None]
    colours = [OVER_COLOUR if r["sr"] >= SR_THRESHOLD else OK_COLOUR for r in scored]
    hover = [
        f"<b>{r['name']}</b><br>SR {r['sr']:.2f} ({r['stage']}, {r['basis']})"
        + (f"<br>EI {r['ei']:.2f}" if r["ei"] is not None else "")
        for r in scored
    ]
    return bars(
        [str(r["name"]) for r in scored],
        [float(r["sr"]) for r in scored],
        axis_title=f"EU supply risk (SR), data {years}",
        hover=hover,
        colours=colours,
        threshold=(SR_THRESHOLD, "SR = 1 (CRMA threshold)"),
    )


def sr_ei(rows: Sequence[Row], years: str) -> Figure | None:
    """SR against EI with both thresholds, when any material has an EI."""
    both = [r for r in rows if r["sr"] is not None and r["ei"] is not None]
    if not both:
        return None
    line = {"color": THRESHOLD_COLOUR, "width": 2, "dash": "dash"}
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [_sig(float(r["ei"])) for r in both],
                "y": [_sig(float(r["sr"])) for r in both],
                "text": [str(r["name"]) for r in both],
                "textposition": "top center",
                "marker": {
                    "color": [OVER_COLOUR if r["critical"] else OK_COLOUR for r in both],
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
                    "x0": EI_THRESHOLD,
                    "x1": EI_THRESHOLD,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": line,
                },
                {
                    "type": "line",
                    "y0": SR_THRESHOLD,
                    "y1": SR_THRESHOLD,
                    "x0": 0,
                    "x1": 1,
                    "xref": "paper",
                    "line": line,
                },
            ],
        ),
    }


def concentration(rows: Sequence[Row], scope: str, stage: str) -> Figure:
    """Each supplier country's contribution ``share² · WGI · t`` to ``(HHI_WGI,t)_scope``
    (GS: global supply, EUS: EU sourcing), largest first."""
    items = top_with_rest(
        [
            (str(r["country"]), country_name(str(r["country"])), float(r["contribution"] or 0.0))
            for r in sorted(rows, key=lambda r: -(r["contribution"] or 0.0))
        ]
    )
    by_code = {str(r["country"]): r for r in rows}
    hover = []
    for code, label, value in items:
        r = by_code.get(code)
        if r is None or r["wgi_scaled"] is None:
            hover.append(f"<b>{label}</b><br>contribution {short(value)}")
        else:
            hover.append(
                f"<b>{label}</b><br>{r['share']:.1%}² × WGI {r['wgi_scaled']:.2f} × t "
                f"{r['t']:.2f} = {short(value)}"
            )
    name = "global supply" if scope == "GS" else "EU sourcing"
    return _country_bars(items, f"contribution to (HHI_WGI,t)_{scope}, {name}, {stage}", hover)
