"""Dependency indicators: pure computations over the canonical tables.

Every function takes a DuckDB connection whose catalogue has the canonical tables (the analytics
store, or an in-memory connection with hand-made tables registered under the same names) and
returns a DataFrame with documented columns. Nothing here formats for a screen.
Equations and sources: ``docs/methods.md``.
"""

from critmat.indicators.imports import (
    ImporterSet,
    dependency_summary,
    import_concentration,
    import_sources,
)
from critmat.indicators.production import production_concentration, production_shares
from critmat.indicators.provenance import Provenance, provenance_for

__all__ = [
    "ImporterSet",
    "Provenance",
    "dependency_summary",
    "import_concentration",
    "import_sources",
    "production_concentration",
    "production_shares",
    "provenance_for",
]
