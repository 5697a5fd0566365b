"""Imports by origin and their concentration (CEPII BACI), for any importer or group.

An *importer set* S is one country or a group treated as one economy (EU27: extra-EU flows only,
so trade between members is left out). For a set S, a group of HS6 codes K (one material stage,
or one code), a year y and a basis b (``mass``: tonnes; ``value``: thousand USD):

    x_o   = Σ_{i∈S, k∈K} flow_b(o → i, k, y)          for each origin o ∉ S
    share_o = x_o / Σ_o x_o
    HHI   = Σ_o share_o²                              (0..1)
    exceeds_65 = max_{o third country} share_o > 0.65 (CRMA Art. 5(1)(b) benchmark)

"Third country" means outside the EU when S lies inside the EU (EU27 or Member States), and any
origin other than S otherwise. On the mass basis, flows that BACI publishes without a quantity
are left out of the sums (never counted as zero); ``missing_quantity_value_share`` says what
share of the import value that concerns, so a reader sees how much the mass figure omits.
Summing tonnes over several HS codes adds gross weights of different products: prefer one code
or the value basis where the codes differ much in content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import pandas as pd

Basis = Literal["mass", "value"]
BASES: tuple[Basis, ...] = ("mass", "value")
CRMA_SINGLE_COUNTRY_LIMIT = 0.65


@dataclass(frozen=True)
class ImporterSet:
    """An importer: one country (``name`` = its ISO3) or a group of countries as one economy."""

    name: str
    members: frozenset[str]
    inside_eu: bool = False

    @classmethod
    def country(cls, iso3: str, eu_members: Iterable[str] = ()) -> ImporterSet:
        return cls(iso3, frozenset({iso3}), inside_eu=iso3 in set(eu_members))


def _sets_frame(importers: Sequence[ImporterSet]) -> pd.DataFrame:
    rows = [(s.name, m, s.inside_eu) for s in importers for m in sorted(s.members)]
    return pd.DataFrame(rows, columns=["importer", "member", "inside_eu"])


def _codes_frame(codes: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    rows = [(group, hs6) for group, hs_codes in codes.items() for hs6 in sorted(set(hs_codes))]
    return pd.DataFrame(rows, columns=["code_group", "hs6"])


def import_sources(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    codes: Mapping[str, Iterable[str]],
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Imports of each importer set by origin, per code group and year.

    ``codes`` maps a code-group key (e.g. ``"cobalt/processing"`` or an HS6 code) to its HS6
    codes. Returns columns ``code_group, importer, year, origin, value_kusd, quantity_t,
    value_kusd_no_quantity, flows`` where ``quantity_t`` sums the flows with a known quantity
    (NaN when none has one) and ``value_kusd_no_quantity`` is the value of those without.
    """
    con.register("_sets", _sets_frame(importers))
    con.register("_codes", _codes_frame(codes))
    try:
        return con.execute(
            """
            SELECT c.code_group, s.importer, t.year, t.exporter AS origin,
                   sum(t.value_kusd) AS value_kusd,
                   sum(t.quantity_t) AS quantity_t,
                   coalesce(sum(t.value_kusd) FILTER (WHERE t.quantity_t IS NULL), 0)
                       AS value_kusd_no_quantity,
                   count(*) AS flows
            FROM trade t
            JOIN _codes c ON t.hs6 = c.hs6
            JOIN _sets s ON t.importer = s.member
            ANTI JOIN _sets s2 ON s2.importer = s.importer AND s2.member = t.exporter
            WHERE (? IS NULL OR list_contains(?, t.year))
            GROUP BY ALL
            ORDER BY c.code_group, s.importer, t.year, value_kusd DESC
            """,
            [None if years is None else list(years)] * 2,
        ).df()
    finally:
        con.unregister("_sets")
        con.unregister("_codes")


