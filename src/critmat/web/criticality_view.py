"""The tables of the criticality page's "next assessment" section: the newest window against
the 2023 EU list (:func:`critmat.services.risk_criticality.criticality_outlook`)."""

from __future__ import annotations

from typing import Any

from critmat.services import risk
from critmat.services import risk_criticality as crit
from critmat.web.risk_tables import pages_query
from critmat.web.tables import Column, Table

__all__ = ["outlook_table"]


def outlook_table(found: crit.Outlook, query: dict[str, Any]) -> Table:
    """Every material on the newest data against the 2023 list, those crossing a threshold
    first; each row links to the material's breakdown."""
    assessment = found.assessment
    rows = [r.as_row() for r in found.rows]
    for row in rows:
        row["_href"] = f"/risk/criticality/{row['material']}" + pages_query(query)
    years = f"{assessment.years[0]}–{assessment.years[-1]}"
    return Table(
        name="criticality-next",
        title=f"The next assessment on data {years} against the 2023 list",
        columns=[
            Column("name", "Material", export_label="name"),
            Column("material", "Id", export_label="material id"),
            Column("sr", "SR", "num", export_label="sr"),
            Column("sr_stage", "Stage"),
            Column("sr_2023", "SR 2023", "num"),
            Column("sr_change", "SR ≥ 1 against 2023"),
            Column("ei", "EI", "num"),
            Column("ei_source", "EI from"),
            Column("meets_2023", "On the 2023 list (SR ≥ 1, EI ≥ 2.8)", "bool"),
            Column("meets_now", "Would meet the thresholds", "bool"),
            Column("change", "Change"),
            Column("crma_critical", "CRMA Annex II", "bool"),
        ],
        rows=rows,
        source=risk.citation(assessment.provenance),
        year=years,
        notes=[
            *assessment.notes,
            "EI: the 2023 assessment's (assumed unchanged); critmat computes no EI of its own",
        ],
    )
