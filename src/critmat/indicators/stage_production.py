"""World production of a material at one value-chain stage, by country (USGS MCS, IEA, WMD).

Each stage of the catalogue names its production series in order of preference
(``Stage.production``, :mod:`critmat.reference.materials`): the newest USGS Mineral Commodity
Summaries first for the years they cover, then older editions, the IEA Critical Minerals Data
Explorer where USGS has no such stage, and World Mining Data (dataset ``production``) for the
older years of the mine stage. **A year's figures come from the first series that has that
year** — a series "has" a year when at least one of its rows for the commodity and stage carries a
quantity. Figures of one (material, stage, year) never mix series.

Quantities are metric tonnes (``quantity_t``; USGS and the IEA are converted at import, WMD
here: kg × 0.001, carats × 2·10⁻⁷; a unit that is not a mass gives NaN tonnes and a note).
``unit`` is the unit the publisher used. For country i of the chosen series and year, with
q_i its reported tonnes (withheld ``W`` and not available ``NA`` figures are NaN, listed as
missing, never 0):

    share_i = q_i / Σ_j q_j    over every row with a quantity except the world total (WLD):
                               the countries and the publisher's "other countries" (ROW)

so that the shares of the table add up to 1. The published world total (``WLD``, usually
rounded) is given apart as ``world_t``; a note says when it differs from the sum of the rows by
more than 1 %. ``rank`` orders the countries (ROW and missing figures have none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import duckdb
import pandas as pd

from critmat.errors import NoDataError
from critmat.indicators.lookup import year_or_latest
from critmat.reference.materials import Material, ProductionSeries, Stage, load_catalogue

__all__ = [
    "COUNTRY_COLUMNS",
    "LONG_COLUMNS",
    "StageProduction",
    "series_of",
    "series_years",
    "stage_production",
    "stage_production_all",
    "stage_production_years",
    "stages_with_production",
]

#: Columns of :attr:`StageProduction.countries`.
COUNTRY_COLUMNS = ("country", "quantity_t", "share", "rank", "estimated", "status", "note")
#: Columns of :func:`stage_production_all`.
LONG_COLUMNS = (
    "material_id",
    "stage",
    "year",
    "country",
    "quantity_t",
    "status",
    "estimated",
    "series",
    "release_id",
)
#: Tonnes per published WMD unit (World Mining Data is stored as published).
_WMD_TONNES = {"metr. t": 1.0, "t": 1.0, "kg": 0.001, "ct": 2e-7}
#: How far the published world total may stray from the sum of the rows before a note says so.
_WORLD_TOLERANCE = 0.01


@dataclass(frozen=True)
class StageProduction:
    """World production of one material stage in one year, from one release of one series.

    ``countries``: columns :data:`COUNTRY_COLUMNS` — ``country`` (ISO3, or ``ROW`` for the
    publisher's "other countries"), ``quantity_t`` (tonnes; NaN = withheld or not available),
    ``share`` (of the sum of the rows with a quantity, WLD excluded; NaN where the quantity is),
    ``rank`` (1 = largest; none for ROW and missing figures), ``estimated``, ``status``
    (reported/withheld/not_available), ``note``; largest first, then ROW, then the missing.
    ``world_t`` is the published world total (WLD) in tonnes when the series gives one.
    ``unit`` is the publisher's unit (quantities are tonnes); ``basis`` content/gross/unstated.
    """

    material_id: str
    stage: str
    year: int
    dataset: str
    series: str
    release_id: str
    release_version: str
    commodity: str
    production_stage: str
    unit: str
    basis: str
    countries: pd.DataFrame
    world_t: float | None
    notes: tuple[str, ...]

    @property
    def total_t(self) -> float | None:
        """Sum of the rows with a quantity (the share denominator), tonnes; None if none."""
        known = self.countries["quantity_t"].dropna()
        return float(known.sum()) if len(known) else None


def series_of(stage: Stage) -> tuple[ProductionSeries, ...]:
    """The production series of ``stage`` in order of preference (empty when it has none)."""
    return stage.production


def _detail_filter(material: Material, details: Sequence[str]) -> str | None:
    """The row label to keep when a series gives several for one commodity and stage (USGS
    "Silicon": ferrosilicon and silicon metal): the one naming the material, else the first."""
    distinct = sorted({d for d in details if d})
    if len(distinct) < 2:
        return None
    names = [material.name.lower(), material.id.replace("_", " ")]
    for detail in distinct:
        if any(name in detail.lower() for name in names):
            return detail
    return distinct[0]


def _series_rows(
    con: duckdb.DuckDBPyConnection, ref: ProductionSeries, year: int | None = None
) -> pd.DataFrame:
    """Every row of ``ref`` (one year or all) in the columns of ``stage_production``."""
    if ref.dataset == "production":
        frame = con.execute(
            "SELECT country, year, quantity, unit, estimated FROM production_all "
            "WHERE series = ? AND commodity = ? AND (? IS NULL OR year = ?)",
            [ref.series, ref.commodity, year, year],
        ).df()
        factor = frame["unit"].map(_WMD_TONNES)
        frame["quantity_t"] = frame["quantity"] * factor
        frame["status"] = frame["quantity"].isna().map({True: "not_available", False: "reported"})
        frame["note"] = ""
        frame["detail"] = ""
        frame["basis"] = ""
        return frame.drop(columns=["quantity"])
    return con.execute(
        "SELECT country, year, quantity_t, unit, estimated, status, note, detail, basis "
        "FROM stage_production_all WHERE series = ? AND commodity = ? AND stage = ? "
        "AND (? IS NULL OR year = ?)",
        [ref.series, ref.commodity, ref.stage, year, year],
    ).df()


def _one_detail(material: Material, frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """``frame`` with one row label kept where a country-year has several (alternatives such
    as ferrosilicon and silicon metal); labels that differ by country (boron's forms) stay."""
    if not frame.duplicated(["country", "year"]).any():
        return frame, None
    keep = _detail_filter(material, frame["detail"].tolist())
    if keep is None:
        return frame, None
    return frame[frame["detail"] == keep].reset_index(drop=True), keep


def series_years(con: duckdb.DuckDBPyConnection, ref: ProductionSeries) -> list[int]:
    """The years ``ref`` holds figures for (a row with a quantity) in the store."""
    if ref.dataset == "production":
        rows = con.execute(
            "SELECT DISTINCT year FROM production_all WHERE series = ? AND commodity = ? "
            "AND quantity IS NOT NULL ORDER BY year",
            [ref.series, ref.commodity],
        ).fetchall()
    else:
        rows = con.execute(
            "SELECT DISTINCT year FROM stage_production_all WHERE series = ? AND commodity = ? "
            "AND stage = ? AND quantity_t IS NOT NULL ORDER BY year",
            [ref.series, ref.commodity, ref.stage],
        ).fetchall()
    return [int(r[0]) for r in rows]


def _coverage(
    con: duckdb.DuckDBPyConnection, refs: Iterable[ProductionSeries]
) -> list[tuple[ProductionSeries, list[int]]]:
    return [(ref, series_years(con, ref)) for ref in refs]


def _year_owners(
    coverage: Sequence[tuple[ProductionSeries, list[int]]],
) -> dict[int, ProductionSeries]:
    """Each year with data and the series it comes from (the first that holds it)."""
    owners: dict[int, ProductionSeries] = {}
    for ref, years in coverage:
        for year in years:
            owners.setdefault(year, ref)
    return dict(sorted(owners.items()))


def stage_production_years(
    con: duckdb.DuckDBPyConnection, material: Material, stage: Stage
) -> list[int]:
    """The years with production figures for ``material`` at ``stage`` (any of its series)."""
    return list(_year_owners(_coverage(con, series_of(stage))))


def stages_with_production(
    con: duckdb.DuckDBPyConnection, material: Material
) -> list[tuple[Stage, list[int]]]:
    """The stages of ``material`` whose series hold figures, in catalogue order, with years."""
    out = []
    for stage in material.stages:
        years = stage_production_years(con, material, stage)
        if years:
            out.append((stage, years))
    return out


def _describe(coverage: Sequence[tuple[ProductionSeries, list[int]]]) -> str:
    parts = []
    for ref, years in coverage:
        held = f"{years[0]}–{years[-1]}" if years else "no rows"
        parts.append(f"{ref.series} '{ref.commodity}' {ref.stage} ({held})")
    return "; ".join(parts)


def _release(con: duckdb.DuckDBPyConnection, ref: ProductionSeries) -> tuple[str, str]:
    """Id and version of the current release of ``ref``'s series ("" in a hand-made store)."""
    has_releases = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'releases_all'"
    ).fetchall()[0][0]
    if not has_releases:
        return "", ""
    rows = con.execute(
        "SELECT release_id, version FROM releases_all WHERE dataset = ? AND series = ? "
        "AND is_current",
        [ref.dataset, ref.series],
    ).fetchall()
    return (str(rows[0][0]), str(rows[0][1])) if rows else ("", "")


def _wmd_basis(material: Material) -> str:
    text = (material.production_basis or "").lower()
    if "content (per" in text:
        return "content"
    return "gross" if "gross" in text or "concentrate" in text else "unstated"


def _country_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The countries of one series-year (WLD left out) with shares and ranks."""
    table = rows[rows["country"] != "WLD"].copy()
    total = table["quantity_t"].sum(min_count=1)
    table["share"] = table["quantity_t"] / total if pd.notna(total) and total > 0 else float("nan")
    rankable = table["quantity_t"].notna() & (table["country"] != "ROW")
    ordered = table[rankable].sort_values(["quantity_t", "country"], ascending=[False, True])
    ranks = pd.Series(range(1, len(ordered) + 1), index=ordered.index, dtype="Int64")
    table["rank"] = ranks.reindex(table.index).astype("Int64")
    table["_order"] = table["rank"].astype("Float64").fillna(1e9)
    table["_row"] = table["country"].eq("ROW") & table["quantity_t"].notna()
    table["_order"] = table["_order"].where(~table["_row"], 1e8)
    table = table.sort_values(["_order", "country"]).reset_index(drop=True)
    table["estimated"] = table["estimated"].fillna(False).astype(bool)
    table["note"] = table["note"].fillna("").astype(str)
    return table[list(COUNTRY_COLUMNS)]


def _tonnes(value: float) -> str:
    """Tonnes for a note: whole tonnes with separators, small amounts to three figures."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _notes(
    ref: ProductionSeries,
    preferred: ProductionSeries,
    year: int,
    countries: pd.DataFrame,
    world_t: float | None,
    detail: str | None,
) -> list[str]:
    notes = []
    if ref is not preferred:
        notes.append(
            f"{year} comes from {ref.series}: the preferred series {preferred.series} has no "
            f"figures for {year}"
        )
    if ref.note:
        notes.append(ref.note)
    if detail:
        notes.append(f"{ref.series} '{ref.commodity}' has several row labels; shown: '{detail}'")
    known = countries["quantity_t"].dropna()
    total = float(known.sum()) if len(known) else None
    base = "no row has a quantity" if total is None else f"{_tonnes(total)} t"
    notes.append(
        "shares are of the sum of the reported rows (countries and the publisher's other "
        f"countries, ROW): {base}"
        + (f"; the published world total is {_tonnes(world_t)} t" if world_t is not None else "")
    )
    if world_t and total is not None and abs(total - world_t) > _WORLD_TOLERANCE * world_t:
        notes.append(
            f"the published world total ({_tonnes(world_t)} t) differs from the sum of the rows "
            f"({_tonnes(total)} t): rounding, withheld or unlisted countries"
        )
    missing = countries[countries["quantity_t"].isna()]
    withheld = missing.loc[missing["status"] == "withheld", "country"].tolist()
    unavailable = missing.loc[missing["status"] != "withheld", "country"].tolist()
    if withheld:
        notes.append(f"withheld by the publisher (shown as missing, not 0): {', '.join(withheld)}")
    if unavailable:
        notes.append(f"not available (shown as missing, not 0): {', '.join(unavailable)}")
    row = countries[countries["country"] == "ROW"]
    if len(row) and row["quantity_t"].iloc[0] > 0:
        notes.append(
            f"ROW is the publisher's 'other countries' row: {_tonnes(row['quantity_t'].iloc[0])} t"
        )
    return notes


