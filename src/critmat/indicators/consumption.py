"""Apparent consumption and import reliance of an importer set.

For a set S, a material whose production P_S(y) is the sum of World Mining Data output of the
members of S, and the HS codes K that carry the same product in trade:

    M   = imports into S from outside S (tonnes, codes K)
    X   = exports from S to outside S (tonnes, codes K)
    AC  = P + M - X                          apparent consumption
    IR  = (M - X) / AC                       import reliance (EU criticality methodology, 2017)

Production and trade rarely measure the same thing: WMD reports metal or oxide content, BACI the
gross weight of the traded product (copper concentrate holds about a quarter of its weight in
copper). :func:`apparent_consumption_many` therefore compares them on one basis: each traded
code's tonnes are multiplied by its content factor
(:mod:`critmat.reference.content_factors`: stoichiometry, typical grade, or 1 where production
and trade count the same product), and M, X, AC and IR are computed on content,

    M_c = Σ_k f_k · M_k        X_c = Σ_k f_k · X_k        AC = P + M_c − X_c
    IR  = (M_c − X_c) / AC     IR_low, IR_high: the same with the factors' low and high ends

A series with a code that has no content factor gets no IR ("no content factor"). An IR outside
0..1 is never shown as a bare percentage: ``import_reliance`` is then ``None``,
``ir_out_of_range`` is true, ``import_reliance_computed`` keeps the value and ``ir_reason`` says
why (a net exporter: exports exceed imports; or exports exceed production plus imports).
:func:`apparent_consumption` (one commodity, no material) stays on gross weight and marks every
row ``estimated``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from critmat.indicators.imports import ImporterSet, _sets_frame
from critmat.indicators.trade_sources import TradeSource, source_for_year, trade_sources
from critmat.reference.content_factors import ContentFactor, content_factor, on_production_basis
from critmat.reference.materials import Material, Stage
from critmat.store import Store

if TYPE_CHECKING:
    from critmat.indicators.stage_production import StageProduction


def _flow_sums(flow: str, inside: str, outside: str) -> str:
    """SQL summing the trade of each pair's codes whose ``inside`` party is in the set and
    whose ``outside`` party is not (imports: importer in, exporter out), gross and content."""
    content = ", ".join(
        f"coalesce(sum(t.quantity_t * c.{factor}), 0) AS {flow}_content_{end}"
        for factor, end in (("factor", "t"), ("factor_low", "low"), ("factor_high", "high"))
    )
    return f"""
        SELECT c.series, s.importer, t.year, coalesce(sum(t.quantity_t), 0) AS {flow}_t,
               {content}
        FROM trade t JOIN _pairs c ON t.hs6 = c.hs6 JOIN _sets s ON t.{inside} = s.member
        ANTI JOIN _sets s2 ON s2.importer = s.importer AND s2.member = t.{outside}
        GROUP BY ALL
    """


_CONSUMPTION_SQL = f"""
    WITH series AS (SELECT DISTINCT series, commodity FROM _pairs),
    prod AS (
        SELECT r.series, s.importer, p.year, coalesce(sum(p.quantity), 0) AS production,
               any_value(p.unit) AS production_unit
        FROM production p
        JOIN series r ON p.commodity = r.commodity
        JOIN _sets s ON p.country = s.member
        WHERE p.unit IN ('metr. t', 't')
        GROUP BY ALL
    ),
    produced_years AS (  -- years in which the commodity has any production figure at all
        SELECT DISTINCT r.series, p.year
        FROM production p JOIN series r ON p.commodity = r.commodity
        WHERE p.quantity IS NOT NULL AND p.unit IN ('metr. t', 't')
    ),
    imp AS ({_flow_sums("imports", "importer", "exporter")}),
    exp AS ({_flow_sums("exports", "exporter", "importer")}),
    traded_years AS (SELECT series, year FROM imp UNION SELECT series, year FROM exp),
    grid AS (
        SELECT y.series, s.importer, y.year
        FROM produced_years y
        JOIN traded_years USING (series, year)
        CROSS JOIN (SELECT DISTINCT importer FROM _sets) s
    )
    SELECT g.series, g.importer, g.year,
           coalesce(prod.production, 0) AS production,
           coalesce(prod.production_unit, 'metr. t') AS production_unit,
           coalesce(imp.imports_t, 0) AS imports_t,
           coalesce(exp.exports_t, 0) AS exports_t,
           coalesce(imp.imports_content_t, 0) AS imports_content_t,
           coalesce(exp.exports_content_t, 0) AS exports_content_t,
           coalesce(imp.imports_content_low, 0) AS imports_content_low,
           coalesce(exp.exports_content_low, 0) AS exports_content_low,
           coalesce(imp.imports_content_high, 0) AS imports_content_high,
           coalesce(exp.exports_content_high, 0) AS exports_content_high
    FROM grid g
    LEFT JOIN prod USING (series, importer, year)
    LEFT JOIN imp USING (series, importer, year)
    LEFT JOIN exp USING (series, importer, year)
    WHERE $years IS NULL OR list_contains($years, g.year)
    ORDER BY g.series, g.importer, g.year
