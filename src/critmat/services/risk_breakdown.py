"""One GeoPolRisk score taken apart: world producers (HHI = Σ share²) and the importer's origins
(import risk = Σ amount · weight / (imports + own production)), with the equations of
:mod:`critmat.risk.geopolrisk` in critmat's mode.

The parts are recomputed from the canonical tables (``production``, ``trade`` through
:func:`critmat.indicators.imports.import_flows`, ``governance``) and their sums compared with the
library's row; a difference beyond :data:`CHECK_TOLERANCE` is listed in
:attr:`GeoPolRiskBreakdown.mismatches`, never hidden. Cached per release by
:func:`critmat.services.risk.geopolrisk_origins`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from critmat.errors import CritmatError, NoDataError
from critmat.exports import json_value
from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.provenance import Provenance
from critmat.risk import geopolrisk as gpr
from critmat.risk._peer import WGI_CENTRE, WGI_SPAN
from critmat.store import Store

#: Relative tolerance within which a breakdown's parts must add up to the library's figures.
CHECK_TOLERANCE = 1e-9


@dataclass(frozen=True)
class OriginTerm:
    """One origin's part of the import risk: ``weighted = amount · weight`` and
    ``ir_contribution = weighted / (Σ amounts + domestic production)``.

    ``amount`` is tonnes (mass basis) or thousand USD (value basis); ``weight`` the governance
    weight of :func:`critmat.risk.geopolrisk.governance_weight`; ``unit_value`` USD/kg.
    """

    origin: str
    amount: float
    quantity_t: float | None
    value_kusd: float
    share_of_imports: float | None
    pv: float | None
    weight: float
    weight_note: str
    weighted: float
    ir_contribution: float | None
    score_contribution: float | None
    unit_value: float | None


@dataclass(frozen=True)
class ProducerTerm:
    """One producing country's part of the production HHI: ``share²``."""

    country: str
    quantity: float
    share: float
    hhi_contribution: float
    member: bool


@dataclass(frozen=True)
class GeoPolRiskBreakdown:
    """One GeoPolRisk score (commodity × importer × year, critmat mode) taken apart.

    ``years_available`` are the years of the result it was taken from (production and trade).
    """

    commodity: str
    material: str | None
    importer: ImporterSet
    year: int
    basis: str
    hs_codes: tuple[str, ...]
    hhi: float | None
    import_risk: float | None
    score: float | None
    cf: float | None
    price: float | None
    imports: float
    weighted_imports: float
    domestic_production: float
    production_t: float
    origins: tuple[OriginTerm, ...]
    producers: tuple[ProducerTerm, ...]
    production_unit: str
    production_total: float
    priced_value_kusd: float
    priced_tonnes: float
    sums: dict[str, float | None] = field(default_factory=dict)
    mismatches: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    notes: tuple[str, ...] = ()
    years_available: tuple[int, ...] = ()

    @property
    def amount_unit(self) -> str:
        return "t" if self.basis == "mass" else "thousand USD"

    @property
    def denominator(self) -> float:
        return self.imports + self.domestic_production


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=CHECK_TOLERANCE, abs_tol=1e-12)


def _library_row(result: gpr.GeoPolRiskResult, commodity: str, year: int) -> dict[str, Any]:
    importer = result.importers[0]
    for row in result.records:
        if (row["wmd_commodity"], row["importer"], row["year"]) == (commodity, importer.name, year):
            return {str(k): json_value(v) for k, v in row.items()}
    raise NoDataError(f"no GeoPolRisk row for {commodity}, {importer.name}, {year}")


def _producers(
    store: Store, commodity: str, year: int, importer: ImporterSet
) -> tuple[tuple[ProducerTerm, ...], float, str]:
    """World production: the producers (largest first), their total and its unit."""
    production = store.con.execute(
        "SELECT country, quantity, unit FROM production "
        "WHERE commodity = ? AND year = ? AND quantity IS NOT NULL AND quantity > 0 "
        "ORDER BY quantity DESC, country",
        [commodity, year],
    ).fetchall()
    total = float(sum(float(q) for _c, q, _u in production))
    unit = str(production[0][2]) if production else ""
    producers = tuple(
        ProducerTerm(
            country=str(c),
            quantity=float(q),
            share=float(q) / total,
            hhi_contribution=(float(q) / total) ** 2,
            member=str(c) in importer.members,
        )
        for c, q, _u in production
    )
    return producers, total, unit


@dataclass(frozen=True)
class _OriginFlows:
    """Imports from one origin: tonnes (None without any quantity), thousand USD, and the value
    of the flows that have a quantity (the price's numerator)."""

    origin: str
    quantity: float | None
    value: float
    valued: float


def _origin_flows(
    store: Store, importer: ImporterSet, codes: tuple[str, ...], year: int
) -> list[_OriginFlows]:
    """Imports by origin (only flows from outside the importer set), in the flows' order."""
    flows = import_flows(store.con, [importer], codes, [year])
    out = []
    for origin, group in flows.groupby("origin", sort=False):
        has_q = group["quantity_t"].notna()
        quantity = float(group.loc[has_q, "quantity_t"].sum()) if has_q.any() else None
        value = float(group["value_kusd"].sum())
        valued = float(
            (group.loc[has_q, "value_kusd"] - group.loc[has_q, "value_kusd_no_quantity"]).sum()
        )
        out.append(_OriginFlows(str(origin), quantity, value, valued))
    return out


