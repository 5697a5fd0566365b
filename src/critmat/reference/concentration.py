"""The fields of an import-concentration figure, declared once for the indicators' records
(:class:`critmat.indicators.panel.ImportFigure`) and the services' answers
(:class:`critmat.services.statistics_models.ImportConcentrationOut`). A plain module: the
catalogue's answers import it without the store's libraries."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConcentrationFigures"]


@dataclass(init=False, repr=False, eq=False)  # fields only: users bring their own methods
class ConcentrationFigures:
    """The concentration of an importer's imports of a code group (a row of
    :func:`critmat.indicators.imports.import_concentration`): ``total`` (tonnes or thousand USD),
    ``suppliers`` (origins), the largest origin and its share (0–1), the HHI of the origins'
    shares (0–1), the largest third-country origin and its share (0–1). The panel's figures and
    the services' answers (:class:`critmat.services.statistics_models.ImportConcentrationOut`)
    carry these fields."""

    total: float | None
    suppliers: int | None
    top_supplier: str | None
    top_share: float | None
    hhi: float | None
    top_third_country: str | None
    top_third_share: float | None
