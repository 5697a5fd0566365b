"""The EU supply-risk breakdown flattened to rows, one per term, in the order the equations
combine them (``critmat criticality --explain MATERIAL``, the API's ``terms``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from critmat.risk._eu_types import SR_THRESHOLD, Breakdown, StageSupplyRisk
from critmat.risk._eu_types import round_or_none as _round


def explain_rows(breakdown: Breakdown) -> list[dict[str, Any]]:
    """The breakdown flattened to rows ``stage, term, symbol, value, unit, inputs, source, note``
    (the order in which the equations combine them)."""
    rows: list[dict[str, Any]] = []

    def add(
        stage: str,
        term: str,
        symbol: str,
        value: Any,
        unit: str,
        inputs: str,
        source: str,
        note: str = "",
    ) -> None:
        rows.append(
            {
                "stage": stage,
                "term": term,
                "symbol": symbol,
                "value": value,
                "unit": unit,
                "inputs": inputs,
                "source": source,
                "note": note,
            }
        )

    for s in breakdown.stages:
        for conc in (s.global_supply, s.eu_sourcing):
            if conc is None:
                continue
            label = "global supply" if conc.scope == "GS" else "EU sourcing"
            add(
                s.stage,
                f"{label} concentration",
                f"(HHI_WGI,t)_{conc.scope}",
                _round(conc.value, 3),
                conc.unit,
                (
                    f"{len(conc.countries)} suppliers, total {conc.total:,.0f} "
                    f"{conc.amount_unit}; top: {conc.top()}"
                    if conc.countries
                    else "no data"
                ),
                conc.source,
                "; ".join(conc.notes),
            )
        ir = s.import_reliance
        add(
            s.stage,
            ir.name,
            ir.symbol,
            _round(ir.value, 3),
            ir.unit,
            _inputs_text(ir.inputs),
            ir.source,
            ir.note,
        )
        for term in (s.eol_rir, s.si_sr):
            add(s.stage, term.name, term.symbol, term.value, term.unit, "", term.source, term.note)
        add(
            s.stage,
            "supply risk of the stage",
            "SR",
            _round(s.sr, 3),
            "dimensionless",
            _sr_equation(s),
            f"basis {s.basis}; commodity {s.commodity}; {data_text(s)}",
            "; ".join(s.notes),
        )
    add(
        "",
        "supply risk (headline stage)",
        "SR",
        _round(breakdown.sr, 2),
        "dimensionless",
        f"stage {breakdown.sr_stage}; threshold {SR_THRESHOLD}",
        f"governance: {breakdown.governance_series}",
        "; ".join(n for n in (breakdown.stage_note, breakdown.wgi_note) if n),
    )
    if breakdown.ei is not None:
        ei = breakdown.ei
        for sector in ei.sectors:
            add(
                "",
                f"end use in {sector.sector}",
                "A_s·Q_s",
                _round(sector.product, 3),
                "value-added unit",
                f"A_s {sector.end_use_share:g} × Q_s {sector.value_added:g}",
                sector.source or ei.source,
            )
        add(
            "",
            "economic importance",
            "EI",
            _round(ei.ei, 2),
            "0–10",
            f"Σ A_s·Q_s {ei.sum_aq:g} / Q_max {ei.value_added_max:g} × 10 × SI_EI {ei.si_ei:g}",
            ei.source,
            "; ".join(ei.notes),
        )
    else:
        add("", "economic importance", "EI", None, "0–10", "", "", "no EI inputs given")
    add(
        "",
        "critical (SR ≥ 1 and EI ≥ 2.8)",
        "",
        breakdown.critical,
        "",
        "",
        "CRMA Art. 4(2)",
        f"CRMA Annex II listing: {'yes' if breakdown.crma_critical else 'no'}",
    )
    return rows


def _inputs_text(inputs: Mapping[str, Any]) -> str:
    parts = []
    for key, value in inputs.items():
        if isinstance(value, float):
            parts.append(f"{key} {value:,.0f}")
        elif isinstance(value, list):
            parts.append(f"{key} {value[0]}–{value[-1]}" if value else f"{key} none")
        else:
            parts.append(f"{key} {value}")
    return "; ".join(parts)


def _sr_equation(s: StageSupplyRisk) -> str:
    gs = s.global_supply.value
    eol, si = s.eol_rir.value, s.si_sr.value
    if gs is None or eol is None or si is None:
        return "not computed"
    if s.basis == "GS only" or s.eu_sourcing is None or s.import_reliance.value is None:
        return f"{gs:.3f} × (1 − {eol:g}) × {si:g}"
    ir = s.import_reliance.value
    eus = s.eu_sourcing.value or 0.0
    return f"[{gs:.3f} × {ir:.3f}/2 + {eus:.3f} × (1 − {ir:.3f}/2)] × (1 − {eol:g}) × {si:g}"


def _span(years: tuple[int, ...]) -> str:
    if not years:
        return "no years"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def data_text(s: StageSupplyRisk) -> str:
    """The series and years a stage was computed from, e.g. ``production USGS MCS 2024+USGS
    MCS 2026 2022–2024; trade HS92 2020–2024``."""
    production = "+".join(s.production_series) or "none"
    trade = "+".join(s.trade_series) or "none"
    return (
        f"production {production} {_span(s.production_years)}; trade {trade} {_span(s.trade_years)}"
    )
