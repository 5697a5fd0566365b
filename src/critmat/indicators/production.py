"""World production by country: shares and concentration (World Mining Data).

For a commodity c and year y, with q_i the quantity country i produced (reported or estimated;
countries without a figure are left out, zeros count as zero):

    share_i = q_i / Σ_j q_j
    HHI     = Σ_i share_i²                 (0..1; 1 = a single producer)
    top1    = max_i share_i,  top3 = sum of the three largest shares
    estimated_share = Σ_{i estimated} q_i / Σ_j q_j

Quantities are in the unit WMD publishes for the commodity (usually metric tonnes of metal or
oxide content; natural gas in million m³); shares are unit-free.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd


def production_shares(
    con: duckdb.DuckDBPyConnection,
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Production by country with shares of the world total.

    Returns columns ``commodity, year, country, quantity, unit, estimated, share, rank``
    (rank 1 = largest producer), ordered by commodity, year, rank. Rows with no reported
    quantity are excluded.
    """
    return con.execute(
        """
        WITH p AS (
            SELECT commodity, year, country, quantity, unit, estimated
            FROM production
            WHERE quantity IS NOT NULL
              AND (? IS NULL OR list_contains(?, commodity))
              AND (? IS NULL OR list_contains(?, year))
        )
        SELECT commodity, year, country, quantity, unit, estimated,
               CASE WHEN sum(quantity) OVER w > 0 THEN quantity / sum(quantity) OVER w END AS share,
               row_number() OVER (PARTITION BY commodity, year ORDER BY quantity DESC, country)
                   AS rank
        FROM p
        WINDOW w AS (PARTITION BY commodity, year)
        ORDER BY commodity, year, rank
        """,
        _list_params(commodities, years),
    ).df()


def production_concentration(
    con: duckdb.DuckDBPyConnection,
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Concentration of world production per commodity and year.

    Columns: ``commodity, year, unit, total, producers, top_country, top_share, top3_share, hhi,
    estimated_share``. ``total`` is in ``unit``; years whose total is zero get NaN shares.
    """
    shares = production_shares(con, commodities, years)
    con.register("_shares", shares)
    try:
        return con.execute(
            """
            SELECT commodity, year, any_value(unit) AS unit,
                   sum(quantity) AS total,
                   count(*) FILTER (WHERE quantity > 0) AS producers,
                   arg_max(country, quantity) AS top_country,
                   max(share) AS top_share,
                   sum(share) FILTER (WHERE rank <= 3) AS top3_share,
                   sum(share * share) AS hhi,
                   CASE WHEN sum(quantity) > 0
                        THEN coalesce(sum(quantity) FILTER (WHERE estimated), 0) / sum(quantity) END
                       AS estimated_share
            FROM _shares
            GROUP BY commodity, year
            ORDER BY commodity, year
            """
        ).df()
    finally:
        con.unregister("_shares")


def _list_params(*lists: Sequence[object] | None) -> list[object]:
    params: list[object] = []
    for values in lists:
        as_list = None if values is None else list(values)
        params.extend([as_list, as_list])
    return params
