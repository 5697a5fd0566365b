"""Company supply-chain risk assessment (CRMA Art. 24): exposure, look-through to origin
countries, the 65 % benchmark, GeoPolRisk, export restrictions, diversification options and a
priority list of actions, from a company's supply lines.

Input: :func:`read_supply_file` / :func:`read_supply_bytes` (CSV or XLSX; every problem is
reported at once, see :mod:`critmat.risk._company_input`). Assessment: :func:`assess_supply`
(store-aware: importer and year resolved and checked) or :func:`assess_lines` (over any DuckDB
connection holding the canonical tables). The result, :class:`CompanyAssessment`, is typed
(pydantic) and round-trips through JSON (``model_dump(mode="json")`` / ``model_validate``), so a
stored assessment is shown exactly as computed. The equations are in
:mod:`critmat.risk._company_method` and ``docs/company-assessment.md``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from critmat.errors import CritmatError
from critmat.indicators.consumption import consumption_pairs
from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.lookup import check_year, eu_members, resolve_importer
from critmat.indicators.provenance import provenance_for
from critmat.reference.countries import group_members
from critmat.reference.materials import Material, Resolved, Stage, load_catalogue
from critmat.reference.restrictions import Restriction, as_of, load_restrictions
from critmat.risk import _company_method as cm
from critmat.risk._company_input import (
    MAX_BYTES,
    MAX_ROWS,
    UNIT_TO_TONNES,
    RowError,
    SupplyFileError,
    SupplyInput,
    SupplyLine,
    read_supply_bytes,
    read_supply_file,
)
from critmat.risk.geopolrisk import geopolrisk_scores, supported_commodities
from critmat.store import Store

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "METHOD_VERSION",
    "UNIT_TO_TONNES",
    "Action",
    "CompanyAssessment",
    "CountryShare",
    "LineResult",
    "MaterialExposure",
    "Option",
    "OriginShare",
    "RestrictionHit",
    "RowError",
    "ScoreMemo",
    "SupplyFileError",
    "SupplyInput",
    "SupplyLine",
    "assess_lines",
    "assess_supply",
    "read_supply_bytes",
    "read_supply_file",
]

METHOD_VERSION = "company-assessment/1"
#: Production units converted to tonnes for the domestic supply of a supplier country.
_PRODUCTION_TONNES = {"metr. t": 1.0, "kg": 1e-3}
#: Alternative origins: at least this share of world exports, at most this many per material.
MIN_OPTION_SHARE = 0.01
MAX_OPTIONS = 5
#: A single third-country share above this (but not above 65 %) is said to approach the limit.
WATCH_SHARE = 0.5
#: Per-line results kept in an assessment: those of the first lines of the file. Materials,
#: restrictions and actions always cover every line; ``lines_total`` counts them all.
MAX_LINE_RESULTS = 1000
#: Row numbers listed per restriction hit or data action (the smallest; ``rows_total`` counts).
MAX_LISTED_ROWS = 100


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class OriginShare(_Model):
    """Where a line's material comes from: ``share`` of the line (0-1) and its ``tonnes``.
    ``domestic``: made in the supplier country itself."""

    country: str
    share: float
    tonnes: float
    domestic: bool = False


class LineResult(_Model):
    row: int
    material_id: str
    material_name: str
    stage: str
    stage_label: str
    hs_codes: list[str]
    supplier: str
    supplier_country: str
    tier: int | None
    share: float | None
    quantity: float
    unit: str
    quantity_t: float
    looked_through: bool
    origins: list[OriginShare]
    hhi_world: float | None
    geopolrisk: float | None
    supplier_country_geopolrisk: float | None
    notes: list[str] = []


class CountryShare(_Model):
    country: str
    tonnes: float
    share: float
    third_country: bool


class Option(_Model):
    """An alternative origin: its exports of the material's codes in the year (``exports_t``,
    ``export_share`` of world exports), governance and status."""

    country: str
    exports_t: float
    export_share: float
    wgi_pv: float | None
    instability: float
    eu: bool
    eea: bool
    strategic_partner: bool
    score: float


def _count_listed(data: Any, count: str, listed: str) -> Any:
    """``data`` (a stored result's fields, before validation) with ``count`` set to the length
    of its ``listed`` list where a result stored before ``count`` existed lacks it."""
    if isinstance(data, dict) and count not in data:
        data = {**data, count: len(data.get(listed, ()))}
    return data


class RestrictionHit(_Model):
    """A registered export restriction, in force on the assessment date, on supply that
    originates in the restricting country. ``in_force_since``: the first day of the period of
    application that includes the assessment date (after a suspension that has ended, the day
    after it; ``None`` in results stored before it was recorded)."""

    restriction_id: str
    country: str
    measure: str
    title: str
    effective: date | None
    in_force_since: date | None = None
    confidence: str
    material_key: str
    material_name: str
    hs_codes: list[str]
    tonnes: float
    share: float
    rows: list[int]
    rows_total: int = 0
    sources: list[str]

    @model_validator(mode="before")
    @classmethod
    def _count_rows(cls, data: Any) -> Any:
        """Results stored before ``rows_total`` existed listed every row."""
        return _count_listed(data, "rows_total", "rows")


class MaterialExposure(_Model):
    """Exposure of one material at one stage (lines added up; gross weights)."""

    key: str
    material_id: str
    material_name: str
    strategic: bool
    stage: str
    stage_label: str
    hs_codes: list[str]
    tonnes: float
    lines: int
    by_supplier_country: list[CountryShare]
    by_origin: list[CountryShare]
    looked_through_share: float
    top_third_country: str | None
    top_third_share: float
    exceeds_65: bool
    origin_hhi: float
    hhi_world: float | None
    geopolrisk: float | None
    options: list[Option]


class Action(_Model):
    """One recommended action; ``priority`` 1 (act now) to 3 (check)."""

    priority: int
    kind: str
    material_key: str | None
    text: str
    tonnes: float


class CompanyAssessment(_Model):
    method: str = METHOD_VERSION
    importer: str
    importer_members: list[str]
    year: int
    assessed_on: date
    input_filename: str
    input_sha256: str
    input_encoding: str
    total_tonnes: float
    lines_total: int = 0
    lines: list[LineResult]
    materials: list[MaterialExposure]
    restrictions: list[RestrictionHit]
    actions: list[Action]
    provenance: list[str]
    notes: list[str]

    @model_validator(mode="before")
    @classmethod
    def _count_lines(cls, data: Any) -> Any:
        """Results stored before ``lines_total`` existed held every line."""
        return _count_listed(data, "lines_total", "lines")


# ----------------------------------------------------------------------------- data
def _exports(con: duckdb.DuckDBPyConnection, codes: Sequence[str], year: int) -> pd.DataFrame:
    """Exports by exporter and code (tonnes; flows without a quantity left out)."""
    return con.execute(
        """
        SELECT exporter, hs6, sum(quantity_t) AS tonnes FROM trade
        WHERE year = $year AND list_contains($codes, hs6) AND quantity_t IS NOT NULL
        GROUP BY ALL
        """,
        {"year": year, "codes": sorted(set(codes))},
    ).df()


def _pv(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, tuple[float, int]]:
    """WGI political stability per country: the year's estimate, else the latest before."""
    rows = con.execute(
        """
        SELECT country, arg_max(estimate, year), max(year) FROM governance
        WHERE indicator = 'PV' AND year <= ? AND estimate IS NOT NULL AND NOT isnan(estimate)
        GROUP BY country
        """,
        [year],
    ).fetchall()
    return {str(c): (float(e), int(y)) for c, e, y in rows}


def _production(
    con: duckdb.DuckDBPyConnection, commodities: Iterable[str], year: int
) -> dict[tuple[str, str], float]:
    rows = con.execute(
        """
        SELECT commodity, country, quantity, unit FROM production
        WHERE year = ? AND list_contains(?, commodity) AND quantity IS NOT NULL
        """,
        [year, sorted(set(commodities))],
    ).fetchall()
    out: dict[tuple[str, str], float] = {}
    for commodity, country, quantity, unit in rows:
        factor = _PRODUCTION_TONNES.get(str(unit))
        if factor is not None:
            out[(str(commodity), str(country))] = float(quantity) * factor
    return out


def _wmd_series(material: Material, stage: Stage) -> str | None:
    """The production series that describes the same product as the stage's trade codes."""
    for commodity, paired in consumption_pairs(material):
        if paired.name == stage.name:
            return commodity
    return None


def _gpr_series(material: Material, stage: Stage) -> str | None:
    series = stage.wmd_commodity or material.wmd_commodity
    return series if series in set(supported_commodities()) else None


def _rows_of(
    frame: pd.DataFrame, *, text: Sequence[str], numbers: Sequence[str]
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples: the ``text`` columns as ``str``, then the ``numbers``
    columns as ``float`` (NaN kept), a column at a time (faster than row by row)."""
    columns = [*(frame[c].astype(str) for c in text), *(frame[c].astype(float) for c in numbers)]
    return zip(*columns, strict=True)


def _trade_codes(con: duckdb.DuckDBPyConnection, year: int) -> set[str]:
    rows = con.execute("SELECT DISTINCT hs6 FROM trade WHERE year = ?", [year]).fetchall()
    return {str(r[0]) for r in rows}


# ----------------------------------------------------------------------------- assessment
def _line_stage(line: SupplyLine, material: Material, codes_present: set[str]) -> Stage:
    """The stage a supply line is assessed at: the one stage rule,
    :meth:`~critmat.reference.materials.Catalogue.choose_stage` (the line's ``stage`` column,
    else the first stage with trade rows in the year, unshared codes first), else the first
    stage with HS codes: a line is still assessed, with empty trade figures, when the year has
    no trade rows for the material (the rule answers ``None`` there)."""

    def has_rows(stage: Stage) -> bool:
        return not codes_present.isdisjoint(stage.hs_codes)

    chosen = load_catalogue().choose_stage(Resolved(material, None), has_rows, line.stage)
    if chosen is not None:
        return chosen
    with_codes = [s for s in material.stages if s.hs_codes]
    if not with_codes:
        raise CritmatError(f"{material.name} has no stage with HS codes in the catalogue")
    return with_codes[0]


def _restriction_applies(
    r: Restriction, origin: str, codes: Sequence[str], dests: set[str]
) -> list[str] | None:
    """The HS codes by which ``r`` hits supply of ``codes`` from ``origin`` (or None).

    A measure hits when the origin imposes it, it targets every destination or one of
    ``dests`` (the supplier country, the company's importer set) and its HS codes overlap the
    line's; measures without HS codes (technology, equipment) never hit a supply line.
    """
    if r.country != origin:
        return None
    if not (r.targets_all or dests.intersection(r.targets)):
        return None
    shared = sorted(set(codes) & set(r.hs_codes))
    return shared or None


def _in_force_since(r: Restriction, day: date) -> date | None:
    """The first day of ``r``'s period of application that includes ``day`` (``r`` applies
    on ``day``): its effective date, or the day after a suspension that ended before ``day``."""
    if r.suspended_until is not None and r.suspended_until < day and r.effective is not None:
        return max(r.effective, r.suspended_until + timedelta(days=1))
    return r.effective


@dataclass(eq=False)
class _Profile:
    """The lines that share material, stage, HS codes and supplier country: they are looked
    through alike, so the work per line is a sum (tonnes, count, the first rows)."""

    material: Material
    stage: Stage
    codes: tuple[str, ...]
    supplier_country: str
    tonnes: float = 0.0
    lines: int = 0
    rows: list[int] = field(default_factory=list)  # the first MAX_LISTED_ROWS, ascending
    suppliers: list[str] = field(default_factory=list)  # the first two distinct names
    shares: dict[str, float] = field(default_factory=dict)  # a_o, largest first
    looked_through: bool = False
    notes: list[str] = field(default_factory=list)
    hhi_world: float | None = None
    geopolrisk: float | None = None
    supplier_country_geopolrisk: float | None = None

    @property
    def key(self) -> str:
        return f"{self.material.id}:{self.stage.name}"

    def add(self, line: SupplyLine) -> None:
        self.tonnes += line.quantity_t
        self.lines += 1
        if len(self.rows) < MAX_LISTED_ROWS:
            self.rows.append(line.row)
        if len(self.suppliers) < 2 and line.supplier not in self.suppliers:
            self.suppliers.append(line.supplier)


@dataclass(eq=False)
class _Hit:
    """A restriction's hit on one material: HS codes matched, tonnes, the profiles hit."""

    restriction: Restriction
    codes: set[str] = field(default_factory=set)
    tonnes: float = 0.0
    profiles: list[_Profile] = field(default_factory=list)


def _ratio(part: float, whole: float) -> float:
    """``part / whole``, 0 when ``whole`` is not positive (no division by zero from input)."""
    return part / whole if whole > 0 else 0.0


def _first_rows(profiles: Iterable[_Profile]) -> list[int]:
    """The smallest :data:`MAX_LISTED_ROWS` row numbers of ``profiles`` (each list ascending)."""
    return list(islice(heapq.merge(*(p.rows for p in profiles)), MAX_LISTED_ROWS))


def _profiles(
    supply: SupplyInput, codes_present: set[str]
) -> tuple[dict[tuple[str, str, tuple[str, ...], str], _Profile], list[_Profile]]:
    """One pass over the lines: their profiles (first appearance first) and, for the first
    :data:`MAX_LINE_RESULTS` lines, the profile of each."""
    catalogue = load_catalogue()
    stages: dict[tuple[str, str | None, str | None], tuple[Material, Stage, tuple[str, ...]]] = {}
    profiles: dict[tuple[str, str, tuple[str, ...], str], _Profile] = {}
    first: list[_Profile] = []
    for line in supply.lines:
        stage_key = (line.material_id, line.stage, line.hs_code)
        found = stages.get(stage_key)
        if found is None:
            material = catalogue.get(line.material_id)
            stage = _line_stage(line, material, codes_present)
            codes = (line.hs_code,) if line.hs_code else stage.hs_codes
            found = stages[stage_key] = (material, stage, tuple(codes))
        material, stage, codes = found
        key = (material.id, stage.name, codes, line.supplier_country)
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = _Profile(material, stage, codes, line.supplier_country)
        profile.add(line)
        if len(first) < MAX_LINE_RESULTS:
            first.append(profile)
    return profiles, first


def _line_result(line: SupplyLine, p: _Profile) -> LineResult:
    return LineResult(
        row=line.row,
        material_id=p.material.id,
        material_name=p.material.name,
        stage=p.stage.name,
        stage_label=p.stage.label,
        hs_codes=list(p.codes),
        supplier=line.supplier,
        supplier_country=p.supplier_country,
        tier=line.tier,
        share=line.share,
        quantity=line.quantity,
        unit=line.unit,
        quantity_t=line.quantity_t,
        looked_through=p.looked_through,
        origins=[
            OriginShare(
                country=o,
                share=a,
                tonnes=a * line.quantity_t,
                domestic=(o == p.supplier_country and p.looked_through),
            )
            for o, a in p.shares.items()
        ],
        hhi_world=p.hhi_world,
        geopolrisk=p.geopolrisk,
        supplier_country_geopolrisk=p.supplier_country_geopolrisk,
        notes=list(p.notes),
    )


class ScoreMemo:
    """GeoPolRisk HHI and score per (importer, WMD commodity, year), remembered for the
    current releases of the store (forgotten when they change).

    An assessment needs them for its importer and every supplier country; computing them
    (:func:`~critmat.risk.geopolrisk.geopolrisk_scores`) takes some 0.2 s however few they
    are. Whoever assesses many files keeps one memo and passes it to every assessment (the
    service's assessment workers, which live on between uploads, keep one each); without
    one, an assessment computes the scores it needs afresh.
    ``None`` stands for a figure without data (NaN in the scores frame).
    """

    MAX_ENTRIES = 200_000

    def __init__(self) -> None:
        self._releases: tuple[int, ...] | None = None
        self._known: dict[tuple[ImporterSet, str, int], tuple[float | None, float | None]] = {}

    def get(
        self,
        con: duckdb.DuckDBPyConnection,
        importers: Sequence[ImporterSet],
        commodities: Sequence[str],
        year: int,
    ) -> dict[tuple[ImporterSet, str], tuple[float | None, float | None]]:
        """(hhi, score) per (importer, commodity) of ``importers`` × ``commodities``."""
        releases = tuple(
            int(r[0])
            for r in con.execute(
                "SELECT release_id FROM releases WHERE is_current ORDER BY release_id"
            ).fetchall()
        )
        if releases != self._releases or len(self._known) > self.MAX_ENTRIES:
            self._releases, self._known = releases, {}
        missing = [
            who
            for who in dict.fromkeys(importers)
            if any((who, c, year) not in self._known for c in commodities)
        ]
        if missing:
            self._learn(con, missing, commodities, year)
        return {(who, c): self._known[(who, c, year)] for who in importers for c in commodities}

    def _learn(
        self,
        con: duckdb.DuckDBPyConnection,
        importers: Sequence[ImporterSet],
        commodities: Sequence[str],
        year: int,
    ) -> None:
        by_name: dict[str, list[ImporterSet]] = {}
        for who in importers:
            by_name.setdefault(who.name, []).append(who)
            for c in commodities:
                self._known[(who, c, year)] = (None, None)  # no row: no data
        scores = geopolrisk_scores(con, list(importers), list(commodities), [year])
        for commodity_name, importer_name, hhi_value, score in _rows_of(
            scores, text=("wmd_commodity", "importer"), numbers=("hhi", "score")
        ):
            found = (
                float(hhi_value) if hhi_value == hhi_value else None,
                float(score) if score == score else None,
            )
            for who in by_name[importer_name]:  # a supplier may share the importer's name
                self._known[(who, commodity_name, year)] = found


def assess_lines(
    con: duckdb.DuckDBPyConnection,
    supply: SupplyInput,
    *,
    importer: ImporterSet,
    year: int,
    on: date,
    scores: ScoreMemo | None = None,
) -> CompanyAssessment:
    """Assess ``supply`` for a company inside ``importer`` with the trade of ``year`` and the
    export restrictions in force on ``on`` (see the module docstring of
    :mod:`critmat.risk._company_method` for the equations). ``scores``: GeoPolRisk scores
    remembered from earlier assessments (a fresh memo when none is given).

    Linear in the number of lines: lines sharing material, stage, HS codes and supplier country
    (a *profile*) are looked through once and added up; per-line results are kept for the first
    :data:`MAX_LINE_RESULTS` lines, row lists for the first :data:`MAX_LISTED_ROWS` rows.
    """
    catalogue = load_catalogue()
    eu = eu_members()
    inside = set(importer.members)

    def third_of(country: str) -> bool:
        return country not in (eu if importer.inside_eu else inside)

    codes_present = _trade_codes(con, year)

    # 1. lines -> profiles (material, stage, codes, supplier country)
    profiles, first_profiles = _profiles(supply, codes_present)
    all_codes = sorted({c for p in profiles.values() for c in p.codes})
    suppliers = sorted({p.supplier_country for p in profiles.values()})

    # 2. data: imports of each supplier country, exports of everyone, production, PV, GPR
    flows = import_flows(con, [ImporterSet.country(s) for s in suppliers], all_codes, [year])
    flows = flows.loc[flows["quantity_t"].notna() & (flows["quantity_t"] > 0)]
    imports: dict[tuple[str, str], dict[str, float]] = {}
    for imp, hs6, origin, tonnes in _rows_of(
        flows, text=("importer", "hs6", "origin"), numbers=("quantity_t",)
    ):
        per = imports.setdefault((imp, hs6), {})
        per[origin] = per.get(origin, 0.0) + float(tonnes)
    exports_frame = _exports(con, all_codes, year)
    exports: dict[tuple[str, str], float] = {
        (exporter, hs6): float(tonnes)
        for exporter, hs6, tonnes in _rows_of(
            exports_frame, text=("exporter", "hs6"), numbers=("tonnes",)
        )
    }
    pairs = {(p.material.id, p.stage.name): (p.material, p.stage) for p in profiles.values()}
    wmd = {
        pair: series for pair, (m, s) in pairs.items() if (series := _wmd_series(m, s)) is not None
    }
    production = _production(con, set(wmd.values()), year) if wmd else {}
    pv = _pv(con, year)

    def weight(country: str) -> float:
        found = pv.get(country)
        return cm.instability(found[0] if found else None)

    gpr_series = {pair: _gpr_series(m, s) for pair, (m, s) in pairs.items()}
    hhi_world: dict[str, float] = {}
    supplier_score: dict[tuple[str, str], float] = {}
    wanted = sorted({c for c in gpr_series.values() if c})
    if wanted:
        importers = [importer, *(ImporterSet.country(s) for s in suppliers)]
        for (who, commodity_name), (hhi_value, score) in (
            (scores or ScoreMemo()).get(con, importers, wanted, year).items()
        ):
            if hhi_value is not None:
                hhi_world[commodity_name] = hhi_value
            if score is not None:
                supplier_score[(commodity_name, who.name)] = score

    # 3. per profile: look-through, notes, GeoPolRisk
    looked: dict[tuple[str, tuple[str, ...], str | None], tuple[dict[str, float], bool]] = {}
    for p in profiles.values():
        s, codes = p.supplier_country, p.codes
        pair = (p.material.id, p.stage.name)
        series = wmd.get(pair)
        if (s, codes, series) not in looked:
            merged: dict[str, float] = {}
            for code in codes:
                for origin, tonnes in imports.get((s, code), {}).items():
                    merged[origin] = merged.get(origin, 0.0) + tonnes
            x_s = sum(exports.get((s, code), 0.0) for code in codes)
            p_s = production.get((series, s), 0.0) if series else 0.0
            shares, _domestic, ok = cm.look_through_shares(s, merged, x_s, p_s)
            looked[(s, codes, series)] = (shares, ok)
        p.shares, p.looked_through = looked[(s, codes, series)]
        missing = [c for c in codes if c not in codes_present]
        if not p.looked_through:
            p.notes.append(
                f"no trade data for HS {', '.join(missing)} in {year}: not looked through"
                if missing
                else f"no recorded imports, exports or production of HS {', '.join(codes)} "
                f"for {s} in {year}: not looked through"
            )
        commodity = gpr_series.get(pair)
        p.hhi_world = hhi_world.get(commodity) if commodity else None
        weights = {o: weight(o) for o in p.shares}
        p.geopolrisk = (
            None
            if not p.looked_through and s in inside
            else cm.line_geopolrisk(p.hhi_world, p.shares, weights, inside)
        )
        p.supplier_country_geopolrisk = supplier_score.get((commodity, s)) if commodity else None
    line_results = [
        _line_result(line, p) for line, p in zip(supply.lines, first_profiles, strict=False)
    ]

    # 4. per material and stage
    restrictions: dict[str, list[Restriction]] = {}
    for r in load_restrictions():
        if r.active_on(on):
            restrictions.setdefault(r.country, []).append(r)
    eea = group_members("EEA")
    partners = group_members("STRATEGIC_PARTNERS")
    groups: dict[str, list[_Profile]] = {}
    for p in profiles.values():
        groups.setdefault(p.key, []).append(p)
    materials: list[MaterialExposure] = []
    hits: list[RestrictionHit] = []
    for gkey, members in groups.items():
        first = members[0]
        total = sum(p.tonnes for p in members)
        gcodes = sorted({c for p in members for c in p.codes})
        direct = cm.add_up((p.supplier_country, p.tonnes) for p in members)
        origin_t = cm.add_up((o, a * p.tonnes) for p in members for o, a in p.shares.items())
        origin_s = cm.shares_of(origin_t)
        top_country, top_share, over = cm.top_third(origin_s, {c: third_of(c) for c in origin_s})

        # restrictions on supply originating in the restricting country
        by_restriction: dict[str, _Hit] = {}
        for p in members:
            dests = inside | {p.supplier_country}
            for origin, a in p.shares.items():
                for restriction in restrictions.get(origin, ()):
                    matched = _restriction_applies(restriction, origin, gcodes, dests)
                    if matched is None:
                        continue
                    hit = by_restriction.get(restriction.id)
                    if hit is None:
                        hit = by_restriction[restriction.id] = _Hit(restriction)
                    hit.codes.update(matched)
                    hit.tonnes += a * p.tonnes
                    hit.profiles.append(p)
        restricted_origins = {h.restriction.country for h in by_restriction.values()}
        for hit in by_restriction.values():
            restriction = hit.restriction
            hits.append(
                RestrictionHit(
                    restriction_id=restriction.id,
                    country=restriction.country,
                    measure=restriction.measure,
                    title=restriction.title,
                    effective=restriction.effective,
                    in_force_since=_in_force_since(restriction, on),
                    confidence=restriction.confidence,
                    material_key=gkey,
                    material_name=first.material.name,
                    hs_codes=sorted(hit.codes),
                    tonnes=hit.tonnes,
                    share=_ratio(hit.tonnes, total),
                    rows=_first_rows(hit.profiles),
                    rows_total=sum(p.lines for p in hit.profiles),
                    sources=list(restriction.sources),
                )
            )

        # alternative origins: world exporters of the gcodes
        world = cm.add_up(
            (exporter, t) for (exporter, code), t in exports.items() if code in gcodes
        )
        world_total = sum(world.values())
        options: list[Option] = []
        for country, t in world.items():
            share = _ratio(t, world_total)
            if share < MIN_OPTION_SHARE or country == top_country:
                continue
            if country in restricted_origins:
                continue
            w = weight(country)
            found = pv.get(country)
            options.append(
                Option(
                    country=country,
                    exports_t=t,
                    export_share=share,
                    wgi_pv=found[0] if found else None,
                    instability=w,
                    eu=country in eu,
                    eea=country in eea,
                    strategic_partner=country in partners,
                    score=cm.option_score(share, w),
                )
            )
        options.sort(key=lambda op: (-op.score, op.country))
        materials.append(
            MaterialExposure(
                key=gkey,
                material_id=first.material.id,
                material_name=first.material.name,
                strategic=catalogue.is_strategic(first.material.id),
                stage=first.stage.name,
                stage_label=first.stage.label,
                hs_codes=gcodes,
                tonnes=total,
                lines=sum(p.lines for p in members),
                by_supplier_country=[
                    CountryShare(
                        country=c, tonnes=t, share=_ratio(t, total), third_country=third_of(c)
                    )
                    for c, t in direct.items()
                ],
                by_origin=[
                    CountryShare(country=c, tonnes=origin_t[c], share=sh, third_country=third_of(c))
                    for c, sh in origin_s.items()
                ],
                looked_through_share=_ratio(
                    sum(p.tonnes for p in members if p.looked_through), total
                ),
                top_third_country=top_country,
                top_third_share=top_share,
                exceeds_65=over,
                origin_hhi=cm.hhi(origin_s),
                hhi_world=first.hhi_world,
                geopolrisk=cm.weighted_mean((p.tonnes, p.geopolrisk) for p in members),
                options=options[:MAX_OPTIONS],
            )
        )
    materials.sort(key=lambda m: (-m.tonnes, m.key))
    hits.sort(key=lambda h: (-h.share, h.material_key, h.restriction_id))
    gaps = [p for p in profiles.values() if not p.looked_through]
    actions = _actions(materials, hits, gaps)
    notes: list[str] = []
    if gaps:
        notes.append(
            "lines without trade data stay with their supplier country (not looked through)"
        )
    notes.append(
        "look-through is one level on the line's own HS codes: the origin is where the supplier "
        "country imports the same product from, or the supplier country itself for what it "
        "makes (net exports, or World Mining Data production where the stage has a series)"
    )
    notes.append("tonnes are gross weights of the traded product, as in BACI")
    if len(supply.lines) > len(line_results):
        notes.append(
            f"per-line results are listed for the first {len(line_results):,} of "
            f"{len(supply.lines):,} lines; materials, restrictions and actions cover every line"
        )
    return CompanyAssessment(
        importer=importer.name,
        importer_members=sorted(importer.members),
        year=year,
        assessed_on=on,
        input_filename=supply.filename,
        input_sha256=supply.sha256,
        input_encoding=supply.encoding,
        total_tonnes=sum(p.tonnes for p in profiles.values()),
        lines_total=len(supply.lines),
        lines=line_results,
        materials=materials,
        restrictions=hits,
        actions=actions,
        provenance=[
            p.citation() for p in provenance_for(con, ["trade", "production", "governance"], [year])
        ],
        notes=notes,
    )


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %" if round(share * 100) != 65 else f"{share * 100:.1f} %"


def _rows_text(rows: Sequence[int], total: int, shown: int = 10) -> str:
    """ "8", "2, 5" or "2, 5, ... and 998 more": at most ``shown`` of ``total`` rows listed."""
    listed = ", ".join(str(r) for r in rows[:shown])
    more = total - min(len(rows), shown)
    return listed + (f" and {more:,} more" if more else "")


def _who(p: _Profile) -> str:
    """Who supplies a profile's lines, and where: "Terrafame (Finland, row 9)" or
    "several suppliers (Finland, 5 lines: rows 3, 4, 7, 8, 9)"."""
    from critmat.reference.countries import country_name

    country = country_name(p.supplier_country)
    if p.lines == 1:
        return f"{p.suppliers[0]} ({country}, row {p.rows[0]})"
    who = p.suppliers[0] if len(p.suppliers) == 1 else "several suppliers"
    return f"{who} ({country}, {p.lines:,} lines: rows {_rows_text(p.rows, p.lines)})"


def _actions(
    materials: Sequence[MaterialExposure],
    hits: Sequence[RestrictionHit],
    gaps: Sequence[_Profile],
) -> list[Action]:
    """Priority actions: concentration (1 above 65 %, 2 above :data:`WATCH_SHARE`),
    restrictions (1 when they hit at least 25 % of a material, else 2), and one data action (3)
    per profile of lines that could not be looked through."""
    from critmat.reference.countries import country_name

    actions: list[Action] = []
    for m in materials:
        label = m.material_name if m.stage_label == "" else f"{m.material_name} ({m.stage_label})"
        if m.top_third_country is None:
            continue
        top_name = country_name(m.top_third_country)
        alternatives = ", ".join(country_name(o.country) for o in m.options[:3])
        source = (
            f"qualify a second source from {alternatives}"
            if alternatives
            else "no alternative exporter in the trade data: ask suppliers for other origins"
        )
        if m.exceeds_65:
            priority, against_benchmark = 1, "above 65 %"
        elif m.top_third_share > WATCH_SHARE:
            priority, against_benchmark = 2, "approaching 65 %"
        else:
            continue
        actions.append(
            Action(
                priority=priority,
                kind="concentration",
                material_key=m.key,
                text=f"{label}: {_pct(m.top_third_share)} via {top_name}, "
                f"{against_benchmark}: {source}",
                tonnes=m.tonnes * m.top_third_share,
            )
        )
    grouped: dict[tuple[str, str], list[RestrictionHit]] = {}
    for h in hits:
        grouped.setdefault((h.material_key, h.country), []).append(h)
    for (material_key, country), group in grouped.items():
        top = max(group, key=lambda h: h.tonnes)
        measures = ", ".join(
            f"{h.measure.replace('_', ' ')} {h.restriction_id}" for h in group[:4]
        ) + (f" and {len(group) - 4} more" if len(group) > 4 else "")
        actions.append(
            Action(
                priority=1 if top.share >= 0.25 else 2,
                kind="restriction",
                material_key=material_key,
                text=f"{top.material_name}: {top.tonnes:,.0f} t ({_pct(top.share)}) originate in "
                f"{country_name(country)}, under export restrictions in force ({measures}): "
                "check the suppliers' export licences (rows "
                f"{_rows_text(top.rows, top.rows_total)}) and hold a buffer stock",
                tonnes=top.tonnes,
            )
        )
    for p in gaps:
        actions.append(
            Action(
                priority=3,
                kind="data",
                material_key=p.key,
                text=f"{p.material.name} from {_who(p)}: "
                f"{p.notes[0] if p.notes else 'not looked through'}; ask the "
                f"{'supplier' if len(p.suppliers) == 1 else 'suppliers'} where the material is "
                "mined and processed",
                tonnes=p.tonnes,
            )
        )
    actions.sort(key=lambda a: (a.priority, -a.tonnes, a.text))
    return actions


def assess_supply(
    store: Store,
    supply: SupplyInput,
    *,
    importer: str = "EU27",
    year: int | None = None,
    on: date | None = None,
    scores: ScoreMemo | None = None,
) -> CompanyAssessment:
    """Assess ``supply`` against the current releases: ``importer`` (EU27, a country, a group)
    is where the company sits, ``year`` the trade year (default: the latest with trade data),
    ``on`` the day whose export restrictions count (today unless given: the one "as of" rule,
    :func:`critmat.reference.restrictions.as_of`), ``scores`` as for :func:`assess_lines`."""
    importer_set = resolve_importer(importer)
    release = store.require_release("trade")
    assert release.year_min is not None and release.year_max is not None
    chosen = release.year_max if year is None else year
    check_year(chosen, release.year_min, release.year_max, "trade")
    return assess_lines(
        store.con, supply, importer=importer_set, year=chosen, on=as_of(on), scores=scores
    )