def stage_production(
    con: duckdb.DuckDBPyConnection, material: Material, stage: Stage, year: int | None = None
) -> StageProduction:
    """World production of ``material`` at ``stage`` in ``year`` by country (default: the
    latest year any of the stage's series holds, :func:`~critmat.indicators.lookup.
    year_or_latest`), from the first series in the stage's order of preference that has the
    year (module docstring: shares, units, missing figures).

    Raises :class:`NoDataError` when the stage names no series, when none of its series has
    rows, or when none has ``year`` (naming the series tried and the years they hold).
    """
    refs = series_of(stage)
    where = f"{material.name} · {stage.name}"
    if not refs:
        raise NoDataError(
            f"the catalogue names no production series for {where}",
            hint=f"`critmat material {material.id}` shows which stages have production series",
        )
    coverage = _coverage(con, refs)
    owners = _year_owners(coverage)
    if not owners:
        raise NoDataError(
            f"no production figures for {where} in the store: tried {_describe(coverage)}",
            hint="`critmat data status` lists the imported series",
        )
    years = list(owners)
    chosen = year_or_latest(year, years[0], years[-1], f"{where} production")
    ref = owners.get(chosen)
    if ref is None:
        raise NoDataError(
            f"no production figures for {where} in {chosen}: tried {_describe(coverage)}",
            hint="years with figures: " + ", ".join(str(y) for y in years),
        )
    rows, detail = _one_detail(material, _series_rows(con, ref, chosen))
    world = rows.loc[rows["country"] == "WLD", "quantity_t"].dropna()
    world_t = float(world.iloc[0]) if len(world) else None
    countries = _country_table(rows)
    release_id, version = _release(con, ref)
    basis = _wmd_basis(material) if ref.dataset == "production" else _first(rows["basis"])
    return StageProduction(
        material_id=material.id,
        stage=stage.name,
        year=chosen,
        dataset=ref.dataset,
        series=ref.series,
        release_id=release_id,
        release_version=version,
        commodity=ref.commodity,
        production_stage=ref.stage,
        unit=_first(rows["unit"]),
        basis=basis or "unstated",
        countries=countries,
        world_t=world_t,
        notes=tuple(_notes(ref, refs[0], chosen, countries, world_t, detail)),
    )


