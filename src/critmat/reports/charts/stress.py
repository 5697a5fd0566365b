"""Figures of the stress-test page (:mod:`critmat.web.stress_pages`): the shortfall over time,
the Monte Carlo bands and the exposure of downstream sectors, each for EU27 and one Member
State. Shares are fractions of monthly demand (shown as %); tonnes as the engine gives them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from critmat.reports.charts import OK_COLOUR, OVER_COLOUR, Figure, _axis, _base_layout
from critmat.scenarios.engine import Result
from critmat.scenarios.montecarlo import MonteCarloResult
from critmat.services.stress_output import Row, importer_label

__all__ = ["EU_COLOUR", "MEMBER_COLOUR", "bands_figure", "sectors_figure", "shortfall_figure"]

EU_COLOUR = OK_COLOUR
MEMBER_COLOUR = OVER_COLOUR
#: The band fills of EU27 and the Member State (their line colours, translucent).
EU_FILL = "rgba(59,110,168,0.18)"
MEMBER_FILL = "rgba(194,65,12,0.18)"


def _layout(height: int, **extra: Any) -> dict[str, Any]:
    """The stress figures' layout: a tighter top margin, one hover for all lines of a month and
    the legend below."""
    layout: dict[str, Any] = {
        "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.15},
    }
    layout.update(extra)
    return _base_layout(height, **layout)


def _pct_axis() -> dict[str, Any]:
    return _axis(
        title={"text": "shortfall, % of demand"},
        tickformat=".0%",
        rangemode="tozero",
    )


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def shortfall_figure(result: Result, member: str) -> Figure:
    """Shortfall (% of demand) by month for EU27 and the Member State; tonnes in the hover."""
    traces = []
    for importer, colour in (("EU27", EU_COLOUR), (member, MEMBER_COLOUR)):
        k = result.importers.index(importer)
        label = importer_label(importer)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": list(result.months),
                "y": [_num(v) for v in result.shortfall_pct[k]],
                "line": {"color": colour, "width": 2},
                "customdata": [float(v) for v in result.shortfall[k]],
                "hovertemplate": "%{y:.1%} of demand (%{customdata:,.0f} t)<extra>"
                + label
                + "</extra>",
            }
        )
    return {"data": traces, "layout": _layout(340, xaxis=_axis(), yaxis=_pct_axis())}


def _band_traces(months: list[str], label: str, colour: str, fill: str, bands: Any) -> list[Figure]:
    """The p95 edge (no legend), the p5 edge filled up to it, and the p50 line."""
    p5, p50, p95 = ([_num(v) for v in bands[q]] for q in range(3))
    edge = {"width": 0, "color": colour}
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": p95,
            "line": edge,
            "name": f"{label} p95",
            "showlegend": False,
            "hovertemplate": "p95 %{y:.1%}<extra>" + label + "</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": p5,
            "fill": "tonexty",
            "fillcolor": fill,
            "line": edge,
            "name": f"{label} p5–p95",
            "hovertemplate": "p5 %{y:.1%}<extra>" + label + "</extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": p50,
            "line": {"color": colour, "width": 2},
            "name": f"{label} p50",
            "hovertemplate": "p50 %{y:.1%}<extra>" + label + "</extra>",
        },
    ]


def bands_figure(mc: MonteCarloResult, member: str) -> Figure:
    """p5–p95 band and p50 line of the shortfall (% of demand) for EU27 and the Member State."""
    pct = mc.shortfall_pct_bands  # quantile × importer × month
    months = list(mc.months)
    traces: list[Figure] = []
    for importer, colour, fill in (
        ("EU27", EU_COLOUR, EU_FILL),
        (member, MEMBER_COLOUR, MEMBER_FILL),
    ):
        k = mc.importers.index(importer)
        traces += _band_traces(months, importer_label(importer), colour, fill, pct[:, k])
    return {"data": traces, "layout": _layout(360, xaxis=_axis(), yaxis=_pct_axis())}


def sectors_figure(rows: Sequence[Row], member: str) -> Figure | None:
    """Shortfall (t over the horizon) per application, EU27 and the Member State side by side
    (``rows``: the sector-exposure rows); None without rows."""
    if not rows:
        return None
    applications: list[str] = []
    for row in rows:
        label = f"{row['application']} ({row['sector']})"
        if label not in applications:
            applications.append(label)
    traces = []
    for importer, colour in (("EU27", EU_COLOUR), (member, MEMBER_COLOUR)):
        values = {
            f"{r['application']} ({r['sector']})": r["shortfall_t"]
            for r in rows
            if r["importer"] == importer
        }
        label = importer_label(importer)
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": label,
                "y": applications,
                "x": [values.get(a, 0.0) for a in applications],
                "marker": {"color": colour},
                "hovertemplate": "%{x:,.0f} t<extra>" + label + "</extra>",
            }
        )
    layout = _layout(
        90 + 36 * len(applications),
        barmode="group",
        hovermode="closest",
        xaxis=_axis(title={"text": "shortfall over the horizon, t"}, rangemode="tozero"),
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return {"data": traces, "layout": layout}
