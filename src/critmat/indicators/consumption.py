"""Apparent consumption and import reliance of an importer set.

For a set S, a material whose production P_S(y) is the sum of World Mining Data output of the
members of S, and the HS codes K that carry the same product in trade:

    M   = imports into S from outside S (tonnes, codes K)
    X   = exports from S to outside S (tonnes, codes K)
    AC  = P + M - X                          apparent consumption
    IR  = (M - X) / AC                       import reliance (EU criticality methodology, 2017)

Production and trade rarely measure the same thing: WMD reports metal or oxide content, BACI
gross weight of the traded product. Results are therefore marked ``estimated`` and carry the
unit note; IR outside 0..1 (net exporter, or a weight mismatch) is reported as computed and
flagged ``ir_out_of_range`` rather than clipped, so the reader sees the inconsistency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from critmat.indicators.imports import ImporterSet, _sets_frame
from critmat.reference.materials import Material, Stage

_CONSUMPTION_SQL = """
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
    imp AS (
        SELECT c.series, s.importer, t.year, coalesce(sum(t.quantity_t), 0) AS imports_t
        FROM trade t JOIN _pairs c ON t.hs6 = c.hs6 JOIN _sets s ON t.importer = s.member
        ANTI JOIN _sets s2 ON s2.importer = s.importer AND s2.member = t.exporter
        GROUP BY ALL
    ),
    exp AS (
        SELECT c.series, s.importer, t.year, coalesce(sum(t.quantity_t), 0) AS exports_t
        FROM trade t JOIN _pairs c ON t.hs6 = c.hs6 JOIN _sets s ON t.exporter = s.member
        ANTI JOIN _sets s2 ON s2.importer = s.importer AND s2.member = t.importer
        GROUP BY ALL
    ),
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
           coalesce(exp.exports_t, 0) AS exports_t
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
    """Run the consumption query for ``pairs`` (columns ``series, commodity, hs6``)."""
    con.register("_sets", _sets_frame(importers))
    con.register("_pairs", pairs)
    try:
        frame = con.execute(
            _CONSUMPTION_SQL, {"years": None if years is None else list(years)}
        ).df()
    finally:
        con.unregister("_sets")
        con.unregister("_pairs")
    return _add_reliance(frame)


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
    return _consumption(con, importers, pairs, years).drop(columns=["series"])


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
    """:func:`apparent_consumption` for every pair of :func:`consumption_pairs`, in one query.

    Adds ``material``, ``stage`` and ``commodity`` columns in front.
    """
    rows = [
        (f"{material.id}/{stage.name}", material.id, stage.name, commodity, hs6)
        for material in materials
        for commodity, stage in consumption_pairs(material)
        for hs6 in stage.hs_codes
    ]
    pairs = pd.DataFrame(rows, columns=["series", "material", "stage", "commodity", "hs6"])
    labels = pairs.drop(columns=["hs6"]).drop_duplicates()
    frame = _consumption(con, importers, pairs[["series", "commodity", "hs6"]], years)
    merged = labels.merge(frame, on="series").drop(columns=["series"])
    return merged.reset_index(drop=True)
