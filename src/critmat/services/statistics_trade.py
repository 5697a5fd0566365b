"""Trade statistics: where an importer's supply comes from (dependency), year by year
(series), apparent consumption and import reliance, unit values and the Member States' imports.

Each answer comes from the precomputed tables of the current releases when they hold it (the
``fast_*`` functions, which answer ``None`` otherwise) and else from the general path
(:mod:`critmat.indicators.lookup`, flows and SQL). Both give the same figures (to about 1e-12:
tests/api_stats/test_stats_precomputed.py). Use them through :mod:`critmat.services.statistics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

import pandas as pd

from critmat.indicators import lookup
from critmat.indicators.dependency_table import StageDependency, stage_dependencies
from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.imports import (
    BASES,
    Basis,
    ImporterSet,
    group_flows,
    import_concentration,
    import_flows,
)
from critmat.indicators.lookup import TradeQuestion, TradeSpanQuestion, TradeYearQuestion
from critmat.indicators.precomputed import CONCENTRATION_FIELDS, GroupShares, Tables
from critmat.indicators.provenance import Provenance, provenance_for
from critmat.indicators.trade_sources import TradeSource, source_for_year, trade_sources
from critmat.indicators.trade_sources import trade_span as sources_span
from critmat.reference.countries import country_name
from critmat.reference.materials import Material, Stage, load_catalogue
from critmat.services import statistics_models as m
from critmat.services.context import ServiceContext
from critmat.services.statistics_base import (
    Computed,
    as_bool,
    as_float,
    as_int,
    as_str,
    cached_selection,
    provenance,
    records,
    series_computed,
    series_out,
    table,
    tables_of,
    trade_span,
    typed_fields,
)
from critmat.store import Store


def _table_basis(basis: str) -> Basis | None:
    """``basis`` as the tables know it; ``None`` for one only the general path can reject."""
    if basis not in BASES:
        return None
    return "value" if basis == "value" else "mass"


@dataclass(frozen=True)
class _HeldQuestion:
    """A trade question the precomputed tables hold: the importer, the codes asked for and the
    trade sources its years are read from (:func:`trade_sources`, each release held)."""

    importer: ImporterSet
    selection: lookup.CodeSelection
    sources: list[TradeSource]

    def shares(self, tables: Tables, basis: Basis, year: int) -> tuple[TradeSource, GroupShares]:
        """The origins of ``year`` from its one source (:func:`source_for_year`)."""
        source = source_for_year(self.sources, year)
        got = tables.origins(source.hs_codes, self.importer.name, year, source.release)
        return source, got.shares(basis, self.importer, lookup.eu_members())


def _held_on_table_basis(
    store: Store, tables: Tables, question: TradeQuestion
) -> tuple[Basis, _HeldQuestion] | None:
    """The question's basis and the question, if the tables hold both (else ``None``: the
    general path answers)."""
    checked = _table_basis(question.get("basis", "mass"))
    held = None if checked is None else _held_question(store, tables, question)
    return None if checked is None or held is None else (checked, held)


def _held_question(store: Store, tables: Tables, question: TradeQuestion) -> _HeldQuestion | None:
    """The question, if the tables hold the flows of every source of the codes asked for into
    the importer (else ``None``: the general path answers)."""
    importer = lookup.resolve_importer(question["importer"])
    if importer.name not in tables.importers:
        return None
    selection = cached_selection(
        store,
        tables,
        question.get("material"),
        question.get("stage"),
        question.get("hs"),
        other_series=True,
    )
    sources = _trade_sources(store, tables, selection)
    if not all(tables.covers(importer, s.hs_codes, s.release) for s in sources):
        return None
    return _HeldQuestion(importer, selection, sources)


#: The concentration figures of an answer and their types (:data:`CONCENTRATION_FIELDS`).
_CONCENTRATION_TYPES: dict[str, Callable[[Any], Any]] = {
    "total": as_float,
    "suppliers": as_int,
    "top_supplier": as_str,
    "top_share": as_float,
    "hhi": as_float,
    "top_third_country": as_str,
    "top_third_share": as_float,
    "exceeds_65": as_bool,
    "missing_quantity_value_share": as_float,
}


def _concentration(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The concentration figures of a summary row, typed as the answers hold them; without a
    row every figure is ``None`` — no data, never a total of 0 and never "not above 65 %"."""
    return typed_fields(summary, _CONCENTRATION_TYPES)


