"""What the EU supply-risk assessment reads from the store, by series.

- the window of data years (:func:`choose_years`, :func:`assessment_years`);
- governance: the mean WGI estimate per country from one governance series — the six
  dimensions ("WGI six dimensions") when the store holds them, else the default series
  (:func:`governance_series`, :func:`governance`);
- production by stage: the catalogue's production series of a stage, a year's figures from the
  first series that has that year — :func:`critmat.indicators.stage_production.stage_production_all`
  (the one rule, :func:`load_stage_rows`); World Mining Data alone for a stage the catalogue
  pairs only with a WMD series and for stores without series tables (:func:`stage_supply`);
- EU trade: extra-EU27 imports by origin and extra-EU27 exports, tonnes, by BACI series
  (``HS92``, ``HS17``), for a stage's codes in each revision (:func:`eu_trade`,
  :func:`stage_trade`).

Only this module knows table and series names; :mod:`critmat.risk.eu_criticality` computes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from critmat.errors import CritmatError, NoDataError
from critmat.indicators.provenance import Provenance
from critmat.indicators.stage_production import LONG_COLUMNS, stage_production_all
from critmat.reference.materials import Material, ProductionSeries, Stage
from critmat.sources.base import DEFAULT_SERIES

#: The six Worldwide Governance Indicators (estimates, about −2.5..2.5).
WGI_INDICATORS = ("VA", "PV", "GE", "RQ", "RL", "CC")
#: The governance series with all six indicators, preferred when the store holds it.
SIX_DIMENSION_SERIES = "WGI six dimensions"
#: BACI series in the order a stage's trade is taken for a year (the first with rows).
TRADE_SERIES = ("HS17", "HS92")
#: Tonnes per unit of a World Mining Data quantity (other units cannot be added to trade).
TONNE_FACTOR = {"metr. t": 1.0, "t": 1.0, "kg": 0.001}


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def _span(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, int] | None:
    row = con.execute(sql).fetchall()[0]
    if row[0] is None:
        return None
    return int(row[0]), int(row[1])


def _trade_table(con: duckdb.DuckDBPyConnection) -> str:
    """``trade_all`` (every BACI series) or, in a store without series, ``trade`` as HS92."""
    if _has_table(con, "trade_all"):
        return "trade_all"
    return "(SELECT 'HS92' AS series, * FROM trade)"


def assessment_years(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """First and last reference year of an assessment: years with production data (World Mining
    Data or production by stage) and trade data (any BACI series); ``None`` when one is empty."""
    prod = _span(con, "SELECT min(year), max(year) FROM production")
    if _has_table(con, "stage_production_all"):
        stage = _span(con, "SELECT min(year), max(year) FROM stage_production_all")
        if stage is not None:
            prod = stage if prod is None else (min(prod[0], stage[0]), max(prod[1], stage[1]))
    trade = _span(con, f"SELECT min(year), max(year) FROM {_trade_table(con)}")
    if prod is None or trade is None:
        return None
    first, last = max(prod[0], trade[0]), min(prod[1], trade[1])
    return (first, last) if first <= last else None


def choose_years(
    con: duckdb.DuckDBPyConnection, year: int | None, window: int
) -> tuple[int, tuple[int, ...]]:
    """The reference year (default: the latest of :func:`assessment_years`) and the ``window``
    years ending in it (CRMA Annex II §2 point 7: the most recent five years of data)."""
    if window < 1:
        raise CritmatError(
            f"window must be at least 1 year, not {window}", hint="use --window 5 (the method)"
        )
    span = assessment_years(con)
    if span is None or _span(con, "SELECT min(year), max(year) FROM governance") is None:
        raise NoDataError(
            "no production, trade or governance data in the store",
            hint="run `critmat data pull` first",
        )
    first, last = span
    chosen = last if year is None else year
    if not first <= chosen <= last:
        raise CritmatError(
            f"year {chosen} is outside the years with both production and trade data "
            f"({first}–{last})",
            hint=f"choose a year from {first} to {last}",
        )
    return chosen, tuple(y for y in range(chosen - window + 1, chosen + 1) if y >= first)


# ---------------------------------------------------------------------------------- governance
@dataclass(frozen=True)
class Governance:
    """A country's mean WGI estimate over the window years and the indicators available."""

    estimate: float
    indicators: tuple[str, ...]
    years: tuple[int, ...]


