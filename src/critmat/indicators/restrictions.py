"""Exposure of importers to registered export restrictions.

For a restriction r by country R on HS codes K_r, effective in year y_r, and an importer set S:

    exposure(S, r, y) = imports of K_r into S from R in year y / all extra-S imports of K_r in y

reported for every year with data, with ``share_before`` = exposure in y_r − 1 (the last full
year before the measure) and ``share_after`` = exposure in the latest year ≥ y_r with data
(NaN when the data end before the measure took effect).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

import pandas as pd

from critmat.indicators.imports import Basis, ImporterSet, group_flows, import_shares

EXPOSURE_COLUMNS = (
    "restriction_id",
    "importer",
    "year",
    "country",
    "amount",
    "total",
    "share",
    "after_effective",
    "targeted",
)


class RestrictionLike(Protocol):
    """What exposure needs to know of a restriction (see :mod:`critmat.reference.restrictions`)."""

    @property
    def id(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def hs_codes(self) -> tuple[str, ...]: ...
    @property
    def effective(self) -> date | None: ...
    @property
    def targets(self) -> tuple[str, ...]: ...


def exposure_series(
    flows: pd.DataFrame,
    importers: Sequence[ImporterSet],
    restrictions: Sequence[RestrictionLike],
    basis: Basis,
    eu_members: Iterable[str],
) -> pd.DataFrame:
    """Yearly share of each importer's imports of the affected codes from the restricting country.

    ``flows`` are :func:`critmat.indicators.imports.import_flows` rows for ``importers``
    covering (at least) the restrictions' codes.

    Columns: ``restriction_id, importer, year, country, amount, total, share, after_effective,
    targeted``. ``amount`` and ``total`` are tonnes (mass) or thousand USD (value).
    ``targeted`` is False where the measure names destinations (``targets``) and the importer
    holds none of them: its exposure then measures reliance on the country, not on a measure
    aimed at it. Restrictions without HS codes are skipped.
    """
    sources = restriction_sources(flows, restrictions)
    return exposure_from_sources(sources, importers, restrictions, basis, eu_members)


def restriction_sources(
    flows: pd.DataFrame, restrictions: Sequence[RestrictionLike]
) -> pd.DataFrame:
    """:func:`~critmat.indicators.imports.group_flows` of ``flows`` with one code group per
    restriction that has HS codes (``code_group`` = its id): the input of
    :func:`exposure_from_sources`, the same for both bases, so a caller that wants both groups
    the flows once."""
    return group_flows(flows, {r.id: r.hs_codes for r in restrictions if r.hs_codes})


def exposure_from_sources(
    sources: pd.DataFrame,
    importers: Sequence[ImporterSet],
    restrictions: Sequence[RestrictionLike],
    basis: Basis,
    eu_members: Iterable[str],
) -> pd.DataFrame:
    """:func:`exposure_series` from the :func:`restriction_sources` of the flows."""
    with_codes = [r for r in restrictions if r.hs_codes]
    if not with_codes:
        return pd.DataFrame(columns=list(EXPOSURE_COLUMNS))
    eu = list(eu_members)
    shares = import_shares(sources, basis, eu, {s.name: s.inside_eu for s in importers})
    keys = ["code_group", "importer", "year"]
    totals = shares.groupby(keys)["amount"].sum().rename("total").reset_index()
    by_id = {r.id: r for r in with_codes}
    country_of = pd.DataFrame(
        {"code_group": list(by_id), "country": [by_id[k].country for k in by_id]}
    )
    grid = totals.merge(country_of, on="code_group")
    from_country = shares.rename(columns={"origin": "country"})[[*keys, "country", "amount"]]
    frame = grid.merge(from_country, on=[*keys, "country"], how="left")
    frame["amount"] = frame["amount"].fillna(0.0)
    frame["share"] = frame["amount"] / frame["total"]
    effective_year = {k: (r.effective.year if r.effective else None) for k, r in by_id.items()}
    frame["after_effective"] = [
        (effective_year[g] is not None and y >= effective_year[g])  # type: ignore[operator]
        for g, y in zip(frame["code_group"], frame["year"], strict=True)
    ]
    members = {s.name: s.members for s in importers}
    frame["targeted"] = [
        by_id[g].targets == ("all",) or bool(members[i] & set(by_id[g].targets))
        for g, i in zip(frame["code_group"], frame["importer"], strict=True)
    ]
    frame = frame.rename(columns={"code_group": "restriction_id"})
    result: pd.DataFrame = frame[list(EXPOSURE_COLUMNS)].sort_values(
        ["restriction_id", "importer", "year"], ignore_index=True
    )
    return result


def exposure_summary(series: pd.DataFrame, restrictions: Sequence[RestrictionLike]) -> pd.DataFrame:
    """Before/after summary of :func:`exposure_series`.

    Columns: ``restriction_id, importer, country, targeted, effective_year, year_before,
    share_before, year_after, share_after, change``.
    """
    rows = []
    effective = {r.id: (r.effective.year if r.effective else None) for r in restrictions}
    for (rid, importer), group in series.groupby(["restriction_id", "importer"], sort=True):
        year_r = effective.get(str(rid))
        by_year = group.set_index("year")["share"]
        before = year_r - 1 if year_r is not None else None
        share_before = by_year.get(before, float("nan")) if before is not None else float("nan")
        after_years = [y for y in by_year.index if year_r is not None and y >= year_r]
        year_after = max(after_years) if after_years else None
        share_after = by_year[year_after] if year_after is not None else float("nan")
        rows.append(
            {
                "restriction_id": rid,
                "importer": importer,
                "country": group["country"].iloc[0],
                "targeted": bool(group["targeted"].iloc[0]),
                "effective_year": year_r,
                "year_before": before,
                "share_before": share_before,
                "year_after": year_after,
                "share_after": share_after,
                "change": share_after - share_before,
            }
        )
    return pd.DataFrame(rows)
