"""EU criticality assessment: supply risk (SR) and economic importance (EI), term by term.

The method is the Commission's 2017 methodology (European Commission, *Methodology for
establishing the EU list of critical raw materials*, 2017, doi:10.2873/769526; background:
Blengini et al. 2017, doi:10.2760/73303), used for the 2020 and 2023 lists and written into law
by the Critical Raw Materials Act (Regulation (EU) 2024/1252, Annex II §2). Equations and what
critmat approximates: ``docs/eu-criticality.md``.

Supply risk of one value-chain stage::

    SR = [ (HHI_WGI,t)_GS · IR/2 + (HHI_WGI,t)_EUS · (1 − IR/2) ] · (1 − EoL_RIR) · SI_SR
    HHI_WGI,t = Σ_c S_c² · WGI_c · t_c
    IR = max{0; (M − X) / (P + M − X)}

- GS: global supply at the stage — shares S_c of the stage's production series in the
  catalogue's preference order (USGS MCS mine/refinery/smelter/metal, IEA, World Mining Data;
  :mod:`critmat.risk._eu_data`);
- EUS: EU sourcing — extra-EU27 imports by origin (BACI tonnes, HS17 codes where the stage has
  them and the series has the year, else HS92) plus the stage production of each Member State;
- WGI_c: mean of the Worldwide Governance Indicators of c — the six dimensions when the store
  holds them (governance series "WGI six dimensions"), scaled to 0–10 with 10 the worst
  governance, ``WGI_scaled = 5 − 2·WGI`` clipped to 0..10 (methodology.md §2.4);
- t_c: trade parameter from the export-restriction registry and EU trade agreements
  (:mod:`critmat.risk._eu_trade`);
- IR: EU27 import reliance from the same stage production and trade, clipped to 0..1;
- EoL_RIR, SI_SR: the 2023 assessment's published values (shipped reference input,
  :mod:`critmat.reference.eu_assessment`) by default; the catalogue's EoL-RIR and SI_SR = 1
  with ``published=False``; files given by the user override both.

Every stage the catalogue gives production data for is assessed; a stage the methodology
assesses (extraction, processing) without data is listed with ``basis = "no data"`` and no SR.
When no EU sourcing or import reliance can be computed for a stage the stage is assessed on
global supply only, ``SR = (HHI_WGI,t)_GS · (1 − EoL_RIR) · SI_SR``, as the 2023 assessment did
for its "GS only" cases. The material's SR is that of the stage the 2023 assessment chose
(``stage_rule="published"``, the default, where critmat has an SR for it) or the highest.

Economic importance, only from user inputs (:mod:`critmat.risk._eu_inputs`)::

    EI = Σ_s (A_s · Q_s) / Q_max · 10 · SI_EI

Thresholds (CRMA Art. 4(2)): SR ≥ 1 and EI ≥ 2.8. Calculations use the sum of the data over a
window of years (five by default, CRMA Annex II §2 point 7): shares and IR of the summed
quantities, WGI and t averaged over the years.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import duckdb
import pandas as pd

from critmat.indicators.consumption import consumption_pairs
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.reference.countries import group_members
from critmat.reference.eu_assessment import published_for
from critmat.reference.materials import Material, ProductionSeries, Stage, load_catalogue
from critmat.risk import _eu_data as data
from critmat.risk._eu_explain import explain_rows
from critmat.risk._eu_inputs import EiInput, SiInput, read_ei_inputs, read_eol_rir, read_si_sr
from critmat.risk._eu_trade import AGREEMENT_T, MEASURE_T, trade_parameter
from critmat.risk._eu_types import (
    EI_THRESHOLD,
    SR_THRESHOLD,
    Assessment,
    Basis,
    Breakdown,
    Concentration,
    CountryTerm,
    EconomicImportance,
    SectorTerm,
    StageRule,
    StageSupplyRisk,
    SupplyKind,
    Term,
)

__all__ = [
    "EI_THRESHOLD",
    "NOT_ASSESSED",
    "SR_THRESHOLD",
    "WGI_INDICATORS",
    "Assessment",
    "Breakdown",
    "Concentration",
    "CountryTerm",
    "EconomicImportance",
    "SectorTerm",
    "StageSupplyRisk",
    "Term",
    "assess",
    "economic_importance",
    "explain_rows",
    "hhi_wgi_t",
    "import_reliance",
    "read_ei_inputs",
    "read_eol_rir",
    "read_si_sr",
    "scale_wgi",
    "supply_risk",
]

WGI_INDICATORS = data.WGI_INDICATORS
EI_SCALE = 10.0
#: Energy raw materials: outside the EU assessment (which covers non-energy, non-agricultural
#: raw materials plus coking coal); left out unless asked for by name.
NOT_ASSESSED = frozenset(
    {"steam_coal", "lignite", "natural_gas", "petroleum", "oil_sands", "oil_shales", "uranium"}
)
#: The stages the methodology assesses: listed as "no data" when the catalogue has no
#: production for them (other stages are assessed only where they have data).
ASSESSED_STAGES = ("extraction", "processing")
_WGI_SOURCE = "World Bank, Worldwide Governance Indicators"
_BACI_SOURCE = "CEPII BACI, extra-EU27 imports by origin, tonnes"
_PUBLISHED_SOURCE = (
    "Grohol & Veeh (2023), doi:10.2873/725585, as transcribed in "
    "critmat/reference/data/eu_crm_assessment_2023.csv"
)


# ---------------------------------------------------------------------------------- equations
def scale_wgi(estimate: float) -> float:
    """Scale a WGI estimate (about −2.5 worst .. +2.5 best) to 0–10, where 10 = worst governance.

    ``5 − 2·estimate``, clipped to 0..10 (estimates slightly beyond ±2.5 occur).
    """
    return min(10.0, max(0.0, 5.0 - 2.0 * estimate))


def hhi_wgi_t(terms: Iterable[tuple[float, float, float]]) -> float:
    """HHI_WGI,t = Σ_c S_c² · WGI_c · t_c over ``(share, scaled WGI, t)`` triples (0–10 scale)."""
    return sum(share * share * wgi * t for share, wgi, t in terms)


def import_reliance(production: float, imports: float, exports: float) -> float | None:
    """IR = max{0; (M − X)/(P + M − X)}; ``None`` when apparent consumption is not positive.

    Values above 1 (possible when production and trade weigh different things) are returned as
    computed; :func:`assess` clips them and says so.
    """
    consumption = production + imports - exports
    if consumption <= 0:
        return None
    return max(0.0, (imports - exports) / consumption)


def supply_risk(
    hhi_gs: float, hhi_eus: float | None, ir: float | None, eol_rir: float, si_sr: float
) -> float:
    """SR of one stage. With ``hhi_eus`` or ``ir`` missing, global supply only:
    ``HHI_GS · (1 − EoL_RIR) · SI_SR``; otherwise
    ``[HHI_GS · IR/2 + HHI_EUS · (1 − IR/2)] · (1 − EoL_RIR) · SI_SR``."""
    if hhi_eus is None or ir is None:
        concentration = hhi_gs
    else:
        concentration = hhi_gs * ir / 2 + hhi_eus * (1 - ir / 2)
    return concentration * (1 - eol_rir) * si_sr


def economic_importance(
    sectors: Iterable[tuple[float, float]], value_added_max: float, si_ei: float
) -> float:
    """EI = Σ_s (A_s · Q_s) / Q_max · 10 · SI_EI over ``(A_s, Q_s)`` pairs."""
    if value_added_max <= 0:
        raise ValueError("value_added_max must be positive")
    return sum(a * q for a, q in sectors) / value_added_max * EI_SCALE * si_ei


def _wgi_note(indicators: Sequence[str], series: str) -> str:
    if tuple(indicators) == WGI_INDICATORS:
        return f"WGI ({series}): mean of the six indicators, as the methodology specifies"
    used = "+".join(indicators) or "none"
    return (
        f"WGI ({series}): {used} only — an approximation; the methodology averages the six "
        "WGI indicators"
    )


# ---------------------------------------------------------------------------------- assessment
@dataclass
class _Context:
    years: tuple[int, ...]
    eu: frozenset[str]
    governance: dict[str, data.Governance]
    governance_series: str
    production: pd.DataFrame
    stage_rows: pd.DataFrame
    trade: pd.DataFrame
    measure_t: Mapping[str, float]
    agreement_t: float


@dataclass(frozen=True)
class _StageSpec:
    """A stage to assess: its name, codes per BACI series and production series."""

    name: str
    stage: Stage | None
    codes: dict[str, tuple[str, ...]]
    production: tuple[ProductionSeries, ...]


def _t(
    ctx: _Context, material_id: str, codes: frozenset[str], country: str, eu_sourcing: bool
) -> tuple[float, str]:
    values = []
    reasons: list[str] = []
    for y in ctx.years:
        tp = trade_parameter(
            material_id,
            codes,
            country,
            y,
            eu=ctx.eu,
            eu_sourcing=eu_sourcing,
            measure_t=ctx.measure_t,
            agreement_t=ctx.agreement_t,
        )
        values.append(tp.value)
        if tp.reason not in reasons:
            reasons.append(tp.reason)
    value = sum(values) / len(values)
    if len(set(values)) > 1:
        by_year = ", ".join(f"{y}: {v:g}" for y, v in zip(ctx.years, values, strict=True))
        reasons.append(f"mean over years ({by_year})")
    return value, "; ".join(reasons)


def _concentration(
    ctx: _Context,
    scope: Literal["GS", "EUS"],
    material_id: str,
    codes: frozenset[str],
    amounts: Sequence[tuple[str, SupplyKind, float]],
    amount_unit: str,
    source: str,
    notes: Sequence[str] = (),
) -> Concentration:
    total = sum(a for _c, _k, a in amounts)
    terms: list[CountryTerm] = []
    uncovered = 0.0
    for country, kind, amount in sorted(amounts, key=lambda x: (-x[2], x[0])):
        share = amount / total if total > 0 else 0.0
        gov = ctx.governance.get(country)
        scaled = None if gov is None else scale_wgi(gov.estimate)
        t, reason = _t(ctx, material_id, codes, country, eu_sourcing=scope == "EUS")
        if scaled is None:
            uncovered += share
        terms.append(
            CountryTerm(
                country=country,
                kind=kind,
                amount=amount,
                share=share,
                wgi_estimate=None if gov is None else gov.estimate,
                wgi_scaled=scaled,
                wgi_indicators=() if gov is None else gov.indicators,
                t=t,
                t_reason=reason,
                contribution=None if scaled is None else share * share * scaled * t,
            )
        )
    value = (
        hhi_wgi_t((c.share, c.wgi_scaled, c.t) for c in terms if c.wgi_scaled is not None)
        if total > 0
        else None
    )
    extra = list(notes)
    if uncovered > 0:
        missing = [c.country for c in terms if c.wgi_scaled is None]
        extra.append(
            f"{uncovered:.1%} of supply from countries without WGI ({', '.join(missing[:5])}) "
            "left out of the sum"
        )
    return Concentration(
        scope=scope,
        value=value,
        unit="0–10 (Σ share² · scaled WGI · t)",
        source=source,
        amount_unit=amount_unit,
        total=total,
        countries=tuple(terms),
        uncovered_share=uncovered,
        notes=tuple(extra),
    )


def _span(years: Sequence[int]) -> str:
    if not years:
        return "no years"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _ir_term(
    supply: data.StageSupply, trade: data.StageTrade, eu: frozenset[str], commodity: str
) -> tuple[Term, tuple[int, ...]]:
    """IR over the years with both stage production and trade, and those years."""
    name, symbol, unit = "import reliance", "IR", "fraction 0–1"
    years = tuple(y for y in trade.years if y in set(supply.years))
    if not supply.years:
        return Term(name, symbol, None, unit, "", note="no production data for the stage"), ()
    if supply.unit != "t":
        return Term(
            name, symbol, None, unit, "", note=f"production of {commodity} not in tonnes"
        ), ()
    if not years:
        why = (
            "no trade rows for the stage's codes"
            if not trade.years
            else f"no year with both production ({_span(supply.years)}) and trade "
            f"({_span(trade.years)})"
        )
        return Term(name, symbol, None, unit, "", note=f"no EU27 import reliance: {why}"), ()
    p = sum(q for _c, q in data.amounts_by_country(supply, eu, years))
    rows = trade.rows[trade.rows["year"].isin(list(years))]
    m = float(rows[rows["flow"] == "import"]["quantity_t"].sum())
    x = float(rows[rows["flow"] == "export"]["quantity_t"].sum())
    raw = import_reliance(p, m, x)
    note = "estimated: production tonnes vs BACI gross weight"
    value = raw
    if raw is None:
        note = "apparent consumption ≤ 0: IR undefined"
    elif raw > 1:
        value = 1.0
        note += f"; computed {raw:.2f} > 1 (weight mismatch), clipped to 1"
    elif m - x < 0:
        note += "; net exporter, IR = 0"
    withheld = sorted(set(supply.withheld) & eu)
    if withheld:
        note += f"; production withheld for {', '.join(withheld)} (counted as none)"
    source = (
        f"EU27 stage production ({'+'.join(supply.series)}) and BACI extra-EU trade "
        f"({'+'.join(trade.series)}), {_span(years)}"
    )
    inputs = {
        "production_t": p,
        "imports_t": m,
        "exports_t": x,
        "apparent_consumption_t": p + m - x,
        "years": list(years),
    }
    return Term(name, symbol, value, unit, source, inputs=inputs, note=note), years


def _eu_sourcing(
    ctx: _Context,
    material: Material,
    supply: data.StageSupply,
    trade: data.StageTrade,
    years: tuple[int, ...],
    commodity: str,
) -> Concentration | None:
    rows = trade.rows[(trade.rows["flow"] == "import") & trade.rows["year"].isin(list(years))]
    by_origin = rows.groupby("origin")["quantity_t"].sum(min_count=1).dropna()
    no_q = float(rows["value_no_quantity"].sum())
    all_value = float(rows["value_kusd"].sum())
    amounts: list[tuple[str, SupplyKind, float]] = [
        (str(o), "extra-EU imports", float(q)) for o, q in by_origin.items() if q > 0
    ]
    amounts += [(c, "EU production", q) for c, q in data.amounts_by_country(supply, ctx.eu, years)]
    notes = ["imports in gross weight, EU production as published: mixed bases"]
    if all_value > 0 and no_q / all_value > 0.005:
        notes.append(f"{no_q / all_value:.1%} of the import value has no quantity (left out)")
    codes = frozenset(c.split(" ")[1] for c in trade.codes)
    eus = _concentration(
        ctx,
        "EUS",
        material.id,
        codes,
        amounts,
        "t",
        f"{_BACI_SOURCE}, {', '.join(trade.codes)}, {_span(years)}; Member State production: "
        f"{commodity} ({'+'.join(supply.series)}); {_WGI_SOURCE} ({ctx.governance_series})",
        notes,
    )
    return eus if eus.value is not None else None


def _stage(
    ctx: _Context, material: Material, spec: _StageSpec, eol: Term, si: Term
) -> StageSupplyRisk:
    if spec.stage is not None and spec.stage.production and not ctx.stage_rows.empty:
        supply = data.catalogue_supply(ctx.stage_rows, material.id, spec.name, spec.production)
    else:
        supply = data.stage_supply(ctx.production, spec.production, ctx.years)
    all_codes = tuple(c for codes in spec.codes.values() for c in codes)
    trade = data.stage_trade(ctx.trade, spec.codes, ctx.years)
    codes = frozenset(all_codes)
    commodity = supply.commodity
    gs = _concentration(
        ctx,
        "GS",
        material.id,
        codes,
        [(c, "production", q) for c, q in data.amounts_by_country(supply)],
        supply.unit,
        f"{'+'.join(supply.series) or 'no series'}: {commodity} {_span(supply.years)}; "
        f"{_WGI_SOURCE} ({ctx.governance_series})",
    )
    notes: list[str] = []
    if supply.withheld:
        notes.append(f"production withheld for {', '.join(supply.withheld)} (left out)")
    ir_term, ir_years = _ir_term(supply, trade, ctx.eu, commodity)
    if ir_years:
        trade = trade.within(ir_years)
    eus = (
        _eu_sourcing(ctx, material, supply, trade, ir_years, commodity)
        if ir_term.value is not None
        else None
    )
    basis: Basis = "GS+EU" if eus is not None and ir_term.value is not None else "GS only"
    if gs.value is None:
        basis = "no data"
        tried = ", ".join(f"{p.series} {p.commodity}/{p.stage}" for p in spec.production)
        notes.append(
            f"no data: no production for {spec.name} in {_span(ctx.years)} "
            f"({'series tried: ' + tried if tried else 'the catalogue names no series'})"
        )
    elif basis == "GS only":
        notes.append("global supply only (no EU sourcing/IR): SR = HHI_GS · (1 − EoL) · SI")
    catalogue = load_catalogue()
    for series in trade.series:  # a code that bundles several materials says so
        if spec.stage is not None:
            notes += catalogue.bundle_notes(spec.stage, series, material.id)
    sr = (
        None
        if gs.value is None or eol.value is None or si.value is None
        else supply_risk(
            gs.value,
            eus.value if eus else None,
            ir_term.value if basis == "GS+EU" else None,
            eol.value,
            si.value,
        )
    )
    return StageSupplyRisk(
        stage=spec.name,
        commodity=commodity,
        hs_codes=trade.codes or tuple(f"HS92 {c}" for c in spec.codes.get("HS92", ())),
        basis=basis,
        global_supply=gs,
        eu_sourcing=eus,
        import_reliance=ir_term,
        eol_rir=eol,
        si_sr=si,
        sr=sr,
        notes=tuple(notes),
        production_series=supply.series,
        production_years=supply.years,
        trade_series=trade.series,
        trade_years=trade.years,
    )


def _stage_specs(material: Material) -> list[_StageSpec]:
    """The stages to assess: every stage with production series (its own, or the World Mining
    Data series the consumption rule pairs with it), the methodology's stages without data as
    "no data", and a material whose WMD series has no stage as stage ``production``."""
    wmd_pairs = {stage.name: commodity for commodity, stage in consumption_pairs(material)}
    specs: list[_StageSpec] = []
    for stage in material.stages:
        preference = list(stage.production)
        wmd = wmd_pairs.get(stage.name)
        if wmd and not preference:
            preference.append(data.wmd_series(wmd))
        if preference or stage.name in ASSESSED_STAGES:
            specs.append(_StageSpec(stage.name, stage, data.stage_codes(stage), tuple(preference)))
    used = {p.commodity for s in specs for p in s.production if p.dataset == "production"}
    has_data = any(s.production for s in specs)
    if material.wmd_commodity and material.wmd_commodity not in used and not has_data:
        specs.append(_StageSpec("production", None, {}, (data.wmd_series(material.wmd_commodity),)))
    return specs


def _input_term(
    material: Material,
    default: Term,
    given: Mapping[str, SiInput],
    published: float | None,
    published_name: str,
) -> Term:
    """An input of the SR (EoL-RIR, SI_SR): the user's value, else the 2023 assessment's
    (``published``, when used), else ``default``."""
    if material.id in given:
        entry = given[material.id]
        return replace(default, value=entry.si_sr, source=entry.source, note="")
    if published is not None:
        source = f"2023 EU assessment, {published_name}; {_PUBLISHED_SOURCE}"
        return replace(default, value=published, source=source, note="")
    return default


def _eol_term(material: Material, given: Mapping[str, SiInput], use_published: bool) -> Term:
    row = published_for(material.id) if use_published else None
    value = row.eol_rir_pct / 100 if row and row.eol_rir_pct is not None else None
    term = Term("end-of-life recycling input rate", "EoL_RIR", 0.0, "fraction 0–1", "")
    if material.eol_rir is None:
        default = replace(term, source="material catalogue", note="no EoL-RIR: 0 used")
    else:
        source = material.eol_rir_source or "source in materials.yaml"
        default = replace(
            term, value=material.eol_rir, source=f"material catalogue (eol_rir); {source}"
        )
    return _input_term(material, default, given, value, row.material if row else "")


def _si_term(material: Material, given: Mapping[str, SiInput], use_published: bool) -> Term:
    row = published_for(material.id) if use_published else None
    default = Term(
        "substitution index (supply risk)",
        "SI_SR",
        1.0,
        "0–1",
        "default",
        note="no SI_SR given: 1 used (no substitution credit)",
    )
    value = row.si_sr if row else None
    return _input_term(material, default, given, value, row.material if row else "")


def _headline(
    material: Material, stages: Sequence[StageSupplyRisk], rule: StageRule
) -> tuple[StageSupplyRisk | None, str]:
    """The stage whose SR is the material's, and how it was chosen."""
    scored = [s for s in stages if s.sr is not None]
    best = max(scored, key=lambda s: s.sr or 0.0, default=None)
    if rule == "published":
        row = published_for(material.id)
        chosen = next((s for s in scored if row and s.stage == row.sr_stage), None)
        if chosen is not None:
            return chosen, f"stage {chosen.stage}: the 2023 assessment's stage"
        if row is not None and best is not None:
            return best, (
                f"stage {best.stage}: highest stage SR (no SR here for the 2023 assessment's "
                f"stage, {row.sr_stage})"
            )
    return best, (f"stage {best.stage}: highest stage SR" if best else "")