def _trade_sources(
    store: Store, tables: Tables, selection: lookup.CodeSelection
) -> list[TradeSource]:
    """:func:`~critmat.indicators.trade_sources.trade_sources` of ``selection``, remembered
    with the tables (one set of current releases)."""
    key = ("trade-sources", selection)
    found = tables.memo.get(key)
    if found is None:
        found = trade_sources(store, selection.material, selection.stage, selection.hs_codes)
        tables.memo[key] = found
    assert isinstance(found, list)
    return found


def _tables_years(tables: Tables, held: _HeldQuestion, basis: Basis) -> tuple[int, ...]:
    """The years in which the tables hold imports of the question's codes into its importer,
    each year in its one source (remembered with the tables)."""
    key = ("years", held.selection, held.importer.name, basis)
    found = tables.memo.get(key)
    if found is None:
        first, last = sources_span(held.sources)
        found = tuple(
            year
            for year in range(first, last + 1)
            if held.shares(tables, basis, year)[1].summary is not None
        )
        tables.memo[key] = found
    assert isinstance(found, tuple)
    return found


def fast_dependency(
    store: Store, tables: Tables, **question: Unpack[TradeYearQuestion]
) -> Computed | None:
    """:func:`dependency` from the precomputed tables, each year from its one trade source
    (HS92 or HS17), a year without imports as no data with the general path's note; ``None``
    when they do not hold it (an importer or code they do not hold: the general path
    answers)."""
    found = _held_on_table_basis(store, tables, question)
    if found is None:
        return None
    checked, held = found
    years_with_data = _tables_years(tables, held, checked)
    first, last = sources_span(held.sources)
    latest = years_with_data[-1] if years_with_data and question.get("year") is None else last
    chosen_year = lookup.year_or_latest(question.get("year"), first, latest, "trade")
    source, got = held.shares(tables, checked, chosen_year)
    rows = [
        {"origin": o, "amount": a, "share": sh, "third_country": t}
        for o, a, sh, t in zip(got.origins, got.amounts, got.shares, got.third, strict=True)
    ]
    notes = list(source.notes)
    if got.summary is None:  # no data: the general path's note, the years from the tables
        by_year = pd.DataFrame(
            {
                "year": list(years_with_data),
                "series": [source_for_year(held.sources, y).series for y in years_with_data],
            }
        )
        notes.append(lookup.no_data_note(held.importer, chosen_year, checked, source, by_year))
    elif checked == "mass":
        notes += lookup.missing_quantity_note(
            float(got.summary["missing_quantity_value_share"] or 0.0)
        )
    return _dependency_computed(
        _DependencyFacts(
            held.importer,
            chosen_year,
            checked,
            held.selection.material,
            held.selection.stage,
            source,
            years_with_data,
        ),
        got.summary,
        rows,
        [Provenance.of_release(source.release, (chosen_year,))],
        notes,
    )


def dependency(
    store: Store,
    *,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
    **question: Unpack[TradeYearQuestion],
) -> Computed:
    """Where the importer's imports of the codes come from in the year: the origins' amounts
    and shares and the concentration figures (the precomputed tables' answer if they hold it,
    else :func:`critmat.indicators.lookup.dependency`'s). No imports: no data (``total`` and
    ``exceeds_65`` ``None``, a note and the years with data)."""
    tables = tables_of(store, flows_cache, release_ids)
    fast = None if tables is None else fast_dependency(store, tables, **question)
    if fast is not None:
        return fast
    result = lookup.dependency(store, **question, flows_cache=flows_cache)
    assert result.trade_source is not None
    return _dependency_computed(
        _DependencyFacts(
            result.importer,
            result.year,
            result.basis,
            result.material,
            result.stage,
            result.trade_source,
            result.years_with_data,
        ),
        result.summary,
        records(result.sources),
        result.provenance,
        result.notes,
    )


@dataclass(frozen=True)
class _DependencyFacts:
    """What a dependency answer is about: importer, year, basis, material stage, the one trade
    source its figures come from, and the years with data."""

    importer: ImporterSet
    year: int
    basis: Basis
    material: Material | None
    stage: Stage | None
    source: TradeSource
    years_with_data: tuple[int, ...]


