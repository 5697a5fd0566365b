"""Figures of the overview's answers (:mod:`critmat.services.overview`), for the web's
statistics pages and the offline report: the CRMA panel, world production, EU27 sources over
time, the concentration trend, a country's supply to the EU27 and its governance.
"""

from __future__ import annotations

from collections.abc import Sequence

from critmat.indicators.imports import CRMA_SINGLE_COUNTRY_LIMIT
from critmat.indicators.panel import PanelRow
from critmat.reports.charts import (
    OK_COLOUR,
    OVER_COLOUR,
    Figure,
    PanelBar,
    ProducerBar,
    SourceSeries,
    TrendLine,
    _axis,
    _base_layout,
    concentration_trend,
    crma_panel,
    labelled_bars,
    production_bars,
    sources_area,
)
from critmat.services.overview.country import GovernanceRow, SupplyRow
from critmat.services.overview.sections import ConcentrationTrend, EuSources, ProductionBlock

#: Line colours of the concentration trend.
PRODUCTION_HHI_COLOUR = "#6c4f8c"
IMPORT_HHI_COLOUR = "#3b6ea8"
TOP_SHARE_COLOUR = "#c2410c"
#: Fill of the governance estimate's 90% interval.
BAND_FILL = "rgba(59,110,168,0.15)"


def panel_label(row: PanelRow, star_strategic: bool) -> str:
    """A panel row's bar label (a star before strategic materials when ``star_strategic``)."""
    return ("★ " if row.strategic and star_strategic else "") + row.name


def panel_figure(rows: Sequence[PanelRow], year: int, *, star_strategic: bool) -> Figure:
    """The CRMA panel chart of ``rows``."""
    return crma_panel(
        [
            PanelBar(
                label=panel_label(p, star_strategic),
                share=p.share,
                country=p.country_label,
                status=p.status,
                note=p.note,
            )
            for p in rows
        ],
        year,
    )


def production_figure(block: ProductionBlock) -> Figure:
    """World production shares of ``block``'s largest producers and the rest of the world."""
    bars = [ProducerBar(s.country, s.name, s.share, s.quantity, s.estimated) for s in block.shares]
    return production_bars(bars, block.unit, block.year)


def sources_figure(sources: EuSources, year: int) -> Figure:
    """Stacked areas of EU27 imports by origin, ``year`` marked."""
    series = [SourceSeries(s.country, s.name, s.tonnes, s.kusd) for s in sources.origins]
    return sources_area(sources.years, series, year)


def trend_figure(trend: ConcentrationTrend, year: int) -> Figure:
    """The concentration trend lines of ``trend``, ``year`` marked."""
    series = [
        (
            f"HHI world production ({trend.commodity})",
            trend.production_hhi,
            PRODUCTION_HHI_COLOUR,
            "solid",
        )
    ]
    if trend.import_hhi is not None and trend.top_third_share is not None:
        series += [
            ("HHI EU27 imports (mass)", trend.import_hhi, IMPORT_HHI_COLOUR, "solid"),
            (
                "largest third-country share of EU27 imports",
                trend.top_third_share,
                TOP_SHARE_COLOUR,
                "dot",
            ),
        ]
    lines = [
        TrendLine(name, line.years, line.values, colour, dash)
        for name, line, colour, dash in series
        if line is not None
    ]
    return concentration_trend(lines, year)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def supply_figure(rows: Sequence[SupplyRow], name: str, year: int, top: int = 15) -> Figure:
    """Horizontal bars: the shares of EU27 imports (by value) the country supplies, for its
    ``top`` largest stages; above the 65% benchmark in the warning colour."""
    shown = [r for r in rows if r.share_value is not None][:top]
    labels = [_short(f"{r.name} · {r.stage}", 48) for r in shown]
    values = [round(r.share_value or 0.0, 4) for r in shown]
    return {
        "data": [
            labelled_bars(
                labels,
                values,
                [f"{v:.0%}" for v in values],
                {
                    "color": [
                        OVER_COLOUR if v > CRMA_SINGLE_COUNTRY_LIMIT else OK_COLOUR for v in values
                    ]
                },
                hovertemplate="%{y}: %{x:.1%}<extra></extra>",
            )
        ],
        "layout": _base_layout(
            80 + 24 * len(shown),
            margin={"l": 10, "r": 40, "t": 20, "b": 40},
            xaxis=_axis(
                range=[0, 1.12],
                tickformat=".0%",
                title={"text": f"share of EU27 extra-EU imports by value from {name}, {year}"},
            ),
            yaxis=_axis(autorange="reversed", gridcolor="rgba(0,0,0,0)", ticksuffix=" "),
        ),
    }


def governance_figure(rows: Sequence[GovernanceRow], name: str) -> Figure:
    """The WGI political-stability estimate over the years with its 90% interval."""
    shown = [r for r in rows if r.estimate is not None]
    years = [r.year for r in shown]
    band = {"width": 0}
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": years,
                "y": [r.upper for r in shown],
                "line": band,
                "hoverinfo": "skip",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": years,
                "y": [r.lower for r in shown],
                "fill": "tonexty",
                "fillcolor": BAND_FILL,
                "line": band,
                "name": "90% interval",
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": years,
                "y": [r.estimate for r in shown],
                "line": {"color": OK_COLOUR, "width": 2},
                "marker": {"size": 4},
                "name": "estimate",
                "hovertemplate": "%{x}: %{y:.2f}<extra></extra>",
            },
        ],
        "layout": _base_layout(
            280,
            margin={"l": 10, "r": 20, "t": 20, "b": 40},
            showlegend=False,
            xaxis=_axis(gridcolor="#eef0f3"),
            yaxis=_axis(
                range=[-2.5, 2.5],
                zeroline=True,
                zerolinecolor="#9ca3af",
                gridcolor="#eef0f3",
                title={"text": f"{name}: political stability (WGI)"},
            ),
        ),
    }
