"""The Member State view: each EU Member State's own import dependencies, and the 27 side by side.

A Member State's imports of a material stage (CEPII BACI, from every partner but itself) split
into **extra-EU** (from third countries) and **intra-EU** (from the other 26 Member States):

    total        = Σ_o x_o                 (o ≠ the Member State; tonnes or thousand USD)
    extra_eu     = Σ_{o ∉ EU} x_o          intra_eu = total − extra_eu
    extra_eu_share = extra_eu / total      intra_eu_share = intra_eu / total
    top_extra_eu_share = max_{o ∉ EU} x_o / total
    top_extra_eu_share_of_extra_eu = max_{o ∉ EU} x_o / extra_eu

**The 65 % flag** (:data:`FLAG_RULE`): the CRMA benchmark (Regulation (EU) 2024/1252, Art.
5(1)(b)) is that no more than 65 % of the *Union's* consumption of a strategic raw material at
any stage comes from a single third country. Applied to one Member State, what it gets from
other Member States is Union supply: it counts in the denominator (all its imports) and is never
the "single third country". ``exceeds_65`` is therefore ``top_extra_eu_share > 0.65``, the same
rule as :mod:`critmat.indicators.imports` uses for a Member State; the share of the extra-EU
imports alone is given beside it, so a reader sees both. No imports in the data: ``None`` ("no
data"), never 0 and never "below 65 %".

**Which release**: a (stage, year) figure comes from one trade release — the newest HS revision
whose release covers the year and holds at least one of the stage's codes in that revision
(HS17 for 2024 where the stage has HS17 codes in the extract, else HS92). Each figure names its
series, release, HS codes and, where a code holds several materials (HS17 811292), the bundle
note. Used by ``critmat member-state``/``member-states``, ``/api/v1/member-states/...`` and the
web's country and Member State pages.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import pandas as pd
from pydantic import BaseModel, Field

from critmat.errors import CritmatError, UnknownNameError
from critmat.indicators import lookup
from critmat.indicators.imports import (
    CRMA_SINGLE_COUNTRY_LIMIT,
    Basis,
    ImporterSet,
    group_flows,
    import_flows,
    import_shares,
)
from critmat.indicators.provenance import Provenance
from critmat.indicators.trade_sources import (
    TradeSource,
    source_for_year,
    trade_sources,
    trade_span,
)
from critmat.reference.countries import country_name, is_group, resolve_country
from critmat.reference.materials import Catalogue, Material, Stage, load_catalogue
from critmat.services.context import ServiceContext
from critmat.services.statistics_base import as_float, as_int, as_str, provenance
from critmat.services.statistics_models import Computed, ProvenanceOut, table
from critmat.store import Release, Store

FLAG_RULE = (
    "exceeds_65: the largest single third-country (non-EU) supplier's share of the Member "
    "State's imports from all partners, other Member States included, is above 65 %. The CRMA "
    "benchmark (Art. 5(1)(b)) is set for the Union's consumption; applied to one Member State, "
    "what it gets from other Member States is Union supply: in the denominator, never the "
    "single third country. The same supplier's share of the extra-EU imports alone is given "
    "beside it. No imports in the data: no data (null), never a pass."
)


def flag_text(exceeds_65: bool | None) -> str:
    """How every presentation writes the flag: above, below or no data (never "below" for
    missing data)."""
    if exceeds_65 is None:
        return "no data"
    return "EXCEEDS 65 %" if exceeds_65 else "below 65 %"


T = TypeVar("T")


# -- the answers -------------------------------------------------------------------------------
class ImportSplit(BaseModel):
    """A Member State's imports of one material stage in one year, split extra-/intra-EU."""

    year: int | None = Field(description="the year of the figure (null: no year with data)")
    series: str | None = Field(description="the trade series (HS revision) of the figure")
    release_id: int | None = Field(description="the store's id of that trade release")
    release: str | None = Field(description="source and version of the trade release")
    hs_codes: list[str] = Field(description="the HS6 codes of the stage the release holds")
    total: float | None = Field(description="imports from all partners, in `unit`")
    value_kusd: float | None = Field(description="imports from all partners, thousand USD")
    quantity_t: float | None = Field(description="imports from all partners, tonnes")
    extra_eu: float | None = Field(description="imports from outside the EU, in `unit`")
    intra_eu: float | None = Field(description="imports from other Member States, in `unit`")
    extra_eu_share: float | None = Field(description="extra_eu / total (0–1)")
    intra_eu_share: float | None = Field(description="intra_eu / total (0–1)")
    suppliers: int | None
    top_supplier: str | None = Field(description="largest partner (EU or not), ISO3")
    top_supplier_share: float | None
    top_extra_eu_supplier: str | None = Field(description="largest third country, ISO3")
    top_extra_eu_share: float | None = Field(description="its share of all imports (0–1)")
    top_extra_eu_share_of_extra_eu: float | None = Field(
        description="its share of the extra-EU imports alone (0–1)"
    )
    exceeds_65: bool | None = Field(description="top_extra_eu_share > 0.65; null: no data")
    missing_quantity_value_share: float | None = Field(
        description="mass basis: share of the import value without a published quantity"
    )
    notes: list[str] = Field(default_factory=list)


