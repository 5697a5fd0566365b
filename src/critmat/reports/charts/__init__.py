"""Plotly figure specifications for the HTML report, as plain JSON-ready dicts.

Figures are built as dicts (``{"data": [...], "layout": {...}}``) rather than
``plotly.graph_objects`` so that no theme template is embedded in every figure: the report
holds about a hundred figures and each default template would add ~7 kB. Numbers are rounded
to what a reader can see, which keeps the file small. The page draws them with
``Plotly.newPlot`` from the inlined plotly.js (see ``templates/report.js``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Figure = dict[str, Any]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
THRESHOLD_COLOUR = "#b3261e"
OK_COLOUR = "#3b6ea8"
OVER_COLOUR = "#c2410c"
NO_DATA_COLOUR = "#9ca3af"
OTHER_COLOUR = "#c7ccd4"

#: Fixed colours for the origins that recur across materials, so China is the same colour in
#: every chart; other countries get a stable colour from a hash of their code.
COUNTRY_COLOURS: dict[str, str] = {
    "CHN": "#d1495b",
    "USA": "#2e6f9e",
    "RUS": "#6c4f8c",
    "ZAF": "#e09f3e",
    "COD": "#2a9d8f",
    "AUS": "#f4a261",
    "BRA": "#4d9a4a",
    "CHL": "#8d6e63",
    "TUR": "#b5838d",
    "IND": "#ff7f0e",
    "CAN": "#9e2a2b",
    "NOR": "#577590",
    "GBR": "#1d3557",
    "JPN": "#e76f51",
    "KOR": "#43aa8b",
    "KAZ": "#90be6d",
    "UKR": "#f9c74f",
    "MAR": "#7b2cbf",
    "IDN": "#277da1",
    "PER": "#bc6c25",
    "MEX": "#606c38",
    "GIN": "#0f4c5c",
    "CHE": "#c9184a",
    "VNM": "#ffb703",
    "MYS": "#8338ec",
    "PHL": "#3a86ff",
    "ARG": "#76c893",
    "BOL": "#b56576",
    "ZMB": "#6d597a",
    "MOZ": "#355070",
    "GAB": "#e56b6f",
}
_FALLBACK = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#af7aa1",
    "#86bcb6",
    "#d37295",
    "#a0cbe8",
]


def country_colour(iso3: str) -> str:
    """A stable colour for a country code (fixed for common origins, hashed otherwise)."""
    if iso3 in COUNTRY_COLOURS:
        return COUNTRY_COLOURS[iso3]
    return _FALLBACK[sum(ord(c) * (i + 1) for i, c in enumerate(iso3)) % len(_FALLBACK)]


NO_DATA_TEXT = {
    "no-quantity": "no quantities (value only)",
    "no-imports": "no EU27 imports in the year",
    "no-codes": "HS codes not in the trade release",
    "no-stages": "no HS codes catalogued",
    "ok": "",
    "thin": "",
    "partial": "",
}


def share_text(share: float) -> str:
    """Whole percent, with one decimal where it would round to the 65% benchmark."""
    whole = round(share * 100)
    return f"{share * 100:.1f}%" if whole == 65 else f"{whole}%"


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def _sig(value: float | None, figures: int = 4) -> float | None:
    """Round to significant figures (tonnages span 1e-3 to 1e9)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value == 0:
        return 0.0
    digits = figures - 1 - math.floor(math.log10(abs(value)))
    return round(float(value), max(digits, -9))


def _base_layout(height: int, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 36, "b": 40},
        "font": {"family": FONT, "size": 12, "color": "#1f2933"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT}},
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def _years_layout(height: int, top_margin: int, **extra: Any) -> dict[str, Any]:
    """The layout of a chart over years: one hover label for all lines, the legend below."""
    return _base_layout(
        height,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.14, "font": {"size": 11}},
        margin={"l": 10, "r": 20, "t": top_margin, "b": 30},
        **extra,
    )


