"""Per-release tables for the hot questions of a service, held in memory.

The data only change with a release, and a service answers the same few kinds of question
(where does an importer get a material stage from, how did that change by year, how do the
Member States compare, who produces a material) for the same usual importers (EU27 and each
Member State). :class:`Tables` holds, for one set of current releases:

* the origins of every (code group, importer, year) of those importers, for every current trade
  release a figure may come from (the default series, HS92, and each other series in an HS
  revision of the catalogue, e.g. HS17: :mod:`critmat.indicators.trade_sources`):
  :func:`group_flows` of their import flows over every catalogued stage's codes and every
  catalogued HS6 code in that release's revision, as numpy columns indexed by key
  (:class:`OriginTable`, one per release);
* :func:`production_shares` and :func:`production_concentration` of every commodity, indexed by
  (commodity, year);
* the current releases (for provenance and year ranges) and the HS6 codes with trade rows in
  the default series.

:func:`concentration` is the formula of :func:`import_shares` / :func:`import_concentration` for
one group, in numpy: a question is then answered in well under a millisecond, with no store
query. ``tests/api_stats/test_stats_precomputed.py`` checks it against the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from critmat.indicators.imports import (
    CRMA_SINGLE_COUNTRY_LIMIT,
    Basis,
    ImporterSet,
    group_flows,
    import_flows,
)
from critmat.indicators.production import production_concentration, production_shares
from critmat.indicators.provenance import Provenance
from critmat.reference.materials import HS_REVISIONS, load_catalogue
from critmat.store import Release, Store

CONCENTRATION_FIELDS = (
    "total",
    "suppliers",
    "top_supplier",
    "top_share",
    "hhi",
    "top_third_country",
    "top_third_share",
    "exceeds_65",
    "missing_quantity_value_share",
)


@dataclass(frozen=True)
class GroupShares:
    """Shares of the origins of one (code group, importer, year) on one basis.

    ``origins``, ``amounts``, ``shares`` and ``third`` list the origins with an amount on the
    basis, largest share first (ties: origin code); ``order`` their positions in the input.
    ``summary`` has the :data:`CONCENTRATION_FIELDS` (``None`` when no origin has an amount).
    """

    order: list[int]
    origins: list[str]
    amounts: list[float]
    shares: list[float]
    third: list[bool]
    summary: dict[str, Any] | None


def concentration(
    origins: Sequence[str],
    value_kusd: np.ndarray,
    quantity_t: np.ndarray,
    value_kusd_no_quantity: np.ndarray,
    basis: Basis,
    third_country: Sequence[bool],
) -> GroupShares:
    """Shares, HHI, top supplier, largest third country and the CRMA 65 % flag of one group.

    The formulas of :func:`critmat.indicators.imports.import_shares` and
    :func:`~critmat.indicators.imports.import_concentration` (see that module), for the rows of
    one code group, importer and year of :func:`group_flows`. ``third_country[i]`` says whether
    origin ``i`` counts as a third country for this importer.
    """
    raw = quantity_t if basis == "mass" else value_kusd
    amount = np.asarray(raw, dtype=float)
    with np.errstate(invalid="ignore"):
        kept = np.flatnonzero(amount > 0)  # NaN (no quantity) compares False
    value_total = float(np.sum(value_kusd))
    missing = float(np.sum(value_kusd_no_quantity)) / value_total if value_total > 0 else None
    if not len(kept):
        return GroupShares([], [], [], [], [], None)
    total = float(np.sum(amount[kept]))
    share = amount[kept] / total
    positions: list[int] = kept.tolist()
    ranked = sorted(range(len(positions)), key=lambda j: (-share[j], origins[positions[j]]))
    order = [positions[j] for j in ranked]
    shares = [float(share[j]) for j in ranked]
    picked = [origins[i] for i in order]
    third = [bool(third_country[i]) for i in order]
    first_third = next((k for k, is_third in enumerate(third) if is_third), None)
    top_third_share = shares[first_third] if first_third is not None else 0.0
    summary: dict[str, Any] = {
        "total": total,
        "suppliers": len(order),
        "top_supplier": picked[0],
        "top_share": shares[0],
        "hhi": float(np.sum(share * share)),
        "top_third_country": picked[first_third] if first_third is not None else None,
        "top_third_share": top_third_share,
        "exceeds_65": top_third_share > CRMA_SINGLE_COUNTRY_LIMIT,
        "missing_quantity_value_share": missing,
    }
    return GroupShares(order, picked, [float(amount[i]) for i in order], shares, third, summary)


def codes_key(hs_codes: Iterable[str]) -> str:
    """The key of a code group: its sorted, distinct HS6 codes joined by commas."""
    return ",".join(sorted(set(hs_codes)))


def catalogue_code_groups(revision: str | None = None) -> dict[str, tuple[str, ...]]:
    """Every catalogued stage's codes and every catalogued HS6 code alone, by :func:`codes_key`,
    in HS revision ``revision`` (default: the stages' HS92 codes, those of the default series)."""
    catalogue = load_catalogue()
    groups: dict[str, tuple[str, ...]] = {}
    for mat in catalogue:
        for stage in mat.stages:
            codes = stage.hs_codes if revision is None else catalogue.hs_codes(stage, revision)
            if codes:
                groups[codes_key(codes)] = tuple(sorted(set(codes)))
                for code in codes:
                    groups[code] = (code,)
    return groups


@dataclass(frozen=True)
class Origins:
    """The origin rows of one (code group, importer, year)."""

    origins: list[str]
    value_kusd: np.ndarray
    quantity_t: np.ndarray
    value_kusd_no_quantity: np.ndarray

    def shares(
        self, basis: Basis, importer: ImporterSet, eu_members: frozenset[str]
    ) -> GroupShares:
        third = [not (importer.inside_eu and o in eu_members) for o in self.origins]
        return concentration(
            self.origins,
            self.value_kusd,
            self.quantity_t,
            self.value_kusd_no_quantity,
            basis,
            third,
        )


_EMPTY = np.array([], dtype=float)


@dataclass(frozen=True)
class OriginTable:
    """The origins of every (code group, importer, year) of one trade release: the rows of
    :func:`group_flows` as numpy columns, with the positions of each key."""

    release: Release
    groups: frozenset[str]
    _origin: np.ndarray
    _value: np.ndarray
    _quantity: np.ndarray
    _no_quantity: np.ndarray
    _index: dict[tuple[str, str, int], np.ndarray]

    @classmethod
    def of(
        cls, release: Release, flows: pd.DataFrame, groups: dict[str, tuple[str, ...]]
    ) -> OriginTable:
        """The table of ``release`` from its :func:`import_flows` rows and code ``groups``."""
        sources = group_flows(flows, groups)
        index: dict[Any, Any] = sources.groupby(
            ["code_group", "importer", "year"], sort=False
        ).indices
        return cls(
            release=release,
            groups=frozenset(groups),
            _origin=sources["origin"].astype(str).to_numpy(dtype=object),
            _value=sources["value_kusd"].to_numpy(dtype=float),
            _quantity=sources["quantity_t"].to_numpy(dtype=float),
            _no_quantity=sources["value_kusd_no_quantity"].to_numpy(dtype=float),
            _index={(str(k[0]), str(k[1]), int(k[2])): np.asarray(v) for k, v in index.items()},
        )

    def origins(self, hs_codes: Iterable[str], importer: str, year: int) -> Origins:
        """The origin rows of one group, importer and year (empty when it imported none)."""
        found = self._index.get((codes_key(hs_codes), importer, int(year)))
        if found is None:
            return Origins([], _EMPTY, _EMPTY, _EMPTY)
        return Origins(
            self._origin[found].tolist(),
            self._value[found],
            self._quantity[found],
            self._no_quantity[found],
        )


def other_trade_tables(
    store: Store, importers: Sequence[ImporterSet], default: Release
) -> dict[int, OriginTable]:
    """An :class:`OriginTable` of every current trade release besides ``default`` whose series
    is an HS revision of the catalogue (the releases a figure may be read from besides the
    default series: :func:`critmat.indicators.trade_sources.trade_sources`), by release id."""
    tables: dict[int, OriginTable] = {}
    for release in store.current_releases("trade"):
        if release.release_id == default.release_id or release.series not in HS_REVISIONS:
            continue
        flows = import_flows(store.con, importers, series=release.series)
        groups = catalogue_code_groups(release.series)
        tables[release.release_id] = OriginTable.of(release, flows, groups)
    return tables


@dataclass
class Tables:
    """The precomputed tables of one set of current releases (see the module docstring)."""

    release_ids: tuple[int, ...]
    releases: dict[str, Release]
    trade_codes: frozenset[str]
    importers: dict[str, ImporterSet]
    trade: dict[int, OriginTable]
    _production: pd.DataFrame
    _production_index: dict[tuple[str, int], np.ndarray]
    _production_summary: dict[tuple[str, int], dict[str, Any]]
    production_years: dict[str, tuple[int, int]]
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        store: Store,
        flows: pd.DataFrame,
        importers: Sequence[ImporterSet],
        trade_codes: frozenset[str],
    ) -> Tables:
        """Tables from the :func:`import_flows` rows of ``importers`` (all codes and years of
        the default trade series); the other trade series are read here."""
        releases = {r.dataset: r for r in store.releases(current_only=True)}
        default = releases["trade"]
        trade = {default.release_id: OriginTable.of(default, flows, catalogue_code_groups())}
        trade |= other_trade_tables(store, importers, default)
        shares = production_shares(store.con)
        summary = production_concentration(store.con)
        positions: dict[Any, Any] = shares.groupby(["commodity", "year"], sort=False).indices
        years = shares.groupby("commodity")["year"].agg(["min", "max"])
        summaries = {
            (str(row["commodity"]), int(row["year"])): {str(k): v for k, v in row.items()}
            for row in summary.to_dict(orient="records")
        }
        return cls(
            # every current series, so that the tables match Store.release_key()
            release_ids=store.release_key(),
            releases=releases,
            trade_codes=trade_codes,
            importers={s.name: s for s in importers},
            trade=trade,
            _production=shares,
            _production_index={(str(k[0]), int(k[1])): np.asarray(v) for k, v in positions.items()},
            _production_summary=summaries,
            production_years={str(c): (int(r["min"]), int(r["max"])) for c, r in years.iterrows()},
        )

    # -- trade -----------------------------------------------------------------------------
    def _table(self, release: Release | None) -> OriginTable | None:
        """The origin table of ``release`` (default: the default series) if held."""
        return self.trade.get((release or self.trade_release).release_id)

    def covers(
        self, importer: ImporterSet, hs_codes: Iterable[str], release: Release | None = None
    ) -> bool:
        """Whether the tables hold this importer and code group in ``release`` (default: the
        default trade series)."""
        known = self.importers.get(importer.name)
        table = self._table(release)
        return (
            known is not None
            and table is not None
            and known.members == importer.members
            and known.inside_eu == importer.inside_eu
            and codes_key(hs_codes) in table.groups
        )

    def origins(
        self, hs_codes: Iterable[str], importer: str, year: int, release: Release | None = None
    ) -> Origins:
        """The origin rows of one group, importer and year in ``release`` (default: the default
        trade series); empty when it imported none or the release is not held."""
        table = self._table(release)
        if table is None:
            return Origins([], _EMPTY, _EMPTY, _EMPTY)
        return table.origins(hs_codes, importer, year)

    @property
    def trade_release(self) -> Release:
        """The current release of the default trade series."""
        return self.releases["trade"]

    # -- production --------------------------------------------------------------------------
    def production_rows(self, commodity: str, year: int) -> list[dict[str, Any]]:
        """Rows of :func:`production_shares` for one commodity and year, by rank."""
        found = self._production_index.get((commodity, int(year)))
        if found is None:
            return []
        picked = self._production.iloc[found]
        columns = ["country", "quantity", "unit", "share", "estimated", "rank"]
        values = {c: picked[c].tolist() for c in columns}
        return [{c: values[c][i] for c in columns} for i in range(len(found))]

    def production_summary(self, commodity: str, year: int) -> dict[str, Any]:
        """The :func:`production_concentration` row of one commodity and year (or ``{}``)."""
        return self._production_summary.get((commodity, int(year)), {})

    # -- provenance --------------------------------------------------------------------------
    def provenance(self, datasets: Iterable[str], years: Iterable[int] = ()) -> list[Provenance]:
        """As :func:`~critmat.indicators.provenance.provenance_for`, from the held releases."""
        used = tuple(sorted(set(years)))
        return [
            Provenance.of_release(r, used)
            for name in sorted(set(datasets))
            if (r := self.releases.get(name)) is not None
        ]


def current_release_ids(store: Store) -> tuple[int, ...]:
    """The ids of the current releases, sorted (:meth:`Store.release_key`)."""
    return store.release_key()
