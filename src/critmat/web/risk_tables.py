"""The tables of the supply-risk pages (:mod:`critmat.web.risk_pages`): one definition for the
HTML table, the chart's numbers and the CSV/XLSX download, each with its source and year.

Rows come from :mod:`critmat.services.risk` and :mod:`critmat.services.risk_criticality`
(unrounded, NaN as None); the figures of the same rows are drawn by
:mod:`critmat.reports.charts.risk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from critmat.reports.charts.risk import GPR_METRICS, short
from critmat.risk import eu_criticality as euc
from critmat.services import risk
from critmat.services import risk_criticality as crit
from critmat.web.columns import (
    COUNTRY,
    CRMA_CRITICAL,
    EI,
    MATERIAL_ID,
    MATERIAL_NAME,
    POSITION,
    SHARE,
    SR,
    STAGE,
    TONNES,
)
from critmat.web.tables import Column, Table


def _attribute_rows(items: Iterable[Any], columns: Sequence[Column]) -> list[dict[str, Any]]:
    """One row per item: each column's value is the item's attribute of the column's key."""
    return [{c.key: getattr(item, c.key) for c in columns} for item in items]


def pages_query(query: dict[str, Any]) -> str:
    """``?key=value&...`` of the given parameters (empty and None ones left out)."""
    clean = {k: v for k, v in query.items() if v is not None and v != ""}
    return "?" + urlencode(clean) if clean else ""


def gpr_href(commodity: str, query: dict[str, Any]) -> str:
    """The address of one commodity's GeoPolRisk breakdown page."""
    return f"/risk/geopolrisk/{quote(commodity, safe='')}" + pages_query(query)


def data_window(years: Sequence[int]) -> str:
    """The span of data years an assessment averages, e.g. ``2019–2023`` ("" without years)."""
    return f"{years[0]}–{years[-1]}" if years else ""


def _window(b: euc.Breakdown) -> str:
    return data_window(b.years)


