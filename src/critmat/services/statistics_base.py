"""What the statistics services share: value conversion, provenance and the precomputed tables
of the current releases (see :mod:`critmat.services.statistics`). The overview's production
blocks read their figures here too (:func:`production_figures`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd

from critmat.exports import json_value
from critmat.indicators import lookup
from critmat.indicators.flows_cache import FlowsCache
from critmat.indicators.imports import ImporterSet
from critmat.indicators.precomputed import Tables
from critmat.indicators.provenance import Provenance
from critmat.reference.countries import country_name
from critmat.services import statistics_models as m
from critmat.services.statistics_models import Computed, table
from critmat.store import Store

__all__ = [
    "Computed",
    "as_bool",
    "as_float",
    "as_int",
    "as_str",
    "cached_selection",
    "production_figures",
    "provenance",
    "ready_tables",
    "records",
    "safe_country_name",
    "table",
    "tables_of",
    "trade_span",
    "typed_fields",
]

T = TypeVar("T")

_MEMO_LIMIT = 20_000  # code selections remembered per release (see cached_selection)


# -- values (the JSON rule of NaN and infinity is critmat.exports.json_value) -------------------
def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as mappings of JSON values (:func:`critmat.exports.json_value`)."""
    return [
        {str(k): json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]


def _or_none(convert: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """``convert`` for a JSON value (:func:`critmat.exports.json_value`), ``None`` kept."""

    def typed(value: Any) -> T | None:
        value = json_value(value)
        return None if value is None else convert(value)

    return typed


#: A figure as a float, int, text or flag, missing (``None``, NaN) kept as ``None``.
as_float = _or_none(float)
as_int = _or_none(int)
as_str = _or_none(str)
as_bool = _or_none(bool)


def typed_fields(
    summary: Mapping[str, Any] | pd.Series[Any], types: Mapping[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    """The fields ``types`` names, each read from ``summary`` (missing: ``None``) and converted
    by its function (:func:`as_float`, :func:`as_int`, :func:`as_str`, :func:`as_bool`)."""
    return {name: convert(summary.get(name)) for name, convert in types.items()}


#: The world-production concentration figures and their types (see :func:`production_figures`).
PRODUCTION_FIGURES: dict[str, Callable[[Any], Any]] = {
    "total": as_float,
    "producers": as_int,
    "top_country": as_str,
    "top_share": as_float,
    "top3_share": as_float,
    "hhi": as_float,
    "estimated_share": as_float,
}


def production_figures(summary: Mapping[str, Any] | pd.Series[Any]) -> dict[str, Any]:
    """The concentration of world production of one commodity in one year, typed as the
    answers hold it (missing: ``None``), from a row of
    :func:`critmat.indicators.production.production_concentration`: ``total`` (in the series'
    unit), ``producers`` (countries), ``top_country`` and its ``top_share``, ``top3_share``,
    ``hhi`` and ``estimated_share`` (shares 0–1)."""
    return typed_fields(summary, PRODUCTION_FIGURES)


def provenance(items: Iterable[Provenance]) -> list[m.ProvenanceOut]:
    return [m.ProvenanceOut.of(p) for p in items]


def safe_country_name(iso3: str) -> str | None:
    try:
        return country_name(iso3)
    except Exception:  # a display name is optional
        return None


# -- the precomputed tables ------------------------------------------------------------------
def tables_of(
    store: Store, flows_cache: FlowsCache | None, release_ids: tuple[int, ...] | None
) -> Tables | None:
    """The precomputed tables of the current releases, if the cache can give them."""
    return None if flows_cache is None else flows_cache.tables(store, release_ids)


def ready_tables(
    flows_cache: FlowsCache | None, release_ids: tuple[int, ...] | None
) -> Tables | None:
    """The precomputed tables if already built for ``release_ids`` (never builds, no query):
    what the API uses to answer a cache miss at once, without a worker thread."""
    if flows_cache is None or release_ids is None:
        return None
    return flows_cache.ready(release_ids)


def cached_selection(
    store: Store,
    tables: Tables,
    material: str | None,
    stage: str | None,
    hs: str | None,
    *,
    other_series: bool = False,
) -> lookup.CodeSelection:
    """:func:`lookup.select_codes` from the tables' release and codes (remembered per release;
    ``other_series`` as there)."""
    key = ("select", material, stage, hs, other_series)
    found = tables.memo.get(key)
    if found is None:
        found = lookup.select_codes(
            store,
            material=material,
            stage=stage,
            hs=hs,
            known=(tables.trade_release, tables.trade_codes),
            other_series=other_series,
        )
        if len(tables.memo) >= _MEMO_LIMIT:  # spelling variants of names are unbounded
            tables.memo.clear()
        tables.memo[key] = found
    assert isinstance(found, lookup.CodeSelection)
    return found


def trade_span(tables: Tables) -> tuple[int, int]:
    """First and last year of the trade release the precomputed tables were built from."""
    release = tables.trade_release
    assert release.year_min is not None and release.year_max is not None
    return release.year_min, release.year_max


# -- yearly series answers ------------------------------------------------------------------
def series_out(
    importer: ImporterSet,
    selection: lookup.CodeSelection,
    basis: str | None,
    rows: list[dict[str, Any]],
    prov: Iterable[Provenance],
    notes: Sequence[str],
) -> m.SeriesOut:
    """The answer of a yearly series of ``importer``'s imports of ``selection``."""
    return m.SeriesOut(
        importer=importer.name,
        importer_members=sorted(importer.members),
        material=selection.material.id if selection.material else None,
        stage=selection.stage.name if selection.stage else None,
        hs_codes=list(selection.hs_codes),
        basis=basis,
        rows=rows,
        provenance=provenance(prov),
        notes=list(notes),
    )


def series_computed(model: m.SeriesOut, columns: Sequence[str], title: str) -> Computed:
    """A series answer with its table (one row per year, the importer first)."""
    rows = [{"importer": model.importer, **row} for row in model.rows]
    return Computed(model, table(["importer", *columns], rows, title))