def _dependency_computed(
    facts: _DependencyFacts,
    summary: Mapping[str, Any] | None,
    source_rows: list[dict[str, Any]],
    prov: Iterable[Provenance],
    notes: list[str],
) -> Computed:
    basis = facts.basis
    amount_key = "quantity" if basis == "mass" else "value"
    sources = [
        m.SourceOut.model_validate(
            {
                "country": r["origin"],
                amount_key: r["amount"],
                "share": r["share"],
                "third_country": bool(r["third_country"]),
            }
        )
        for r in source_rows
    ]
    model = m.DependencyOut(
        importer=facts.importer.name,
        importer_members=sorted(facts.importer.members),
        year=facts.year,
        basis=basis,
        unit="t" if basis == "mass" else "thousand USD",
        material=facts.material.id if facts.material else None,
        stage=facts.stage.name if facts.stage else None,
        hs_codes=list(facts.source.hs_codes),
        **_concentration(summary or {}),
        series=facts.source.series,
        hs_revision=facts.source.series,
        release_id=facts.source.release.release_id,
        years_with_data=list(facts.years_with_data),
        sources=sources,
        provenance=provenance(prov),
        notes=notes,
    )
    table_rows = [
        {
            "importer": model.importer,
            "year": model.year,
            "basis": model.basis,
            "material": model.material,
            "stage": model.stage,
            "series": model.series,
            "hs_codes": model.hs_codes,
            "country": s.country,
            amount_key: getattr(s, amount_key),
            "share": s.share,
            "third_country": s.third_country,
        }
        for s in sources
    ]
    columns = ["importer", "year", "basis", "material", "stage", "series", "hs_codes", "country"]
    columns += [amount_key, "share", "third_country"]
    return Computed(model, table(columns, table_rows, "dependency"))


def _series_model(
    result: lookup.SeriesResult, basis: str | None, extra_notes: Sequence[str] = ()
) -> m.SeriesOut:
    return series_out(
        result.importer,
        result.selection,
        basis,
        records(result.rows),
        result.provenance,
        [*result.notes, *extra_notes],
    )


def fast_series(
    store: Store, tables: Tables, **question: Unpack[TradeSpanQuestion]
) -> Computed | None:
    """:func:`dependency_series` from the precomputed tables, each year from its one trade
    source; ``None`` when they do not hold it or the years need the general path's error."""
    found = _held_on_table_basis(store, tables, question)
    if found is None:
        return None
    checked, held = found
    year_min, year_max = sources_span(held.sources)
    first, last = question.get("first"), question.get("last")
    start = year_min if first is None else first
    end = year_max if last is None else last
    if not year_min <= start <= end <= year_max:
        return None
    rows: list[dict[str, Any]] = []
    used: dict[int, list[int]] = {}
    for year in range(start, end + 1):
        source, got = held.shares(tables, checked, year)
        if got.summary is not None:
            rows.append({"year": year, "series": source.series, **got.summary})
            used.setdefault(source.release.release_id, []).append(year)
    chosen = [s for s in held.sources if s.release.release_id in used] or held.sources[-1:]
    prov = [
        Provenance.of_release(s.release, tuple(used.get(s.release.release_id, ()))) for s in chosen
    ]
    notes = list(dict.fromkeys(n for s in chosen for n in s.notes))
    basis = question.get("basis", "mass")
    model = series_out(held.importer, held.selection, basis, rows, prov, notes)
    return series_computed(model, SERIES_COLUMNS, "dependency series")


#: The columns of a dependency series (``critmat trend``), each row from one trade series.
SERIES_COLUMNS = ["year", "series", *CONCENTRATION_FIELDS]


def dependency_series(
    store: Store,
    *,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
    **question: Unpack[TradeSpanQuestion],
) -> Computed:
    """The importer's import concentration year by year (the precomputed tables' answer if
    they hold it, else :func:`critmat.indicators.lookup.dependency_series`'s)."""
    tables = tables_of(store, flows_cache, release_ids)
    fast = None if tables is None else fast_series(store, tables, **question)
    if fast is not None:
        return fast
    result = lookup.dependency_series(store, **question, flows_cache=flows_cache)
    model = _series_model(result, question.get("basis", "mass"))
    return series_computed(model, SERIES_COLUMNS, "dependency series")