def _ei(entry: EiInput) -> EconomicImportance:
    sectors = tuple(
        SectorTerm(
            s.sector, s.end_use_share, s.value_added, s.end_use_share * s.value_added, s.source
        )
        for s in entry.sectors
    )
    sum_aq = sum(s.product for s in sectors)
    ei = economic_importance(
        ((s.end_use_share, s.value_added) for s in sectors), entry.value_added_max, entry.si_ei
    )
    notes = []
    if not entry.value_added_max_given:
        notes.append(
            "scaled by the largest value_added in the file (no value_added_max column): "
            "comparable to the Commission's EI only if that is the largest NACE sector"
        )
    return EconomicImportance(
        sectors=sectors,
        sum_aq=sum_aq,
        value_added_max=entry.value_added_max,
        scaled_sum=sum_aq / entry.value_added_max * EI_SCALE,
        si_ei=entry.si_ei,
        ei=ei,
        source=f"user inputs: {entry.path}",
        notes=tuple(notes),
    )


def _select(materials: Sequence[str] | None) -> list[Material]:
    catalogue = load_catalogue()
    if materials is None:
        return [m for m in catalogue if m.id not in NOT_ASSESSED]
    out: list[Material] = []
    for name in materials:
        material = catalogue.resolve(name).material
        if material not in out:
            out.append(material)
    return out