def _political_stability(store: Store, year: int) -> dict[str, float]:
    """WGI political-stability estimates (PV) of ``year`` by country, where there is one."""
    rows = store.con.execute(
        "SELECT country, estimate FROM governance WHERE indicator = 'PV' AND year = ? "
        "AND estimate IS NOT NULL AND NOT isnan(estimate)",
        [year],
    ).fetchall()
    return {str(c): float(e) for c, e in rows}


def _origin_terms(
    flows: list[_OriginFlows],
    pv: dict[str, float],
    basis: str,
    domestic: float,
    hhi: float | None,
    year: int,
) -> tuple[list[OriginTerm], float]:
    """Each origin's amount, weight and contributions (largest weighted amount first), and the
    total imports (summed in the flows' order)."""
    amounts = [(f, (f.quantity or 0.0) if basis == "mass" else f.value) for f in flows]
    imports = sum(a for _f, a in amounts)
    denominator = imports + domestic
    missing_note = f"no PV estimate for {year}: {gpr.governance_weight(None)} used"
    origins: list[OriginTerm] = []
    for flow, amount in amounts:
        estimate = pv.get(flow.origin)
        weight = gpr.governance_weight(estimate)
        weighted = amount * weight
        ir_part = weighted / denominator if denominator > 0 else None
        origins.append(
            OriginTerm(
                origin=flow.origin,
                amount=amount,
                quantity_t=flow.quantity,
                value_kusd=flow.value,
                share_of_imports=amount / imports if imports > 0 else None,
                pv=estimate,
                weight=weight,
                weight_note=missing_note if estimate is None else "",
                weighted=weighted,
                ir_contribution=ir_part,
                score_contribution=None if ir_part is None or hhi is None else hhi * ir_part,
                unit_value=flow.valued / flow.quantity if flow.quantity else None,
            )
        )
    origins.sort(key=lambda o: (-(o.weighted), -o.amount, o.origin))
    return origins, imports


_CHECKED = ("hhi", "imports", "weighted_imports", "import_risk", "score", "price_usd_per_kg")


def geopolrisk_breakdown(
    store: Store, result: gpr.GeoPolRiskResult, commodity: str, year: int
) -> GeoPolRiskBreakdown:
    """Take the library's score of ``commodity`` for the first importer of ``result`` in
    ``year`` apart (critmat mode only); see the module docstring."""
    if result.compat != "critmat":
        raise CritmatError("the breakdown shows critmat's mode only", hint="drop compat=peer")
    importer = result.importers[0]
    row = _library_row(result, commodity, year)
    codes = gpr.commodity_codes([commodity])[commodity]
    producers, total, unit = _producers(store, commodity, year, importer)
    flows = _origin_flows(store, importer, codes, year)
    priced = [f for f in flows if f.quantity is not None and f.quantity > 0]
    priced_value = sum(f.valued for f in priced)
    priced_tonnes = sum(f.quantity or 0.0 for f in priced)
    domestic = float(row["domestic_production"] or 0.0)
    hhi = row["hhi"]
    origins, imports = _origin_terms(
        flows, _political_stability(store, year), result.basis, domestic, hhi, year
    )
    weighted_total = sum(o.weighted for o in origins)
    denominator = imports + domestic
    ir_sum = weighted_total / denominator if denominator > 0 else None
    sums: dict[str, float | None] = {
        "hhi": sum(p.hhi_contribution for p in producers) if producers else None,
        "imports": imports,
        "weighted_imports": weighted_total,
        "import_risk": ir_sum,
        "score": None if ir_sum is None or hhi is None else hhi * ir_sum,
        "price_usd_per_kg": priced_value / priced_tonnes if priced_tonnes > 0 else None,
    }
    mismatches = tuple(
        f"{k}: parts add up to {sums[k]!r}, the library gives {row[k]!r}"
        for k in _CHECKED
        if not _close(sums[k], row[k])
    )
    notes = [
        "only flows from outside the importer count (a group is one economy)",
        "imports without a quantity are left out of the tonnes and the price",
        f"weight = clip(({WGI_CENTRE:g} − PV) / {WGI_SPAN:g}, 0, 1); no PV estimate: "
        f"{gpr.governance_weight(None):g}",
    ]
    if result.basis == "value":
        notes.append("value basis: domestic production valued at the import unit value")
    return GeoPolRiskBreakdown(
        commodity=commodity,
        material=row["material"],
        importer=importer,
        year=year,
        basis=result.basis,
        hs_codes=tuple(codes),
        hhi=hhi,
        import_risk=row["import_risk"],
        score=row["score"],
        cf=row["cf"],
        price=row["price_usd_per_kg"],
        imports=float(row["imports"] or 0.0),
        weighted_imports=float(row["weighted_imports"] or 0.0),
        domestic_production=domestic,
        production_t=float(row["production_t"] or 0.0),
        origins=tuple(origins),
        producers=producers,
        production_unit=unit,
        production_total=total,
        priced_value_kusd=priced_value,
        priced_tonnes=priced_tonnes,
        sums=sums,
        mismatches=mismatches,
        provenance=tuple(replace(p, years=(year,)) for p in result.provenance),
        notes=tuple(notes),
        years_available=tuple(result.years),
    )
