"""The figure of the holdings page (:mod:`critmat.web.stockpile_pages`): stock held against the
stock target per material and importer (EU27, Member States), tonnes of material content. An
importer without a target shows no target bar (missing, not 0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from critmat.reports.charts import NO_DATA_COLOUR, OK_COLOUR, Figure, _axis, _base_layout

__all__ = ["stock_against_target_figure"]


def stock_against_target_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """Horizontal grouped bars, one pair per ``material · importer`` row of
    :class:`critmat.services.stockpiles.PositionRow` (as dicts): stock held and target, t."""
    labels = [f"{r['material']} · {r['importer']}" for r in rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "stock held",
            "y": labels,
            "x": [r["stock_t"] for r in rows],
            "marker": {"color": OK_COLOUR},
            "hovertemplate": "%{y}: %{x:,.1f} t held<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "name": "target",
            "y": labels,
            "x": [r["target_t"] for r in rows],  # None: no target, no bar
            "marker": {"color": NO_DATA_COLOUR},
            "hovertemplate": "%{y}: target %{x:,.1f} t<extra></extra>",
        },
    ]
    height = max(220, 60 + 44 * len(rows))
    layout = _base_layout(
        height,
        barmode="group",
        legend={"orientation": "h", "y": -0.12},
        xaxis=_axis(title={"text": "tonnes of material content"}, rangemode="tozero"),
        yaxis=_axis(automargin=True, autorange="reversed"),
    )
    return {"data": traces, "layout": layout}
