"""Dependency indicators: pure computations over the canonical tables.

Every function takes a DuckDB connection whose catalogue has the canonical tables (the analytics
store, or an in-memory connection with hand-made tables registered under the same names) and
returns a DataFrame with documented columns. Nothing here formats for a screen.
Equations and sources: ``docs/methods.md``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from critmat.indicators.imports import (
        ImporterSet,
        dependency_summary,
        import_concentration,
        import_sources,
    )
    from critmat.indicators.production import production_concentration, production_shares
    from critmat.indicators.provenance import Provenance, provenance_for

#: Where each name of ``__all__`` lives; loaded when first used, so that importing one
#: indicator module does not load every other (and pandas) with it.
_HOMES = {
    "ImporterSet": "imports",
    "dependency_summary": "imports",
    "import_concentration": "imports",
    "import_sources": "imports",
    "production_concentration": "production",
    "production_shares": "production",
    "Provenance": "provenance",
    "provenance_for": "provenance",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"critmat.indicators.{home}"), name)


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