def import_shares(
    sources: pd.DataFrame, basis: Basis, eu_members: Iterable[str], inside_eu: Mapping[str, bool]
) -> pd.DataFrame:
    """Shares of each origin in the imports of ``sources`` (output of :func:`import_sources`).

    Adds ``amount`` (tonnes or thousand USD by ``basis``), ``share`` and ``third_country``
    (origin outside the EU for importers inside it; every origin otherwise). Origins with no
    amount on the basis (no quantity known) are dropped. Sorted by share, largest first.
    """
    column = "quantity_t" if basis == "mass" else "value_kusd"
    frame = sources.loc[sources[column].notna() & (sources[column] > 0)].copy()
    frame["amount"] = frame[column]
    keys = ["code_group", "importer", "year"]
    totals = frame.groupby(keys)["amount"].transform("sum")
    frame["share"] = frame["amount"] / totals
    eu = frozenset(eu_members)
    in_eu = frame["importer"].isin([name for name, inside in inside_eu.items() if inside])
    frame["third_country"] = ~(in_eu & frame["origin"].isin(eu))
    return frame.sort_values([*keys, "share"], ascending=[True, True, True, False]).reset_index(
        drop=True
    )


def import_concentration(
    sources: pd.DataFrame, basis: Basis, eu_members: Iterable[str], inside_eu: Mapping[str, bool]
) -> pd.DataFrame:
    """Concentration of imports per code group, importer and year.

    Columns: ``code_group, importer, year, basis, total, suppliers, top_supplier, top_share,
    hhi, top_third_country, top_third_share, exceeds_65, missing_quantity_value_share``.
    ``total`` is in tonnes (mass) or thousand USD (value).
    """
    shares = import_shares(sources, basis, eu_members, inside_eu)
    keys = ["code_group", "importer", "year"]
    if shares.empty:
        return pd.DataFrame(
            columns=[
                *keys,
                "basis",
                "total",
                "suppliers",
                "top_supplier",
                "top_share",
                "hhi",
                "top_third_country",
                "top_third_share",
                "exceeds_65",
                "missing_quantity_value_share",
            ]
        )
    shares = shares.assign(share_squared=shares["share"] ** 2)
    grouped = shares.groupby(keys, sort=True)
    first = grouped.head(1).set_index(keys)
    third = shares.loc[shares["third_country"]].groupby(keys).head(1).set_index(keys)
    result = pd.DataFrame(
        {
            "total": grouped["amount"].sum(),
            "suppliers": grouped["amount"].size(),
            "hhi": grouped["share_squared"].sum(),
        }
    )
    result["top_supplier"] = first["origin"]
    result["top_share"] = first["share"]
    result["top_third_country"] = third["origin"].reindex(result.index)
    result["top_third_share"] = third["share"].reindex(result.index).fillna(0.0)
    result["exceeds_65"] = result["top_third_share"] > CRMA_SINGLE_COUNTRY_LIMIT
    value = sources.groupby(keys)[["value_kusd", "value_kusd_no_quantity"]].sum()
    missing = (value["value_kusd_no_quantity"] / value["value_kusd"]).where(value["value_kusd"] > 0)
    result["missing_quantity_value_share"] = missing.reindex(result.index)
    result["basis"] = basis
    result = result.reset_index()
    return result[
        [
            *keys,
            "basis",
            "total",
            "suppliers",
            "top_supplier",
            "top_share",
            "hhi",
            "top_third_country",
            "top_third_share",
            "exceeds_65",
            "missing_quantity_value_share",
        ]
    ]


def dependency_summary(
    con: duckdb.DuckDBPyConnection,
    importer: ImporterSet,
    hs_codes: Iterable[str],
    year: int,
    basis: Basis,
    eu_members: Iterable[str],
) -> tuple[pd.Series | None, pd.DataFrame]:
    """Concentration row and ranked origins for one importer, one code group and one year.

    Returns ``(summary, sources)``: ``summary`` is one row of :func:`import_concentration`
    (``None`` when there are no imports on this basis), ``sources`` the rows of
    :func:`import_shares`, largest first.
    """
    eu = list(eu_members)
    raw = import_sources(con, [importer], {"selection": list(hs_codes)}, [year])
    flags = {importer.name: importer.inside_eu}
    shares = import_shares(raw, basis, eu, flags)
    concentration = import_concentration(raw, basis, eu, flags)
    summary = None if concentration.empty else concentration.iloc[0]
    return summary, shares
