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

from collections.abc import Iterable, Sequence
from datetime import date

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict

from critmat.errors import CritmatError
from critmat.indicators.consumption import consumption_pairs
from critmat.indicators.imports import ImporterSet, import_flows
from critmat.indicators.lookup import check_year, eu_members, resolve_importer
from critmat.indicators.provenance import provenance_for
from critmat.reference.countries import group_members
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.reference.restrictions import Restriction, load_restrictions
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
from critmat.risk._peer import WGI_CENTRE, WGI_MISSING, WGI_SPAN
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


class RestrictionHit(_Model):
    """A registered export restriction, in force on the assessment date, on supply that
    originates in the restricting country."""

    restriction_id: str
    country: str
    measure: str
    title: str
    effective: date | None
    confidence: str
    material_key: str
    material_name: str
    hs_codes: list[str]
    tonnes: float
    share: float
    rows: list[int]
    sources: list[str]


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
    lines: list[LineResult]
    materials: list[MaterialExposure]
    restrictions: list[RestrictionHit]
    actions: list[Action]
    provenance: list[str]
    notes: list[str]


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


def _trade_codes(con: duckdb.DuckDBPyConnection, year: int) -> set[str]:
    rows = con.execute("SELECT DISTINCT hs6 FROM trade WHERE year = ?", [year]).fetchall()
    return {str(r[0]) for r in rows}


# ----------------------------------------------------------------------------- assessment
def _line_stage(
    con: duckdb.DuckDBPyConnection, line: SupplyLine, material: Material, codes_present: set[str]
) -> Stage:
    if line.stage is not None:
        return material.stage(line.stage)
    with_data = [s for s in material.stages if set(s.hs_codes) & codes_present]
    catalogue = load_catalogue()
    own = [s for s in with_data if not catalogue.shared_with(material.id, s)]
    candidates = own or with_data or [s for s in material.stages if s.hs_codes]
    if not candidates:
        raise CritmatError(f"{material.name} has no stage with HS codes in the catalogue")
    return candidates[0]


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