def _first(values: pd.Series) -> str:
    known = [str(v) for v in values.dropna() if str(v)]
    return known[0] if known else ""


def _wanted(materials: Iterable[Material]) -> pd.DataFrame:
    """One row per (material, stage, series) with the series' place in the order (``pref``)."""
    rows = [
        (material.id, stage.name, pref, ref.dataset, ref.series, ref.commodity, ref.stage)
        for material in materials
        for stage in material.stages
        for pref, ref in enumerate(series_of(stage))
    ]
    return pd.DataFrame(
        rows,
        columns=["material_id", "stage", "pref", "dataset", "series", "commodity", "p_stage"],
    )


#: Every row of every wanted series, WMD units converted to tonnes (``_WMD_TONNES``).
_ALL_ROWS_SQL = """
SELECT w.material_id, w.stage, w.pref, w.series, s.detail, s.country, s.year, s.quantity_t,
       s.status, s.estimated
FROM _wanted w JOIN stage_production_all s
  ON w.dataset = 'stage_production' AND s.series = w.series AND s.commodity = w.commodity
 AND s.stage = w.p_stage
UNION ALL
SELECT w.material_id, w.stage, w.pref, w.series, '' AS detail, p.country, p.year,
       p.quantity * CASE p.unit {units} END AS quantity_t,
       CASE WHEN p.quantity IS NULL THEN 'not_available' ELSE 'reported' END AS status,
       p.estimated
FROM _wanted w JOIN production_all p
  ON w.dataset = 'production' AND p.series = w.series AND p.commodity = w.commodity
"""