def link_to_breakdowns(rows: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    """``rows`` (each naming its ``material``), each given the address of the material's
    criticality breakdown page with ``query`` (``_href``)."""
    for row in rows:
        row["_href"] = f"/risk/criticality/{row['material']}" + pages_query(query)
    return rows


# ================================================================================ GeoPolRisk
def geopolrisk_table(answer: risk.GeoPolRiskYear, sort: str, query: dict[str, Any]) -> Table:
    """The ranking: one row per WMD commodity, by ``sort`` (score or cf), undefined last; each
    row links to its breakdown with ``query``."""
    records = risk.ranked_geopolrisk(answer, sort)
    for record in records:
        record["_href"] = gpr_href(str(record["wmd_commodity"]), query)
    unit = answer.amount_unit
    return Table(
        name="geopolrisk",
        title=f"GeoPolRisk of {answer.importer}'s supply, {answer.year} "
        f"({answer.result.basis} basis), by {GPR_METRICS[sort]}",
        columns=[
            POSITION,
            Column("wmd_commodity", "Commodity (WMD)", export_label="wmd_commodity"),
            Column("material", "Material", "material", export_label="material id"),
            Column("hhi", "HHI (world production)", "num", export_label="hhi (0-1)"),
            Column("import_risk", "Import risk", "num", export_label="import_risk (0-1)"),
            Column("score", "Score", "num", export_label="score (0-1)"),
            Column("cf", "CF (kg Cu-eq/kg)", "num", export_label="cf (kg Cu-eq/kg)"),
            Column(
                "price_usd_per_kg", "Import price (USD/kg)", "num", export_label="price (USD/kg)"
            ),
            Column("imports", f"Imports ({unit})", "num", export_label=f"imports ({unit})"),
            Column(
                "domestic_production",
                f"Own production ({unit})",
                "num",
                export_label=f"domestic_production ({unit})",
            ),
        ],
        rows=records,
        source=risk.citation(answer.provenance),
        year=str(answer.year),
        notes=[
            *answer.result.notes,
            "score = HHI × import risk; import risk = Σ imports × instability / "
            "(imports + own production); undefined where the importer neither imports nor "
            "produces",
        ],
    )


def origins_table(bd: risk.GeoPolRiskBreakdown) -> Table:
    """Every origin's imports, PV, weight and contributions to the import risk and score."""
    unit = bd.amount_unit
    rows = [
        {
            "origin": o.origin,
            "amount": o.amount,
            "share": o.share_of_imports,
            "pv": o.pv,
            "weight": o.weight,
            "weighted": o.weighted,
            "ir_contribution": o.ir_contribution,
            "score_contribution": o.score_contribution,
            "quantity_t": o.quantity_t,
            "value_kusd": o.value_kusd,
            "unit_value": o.unit_value,
            "note": o.weight_note,
        }
        for o in bd.origins
    ]
    return Table(
        name="origins",
        title=f"Import risk of {bd.importer.name} for {bd.commodity}, {bd.year}, by origin",
        columns=[
            Column("origin", "Origin", "country", export_label="origin (ISO3)"),
            Column("amount", f"Imports ({unit})", "num", export_label=f"imports ({unit})"),
            Column("share", "Share of imports", "share"),
            Column("pv", "WGI PV estimate", "num", export_label="WGI political stability (PV)"),
            Column("weight", "Instability weight", "num", export_label="weight w (0-1)"),
            Column("weighted", f"Imports × weight ({unit})", "num"),
            Column("ir_contribution", "Contribution to import risk", "num"),
            Column("score_contribution", "Contribution to score", "num"),
            TONNES,
            Column("value_kusd", "Value (thousand USD)", "num"),
            Column("unit_value", "Unit value (USD/kg)", "num"),
            Column("note", "Note"),
        ],
        rows=rows,
        source=risk.citation(bd.provenance, ["trade", "governance"]),
        year=str(bd.year),
        notes=[
            f"HS92 codes: {', '.join(bd.hs_codes)}",
            f"denominator = imports {short(bd.imports)} + own production "
            f"{short(bd.domestic_production)} = {short(bd.denominator)} {unit}",
            *bd.notes,
        ],
    )


def producers_table(bd: risk.GeoPolRiskBreakdown) -> Table:
    """World production by country with each share² (the HHI's parts)."""
    columns = [
        Column("country", "Producer", "country", export_label="country (ISO3)"),
        Column("quantity", f"Production ({bd.production_unit})", "num"),
        SHARE,
        Column("hhi_contribution", "Share² (HHI part)", "num"),
        Column("member", f"Member of {bd.importer.name}", "bool"),
    ]
    return Table(
        name="producers",
        title=f"World production of {bd.commodity}, {bd.year}: HHI = Σ share²",
        columns=columns,
        rows=_attribute_rows(bd.producers, columns),
        source=risk.citation(bd.provenance, ["production"]),
        year=str(bd.year),
        notes=[f"world total {short(bd.production_total)} {bd.production_unit}"],
    )


# ================================================================================ criticality
def criticality_table(assessment: euc.Assessment, query: dict[str, Any]) -> Table:
    """Materials ranked by SR; each row links to its breakdown with ``query``."""
    rows = link_to_breakdowns(crit.criticality_rows(assessment), query)
    years = data_window(assessment.years)
    return Table(
        name="criticality",
        title=f"EU supply risk (SR) by material, data {years}",
        columns=[
            POSITION,
            MATERIAL_NAME,
            MATERIAL_ID,
            SR,
            STAGE,
            Column("basis", "Basis"),
            Column("import_reliance", "EU import reliance", "share"),
            Column("eol_rir", "EoL-RIR", "share"),
            Column("si_sr", "SI_SR", "num"),
            EI,
            Column("sr_meets_threshold", "SR ≥ 1", "bool"),
            Column("critical", "Critical (SR ≥ 1 and EI ≥ 2.8)", "bool"),
            CRMA_CRITICAL,
            Column("notes", "Notes"),
        ],
        rows=rows,
        source=risk.citation(assessment.provenance),
        year=years,
        notes=list(assessment.notes),
    )


def terms_table(b: euc.Breakdown, assessment: euc.Assessment) -> Table:
    """The breakdown flattened: one row per term, in the order the equations combine them."""
    rows = euc.explain_rows(b)
    for row in rows:
        value = row["value"]
        row["value"] = (
            value if value is None or isinstance(value, bool | int | float) else str(value)
        )
    return Table(
        name="terms",
        title=f"EU supply risk of {b.name}, data {_window(b)}, term by term",
        columns=[
            STAGE,
            Column("term", "Term"),
            Column("symbol", "Symbol"),
            Column("value", "Value"),
            Column("unit", "Unit"),
            Column("inputs", "Inputs"),
            Column("source", "Source"),
            Column("note", "Note"),
        ],
        rows=rows,
        source=risk.citation(assessment.provenance),
        year=_window(b),
        notes=[b.wgi_note, *b.notes],
    )


def concentration_table(
    b: euc.Breakdown, stage: euc.StageSupplyRisk, conc: euc.Concentration
) -> Table:
    """One stage's supplier countries (global supply or EU sourcing) with their terms."""
    label = "global supply" if conc.scope == "GS" else "EU sourcing"
    columns = [
        COUNTRY,
        Column("kind", "Supply"),
        Column("amount", f"Amount ({conc.amount_unit})", "num"),
        SHARE,
        Column("wgi_estimate", "WGI estimate", "num"),
        Column("wgi_scaled", "WGI scaled (0–10)", "num"),
        Column("t", "t", "num"),
        Column("contribution", "Contribution", "num"),
        Column("t_reason", "Why t"),
    ]
    return Table(
        name=f"{stage.stage}-{conc.scope.lower()}",
        title=f"{b.name}, {stage.stage}: (HHI_WGI,t)_{conc.scope} of {label} = Σ share² · WGI · t",
        columns=columns,
        rows=_attribute_rows(conc.countries, columns),
        source=conc.source,
        year=_window(b),
        notes=[*conc.notes, f"WGI indicators: {'+'.join(b.wgi_indicators) or 'none'}"],
    )


def ei_table(b: euc.Breakdown) -> Table | None:
    """The economic importance by NACE sector (None without EI inputs)."""
    if b.ei is None:
        return None
    columns = [
        Column("sector", "NACE sector"),
        Column("end_use_share", "End-use share A_s", "share"),
        Column("value_added", "Value added Q_s", "num"),
        Column("product", "A_s · Q_s", "num"),
        Column("source", "Source"),
    ]
    return Table(
        name="ei",
        title=f"Economic importance of {b.name}: Σ A_s · Q_s / Q_max × 10 × SI_EI",
        columns=columns,
        rows=_attribute_rows(b.ei.sectors, columns),
        source=b.ei.source,
        year=_window(b),
        notes=list(b.ei.notes),
    )


def breakdown_tables(found: crit.MaterialCriticality) -> dict[str, Table]:
    """Every table of the criticality breakdown page, by download name."""
    b = found.breakdown
    tables = {"terms": terms_table(b, found.assessment)}
    for stage in b.stages:
        for conc in (stage.global_supply, stage.eu_sourcing):
            if conc is not None:
                table = concentration_table(b, stage, conc)
                tables[table.name] = table
    ei = ei_table(b)
    if ei is not None:
        tables["ei"] = ei
    return tables
