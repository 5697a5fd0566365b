"""Figure of the release page (:mod:`critmat.web.stockpile_release_pages`): per Member State,
the tonnes allocated and the tonnes of its requests left unmet, stacked (tonnes of material
content, as the allocation gives them)."""

from __future__ import annotations

from typing import Any

from critmat.reports.charts import OK_COLOUR, OTHER_COLOUR, Figure, _axis, _base_layout

__all__ = ["allocation_figure"]


def allocation_figure(member_states: list[Any]) -> Figure:
    """Stacked horizontal bars, largest allocation on top: allocated and unmet (t) per Member
    State; ``member_states`` are :class:`critmat.services.stockpile_release.MemberStateTotal`."""
    ordered = sorted(member_states, key=lambda m: m.allocated_t)
    names = [m.member_state for m in ordered]
    allocated = [m.allocated_t for m in ordered]
    unmet = [max(m.requested_t - m.allocated_t, 0.0) for m in ordered]
    rate = ["no request" if m.fill_rate is None else f"{m.fill_rate:.1%}" for m in ordered]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "allocated",
            "y": names,
            "x": allocated,
            "marker": {"color": OK_COLOUR},
            "customdata": rate,
            "hovertemplate": "%{y}: %{x:,.3f} t allocated (%{customdata} of its requests)"
            "<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "name": "requested, not met",
            "y": names,
            "x": unmet,
            "marker": {"color": OTHER_COLOUR},
            "hovertemplate": "%{y}: %{x:,.3f} t not met<extra></extra>",
        },
    ]
    layout = _base_layout(
        max(260, 22 * len(names) + 90),
        barmode="stack",
        margin={"l": 10, "r": 20, "t": 20, "b": 40},
        legend={"orientation": "h", "y": -0.12},
        xaxis=_axis(title={"text": "tonnes"}, rangemode="tozero"),
        yaxis=_axis(automargin=True),
    )
    return {"data": traces, "layout": layout}