def _current_release_ids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    has_releases = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'releases_all'"
    ).fetchall()[0][0]
    if not has_releases:
        return {}
    rows = con.execute(
        "SELECT series, release_id FROM releases_all WHERE is_current "
        "AND dataset IN ('stage_production', 'production')"
    ).fetchall()
    return {str(series): str(rid) for series, rid in rows}


def _keep_one_detail(frame: pd.DataFrame, materials: dict[str, Material]) -> pd.DataFrame:
    """Rows of the one row label per (material, stage, series) that :func:`_detail_filter`
    keeps, where a series gives several for one country and year."""
    kept = []
    for key, part in frame.groupby(["material_id", "stage", "series"], sort=False):
        material_id = str(cast(tuple[str, str, str], key)[0])
        kept.append(_one_detail(materials[material_id], part)[0])
    return pd.concat(kept, ignore_index=True) if kept else frame


def stage_production_all(
    con: duckdb.DuckDBPyConnection,
    materials: Iterable[Material] | None = None,
    years: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Production by country of every (material, stage with series, year) at once, each year
    from its first series (the rule of :func:`stage_production`), for the refresh and origin
    tracing: one query over every series, not one per material.

    Columns :data:`LONG_COLUMNS`: ``material_id, stage, year, country`` (ISO3 or ``ROW``; the
    world total WLD is left out), ``quantity_t`` (tonnes, NaN = withheld or not available),
    ``status``, ``estimated``, ``series``, ``release_id`` (str, "" without a releases table).
    """
    chosen = {m.id: m for m in (load_catalogue() if materials is None else materials)}
    wanted = _wanted(chosen.values())
    if wanted.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LONG_COLUMNS})
    units = " ".join(f"WHEN '{unit}' THEN {factor}" for unit, factor in _WMD_TONNES.items())
    con.register("_wanted", wanted)
    try:
        frame = con.execute(_ALL_ROWS_SQL.format(units=units)).df()
    finally:
        con.unregister("_wanted")
    if years is not None:
        frame = frame[frame["year"].isin({int(y) for y in years})]
    frame = _keep_one_detail(frame, chosen)
    keys = ["material_id", "stage", "year"]
    held = frame[frame["quantity_t"].notna()].groupby(keys)["pref"].min().rename("owner")
    frame = frame.join(held, on=keys, how="inner")
    frame = frame[(frame["pref"] == frame["owner"]) & (frame["country"] != "WLD")].copy()
    # object first: with no releases table (a hand-made store) the map gives all-NaN floats
    release_ids = frame["series"].map(_current_release_ids(con)).astype(object)
    frame["release_id"] = release_ids.fillna("")
    frame["estimated"] = frame["estimated"].fillna(False).astype(bool)
    frame["year"] = frame["year"].astype(int)
    out = frame[list(LONG_COLUMNS)]
    return out.sort_values(["material_id", "stage", "year", "country"], ignore_index=True)