class TrendPoint(BaseModel):
    """One year of a stage's dependency (the years its data hold)."""

    year: int
    series: str
    release_id: int
    total: float | None
    extra_eu_share: float | None
    top_extra_eu_supplier: str | None
    top_extra_eu_share: float | None
    exceeds_65: bool | None


class StageNames(BaseModel):
    """The material stage an answer is about (ids and names)."""

    material: str
    material_name: str
    stage: str
    stage_label: str


class StageDependency(ImportSplit, StageNames):
    """A Member State's dependency for one material stage (latest year) and its trend."""

    trend: list[TrendPoint] = Field(default_factory=list)


class Answer(BaseModel):
    """What both answers say about their figures: the basis, its unit, how the 65 % flag is
    applied, the trade releases used and the notes."""

    basis: str
    unit: str
    flag_rule: str
    provenance: list[ProvenanceOut]
    notes: list[str]


class MemberStateDependencies(Answer):
    """One Member State's dependencies for every strategic material stage (or one material)."""

    country: str
    name: str
    dependencies: list[StageDependency]


class MemberStateRow(ImportSplit):
    """One Member State in the comparison of the 27."""

    country: str
    name: str


class MemberStatesComparison(Answer, StageNames):
    """The 27 Member States side by side for one material stage and year (27 rows, a row
    without imports holding nulls)."""

    year: int | None
    years: list[int] = Field(description="every year the stage's trade data hold")
    member_states: list[MemberStateRow]


# -- which country -----------------------------------------------------------------------------
def member_state_code(text: str) -> str:
    """The ISO3 code of the Member State ``text`` names (a code or a name).

    An unknown name raises :class:`UnknownNameError` with the Member States it may mean
    ("GER" → DEU); a country outside the EU a :class:`CritmatError` saying so.
    """
    eu = lookup.eu_members()
    if is_group(text):
        raise CritmatError(
            f"{text.strip()} is a group of countries, not a Member State",
            hint=f"one of {', '.join(sorted(eu))}; for a group's imports type "
            f"`critmat dependency <material> --importer {text.strip()}`",
        )
    try:
        iso3 = resolve_country(text)
    except UnknownNameError:
        raise UnknownNameError("Member State", text, suggest_member_states(text)) from None
    if iso3 not in eu:
        raise CritmatError(
            f"{iso3} ({country_name(iso3)}) is not an EU Member State: the Member State view "
            "covers the 27 only",
            hint=f"one of {', '.join(sorted(eu))}; for {iso3}'s own imports type "
            f"`critmat dependency <material> --importer {iso3}`",
        )
    return iso3


def suggest_member_states(text: str, limit: int = 3) -> list[str]:
    """Member States whose name starts with ``text`` ("GER"), whose code starts ``text``
    ("Deutschland"), or whose code or name is close to it."""
    key = text.strip().upper()
    names = {iso3: country_name(iso3).upper() for iso3 in sorted(lookup.eu_members())}
    found = [iso3 for iso3, name in names.items() if key and name.startswith(key)]
    found += [iso3 for iso3 in names if len(key) > 3 and key.startswith(iso3)]
    by_name = {name: iso3 for iso3, name in names.items()}
    close = difflib.get_close_matches(key, [*names, *by_name], n=limit, cutoff=0.6)
    found += [by_name.get(c, c) for c in close]
    return list(dict.fromkeys(found))[:limit]


