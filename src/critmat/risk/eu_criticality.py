"""EU criticality assessment: supply risk (SR) and economic importance (EI), term by term.

The method is the Commission's 2017 methodology (European Commission, *Methodology for
establishing the EU list of critical raw materials*, 2017, doi:10.2873/769526; background:
Blengini et al. 2017, doi:10.2760/73303), used for the 2020 and 2023 lists and written into law
by the Critical Raw Materials Act (Regulation (EU) 2024/1252, Annex II §2). Equations and what
critmat approximates: ``docs/eu-criticality.md``.

Supply risk of one value-chain stage (the higher stage SR is the material's SR)::

    SR = [ (HHI_WGI,t)_GS · IR/2 + (HHI_WGI,t)_EUS · (1 − IR/2) ] · (1 − EoL_RIR) · SI_SR
    HHI_WGI,t = Σ_c S_c² · WGI_c · t_c
    IR = max{0; (M − X) / (P + M − X)}

- GS: global supply, shares S_c of World Mining Data production (``production`` table);
- EUS: EU sourcing, shares of extra-EU imports (BACI, tonnes) by origin plus the production of
  each Member State (WMD), :func:`critmat.indicators.imports.import_flows`;
- WGI_c: the Worldwide Governance Indicators of c, averaged over the indicators available (the
  methodology uses all six; the default data carry PV only — an approximation, said per result),
  scaled to 0–10 with 10 the worst governance: ``WGI_scaled = 5 − 2·WGI`` clipped to 0..10;
- t_c: trade parameter from the export-restriction registry and EU trade agreements
  (:mod:`critmat.risk._eu_trade`);
- IR: import reliance of the EU27 from :func:`critmat.indicators.consumption`
  (apparent consumption; estimated, WMD content tonnes vs BACI gross weight), clipped to 0..1;
- EoL_RIR: ``Material.eol_rir`` of the catalogue; SI_SR: per-material input (1 when none).

When no EU sourcing or import reliance can be computed for a stage (no trade codes, or
production not in tonnes) the stage is assessed on global supply only,
``SR = (HHI_WGI,t)_GS · (1 − EoL_RIR) · SI_SR``, as the 2023 assessment did for its "GS only"
cases; the breakdown says so.

Economic importance, only from user inputs (:mod:`critmat.risk._eu_inputs`)::

    EI = Σ_s (A_s · Q_s) / Q_max · 10 · SI_EI

A_s: end-use share in NACE two-digit sector s; Q_s: its value added; Q_max: value added of the
largest manufacturing sector (scales EI to 0–10). Thresholds (CRMA Art. 4(2)): SR ≥ 1 and EI ≥ 2.8.

Calculations use the sum of the data over a window of years (five by default, CRMA Annex II §2
point 7: "an average of the most recent five years for which data is available"): shares and
IR of the summed quantities, WGI and t averaged over the years.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import duckdb
import pandas as pd

from critmat.errors import CritmatError, NoDataError
from critmat.indicators.consumption import apparent_consumption_many, consumption_pairs
from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.reference.countries import group_members
from critmat.reference.eu_assessment import published_for
from critmat.reference.materials import Material, load_catalogue
from critmat.risk._eu_inputs import EiInput, SiInput, read_ei_inputs, read_si_sr
from critmat.risk._eu_trade import AGREEMENT_T, MEASURE_T, trade_parameter

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
    "read_si_sr",
    "scale_wgi",
    "supply_risk",
]

SR_THRESHOLD = 1.0
EI_THRESHOLD = 2.8
EI_SCALE = 10.0
#: The six Worldwide Governance Indicators (estimates, about −2.5..2.5).
WGI_INDICATORS = ("VA", "PV", "GE", "RQ", "RL", "CC")
#: Energy raw materials: outside the EU assessment (which covers non-energy, non-agricultural
#: raw materials plus coking coal); left out unless asked for by name.
NOT_ASSESSED = frozenset(
    {"steam_coal", "lignite", "natural_gas", "petroleum", "oil_sands", "oil_shales", "uranium"}
)
_TONNE_FACTOR = {"metr. t": 1.0, "t": 1.0, "kg": 0.001}
_WGI_SOURCE = "World Bank, Worldwide Governance Indicators (governance table)"
_WMD_SOURCE = "World Mining Data (production table)"
_BACI_SOURCE = "CEPII BACI (trade table), extra-EU27 imports by origin, tonnes"

Basis = Literal["GS+EU", "GS only"]


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


# ------------------------------------------------------------------------------ breakdown types
@dataclass(frozen=True)
class Term:
    """One scalar term of an equation: its value, unit, where it came from, and any caveat."""

    name: str
    symbol: str
    value: float | None
    unit: str
    source: str
    inputs: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class CountryTerm:
    """One supplier's part of HHI_WGI,t: ``contribution = share² · wgi_scaled · t``."""

    country: str
    kind: Literal["production", "extra-EU imports", "EU production"]
    amount: float
    share: float
    wgi_estimate: float | None
    wgi_scaled: float | None
    wgi_indicators: tuple[str, ...]
    t: float
    t_reason: str
    contribution: float | None


