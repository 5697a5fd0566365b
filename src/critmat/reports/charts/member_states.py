"""The Member State view's figure: for each row (a Member State, or a material stage of one
Member State) its extra-EU share of imports and the share of its largest third-country supplier,
against the CRMA 65 % line. Rows without imports in the data are drawn as "no data", never as 0.

Used by :mod:`critmat.web.member_state_view` (the country page of a Member State and the page
comparing the 27).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT as LIMIT
from critmat.reports import charts


@dataclass(frozen=True)
class SplitBar:
    """One bar pair: ``extra_eu_share`` and ``top_share`` (the largest third country's share
    of all imports, ``top_country`` its ISO3) as fractions 0–1; ``None``: no data."""

    label: str
    extra_eu_share: float | None
    top_share: float | None
    top_country: str | None


def split_figure(bars: Sequence[SplitBar], title: str) -> charts.Figure:
    """Horizontal bars, one row per entry: the extra-EU share (grey) and the largest third
    country's share (orange above 65 %, blue below), with the 65 % line."""
    labels = [b.label for b in bars]
    extra = [None if b.extra_eu_share is None else charts._round(b.extra_eu_share) for b in bars]
    top = [0.0 if b.top_share is None else charts._round(b.top_share) for b in bars]
    texts = [
        "no data"
        if b.extra_eu_share is None
        else (
            f"{b.top_country} {charts.share_text(b.top_share or 0.0)}"
            if b.top_country
            else "none outside the EU"
        )
        for b in bars
    ]
    colours = [
        charts.NO_DATA_COLOUR
        if b.top_share is None
        else (charts.OVER_COLOUR if b.top_share > LIMIT else charts.OK_COLOUR)
        for b in bars
    ]
    return {
        "data": [
            charts.labelled_bars(
                labels,
                extra,
                ["" for _ in bars],
                {"color": charts.OTHER_COLOUR},
                name="extra-EU share of imports",
                hovertemplate="%{y}: extra-EU %{x:.1%}<extra></extra>",
                textposition="none",
            ),
            charts.labelled_bars(
                labels,
                top,
                texts,
                {"color": colours},
                name="largest third country's share of imports",
                hovertemplate="%{y}: %{text}<extra></extra>",
            ),
        ],
        "layout": charts._base_layout(
            110 + 34 * len(bars),
            barmode="group",
            margin={"l": 10, "r": 60, "t": 30, "b": 40},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
            xaxis=charts._axis(range=[0, 1.15], tickformat=".0%", title={"text": title}),
            yaxis=charts._axis(autorange="reversed", gridcolor="rgba(0,0,0,0)", ticksuffix=" "),
            shapes=[
                {
                    "type": "line",
                    "x0": LIMIT,
                    "x1": LIMIT,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": charts.THRESHOLD_COLOUR, "dash": "dash", "width": 1.5},
                }
            ],
        ),
    }
