"""The trade-related variable t of the EU supply-risk formula, and the EU trade agreements it uses.

CRMA Annex II §2 point 5 (Regulation (EU) 2024/1252) defines t_c as a "trade parameter adjusting
WGI, which shall be determined taking into account potential export taxes (possibly mitigated by
a trade agreement in force), physical export quotas or export prohibitions imposed by a country".
The numeric table of the Commission's 2017 guidelines (doi:10.2873/769526) could not be consulted
for critmat. The values below are therefore critmat's reading, chosen within the range the 2023
assessment used (0.8–1.5 in the third-party transcription of its trade parameters, CritMAT
``eureport_tradeparameters.csv``) and ordered by severity; they are **not confirmed** against the
guidelines and are parameters of :func:`critmat.risk.eu_criticality.assess` (``measure_t``).

Rules (per country c, material, value-chain stage, year y):

1. Measures: rows of the export-restriction registry (:mod:`critmat.reference.restrictions`)
   imposed by c on the material (or its group/members), whose HS codes overlap the stage's codes,
   in force on at least one day of y, and applying to exports to the EU (``targets`` is ``all`` or
   names a Member State — a ban aimed only at the United States does not restrict supply to the
   Union). t = the largest :data:`MEASURE_T` value among them, 1 when there is none.
2. Trade agreements, for the **EU-sourcing** term only: when c has an EU trade agreement applied
   in y (:data:`EU_TRADE_AGREEMENTS`) and no quota, ban or suspension applies, t =
   :data:`AGREEMENT_T` (0.8). The 2023 transcription shows 0.8 only in EU-sourcing rows and for
   agreement partners (potash–Canada, silver–Mexico/Peru), and the CRMA says agreements mitigate
   export taxes; the 0.8 value itself is not confirmed against the guidelines.
3. Member States always have t = 1 (the Union does not restrict supply to itself).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from critmat.reference.restrictions import Restriction, restrictions_for
from critmat.reference.restrictions import load_restrictions as _load_restrictions

#: t per registry measure type. Licensing is not one of the measure types the methodology names
#: (taxes, quotas, prohibitions), so it counts as 1 by default; pass ``measure_t`` to change it.
MEASURE_T: Mapping[str, float] = {
    "export_tax": 1.1,
    "export_quota": 1.2,
    "export_ban": 1.3,
    "export_suspension": 1.3,
    "export_licensing": 1.0,
    "other": 1.0,
}
#: t of a supplier with an EU trade agreement in force, in the EU-sourcing term (see rule 2).
AGREEMENT_T = 0.8
_MITIGABLE = frozenset({"export_tax", "export_licensing", "other"})

_COM_2019_455 = (
    "European Commission, Report on Implementation of Free Trade Agreements 1 January 2018 - "
    "31 December 2018, COM(2019) 455 final (agreements in application in 2018)"
)


@dataclass(frozen=True)
class TradeAgreement:
    """An EU trade agreement applied (provisionally or in force) from ``applied_from`` (year)."""

    partner: str  # ISO3
    name: str
    applied_from: int
    source: str


def _agreements(
    name: str, year: int, partners: tuple[str, ...], source: str = _COM_2019_455
) -> list[TradeAgreement]:
    return [TradeAgreement(p, name, year, source) for p in partners]


#: EU trade agreements with the main suppliers of raw materials. Years are those of first
#: (provisional) application — **unconfirmed**: they were not checked row by row against the
#: cited sources (docs/eu-criticality.md). Agreements without a trade-in-goods pillar
#: (partnership and cooperation agreements) are not listed. Extend when an agreement enters
#: into force.
EU_TRADE_AGREEMENTS: tuple[TradeAgreement, ...] = tuple(
    [
        *_agreements("EEA Agreement", 1994, ("NOR", "ISL", "LIE")),
        *_agreements("EU–Switzerland Free Trade Agreement", 1973, ("CHE",)),
        *_agreements("EU–Türkiye Customs Union", 1996, ("TUR",)),
        *_agreements("EU–Mexico Global Agreement", 2000, ("MEX",)),
        *_agreements("EU–Chile Association Agreement", 2003, ("CHL",)),
        *_agreements("EU–South Korea Free Trade Agreement", 2011, ("KOR",)),
        *_agreements("EU–Colombia, Peru and Ecuador Trade Agreement", 2013, ("PER", "COL")),
        *_agreements("EU–Colombia, Peru and Ecuador Trade Agreement", 2017, ("ECU",)),
        *_agreements("EU–Canada CETA", 2017, ("CAN",)),
        *_agreements("EU–Ukraine DCFTA", 2016, ("UKR",)),
        *_agreements("EU–Georgia DCFTA", 2014, ("GEO",)),
        *_agreements("EU–Moldova DCFTA", 2014, ("MDA",)),
        *_agreements("Euro-Mediterranean Association Agreement", 2000, ("MAR", "ISR")),
        *_agreements("Euro-Mediterranean Association Agreement", 1998, ("TUN",)),
        *_agreements("Euro-Mediterranean Association Agreement", 2002, ("JOR",)),
        *_agreements("Euro-Mediterranean Association Agreement", 2004, ("EGY",)),
        *_agreements("Euro-Mediterranean Association Agreement", 2005, ("DZA",)),
        *_agreements("Stabilisation and Association Agreement", 2004, ("MKD",)),
        *_agreements("Stabilisation and Association Agreement", 2009, ("ALB",)),
        *_agreements("Stabilisation and Association Agreement", 2010, ("MNE", "SRB")),
        *_agreements("Stabilisation and Association Agreement", 2015, ("BIH",)),
        *_agreements("Stabilisation and Association Agreement", 2016, ("XKX",)),
        *_agreements("EU–SADC EPA", 2016, ("ZAF", "BWA", "NAM", "LSO", "SWZ")),
        *_agreements("EU–SADC EPA", 2018, ("MOZ",)),
        *_agreements("Interim EPA with Eastern and Southern Africa", 2012, ("MDG", "MUS", "ZWE")),
        *_agreements("EU–Côte d'Ivoire interim EPA", 2016, ("CIV",)),
        *_agreements("EU–Ghana interim EPA", 2016, ("GHA",)),
        *_agreements("EU–Central Africa (Cameroon) EPA", 2014, ("CMR",)),
        *_agreements("EU–CARIFORUM EPA", 2008, ("JAM", "DOM", "GUY", "SUR")),
        *_agreements("EU–Pacific EPA", 2009, ("PNG",)),
        TradeAgreement(
            "JPN",
            "EU–Japan Economic Partnership Agreement",
            2019,
            "Council Decision (EU) 2018/1907; in force 1 February 2019 (OJ L 330, 27.12.2018)",
        ),
        TradeAgreement(
            "SGP",
            "EU–Singapore Free Trade Agreement",
            2019,
            "Council Decision (EU) 2019/1875; in force 21 November 2019",
        ),
        TradeAgreement(
            "VNM",
            "EU–Vietnam Free Trade Agreement",
            2020,
            "Council Decision (EU) 2020/753; in force 1 August 2020",
        ),
        TradeAgreement(
            "GBR",
            "EU–UK Trade and Cooperation Agreement",
            2021,
            "OJ L 444, 31.12.2020; provisionally applied from 1 January 2021",
        ),
        TradeAgreement(
            "NZL",
            "EU–New Zealand Free Trade Agreement",
            2024,
            "Council Decision (EU) 2023/2860; in force 1 May 2024",
        ),
    ]
)


def agreement_for(country: str, year: int) -> TradeAgreement | None:
    """The EU trade agreement applied with ``country`` in ``year``, if any."""
    for agreement in EU_TRADE_AGREEMENTS:
        if agreement.partner == country and agreement.applied_from <= year:
            return agreement
    return None


@functools.cache
def _active_in_year(restriction: Restriction, year: int) -> bool:
    day = date(year, 1, 1)
    while day.year == year:
        if restriction.active_on(day):
            return True
        day += timedelta(days=1)
    return False


def _applies_to_eu(restriction: Restriction, eu: frozenset[str]) -> bool:
    return restriction.targets_all or bool(set(restriction.targets) & eu)


@functools.cache
def _material_restrictions(material_id: str) -> tuple[Restriction, ...]:
    _load_restrictions()  # validates the registry once
    return restrictions_for(material_id)


@dataclass(frozen=True)
class TradeParameter:
    """t of one country for one material stage, year and scope, with the reason."""

    value: float
    reason: str


def trade_parameter(
    material_id: str,
    stage_codes: frozenset[str],
    country: str,
    year: int,
    *,
    eu: frozenset[str],
    eu_sourcing: bool,
    measure_t: Mapping[str, float] = MEASURE_T,
    agreement_t: float = AGREEMENT_T,
) -> TradeParameter:
    """t_c for ``country`` (rules 1–3 of the module docstring)."""
    if country in eu:
        return TradeParameter(1.0, "EU Member State")
    measures = [
        r
        for r in _material_restrictions(material_id)
        if r.country == country
        and set(r.hs_codes) & stage_codes
        and _applies_to_eu(r, eu)
        and _active_in_year(r, year)
    ]
    strongest = max(measures, key=lambda r: measure_t.get(r.measure, 1.0), default=None)
    value = 1.0 if strongest is None else measure_t.get(strongest.measure, 1.0)
    if eu_sourcing:
        agreement = agreement_for(country, year)
        if agreement is not None and all(r.measure in _MITIGABLE for r in measures):
            return TradeParameter(
                agreement_t, f"EU trade agreement: {agreement.name} (from {agreement.applied_from})"
            )
    if strongest is None:
        return TradeParameter(1.0, "no export restriction registered")
    return TradeParameter(value, f"{strongest.measure} {strongest.id}")
