"""Supply risk: GeoPolRisk (:mod:`critmat.risk.geopolrisk`), as the CLI, the API and the web
pages ask for it; the EU criticality assessment is :mod:`critmat.services.risk_criticality`.

Functions that take a :class:`~critmat.services.context.ServiceContext` answer once per
parameters and current releases (:meth:`ServiceContext.remember`) and open a store only to
compute; those that take a :class:`~critmat.store.Store` compute directly (the command line,
which asks one question per process). Results are the library's typed results (GeoPolRisk's
:class:`~critmat.risk.geopolrisk.GeoPolRiskResult`, the EU assessment's ``Assessment`` and
``Breakdown`` of :mod:`critmat.risk.eu_criticality`, each with its provenance and notes) or the
dataclasses below built on them; rows are JSON-ready (NaN and infinities as None:
:func:`critmat.exports.json_value`) and unrounded.

- GeoPolRisk: :func:`geopolrisk` (every year with data), :func:`geopolrisk_year` (one year's
  rows, provenance of that year), :func:`geopolrisk_rows` (a result's rows as JSON values),
  :func:`ranked_geopolrisk`, :func:`geopolrisk_origins` (one score taken apart:
  :mod:`critmat.services.risk_breakdown`, loaded when first used), :func:`canonical_commodity`;
- the EU criticality assessment: :mod:`critmat.services.risk_criticality` (its own module, so
  that ``critmat geopolrisk`` does not load the EU method).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from critmat.exports import json_value
from critmat.indicators.lookup import year_or_latest
from critmat.indicators.provenance import Provenance
from critmat.risk import geopolrisk as gpr

if TYPE_CHECKING:
    from critmat.services.context import ServiceContext
    from critmat.services.risk_breakdown import (
        CHECK_TOLERANCE,
        GeoPolRiskBreakdown,
        OriginTerm,
        ProducerTerm,
        geopolrisk_breakdown,
    )

#: Names of :mod:`critmat.services.risk_breakdown` offered here too; that module loads when one is
#: first used (``critmat geopolrisk`` needs none of them, so its start does not pay for it).
_BREAKDOWN_NAMES = frozenset(
    {"CHECK_TOLERANCE", "GeoPolRiskBreakdown", "OriginTerm", "ProducerTerm", "geopolrisk_breakdown"}
)


def __getattr__(name: str) -> Any:
    """The names of :data:`_BREAKDOWN_NAMES`, from :mod:`critmat.services.risk_breakdown`."""
    if name in _BREAKDOWN_NAMES:
        from critmat.services import risk_breakdown

        return getattr(risk_breakdown, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHECK_TOLERANCE",
    "GEOPOLRISK_COLUMNS",
    "GeoPolRiskBreakdown",
    "GeoPolRiskYear",
    "OriginTerm",
    "ProducerTerm",
    "assess_geopolrisk",
    "canonical_commodity",
    "choose_year",
    "citation",
    "geopolrisk",
    "geopolrisk_breakdown",
    "geopolrisk_origins",
    "geopolrisk_rows",
    "geopolrisk_year",
    "ranked_geopolrisk",
]

#: Columns of a GeoPolRisk row as users see them (CLI, API, downloads), in order.
GEOPOLRISK_COLUMNS = gpr.OUTPUT_COLUMNS
#: Cache charge of a GeoPolRisk result per importer (bytes): 53 commodities × 7 years take
#: 280 kB as records and 57 kB more once the frame (``rows``) is built (measured for EU27).
GEOPOLRISK_BYTES_PER_IMPORTER = 352 * 1024


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def citation(items: Iterable[Provenance], datasets: Sequence[str] | None = None) -> str:
    """``source version (dataset; years used: ...)`` of each release (of ``datasets``), joined."""
    return "; ".join(p.citation() for p in items if datasets is None or p.dataset in datasets)


# ================================================================================ GeoPolRisk
#: :func:`critmat.risk.geopolrisk.assess` on a store (``years`` default to every year with
#: production and trade data); not cached.
assess_geopolrisk = gpr.assess


def geopolrisk(
    ctx: ServiceContext,
    importers: Sequence[str],
    materials: Sequence[str] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> gpr.GeoPolRiskResult:
    """GeoPolRisk of ``importers`` for ``materials`` (default: all 53 commodities) over every
    year with data, once per release."""

    def compute() -> gpr.GeoPolRiskResult:
        with ctx.open_store() as store:
            return assess_geopolrisk(
                store, importers=importers, materials=materials, basis=basis, compat=compat
            )

    params = (tuple(_norm(i) for i in importers), tuple(_norm(m) for m in materials), basis, compat)
    size = GEOPOLRISK_BYTES_PER_IMPORTER * max(len(importers), 1)
    return ctx.remember("risk.geopolrisk", params, compute, size=size)


def choose_year(years: Sequence[int], year: int | None) -> int:
    """``year`` checked against the GeoPolRisk ``years`` (default: the latest), by the one
    default-year rule (:func:`~critmat.indicators.lookup.year_or_latest`)."""
    return year_or_latest(year, min(years), max(years), "production and trade")


@dataclass(frozen=True)
class GeoPolRiskYear:
    """One year of a GeoPolRisk result: its rows (:data:`GEOPOLRISK_COLUMNS`, in the library's
    order) and the releases used, with that year as the years used."""

    result: gpr.GeoPolRiskResult
    year: int
    rows: list[dict[str, Any]]
    provenance: tuple[Provenance, ...]

    @property
    def importer(self) -> str:
        """The (first) importer's name."""
        return self.result.importers[0].name

    @property
    def amount_unit(self) -> str:
        return "t" if self.result.basis == "mass" else "thousand USD"