def _context(
    con: duckdb.DuckDBPyConnection,
    chosen: Sequence[Material],
    years: tuple[int, ...],
    governance_series: str | None,
    measure_t: Mapping[str, float],
    agreement_t: float,
) -> _Context:
    eu = group_members("EU27")
    series = data.governance_series(con, governance_series)
    codes = sorted({c for m in chosen for s in m.stages for c in (*s.hs_codes, *s.hs17_codes)})
    return _Context(
        years=years,
        eu=eu,
        governance=data.governance(con, years, series),
        governance_series=series,
        production=data.load_wmd(con, years),
        stage_rows=data.load_stage_rows(con, chosen, years),
        trade=data.eu_trade(con, eu, codes, years),
        measure_t=measure_t,
        agreement_t=agreement_t,
    )


def _provenance(
    con: duckdb.DuckDBPyConnection, ctx: _Context, breakdowns: Sequence[Breakdown]
) -> list[Provenance]:
    """The releases the assessment used: every production and trade series of a stage, with
    its years, and the governance series; a store without series: its default releases."""
    used: dict[tuple[str, str], set[int]] = {("governance", ctx.governance_series): set()}
    for b in breakdowns:
        for s in b.stages:
            for series in s.production_series:
                dataset = "production" if series == data.WMD_SERIES else "stage_production"
                frame = ctx.stage_rows if dataset == "stage_production" else ctx.production
                rows = frame[frame["series"] == series]
                used.setdefault((dataset, series), set()).update(
                    y for y in s.production_years if y in set(rows["year"])
                )
            for series in s.trade_series:
                rows = ctx.trade[ctx.trade["series"] == series]
                used.setdefault(("trade", series), set()).update(
                    y for y in s.trade_years if y in set(rows["year"])
                )
    gov = used[("governance", ctx.governance_series)]
    gov.update(y for g in ctx.governance.values() for y in g.years)
    found = data.series_provenance(con, {k: sorted(v) for k, v in used.items()})
    return found or provenance_for(con, ["production", "trade", "governance"], ctx.years)


