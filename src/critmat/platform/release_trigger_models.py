"""Tables of stockpile release: triggers agreed in advance (docs/stockpile-release.md);
migration ``0006`` creates them."""

from __future__ import annotations

from critmat.platform.models import Base

__all__ = ["Base"]