def unit_values(
    store: Store, *, flows_cache: FlowsCache | None = None, **question: Unpack[TradeYearQuestion]
) -> Computed:
    """Unit values of the importer's imports of the codes by origin in the year (default: the
    trade release's last year), outliers flagged."""
    chosen_year = lookup.year_or_latest(question.get("year"), *lookup.trade_years(store), "trade")
    result = lookup.unit_value_table(
        store, flows_cache=flows_cache, **(question | {"year": chosen_year})
    )
    model = _series_model(result, None)
    model.rows = [{"year": chosen_year, **row} for row in model.rows]
    return series_computed(model, ["year", *result.rows.columns], "unit values")


def _member_state_rows(
    store: Store,
    flows_cache: FlowsCache | None,
    importers: list[ImporterSet],
    hs_codes: Sequence[str],
    year: int,
    basis: Basis,
) -> dict[str, dict[str, Any]]:
    """Concentration rows of each Member State by ISO3, the general way (flows and SQL)."""
    eu = lookup.eu_members()
    cached = [
        flows_cache.flows(store, i, hs_codes, [year]) for i in importers if flows_cache is not None
    ]
    flows = (
        pd.concat([f for f in cached if f is not None], ignore_index=True)
        if cached and all(f is not None for f in cached)
        else import_flows(store.con, importers, hs_codes, [year])
    )
    sources = group_flows(flows, {"selection": hs_codes})
    frame = import_concentration(sources, basis, eu, {i.name: True for i in importers})
    return {str(r["importer"]): r for r in records(frame)}


def member_states(
    store: Store,
    *,
    material: str,
    year: int | None,
    stage: str | None,
    basis: str,
    flows_cache: FlowsCache | None = None,
    release_ids: tuple[int, ...] | None = None,
) -> Computed:
    found = _member_states(
        store,
        tables_of(store, flows_cache, release_ids),
        material=material,
        year=year,
        stage=stage,
        basis=basis,
        flows_cache=flows_cache,
    )
    assert found is not None
    return found


def fast_member_states(
    store: Store, tables: Tables, *, material: str, year: int | None, stage: str | None, basis: str
) -> Computed | None:
    """:func:`member_states` from the precomputed tables; ``None`` when they do not hold it."""
    return _member_states(
        store,
        tables,
        material=material,
        year=year,
        stage=stage,
        basis=basis,
        flows_cache=None,
        fast_only=True,
    )


def _member_states(
    store: Store,
    tables: Tables | None,
    *,
    material: str,
    year: int | None,
    stage: str | None,
    basis: str,
    flows_cache: FlowsCache | None,
    fast_only: bool = False,
) -> Computed | None:
    eu = lookup.eu_members()
    importers = [ImporterSet.country(iso3, eu) for iso3 in sorted(eu)]
    checked: Basis = "value" if basis == "value" else "mass"
    by_country: dict[str, dict[str, Any]] = {}
    if tables is not None:
        chosen_year = lookup.year_or_latest(year, *trade_span(tables), "trade")
        selection = cached_selection(store, tables, material, stage, None)
        prov = tables.provenance(["trade"], [chosen_year])
    else:
        chosen_year = lookup.year_or_latest(year, *lookup.trade_years(store), "trade")
        selection = lookup.select_codes(store, material=material, stage=stage)
        prov = provenance_for(store.con, ["trade"], [chosen_year])
    assert selection.material is not None and selection.stage is not None
    if tables is not None and all(tables.covers(i, selection.hs_codes) for i in importers):
        for i in importers:
            got = tables.origins(selection.hs_codes, i.name, chosen_year).shares(checked, i, eu)
            if got.summary is not None:
                by_country[i.name] = got.summary
    elif fast_only:
        return None
    else:
        by_country = _member_state_rows(
            store, flows_cache, importers, selection.hs_codes, chosen_year, checked
        )
    rows = []
    for iso3 in sorted(eu):
        r = by_country.get(iso3)
        if r is None:
            continue
        rows.append(m.MemberStateOut(country=iso3, name=country_name(iso3), **_concentration(r)))
    notes = list(selection.notes)
    missing = sorted(eu - {r.country for r in rows})
    if missing:
        notes.append(f"no imports on the {checked} basis in {chosen_year}: {', '.join(missing)}")
    model = m.MemberStatesOut(
        material=selection.material.id,
        stage=selection.stage.name,
        hs_codes=list(selection.hs_codes),
        year=chosen_year,
        basis=checked,
        unit="t" if checked == "mass" else "thousand USD",
        member_states=rows,
        provenance=provenance(prov),
        notes=notes,
    )
    table_rows = [
        {"material": model.material, "stage": model.stage, "year": model.year, "basis": checked}
        | r.model_dump()
        for r in rows
    ]
    columns = ["material", "stage", "year", "basis", *m.MemberStateOut.model_fields]
    return Computed(model, table(columns, table_rows, "member states"))


