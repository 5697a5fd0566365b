"""The equations of the company assessment, on plain numbers (no store, no formatting).

Symbols: line l with quantity q_l (t), supplier country s, HS codes K_l; origin o; the
company's importer set S (EU27 by default); year y.

Look-through (one level, same HS codes K_l), for supplier country s:

    M_s,o = imports of K_l into s from o (t)            (BACI, flows without quantity left out)
    X_s   = exports of K_l from s (t)
    P_s   = production of s (t) where the stage has a World Mining Data series, else 0
    D_s   = max(P_s, X_s − Σ_o M_s,o, 0)                (domestic supply; net exports are a lower
                                                          bound of what s makes itself)
    a_l,s = D_s / (D_s + Σ_o M_s,o),  a_l,o = M_s,o / (D_s + Σ_o M_s,o)
    e_l,o = q_l · a_l,o                                 (tonnes of line l originating in o)

With no data (D_s + Σ M_s,o = 0) the line stays with its supplier country: a_l,s = 1.

Per material and stage m: E_m,o = Σ_l e_l,o, share_m,o = E_m,o / Σ_o E_m,o; the CRMA flag is
max over third countries of share_m,o > 0.65 (third: outside the EU when S lies inside it,
outside S otherwise).

GeoPolRisk (company level, after Gemechu et al. 2016 with the company's look-through tonnes as
the imports and the tonnes from inside S as domestic production, which carries no risk):

    GPR_l = HHI_c · Σ_{o ∉ S} a_l,o · w_o,   GPR_m = Σ_l q_l GPR_l / Σ_l q_l
    w_o   = clip((2.5 − PV_o) / 5, 0, 1), 0.5 when PV_o is missing   (WGI political stability)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from critmat.risk.geopolrisk import governance_weight

CRMA_LIMIT = 0.65


def domestic_supply(imports: Mapping[str, float], exports: float, production: float) -> float:
    """``D_s = max(P_s, X_s − Σ_o M_s,o, 0)``."""
    total_imports = sum(imports.values())
    return max(production, exports - total_imports, 0.0)


def look_through_shares(
    supplier_country: str,
    imports: Mapping[str, float],
    exports: float = 0.0,
    production: float = 0.0,
) -> tuple[dict[str, float], float, bool]:
    """Origin shares ``a_o`` of a supplier country's supply (summing to 1), the domestic
    supply ``D_s`` and whether there were data to look through.

    ``imports`` are tonnes by origin (the supplier country itself and non-positive amounts are
    ignored).
    """
    clean = {o: float(t) for o, t in imports.items() if o != supplier_country and t and t > 0}
    domestic = domestic_supply(clean, exports, production)
    total = domestic + sum(clean.values())
    if total <= 0:
        return {supplier_country: 1.0}, 0.0, False
    shares = {o: t / total for o, t in clean.items()}
    if domestic > 0:
        shares[supplier_country] = domestic / total
    return dict(sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))), domestic, True


def add_up(parts: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Sum tonnes by country, largest first."""
    totals: dict[str, float] = {}
    for country, tonnes in parts:
        totals[country] = totals.get(country, 0.0) + tonnes
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def shares_of(tonnes: Mapping[str, float]) -> dict[str, float]:
    total = sum(tonnes.values())
    if total <= 0:
        return {c: 0.0 for c in tonnes}
    return {c: t / total for c, t in tonnes.items()}


def hhi(shares: Mapping[str, float]) -> float:
    return sum(s * s for s in shares.values())


def top_third(
    shares: Mapping[str, float], third: Mapping[str, bool]
) -> tuple[str | None, float, bool]:
    """(largest third country, its share, share > 65 %); ties go to the code sorting first."""
    candidates = [(c, s) for c, s in shares.items() if third.get(c, True)]
    if not candidates:
        return None, 0.0, False
    country, share = min(candidates, key=lambda cs: (-cs[1], cs[0]))
    return country, share, share > CRMA_LIMIT


def instability(pv: float | None) -> float:
    """``w_o = clip((2.5 − PV_o) / 5, 0, 1)``, 0.5 when PV is unknown: the one governance
    weight of :func:`critmat.risk.geopolrisk.governance_weight`."""
    return governance_weight(pv)


def line_geopolrisk(
    hhi_world: float | None,
    shares: Mapping[str, float],
    weights: Mapping[str, float],
    inside: Iterable[str],
) -> float | None:
    """``GPR_l = HHI · Σ_{o ∉ S} a_o · w_o`` (None without a world-production HHI)."""
    if hhi_world is None or hhi_world != hhi_world:
        return None
    own = set(inside)
    return hhi_world * sum(a * weights[o] for o, a in shares.items() if o not in own)


def weighted_mean(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ q·x / Σ q over the pairs whose x is known (None when none is)."""
    num = den = 0.0
    for weight, value in pairs:
        if value is None:
            continue
        num += weight * value
        den += weight
    return num / den if den > 0 else None


def option_score(export_share: float, weight: float) -> float:
    """Ranking of an alternative origin: its share of world exports × (1 − w_o)."""
    return export_share * (1.0 - weight)