def assess(
    con: duckdb.DuckDBPyConnection,
    *,
    year: int | None = None,
    window: int = 5,
    materials: Sequence[str] | None = None,
    ei_inputs: Mapping[str, EiInput] | None = None,
    si_sr: Mapping[str, SiInput] | None = None,
    eol_rir: Mapping[str, SiInput] | None = None,
    published: bool = True,
    stage_rule: StageRule | None = None,
    governance_series: str | None = None,
    measure_t: Mapping[str, float] = MEASURE_T,
    agreement_t: float = AGREEMENT_T,
    published_si: bool | None = None,
) -> Assessment:
    """Assess SR (and EI where inputs are given) for ``materials`` (default: every catalogue
    material except energy raw materials) over the ``window`` years ending in ``year``
    (default: the latest year with production and trade data).

    ``published`` (default) takes SI_SR, EoL-RIR and the headline stage from the 2023
    assessment (the shipped reference input) where ``si_sr`` / ``eol_rir`` give none; without
    it SI_SR = 1, EoL-RIR from the catalogue and the highest stage (``stage_rule`` overrides
    the stage choice either way). ``governance_series`` names the WGI series (default: the six
    dimensions when the store holds them). ``measure_t`` and ``agreement_t`` override the
    trade-parameter values (:mod:`critmat.risk._eu_trade`). ``published_si`` is the earlier
    name of ``published`` and wins when given.
    """
    if published_si is not None:
        published = published_si
    chosen = _select(materials)
    ref_year, years = data.choose_years(con, year, window)
    ctx = _context(con, chosen, years, governance_series, measure_t, agreement_t)
    indicators_used = sorted(
        {i for g in ctx.governance.values() for i in g.indicators}, key=WGI_INDICATORS.index
    )
    wgi_note = _wgi_note(indicators_used, ctx.governance_series)
    rule: StageRule = stage_rule or ("published" if published else "highest")
    given_ei = ei_inputs or {}
    catalogue = load_catalogue()
    breakdowns = []
    for material in chosen:
        eol = _eol_term(material, eol_rir or {}, published)
        si = _si_term(material, si_sr or {}, published)
        stages = [_stage(ctx, material, spec, eol, si) for spec in _stage_specs(material)]
        notes: list[str] = []
        if not stages:
            notes.append("no stage with production data: SR not computed")
        headline, stage_note = _headline(material, stages, rule)
        sr = headline.sr if headline else None
        ei = _ei(given_ei[material.id]) if material.id in given_ei else None
        sr_ok = None if sr is None else sr >= SR_THRESHOLD
        ei_ok = None if ei is None else ei.ei >= EI_THRESHOLD
        if ei is None:
            notes.append("EI not computed (no end-use/value-added inputs)")
        breakdowns.append(
            Breakdown(
                material_id=material.id,
                name=material.name,
                year=ref_year,
                years=years,
                stages=tuple(stages),
                sr=sr,
                sr_stage=headline.stage if headline else None,
                ei=ei,
                sr_meets_threshold=sr_ok,
                ei_meets_threshold=ei_ok,
                critical=None if sr_ok is None or ei_ok is None else sr_ok and ei_ok,
                crma_critical=catalogue.is_critical(material.id),
                wgi_indicators=tuple(indicators_used),
                wgi_note=wgi_note,
                notes=tuple(notes),
                governance_series=ctx.governance_series,
                stage_note=stage_note,
            )
        )
    unknown_ei = sorted(set(given_ei) - {m.id for m in chosen})
    notes = [wgi_note]
    if published:
        notes.append("SI_SR, EoL-RIR and stage choice: the 2023 assessment's published values")
    if unknown_ei:
        notes.append(f"EI inputs for materials not assessed here: {', '.join(unknown_ei)}")
    return Assessment(
        year=ref_year,
        years=years,
        breakdowns=tuple(breakdowns),
        wgi_indicators=tuple(indicators_used),
        provenance=tuple(_provenance(con, ctx, breakdowns)),
        notes=tuple(notes),
        governance_series=ctx.governance_series,
    )