def geopolrisk_rows(result: gpr.GeoPolRiskResult, year: int | None = None) -> list[dict[str, Any]]:
    """The rows of ``result`` (of ``year`` only, when given) in :data:`GEOPOLRISK_COLUMNS`, each
    value as JSON holds it (:func:`~critmat.exports.json_value`: NaN and infinities as None)."""
    return [
        {column: json_value(row[column]) for column in GEOPOLRISK_COLUMNS}
        for row in result.records
        if year is None or row["year"] == year
    ]


def geopolrisk_year(
    ctx: ServiceContext,
    importers: Sequence[str],
    year: int | None = None,
    materials: Sequence[str] = (),
    basis: str = "mass",
    compat: str = "critmat",
) -> GeoPolRiskYear:
    """The rows of ``year`` (default: the latest with data) of :func:`geopolrisk`."""
    result = geopolrisk(ctx, importers, materials, basis, compat)
    chosen = choose_year(result.years, year)
    provenance = tuple(replace(p, years=(chosen,)) for p in result.provenance)
    return GeoPolRiskYear(result, chosen, geopolrisk_rows(result, chosen), provenance)


def ranked_geopolrisk(answer: GeoPolRiskYear, by: str) -> list[dict[str, Any]]:
    """The rows by ``by`` (``score`` or ``cf``), highest first, undefined last (then by
    commodity), each with its ``rank`` (None where undefined)."""
    rows = [dict(r) for r in answer.rows]
    rows.sort(key=lambda r: (r[by] is None, -(r[by] or 0.0), r["wmd_commodity"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank if row[by] is not None else None
    return rows


def canonical_commodity(name: str) -> tuple[str, ...]:
    """The WMD commodities a name stands for (a WMD sheet, or a material's series)."""
    by_key = {_norm(c): c for c in gpr.supported_commodities()}
    exact = by_key.get(_norm(name))
    if exact is not None:
        return (exact,)
    return gpr.resolve_commodities([name])


def geopolrisk_origins(
    ctx: ServiceContext, commodity: str, importer: str, year: int | None, basis: str
) -> GeoPolRiskBreakdown:
    """One score of ``commodity`` (a WMD sheet name) for ``importer`` in ``year`` (default: the
    latest) taken apart by producer and origin, once per release."""
    result = geopolrisk(ctx, [importer], (), basis, "critmat")
    chosen = choose_year(result.years, year)

    def compute() -> GeoPolRiskBreakdown:
        from critmat.services.risk_breakdown import geopolrisk_breakdown

        with ctx.open_store() as store:
            return geopolrisk_breakdown(store, result, commodity, chosen)

    params = (commodity, _norm(importer), chosen, basis)
    return ctx.remember("risk.geopolrisk-origins", params, compute)
