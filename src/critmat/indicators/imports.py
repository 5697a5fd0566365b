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
from typing import TYPE_CHECKING, Literal

import duckdb

if TYPE_CHECKING:
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


_SCRATCH: duckdb.DuckDBPyConnection | None = None


def scratch_connection() -> duckdb.DuckDBPyConnection:
    """A private connection to an in-memory database for computing over DataFrames.

    Each call returns a new cursor of one shared in-memory database (cheaper than a new
    database each time); what a caller registers on its cursor stays invisible to others.
    """
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = duckdb.connect()
    return _SCRATCH.cursor()


def _sets_frame(importers: Sequence[ImporterSet]) -> pd.DataFrame:
    import pandas as pd

    rows = [(s.name, m, s.inside_eu) for s in importers for m in sorted(s.members)]
    return pd.DataFrame(rows, columns=["importer", "member", "inside_eu"])


def _codes_frame(codes: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    import pandas as pd

    rows = [(group, hs6) for group, hs_codes in codes.items() for hs6 in sorted(set(hs_codes))]
    return pd.DataFrame(rows, columns=["code_group", "hs6"])


def import_flows(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    hs_codes: Iterable[str] | None = None,
    years: Sequence[int] | None = None,
    series: str | None = None,
) -> pd.DataFrame:
    """Imports of each importer set by HS6 code, year and origin (outside the set).

    The one pass over ``trade`` that the other import indicators aggregate from; ``series``
    (an HS revision, e.g. ``"HS17"``) reads that series of ``trade_all`` instead of the default
    one (the ``trade`` view, HS92). Returns
    columns ``hs6, importer, year, origin, value_kusd, quantity_t, value_kusd_no_quantity,
    flows`` where ``quantity_t`` sums the flows with a known quantity (NaN when none has one),
    ``value_kusd_no_quantity`` is the value of those without, and ``flows`` counts BACI rows.
    ``hs_codes=None`` keeps every code.
    """
    source = "trade" if series is None else "(SELECT * FROM trade_all WHERE series = $series)"
    params: dict[str, object] = {
        "codes": None if hs_codes is None else sorted(set(hs_codes)),
        "years": None if years is None else list(years),
    }
    if series is not None:
        params["series"] = series
    con.register("_sets", _sets_frame(importers))
    try:
        return con.execute(
            f"""
            SELECT t.hs6, s.importer, t.year, t.exporter AS origin,
                   sum(t.value_kusd) AS value_kusd,
                   sum(t.quantity_t) AS quantity_t,
                   coalesce(sum(t.value_kusd) FILTER (WHERE t.quantity_t IS NULL), 0)
                       AS value_kusd_no_quantity,
                   count(*) AS flows
            FROM {source} t
            JOIN _sets s ON t.importer = s.member
            ANTI JOIN _sets s2 ON s2.importer = s.importer AND s2.member = t.exporter
            WHERE ($codes IS NULL OR list_contains($codes, t.hs6))
              AND ($years IS NULL OR list_contains($years, t.year))
            GROUP BY ALL
            """,
            params,
        ).df()
    finally:
        con.unregister("_sets")


def group_flows(flows: pd.DataFrame, codes: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Add up :func:`import_flows` rows into code groups.

    ``codes`` maps a code-group key (e.g. ``"cobalt/processing"`` or an HS6 code) to its HS6
    codes; a code may belong to several groups. Returns the columns of :func:`import_flows`
    with ``code_group`` in place of ``hs6``; ``quantity_t`` is NaN only when no flow of the
    group has a quantity.
    """
    con = scratch_connection()
    try:
        return con.execute(_register_grouped(con, flows, codes)).df()
    finally:
        con.close()


def _register_grouped(
    con: duckdb.DuckDBPyConnection, flows: pd.DataFrame, codes: Mapping[str, Iterable[str]]
) -> str:
    """Register ``flows`` and ``codes`` on ``con``; return the query of :func:`group_flows`."""
    code_frame = _codes_frame(codes)
    con.register("_flows", flows.loc[flows["hs6"].isin(code_frame["hs6"])])
    con.register("_codes", code_frame)
    return """
        SELECT c.code_group, f.importer, f.year, f.origin,
               sum(f.value_kusd) AS value_kusd, sum(f.quantity_t) AS quantity_t,
               sum(f.value_kusd_no_quantity) AS value_kusd_no_quantity,
               sum(f.flows) AS flows
        FROM _flows f JOIN _codes c ON f.hs6 = c.hs6
        GROUP BY ALL
        ORDER BY c.code_group, f.importer, f.year, value_kusd DESC, f.origin
    """


def sources_and_concentration(
    flows: pd.DataFrame,
    codes: Mapping[str, Iterable[str]],
    eu_members: Iterable[str],
    inside_eu: Mapping[str, bool],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(group_flows(flows, codes), import_concentration on both bases)`` in one scratch
    connection: the grouped flows stay a DuckDB table that the concentration reads, instead of
    crossing into pandas and being scanned back from it once per basis (same figures)."""
    import pandas as pd

    con = scratch_connection()
    try:
        con.execute(f"CREATE TEMP TABLE _sources AS {_register_grouped(con, flows, codes)}")
        sources = con.execute("SELECT * FROM _sources").df()
        concentration = pd.concat(
            [
                con.execute(
                    _CONCENTRATION_SQL, _concentration_params(basis, eu_members, inside_eu)
                ).df()
                for basis in BASES
            ],
            ignore_index=True,
        )
        con.execute("DROP TABLE _sources")
        return sources, concentration
    finally:
        con.close()


def import_sources(
    con: duckdb.DuckDBPyConnection,
    importers: Sequence[ImporterSet],
    codes: Mapping[str, Iterable[str]],
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Imports of each importer set by origin, per code group and year.

    Same columns as :func:`group_flows` (``code_group, importer, year, origin, value_kusd,
    quantity_t, value_kusd_no_quantity, flows``).
    """
    all_codes = {code for group in codes.values() for code in group}
    return group_flows(import_flows(con, importers, all_codes, years), codes)


_SHARES_SQL = """
    SELECT code_group, importer, year, origin, value_kusd, quantity_t, value_kusd_no_quantity,
           flows, amount,
           amount / sum(amount) OVER (PARTITION BY code_group, importer, year) AS share,
           NOT (list_contains($inside, importer) AND list_contains($eu, origin)) AS third_country
    FROM (SELECT *, CASE WHEN $mass THEN quantity_t ELSE value_kusd END AS amount FROM _sources)
    WHERE amount > 0
"""


def _share_params(
    basis: Basis, eu_members: Iterable[str], inside_eu: Mapping[str, bool]
) -> dict[str, object]:
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, not {basis!r}")
    return {
        "mass": basis == "mass",
        "eu": sorted(eu_members),
        "inside": sorted(name for name, inside in inside_eu.items() if inside),
    }


def _over_sources(sources: pd.DataFrame, sql: str, params: dict[str, object]) -> pd.DataFrame:
    """Run ``sql`` over ``sources`` (registered as ``_sources``) in a private connection."""
    con = scratch_connection()
    try:
        con.register("_sources", sources)
        return con.execute(sql, params).df()
    finally:
        con.close()


_CONCENTRATION_SQL = f"""
    WITH shares AS ({_SHARES_SQL}),
    concentration AS (
        SELECT code_group, importer, year,
               sum(amount) AS total,
               count(*) AS suppliers,
               first(origin ORDER BY share DESC, origin) AS top_supplier,
               max(share) AS top_share,
               sum(share * share) AS hhi,
               first(origin ORDER BY share DESC, origin) FILTER (WHERE third_country)
                   AS top_third_country,
               coalesce(max(share) FILTER (WHERE third_country), 0.0) AS top_third_share
        FROM shares GROUP BY ALL
    ),
    coverage AS (
        SELECT code_group, importer, year,
               CASE WHEN sum(value_kusd) > 0
                    THEN sum(value_kusd_no_quantity) / sum(value_kusd) END
                   AS missing_quantity_value_share
        FROM _sources GROUP BY ALL
    )
    SELECT c.code_group, c.importer, c.year, $basis AS basis, c.total, c.suppliers,
           c.top_supplier, c.top_share, c.hhi, c.top_third_country, c.top_third_share,
           c.top_third_share > $limit AS exceeds_65, v.missing_quantity_value_share
    FROM concentration c JOIN coverage v USING (code_group, importer, year)
    ORDER BY c.code_group, c.importer, c.year
"""


def _concentration_params(
    basis: Basis, eu_members: Iterable[str], inside_eu: Mapping[str, bool]
) -> dict[str, object]:
    params = _share_params(basis, eu_members, inside_eu)
    params.update({"basis": basis, "limit": CRMA_SINGLE_COUNTRY_LIMIT})
    return params


def import_shares(
    sources: pd.DataFrame, basis: Basis, eu_members: Iterable[str], inside_eu: Mapping[str, bool]
) -> pd.DataFrame:
    """Shares of each origin in the imports of ``sources`` (output of :func:`import_sources`).

    Adds ``amount`` (tonnes or thousand USD by ``basis``), ``share`` and ``third_country``
    (origin outside the EU for importers inside it; every origin otherwise). Origins with no
    amount on the basis (no quantity known) are dropped. Sorted by share, largest first.
    """
    return _over_sources(
        sources,
        _SHARES_SQL + " ORDER BY code_group, importer, year, share DESC, origin",
        _share_params(basis, eu_members, inside_eu),
    )


def import_concentration(
    sources: pd.DataFrame, basis: Basis, eu_members: Iterable[str], inside_eu: Mapping[str, bool]
) -> pd.DataFrame:
    """Concentration of imports per code group, importer and year.

    Columns: ``code_group, importer, year, basis, total, suppliers, top_supplier, top_share,
    hhi, top_third_country, top_third_share, exceeds_65, missing_quantity_value_share``.
    ``total`` is in tonnes (mass) or thousand USD (value). Ties in share go to the origin
    whose ISO3 code sorts first.
    """
    return _over_sources(
        sources, _CONCENTRATION_SQL, _concentration_params(basis, eu_members, inside_eu)
    )


def dependency_summary(
    flows: pd.DataFrame,
    importer: ImporterSet,
    hs_codes: Iterable[str],
    basis: Basis,
    eu_members: Iterable[str],
) -> tuple[pd.Series | None, pd.DataFrame]:
    """Concentration row and ranked origins for one importer, one code group and one year.

    ``flows`` are the :func:`import_flows` rows of that importer and year. Returns
    ``(summary, sources)``: ``summary`` is one row of :func:`import_concentration` (``None``
    when there are no imports on this basis), ``sources`` the rows of :func:`import_shares`,
    largest first.
    """
    eu = list(eu_members)
    raw = group_flows(flows, {"selection": list(hs_codes)})
    flags = {importer.name: importer.inside_eu}
    shares = import_shares(raw, basis, eu, flags)
    concentration = import_concentration(raw, basis, eu, flags)
    summary = None if concentration.empty else concentration.iloc[0]
    return summary, shares