def assess_lines(
    con: duckdb.DuckDBPyConnection,
    supply: SupplyInput,
    *,
    importer: ImporterSet,
    year: int,
    on: date,
) -> CompanyAssessment:
    """Assess ``supply`` for a company inside ``importer`` with the trade of ``year`` and the
    export restrictions in force on ``on`` (see the module docstring of
    :mod:`critmat.risk._company_method` for the equations)."""
    catalogue = load_catalogue()
    eu = eu_members()
    inside = set(importer.members)

    def third_of(country: str) -> bool:
        return country not in (eu if importer.inside_eu else inside)

    codes_present = _trade_codes(con, year)

    # 1. lines -> material, stage, codes
    resolved: list[tuple[SupplyLine, Material, Stage, tuple[str, ...]]] = []
    for line in supply.lines:
        material = catalogue.get(line.material_id)
        stage = _line_stage(con, line, material, codes_present)
        codes = (line.hs_code,) if line.hs_code else stage.hs_codes
        resolved.append((line, material, stage, codes))
    all_codes = sorted({c for *_x, codes in resolved for c in codes})
    suppliers = sorted({line.supplier_country for line, *_x in resolved})

    # 2. data: imports of each supplier country, exports of everyone, production, PV, GPR
    flows = import_flows(con, [ImporterSet.country(s) for s in suppliers], all_codes, [year])
    flows = flows.loc[flows["quantity_t"].notna() & (flows["quantity_t"] > 0)]
    imports: dict[tuple[str, str], dict[str, float]] = {}
    for imp, hs6, origin, tonnes in zip(
        flows["importer"].astype(str),
        flows["hs6"].astype(str),
        flows["origin"].astype(str),
        flows["quantity_t"].astype(float),
        strict=True,
    ):
        per = imports.setdefault((imp, hs6), {})
        per[origin] = per.get(origin, 0.0) + float(tonnes)
    exports_frame = _exports(con, all_codes, year)
    exports: dict[tuple[str, str], float] = {
        (exporter, hs6): float(tonnes)
        for exporter, hs6, tonnes in zip(
            exports_frame["exporter"].astype(str),
            exports_frame["hs6"].astype(str),
            exports_frame["tonnes"].astype(float),
            strict=True,
        )
    }
    wmd = {
        (m.id, s.name): series
        for _l, m, s, _c in resolved
        if (series := _wmd_series(m, s)) is not None
    }
    production = _production(con, set(wmd.values()), year) if wmd else {}
    pv = _pv(con, year)

    def weight(country: str) -> float:
        found = pv.get(country)
        return cm.instability(
            found[0] if found else None, float(WGI_CENTRE), float(WGI_SPAN), float(WGI_MISSING)
        )

    gpr_series = {(m.id, s.name): _gpr_series(m, s) for _l, m, s, _c in resolved}
    hhi_world: dict[str, float] = {}
    supplier_score: dict[tuple[str, str], float] = {}
    wanted = sorted({c for c in gpr_series.values() if c})
    if wanted:
        scores = geopolrisk_scores(
            con, [importer, *(ImporterSet.country(s) for s in suppliers)], wanted, [year]
        )
        for commodity_name, importer_name, hhi_value, score in zip(
            scores["wmd_commodity"].astype(str),
            scores["importer"].astype(str),
            scores["hhi"].astype(float),
            scores["score"].astype(float),
            strict=True,
        ):
            if hhi_value == hhi_value:
                hhi_world[commodity_name] = float(hhi_value)
            if score == score:
                supplier_score[(commodity_name, importer_name)] = float(score)

    # 3. per line
    notes: list[str] = []
    line_results: list[LineResult] = []
    cache: dict[tuple[str, tuple[str, ...], str | None], tuple[dict[str, float], bool]] = {}
    for line, material, stage, codes in resolved:
        s = line.supplier_country
        series = wmd.get((material.id, stage.name))
        cache_key = (s, codes, series)
        if cache_key not in cache:
            merged: dict[str, float] = {}
            for code in codes:
                for origin, tonnes in imports.get((s, code), {}).items():
                    merged[origin] = merged.get(origin, 0.0) + tonnes
            x_s = sum(exports.get((s, code), 0.0) for code in codes)
            p_s = production.get((series, s), 0.0) if series else 0.0
            shares, _domestic, ok = cm.look_through_shares(s, merged, x_s, p_s)
            cache[cache_key] = (shares, ok)
        shares, ok = cache[cache_key]
        line_notes: list[str] = []
        missing = [c for c in codes if c not in codes_present]
        if not ok:
            if missing:
                line_notes.append(
                    f"no trade data for HS {', '.join(missing)} in {year}: not looked through"
                )
            else:
                line_notes.append(
                    f"no recorded imports, exports or production of HS {', '.join(codes)} "
                    f"for {s} in {year}: not looked through"
                )
        commodity = gpr_series.get((material.id, stage.name))
        hhi = hhi_world.get(commodity) if commodity else None
        weights = {o: weight(o) for o in shares}
        line_results.append(
            LineResult(
                row=line.row,
                material_id=material.id,
                material_name=material.name,
                stage=stage.name,
                stage_label=stage.label,
                hs_codes=list(codes),
                supplier=line.supplier,
                supplier_country=s,
                tier=line.tier,
                share=line.share,
                quantity=line.quantity,
                unit=line.unit,
                quantity_t=line.quantity_t,
                looked_through=ok,
                origins=[
                    OriginShare(
                        country=o,
                        share=a,
                        tonnes=a * line.quantity_t,
                        domestic=(o == s and ok),
                    )
                    for o, a in shares.items()
                ],
                hhi_world=hhi,
                geopolrisk=None
                if not ok and s in inside
                else cm.line_geopolrisk(hhi, shares, weights, inside),
                supplier_country_geopolrisk=supplier_score.get((commodity, s))
                if commodity
                else None,
                notes=line_notes,
            )
        )

    # 4. per material and stage
    restrictions = [r for r in load_restrictions() if r.active_on(on)]
    eea = group_members("EEA")
    partners = group_members("STRATEGIC_PARTNERS")
    groups: dict[str, list[LineResult]] = {}
    for result in line_results:
        groups.setdefault(f"{result.material_id}:{result.stage}", []).append(result)
    materials: list[MaterialExposure] = []
    hits: list[RestrictionHit] = []
    for gkey, members in groups.items():
        first = members[0]
        total = sum(lr.quantity_t for lr in members)
        gcodes = sorted({c for lr in members for c in lr.hs_codes})
        direct = cm.add_up((lr.supplier_country, lr.quantity_t) for lr in members)
        origin_t = cm.add_up((o.country, o.tonnes) for lr in members for o in lr.origins)
        origin_s = cm.shares_of(origin_t)
        top_country, top_share, over = cm.top_third(origin_s, {c: third_of(c) for c in origin_s})

        # restrictions on supply originating in the restricting country
        by_restriction: dict[str, tuple[Restriction, list[str], float, list[int]]] = {}
        for lr in members:
            dests = inside | {lr.supplier_country}
            for o in lr.origins:
                for restriction in restrictions:
                    matched = _restriction_applies(restriction, o.country, gcodes, dests)
                    if matched is None:
                        continue
                    _r, prev_codes, tonnes, rows = by_restriction.get(
                        restriction.id, (restriction, [], 0.0, [])
                    )
                    by_restriction[restriction.id] = (
                        restriction,
                        sorted(set(prev_codes) | set(matched)),
                        tonnes + o.tonnes,
                        sorted({*rows, lr.row}),
                    )
        restricted_origins = {rr.country for rr, *_x in by_restriction.values()}
        for restriction, matched_codes, tonnes, rows in by_restriction.values():
            hits.append(
                RestrictionHit(
                    restriction_id=restriction.id,
                    country=restriction.country,
                    measure=restriction.measure,
                    title=restriction.title,
                    effective=restriction.effective,
                    confidence=restriction.confidence,
                    material_key=gkey,
                    material_name=first.material_name,
                    hs_codes=matched_codes,
                    tonnes=tonnes,
                    share=tonnes / total if total > 0 else 0.0,
                    rows=rows,
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
            share = t / world_total if world_total > 0 else 0.0
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
                material_id=first.material_id,
                material_name=first.material_name,
                strategic=catalogue.is_strategic(first.material_id),
                stage=first.stage,
                stage_label=first.stage_label,
                hs_codes=gcodes,
                tonnes=total,
                lines=len(members),
                by_supplier_country=[
                    CountryShare(country=c, tonnes=t, share=t / total, third_country=third_of(c))
                    for c, t in direct.items()
                ],
                by_origin=[
                    CountryShare(country=c, tonnes=origin_t[c], share=sh, third_country=third_of(c))
                    for c, sh in origin_s.items()
                ],
                looked_through_share=sum(lr.quantity_t for lr in members if lr.looked_through)
                / total,
                top_third_country=top_country,
                top_third_share=top_share,
                exceeds_65=over,
                origin_hhi=cm.hhi(origin_s),
                hhi_world=first.hhi_world,
                geopolrisk=cm.weighted_mean((lr.quantity_t, lr.geopolrisk) for lr in members),
                options=options[:MAX_OPTIONS],
            )
        )
    materials.sort(key=lambda m: (-m.tonnes, m.key))
    hits.sort(key=lambda h: (-h.share, h.material_key, h.restriction_id))
    actions = _actions(materials, hits, line_results)
    if any(not r.looked_through for r in line_results):
        notes.append(
            "lines without trade data stay with their supplier country (not looked through)"
        )
    notes.append(
        "look-through is one level on the line's own HS codes: the origin is where the supplier "
        "country imports the same product from, or the supplier country itself for what it "
        "makes (net exports, or World Mining Data production where the stage has a series)"
    )
    notes.append("tonnes are gross weights of the traded product, as in BACI")
    return CompanyAssessment(
        importer=importer.name,
        importer_members=sorted(importer.members),
        year=year,
        assessed_on=on,
        input_filename=supply.filename,
        input_sha256=supply.sha256,
        input_encoding=supply.encoding,
        total_tonnes=sum(r.quantity_t for r in line_results),
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


def _actions(
    materials: Sequence[MaterialExposure],
    hits: Sequence[RestrictionHit],
    lines: Sequence[LineResult],
) -> list[Action]:
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
            actions.append(
                Action(
                    priority=1,
                    kind="concentration",
                    material_key=m.key,
                    text=f"{label}: {_pct(m.top_third_share)} via {top_name}, above 65 %: {source}",
                    tonnes=m.tonnes * m.top_third_share,
                )
            )
        elif m.top_third_share > WATCH_SHARE:
            actions.append(
                Action(
                    priority=2,
                    kind="concentration",
                    material_key=m.key,
                    text=f"{label}: {_pct(m.top_third_share)} via {top_name}, approaching "
                    f"65 %: {source}",
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
                f"{', '.join(str(r) for r in top.rows[:10])}) and hold a buffer stock",
                tonnes=top.tonnes,
            )
        )
    for r in lines:
        if not r.looked_through:
            actions.append(
                Action(
                    priority=3,
                    kind="data",
                    material_key=f"{r.material_id}:{r.stage}",
                    text=f"{r.material_name} from {r.supplier} ({country_name(r.supplier_country)}"
                    f", row {r.row}): {r.notes[0] if r.notes else 'not looked through'}; ask the "
                    "supplier where the material is mined and processed",
                    tonnes=r.quantity_t,
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
) -> CompanyAssessment:
    """Assess ``supply`` against the current releases: ``importer`` (EU27, a country, a group)
    is where the company sits, ``year`` the trade year (default: the latest with trade data),
    ``on`` the day whose export restrictions count (default: today)."""
    importer_set = resolve_importer(importer)
    release = store.require_release("trade")
    assert release.year_min is not None and release.year_max is not None
    chosen = release.year_max if year is None else year
    check_year(chosen, release.year_min, release.year_max, "trade")
    return assess_lines(
        store.con, supply, importer=importer_set, year=chosen, on=on or date.today()
    )
