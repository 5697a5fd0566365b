"""Catalogue-aware lookups: resolve a material, stage, importer and year, check them against the
store, and compute the indicator with its provenance (domain computation only).

:mod:`critmat.services.statistics` asks these for the CLI and the API (and adds the answers the
precomputed tables give faster); nothing here formats or serialises. Two rules of critmat live
here and nowhere else: the default year (:func:`year_or_latest`) and, through
:meth:`critmat.reference.materials.Catalogue.choose_stage`, the stage of a material query
(:func:`select_codes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

from critmat.errors import CritmatError, NoDataError
from critmat.indicators.imports import BASES, Basis, ImporterSet
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.reference.countries import group_members, is_group, resolve_country
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.store import Release, Store

if TYPE_CHECKING:
    # The indicators each question computes load inside the function that asks it: the light
    # rules here (importer, years, default year) are what ``critmat geopolrisk`` needs, and it
    # should not pay for consumption, content factors, unit values or trade sources at start.
    import pandas as pd

    from critmat.indicators.flows_cache import FlowsCache
    from critmat.indicators.trade_sources import TradeSource


def _as_dict(row: pd.Series) -> dict[str, object]:
    return {str(key): value for key, value in row.items()}


def eu_members() -> frozenset[str]:
    """ISO3 codes of the 27 current EU Member States."""
    return group_members("EU27")


def resolve_importer(text: str) -> ImporterSet:
    """An importer set: a group name (``EU27``, ``G7``...), a country name or code, or a custom
    group of countries separated by commas or ``+`` (``"DEU,FRA,ITA"``), treated as one
    economy (only flows from outside the group count)."""
    eu = eu_members()
    parts = [p.strip() for p in text.replace("+", ",").split(",") if p.strip()]
    if len(parts) > 1:  # a custom group, e.g. "DEU,FRA,ITA"
        members = frozenset(resolve_country(p) for p in parts)
        return ImporterSet("+".join(sorted(members)), members, inside_eu=members <= eu)
    if is_group(text):
        members = group_members(text)
        name = "EU27" if members == eu else text.upper()
        return ImporterSet(name, members, inside_eu=members <= eu)
    return ImporterSet.country(resolve_country(text), eu)


def trade_years(store: Store) -> tuple[int, int]:
    """First and last year of the current trade release."""
    release = store.require_release("trade")
    assert release.year_min is not None and release.year_max is not None
    return release.year_min, release.year_max


def check_year(year: int, first: int, last: int, what: str) -> None:
    """Raise a clear error when ``year`` lies outside ``first..last``."""
    if not first <= year <= last:
        raise CritmatError(
            f"year {year} is outside the {what} data ({first}–{last})",
            hint=f"choose a year from {first} to {last}",
        )


def year_or_latest(year: int | None, first: int, last: int, what: str) -> int:
    """The year a question answers for: the one default-year rule of critmat (the CLI, the API
    and the web follow it).

    The year asked, checked against the data (``first..last``, raising a clear error outside);
    when none is asked, the latest year with data for that dataset: ``last``, the current trade
    release's last year for trade figures, the last year with rows of the World Mining Data
    series for production figures.
    """
    chosen = last if year is None else year
    check_year(chosen, first, last, what)
    return chosen


@dataclass(frozen=True)
class ProductionResult:
    """World production of one material in one year, by country, largest first.

    ``rows`` columns: ``country, quantity, unit, share, estimated, rank``; ``summary`` has
    ``total, producers, top_country, top_share, top3_share, hhi, estimated_share``.
    """

    material: Material
    commodity: str
    year: int
    unit: str
    rows: pd.DataFrame
    summary: dict[str, object]
    provenance: list[Provenance]


def _by_stage_hint(material: Material) -> str:
    """Where a material without a World Mining Data series has production: its stages whose
    catalogue series (USGS, IEA) may hold figures."""
    stages = [stage.name for stage in material.stages if stage.production]
    if not stages:
        return "`critmat materials` lists the materials with production data"
    return (
        f"production by stage: `critmat production {material.id} --stage {stages[0]}` "
        f"(stages with production series: {', '.join(stages)})"
    )


def production(store: Store, material_name: str, year: int | None) -> ProductionResult:
    """World production by country for ``material_name`` in ``year`` (World Mining Data;
    default: the series' latest year, :func:`year_or_latest`).

    An alias that names a stage with its own WMD series ("primary aluminium") uses that series;
    otherwise the material's main series (usually mine production).
    """
    resolved = load_catalogue().resolve(material_name)
    material = resolved.material
    stage_series = resolved.stage.wmd_commodity if resolved.stage else None
    commodity = stage_series or material.wmd_commodity
    if commodity is None:
        raise NoDataError(
            f"World Mining Data has no production series for {material.name}",
            hint=_by_stage_hint(material),
        )
    release = store.require_release("production")
    years = store.con.execute(
        "SELECT min(year), max(year) FROM production WHERE commodity = ? AND quantity IS NOT NULL",
        [commodity],
    ).fetchall()[0]
    if years[0] is None:
        raise NoDataError(
            f"the production release {release.citation()} has no rows for {commodity}"
        )
    year = year_or_latest(year, int(years[0]), int(years[1]), f"{commodity} production")
    from critmat.indicators.production import production_concentration, production_shares

    rows = production_shares(store.con, [commodity], [year])
    summary = production_concentration(store.con, [commodity], [year])
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    summary_row = _as_dict(summary.iloc[0]) if len(summary) else {}
    return ProductionResult(
        material=material,
        commodity=commodity,
        year=year,
        unit=unit,
        rows=rows[["country", "quantity", "unit", "share", "estimated", "rank"]],
        summary=summary_row,
        provenance=provenance_for(store.con, ["production"], [year]),
    )


class TradeQuestion(TypedDict, total=False):
    """What a trade answer is about, as keyword arguments: the ``importer`` (a country, a
    group or a list of ISO3 codes), the ``basis`` ("mass", the default, or "value") and the
    codes (a ``material``, at a ``stage``, or one ``hs`` code)."""

    importer: Required[str]
    basis: str
    material: str | None
    stage: str | None
    hs: str | None


class TradeYearQuestion(TradeQuestion, total=False):
    """A trade question about one ``year`` (``None`` or absent: the default year)."""

    year: int | None


class TradeSpanQuestion(TradeQuestion, total=False):
    """A trade question about the years ``first`` to ``last`` (``None``: the data's ends)."""

    first: int | None
    last: int | None


def _question_codes(
    store: Store, question: TradeQuestion, *, other_series: bool = False
) -> CodeSelection:
    """:func:`select_codes` of a question's material, stage or HS code."""
    return select_codes(
        store,
        material=question.get("material"),
        stage=question.get("stage"),
        hs=question.get("hs"),
        other_series=other_series,
    )


@dataclass(frozen=True)
class DependencyResult:
    """Imports of one importer, for one material stage or HS code, in one year.

    ``sources`` columns: ``origin, amount, share, third_country, value_kusd, quantity_t``,
    largest share first; ``amount`` is tonnes (mass basis) or thousand USD (value basis).
    ``summary`` is ``None`` when the importer has no imports on that basis in the year: no data,
    never a total of 0 or a share below 65 %. ``trade_source`` is the one release the figure
    comes from (:mod:`critmat.indicators.trade_sources`), ``years_with_data`` every year in
    which the importer has imports of the codes on that basis (each year in its own series).
    """

    importer: ImporterSet
    year: int
    basis: Basis
    material: Material | None
    stage: Stage | None
    hs_codes: tuple[str, ...]
    summary: dict[str, object] | None
    sources: pd.DataFrame
    provenance: list[Provenance]
    notes: list[str] = field(default_factory=list)
    trade_source: TradeSource | None = None
    years_with_data: tuple[int, ...] = ()

    @property
    def unit(self) -> str:
        return "t" if self.basis == "mass" else "kUSD"


def _codes_in_release(
    store: Store, hs_codes: tuple[str, ...], present: frozenset[str] | None = None
) -> set[str]:
    from critmat.indicators.flows_cache import trade_codes

    return set(hs_codes) & (trade_codes(store) if present is None else present)


def _flows(
    store: Store,
    importer: ImporterSet,
    codes: Sequence[str],
    years: Sequence[int],
    cache: FlowsCache | None,
) -> pd.DataFrame:
    """Import flows from the in-memory cache when it holds the importer, else from the store."""
    from critmat.indicators.imports import import_flows

    cached = cache.flows(store, importer, codes, years) if cache is not None else None
    return cached if cached is not None else import_flows(store.con, [importer], codes, years)


def _no_trade_rows(material: Material) -> NoDataError:
    return NoDataError(
        f"the current trade release has no rows for any HS code of {material.name} "
        f"({', '.join(material.hs_codes) or 'none catalogued'})",
        hint="import the full BACI with `critmat data import baci FILE`",
    )


@dataclass(frozen=True)
class CodeSelection:
    """What a query is about: a material stage (``material``/``stage`` set) or bare HS codes."""

    material: Material | None
    stage: Stage | None
    hs_codes: tuple[str, ...]
    notes: tuple[str, ...]


def select_codes(
    store: Store,
    *,
    material: str | None = None,
    stage: str | None = None,
    hs: str | None = None,
    known: tuple[Release, frozenset[str]] | None = None,
    other_series: bool = False,
) -> CodeSelection:
    """Resolve a material (and stage) or one HS6 code to the codes to query.

    Exactly one of ``material`` and ``hs`` must be given. The stage of a material is chosen by
    :meth:`~critmat.reference.materials.Catalogue.choose_stage` ("has data": one of its HS codes
    has rows in the current trade release, or with ``other_series`` — for answers that read
    each year in its own series, :mod:`critmat.indicators.trade_sources` — in another trade
    series in its HS revision). Raises :class:`NoDataError` when none of the codes has rows
    there. ``known`` (the current trade release and its HS6 codes, when the caller holds them
    already) saves the store queries.
    """
    if (material is None) == (hs is None):
        raise CritmatError("give either a material or --hs HS6 code, not both or neither")
    present = None if known is None else known[1]
    chosen_material: Material | None = None
    chosen_stage: Stage | None = None
    if material is not None:
        catalogue = load_catalogue()
        resolved = catalogue.resolve(material)
        chosen_material = resolved.material
        chosen_stage = catalogue.choose_stage(
            resolved,
            lambda s: (
                bool(s.hs_codes and _codes_in_release(store, s.hs_codes, present))
                or (other_series and _in_other_series(store, chosen_material, s, s.hs_codes))
            ),
            named=stage,
        )
        if chosen_stage is None:
            raise _no_trade_rows(chosen_material)
        codes = chosen_stage.hs_codes
    else:
        assert hs is not None
        code = hs.strip().replace(".", "")
        if not (len(code) == 6 and code.isdigit()):
            raise CritmatError(f"HS code '{hs}' is not a 6-digit code", hint="e.g. --hs 282200")
        codes = (code,)
    found = _codes_in_release(store, codes, present)
    release = store.require_release("trade") if known is None else known[0]
    if not found and not (
        other_series and _in_other_series(store, chosen_material, chosen_stage, codes)
    ):
        raise NoDataError(
            f"no trade rows for HS {', '.join(codes)} in the current release "
            f"({release.citation()})",
            hint="import the full BACI with `critmat data import baci FILE` for all HS6 codes",
        )
    notes = tuple(
        f"HS {code} has no rows in the current trade release ({release.citation()})"
        for code in codes
        if code not in found
    )
    return CodeSelection(chosen_material, chosen_stage, codes, notes)


def _in_other_series(
    store: Store, material: Material | None, stage: Stage | None, codes: Sequence[str]
) -> bool:
    """Whether a trade series other than the default holds rows for the stage's codes in its
    HS revision (or for ``codes`` when no stage is given)."""
    from critmat.indicators.trade_sources import trade_sources

    return len(trade_sources(store, material, stage, codes)) > 1


def check_basis(basis: str) -> Basis:
    """``basis`` if it is "mass" or "value", else a clear error."""
    if basis not in BASES:
        raise CritmatError(f"unknown basis '{basis}'", hint="use --basis mass or --basis value")
    return basis  # type: ignore[return-value]


def missing_quantity_note(share: float) -> list[str]:
    """A note when part of the import value has no quantity (left out of mass figures)."""
    if share < 5e-4:  # below 0.05 % it would read as 0.0 %
        return []
    return [
        f"{share:.1%} of the import value has no quantity in BACI and is left out of the "
        "mass figures"
    ]


def no_data_note(
    importer: ImporterSet,
    year: int,
    basis: Basis,
    source: TradeSource,
    by_year: pd.DataFrame,
) -> str:
    """What a dependency answer without imports says instead of a figure; ``by_year`` are the
    rows of :func:`~critmat.indicators.trade_sources.yearly_concentration` (years with data,
    each with its ``series``)."""
    where = ", ".join(source.hs_codes)
    runs = sorted(
        (min(group["year"]), f"{describe_years([int(y) for y in group['year']])} ({series})")
        for series, group in by_year.groupby("series")
    )
    held = "; ".join(text for _first, text in runs)
    return (
        f"no data: {importer.name} has no imports of {source.series} {where} on the {basis} "
        f"basis in {year} in {source.release.citation()}, so no shares and no 65 % flag (not "
        f"0, not below 65 %); years with data: {held or 'none in the current trade releases'}"
    )


def describe_years(years: Sequence[int]) -> str:
    """``[2001, 2002, 2003, 2010]`` → ``"2001–2003, 2010"``."""
    runs: list[list[int]] = []
    for year in sorted(set(years)):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def dependency(
    store: Store, *, flows_cache: FlowsCache | None = None, **question: Unpack[TradeYearQuestion]
) -> DependencyResult:
    """Where ``importer`` gets a material stage (or one HS6 code) from in ``year`` (default:
    the latest year in which it has imports of the codes, :func:`year_or_latest` over the
    years with data; with none, the trade releases' last year).

    Code selection as in :func:`select_codes`; the figure comes from one trade release
    (:func:`critmat.indicators.trade_sources.source_for_year`), which the result names.
    """
    from critmat.indicators.imports import dependency_summary
    from critmat.indicators.trade_sources import (
        source_flows,
        source_for_year,
        trade_sources,
        trade_span,
        yearly_concentration,
    )

    checked_basis = check_basis(question.get("basis", "mass"))
    importer_set = resolve_importer(question["importer"])
    selection = _question_codes(store, question, other_series=True)
    sources = trade_sources(store, selection.material, selection.stage, selection.hs_codes)
    eu = eu_members()
    by_year = yearly_concentration(
        store, importer_set, {"selection": sources}, checked_basis, eu, flows_cache
    )
    years_with_data = tuple(sorted(int(y) for y in by_year["year"]))
    year = question.get("year")
    first, last = trade_span(sources)
    latest = years_with_data[-1] if years_with_data and year is None else last
    year = year_or_latest(year, first, latest, "trade")
    source = source_for_year(sources, year)
    flows = source_flows(store, importer_set, source, [year], flows_cache)
    summary, shares = dependency_summary(flows, importer_set, source.hs_codes, checked_basis, eu)
    columns = ["origin", "amount", "share", "third_country", "value_kusd", "quantity_t"]
    sources_frame = shares[columns]
    notes = list(source.notes)
    if summary is None:
        notes.append(no_data_note(importer_set, year, checked_basis, source, by_year))
    elif checked_basis == "mass":
        notes += missing_quantity_note(float(summary["missing_quantity_value_share"] or 0.0))
    return DependencyResult(
        importer=importer_set,
        year=year,
        basis=checked_basis,
        material=selection.material,
        stage=selection.stage,
        hs_codes=source.hs_codes,
        summary=None if summary is None else _as_dict(summary),
        sources=sources_frame.reset_index(drop=True),
        provenance=[Provenance.of_release(source.release, (year,))],
        notes=notes,
        trade_source=source,
        years_with_data=years_with_data,
    )


@dataclass(frozen=True)
class SeriesResult:
    """A yearly table for one importer and one code selection, with its provenance.

    ``rows`` columns depend on the query (see the function that built it).
    """

    importer: ImporterSet
    selection: CodeSelection
    rows: pd.DataFrame
    provenance: list[Provenance]
    notes: list[str] = field(default_factory=list)


def _year_range(
    store: Store, first: int | None, last: int | None, span: tuple[int, int] | None = None
) -> list[int]:
    lo, hi = trade_years(store) if span is None else span
    start, end = first if first is not None else lo, last if last is not None else hi
    check_year(start, lo, hi, "trade")
    check_year(end, lo, hi, "trade")
    if start > end:
        raise CritmatError(f"--from {start} is after --to {end}")
    return list(range(start, end + 1))


def dependency_series(
    store: Store, *, flows_cache: FlowsCache | None = None, **question: Unpack[TradeSpanQuestion]
) -> SeriesResult:
    """Concentration of ``importer``'s imports year by year (default: every year with data).

    ``rows`` columns: ``year, series, total, suppliers, top_supplier, top_share, hhi,
    top_third_country, top_third_share, exceeds_65, missing_quantity_value_share``; each year
    from its one trade release (:func:`~critmat.indicators.trade_sources.source_for_year`).
    """
    from critmat.indicators.precomputed import CONCENTRATION_FIELDS
    from critmat.indicators.trade_sources import trade_sources, trade_span, yearly_concentration

    checked_basis = check_basis(question.get("basis", "mass"))
    importer_set = resolve_importer(question["importer"])
    selection = _question_codes(store, question, other_series=True)
    sources = trade_sources(store, selection.material, selection.stage, selection.hs_codes)
    span = trade_span(sources)
    years = _year_range(store, question.get("first"), question.get("last"), span)
    eu = eu_members()
    by_year = yearly_concentration(
        store, importer_set, {"selection": sources}, checked_basis, eu, flows_cache
    )
    rows = by_year.loc[by_year["year"].isin(years)].reset_index(drop=True)
    used = {
        int(release_id): sorted(int(y) for y in rows.loc[rows["release_id"] == release_id, "year"])
        for release_id in rows["release_id"].unique()
    }
    chosen = [s for s in sources if s.release.release_id in used] or sources[-1:]
    rows = rows[["year", "series", *CONCENTRATION_FIELDS]]
    return SeriesResult(
        importer=importer_set,
        selection=selection,
        rows=rows,
        provenance=[
            Provenance.of_release(s.release, tuple(used.get(s.release.release_id, ())))
            for s in chosen
        ],
        notes=list(dict.fromkeys(n for s in chosen for n in s.notes)),
    )


def reliance(store: Store, **question: Unpack[TradeSpanQuestion]) -> SeriesResult:
    """Apparent consumption and import reliance of ``importer`` for ``material``, by year.

    One block of rows per WMD series that has matching trade codes
    (:func:`critmat.indicators.consumption.consumption_pairs`), on the content basis:
    ``rows`` columns as :func:`~critmat.indicators.consumption.apparent_consumption_many`'s
    (``import_reliance`` ``None`` outside 0..1, with ``ir_reason``), without ``material`` and
    ``importer``.
    """
    from critmat.indicators.consumption import apparent_consumption_many, consumption_pairs

    importer_set = resolve_importer(question["importer"])
    material = question.get("material")
    if material is None:
        raise CritmatError("import reliance needs a material", hint="critmat reliance copper")
    resolved = load_catalogue().resolve(material).material
    if not consumption_pairs(resolved):
        raise NoDataError(
            f"no World Mining Data series of {resolved.name} has matching trade codes, so "
            "apparent consumption cannot be computed",
            hint=f"`critmat material {resolved.id}` shows its stages and codes",
        )
    years = _year_range(store, question.get("first"), question.get("last"))
    frame = apparent_consumption_many(store.con, [importer_set], [resolved], years)
    rows = frame.drop(columns=["material", "importer"]) if len(frame) else frame
    stage_codes = tuple(
        code for _commodity, stage in consumption_pairs(resolved) for code in stage.hs_codes
    )
    selection = CodeSelection(resolved, None, stage_codes, ())
    used = rows["year"].tolist() if len(rows) else []
    return SeriesResult(
        importer=importer_set,
        selection=selection,
        rows=rows,
        provenance=provenance_for(store.con, ["production", "trade"], used),
        notes=[
            "content basis: each traded code's tonnes times its content factor "
            "(reference/data/hs_content_factors.csv: stoichiometry, typical grade or the same "
            "form) before comparing with World Mining Data production; import_reliance_low/high "
            "from the factors' ranges; estimated",
            *_factor_notes(rows),
        ],
    )


def _factor_notes(rows: pd.DataFrame) -> list[str]:
    """The content factors each stage of a reliance table used, one note per stage."""
    if rows.empty:
        return []
    used = dict(zip(rows["stage"], rows["content_factors"], strict=True))
    return [f"{stage}: {text}" for stage, text in used.items()]


def unit_value_table(
    store: Store, *, flows_cache: FlowsCache | None = None, **question: Unpack[TradeYearQuestion]
) -> SeriesResult:
    """Unit values (USD/t) of ``importer``'s imports by origin in ``year`` (default: the trade
    release's last year, :func:`year_or_latest`), outliers flagged.

    ``rows`` columns: ``hs6, origin, value_kusd, quantity_t, usd_per_t, robust_z, outlier``,
    by code, then by unit value.
    """
    from critmat.indicators.unit_values import unit_values

    importer_set = resolve_importer(question["importer"])
    year = year_or_latest(question.get("year"), *trade_years(store), "trade")
    selection = _question_codes(store, question)
    flows = _flows(store, importer_set, selection.hs_codes, [year], flows_cache)
    table = unit_values(flows)
    rows = table.drop(columns=["importer", "year"]).sort_values(
        ["hs6", "usd_per_t"], ascending=[True, False], ignore_index=True
    )
    return SeriesResult(
        importer=importer_set,
        selection=selection,
        rows=rows,
        provenance=provenance_for(store.con, ["trade"], [year]),
        notes=list(selection.notes),
    )
