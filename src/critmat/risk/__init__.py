"""Supply-risk methods built on the canonical tables (``critmat.risk.geopolrisk``: GeoPolRisk)."""

from critmat.risk.geopolrisk import (
    CF_COPPER,
    COMPAT_MODES,
    Compat,
    GeoPolRiskResult,
    assess,
    geopolrisk_scores,
    supported_commodities,
)

__all__ = [
    "CF_COPPER",
    "COMPAT_MODES",
    "Compat",
    "GeoPolRiskResult",
    "assess",
    "geopolrisk_scores",
    "supported_commodities",
]