def governance_series(con: duckdb.DuckDBPyConnection, series: str | None = None) -> str:
    """The governance series to use: ``series`` when given (it must be in the store), else the
    six-dimension WGI when the store holds it, else the default series (``governance``)."""
    if not _has_table(con, "governance_all"):
        if series is not None:
            raise CritmatError(
                f"governance series '{series}' is not in the store (it has one series only)",
                hint="leave out the governance series",
            )
        return DEFAULT_SERIES["governance"]
    held = [r[0] for r in con.execute("SELECT DISTINCT series FROM governance_all").fetchall()]
    if series is not None:
        if series not in held:
            raise CritmatError(
                f"governance series '{series}' is not in the store",
                hint="choose one of: " + ", ".join(sorted(held)),
            )
        return series
    if SIX_DIMENSION_SERIES in held:
        return SIX_DIMENSION_SERIES
    return DEFAULT_SERIES["governance"]


def governance(
    con: duckdb.DuckDBPyConnection, years: Sequence[int], series: str
) -> dict[str, Governance]:
    """Mean WGI estimate per country over ``years`` and the indicators ``series`` holds: the
    mean over years of the mean over indicators (a year with more indicators does not weigh
    more). A country with no value in the window uses its latest earlier year; a window year
    after the series' last year is left out (said in ``years``)."""
    table = (
        "governance"
        if series == DEFAULT_SERIES["governance"] or not _has_table(con, "governance_all")
        else "(SELECT * FROM governance_all WHERE series = $series)"
    )
    params: dict[str, object] = {"ind": list(WGI_INDICATORS), "last": max(years)}
    if table != "governance":
        params["series"] = series
    frame = con.execute(
        f"SELECT country, year, indicator, estimate FROM {table} "
        "WHERE estimate IS NOT NULL AND list_contains($ind, indicator) AND year <= $last",
        params,
    ).df()
    out: dict[str, Governance] = {}
    window = set(years)
    for country, rows in frame.groupby("country"):
        in_window = rows[rows["year"].isin(window)]
        if in_window.empty:
            in_window = rows[rows["year"] == rows["year"].max()]
        per_year = in_window.groupby("year")["estimate"].mean()
        present = set(in_window["indicator"])
        out[str(country)] = Governance(
            estimate=float(per_year.mean()),
            indicators=tuple(i for i in WGI_INDICATORS if i in present),
            years=tuple(int(y) for y in sorted(per_year.index)),
        )
    return out


# ------------------------------------------------------------------------- production by stage
WMD_SERIES = "WMD"


def wmd_series(commodity: str) -> ProductionSeries:
    """World Mining Data series ``commodity`` as a production series of a stage."""
    return ProductionSeries("production", WMD_SERIES, commodity, "mine")


def load_wmd(con: duckdb.DuckDBPyConnection, years: Sequence[int]) -> pd.DataFrame:
    """World Mining Data rows of the window in the columns :func:`stage_supply` reads:
    ``dataset, series, commodity, stage, country, year, quantity_t, unit, status``
    (``quantity_t`` in tonnes where the unit converts, else the published quantity and unit)."""
    wmd = con.execute(
        "SELECT 'production' AS dataset, 'WMD' AS series, commodity, 'mine' AS stage, country, "
        "year, quantity, unit FROM production WHERE list_contains($y, year)",
        {"y": list(years)},
    ).df()
    factor = wmd["unit"].map(TONNE_FACTOR)
    wmd["quantity_t"] = wmd["quantity"] * factor.fillna(1.0)
    wmd["unit"] = wmd["unit"].where(factor.isna(), "t")
    wmd["status"] = "reported"
    return wmd.drop(columns=["quantity"])


def load_stage_rows(
    con: duckdb.DuckDBPyConnection, materials: Sequence[Material], years: Sequence[int]
) -> pd.DataFrame:
    """Production of every catalogue stage with production series, each year from its first
    series (:func:`critmat.indicators.stage_production.stage_production_all`, the one rule);
    empty for a store without series tables."""
    if not (_has_table(con, "stage_production_all") and _has_table(con, "production_all")):
        return pd.DataFrame(columns=list(LONG_COLUMNS))
    return stage_production_all(con, materials, years)