"""


def _consumption(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    pairs: pd.DataFrame,
    years: Sequence[int] | None,
) -> pd.DataFrame:
    """Run the consumption query for ``pairs`` (columns ``series, commodity, hs6`` and, for the
    content basis, ``factor, factor_low, factor_high``), gross weight and content sums."""
    if "factor" not in pairs:
        pairs = pairs.assign(factor=1.0, factor_low=1.0, factor_high=1.0)
    con.register("_sets", _sets_frame(importers))
    con.register("_pairs", pairs)
    try:
        frame = con.execute(
            _CONSUMPTION_SQL, {"years": None if years is None else list(years)}
        ).df()
    finally:
        con.unregister("_sets")
        con.unregister("_pairs")
    return frame


def apparent_consumption(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    commodity: str,
    hs_codes: Iterable[str],
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Production, extra-set imports and exports, apparent consumption and import reliance.

    Returns columns ``importer, year, production, production_unit, imports_t, exports_t,
    apparent_consumption, import_reliance, ir_out_of_range, estimated`` for each importer set
    and each year in which both production and trade data exist. Tonnes throughout (the
    production unit is kept in ``production_unit``; series whose unit is not metric tonnes are
    left out, since adding them to tonnes would be meaningless).
    """
    codes = sorted(set(hs_codes))
    pairs = pd.DataFrame({"series": "0", "commodity": commodity, "hs6": codes})
    frame = _consumption(con, importers, pairs, years)
    content = [c for c in frame.columns if "_content_" in c]
    return _add_reliance(frame.drop(columns=["series", *content]))


