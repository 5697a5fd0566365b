"""The export-restriction registry as the overview shows it: each measure with its status on
the "as of" day (:func:`critmat.reference.restrictions.as_of`) and the EU27's exposure (the
share of the affected HS codes' EU27 imports from the restricting country) before and after it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from critmat.indicators.panel import EU, _int, country_name, fnum
from critmat.indicators.restrictions import exposure_summary
from critmat.reference.materials import Catalogue
from critmat.reference.restrictions import Restriction
from critmat.services.overview.basis import OverviewBasis


@dataclass(frozen=True)
class RestrictionRow(Restriction):
    """A registered export restriction (the registry's own fields, dates as dates) with how the
    overview shows it and the EU27's exposure before and after it took effect.

    ``status`` is the registry's, as of ``status_as_of``; ``in_force`` says whether the measure
    applies on ``as_of`` by its dates; ``suspended`` is the suspension as text ("from – until"
    or "from – open"). Shares are fractions 0–1 of the EU27's extra-EU imports of ``hs_codes``
    (by value and by mass) in ``year_before`` and ``year_after``."""

    country_label: str
    material_names: tuple[str, ...]
    suspended: str | None
    in_force: bool
    as_of: str
    value_before: float | None
    value_after: float | None
    mass_before: float | None
    mass_after: float | None
    year_before: int | None
    year_after: int | None


def restriction_rows(basis: OverviewBasis, day: date) -> list[RestrictionRow]:
    """Every registered restriction, by effective date, with its status on ``day``."""
    exposure = basis.indicators.exposure
    summaries: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in ("value", "mass"):
        if exposure.empty:
            summaries[kind] = {}
            continue
        series = exposure.loc[(exposure["importer"] == EU) & (exposure["basis"] == kind)]
        summary = exposure_summary(series, basis.restrictions)
        summaries[kind] = {
            str(r["restriction_id"]): {str(k): v for k, v in r.items()}
            for r in summary.to_dict(orient="records")
        }
    ordered = sorted(basis.restrictions, key=lambda r: (r.effective or date.max, r.id))
    return [
        _row(
            r,
            basis.catalogue,
            summaries["value"].get(r.id, {}),
            summaries["mass"].get(r.id, {}),
            day,
        )
        for r in ordered
    ]


def _row(
    r: Restriction,
    catalogue: Catalogue,
    value: dict[str, Any],
    mass: dict[str, Any],
    day: date,
) -> RestrictionRow:
    suspended = None
    if r.suspended_from is not None:
        suspended = f"{r.suspended_from.isoformat()} – " + (
            r.suspended_until.isoformat() if r.suspended_until else "open"
        )
    registry = {f.name: getattr(r, f.name) for f in fields(Restriction)}
    return RestrictionRow(
        **registry,
        country_label=country_name(r.country),
        material_names=tuple(catalogue.get(m).name if m in catalogue else m for m in r.materials),
        suspended=suspended,
        in_force=r.active_on(day),
        as_of=day.isoformat(),
        value_before=fnum(value.get("share_before")),
        value_after=fnum(value.get("share_after")),
        mass_before=fnum(mass.get("share_before")),
        mass_after=fnum(mass.get("share_after")),
        year_before=_int(value.get("year_before")),
        year_after=_int(value.get("year_after")),
    )
