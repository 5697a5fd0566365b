"""Tables of the stockpile holdings ledger (holders, lots, the append-only journal, stock
targets) in the platform database; migration ``0005`` creates them (docs/stockpiles.md)."""

from __future__ import annotations

from critmat.platform.models import Base

__all__ = ["Base"]
