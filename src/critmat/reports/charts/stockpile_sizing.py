"""The figure of the stockpile sizing page (:mod:`critmat.web.stockpile_sizing_pages`): the cost
curve of each material and importer — stock level (t) against the share of the simulated
shortfall it covers (solid) and the share of runs it covers fully (dotted), with the sized stock
and the 60- and 100-day rules marked. Shares are fractions 0-1 shown as %.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from critmat.reports.charts import OK_COLOUR, OVER_COLOUR, Figure, _axis, _base_layout

__all__ = ["cost_curve_figure"]

#: Line colours of successive items (material · importer).
COLOURS = (OK_COLOUR, OVER_COLOUR, "#4d7c0f", "#7c3aed", "#0f766e", "#a16207")


def cost_curve_figure(curve: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]) -> Figure:
    """``curve``: rows of :func:`critmat.services.stockpile_sizing.curve_rows`; ``items``: rows
    of :func:`~critmat.services.stockpile_sizing.item_rows` (sized stock, days rules)."""
    traces: list[dict[str, Any]] = []
    for n, item in enumerate(items[: len(COLOURS)]):
        key = (item["material"], item["importer"])
        label = f"{key[0]} · {key[1]}"
        colour = COLOURS[n]
        points = [r for r in curve if (r["material"], r["importer"]) == key]
        x = [p["stock_t"] for p in points]
        cost = [p["cost_eur"] for p in points]
        for field, dash, shape, what in (
            ("share_shortfall_covered", "solid", "linear", "shortfall covered"),
            ("share_runs_covered", "dot", "hv", "runs fully covered"),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{label}: {what}",
                    "x": x,
                    "y": [p[field] for p in points],
                    "customdata": cost,
                    "line": {"color": colour, "width": 2, "dash": dash, "shape": shape},
                    "hovertemplate": "%{x:,.0f} t: %{y:.1%} "
                    + what
                    + "<br>cost %{customdata:,.0f} EUR"
                    "<extra>" + label + "</extra>",
                }
            )
        marks = [("sized", item["stock_t"], "circle")]
        marks += [(f"{d} days", item[f"days{d}_t"], "diamond") for d in (60, 100)]
        shown = [(name, t, symbol) for name, t, symbol in marks if t is not None]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": f"{label}: sized and 60/100 days",
                "x": [t for _n, t, _s in shown],
                "y": [_covered(points, t) for _n, t, _s in shown],
                "text": [name for name, _t, _s in shown],
                "textposition": "top center",
                "marker": {"color": colour, "size": 9, "symbol": [s for *_r, s in shown]},
                "hovertemplate": "%{text}: %{x:,.0f} t<extra>" + label + "</extra>",
                "showlegend": False,
            }
        )
    layout = _base_layout(
        380,
        margin={"l": 10, "r": 20, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        xaxis=_axis(title={"text": "stock, t"}, rangemode="tozero"),
        yaxis=_axis(title={"text": "covered"}, tickformat=".0%", range=[0, 1.05]),
    )
    return {"data": traces, "layout": layout}


def _covered(points: Sequence[dict[str, Any]], stock_t: float) -> float | None:
    """The share of shortfall covered at ``stock_t``, interpolated on the curve (its last value
    beyond it); None when no run is short."""
    known = [p for p in points if p["share_shortfall_covered"] is not None]
    if not known:
        return None
    xs = [float(p["stock_t"]) for p in known]
    ys = [float(p["share_shortfall_covered"]) for p in known]
    return float(np.interp(stock_t, xs, ys))