@dataclass(frozen=True)
class StageSupply:
    """Production of one stage over the window: per year the rows of the first series of the
    preference list that has that year."""

    rows: pd.DataFrame  # country, year, quantity_t, unit, series, status
    series: tuple[str, ...]
    years: tuple[int, ...]
    commodity: str
    unit: str
    withheld: tuple[str, ...]


def stage_supply(
    production: pd.DataFrame, preference: Sequence[ProductionSeries], years: Sequence[int]
) -> StageSupply:
    """:class:`StageSupply` of a stage whose production series are ``preference``."""
    picked: list[pd.DataFrame] = []
    for year in years:
        for source in preference:
            rows = production[
                (production["dataset"] == source.dataset)
                & (production["series"] == source.series)
                & (production["commodity"] == source.commodity)
                & (production["stage"] == source.stage)
                & (production["year"] == year)
            ]
            if rows["quantity_t"].notna().any():
                picked.append(rows)
                break
    frame = pd.concat(picked, ignore_index=True) if picked else production.iloc[0:0]
    series = tuple(dict.fromkeys(frame["series"]))
    commodities = tuple(dict.fromkeys(frame["commodity"]))
    units = tuple(dict.fromkeys(frame["unit"]))
    withheld = frame[frame["quantity_t"].isna()]["country"]
    return StageSupply(
        rows=frame,
        series=series,
        years=tuple(int(y) for y in sorted(set(frame["year"]))),
        commodity=" / ".join(commodities) or (preference[0].commodity if preference else ""),
        unit=units[0] if len(units) == 1 else ("mixed units" if units else ""),
        withheld=tuple(sorted(set(withheld))),
    )


def catalogue_supply(
    rows: pd.DataFrame, material_id: str, stage: str, preference: Sequence[ProductionSeries]
) -> StageSupply:
    """:class:`StageSupply` of a catalogue stage from :func:`load_stage_rows`."""
    frame = rows[(rows["material_id"] == material_id) & (rows["stage"] == stage)]
    series = tuple(dict.fromkeys(frame["series"]))
    commodities = tuple(dict.fromkeys(p.commodity for p in preference if p.series in series))
    return StageSupply(
        rows=frame.assign(unit="t"),
        series=series,
        years=tuple(int(y) for y in sorted(set(frame["year"]))),
        commodity=" / ".join(commodities) or (preference[0].commodity if preference else ""),
        unit="t" if len(frame) else "",
        withheld=tuple(sorted(set(frame[frame["quantity_t"].isna()]["country"]))),
    )


def amounts_by_country(
    supply: StageSupply, members: frozenset[str] | None = None, years: Sequence[int] | None = None
) -> list[tuple[str, float]]:
    """Summed quantity per country (positive amounts only), optionally only ``members`` and
    ``years``."""
    rows = supply.rows
    if members is not None:
        rows = rows[rows["country"].isin(members)]
    if years is not None:
        rows = rows[rows["year"].isin(list(years))]
    sums = rows.groupby("country")["quantity_t"].sum(min_count=1).dropna()
    return [(str(c), float(q)) for c, q in sums.items() if q > 0]


# ------------------------------------------------------------------------------------- trade
_EU_TRADE_SQL = """
    WITH t AS (SELECT * FROM {table} WHERE list_contains($y, year) AND list_contains($k, hs6))
    SELECT series, year, hs6, exporter AS origin, 'import' AS flow,
           sum(quantity_t) AS quantity_t,
           coalesce(sum(value_kusd), 0) AS value_kusd,
           coalesce(sum(value_kusd) FILTER (WHERE quantity_t IS NULL), 0) AS value_no_quantity
    FROM t WHERE list_contains($eu, importer) AND NOT list_contains($eu, exporter)
    GROUP BY ALL
    UNION ALL
    SELECT series, year, hs6, importer AS origin, 'export' AS flow,
           sum(quantity_t), coalesce(sum(value_kusd), 0),
           coalesce(sum(value_kusd) FILTER (WHERE quantity_t IS NULL), 0)
    FROM t WHERE list_contains($eu, exporter) AND NOT list_contains($eu, importer)
    GROUP BY ALL
"""