# -- which release ---------------------------------------------------------------------------
def stage_years(store: Store, material: Material, stage: Stage) -> dict[int, TradeSource]:
    """Every year a trade release holds the stage's codes in, with the one release its figure
    comes from (:func:`critmat.indicators.trade_sources.source_for_year`: HS17 for 2024 where
    the stage has HS17 codes in the extract, else HS92)."""
    if not (stage.hs_codes or stage.hs17_codes):
        return {}
    sources = trade_sources(store, material, stage, stage.hs_codes)
    first, last = trade_span(sources)
    chosen = {y: source_for_year(sources, y) for y in range(first, last + 1)}
    return {y: source for y, source in chosen.items() if source.covers(y)}


def _held(source: TradeSource) -> list[str]:
    """The source's codes with rows in its release, in the stage's order."""
    return [c for c in source.hs_codes if c in source.found]


# -- the computation ---------------------------------------------------------------------------
_KEYS = ["code_group", "importer", "year"]


def _first_by_share(shares: pd.DataFrame) -> pd.DataFrame:
    """The largest origin of each (code group, importer, year); ties to the first ISO3 code."""
    ranked = shares.sort_values(["share", "origin"], ascending=[False, True])
    return ranked.drop_duplicates(_KEYS).set_index(_KEYS)