def labelled_bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    texts: Sequence[str],
    marker: dict[str, Any],
    hover: Sequence[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A trace of horizontal bars with each bar's ``texts`` beside it; ``hover``: the hover
    text of each bar (then no legend entry); ``extra``: further trace keys."""
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "y": labels,
        "x": values,
        "text": texts,
        "textposition": "outside",
        "cliponaxis": False,
        "marker": marker,
    }
    if hover is not None:
        trace.update(hovertext=hover, hoverinfo="text", showlegend=False)
    trace.update(extra)
    return trace


def _axis(**extra: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "gridcolor": "#e5e7eb",
        "zerolinecolor": "#cbd2d9",
        "linecolor": "#cbd2d9",
        "automargin": True,
    }
    axis.update(extra)
    return axis


@dataclass(frozen=True)
class PanelBar:
    """One material in the CRMA panel chart."""

    label: str
    share: float | None
    country: str | None
    status: str
    note: str


def crma_panel(bars: Sequence[PanelBar], year: int) -> Figure:
    """Horizontal bars: largest third-country share of EU27 imports, with the 65% line."""
    labels = [b.label for b in bars]
    values = [0.0 if b.share is None else _round(b.share) for b in bars]
    colours = [
        NO_DATA_COLOUR if b.share is None else (OVER_COLOUR if b.share > 0.65 else OK_COLOUR)
        for b in bars
    ]
    opacity = [0.55 if b.status in ("thin", "partial") else 1.0 for b in bars]
    texts = [
        (f"{b.country} {share_text(b.share)}" if b.share is not None else NO_DATA_TEXT[b.status])
        + (" ⚠" if b.status in ("thin", "partial") else "")
        for b in bars
    ]
    hover = [
        f"<b>{b.label}</b><br>"
        + (
            f"largest third-country supplier: {b.country} {b.share:.1%}"
            if b.share is not None
            else "no EU27 import data on a mass basis"
        )
        + (f"<br>{b.note}" if b.note else "")
        for b in bars
    ]
    height = 70 + 22 * len(bars)
    return {
        "data": [
            labelled_bars(labels, values, texts, {"color": colours, "opacity": opacity}, hover)
        ],
        "layout": _base_layout(
            height,
            margin={"l": 10, "r": 40, "t": 30, "b": 40},
            xaxis=_axis(
                range=[0, 1.18],
                tickformat=".0%",
                tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
                title={"text": f"largest single third-country share of EU27 imports, {year}"},
            ),
            yaxis=_axis(autorange="reversed", gridcolor="rgba(0,0,0,0)", ticksuffix=" "),
            bargap=0.25,
            shapes=[
                {
                    "type": "line",
                    "x0": 0.65,
                    "x1": 0.65,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"color": THRESHOLD_COLOUR, "width": 2, "dash": "dash"},
                }
            ],
            annotations=[
                {
                    "x": 0.65,
                    "y": 1.0,
                    "yref": "paper",
                    "yanchor": "bottom",
                    "text": "CRMA benchmark 65%",
                    "showarrow": False,
                    "font": {"color": THRESHOLD_COLOUR, "size": 11},
                }
            ],
        ),
    }


@dataclass(frozen=True)
class ProducerBar:
    """One bar of a production chart (a country, or the rest of the world)."""

    country: str
    name: str
    share: float
    quantity: float
    estimated: bool


def production_bars(bars: Sequence[ProducerBar], unit: str, year: int) -> Figure:
    """World production shares by country (top 10 and the rest), estimated figures hatched."""
    labels = [b.name for b in bars]
    colours = [OTHER_COLOUR if b.country == "" else country_colour(b.country) for b in bars]
    pattern = ["/" if b.estimated else "" for b in bars]
    hover = [
        f"<b>{b.name}</b><br>{_fmt_qty(b.quantity)} {unit} · {b.share:.1%}"
        + (" · estimated (WMD 'e')" if b.estimated else "")
        for b in bars
    ]
    return {
        "data": [
            labelled_bars(
                labels,
                [_round(b.share) for b in bars],
                [f"{b.share:.0%}" if b.share >= 0.005 else "<1%" for b in bars],
                {"color": colours, "pattern": {"shape": pattern, "solidity": 0.35}},
                hover,
            )
        ],
        "layout": _base_layout(
            60 + 24 * max(len(bars), 3),
            xaxis=_axis(
                tickformat=".0%",
                rangemode="tozero",
                title={"text": f"share of world production, {year}"},
            ),
            yaxis=_axis(autorange="reversed", gridcolor="rgba(0,0,0,0)", ticksuffix=" "),
            margin={"l": 10, "r": 40, "t": 28, "b": 40},
            bargap=0.25,
        ),
    }


def _fmt_qty(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.1f}"
    return f"{value:.3g}"


@dataclass(frozen=True)
class SourceSeries:
    """Yearly EU27 imports from one origin (or 'Other'), tonnes and thousand USD."""

    country: str
    name: str
    tonnes: Sequence[float | None]
    kusd: Sequence[float | None]


def sources_area(years: Sequence[int], series: Sequence[SourceSeries], focus_year: int) -> Figure:
    """Stacked areas of EU27 extra-EU imports by origin; buttons switch tonnes / value."""
    traces: list[dict[str, Any]] = []
    for basis, unit in (("mass", "t"), ("value", "kUSD")):
        for s in series:
            values = s.tonnes if basis == "mass" else s.kusd
            colour = OTHER_COLOUR if s.country == "" else country_colour(s.country)
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "stackgroup": basis,
                    "x": list(years),
                    "y": [_sig(v) for v in values],
                    "name": s.name,
                    "legendgroup": s.name,
                    "line": {"width": 0.5, "color": colour},
                    "fillcolor": colour,
                    "visible": basis == "mass",
                    "showlegend": True,
                    "hovertemplate": f"{s.name}: %{{y:,.4~r}} {unit}<extra></extra>",
                }
            )
    n = len(series)
    return {
        "data": traces,
        "layout": _years_layout(
            340,
            40,
            xaxis=_axis(dtick=2, title=None),
            yaxis=_axis(title={"text": "tonnes"}, rangemode="tozero"),
            shapes=[_year_marker(focus_year)],
            updatemenus=[
                {
                    "type": "buttons",
                    "direction": "right",
                    "x": 0,
                    "xanchor": "left",
                    "y": 1.02,
                    "yanchor": "bottom",
                    "showactive": True,
                    "bgcolor": "#f3f4f6",
                    "bordercolor": "#cbd2d9",
                    "font": {"size": 11},
                    "buttons": [
                        {
                            "label": "by mass (t)",
                            "method": "update",
                            "args": [
                                {"visible": [True] * n + [False] * n},
                                {"yaxis.title.text": "tonnes"},
                            ],
                        },
                        {
                            "label": "by value (kUSD)",
                            "method": "update",
                            "args": [
                                {"visible": [False] * n + [True] * n},
                                {"yaxis.title.text": "thousand USD"},
                            ],
                        },
                    ],
                }
            ],
        ),
    }


def _year_marker(year: int) -> dict[str, Any]:
    return {
        "type": "line",
        "x0": year,
        "x1": year,
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"color": "#9aa5b1", "width": 1, "dash": "dot"},
    }


@dataclass(frozen=True)
class TrendLine:
    """One line of the concentration trend chart."""

    name: str
    years: Sequence[int]
    values: Sequence[float | None]
    colour: str
    dash: str = "solid"


def concentration_trend(lines: Sequence[TrendLine], focus_year: int) -> Figure:
    """HHI of world production and of EU27 imports, and the largest third-country share."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": list(line.years),
            "y": [_round(v, 3) for v in line.values],
            "name": line.name,
            "line": {"color": line.colour, "dash": line.dash, "width": 2},
            "marker": {"size": 4},
            "connectgaps": False,
            "hovertemplate": f"{line.name}: %{{y:.3f}}<extra></extra>",
        }
        for line in lines
    ]
    return {
        "data": traces,
        "layout": _years_layout(
            320,
            28,
            xaxis=_axis(dtick=2),
            yaxis=_axis(range=[0, 1.02], title={"text": "0 – 1"}),
            shapes=[
                {
                    "type": "line",
                    "x0": 0,
                    "x1": 1,
                    "xref": "paper",
                    "y0": 0.65,
                    "y1": 0.65,
                    "line": {"color": THRESHOLD_COLOUR, "width": 1, "dash": "dash"},
                },
                _year_marker(focus_year),
            ],
            annotations=[
                {
                    "x": 0,
                    "xref": "paper",
                    "xanchor": "left",
                    "y": 0.65,
                    "yanchor": "bottom",
                    "text": "65% (applies to the supplier share)",
                    "showarrow": False,
                    "font": {"color": THRESHOLD_COLOUR, "size": 10},
                }
            ],
        ),
    }
