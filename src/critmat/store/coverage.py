"""Coverage of the current releases: years, countries, codes, missing and estimated values."""

from __future__ import annotations

from typing import Any

from critmat.store.analytics import Store

_QUERIES: dict[str, str] = {
    "production": """
        SELECT min(year), max(year), count(DISTINCT country), count(DISTINCT commodity), count(*),
               avg(CASE WHEN quantity IS NULL THEN 1.0 ELSE 0.0 END),
               avg(CASE WHEN estimated THEN 1.0 ELSE 0.0 END)
        FROM production""",
    "trade": """
        SELECT min(year), max(year),
               (SELECT count(*) FROM (SELECT exporter FROM trade UNION SELECT importer FROM trade)),
               count(DISTINCT hs6), count(*),
               avg(CASE WHEN quantity_t IS NULL THEN 1.0 ELSE 0.0 END), NULL
        FROM trade""",
    "governance": """
        SELECT min(year), max(year), count(DISTINCT country), count(DISTINCT indicator), count(*),
               avg(CASE WHEN estimate IS NULL THEN 1.0 ELSE 0.0 END), NULL
        FROM governance""",
}


def coverage(store: Store) -> list[dict[str, Any]]:
    """One row per dataset with data: ``dataset, years, year_min, year_max, countries, codes,
    rows, missing_quantity_share`` (share of rows without a quantity/estimate; never imputed)
    and ``estimated_share`` (production rows marked estimated by WMD)."""
    rows: list[dict[str, Any]] = []
    for dataset, sql in _QUERIES.items():
        found = store.con.execute(sql).fetchall()[0]
        if not found[4]:
            continue
        y0, y1, countries, codes, count, missing, estimated = found
        rows.append(
            {
                "dataset": dataset,
                "years": f"{y0}–{y1}",
                "year_min": y0,
                "year_max": y1,
                "countries": countries,
                "codes": codes,
                "rows": count,
                "missing_quantity_share": missing,
                "estimated_share": estimated,
            }
        )
    return rows
