"""What the HTML report shows: the overview's report (:func:`critmat.services.overview.report`)
and the figures drawn from it (:mod:`critmat.reports.charts.statistics`).

Everything is computed by :mod:`critmat.services.overview`; this module only pairs each
section's series with its chart. Nothing is formatted for a screen except chart labels (the
template formats numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from critmat.indicators.panel import PARTIAL_VALUE_SHARE as PARTIAL_VALUE_SHARE
from critmat.indicators.panel import THIN_TONNES as THIN_TONNES
from critmat.indicators.panel import country_name as country_name
from critmat.reports import charts
from critmat.reports.charts import statistics as figures
from critmat.services.overview import OverviewReport
from critmat.services.overview.sections import MaterialSection

#: The key of the CRMA panel's chart.
PANEL_FIGURE = "crma-panel"


@dataclass
class ReportModel:
    """The report (``report``, what the template shows as ``m``) and its figures (key →
    plotly spec; ``panel_figure``: the CRMA panel's key)."""

    report: OverviewReport
    figures: dict[str, charts.Figure] = field(default_factory=dict)
    panel_figure: str = PANEL_FIGURE


def report_model(report: OverviewReport) -> ReportModel:
    """``report`` with the figures of its panel and of every full section."""
    drawn: dict[str, charts.Figure] = {}
    for section in report.critical:
        drawn.update(section_figures(section, report.focus_year))
    drawn[PANEL_FIGURE] = figures.panel_figure(report.panel, report.focus_year, star_strategic=True)
    return ReportModel(report, drawn)


def section_figures(section: MaterialSection, year: int) -> dict[str, charts.Figure]:
    """The charts of a section, by the keys the section names them with."""
    drawn = {
        block.figure_id: figures.production_figure(block)
        for block in section.production
        if block.figure_id
    }
    if section.sources is not None and section.sources_figure:
        drawn[section.sources_figure] = figures.sources_figure(section.sources, year)
    if section.trend is not None and section.trend_figure:
        drawn[section.trend_figure] = figures.trend_figure(section.trend, year)
    return drawn