def _add_reliance(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["apparent_consumption"] = frame["production"] + frame["imports_t"] - frame["exports_t"]
    net_imports = frame["imports_t"] - frame["exports_t"]
    consumption = frame["apparent_consumption"]
    frame["import_reliance"] = (net_imports / consumption).where(consumption > 0)
    frame["ir_out_of_range"] = (
        ~frame["import_reliance"].between(0, 1) & frame["import_reliance"].notna()
    )
    frame["estimated"] = True
    return frame


def consumption_pairs(material: Material) -> list[tuple[str, Stage]]:
    """(WMD commodity, stage) pairs whose production and trade describe the same product.

    A stage that names its own WMD series (``Stage.wmd_commodity``, e.g. primary aluminium)
    pairs with it; the material's main WMD series (mostly mine production) pairs with its
    ``extraction`` stage unless a stage already claims it. Stages without HS codes are skipped.
    """
    pairs = [(s.wmd_commodity, s) for s in material.stages if s.wmd_commodity and s.hs_codes]
    claimed = {commodity for commodity, _stage in pairs}
    main = material.wmd_commodity
    if main is not None and main not in claimed:
        extraction = next((s for s in material.stages if s.name == "extraction"), None)
        if extraction is not None and extraction.hs_codes:
            pairs.append((main, extraction))
    return pairs


def apparent_consumption_many(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    materials: Sequence[Material],
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Apparent consumption and import reliance on the content basis (module docstring) for
    every pair of :func:`consumption_pairs`, in one query.

    Columns: ``material, stage, commodity, importer, year, production, production_unit,
    imports_t, exports_t`` (gross weight), ``imports_content_t, exports_content_t``,
    ``apparent_consumption`` (content), ``import_reliance`` (``None`` outside 0..1 or without
    factors), ``import_reliance_low, import_reliance_high``, ``import_reliance_computed``,
    ``ir_out_of_range``, ``ir_reason``, ``content_factors`` (the factors used, described),
    ``estimated``.
    """
    rows = []
    described: dict[str, str] = {}
    for material in materials:
        for commodity, stage in consumption_pairs(material):
            key = f"{material.id}/{stage.name}"
            factors = {code: content_factor(code, material.id) for code in stage.hs_codes}
            described[key] = _describe(factors)
            for hs6, found in factors.items():
                rows.append((key, material.id, stage.name, commodity, hs6, *_ends(found)))
    columns = ["series", "material", "stage", "commodity", "hs6"]
    columns += ["factor", "factor_low", "factor_high"]
    pairs = pd.DataFrame(rows, columns=columns)
    labels = pairs[["series", "material", "stage", "commodity"]].drop_duplicates()
    pair_columns = ["series", "commodity", "hs6", "factor", "factor_low", "factor_high"]
    frame = _consumption(con, importers, pairs[pair_columns], years)
    missing = set(pairs.loc[pairs["factor"].isna(), "series"])
    frame = _content_reliance(frame, missing)
    frame["content_factors"] = frame["series"].map(described)
    merged = labels.merge(frame, on="series").drop(columns=["series"])
    return merged.reset_index(drop=True)


def _ends(factor: ContentFactor | None) -> tuple[float | None, float | None, float | None]:
    if factor is None:
        return None, None, None
    return factor.factor, factor.factor_low, factor.factor_high


def _describe(factors: dict[str, ContentFactor | None], revision: str = "HS92") -> str:
    return "; ".join(
        f.describe() if f is not None else f"{revision} {code}: no content factor"
        for code, f in factors.items()
    )


def _reliance(production: pd.Series, imports: pd.Series, exports: pd.Series) -> pd.Series:
    consumption = production + imports - exports
    return ((imports - exports) / consumption).where(consumption > 0)


def _content_reliance(frame: pd.DataFrame, without_factor: set[str]) -> pd.DataFrame:
    """IR on the content basis with its range and the reason when it is outside 0..1."""
    frame = frame.copy()
    no_factor = frame["series"].isin(without_factor)
    for column in ("imports_content_t", "exports_content_t"):
        frame[column] = frame[column].where(~no_factor)
    production = frame["production"]
    frame["apparent_consumption"] = (
        production + frame["imports_content_t"] - frame["exports_content_t"]
    )
    computed = _reliance(production, frame["imports_content_t"], frame["exports_content_t"])
    ends = [
        _reliance(production, frame[f"imports_content_{end}"], frame[f"exports_content_{end}"])
        for end in ("low", "high")
    ]
    inside = computed.between(0, 1)
    frame["import_reliance"] = computed.where(inside)
    frame["import_reliance_low"] = pd.concat(ends, axis=1).min(axis=1).where(inside)
    frame["import_reliance_high"] = pd.concat(ends, axis=1).max(axis=1).where(inside)
    frame["import_reliance_computed"] = computed
    frame["ir_out_of_range"] = ~inside & ~no_factor
    frame["ir_reason"] = [
        _reason(bool(n), ac, ir)
        for n, ac, ir in zip(no_factor, frame["apparent_consumption"], computed, strict=True)
    ]
    frame["estimated"] = True
    ends_columns = [c for c in frame.columns if c.endswith(("_content_low", "_content_high"))]
    return frame.drop(columns=ends_columns)


def _reason(no_factor: bool, consumption: float, reliance: float) -> str | None:
    """Why a content-basis import reliance is not shown as a percentage (``None``: it is)."""
    if no_factor:
        return (
            "no content factor for a traded code: its gross weight is not compared with "
            "production in content"
        )
    if not consumption > 0:
        return (
            "exports exceed production + imports (content basis): apparent consumption is not "
            "positive (stocks, re-exports of other origins or an unlike basis)"
        )
    if reliance < 0:
        return (
            "net exporter: exports exceed imports (content basis), so production covers "
            "consumption and the rest is exported: no import reliance"
        )
    return None


# -- import reliance at one value-chain stage ------------------------------------------------
#: Columns of :func:`stage_reliance`, one row per year (or one "no data" row for the stage).
STAGE_COLUMNS = (
    "material",
    "stage",
    "importer",
    "year",
    "status",
    "production_t",
    "production_dataset",
    "production_series",
    "production_release_id",
    "production_release",
    "production_commodity",
    "production_stage",
    "production_basis",
    "production_note",
    "trade_series",
    "trade_release_id",
    "trade_release",
    "hs_codes",
    "imports_t",
    "exports_t",
    "imports_content_t",
    "exports_content_t",
    "apparent_consumption",
    "import_reliance",
    "import_reliance_low",
    "import_reliance_high",
    "import_reliance_computed",
    "ir_out_of_range",
    "ir_reason",
    "content_factors",
    "estimated",
)

#: Trade of the stage's codes into and out of the importer set, per year (one trade series per
#: year: ``_rel_pairs`` holds each year's series and codes with their factors). Flows between
#: two members, and between two outsiders, are neither imports nor exports.
_STAGE_TRADE_SQL = """
    WITH flows AS (
        SELECT p.year, t.quantity_t, p.factor, p.factor_low, p.factor_high,
               i.member IS NOT NULL AND e.member IS NULL AS is_import,
               e.member IS NOT NULL AND i.member IS NULL AS is_export
        FROM trade_all t
        JOIN _rel_pairs p ON t.series = p.series AND t.year = p.year AND t.hs6 = p.hs6
        LEFT JOIN _rel_members i ON t.importer = i.member
        LEFT JOIN _rel_members e ON t.exporter = e.member
    )
    SELECT year,
           coalesce(sum(quantity_t) FILTER (WHERE is_import), 0) AS imports_t,
           coalesce(sum(quantity_t) FILTER (WHERE is_export), 0) AS exports_t,
           coalesce(sum(quantity_t * factor) FILTER (WHERE is_import), 0) AS imports_content_t,
           coalesce(sum(quantity_t * factor) FILTER (WHERE is_export), 0) AS exports_content_t,
           coalesce(sum(quantity_t * factor_low) FILTER (WHERE is_import), 0)
               AS imports_content_low,
           coalesce(sum(quantity_t * factor_low) FILTER (WHERE is_export), 0)
               AS exports_content_low,
           coalesce(sum(quantity_t * factor_high) FILTER (WHERE is_import), 0)
               AS imports_content_high,
           coalesce(sum(quantity_t * factor_high) FILTER (WHERE is_export), 0)
               AS exports_content_high
    FROM flows
    GROUP BY year
"""


@dataclass(frozen=True)
class _YearProduction:
    """The importer set's production at the stage in one year, from the year's one series:
    ``tonnes`` ``None`` when it is missing (``reason`` says why), never 0 for missing."""

    answer: StageProduction
    tonnes: float | None
    reason: str | None
    note: str


def _set_production(answer: StageProduction, importer: ImporterSet) -> _YearProduction:
    """Sum the members' rows of one series-year (module docstring of
    :mod:`critmat.indicators.stage_production`: withheld and not available are NaN).

    USGS and the IEA list the main producers and put the rest in "other countries" (ROW), so a
    set none of whose members is listed has no production figure there (``None``, with the ROW
    tonnes as the bound) — unless ROW is a reported 0 t; World Mining Data lists every
    producing country, so no member row there means no production (0 t, said in the note)."""
    countries = answer.countries
    rows = countries[countries["country"].isin(importer.members)]
    missing = rows.loc[rows["quantity_t"].isna(), "country"].tolist()
    where = f"{answer.series} '{answer.commodity}' {answer.production_stage} {answer.year}"
    row_t = countries.loc[countries["country"] == "ROW", "quantity_t"].dropna()
    bound = f"{row_t.iloc[0]:,.0f} t" if len(row_t) else "no figure"
    if missing:
        reason = (
            f"{importer.name} production is missing: {', '.join(missing)} withheld or not "
            f"available in {where} (no data, not 0)"
        )
        return _YearProduction(answer, None, reason, "")
    nobody_else = len(row_t) > 0 and float(row_t.iloc[0]) == 0.0
    if rows.empty and answer.dataset != "production" and not nobody_else:
        reason = (
            f"no data: no {importer.name} member is listed in {where}; their output, if any, is "
            f"inside the publisher's 'other countries' (ROW: {bound}), so it is not known (not 0)"
        )
        return _YearProduction(answer, None, reason, "")
    listed = ", ".join(rows["country"]) or "none"
    note = f"{importer.name} members listed in {where}: {listed}"
    if answer.dataset == "production":
        note += " (World Mining Data lists every producing country: the others produce none)"
    elif nobody_else:
        note += "; the publisher's 'other countries' (ROW) is 0 t: members not listed produce none"
    else:
        note += f"; members not listed are inside 'other countries' (ROW: {bound})"
    return _YearProduction(answer, float(rows["quantity_t"].sum()), None, note)


def _stage_factors(
    material: Material, source: TradeSource, basis: str
) -> dict[str, ContentFactor | None]:
    """The content factor for ``material`` of each of the source's codes with rows, on the
    production series' basis (:func:`critmat.reference.content_factors.on_production_basis`)."""
    return {
        code: on_production_basis(content_factor(code, material.id, source.series), basis)
        for code in source.hs_codes
        if code in source.found  # a code without rows adds nothing and needs no factor
    }


def _no_data_row(
    material: Material, stage: Stage, importer: ImporterSet, reason: str
) -> dict[str, Any]:
    return {
        "material": material.id,
        "stage": stage.name,
        "importer": importer.name,
        "year": None,
        "status": "no data",
        "ir_out_of_range": False,
        "ir_reason": reason,
        "estimated": True,
    }


def _production_years(
    store: Store, material: Material, stage: Stage, years: Sequence[int] | None
) -> tuple[list[int], str | None]:
    """The years the stage's production series hold (within ``years``), or why there is none."""
    where = f"{material.name} · {stage.name}"
    if not stage.production:
        return [], f"no data: the catalogue names no production series for {where}"
    from critmat.indicators.stage_production import stage_production_years  # imports lookup

    held = stage_production_years(store.con, material, stage)
    if not held:
        tried = "; ".join(f"{ref.series} '{ref.commodity}' {ref.stage}" for ref in stage.production)
        return [], f"no data: no production figures for {where} in the store (tried {tried})"
    wanted = held if years is None else [y for y in held if y in set(years)]
    if not wanted:
        span = f"{held[0]}–{held[-1]}"
        return [], f"no data: the production series of {where} hold {span}, not the years asked"
    return wanted, None


def stage_reliance(
    store: Store,
    importer: ImporterSet,
    material: Material,
    stage: Stage,
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Apparent consumption and import reliance of ``importer`` at one value-chain ``stage``:
    the stage's own production against the trade of the stage's own HS codes, on one basis.

    For each year its production series holds (the first of ``Stage.production`` with the
    year, :mod:`critmat.indicators.stage_production`) and a trade release covers (HS17 where
    the stage has codes with rows that year, else HS92:
    :func:`critmat.indicators.trade_sources.source_for_year`):

        P    = Σ production of the members (tonnes; missing → no data, never 0)
        M_c  = Σ_k f_k · M_k,  X_c = Σ_k f_k · X_k   (content factors of the code's revision,
                                                      f = 1 where production counts gross weight)
        AC   = P + M_c − X_c,  IR = (M_c − X_c) / AC

    shown when 0 ≤ IR ≤ 1, else ``None`` with ``ir_reason`` (a net exporter...). Columns
    :data:`STAGE_COLUMNS`; a stage with no year of data gives one row with ``year`` ``None``,
    ``status`` "no data" and the reason. Every row names its production series, release and
    stage and its trade series, release and codes.
    """
    wanted, reason = _production_years(store, material, stage, years)
    if reason is not None:
        return _frame([_no_data_row(material, stage, importer, reason)])
    from critmat.indicators.stage_production import stage_production  # imports lookup

    sources = trade_sources(store, material, stage, stage.hs_codes)
    rows: list[dict[str, Any]] = []
    pairs: list[tuple[int, str, str, float | None, float | None, float | None]] = []
    for year in wanted:
        production = _set_production(stage_production(store.con, material, stage, year), importer)
        source = source_for_year(sources, year)
        row = _production_fields(material, stage, importer, production)
        if source.covers(year):
            factors = _stage_factors(material, source, production.answer.basis)
            pairs += [(year, source.series, code, *_ends(f)) for code, f in factors.items()]
            row |= {
                "trade_series": source.series,
                "trade_release_id": int(source.release.release_id),
                "trade_release": source.release.citation(),
                "hs_codes": ",".join(source.hs_codes),
                "content_factors": _describe(factors, source.series),
                "_no_factor": any(f is None for f in factors.values()),
            }
        else:
            codes = ", ".join(source.hs_codes) or "none"
            row["_trade_reason"] = (
                f"no data: no trade release holds {year} with rows for the stage's codes ({codes})"
            )
        rows.append(row)
    trade = _stage_trade(store, importer, pairs)
    frame = pd.DataFrame(rows).merge(trade, on="year", how="left")
    return _frame(_stage_figures(frame).to_dict("records"))


def _production_fields(
    material: Material, stage: Stage, importer: ImporterSet, production: _YearProduction
) -> dict[str, Any]:
    answer = production.answer
    return {
        "material": material.id,
        "stage": stage.name,
        "importer": importer.name,
        "year": answer.year,
        "production_t": production.tonnes,
        "production_dataset": answer.dataset,
        "production_series": answer.series,
        "production_release_id": int(answer.release_id) if answer.release_id else None,
        "production_release": answer.release_version or None,
        "production_commodity": answer.commodity,
        "production_stage": answer.production_stage,
        "production_basis": answer.basis,
        "production_note": production.note,
        "_production_reason": production.reason,
    }


def _stage_trade(
    store: Store,
    importer: ImporterSet,
    pairs: Sequence[tuple[int, str, str, float | None, float | None, float | None]],
) -> pd.DataFrame:
    """Imports and exports (gross and content) of every (year, series, code) of ``pairs``."""
    columns = ["year", "series", "hs6", "factor", "factor_low", "factor_high"]
    frame = pd.DataFrame(list(pairs), columns=columns).astype(
        {"year": "int64", "factor": "float64", "factor_low": "float64", "factor_high": "float64"}
    )
    members = pd.DataFrame({"member": sorted(importer.members)})
    store.con.register("_rel_pairs", frame)
    store.con.register("_rel_members", members)
    try:
        found = store.con.execute(_STAGE_TRADE_SQL).df()
    finally:
        store.con.unregister("_rel_pairs")
        store.con.unregister("_rel_members")
    years = pd.DataFrame({"year": sorted({int(y) for y in frame["year"]})}, dtype="int64")
    return years.merge(found, on="year", how="left").fillna(0.0)


def _stage_figures(frame: pd.DataFrame) -> pd.DataFrame:
    """Consumption, IR, its range and the reason of every row (production or trade missing
    override the reasons of :func:`_content_reliance`)."""
    for column in ("_no_factor", "_trade_reason", "_production_reason", "trade_series"):
        if column not in frame:
            frame[column] = None
    frame["series"] = frame["year"].astype(str)
    frame["production"] = frame["production_t"].astype(float)
    no_factor = set(frame.loc[frame["_no_factor"].eq(True), "series"])
    out = _content_reliance(frame, no_factor)
    missing = out["_production_reason"].notna() | out["_trade_reason"].notna()
    out.loc[missing, "ir_reason"] = out["_production_reason"].fillna(out["_trade_reason"])
    out.loc[missing, "ir_out_of_range"] = False
    for column in ("apparent_consumption", "import_reliance_computed", "import_reliance"):
        out.loc[missing, column] = None
    no_ir = out["import_reliance"].isna()
    out["status"] = ["no data" if m else "data" for m in missing]
    out.loc[~missing & no_ir & out["series"].isin(no_factor), "status"] = "no data"
    return out.drop(columns=["production"])


def _frame(rows: Sequence[Mapping[Any, Any]]) -> pd.DataFrame:
    """Rows in :data:`STAGE_COLUMNS` (missing cells ``None``), NaN as ``None``."""
    frame = pd.DataFrame(list(rows)).reindex(columns=list(STAGE_COLUMNS)).astype(object)
    frame = frame.where(frame.notna(), None)
    for column in ("year", "production_release_id", "trade_release_id"):
        frame[column] = [None if v is None else int(v) for v in frame[column]]
    return frame