def eu_trade(
    con: duckdb.DuckDBPyConnection,
    eu: frozenset[str],
    codes: Sequence[str],
    years: Sequence[int],
) -> pd.DataFrame:
    """Extra-EU imports by origin and extra-EU exports by destination of ``codes`` in
    ``years``, every BACI series: ``series, year, hs6, origin, flow (import|export),
    quantity_t (NaN when no flow has one), value_kusd, value_no_quantity``."""
    if not codes:
        return pd.DataFrame(
            columns=[
                "series",
                "year",
                "hs6",
                "origin",
                "flow",
                "quantity_t",
                "value_kusd",
                "value_no_quantity",
            ]
        )
    return con.execute(
        _EU_TRADE_SQL.format(table=_trade_table(con)),
        {"y": list(years), "k": sorted(set(codes)), "eu": sorted(eu)},
    ).df()


def stage_codes(stage: Stage) -> dict[str, tuple[str, ...]]:
    """The stage's codes per BACI series (``HS92``: ``hs_codes``, ``HS17``: ``hs17_codes``)."""
    return {"HS92": stage.hs_codes, "HS17": stage.hs17_codes}


@dataclass(frozen=True)
class StageTrade:
    """Trade of one stage: per year the rows of the first series of :data:`TRADE_SERIES` with
    rows for the stage's codes in that revision."""

    rows: pd.DataFrame
    series: tuple[str, ...]
    years: tuple[int, ...]
    codes: tuple[str, ...]

    def within(self, years: Sequence[int]) -> StageTrade:
        """The same trade restricted to ``years`` (its series and codes those of the rows)."""
        rows = self.rows[self.rows["year"].isin(list(years))]
        series = tuple(s for s in self.series if s in set(rows["series"]))
        prefixes = tuple(f"{s} " for s in series)
        return StageTrade(
            rows=rows,
            series=series,
            years=tuple(y for y in self.years if y in set(years)),
            codes=tuple(c for c in self.codes if c.startswith(prefixes)),
        )


def stage_trade(
    trade: pd.DataFrame, codes: Mapping[str, Sequence[str]], years: Sequence[int]
) -> StageTrade:
    """:class:`StageTrade` of a stage with ``codes`` per series (:func:`stage_codes`)."""
    picked: list[pd.DataFrame] = []
    for year in years:
        for series in TRADE_SERIES:
            wanted = codes.get(series, ())
            if not wanted:
                continue
            rows = trade[
                (trade["series"] == series)
                & (trade["year"] == year)
                & (trade["hs6"].isin(list(wanted)))
            ]
            if not rows.empty:
                picked.append(rows)
                break
    frame = pd.concat(picked, ignore_index=True) if picked else trade.iloc[0:0]
    series_used = tuple(s for s in TRADE_SERIES if s in set(frame["series"]))
    used_codes = tuple(f"{s} {c}" for s in series_used for c in codes.get(s, ()))
    return StageTrade(
        rows=frame,
        series=series_used,
        years=tuple(int(y) for y in sorted(set(frame["year"]))),
        codes=used_codes,
    )


# -------------------------------------------------------------------------------- provenance
def series_provenance(
    con: duckdb.DuckDBPyConnection, used: Mapping[tuple[str, str], Sequence[int]]
) -> list[Provenance]:
    """Provenance of the current release of each ``(dataset, series)`` in ``used`` with the
    years of it the assessment used (empty for a store without ``releases_all``)."""
    if not used or not _has_table(con, "releases_all"):
        return []
    rows = con.execute(
        "SELECT dataset, series, source, version, licence, sha256, year_min, year_max "
        "FROM releases_all WHERE is_current ORDER BY dataset, series"
    ).fetchall()
    out = []
    for dataset, series, source, version, licence, sha, first, last in rows:
        years = used.get((str(dataset), str(series)))
        if years is None:
            continue
        out.append(
            Provenance(
                dataset=str(dataset),
                source=str(source),
                version=str(version),
                licence=str(licence),
                sha256=str(sha),
                release_years=(first, last),
                years=tuple(sorted(set(years))),
            )
        )
    return out
