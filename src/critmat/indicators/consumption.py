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

from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from critmat.indicators.imports import ImporterSet, _sets_frame
from critmat.reference.content_factors import ContentFactor, content_factor
from critmat.reference.materials import Material, Stage


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


def _describe(factors: dict[str, ContentFactor | None]) -> str:
    return "; ".join(
        f.describe() if f is not None else f"HS92 {code}: no content factor"
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
