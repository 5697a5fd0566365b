"""The basis of every overview answer: one full indicator refresh, indexed, per set of releases.

:func:`basis` computes it once per current releases (:func:`refresh_all`, a few seconds) and
keeps it in the context's one cache; a new release gives a new basis on the next call. Every
other answer of :mod:`critmat.services.overview` (panel, material and country pages, search,
the report) selects from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from critmat.errors import CritmatError, NoDataError
from critmat.indicators.panel import EU, ImportIndex, country_name
from critmat.indicators.refresh import Indicators, refresh_all
from critmat.reference.materials import Catalogue, Material, load_catalogue
from critmat.reference.restrictions import Restriction, load_restrictions
from critmat.services.context import ServiceContext
from critmat.store import Release, Store

Progress = Callable[[str], None]

#: Years shown in the time-series answers (the latest ``TREND_YEARS`` of the trade release).
TREND_YEARS = 15
#: What the basis is charged against the cache's byte budget (an estimate: the indexed
#: indicator frames of the default data take about 120 MB).
BASIS_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class ReleaseInfo:
    """A current release as a provenance table shows it."""

    dataset: str
    source: str
    version: str
    years: str
    licence: str
    sha256: str
    rows: int
    retrieved_at: str
    imported_at: str
    notes: tuple[str, ...]
    citation: str
    used: bool


class IndexedTables:
    """Indicator frames indexed for the many small look-ups the pages and the report make."""

    def __init__(self, ind: Indicators) -> None:
        imports = ind.imports
        self.index = ImportIndex(imports)
        self.eu_index = ImportIndex(imports.loc[imports["importer"] == EU])
        eu_sources = ind.import_sources.loc[ind.import_sources["importer"] == EU]
        self.eu_sources = {str(key): frame for key, frame in eu_sources.groupby("code_group")}
        member_states = imports.loc[(imports["importer"] != EU) & (imports["basis"] == "mass")]
        self.ms_imports = {str(key): frame for key, frame in member_states.groupby("code_group")}
        self.production = {
            str(key): frame.set_index("year") for key, frame in ind.production.groupby("commodity")
        }
        self.production_shares = {
            (str(key[0]), int(str(key[1]))): frame
            for key, frame in ind.production_shares.groupby(["commodity", "year"])
        }
        cons = ind.consumption
        if len(cons):
            cons = cons.loc[cons["importer"] == EU]
        self.consumption: dict[str, pd.DataFrame] = (
            {str(key): frame for key, frame in cons.groupby("material")} if len(cons) else {}
        )


@dataclass(frozen=True)
class Provenance:
    """Where an answer's figures come from: the ids of the releases it was computed from and
    the citations of the datasets it read."""

    releases: tuple[int, ...]
    citations: tuple[tuple[str, str], ...]

    def citation(self, dataset: str) -> str:
        """Short citation of the release of ``dataset`` the answer read ("–" when none)."""
        return next((text for name, text in self.citations if name == dataset), "–")


@dataclass
class OverviewBasis:
    """Everything computed once for the current releases (``release_ids``: their ids;
    ``releases``: what the provenance tables show of them)."""

    release_ids: tuple[int, ...]
    catalogue: Catalogue
    restrictions: list[Restriction]
    indicators: Indicators
    tables: IndexedTables
    codes_in_release: frozenset[str]
    trade_years: tuple[int, int]
    production_years: tuple[int, int]
    focus_year: int
    focus_note: str
    releases: list[ReleaseInfo]
    countries: dict[str, str]

    def citation(self, dataset: str) -> str:
        """Short citation of the current release of ``dataset`` ("–" when absent)."""
        found = next((r for r in self.releases if r.dataset == dataset), None)
        return found.citation if found else "–"

    def provenance(self, *datasets: str) -> Provenance:
        """The provenance of an answer that read ``datasets``."""
        return Provenance(self.release_ids, tuple((d, self.citation(d)) for d in datasets))

    @property
    def years(self) -> list[int]:
        """Years a page can show (the trade release), newest first."""
        return list(range(self.trade_years[1], self.trade_years[0] - 1, -1))

    @property
    def trend_years(self) -> list[int]:
        """The years of the time-series answers: the latest :data:`TREND_YEARS` of trade."""
        first = max(self.trade_years[0], self.trade_years[1] - TREND_YEARS + 1)
        return list(range(first, self.trade_years[1] + 1))

    def check_year(self, year: int | None) -> int:
        """``year`` if the trade data cover it, the focus year for ``None``; else an error."""
        if year is None:
            return self.focus_year
        first, last = self.trade_years
        if not first <= year <= last:
            raise CritmatError(
                f"year {year} is outside the trade data ({first}–{last})",
                hint=f"choose a year from {first} to {last}",
            )
        return year

    def material(self, material_id: str) -> Material:
        """The catalogue entry with this id (or any alias); UnknownNameError with suggestions."""
        if material_id in self.catalogue:
            return self.catalogue.get(material_id)
        return self.catalogue.resolve(material_id).material


def basis(ctx: ServiceContext, store: Store, progress: Progress | None = None) -> OverviewBasis:
    """The basis for the current releases (``store`` is read only when it is computed)."""
    releases = ctx.releases()
    return ctx.remember(
        "overview.basis",
        None,
        lambda: build_basis(store, releases, progress),
        size=BASIS_BYTES,
        releases=releases,
    )


def build_basis(
    store: Store, releases: tuple[int, ...], progress: Progress | None = None
) -> OverviewBasis:
    """Refresh every indicator (a few seconds) and index them."""
    store.require_release("production")
    store.require_release("trade")
    year, note = focus_year(store, None)
    catalogue = load_catalogue()
    restrictions = list(load_restrictions())
    if progress:
        progress("computing indicators for every material, year and importer")
    indicators = refresh_all(
        store.con,
        catalogue,
        restrictions,
        progress=(lambda step: progress(f"indicators: {step}")) if progress else None,
    )
    codes = frozenset(
        str(r[0]) for r in store.con.execute("SELECT DISTINCT hs6 FROM trade").fetchall()
    )
    return OverviewBasis(
        release_ids=releases,
        catalogue=catalogue,
        restrictions=restrictions,
        indicators=indicators,
        tables=IndexedTables(indicators),
        codes_in_release=codes,
        trade_years=_span(store, "SELECT min(year), max(year) FROM trade"),
        production_years=_span(
            store, "SELECT min(year), max(year) FROM production WHERE quantity IS NOT NULL"
        ),
        focus_year=year,
        focus_note=note,
        releases=release_infos(store),
        countries=_country_names(store),
    )


def _one_row(store: Store, sql: str) -> tuple[Any, ...] | None:
    """The first row of a one-row query, with the result read to its end: a result left open
    on the shared connection makes DuckDB refuse the next ``register`` on it."""
    rows = store.con.execute(sql).fetchall()
    return rows[0] if rows else None


def _span(store: Store, sql: str) -> tuple[int, int]:
    row = _one_row(store, sql)
    assert row is not None and row[0] is not None  # require_release: the table has rows
    return int(row[0]), int(row[1])


def _country_names(store: Store) -> dict[str, str]:
    """Names of the exporters and producers in the store (codes without a name left out)."""
    names: dict[str, str] = {}
    codes = store.con.execute(
        "SELECT DISTINCT exporter FROM trade UNION SELECT DISTINCT country FROM production"
    ).fetchall()
    for (code,) in codes:
        name = country_name(str(code))
        if name != code or len(str(code)) == 3:
            names[str(code)] = name
    return names


def focus_year(store: Store, requested: int | None) -> tuple[int, str]:
    """The year an overview shows and a sentence saying how it was chosen: the latest year
    with both world production (WMD) and trade (BACI) rows, unless ``requested``."""
    row = _one_row(
        store,
        """
        SELECT max(p.year) FROM (SELECT DISTINCT year FROM production WHERE quantity IS NOT NULL) p
        JOIN (SELECT DISTINCT year FROM trade) t USING (year)
        """,
    )
    latest = None if row is None or row[0] is None else int(row[0])
    if requested is None:
        if latest is None:
            raise NoDataError(
                "the store has no year with both production and trade data",
                hint="run `critmat data pull` to import the default data",
            )
        return latest, (
            f"{latest} is the latest year with both world production (WMD) and trade (BACI) data"
        )
    span = _one_row(store, "SELECT min(year), max(year) FROM trade")
    if span is None or span[0] is None:
        raise NoDataError("the store has no trade data", hint="run `critmat data pull`")
    if not int(span[0]) <= requested <= int(span[1]):
        raise CritmatError(
            f"year {requested} is outside the trade data ({span[0]}–{span[1]})",
            hint=f"choose a year from {span[0]} to {span[1]}"
            + (f"; {latest} has production and trade data" if latest else ""),
        )
    note = f"{requested} was chosen for this report"
    if latest is not None and requested != latest:
        note += f" (the latest year with both production and trade data is {latest})"
    return requested, note


def release_infos(store: Store) -> list[ReleaseInfo]:
    """The current releases, production and trade first (the two the overview uses)."""
    order = {"production": 0, "trade": 1}
    releases = sorted(store.releases(current_only=True), key=lambda r: order.get(r.dataset, 9))
    return [_release_info(r, used=r.dataset in order) for r in releases]


def _release_info(release: Release, *, used: bool) -> ReleaseInfo:
    years = f"{release.year_min}–{release.year_max}" if release.year_min is not None else "–"
    return ReleaseInfo(
        dataset=release.dataset,
        source=release.source,
        version=release.version,
        years=years,
        licence=release.licence,
        sha256=release.sha256,
        rows=release.row_count,
        retrieved_at=release.retrieved_at.isoformat(sep=" ", timespec="minutes")
        if release.retrieved_at
        else "–",
        imported_at=release.imported_at.isoformat(sep=" ", timespec="minutes"),
        notes=release.notes,
        citation=release.citation(),
        used=used,
    )
