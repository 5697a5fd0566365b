"""Result types of the EU criticality assessment (:mod:`critmat.risk.eu_criticality`).

Every number of a result is a :class:`Term` or one supplier's :class:`CountryTerm`, with its
unit and where it came from; a stage names the data series and years it was computed from
(production series, trade series, governance series), so that a figure can be traced to its
release. Missing data stay missing: a stage without production data has ``sr = None`` and
``basis = "no data"``, never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from critmat.indicators.provenance import Provenance

#: CRMA Art. 4(2): critical when SR ≥ 1 and EI ≥ 2.8.
SR_THRESHOLD = 1.0
EI_THRESHOLD = 2.8

Basis = Literal["GS+EU", "GS only", "no data"]
#: How the headline SR is chosen among the stages: the stage the 2023 assessment used
#: (``published``; the highest where that stage has no SR here) or the highest (``highest``).
StageRule = Literal["published", "highest"]
SupplyKind = Literal["production", "extra-EU imports", "EU production"]


def round_or_none(value: float | None, digits: int = 2) -> float | None:
    """``value`` rounded, ``None`` kept."""
    return None if value is None else round(value, digits)


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
    kind: SupplyKind
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

    ``uncovered_share`` is the supply share of countries without a WGI value (and of the
    "rest of world" rows of a publication), left out of the sum, so the index understates by at
    most their share² · 10 · t.
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
    """SR of one value-chain stage with all its terms and the data series it comes from.

    ``production_series`` / ``production_years``: the production series (``USGS MCS 2024``,
    ``WMD`` ...) and years global supply and Member State production were taken from;
    ``trade_series`` / ``trade_years``: the BACI series (``HS92``, ``HS17``) and years of EU
    imports, exports and sourcing.
    """

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
    production_series: tuple[str, ...] = ()
    production_years: tuple[int, ...] = ()
    trade_series: tuple[str, ...] = ()
    trade_years: tuple[int, ...] = ()


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

    ``sr`` is the SR of ``sr_stage``, chosen by ``stage_rule`` (``stage_note`` says how);
    ``critical`` is ``None`` when EI is missing; ``crma_critical`` is the material's listing in
    CRMA Annex II (strategic materials are listed whatever their scores, Art. 4(2)).
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
    governance_series: str = ""
    stage_note: str = ""

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
        notes = [*self.notes, self.stage_note]
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
            "sr": round_or_none(self.sr),
            "sr_stage": self.sr_stage,
            "basis": self.basis,
            "ei": round_or_none(self.ei.ei) if self.ei else None,
            "critical": self.critical,
            "sr_meets_threshold": self.sr_meets_threshold,
            "crma_critical": self.crma_critical,
            "import_reliance": round_or_none(stage.import_reliance.value, 3) if stage else None,
            "eol_rir": stage.eol_rir.value if stage else None,
            "si_sr": stage.si_sr.value if stage else None,
            "wgi_indicators": "+".join(self.wgi_indicators),
            "production_series": "+".join(stage.production_series) if stage else "",
            "trade_series": "+".join(stage.trade_series) if stage else "",
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
    governance_series: str = ""

    def get(self, material_id: str) -> Breakdown:
        for breakdown in self.breakdowns:
            if breakdown.material_id == material_id:
                return breakdown
        raise KeyError(material_id)

    def rows(self) -> list[dict[str, Any]]:
        return [b.row() for b in self.breakdowns]
