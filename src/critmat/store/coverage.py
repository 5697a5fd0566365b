"""Coverage of the current releases: years, countries, codes, missing and estimated values.

:func:`coverage` describes each dataset's default series (what the plain table names hold);
:func:`series_coverage` every current series of every dataset, with what its "codes" are
(commodities, HS6 codes, indicators) and, for ``stage_production``, the stages it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from critmat.store.analytics import Store, all_series_table, sql_literal


@dataclass(frozen=True)
class _Measures:
    """What a dataset's coverage counts, as SQL over its rows."""

    countries: str  # the number of distinct countries
    codes: str  # the column whose distinct values are the dataset's "codes"
    code_kind: str  # what those codes are, for people
    missing: str  # the column that is NULL when a row has no figure
    estimated: str | None  # the boolean column marking estimates, if the dataset has one


_MEASURES: dict[str, _Measures] = {
    "production": _Measures(
        "count(DISTINCT country)", "commodity", "commodities", "quantity", "estimated"
    ),
    "trade": _Measures(
        "(SELECT count(*) FROM (SELECT exporter FROM {rows} UNION SELECT importer FROM {rows}))",
        "hs6",
        "HS6 codes",
        "quantity_t",
        None,
    ),
    "governance": _Measures("count(DISTINCT country)", "indicator", "indicators", "estimate", None),
    "stage_production": _Measures(
        "count(DISTINCT country) FILTER (WHERE country NOT IN ('WLD', 'ROW'))",
        "commodity",
        "commodities",
        "quantity_t",
        "estimated",
    ),
}

#: The datasets :func:`coverage` reports (its answer is part of ``GET /data/releases``).
_DEFAULT_COVERAGE = ("production", "trade", "governance")


def _coverage_sql(dataset: str, rows: str) -> str:
    measure = _MEASURES[dataset]
    estimated = (
        f"avg(CASE WHEN {measure.estimated} THEN 1.0 ELSE 0.0 END)" if measure.estimated else "NULL"
    )
    return (
        f"SELECT min(year), max(year), {measure.countries.format(rows=rows)}, "
        f"count(DISTINCT {measure.codes}), count(*), "
        f"avg(CASE WHEN {measure.missing} IS NULL THEN 1.0 ELSE 0.0 END), {estimated} "
        f"FROM {rows}"
    )


def _row(dataset: str, found: tuple[Any, ...]) -> dict[str, Any]:
    y0, y1, countries, codes, count, missing, estimated = found
    return {
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


def coverage(store: Store) -> list[dict[str, Any]]:
    """One row per dataset with data in its default series: ``dataset, years, year_min,
    year_max, countries, codes, rows, missing_quantity_share`` (share of rows without a
    quantity/estimate; never imputed) and ``estimated_share`` (production rows marked estimated
    by WMD)."""
    rows: list[dict[str, Any]] = []
    for dataset in _DEFAULT_COVERAGE:
        found = store.con.execute(_coverage_sql(dataset, dataset)).fetchall()[0]
        if found[4]:
            rows.append(_row(dataset, found))
    return rows


def series_coverage(store: Store) -> list[dict[str, Any]]:
    """One row per current (dataset, series): the fields of :func:`coverage` plus ``series``,
    ``code_kind`` (what ``codes`` counts), ``code_list`` (up to 12 of them, sorted) and
    ``stages`` (``stage_production`` only; empty otherwise). Countries exclude the WLD/ROW
    aggregates."""
    rows: list[dict[str, Any]] = []
    for release in store.releases(current_only=True, every_series=True):
        dataset, series = release.dataset, release.series
        measure = _MEASURES[dataset]
        selected = (
            f"(SELECT * FROM {all_series_table(dataset)} WHERE series = {sql_literal(series)})"
        )
        found = store.con.execute(_coverage_sql(dataset, selected)).fetchall()[0]
        codes = store.con.execute(
            f"SELECT DISTINCT {measure.codes} FROM {selected} ORDER BY 1 LIMIT 12"
        ).fetchall()
        stages = (
            [
                str(r[0])
                for r in store.con.execute(
                    f"SELECT DISTINCT stage FROM {selected} ORDER BY 1"
                ).fetchall()
            ]
            if dataset == "stage_production"
            else []
        )
        rows.append(
            {
                **_row(dataset, found),
                "series": series,
                "code_kind": measure.code_kind,
                "code_list": [str(r[0]) for r in codes],
                "stages": stages,
            }
        )
    return rows