@dataclass(frozen=True)
class Concentration:
    """HHI_WGI,t of global supply (``GS``) or EU sourcing (``EUS``) with every supplier's term.

    ``uncovered_share`` is the supply share of countries without a WGI value (left out of the
    sum, so the index understates by at most their share² · 10 · t).
    """

    scope: Literal["GS", "EUS"]
    value: float | None
    unit: str
    source: str
    amount_unit: str
    total: float
    countries: tuple[CountryTerm, ...]
    uncovered_share: float
    notes: tuple[str, ...] = ()

    def top(self, n: int = 3) -> str:
        """The ``n`` largest suppliers as ``"COD 70.1% (WGI 8.4, t 1.0)"``."""
        parts = []
        for c in sorted(self.countries, key=lambda c: -c.share)[:n]:
            wgi = "n/a" if c.wgi_scaled is None else f"{c.wgi_scaled:.1f}"
            parts.append(f"{c.country} {c.share:.1%} (WGI {wgi}, t {c.t:.2f})")
        return "; ".join(parts)


@dataclass(frozen=True)
class StageSupplyRisk:
    """SR of one value-chain stage with all its terms."""

    stage: str
    commodity: str
    hs_codes: tuple[str, ...]
    basis: Basis
    global_supply: Concentration
    eu_sourcing: Concentration | None
    import_reliance: Term
    eol_rir: Term
    si_sr: Term
    sr: float | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectorTerm:
    """One end-use sector of EI: ``product = end_use_share · value_added``."""

    sector: str
    end_use_share: float
    value_added: float
    product: float
    source: str