# -- every strategic material ----------------------------------------------------------------
def strategic_dependencies(
    ctx: ServiceContext, importer: str, year: int | None = None, basis: str = "mass"
) -> Computed:
    """The dependency of ``importer`` (EU27, a Member State's ISO3, a group...) at every stage
    of every CRMA strategic raw material (Annex I, catalogue order), once per release: for each
    stage the year (``year``, or its latest year with imports), the one trade release it comes
    from (series, HS revision, release id, codes), the top origin and share, the HHI, the
    largest third country and the 65 % flag — or no data with its reason (all figures and
    ``exceeds_65`` ``None``). ``.model`` is a :class:`StrategicDependenciesOut`; ``.table`` its
    rows for a download."""
    checked = lookup.check_basis(basis)
    importer_set = lookup.resolve_importer(importer)

    def compute() -> Computed:
        with ctx.open_store() as store:
            return _strategic_dependencies(store, importer_set, year, checked, ctx.flows)

    params = (importer_set.name, tuple(sorted(importer_set.members)), year, checked)
    return ctx.remember("statistics.strategic-dependencies", params, compute)


def _strategic_row(found: StageDependency) -> m.StrategicDependencyOut:
    source = found.source
    with_data = found.summary is not None
    return m.StrategicDependencyOut(
        material=found.material.id,
        material_name=found.material.name,
        stage=found.stage.name,
        stage_label=found.stage.label,
        year=found.year,
        series=source.series if source else None,
        hs_revision=source.series if source else None,
        release_id=source.release.release_id if source else None,
        release=source.release.citation() if source else None,
        hs_codes=list(source.hs_codes) if source else list(found.stage.hs_codes),
        **_concentration(found.summary or {}),
        status="data" if with_data else "no data",
        no_data_reason=found.reason,
        years_with_data=list(found.years_with_data),
        notes=list(source.notes) if source else [],
    )


def _strategic_dependencies(
    store: Store, importer: ImporterSet, year: int | None, basis: Basis, flows: FlowsCache | None
) -> Computed:
    catalogue = load_catalogue()
    strategic = [mat for mat in catalogue.materials if catalogue.is_strategic(mat.id)]
    if year is not None:
        releases = store.current_releases("trade")
        first = min(r.year_min for r in releases if r.year_min is not None)
        last = max(r.year_max for r in releases if r.year_max is not None)
        lookup.check_year(year, first, last, "trade")
    found = stage_dependencies(store, importer, strategic, year, basis, lookup.eu_members(), flows)
    rows = [_strategic_row(f) for f in found]
    used: dict[int, set[int]] = {}
    for f in found:
        if f.source is not None and f.summary is not None and f.year is not None:
            used.setdefault(f.source.release.release_id, set()).add(f.year)
    prov = [
        Provenance.of_release(r, tuple(sorted(used[r.release_id])))
        for r in store.current_releases("trade")
        if r.release_id in used
    ]
    missing = [f"{r.material}/{r.stage}" for r in rows if r.status == "no data"]
    notes = [f"no data at {len(missing)} stages: {', '.join(missing)}"] if missing else []
    model = m.StrategicDependenciesOut(
        importer=importer.name,
        importer_members=sorted(importer.members),
        basis=basis,
        unit="t" if basis == "mass" else "thousand USD",
        year=year,
        rows=rows,
        provenance=provenance(prov),
        notes=notes,
    )
    columns = ["material", "stage", "year", "series", "release_id", "hs_codes", "top_supplier"]
    columns += ["top_share", "hhi", "top_third_country", "top_third_share", "exceeds_65"]
    columns += ["status", "no_data_reason"]
    table_rows = [{"importer": importer.name} | r.model_dump() for r in rows]
    return Computed(model, table(["importer", *columns], table_rows, "strategic dependencies"))