def split_summaries(
    raw: pd.DataFrame, basis: Basis, importers: Iterable[str]
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The extra-/intra-EU split of each (code group, importer, year) of ``raw``
    (:func:`critmat.indicators.imports.group_flows` rows of Member States)."""
    if raw.empty:
        return {}
    eu = lookup.eu_members()
    shares = import_shares(raw, basis, eu, {i: True for i in importers})
    if shares.empty:
        return {}
    third = shares.loc[shares["third_country"].astype(bool)]
    frame = shares.groupby(_KEYS).agg(total=("amount", "sum"), suppliers=("origin", "count"))
    frame["extra_eu"] = third.groupby(_KEYS)["amount"].sum()
    frame["extra_eu"] = frame["extra_eu"].fillna(0.0)
    top = _first_by_share(shares)
    frame["top_supplier"] = top["origin"]
    frame["top_supplier_share"] = top["share"]
    top_third = _first_by_share(third)
    frame["top_extra_eu_supplier"] = top_third["origin"]
    frame["top_extra_eu_amount"] = top_third["amount"]
    money = raw.groupby(_KEYS).agg(
        value_kusd=("value_kusd", "sum"),
        quantity_t=("quantity_t", lambda s: s.sum(min_count=1)),
        no_quantity=("value_kusd_no_quantity", "sum"),
    )
    frame = frame.join(money, how="left")
    out: dict[tuple[str, str, int], dict[str, Any]] = {}
    for key, row in frame.iterrows():
        group, importer, year = cast(tuple[str, str, int], key)
        out[(str(group), str(importer), int(year))] = _split(row, basis)
    return out


def _split(row: pd.Series, basis: Basis) -> dict[str, Any]:
    """The :class:`ImportSplit` figures of one summary row."""
    total = float(row["total"])
    extra = float(row["extra_eu"])
    top_amount = as_float(row["top_extra_eu_amount"])
    top_share = None if top_amount is None else top_amount / total
    value = as_float(row["value_kusd"])
    missing = as_float(row["no_quantity"])
    return {
        "total": total,
        "value_kusd": value,
        "quantity_t": as_float(row["quantity_t"]),
        "extra_eu": extra,
        "intra_eu": total - extra,
        "extra_eu_share": extra / total,
        "intra_eu_share": (total - extra) / total,
        "suppliers": as_int(row["suppliers"]),
        "top_supplier": as_str(row["top_supplier"]),
        "top_supplier_share": as_float(row["top_supplier_share"]),
        "top_extra_eu_supplier": as_str(row["top_extra_eu_supplier"]),
        "top_extra_eu_share": top_share if top_share is not None else 0.0,
        "top_extra_eu_share_of_extra_eu": None
        if top_amount is None or extra <= 0
        else top_amount / extra,
        "exceeds_65": bool(top_share is not None and top_share > CRMA_SINGLE_COUNTRY_LIMIT),
        "missing_quantity_value_share": (missing / value)
        if basis == "mass" and value and missing is not None
        else None,
    }


def _flows(
    store: Store,
    importers: Sequence[ImporterSet],
    wanted: Mapping[str, Mapping[str, TradeSource]],
    years: Sequence[int] | None,
) -> dict[str, pd.DataFrame]:
    """:func:`group_flows` rows per series: ``wanted`` maps a code group to the codes each
    series gives it (``{group: {series: TradeSource}}``)."""
    by_series: dict[str, dict[str, tuple[str, ...]]] = {}
    for group, per_series in wanted.items():
        for series, chosen in per_series.items():
            by_series.setdefault(series, {})[group] = tuple(_held(chosen))
    out = {}
    for series, groups in by_series.items():
        codes = {c for cs in groups.values() for c in cs}
        flows = import_flows(store.con, importers, codes, years, series=series)
        out[series] = group_flows(flows, groups)
    return out


def _no_data(notes: list[str]) -> dict[str, Any]:
    """The figures of a stage and year without imports: every one missing."""
    return {name: None for name in ImportSplit.model_fields if name != "notes"} | {
        "hs_codes": [],
        "notes": notes,
    }


def _source_fields(chosen: TradeSource, year: int) -> dict[str, Any]:
    release = chosen.release
    return {
        "year": year,
        "series": release.series,
        "release_id": release.release_id,
        "release": f"{release.source} {release.version}",
        "hs_codes": _held(chosen),
    }


def _unit(basis: Basis) -> str:
    return "t" if basis == "mass" else "thousand USD"


def _basis(basis: str) -> Basis:
    if basis not in ("mass", "value"):
        raise CritmatError(f"unknown basis '{basis}'", hint="type mass (tonnes) or value (USD)")
    return "value" if basis == "value" else "mass"


def _group(material: Material, stage: Stage) -> str:
    return f"{material.id}/{stage.name}"


def _stages(
    catalogue: Catalogue, material: str | None, stage: str | None
) -> list[tuple[Material, Stage]]:
    """The (material, stage) pairs asked for: every non-proxy stage of each strategic material,
    or of ``material`` (at ``stage`` if given)."""
    if material is None:
        if stage is not None:
            raise CritmatError(
                "a stage needs a material",
                hint="name the material too: --material cobalt (CLI), material=cobalt (API)",
            )
        return [(m, s) for m in catalogue.strategic() for s in m.stages if not s.proxy]
    chosen = catalogue.resolve(material)
    if stage is not None:
        return [(chosen.material, chosen.material.stage(stage))]
    if chosen.stage is not None:
        return [(chosen.material, chosen.stage)]
    return [(chosen.material, s) for s in chosen.material.stages]


def _names(material: Material, stage: Stage) -> dict[str, Any]:
    """The :class:`StageNames` fields of ``material`` at ``stage``."""
    return {
        "material": material.id,
        "material_name": material.name,
        "stage": stage.name,
        "stage_label": stage.label,
    }


def _about(
    basis: Basis, releases: Sequence[Release], used: Mapping[int, set[int]], notes: list[str]
) -> dict[str, Any]:
    """The :class:`Answer` fields: ``used`` maps a release id to the years read in it."""
    return {
        "basis": basis,
        "unit": _unit(basis),
        "flag_rule": FLAG_RULE,
        "provenance": _provenance(releases, used),
        "notes": notes,
    }


def _provenance(releases: Sequence[Release], used: Mapping[int, set[int]]) -> list[ProvenanceOut]:
    return provenance(
        Provenance.of_release(r, tuple(sorted(used[r.release_id])))
        for r in releases
        if used.get(r.release_id)
    )


def _stage_dependency(
    material: Material,
    stage: Stage,
    years: Mapping[int, TradeSource],
    found: Mapping[tuple[str, str, int], dict[str, Any]],
    iso3: str,
    year: int | None,
) -> StageDependency:
    """One stage's row: the figure of ``year`` (default: the latest year with imports) and
    the trend over every year its data hold."""
    group = _group(material, stage)
    trend = []
    for y, source in years.items():
        figures = found.get((group, iso3, y))
        trend.append(
            TrendPoint(
                year=y,
                series=source.series,
                release_id=source.release.release_id,
                **{k: (figures or {}).get(k) for k in _TREND_FIELDS},
            )
        )
    names = _names(material, stage) | {"trend": trend}
    if year is None:
        with_data = [p.year for p in trend if p.total is not None]
        year = max(with_data) if with_data else (max(years) if years else None)
    chosen = None if year is None else years.get(year)
    if year is None or chosen is None:
        why = (
            "no HS codes catalogued for this stage"
            if not _has_codes(stage)
            else (
                f"no trade release holds this stage's codes in {year}"
                if year is not None
                else "no trade release holds this stage's codes"
            )
        )
        return StageDependency.model_validate(names | _no_data([why]) | {"year": year})
    notes = list(chosen.notes)
    figures = found.get((group, iso3, year))
    if figures is None:
        notes.append(f"no imports into {iso3} in the data for {year}: no data, not 0")
        return StageDependency.model_validate(
            names | _no_data(notes) | _source_fields(chosen, year)
        )
    fields = _source_fields(chosen, year) | figures | {"notes": notes}
    return StageDependency.model_validate(names | fields)


_TREND_FIELDS = (
    *("total", "extra_eu_share", "top_extra_eu_supplier", "top_extra_eu_share", "exceeds_65"),
)


def _has_codes(stage: Stage) -> bool:
    return bool(stage.hs_codes or stage.hs17_codes)


def _remembered(
    ctx: ServiceContext | None, namespace: str, params: Hashable, compute: Callable[[], T]
) -> T:
    """``compute()``, remembered per current releases in ``ctx`` when there is one."""
    return compute() if ctx is None else ctx.remember(namespace, params, compute)


def dependencies(
    store: Store,
    country: str,
    *,
    material: str | None = None,
    stage: str | None = None,
    year: int | None = None,
    basis: str = "mass",
    ctx: ServiceContext | None = None,
) -> MemberStateDependencies:
    """A Member State's dependency for every strategic material stage (or ``material``'s
    stages): the figure of ``year`` (default: each stage's latest year with imports) and the
    trend over every year its data hold. ``ctx`` remembers the answer per release."""
    iso3 = member_state_code(country)
    checked = _basis(basis)
    params = (iso3, material, stage, year, checked)
    compute = partial(_dependencies, store, iso3, material, stage, year, checked)
    return _remembered(ctx, "member-state-dependencies", params, compute)


def _dependencies(
    store: Store,
    iso3: str,
    material: str | None,
    stage: str | None,
    year: int | None,
    basis: Basis,
) -> MemberStateDependencies:
    catalogue = load_catalogue()
    releases = store.current_releases("trade")
    pairs = _stages(catalogue, material, stage)
    years = {_group(m, s): stage_years(store, m, s) for m, s in pairs}
    if year is not None:  # a clear error outside every release's years
        first = min(r.year_min for r in releases if r.year_min is not None)
        last = max(r.year_max for r in releases if r.year_max is not None)
        lookup.check_year(year, first, last, "trade")
    wanted = {g: {c.series: c for c in ys.values()} for g, ys in years.items()}
    importer = ImporterSet.country(iso3, lookup.eu_members())
    found: dict[tuple[str, str, int], dict[str, Any]] = {}
    for series, raw in _flows(store, [importer], wanted, None).items():
        found |= _chosen_only(split_summaries(raw, basis, [iso3]), series, years)
    rows = [_stage_dependency(m, s, years[_group(m, s)], found, iso3, year) for m, s in pairs]
    used: dict[int, set[int]] = {}
    for row in rows:
        for point in row.trend:
            used.setdefault(point.release_id, set()).add(point.year)
    notes = [FLAG_RULE]
    if material is None:
        notes.append("strategic raw materials (CRMA Annex I), every stage but proxy stages")
    about = _about(basis, releases, used, notes)
    return MemberStateDependencies(
        country=iso3, name=country_name(iso3), dependencies=rows, **about
    )


def _chosen_only(
    found: dict[tuple[str, str, int], dict[str, Any]],
    series: str,
    years: Mapping[str, Mapping[int, TradeSource]],
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The summaries of ``series`` kept only for the (group, year) pairs whose chosen release
    is that series (a year's figure comes from one release)."""
    return {
        k: v
        for k, v in found.items()
        if (c := years.get(k[0], {}).get(k[2])) is not None and c.series == series
    }


def comparison(
    store: Store,
    material: str,
    *,
    stage: str | None = None,
    year: int | None = None,
    basis: str = "mass",
    ctx: ServiceContext | None = None,
) -> MemberStatesComparison:
    """The 27 Member States side by side for one material stage (default: the catalogue's
    choice) in ``year`` (default: the latest year the stage's data hold)."""
    checked = _basis(basis)
    params = (material, stage, year, checked)
    compute = partial(_comparison, store, material, stage, year, checked)
    return _remembered(ctx, "member-states-comparison", params, compute)


def _comparison(
    store: Store, material: str, stage: str | None, year: int | None, basis: Basis
) -> MemberStatesComparison:
    catalogue = load_catalogue()
    resolved = catalogue.resolve(material)
    releases = store.current_releases("trade")

    def has_data(candidate: Stage) -> bool:
        return bool(stage_years(store, resolved.material, candidate))

    chosen_stage = catalogue.choose_stage(resolved, has_data, stage)
    if chosen_stage is None:
        raise CritmatError(
            f"no trade release holds the HS codes of any stage of {resolved.material.name}",
            hint="stages: " + ", ".join(s.name for s in resolved.material.stages),
        )
    years = stage_years(store, resolved.material, chosen_stage)
    if not years:
        raise CritmatError(
            f"no trade release holds the HS codes of {resolved.material.name} · "
            f"{chosen_stage.label}",
            hint="another stage: " + ", ".join(s.name for s in resolved.material.stages),
        )
    chosen_year = lookup.year_or_latest(year, min(years), max(years), "trade")
    if chosen_year not in years:
        raise CritmatError(
            f"no trade release holds the codes of {chosen_stage.label} in {chosen_year}",
            hint="years with data: " + ", ".join(str(y) for y in sorted(years)),
        )
    chosen = years[chosen_year]
    eu = sorted(lookup.eu_members())
    importers = [ImporterSet.country(i, eu) for i in eu]
    group = _group(resolved.material, chosen_stage)
    raws = _flows(store, importers, {group: {chosen.series: chosen}}, [chosen_year])
    found = split_summaries(raws[chosen.series], basis, eu)
    notes = list(chosen.notes)
    rows = []
    for iso3 in eu:
        figures = found.get((group, iso3, chosen_year))
        fields = _source_fields(chosen, chosen_year)
        if figures is None:
            fields = _no_data([f"no imports in the data for {chosen_year}"]) | fields
        else:
            fields |= figures
        rows.append(MemberStateRow(country=iso3, name=country_name(iso3), **fields))
    missing = [r.country for r in rows if r.total is None]
    if missing:
        notes.append(f"no imports on the {basis} basis in {chosen_year}: {', '.join(missing)}")
    used = {chosen.release.release_id: {chosen_year}}
    return MemberStatesComparison(
        year=chosen_year,
        years=sorted(years),
        member_states=rows,
        **_names(resolved.material, chosen_stage),
        **_about(basis, releases, used, [FLAG_RULE, *notes]),
    )


# -- the tables of the answers (CLI --format csv, API and web downloads) -------------------------
SPLIT_COLUMNS = [
    *("year", "series", "release_id", "release", "hs_codes", "total", "value_kusd"),
    *("quantity_t", "extra_eu", "intra_eu", "extra_eu_share", "intra_eu_share", "suppliers"),
    *("top_supplier", "top_supplier_share", "top_extra_eu_supplier", "top_extra_eu_share"),
    *("top_extra_eu_share_of_extra_eu", "exceeds_65", "missing_quantity_value_share", "notes"),
]
DEPENDENCY_COLUMNS = ["country", "material", "stage", "basis", *SPLIT_COLUMNS]
COMPARISON_COLUMNS = ["material", "stage", "basis", "country", "name", *SPLIT_COLUMNS]


def _flat(row: ImportSplit, columns: Sequence[str], **extra: Any) -> dict[str, Any]:
    """``row`` as one flat row in ``columns``' order (HS codes and notes joined)."""
    data = extra | row.model_dump(exclude={"trend"})
    data["hs_codes"] = ";".join(data["hs_codes"])
    data["notes"] = "; ".join(data["notes"])
    return {c: data.get(c) for c in columns}


def dependency_rows(answer: MemberStateDependencies) -> list[dict[str, Any]]:
    """One flat row per stage in :data:`DEPENDENCY_COLUMNS`."""
    extra = {"country": answer.country, "basis": answer.basis}
    return [_flat(r, DEPENDENCY_COLUMNS, **extra) for r in answer.dependencies]


def comparison_rows(answer: MemberStatesComparison) -> list[dict[str, Any]]:
    """One flat row per Member State in :data:`COMPARISON_COLUMNS`."""
    extra = {"material": answer.material, "stage": answer.stage, "basis": answer.basis}
    return [_flat(r, COMPARISON_COLUMNS, **extra) for r in answer.member_states]


def dependencies_computed(answer: MemberStateDependencies) -> Computed:
    """The answer with its download table (API ``format=csv|xlsx``)."""
    title = f"{answer.country} dependencies"
    return Computed(answer, table(DEPENDENCY_COLUMNS, dependency_rows(answer), title))


def comparison_computed(answer: MemberStatesComparison) -> Computed:
    """The answer with its download table (API ``format=csv|xlsx``)."""
    title = "member states comparison"
    return Computed(answer, table(COMPARISON_COLUMNS, comparison_rows(answer), title))