@dataclass(frozen=True)
class EconomicImportance:
    """EI with its sectors, scaling reference and SI_EI."""

    sectors: tuple[SectorTerm, ...]
    sum_aq: float
    value_added_max: float
    scaled_sum: float
    si_ei: float
    ei: float
    source: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    """The whole assessment of one material, term by term.

    ``sr`` is the highest stage SR (``sr_stage``); ``critical`` is ``None`` when EI is missing;
    ``crma_critical`` is the material's listing in CRMA Annex II (strategic materials are listed
    whatever their scores, Art. 4(2)).
    """

    material_id: str
    name: str
    year: int
    years: tuple[int, ...]
    stages: tuple[StageSupplyRisk, ...]
    sr: float | None
    sr_stage: str | None
    ei: EconomicImportance | None
    sr_meets_threshold: bool | None
    ei_meets_threshold: bool | None
    critical: bool | None
    crma_critical: bool
    wgi_indicators: tuple[str, ...]
    wgi_note: str
    notes: tuple[str, ...] = ()

    @property
    def basis(self) -> str | None:
        stage = self.headline_stage
        return stage.basis if stage else None

    @property
    def headline_stage(self) -> StageSupplyRisk | None:
        return next((s for s in self.stages if s.stage == self.sr_stage), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready nested dict of every term."""
        return asdict(self)

    def row(self) -> dict[str, Any]:
        """The summary row the CLI prints (one per material)."""
        stage = self.headline_stage
        notes = list(self.notes)
        if stage:
            notes += [
                *stage.notes,
                stage.import_reliance.note,
                stage.eol_rir.note,
                stage.si_sr.note,
            ]
        return {
            "material": self.material_id,
            "name": self.name,
            "sr": _round(self.sr),
            "sr_stage": self.sr_stage,
            "basis": self.basis,
            "ei": _round(self.ei.ei) if self.ei else None,
            "critical": self.critical,
            "sr_meets_threshold": self.sr_meets_threshold,
            "crma_critical": self.crma_critical,
            "import_reliance": _round(stage.import_reliance.value, 3) if stage else None,
            "eol_rir": stage.eol_rir.value if stage else None,
            "si_sr": stage.si_sr.value if stage else None,
            "wgi_indicators": "+".join(self.wgi_indicators),
            "years": f"{self.years[0]}–{self.years[-1]}" if self.years else "",
            "notes": "; ".join(n for n in dict.fromkeys(notes) if n),
        }


@dataclass(frozen=True)
class Assessment:
    """Breakdowns of every assessed material for one reference year."""

    year: int
    years: tuple[int, ...]
    breakdowns: tuple[Breakdown, ...]
    wgi_indicators: tuple[str, ...]
    provenance: tuple[Provenance, ...]
    notes: tuple[str, ...]

    def get(self, material_id: str) -> Breakdown:
        for breakdown in self.breakdowns:
            if breakdown.material_id == material_id:
                return breakdown
        raise KeyError(material_id)

    def rows(self) -> list[dict[str, Any]]:
        return [b.row() for b in self.breakdowns]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------------------ data gathering
@dataclass(frozen=True)
class _Governance:
    estimate: float
    scaled: float
    indicators: tuple[str, ...]
    years: tuple[int, ...]


def _year_range(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int] | None:
    row = con.execute(f"SELECT min(year), max(year) FROM {table}").fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


def _choose_years(
    con: duckdb.DuckDBPyConnection, year: int | None, window: int
) -> tuple[int, tuple[int, ...]]:
    if window < 1:
        raise CritmatError(f"window must be at least 1 year, not {window}")
    ranges = {t: _year_range(con, t) for t in ("production", "trade", "governance")}
    for table, span in ranges.items():
        if span is None:
            raise NoDataError(f"no {table} data in the store", hint="run `critmat data pull` first")
    prod, trade = ranges["production"], ranges["trade"]
    assert prod is not None and trade is not None
    last = min(prod[1], trade[1])
    first = max(prod[0], trade[0])
    chosen = last if year is None else year
    if not first <= chosen <= last:
        raise CritmatError(
            f"year {chosen} is outside the years with both production and trade data "
            f"({first}–{last})",
            hint=f"choose a year from {first} to {last}",
        )
    years = tuple(y for y in range(chosen - window + 1, chosen + 1) if y >= first)
    return chosen, years


def _governance(con: duckdb.DuckDBPyConnection, years: Sequence[int]) -> dict[str, _Governance]:
    """Mean WGI estimate per country over the window years and the indicators available.

    A country with no value in the window uses its latest earlier year (said in ``years``).
    """
    frame = con.execute(
        "SELECT country, year, indicator, estimate FROM governance "
        "WHERE estimate IS NOT NULL AND list_contains($ind, indicator) AND year <= $last",
        {"ind": list(WGI_INDICATORS), "last": max(years)},
    ).df()
    out: dict[str, _Governance] = {}
    window = set(years)
    for country, rows in frame.groupby("country"):
        in_window = rows[rows["year"].isin(window)]
        if in_window.empty:
            latest = int(rows["year"].max())
            in_window = rows[rows["year"] == latest]
        # mean over years of the mean over indicators, so a year with more indicators
        # does not weigh more than another
        per_year = in_window.groupby("year")["estimate"].mean()
        estimate = float(per_year.mean())
        out[str(country)] = _Governance(
            estimate=estimate,
            scaled=scale_wgi(estimate),
            indicators=tuple(i for i in WGI_INDICATORS if i in set(in_window["indicator"])),
            years=tuple(int(y) for y in sorted(per_year.index)),
        )
    return out


def _wgi_note(indicators: Sequence[str]) -> str:
    if tuple(indicators) == WGI_INDICATORS:
        return "WGI: mean of the six indicators, as the methodology specifies"
    used = "+".join(indicators) or "none"
    if tuple(indicators) == ("PV",):
        return (
            "WGI: Political Stability (PV) only — an approximation; the methodology averages "
            "the six WGI indicators"
        )
    return f"WGI: {used} only — an approximation; the methodology averages the six indicators"


# ---------------------------------------------------------------------------------- assessment
@dataclass
class _Context:
    years: tuple[int, ...]
    eu: frozenset[str]
    governance: dict[str, _Governance]
    production: pd.DataFrame
    imports: pd.DataFrame
    consumption: pd.DataFrame
    measure_t: Mapping[str, float]
    agreement_t: float


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
    amounts: Sequence[tuple[str, str, float]],
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
        t, reason = _t(ctx, material_id, codes, country, eu_sourcing=scope == "EUS")
        if gov is None:
            uncovered += share
        terms.append(
            CountryTerm(
                country=country,
                kind=kind,  # type: ignore[arg-type]
                amount=amount,
                share=share,
                wgi_estimate=None if gov is None else gov.estimate,
                wgi_scaled=None if gov is None else gov.scaled,
                wgi_indicators=() if gov is None else gov.indicators,
                t=t,
                t_reason=reason,
                contribution=None if gov is None else share * share * gov.scaled * t,
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


def _production_amounts(
    ctx: _Context, commodity: str, members: frozenset[str] | None = None
) -> tuple[list[tuple[str, float]], str]:
    rows = ctx.production[ctx.production["commodity"] == commodity]
    if members is not None:
        rows = rows[rows["country"].isin(members)]
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    sums = rows.groupby("country")["quantity"].sum()
    return [(str(c), float(q)) for c, q in sums.items() if q > 0], unit


def _stage(
    ctx: _Context,
    material: Material,
    commodity: str,
    stage_name: str,
    hs_codes: tuple[str, ...],
    eol: Term,
    si: Term,
    try_eu: bool,
) -> StageSupplyRisk:
    codes = frozenset(hs_codes)
    years_text = f"{ctx.years[0]}–{ctx.years[-1]}"
    produced, unit = _production_amounts(ctx, commodity)
    gs = _concentration(
        ctx,
        "GS",
        material.id,
        codes,
        [(c, "production", q) for c, q in produced],
        unit,
        f"{_WMD_SOURCE}: {commodity}, {years_text}; {_WGI_SOURCE}",
    )
    notes: list[str] = []
    ir_term = Term("import reliance", "IR", None, "fraction 0–1", "")
    eus: Concentration | None = None
    if try_eu:
        rows = ctx.consumption[
            (ctx.consumption["material"] == material.id) & (ctx.consumption["stage"] == stage_name)
        ]
        if rows.empty:
            ir_term = Term(
                "import reliance",
                "IR",
                None,
                "fraction 0–1",
                "critmat.indicators.consumption",
                note=f"no EU27 apparent consumption for {commodity}/{stage_name} in {years_text} "
                "(production not in tonnes, or no trade rows for the codes)",
            )
        else:
            p, m, x = (float(rows[c].sum()) for c in ("production", "imports_t", "exports_t"))
            raw = import_reliance(p, m, x)
            note = "estimated: WMD content tonnes vs BACI gross weight"
            value = raw
            if raw is not None and raw > 1:
                value = 1.0
                note += f"; computed {raw:.2f} > 1 (weight mismatch), clipped to 1"
            elif raw is not None and (m - x) < 0:
                note += "; net exporter, IR = 0"
            ir_term = Term(
                "import reliance",
                "IR",
                value,
                "fraction 0–1",
                "critmat.indicators.consumption (EU27; WMD production + BACI extra-EU trade), "
                f"{years_text}",
                inputs={
                    "production_t": p,
                    "imports_t": m,
                    "exports_t": x,
                    "apparent_consumption_t": p + m - x,
                    "years": list(sorted(set(int(y) for y in rows["year"]))),
                },
                note=note if raw is not None else "apparent consumption ≤ 0: IR undefined",
            )
        if ir_term.value is not None:
            imports = ctx.imports[ctx.imports["hs6"].isin(codes)]
            by_origin = imports.groupby("origin")["quantity_t"].sum(min_count=1).dropna()
            no_q = float(imports["value_kusd_no_quantity"].sum())
            all_value = float(imports["value_kusd"].sum())
            domestic, dom_unit = _production_amounts(ctx, commodity, ctx.eu)
            factor = _TONNE_FACTOR.get(dom_unit, 1.0)
            amounts = [
                (str(o), "extra-EU imports", float(q)) for o, q in by_origin.items() if q > 0
            ]
            amounts += [(c, "EU production", q * factor) for c, q in domestic]
            eus_notes = ["imports in gross weight, EU production in WMD content: mixed units"]
            if all_value > 0 and no_q / all_value > 0.005:
                eus_notes.append(
                    f"{no_q / all_value:.1%} of the import value has no quantity (left out)"
                )
            eus = _concentration(
                ctx,
                "EUS",
                material.id,
                codes,
                amounts,
                "t",
                f"{_BACI_SOURCE}, HS92 {', '.join(hs_codes)}, {years_text}; "
                f"{_WMD_SOURCE}: {commodity} (Member States); {_WGI_SOURCE}",
                eus_notes,
            )
            if eus.value is None:
                eus = None
    basis: Basis = "GS+EU" if eus is not None and ir_term.value is not None else "GS only"
    if basis == "GS only":
        notes.append("global supply only (no EU sourcing/IR): SR = HHI_GS · (1 − EoL) · SI")
    stage_obj = next((st for st in material.stages if st.name == stage_name), None)
    shared = load_catalogue().shared_with(material.id, stage_obj) if stage_obj else ()
    if shared:
        notes.append(f"HS codes shared with {', '.join(shared)}")
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
        stage=stage_name,
        commodity=commodity,
        hs_codes=hs_codes,
        basis=basis,
        global_supply=gs,
        eu_sourcing=eus,
        import_reliance=ir_term,
        eol_rir=eol,
        si_sr=si,
        sr=sr,
        notes=tuple(notes),
    )


def _eol_term(material: Material) -> Term:
    if material.eol_rir is None:
        return Term(
            "end-of-life recycling input rate",
            "EoL_RIR",
            0.0,
            "fraction 0–1",
            "material catalogue",
            note="no EoL-RIR in the catalogue: 0 used",
        )
    return Term(
        "end-of-life recycling input rate",
        "EoL_RIR",
        material.eol_rir,
        "fraction 0–1",
        f"material catalogue (eol_rir); {material.eol_rir_source or 'source in materials.yaml'}",
    )


def _si_term(material: Material, given: Mapping[str, SiInput], published: bool) -> Term:
    name, symbol, unit = "substitution index (supply risk)", "SI_SR", "0–1"
    if material.id in given:
        entry = given[material.id]
        return Term(name, symbol, entry.si_sr, unit, entry.source)
    if published:
        row = published_for(material.id)
        if row is not None and row.si_sr is not None:
            return Term(
                name,
                symbol,
                row.si_sr,
                unit,
                f"2023 EU assessment, {row.material} (transcribed; doi:10.2873/725585)",
            )
    return Term(
        name,
        symbol,
        1.0,
        unit,
        "default",
        note="no SI_SR given: 1 used (no substitution credit)",
    )


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


def assess(
    con: duckdb.DuckDBPyConnection,
    *,
    year: int | None = None,
    window: int = 5,
    materials: Sequence[str] | None = None,
    ei_inputs: Mapping[str, EiInput] | None = None,
    si_sr: Mapping[str, SiInput] | None = None,
    published_si: bool = False,
    measure_t: Mapping[str, float] = MEASURE_T,
    agreement_t: float = AGREEMENT_T,
) -> Assessment:
    """Assess SR (and EI where inputs are given) for ``materials`` (default: every catalogue
    material except energy raw materials) over the ``window`` years ending in ``year``
    (default: the latest year with production and trade data).

    ``si_sr`` gives SI_SR per material; with ``published_si`` the 2023 assessment's SI_SR is
    used where ``si_sr`` has none (to compare with the published SR); otherwise SI_SR = 1.
    ``measure_t`` and ``agreement_t`` override the trade-parameter values
    (:mod:`critmat.risk._eu_trade`).
    """
    chosen = _select(materials)
    ref_year, years = _choose_years(con, year, window)
    eu = group_members("EU27")
    eu_set = ImporterSet("EU27", eu, inside_eu=True)
    governance = _governance(con, years)
    commodities = sorted({c for m in chosen for c in m.wmd_commodities})
    production = con.execute(
        "SELECT commodity, country, year, quantity, unit FROM production "
        "WHERE quantity IS NOT NULL AND list_contains($y, year) AND list_contains($c, commodity)",
        {"y": list(years), "c": commodities},
    ).df()
    codes = sorted({code for m in chosen for s in m.stages for code in s.hs_codes})
    imports = import_flows(con, [eu_set], codes, years) if codes else _empty_flows()
    with_pairs = [m for m in chosen if consumption_pairs(m)]
    consumption = (
        apparent_consumption_many(con, [eu_set], with_pairs, years)
        if with_pairs
        else pd.DataFrame(columns=["material", "stage", "year", "production", "imports_t"])
    )
    ctx = _Context(years, eu, governance, production, imports, consumption, measure_t, agreement_t)
    indicators_used = sorted(
        {i for g in governance.values() for i in g.indicators}, key=WGI_INDICATORS.index
    )
    wgi_note = _wgi_note(indicators_used)
    given_si = si_sr or {}
    given_ei = ei_inputs or {}
    catalogue = load_catalogue()
    breakdowns = []
    for material in chosen:
        eol, si = _eol_term(material), _si_term(material, given_si, published_si)
        stages: list[StageSupplyRisk] = []
        notes: list[str] = []
        pairs = consumption_pairs(material)
        for commodity, stage in pairs:
            stages.append(
                _stage(ctx, material, commodity, stage.name, stage.hs_codes, eol, si, True)
            )
        if not pairs and material.wmd_commodity:
            stages.append(
                _stage(ctx, material, material.wmd_commodity, "production", (), eol, si, False)
            )
            notes.append(
                f"WMD series {material.wmd_commodity} has no matching trade stage: "
                "stage as WMD reports it, global supply only"
            )
        if not material.wmd_commodity and not pairs:
            notes.append("no World Mining Data production series: SR not computed")
        scored = [s for s in stages if s.sr is not None]
        best = max(scored, key=lambda s: s.sr or 0.0, default=None)
        sr = best.sr if best else None
        ei = _ei(given_ei[material.id]) if material.id in given_ei else None
        sr_ok = None if sr is None else sr >= SR_THRESHOLD
        ei_ok = None if ei is None else ei.ei >= EI_THRESHOLD
        critical = None if sr_ok is None or ei_ok is None else sr_ok and ei_ok
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
                sr_stage=best.stage if best else None,
                ei=ei,
                sr_meets_threshold=sr_ok,
                ei_meets_threshold=ei_ok,
                critical=critical,
                crma_critical=catalogue.is_critical(material.id),
                wgi_indicators=tuple(indicators_used),
                wgi_note=wgi_note,
                notes=tuple(notes),
            )
        )
    unknown_ei = sorted(set(given_ei) - {m.id for m in chosen})
    notes = [wgi_note]
    if unknown_ei:
        notes.append(f"EI inputs for materials not assessed here: {', '.join(unknown_ei)}")
    return Assessment(
        year=ref_year,
        years=years,
        breakdowns=tuple(breakdowns),
        wgi_indicators=tuple(indicators_used),
        provenance=tuple(provenance_for(con, ["production", "trade", "governance"], years)),
        notes=tuple(notes),
    )


def _empty_flows() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "hs6",
            "importer",
            "year",
            "origin",
            "value_kusd",
            "quantity_t",
            "value_kusd_no_quantity",
            "flows",
        ]
    )


# ------------------------------------------------------------------------------- explanation
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
                f"{len(conc.countries)} suppliers, total {conc.total:,.0f} {conc.amount_unit}; "
                f"top: {conc.top()}",
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
            f"basis {s.basis}; commodity {s.commodity}",
            "; ".join(s.notes),
        )
    add(
        "",
        "supply risk (highest stage)",
        "SR",
        _round(breakdown.sr, 2),
        "dimensionless",
        f"stage {breakdown.sr_stage}; threshold {SR_THRESHOLD}",
        "",
        breakdown.wgi_note,
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
