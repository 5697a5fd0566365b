"""The Member State view's tables and figures, from :mod:`critmat.services.member_states`:
one Member State's dependencies (the country page) and the 27 side by side (the comparison
page, :mod:`critmat.web.member_state_pages`). Missing figures stay empty cells ("–"), never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from critmat.reports.charts import Figure
from critmat.reports.charts.member_states import SplitBar, split_figure
from critmat.services.member_states import (
    FLAG_RULE,
    ImportSplit,
    MemberStateDependencies,
    MemberStatesComparison,
    StageDependency,
    flag_text,
)
from critmat.services.statistics_models import ProvenanceOut
from critmat.web.columns import TONNES, VALUE_KUSD
from critmat.web.tables import Column, Table

#: The columns every split table shows after its own first ones.
SPLIT_COLUMNS = (
    Column("extra_eu_share", "Extra-EU share", "share"),
    Column("intra_eu_share", "Intra-EU share", "share"),
    Column("top_extra_eu_supplier", "Largest third country", "country"),
    Column("top_extra_eu_share", "Largest third country's share", "share"),
    Column("top_extra_eu_share_of_extra_eu", "Its share of extra-EU", "share"),
    Column("flag", "CRMA 65 % flag"),
)
RELEASE_COLUMNS = (
    Column("year", "Year", "year"),
    Column("series", "Trade series"),
    Column("release", "Release"),
    Column("hs_codes", "HS codes"),
    Column("notes", "Notes"),
)


def _cells(row: ImportSplit) -> dict[str, Any]:
    data = row.model_dump(exclude={"trend"})
    data["flag"] = flag_text(row.exceeds_65)
    data["hs_codes"] = ", ".join(row.hs_codes)
    data["notes"] = "; ".join(row.notes)
    return data


def trend_text(row: StageDependency) -> str | None:
    """The flag over the years the stage's data hold, e.g. "6 of 30 years (1995–2024), last
    2024"; ``None`` without a year with imports."""
    known = [p for p in row.trend if p.exceeds_65 is not None]
    if not known:
        return None
    above = [p.year for p in known if p.exceeds_65]
    span = f"{known[0].year}–{known[-1].year}" if len(known) > 1 else str(known[0].year)
    last = f", last {above[-1]}" if above else ""
    return f"{len(above)} of {len(known)} years ({span}){last}"


def _citation(items: Sequence[ProvenanceOut]) -> str:
    return "; ".join(p.citation() for p in items) or "no trade release"


def dependencies_table(answer: MemberStateDependencies) -> Table:
    """One row per strategic material stage of the Member State."""
    return Table(
        name="dependencies",
        title=f"{answer.name}'s own imports of strategic raw materials, by stage",
        columns=[
            Column("material", "Material", "material", export_label="material id"),
            Column("stage_label", "Stage"),
            Column("total", f"Imports ({answer.unit})", "num"),
            *SPLIT_COLUMNS,
            Column("trend", "Years above 65 %"),
            *RELEASE_COLUMNS,
        ],
        rows=[_cells(r) | {"trend": trend_text(r)} for r in answer.dependencies],
        source=_citation(answer.provenance),
        year=", ".join(sorted({str(r.year) for r in answer.dependencies if r.year})),
        notes=[FLAG_RULE, f"Basis: {answer.basis} ({answer.unit})."],
    )


def comparison_table(answer: MemberStatesComparison) -> Table:
    """One row per Member State (27)."""
    return Table(
        name="member-states",
        title=f"{answer.material_name} · {answer.stage_label}: the 27 Member States, {answer.year}",
        columns=[
            Column("country", "Member State", "country"),
            TONNES,
            VALUE_KUSD,
            Column("top_supplier", "Top supplier", "country"),
            Column("top_supplier_share", "Top supplier's share", "share"),
            *SPLIT_COLUMNS,
            *RELEASE_COLUMNS[:-1],  # a row's only note (no imports) is in the table's notes
        ],
        rows=[_cells(r) for r in answer.member_states],
        source=_citation(answer.provenance),
        year=str(answer.year or ""),
        notes=[*answer.notes, f"Shares on the {answer.basis} basis ({answer.unit})."],
    )


def _bar(label: str, row: ImportSplit) -> SplitBar:
    return SplitBar(label, row.extra_eu_share, row.top_extra_eu_share, row.top_extra_eu_supplier)


def dependencies_figure(answer: MemberStateDependencies) -> Figure | None:
    """The stages with imports in the data (``None`` when there is none)."""
    shown = [r for r in answer.dependencies if r.total is not None]
    if not shown:
        return None
    bars = [_bar(f"{r.material_name} · {r.stage.replace('_', ' ')}", r) for r in shown]
    return split_figure(bars, f"share of {answer.name}'s imports ({answer.basis})")


def comparison_figure(answer: MemberStatesComparison) -> Figure:
    """The 27, in code order; a Member State without imports is drawn as "no data"."""
    bars = [_bar(r.name, r) for r in answer.member_states]
    return split_figure(bars, f"share of each Member State's imports, {answer.year}")
